//! The output folder: every file goes under it, written to a temporary name and renamed when
//! complete. Names that come from the backup are sanitized one component at a time; nothing can
//! climb out with `..`, absolute paths, NUL, or a symbolic link planted in the folder.

use crate::{ExportError, Result};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// Where the export's temporary files live (removed at the end).
const TMP_DIR: &str = ".sesame-export-tmp";

pub struct Output {
    root: PathBuf,
    tmp: PathBuf,
}

/// A file being written; `commit` renames it into place.
pub struct Pending {
    file: std::io::BufWriter<tempfile::NamedTempFile>,
    dest: PathBuf,
}

impl Write for Pending {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.file.write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush()
    }
}

impl Pending {
    /// Finishes the file: flushes, sets its modification time (seconds since 1970), renames.
    pub fn commit(self, mtime: Option<i64>) -> Result<()> {
        let dest = self.dest;
        let tmp = self
            .file
            .into_inner()
            .map_err(|e| ExportError::io(&dest, e.into_error()))?;
        if let Some(t) = mtime {
            let st = if t >= 0 {
                std::time::UNIX_EPOCH + std::time::Duration::from_secs(t as u64)
            } else {
                std::time::UNIX_EPOCH
                    .checked_sub(std::time::Duration::from_secs(t.unsigned_abs()))
                    .unwrap_or(std::time::UNIX_EPOCH)
            };
            // A time the file system cannot store is not worth failing the export for.
            let _ = tmp.as_file().set_modified(st);
        }
        tmp.persist(&dest)
            .map_err(|e| ExportError::io(&dest, e.error))?;
        Ok(())
    }
}

/// One path component made safe: no separators, NUL, control characters, `.`/`..`, leading
/// dots, or reserved Windows characters; at most 150 bytes; never empty.
pub fn safe_name(s: &str) -> String {
    let mut out: String = s
        .chars()
        .map(|c| match c {
            '/' | '\\' | ':' | '*' | '?' | '"' | '<' | '>' | '|' => '_',
            c if c.is_control() => '_',
            c => c,
        })
        .collect();
    while out.starts_with('.') || out.starts_with(' ') {
        out.remove(0);
    }
    while out.ends_with('.') || out.ends_with(' ') {
        out.pop();
    }
    if out.len() > 150 {
        let mut cut = 150;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
    }
    if out.is_empty() {
        out.push('_');
    }
    out
}

