//! The output folder: the one way every writer (decrypt, extract, change-password, export, and
//! later the web app and device backups) puts files on disk.
//!
//! The rules it enforces, so that no writer has to remember them:
//! - `--out` is resolved once: a link to a folder is followed here and nowhere else; after
//!   that every folder below it must be a real folder, never a link.
//! - An output inside a source backup is refused before anything is created.
//! - A non-empty folder, or one an earlier run did not finish, is refused without `force`.
//! - Every file is created anew under a temporary name (never opening what is already there,
//!   so a planted link is never followed) and renamed into place when complete; a file
//!   dropped before `commit` (an error, a cancel) is removed.
//! - A marker file says "not finished" until the writer calls `finish`, which only a writer
//!   that got every file in does.

use crate::error::{BackupError, Result};
use std::io::Write;
use std::path::{Component, Path, PathBuf};

/// The name of the marker an unfinished run leaves in its output folder.
pub const UNFINISHED: &str = ".sesame-unfinished";

/// The suffix of files still being written.
pub const PARTIAL: &str = ".sesame-partial";

/// An output folder that passed the checks. See the module comment.
#[derive(Debug)]
pub struct OutDir {
    root: PathBuf,
}

/// A file being written under a temporary name; `commit` renames it into place, dropping it
/// removes it.
#[derive(Debug)]
pub struct PartialFile {
    file: Option<std::fs::File>,
    tmp: PathBuf,
    dest: PathBuf,
}

fn io_err(path: &Path, kind: std::io::ErrorKind, what: &str) -> BackupError {
    BackupError::io(path, std::io::Error::new(kind, what.to_string()))
}

/// `p` as an absolute path whose existing part has every link resolved; the part that does
/// not exist yet is appended as given (it may not contain `..`).
fn resolve_once(p: &Path) -> Result<PathBuf> {
    let abs = if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| BackupError::io(".", e))?
            .join(p)
    };
    let mut existing = abs.as_path();
    let mut missing: Vec<&std::ffi::OsStr> = Vec::new();
    loop {
        match std::fs::symlink_metadata(existing) {
            Ok(_) => break,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match (existing.file_name(), existing.parent()) {
                    (Some(name), Some(parent)) => {
                        missing.push(name);
                        existing = parent;
                    }
                    _ => return Err(BackupError::io(p, e)),
                }
            }
            Err(e) => return Err(BackupError::io(existing, e)),
        }
    }
    let mut out = std::fs::canonicalize(existing).map_err(|e| BackupError::io(existing, e))?;
    for name in missing.iter().rev() {
        if *name == ".." || *name == "." {
            return Err(io_err(
                p,
                std::io::ErrorKind::InvalidInput,
                "the output folder's path climbs with '..' through folders that do not exist",
            ));
        }
        out.push(name);
    }
    Ok(out)
}

/// One relative path from a writer, checked: plain names only.
fn plain_components(rel: &Path) -> Result<Vec<&std::ffi::OsStr>> {
    let mut v = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(n) => v.push(n),
            Component::CurDir => {}
            _ => {
                return Err(BackupError::UnsafePath {
                    domain: String::new(),
                    path: rel.display().to_string(),
                    reason: "not a plain relative path".into(),
                })
            }
        }
    }
    Ok(v)
}

impl OutDir {
    /// Checks and creates the output folder `out` for a writer reading `sources` (the backup
    /// folders it reads; none may contain the output, nor lie inside it: a file list can name
    /// a path that leads back into the backup). Nothing is created when a check fails.
    pub fn prepare(out: &Path, sources: &[&Path], force: bool) -> Result<OutDir> {
        let root = resolve_once(out)?;
        for src in sources {
            let src = std::fs::canonicalize(src).map_err(|e| BackupError::io(src, e))?;
            if root.starts_with(&src) {
                return Err(BackupError::OutputInsideSource { path: out.into() });
            }
            if src.starts_with(&root) {
                return Err(BackupError::OutputHoldsSource { path: out.into() });
            }
        }
        match std::fs::symlink_metadata(&root) {
            Ok(m) if m.is_dir() => {
                let marker = root.join(UNFINISHED);
                if !force && std::fs::symlink_metadata(&marker).is_ok() {
                    return Err(BackupError::OutputUnfinished { path: out.into() });
                }
                let mut rd = std::fs::read_dir(&root).map_err(|e| BackupError::io(&root, e))?;
                if !force && rd.next().is_some() {
                    return Err(BackupError::OutputNotEmpty { path: out.into() });
                }
            }
            Ok(_) => {
                return Err(io_err(
                    out,
                    std::io::ErrorKind::AlreadyExists,
                    "exists and is not a folder",
                ))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(&root).map_err(|e| BackupError::io(&root, e))?;
            }
            Err(e) => return Err(BackupError::io(&root, e)),
        }
        let dir = OutDir { root };
        dir.write_file(Path::new(UNFINISHED), b"An earlier Sesame run into this folder did not finish. Run it again with --force to redo it.\n")?;
        Ok(dir)
    }

