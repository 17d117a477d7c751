//! The found-file: "found once, stopped everywhere" for one search split over many processes or
//! machines that share a file system.
//!
//! The process that finds a password writes it to the found-file, in the potfile's format
//! (`hashline:password`, hashcat's `$HEX[...]` for passwords that are not plain text), under a
//! temporary name that is then renamed over the file, so that a reader sees the old file or the
//! new one and never half a line. Every other process looks at the file between batches (a
//! `stat`; the file is read only when it changed), checks any password it holds against its
//! target with the full key derivation before trusting it (a stale or edited file must not
//! give a false answer), and stops when every target it searches for is answered.

use crate::error::CrackError;
use crate::potfile::{self, Potfile};
use sesame_backup::HashLine;
use std::path::{Path, PathBuf};
use std::time::SystemTime;
use zeroize::Zeroizing;

/// A found-file shared by the processes of one search (the file need not exist yet).
#[derive(Debug)]
pub struct FoundFile {
    path: PathBuf,
    /// Size, modification time and (on Unix) inode of the file when it was last read, so an
    /// unchanged file is not read (and its passwords not verified) again.
    last: Option<Stamp>,
}

type Stamp = (u64, Option<SystemTime>, u64);

/// What one look at the found-file gave.
#[derive(Debug, Default)]
pub struct FoundFileCheck {
    /// (index into the lines asked about, password): each checked against its line.
    pub verified: Vec<(usize, Zeroizing<Vec<u8>>)>,
    /// Indices of the lines the file has a password for that does not open them.
    pub wrong: Vec<usize>,
}

impl FoundFile {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        FoundFile {
            path: path.into(),
            last: None,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn stamp(&self) -> Result<Option<Stamp>, CrackError> {
        match std::fs::metadata(&self.path) {
            Ok(m) => {
                #[cfg(unix)]
                let ino = std::os::unix::fs::MetadataExt::ino(&m);
                #[cfg(not(unix))]
                let ino = 0;
                Ok(Some((m.len(), m.modified().ok(), ino)))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(CrackError::io(&self.path, e)),
        }
    }

    /// Whether the file exists and changed since it was last read (cheap: one `stat`).
    pub fn changed(&self) -> Result<bool, CrackError> {
        Ok(match self.stamp()? {
            None => false,
            s => s != self.last,
        })
    }

    /// The passwords the file holds for `lines`, each verified against its line (the full
    /// key derivation: seconds for an iOS 10.2+ line). Nothing when the file does not exist or
    /// did not change since the last call.
    pub fn check(&mut self, lines: &[&HashLine]) -> Result<FoundFileCheck, CrackError> {
        let mut out = FoundFileCheck::default();
        if !self.changed()? {
            return Ok(out);
        }
        self.last = self.stamp()?;
        let pot = Potfile::new(&self.path);
        for (i, line) in lines.iter().enumerate() {
            if let Some(pw) = pot.lookup(line)? {
                if line.verify(&pw) {
                    out.verified.push((i, pw));
                } else {
                    out.wrong.push(i);
                }
            }
        }
        Ok(out)
    }

    /// Writes `password` for `line` into the file: the lines already there (other targets)
    /// are kept, the new file is written under a temporary name in the same folder, flushed,
    /// and renamed over the old one.
    pub fn record(&mut self, line: &HashLine, password: &[u8]) -> Result<(), CrackError> {
        let mut content = match std::fs::read(&self.path) {
            Ok(b) => Zeroizing::new(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Zeroizing::new(Vec::new()),
            Err(e) => return Err(CrackError::io(&self.path, e)),
        };
        if !content.is_empty() && !content.ends_with(b"\n") {
            content.push(b'\n');
        }
        content.extend_from_slice(format!("{line}:").as_bytes());
        content.extend_from_slice(&potfile::encode_password(password));
        content.push(b'\n');
        crate::replace::replace_file(&self.path, &content)?;
        // This process's own write is not news to it.
        self.last = self.stamp()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_then_check_verifies_and_keeps_other_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shared/found.txt");
        let a = crate::synthetic_line(b"alpha", None, 5);
        let b = crate::synthetic_line(b"beta", Some(5), 5);
        let mut writer = FoundFile::new(&path);
        let mut reader = FoundFile::new(&path);
        assert!(reader.check(&[&a, &b]).unwrap().verified.is_empty());
        writer.record(&a, b"alpha").unwrap();
        writer.record(&b, b"beta").unwrap();
        let got = reader.check(&[&a, &b]).unwrap();
        let pws: Vec<(usize, Vec<u8>)> =
            got.verified.iter().map(|(i, p)| (*i, p.to_vec())).collect();
        assert_eq!(pws, vec![(0, b"alpha".to_vec()), (1, b"beta".to_vec())]);
        // Unchanged: not read again.
        assert!(reader.check(&[&a]).unwrap().verified.is_empty());
        // No temporary file is left beside it.
        let names: Vec<_> = std::fs::read_dir(path.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
    }

    #[test]
    fn a_wrong_password_is_not_trusted() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("found.txt");
        let a = crate::synthetic_line(b"alpha", None, 5);
        std::fs::write(&path, format!("{a}:not-it\n")).unwrap();
        let got = FoundFile::new(&path).check(&[&a]).unwrap();
        assert!(got.verified.is_empty());
        assert_eq!(got.wrong, vec![0]);
    }
}
