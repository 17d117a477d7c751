//! The potfile: passwords already found, one `hashline:password` a line, as hashcat writes it.
//!
//! Passwords that are not plain printable ASCII (or that start with `$HEX[`) are written as
//! `$HEX[hex bytes]`, hashcat's convention, so that any bytes survive a text file. Lines this
//! module does not understand (other hash types from a shared hashcat potfile) are ignored.

use crate::error::CrackError;
use crate::paths;
use sesame_backup::HashLine;
use std::io::Write;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// What [`Potfile::lookup_verified`] found: the password that opens the line, if one does, and
/// how many remembered for it did not.
pub type Verified = (Option<Zeroizing<Vec<u8>>>, usize);

/// A potfile at a known path (the file need not exist yet).
#[derive(Clone, Debug)]
pub struct Potfile {
    path: PathBuf,
}

impl Potfile {
    /// `SESAME_POTFILE` if set, else `sesame.potfile` in Sesame's data folder
    /// (`$SESAME_HOME`, `$XDG_DATA_HOME/sesame`, `~/.local/share/sesame`).
    pub fn default_path() -> PathBuf {
        match paths::non_empty_env("SESAME_POTFILE") {
            Some(p) => PathBuf::from(p),
            None => paths::data_dir().join("sesame.potfile"),
        }
    }

    /// The potfile at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Potfile { path: path.into() }
    }

    /// The potfile at `path`, or the default one.
    pub fn open(path: Option<&Path>) -> Self {
        Potfile::new(path.map_or_else(Self::default_path, Path::to_path_buf))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The password remembered for `line`, if any (the last entry wins). A missing file means
    /// none; an unreadable one is an error.
    pub fn lookup(&self, line: &HashLine) -> Result<Option<Zeroizing<Vec<u8>>>, CrackError> {
        Ok(self.lookup_all(line)?.into_iter().next())
    }

    /// Every password remembered for `line`, the last entry first, each once. A shared or
    /// edited potfile can hold a wrong one beside the right one: callers check them in turn.
    pub fn lookup_all(&self, line: &HashLine) -> Result<Vec<Zeroizing<Vec<u8>>>, CrackError> {
        let bytes = match std::fs::read(&self.path) {
            Ok(b) => Zeroizing::new(b),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(CrackError::io(&self.path, e)),
        };
        let mut found: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        for raw in bytes.split(|&b| b == b'\n').rev() {
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            let Some(colon) = raw.iter().position(|&b| b == b':') else {
                continue;
            };
            let Ok(hash) = std::str::from_utf8(&raw[..colon]) else {
                continue;
            };
            if !hash.starts_with("$itunes_backup$") {
                continue;
            }
            match hash.parse::<HashLine>() {
                Ok(h) if h == *line => {
                    let pw = decode_password(&raw[colon + 1..]);
                    if !found.iter().any(|f| f.as_slice() == pw.as_slice()) {
                        found.push(pw);
                    }
                }
                _ => {}
            }
        }
        Ok(found)
    }

    /// The newest remembered password for `line` that opens it (each one checked runs the
    /// whole key derivation), and how many remembered ones did not.
    pub fn lookup_verified(&self, line: &HashLine) -> Result<Verified, CrackError> {
        let mut wrong = 0;
        for pw in self.lookup_all(line)? {
            if line.verify(&pw) {
                return Ok((Some(pw), wrong));
            }
            wrong += 1;
        }
        Ok((None, wrong))
    }

    /// Remembers `password` for `line` (appends one line; creates the file and its folder,
    /// readable by the owner only on Unix). Nothing is written when the potfile already has
    /// this exact password for this line.
    pub fn append(&self, line: &HashLine, password: &[u8]) -> Result<(), CrackError> {
        if let Some(old) = self.lookup(line)? {
            if old.as_slice() == password {
                return Ok(());
            }
        }
        if let Some(dir) = self.path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| CrackError::io(dir, e))?;
        }
        let mut opts = std::fs::OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts
            .open(&self.path)
            .map_err(|e| CrackError::io(&self.path, e))?;
        let mut entry = Zeroizing::new(format!("{line}:").into_bytes());
        entry.extend_from_slice(&encode_password(password));
        entry.push(b'\n');
        f.write_all(&entry)
            .and_then(|()| f.sync_all())
            .map_err(|e| CrackError::io(&self.path, e))
    }
}

/// hashcat's `$HEX[...]` for passwords that would not survive as plain text.
pub fn encode_password(password: &[u8]) -> Zeroizing<Vec<u8>> {
    let plain =
        password.iter().all(|&b| (0x20..0x7f).contains(&b)) && !password.starts_with(b"$HEX[");
    if plain {
        Zeroizing::new(password.to_vec())
    } else {
        Zeroizing::new(format!("$HEX[{}]", hex::encode(password)).into_bytes())
    }
}

/// Reverse of [`encode_password`]; text that is not valid `$HEX[...]` is taken as it is.
pub fn decode_password(field: &[u8]) -> Zeroizing<Vec<u8>> {
    if let Some(inner) = field
        .strip_prefix(b"$HEX[")
        .and_then(|r| r.strip_suffix(b"]"))
    {
        if let Ok(bytes) = hex::decode(inner) {
            return Zeroizing::new(bytes);
        }
    }
    Zeroizing::new(field.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: u8) -> HashLine {
        HashLine {
            version: 9,
            wpky: [n; 40],
            iterations: 10,
            salt: vec![n; 20],
            dp: None,
        }
    }

    #[test]
    fn append_and_lookup_round_trip_any_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let pot = Potfile::new(dir.path().join("sub/sesame.potfile"));
        assert!(pot.lookup(&line(1)).unwrap().is_none());
        pot.append(&line(1), b"hunter2").unwrap();
        pot.append(&line(2), b"caf\xc3\xa9:x\n").unwrap();
        pot.append(&line(3), b"$HEX[41]").unwrap();
        assert_eq!(
            pot.lookup(&line(1)).unwrap().unwrap().as_slice(),
            b"hunter2"
        );
        assert_eq!(
            pot.lookup(&line(2)).unwrap().unwrap().as_slice(),
            b"caf\xc3\xa9:x\n"
        );
        assert_eq!(
            pot.lookup(&line(3)).unwrap().unwrap().as_slice(),
            b"$HEX[41]"
        );
        assert!(pot.lookup(&line(4)).unwrap().is_none());
        // Same entry twice is written once; the file reads as hashcat's format.
        pot.append(&line(1), b"hunter2").unwrap();
        let text = std::fs::read_to_string(pot.path()).unwrap();
        assert_eq!(text.lines().count(), 3);
        assert!(text.starts_with(&format!("{}:hunter2\n", line(1))));
        assert!(text.contains("$HEX[636166c3a93a780a]"));
    }

    #[test]
    fn foreign_lines_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p");
        std::fs::write(
            &path,
            format!(
                "garbage\n5f4dcc3b5aa765d61d8327deb882cf99:password\n{}:ok\r\n",
                line(7)
            ),
        )
        .unwrap();
        let pot = Potfile::new(&path);
        assert_eq!(pot.lookup(&line(7)).unwrap().unwrap().as_slice(), b"ok");
    }
}