    /// The resolved output folder (absolute, no links in it).
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates every folder of `rel` below the root, one at a time; one that exists as a link
    /// or a file is refused. Returns the absolute path.
    pub fn ensure_dir(&self, rel: &Path) -> Result<PathBuf> {
        let mut at = self.root.clone();
        for name in plain_components(rel)? {
            at.push(name);
            match std::fs::symlink_metadata(&at) {
                Ok(m) if m.is_dir() => {}
                Ok(m) if m.file_type().is_symlink() => {
                    return Err(BackupError::LinkInOutput { path: at });
                }
                Ok(_) => {
                    return Err(io_err(
                        &at,
                        std::io::ErrorKind::AlreadyExists,
                        "exists and is not a folder",
                    ))
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    if let Err(e) = std::fs::create_dir(&at) {
                        // Another worker may have made it meanwhile: it must be a real folder.
                        let real = std::fs::symlink_metadata(&at).is_ok_and(|m| m.is_dir());
                        if e.kind() != std::io::ErrorKind::AlreadyExists || !real {
                            return Err(BackupError::io(&at, e));
                        }
                    }
                }
                Err(e) => return Err(BackupError::io(&at, e)),
            }
        }
        Ok(at)
    }

    /// A new file at `rel` (its folders created as by `ensure_dir`), written under a
    /// temporary name until `commit`. A folder already at `rel` is refused; a file or link
    /// there is replaced on commit, never opened.
    pub fn create(&self, rel: &Path) -> Result<PartialFile> {
        let parts = plain_components(rel)?;
        let Some((name, parents)) = parts.split_last() else {
            return Err(BackupError::UnsafePath {
                domain: String::new(),
                path: rel.display().to_string(),
                reason: "empty path".into(),
            });
        };
        let parent: PathBuf = parents.iter().collect();
        let dir = self.ensure_dir(&parent)?;
        let dest = dir.join(name);
        if std::fs::symlink_metadata(&dest).is_ok_and(|m| m.is_dir()) {
            return Err(io_err(
                &dest,
                std::io::ErrorKind::AlreadyExists,
                "is already a folder",
            ));
        }
        let mut tmp_name = name.to_os_string();
        tmp_name.push(PARTIAL);
        let tmp = dir.join(tmp_name);
        let open = || {
            std::fs::File::options()
                .write(true)
                .create_new(true)
                .open(&tmp)
        };
        let file = match open() {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                // Left over from an interrupted run (only reachable with force). Removing
                // it removes a planted link itself, not what it points at.
                std::fs::remove_file(&tmp).map_err(|e| BackupError::io(&tmp, e))?;
                open().map_err(|e| BackupError::io(&tmp, e))?
            }
            Err(e) => return Err(BackupError::io(&tmp, e)),
        };
        Ok(PartialFile {
            file: Some(file),
            tmp,
            dest,
        })
    }

    /// Writes `bytes` to a new file at `rel`.
    pub fn write_file(&self, rel: &Path, bytes: &[u8]) -> Result<()> {
        let mut f = self.create(rel)?;
        f.write_all(bytes).map_err(|e| f.error(e))?;
        f.commit(None)
    }

    /// A symbolic link at `rel` pointing at `target`. Nothing may be at `rel` already.
    pub fn symlink(&self, rel: &Path, target: &str) -> Result<()> {
        let parts = plain_components(rel)?;
        let parent: PathBuf = parts[..parts.len().saturating_sub(1)].iter().collect();
        let dir = self.ensure_dir(&parent)?;
        let dest = match parts.last() {
            Some(n) => dir.join(n),
            None => return Err(io_err(rel, std::io::ErrorKind::InvalidInput, "empty path")),
        };
        if std::fs::symlink_metadata(&dest).is_ok() {
            return Err(io_err(
                &dest,
                std::io::ErrorKind::AlreadyExists,
                "already exists",
            ));
        }
        make_symlink(target, &dest).map_err(|e| BackupError::io(&dest, e))
    }

    /// Marks the output complete: only a writer that got every file in calls this.
    pub fn finish(self) -> Result<()> {
        let marker = self.root.join(UNFINISHED);
        match std::fs::remove_file(&marker) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(BackupError::io(&marker, e)),
        }
    }
}

impl PartialFile {
    /// The temporary file's path (for a writer that must reopen it, as SQLite does).
    pub fn temp_path(&self) -> &Path {
        &self.tmp
    }

    /// The final path.
    pub fn dest(&self) -> &Path {
        &self.dest
    }

    /// An error while writing this file, naming the file that could not be written.
    pub fn error(&self, e: std::io::Error) -> BackupError {
        BackupError::io(&self.dest, e)
    }

    /// Flushes, sets the modification time, and renames the file into place.
    pub fn commit(mut self, mtime: Option<std::time::SystemTime>) -> Result<()> {
        let file = self.file.take().expect("a PartialFile is committed once");
        if let Some(t) = mtime {
            // A time the file system cannot store is not worth failing the copy for.
            let _ = file.set_modified(t);
        }
        drop(file);
        std::fs::rename(&self.tmp, &self.dest).map_err(|e| BackupError::io(&self.dest, e))?;
        self.tmp = PathBuf::new();
        Ok(())
    }
}

