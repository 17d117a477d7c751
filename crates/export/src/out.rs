//! The output folder: every file goes under it, written to a temporary name and renamed when
//! complete. Names that come from the backup are sanitized one component at a time; nothing can
//! climb out with `..`, absolute paths, NUL, or a symbolic link planted in the folder.

use crate::{ExportError, Result};
use sesame_backup::outdir::{OutDir, PartialFile};
use std::io::Write;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// Where the export's temporary files live (removed at the end).
const TMP_DIR: &str = ".sesame-export-tmp";

/// An output-folder error from the backup library, as the export's own kind: an I/O
/// error there is the output's, which stops the export (unlike a damaged source file).
fn out_err(e: sesame_backup::BackupError) -> ExportError {
    match e {
        sesame_backup::BackupError::Io { path, source } => ExportError::Io { path, source },
        other => other.into(),
    }
}

/// The export's output folder: the backup library's `OutDir` (one set of rules for every
/// writer) with the export's own naming helpers.
pub struct Output {
    dir: Option<OutDir>,
    root: PathBuf,
    tmp: PathBuf,
    /// When set, every write fails (so a file in flight stops and is removed).
    pub cancel: Option<Arc<AtomicBool>>,
}

/// A file being written; `commit` renames it into place.
pub struct Pending {
    file: std::io::BufWriter<PartialFile>,
    dest: PathBuf,
    /// The first error writing this file (a full disk): the output's fault, not the source's.
    write_error: Option<std::io::ErrorKind>,
    cancel: Option<Arc<AtomicBool>>,
}

impl Write for Pending {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self
            .cancel
            .as_ref()
            .is_some_and(|c| c.load(Ordering::Relaxed))
        {
            self.write_error = Some(std::io::ErrorKind::Other);
            return Err(std::io::Error::other("cancelled"));
        }
        self.file.write(buf).inspect_err(|e| {
            self.write_error.get_or_insert(e.kind());
        })
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.file.flush().inspect_err(|e| {
            self.write_error.get_or_insert(e.kind());
        })
    }
}

impl Pending {
    /// The error that stops the export when writing this file failed (rather than reading
    /// its source); None when the output side is fine.
    pub fn output_failure(&self) -> Option<ExportError> {
        self.write_error.map(|k| {
            ExportError::io(
                &self.dest,
                std::io::Error::new(k, "could not be written".to_string()),
            )
        })
    }

    /// Finishes the file: flushes, sets its modification time (seconds since 1970), renames.
    pub fn commit(self, mtime: Option<i64>) -> Result<()> {
        let dest = self.dest;
        let file = self
            .file
            .into_inner()
            .map_err(|e| ExportError::io(&dest, e.into_error()))?;
        let st = mtime.and_then(|t| {
            let d = std::time::Duration::from_secs(t.unsigned_abs());
            if t >= 0 {
                std::time::UNIX_EPOCH.checked_add(d)
            } else {
                std::time::UNIX_EPOCH.checked_sub(d)
            }
        });
        file.commit(st).map_err(out_err)?;
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
    /// Opens (creating when needed) the output folder for an export of the backup at
    /// `source` (None for data that is not a backup folder). Refuses a folder inside the
    /// source, a non-empty one unless `force`, and links, as every writer does.
    pub fn create(dir: &Path, source: Option<&Path>, force: bool) -> Result<Output> {
        let sources: Vec<&Path> = source.into_iter().collect();
        let out = OutDir::prepare(dir, &sources, force).map_err(out_err)?;
        let root = out.root().to_path_buf();
        let tmp = root.join(TMP_DIR);
        if std::fs::symlink_metadata(&tmp).is_ok() {
            // Left over from an interrupted export (only reachable with --force).
            let _ = std::fs::remove_dir_all(&tmp).or_else(|_| std::fs::remove_file(&tmp));
        }
        out.ensure_dir(Path::new(TMP_DIR)).map_err(out_err)?;
        Ok(Output {
            dir: Some(out),
            root,
            tmp,
            cancel: None,
        })
    }

    fn dir(&self) -> &OutDir {
        self.dir
            .as_ref()
            .expect("the output folder is open until finish")
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Checks `rel` (components separated by '/'): every component must already be safe
    /// (see `safe_name`).
    fn check(rel: &str) -> Result<&Path> {
        let unsafe_path = |reason: &str| ExportError::UnsafePath {
            path: rel.to_string(),
            reason: reason.to_string(),
        };
        if rel.is_empty() || rel.contains('\0') || rel.contains('\\') {
            return Err(unsafe_path("empty, NUL or backslash"));
        }
        for p in rel.split('/') {
            if p.is_empty() || p == "." || p == ".." || p == TMP_DIR {
                return Err(unsafe_path("empty, `.`, `..` or reserved component"));
            }
            if !matches!(Path::new(p).components().next(), Some(Component::Normal(_)))
                || Path::new(p).components().count() != 1
            {
                return Err(unsafe_path("not a plain name"));
            }
        }
        Ok(Path::new(rel))
    }

    /// The absolute path of `rel`, creating its parent folders (real folders, never links).
    pub fn resolve(&self, rel: &str) -> Result<PathBuf> {
        let p = Self::check(rel)?;
        let parent = p.parent().unwrap_or(Path::new(""));
        let dir = self.dir().ensure_dir(parent).map_err(|e| match e {
            sesame_backup::BackupError::LinkInOutput { .. } => ExportError::UnsafePath {
                path: rel.to_string(),
                reason: "a parent is a link".into(),
            },
            other => out_err(other),
        })?;
        let dest = dir.join(p.file_name().unwrap_or_default());
        if std::fs::symlink_metadata(&dest).is_ok_and(|m| m.file_type().is_symlink() || m.is_dir())
        {
            return Err(ExportError::UnsafePath {
                path: rel.to_string(),
                reason: "the destination is a link or a folder".into(),
            });
        }
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
        let file = self.dir().create(Path::new(rel)).map_err(out_err)?;
        Ok(Pending {
            file: std::io::BufWriter::new(file),
            dest,
            write_error: None,
            cancel: self.cancel.clone(),
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

    /// Marks the export complete (every file in): only then does the output folder stop
    /// saying that a run did not finish.
    pub fn finish(mut self) -> Result<()> {
        self.cleanup();
        if let Some(d) = self.dir.take() {
            d.finish().map_err(out_err)?;
        }
        Ok(())
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
        let out = Output::create(&d.path().join("o"), None, false).unwrap();
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
            Output::create(d.path(), None, false),
            Err(ExportError::Backup(
                sesame_backup::BackupError::OutputNotEmpty { .. }
            ))
        ));
        assert!(Output::create(d.path(), None, true).is_ok());
        assert!(Output::create(&d.path().join("x"), None, true).is_err());
    }
}