impl Output {
    /// Opens (creating when needed) the output folder. Refuses a non-empty folder unless `force`.
    pub fn create(dir: &Path, force: bool) -> Result<Output> {
        match std::fs::symlink_metadata(dir) {
            Ok(m) if m.file_type().is_symlink() || !m.is_dir() => {
                return Err(ExportError::OutputNotADirectory { path: dir.into() })
            }
            Ok(_) => {
                let mut entries = std::fs::read_dir(dir).map_err(|e| ExportError::io(dir, e))?;
                if !force && entries.next().is_some() {
                    return Err(ExportError::OutputNotEmpty { path: dir.into() });
                }
            }
            Err(_) => std::fs::create_dir_all(dir).map_err(|e| ExportError::io(dir, e))?,
        }
        let root = dir.canonicalize().map_err(|e| ExportError::io(dir, e))?;
        let tmp = root.join(TMP_DIR);
        if std::fs::symlink_metadata(&tmp).is_ok() {
            // Left over from an interrupted export (only reachable with --force).
            let _ = std::fs::remove_dir_all(&tmp).or_else(|_| std::fs::remove_file(&tmp));
        }
        std::fs::create_dir(&tmp).map_err(|e| ExportError::io(&tmp, e))?;
        Ok(Output { root, tmp })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The absolute path of `rel` (components separated by '/'), creating its parent folders.
    /// Every component must already be safe (see `safe_name`); existing parents must be real
    /// folders, not links.
    pub fn resolve(&self, rel: &str) -> Result<PathBuf> {
        let unsafe_path = |reason: &str| ExportError::UnsafePath {
            path: rel.to_string(),
            reason: reason.to_string(),
        };
        if rel.is_empty() || rel.contains('\0') || rel.contains('\\') {
            return Err(unsafe_path("empty, NUL or backslash"));
        }
        let parts: Vec<&str> = rel.split('/').collect();
        for p in &parts {
            if p.is_empty() || *p == "." || *p == ".." || *p == TMP_DIR {
                return Err(unsafe_path("empty, `.`, `..` or reserved component"));
            }
            if !matches!(Path::new(p).components().next(), Some(Component::Normal(_)))
                || Path::new(p).components().count() != 1
            {
                return Err(unsafe_path("not a plain name"));
            }
        }
        let mut dir = self.root.clone();
        for p in &parts[..parts.len() - 1] {
            dir.push(p);
            match std::fs::symlink_metadata(&dir) {
                Ok(m) if m.file_type().is_symlink() || !m.is_dir() => {
                    return Err(unsafe_path("a parent is a link or a file"))
                }
                Ok(_) => {}
                Err(_) => std::fs::create_dir(&dir).map_err(|e| ExportError::io(&dir, e))?,
            }
        }
        let dest = dir.join(parts[parts.len() - 1]);
        if let Ok(m) = std::fs::symlink_metadata(&dest) {
            if m.file_type().is_symlink() || m.is_dir() {
                return Err(unsafe_path("the destination is a link or a folder"));
            }
        }
        debug_assert!(dest.starts_with(&self.root));
        Ok(dest)
    }

    /// `rel`, or `rel` with " (2)", " (3)"... before its extension when a file is there already.
    pub fn unique(&self, rel: &str) -> String {
        if !self.root.join(rel).exists() {
            return rel.to_string();
        }
        let (dir, name) = match rel.rfind('/') {
            Some(i) => (&rel[..=i], &rel[i + 1..]),
            None => ("", rel),
        };
        let (stem, ext) = match name.rfind('.') {
            Some(i) if i > 0 => (&name[..i], &name[i..]),
            _ => (name, ""),
        };
        for n in 2.. {
            let cand = format!("{dir}{stem} ({n}){ext}");
            if !self.root.join(&cand).exists() {
                return cand;
            }
        }
        unreachable!()
    }

    /// A new file at `rel`, written under a temporary name until `commit`.
    pub fn writer(&self, rel: &str) -> Result<Pending> {
        let dest = self.resolve(rel)?;
        let file = tempfile::NamedTempFile::new_in(&self.tmp)
            .map_err(|e| ExportError::io(&self.tmp, e))?;
        Ok(Pending {
            file: std::io::BufWriter::new(file),
            dest,
        })
    }

    pub fn write_file(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let mut w = self.writer(rel)?;
        w.write_all(bytes)
            .map_err(|e| ExportError::io(self.root.join(rel), e))?;
        w.commit(None)
    }

    /// A private temporary folder under the output folder (for decrypted databases).
    pub fn temp_dir(&self) -> Result<tempfile::TempDir> {
        tempfile::tempdir_in(&self.tmp).map_err(|e| ExportError::io(&self.tmp, e))
    }

    /// Removes the temporary folder.
    pub fn cleanup(&self) {
        let _ = std::fs::remove_dir_all(&self.tmp);
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        self.cleanup();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_safe() {
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name(".."), "_");
        assert_eq!(safe_name(""), "_");
        assert_eq!(safe_name("a\0b"), "a_b");
        assert_eq!(safe_name(".hidden"), "hidden");
        assert_eq!(safe_name("IMG_0001.HEIC"), "IMG_0001.HEIC");
        assert!(safe_name(&"é".repeat(200)).len() <= 150);
    }

    #[test]
    fn resolve_refuses_escapes() {
        let d = tempfile::tempdir().unwrap();
        let out = Output::create(&d.path().join("o"), false).unwrap();
        for bad in [
            "../x",
            "/etc/passwd",
            "a/../../x",
            "a//b",
            "",
            "a\0b",
            "a\\..\\b",
            ".",
        ] {
            assert!(out.resolve(bad).is_err(), "{bad:?}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.path(), out.root().join("link")).unwrap();
            assert!(out.resolve("link/x").is_err());
            assert!(out.write_file("link", b"x").is_err());
        }
        out.write_file("a/b/c.txt", b"hi").unwrap();
        assert_eq!(std::fs::read(out.root().join("a/b/c.txt")).unwrap(), b"hi");
        assert_eq!(out.unique("a/b/c.txt"), "a/b/c (2).txt");
    }

    #[test]
    fn refuses_non_empty_without_force() {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("x"), b"1").unwrap();
        assert!(matches!(
            Output::create(d.path(), false),
            Err(ExportError::OutputNotEmpty { .. })
        ));
        assert!(Output::create(d.path(), true).is_ok());
        assert!(matches!(
            Output::create(&d.path().join("x"), true),
            Err(ExportError::OutputNotADirectory { .. })
        ));
    }
}