impl Write for PartialFile {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match &mut self.file {
            Some(f) => f.write(buf),
            None => Err(std::io::ErrorKind::BrokenPipe.into()),
        }
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        self.file.take();
        if !self.tmp.as_os_str().is_empty() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}

#[cfg(unix)]
fn make_symlink(target: &str, dest: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, dest)
}
#[cfg(not(unix))]
fn make_symlink(_target: &str, _dest: &Path) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "symlinks are only recreated on Unix",
    ))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn output_inside_a_source_is_refused_before_anything_is_created() {
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("backup");
        std::fs::create_dir(&src).unwrap();
        for out in [src.clone(), src.join("sub"), src.join("a/b")] {
            let e = OutDir::prepare(&out, &[&src], true).unwrap_err();
            assert!(matches!(e, BackupError::OutputInsideSource { .. }), "{e}");
        }
        assert_eq!(std::fs::read_dir(&src).unwrap().count(), 0);
        // The same through a link to the source.
        symlink(&src, d.path().join("alias")).unwrap();
        let e = OutDir::prepare(&d.path().join("alias/x"), &[&src], true).unwrap_err();
        assert!(matches!(e, BackupError::OutputInsideSource { .. }), "{e}");
        assert_eq!(std::fs::read_dir(&src).unwrap().count(), 0);
    }

    #[test]
    fn output_holding_a_source_is_refused() {
        // `extract` writes domain/relativePath under the output: from the backup's parent, a
        // hostile file list could name the backup's own Manifest.plist.
        let d = tempfile::tempdir().unwrap();
        let src = d.path().join("parent/backup");
        std::fs::create_dir_all(&src).unwrap();
        std::fs::write(src.join("Manifest.plist"), b"kept").unwrap();
        for out in [d.path().join("parent"), d.path().to_path_buf()] {
            let e = OutDir::prepare(&out, &[&src], true).unwrap_err();
            assert!(matches!(e, BackupError::OutputHoldsSource { .. }), "{e}");
        }
        assert_eq!(std::fs::read(src.join("Manifest.plist")).unwrap(), b"kept");
        // A sibling folder is fine.
        OutDir::prepare(&d.path().join("parent/out"), &[&src], false).unwrap();
    }

    #[test]
    fn planted_links_are_never_followed() {
        let d = tempfile::tempdir().unwrap();
        let outside = d.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("victim"), b"keep").unwrap();
        let out = d.path().join("out");
        std::fs::create_dir(&out).unwrap();
        symlink(outside.join("victim"), out.join("f")).unwrap();
        symlink(outside.join("victim"), out.join("g.sesame-partial")).unwrap();
        symlink(&outside, out.join("sub")).unwrap();
        let o = OutDir::prepare(&out, &[], true).unwrap();
        o.write_file(Path::new("f"), b"new").unwrap();
        o.write_file(Path::new("g"), b"new").unwrap();
        assert!(matches!(
            o.write_file(Path::new("sub/x"), b"new"),
            Err(BackupError::LinkInOutput { .. })
        ));
        assert_eq!(std::fs::read(outside.join("victim")).unwrap(), b"keep");
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1);
        assert_eq!(std::fs::read(out.join("f")).unwrap(), b"new");
        assert!(!std::fs::symlink_metadata(out.join("f"))
            .unwrap()
            .file_type()
            .is_symlink());
    }

    #[test]
    fn a_linked_out_is_resolved_once_and_unfinished_runs_are_named() {
        let d = tempfile::tempdir().unwrap();
        let real = d.path().join("real");
        std::fs::create_dir(&real).unwrap();
        symlink(&real, d.path().join("link")).unwrap();
        let o = OutDir::prepare(&d.path().join("link"), &[], false).unwrap();
        assert_eq!(o.root(), std::fs::canonicalize(&real).unwrap());
        o.write_file(Path::new("a/b"), b"1").unwrap();
        drop(o);
        // Not finished: a rerun says so, and --force redoes it.
        let e = OutDir::prepare(&real, &[], false).unwrap_err();
        assert!(matches!(e, BackupError::OutputUnfinished { .. }), "{e}");
        let o = OutDir::prepare(&real, &[], true).unwrap();
        o.finish().unwrap();
        let e = OutDir::prepare(&real, &[], false).unwrap_err();
        assert!(matches!(e, BackupError::OutputNotEmpty { .. }), "{e}");
    }

    #[test]
    fn a_dropped_file_leaves_nothing() {
        let d = tempfile::tempdir().unwrap();
        let o = OutDir::prepare(&d.path().join("o"), &[], false).unwrap();
        let mut f = o.create(Path::new("x/y")).unwrap();
        f.write_all(b"half").unwrap();
        let tmp = f.temp_path().to_path_buf();
        assert!(tmp.exists());
        drop(f);
        assert!(!tmp.exists());
        assert!(!d.path().join("o/x/y").exists());
        assert!(o.create(Path::new("../z")).is_err());
        assert!(o.create(Path::new("/etc/z")).is_err());
    }
}
