//! Manifest.db: the list of files in a backup (domain, relativePath, flags, MBFile record).
//!
//! Encrypted iOS 10.2+ backups encrypt the whole database (AES-256-CBC, zero IV, key from
//! `ManifestKey`). It is decrypted in memory and opened by SQLite from there: the source file
//! is only ever read.

use crate::backup::{Backup, UnlockedKeys};
use crate::error::{BackupError, Result};
use crate::mbfile::{decode_mbfile, MbFile};
use rusqlite::types::ValueRef;
use std::collections::HashMap;
use zeroize::Zeroizing;

/// `Files.flags`: what an entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EntryKind {
    File,
    Directory,
    Symlink,
    Other(i64),
}

impl EntryKind {
    pub fn from_flags(flags: i64) -> EntryKind {
        match flags {
            1 => EntryKind::File,
            2 => EntryKind::Directory,
            4 => EntryKind::Symlink,
            n => EntryKind::Other(n),
        }
    }
    pub fn flags(self) -> i64 {
        match self {
            EntryKind::File => 1,
            EntryKind::Directory => 2,
            EntryKind::Symlink => 4,
            EntryKind::Other(n) => n,
        }
    }
    /// "file", "directory", "symlink", "other".
    pub fn name(self) -> &'static str {
        match self {
            EntryKind::File => "file",
            EntryKind::Directory => "directory",
            EntryKind::Symlink => "symlink",
            EntryKind::Other(_) => "other",
        }
    }
    /// What the MBFile `Mode` says the entry is (S_IFREG, S_IFDIR, S_IFLNK under mask 0xF000);
    /// None for anything else.
    pub fn from_mode(mode: u32) -> Option<EntryKind> {
        match mode & 0xF000 {
            0x8000 => Some(EntryKind::File),
            0x4000 => Some(EntryKind::Directory),
            0xA000 => Some(EntryKind::Symlink),
            _ => None,
        }
    }
}

/// One row of `Files`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestEntry {
    pub file_id: String,
    pub domain: String,
    pub relative_path: String,
    pub kind: EntryKind,
    /// The decoded MBFile record; None when the row has none or it does not decode (see warnings).
    pub meta: Option<MbFile>,
}

impl ManifestEntry {
    /// Size recorded in the MBFile record (0 when unknown).
    pub fn size(&self) -> u64 {
        self.meta.as_ref().map_or(0, |m| m.size)
    }
}

/// The decoded Manifest.db.
#[derive(Clone, Debug, Default)]
pub struct Manifest {
    entries: Vec<ManifestEntry>,
    index: HashMap<(String, String), usize>,
    /// Rows that were skipped or only partly understood, in words.
    pub warnings: Vec<String>,
}

/// The 16 bytes every SQLite 3 database starts with.
pub const SQLITE_HEADER: &[u8; 16] = b"SQLite format 3\0";

impl Manifest {
    pub fn entries(&self) -> &[ManifestEntry] {
        &self.entries
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry for exactly this domain and relative path.
    pub fn find(&self, domain: &str, path: &str) -> Option<&ManifestEntry> {
        self.index
            .get(&(domain.to_owned(), path.to_owned()))
            .map(|&i| &self.entries[i])
    }

    /// Entries in `domain` (exact match, when given) whose relative path matches `path_glob`
    /// (`*` any run of characters including `/`, `?` one character; when given).
    pub fn filter(&self, domain: Option<&str>, path_glob: Option<&str>) -> Vec<&ManifestEntry> {
        self.entries
            .iter()
            .filter(|e| match domain {
                Some(d) => e.domain == d,
                None => true,
            })
            .filter(|e| match path_glob {
                Some(g) => glob_match(g, &e.relative_path),
                None => true,
            })
            .collect()
    }

    /// Builds a manifest from entries (tests, tools).
    pub fn from_entries(entries: Vec<ManifestEntry>) -> Manifest {
        let mut m = Manifest {
            entries,
            ..Default::default()
        };
        m.reindex();
        m
    }

    fn reindex(&mut self) {
        self.index = self
            .entries
            .iter()
            .enumerate()
            .map(|(i, e)| ((e.domain.clone(), e.relative_path.clone()), i))
            .collect();
    }

    /// Reads the `Files` table of a plain (decrypted) Manifest.db given as bytes.
    pub fn from_db_bytes(bytes: &[u8]) -> Result<Manifest> {
        let conn = open_db_bytes(bytes)?;
        Manifest::from_connection(&conn)
    }

    /// Reads the `Files` table from an open database.
    pub fn from_connection(conn: &rusqlite::Connection) -> Result<Manifest> {
        let sql_err = |e: rusqlite::Error| BackupError::Manifest(describe_sql_error(&e));
        let mut stmt = conn
            .prepare("SELECT fileID, domain, relativePath, flags, file FROM Files")
            .map_err(sql_err)?;
        let mut rows = stmt.query([]).map_err(sql_err)?;
        let mut m = Manifest::default();
        let mut n = 0usize;
        while let Some(row) = rows.next().map_err(sql_err)? {
            n += 1;
            match entry_from_row(row) {
                Ok((e, warn)) => {
                    if let Some(w) = warn {
                        m.warnings.push(w);
                    }
                    m.entries.push(e);
                }
                Err(w) => m.warnings.push(format!("row {n} skipped: {w}")),
            }
        }
        m.reindex();
        Ok(m)
    }
}

fn describe_sql_error(e: &rusqlite::Error) -> String {
    match e {
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::NotADatabase => {
            "not a SQLite database".into()
        }
        rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::DatabaseCorrupt => {
            "the database is damaged".into()
        }
        other => {
            let s = other.to_string();
            if s.contains("no such table") {
                format!("{s} (not a backup manifest)")
            } else {
                s
            }
        }
    }
}

/// Text from a column that should hold text (blobs are read as UTF-8, lossily).
fn text(v: ValueRef<'_>) -> Option<String> {
    match v {
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Integer(i) => Some(i.to_string()),
        _ => None,
    }
}

fn entry_from_row(
    row: &rusqlite::Row<'_>,
) -> std::result::Result<(ManifestEntry, Option<String>), String> {
    let col = |i: usize| row.get_ref(i).map_err(|e| e.to_string());
    let file_id = text(col(0)?).ok_or("fileID is NULL")?;
    let domain = text(col(1)?).ok_or_else(|| format!("{file_id}: domain is NULL"))?;
    let mut warning = None;
    let (meta, meta_err) = match col(4)? {
        ValueRef::Blob(b) if !b.is_empty() => match decode_mbfile(b) {
            Ok(m) => (Some(m), None),
            Err(e) => (None, Some(e.to_string())),
        },
        ValueRef::Null => (None, None),
        _ => (
            None,
            Some("the file column is not an MBFile blob".to_string()),
        ),
    };
    if let Some(e) = meta_err {
        warning = Some(format!("{domain} {file_id}: {e}"));
    }
    let relative_path = match text(col(2)?) {
        Some(p) => p,
        None => meta
            .as_ref()
            .and_then(|m| m.relative_path.clone())
            .ok_or_else(|| format!("{file_id}: relativePath is NULL"))?,
    };
    let flags = match col(3)? {
        ValueRef::Integer(i) => Some(i),
        ValueRef::Text(t) => std::str::from_utf8(t)
            .ok()
            .and_then(|s| s.trim().parse().ok()),
        ValueRef::Real(r) if r.is_finite() && r.fract() == 0.0 => Some(r as i64),
        _ => None,
    };
    // flags 1/2/4 say what the entry is; any other value (0 in copies other tools wrote) or
    // none: the MBFile Mode says, and failing that the entry stays Other.
    let from_mode = || meta.as_ref().and_then(|m| EntryKind::from_mode(m.mode));
    let kind = match flags.map(EntryKind::from_flags) {
        Some(EntryKind::Other(n)) => from_mode().unwrap_or(EntryKind::Other(n)),
        Some(k) => k,
        None => from_mode().unwrap_or(EntryKind::Other(0)),
    };
    Ok((
        ManifestEntry {
            file_id,
            domain,
            relative_path,
            kind,
            meta,
        },
        warning,
    ))
}

/// Opens a SQLite database held in memory (read-only; the bytes are copied into SQLite).
pub fn open_db_bytes(bytes: &[u8]) -> Result<rusqlite::Connection> {
    if bytes.len() < 100 || &bytes[..16] != SQLITE_HEADER {
        return Err(BackupError::Manifest(
            "not a SQLite database (wrong header: damaged, or still encrypted?)".into(),
        ));
    }
    if bytes.len() > i32::MAX as usize {
        return Err(BackupError::Manifest(
            "Manifest.db is over 2 GiB, more than SQLite loads into memory".into(),
        ));
    }
    let mut conn =
        rusqlite::Connection::open_in_memory().map_err(|e| BackupError::Manifest(e.to_string()))?;
    // A WAL-mode database (header bytes 18-19 = 2) cannot be opened from memory: present the
    // copy as a rollback-journal database, which is what it is once in memory.
    let mut header = [0u8; 100];
    header.copy_from_slice(&bytes[..100]);
    if header[18] == 2 || header[19] == 2 {
        header[18] = 1;
        header[19] = 1;
    }
    let reader = std::io::Read::chain(&header[..], &bytes[100..]);
    conn.deserialize_read_exact(rusqlite::MAIN_DB, reader, bytes.len(), true)
        .map_err(|e| BackupError::Manifest(describe_sql_error(&e)))?;
    Ok(conn)
}

/// `*` matches any run of characters (including `/`), `?` exactly one; everything else itself.
pub fn glob_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || (p[pi] != '*' && p[pi] == t[ti])) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

/// Strips PKCS#7 padding when it is valid; returns the unpadded length.
pub(crate) fn pkcs7_len(data: &[u8]) -> Option<usize> {
    let &last = data.last()?;
    let n = last as usize;
    if n == 0 || n > 16 || n > data.len() {
        return None;
    }
    data[data.len() - n..]
        .iter()
        .all(|&b| b == last)
        .then(|| data.len() - n)
}

impl Backup {
    /// The plain bytes of Manifest.db: decrypted in memory for encrypted iOS 10.2+ backups,
    /// read as is otherwise. The source file is only read.
    ///
    /// A Manifest.db that already starts with the SQLite header is used as is, whatever
    /// Manifest.plist says: copies decrypted by mvt or iOSbackup keep `IsEncrypted` true (and
    /// the keybag and ManifestKey) over a plain Manifest.db. No keys are needed for it.
    pub fn manifest_db_bytes(&self, keys: Option<&UnlockedKeys>) -> Result<Zeroizing<Vec<u8>>> {
        let path = self.root.join("Manifest.db");
        let raw = std::fs::read(&path).map_err(|e| BackupError::io(&path, e))?;
        let mut raw = Zeroizing::new(raw);
        if !(self.encrypted && self.manifest_key.is_some()) || raw.starts_with(SQLITE_HEADER) {
            return Ok(raw);
        }
        let keys = keys.ok_or(BackupError::PasswordNeeded)?;
        let key = self
            .manifest_db_key(keys)?
            .ok_or(BackupError::PasswordNeeded)?;
        if raw.len() % 16 != 0 {
            return Err(BackupError::malformed(
                &path,
                format!(
                    "{} bytes is not a whole number of AES blocks: the file is truncated or damaged",
                    raw.len()
                ),
            ));
        }
        crate::file::cbc_decrypt(&key, &[0u8; 16], &mut raw);
        if let Some(n) = pkcs7_len(&raw) {
            if raw.len() - n <= 16 {
                raw.truncate(n);
            }
        }
        if raw.len() < 16 || &raw[..16] != SQLITE_HEADER {
            return Err(BackupError::malformed(
                &path,
                "does not decrypt to a SQLite database (damaged, or ManifestKey does not belong to it)",
            ));
        }
        Ok(raw)
    }

    /// Was this backup already decrypted by another tool (mvt, iOSbackup)? True when
    /// Manifest.plist says encrypted and has a ManifestKey (iOS 10.2+), but Manifest.db already
    /// starts with the SQLite header: such copies keep `IsEncrypted`, the keybag and
    /// ManifestKey while Manifest.db and the blobs are plain. No password is needed to read
    /// them: `manifest_db_bytes`, `open_manifest` and `copy_file` work with `keys` None.
    ///
    /// Computed on each call from the first 16 bytes of Manifest.db (one small read). Backups
    /// before iOS 10.2 (no ManifestKey) always have a plain Manifest.db, so this cannot be
    /// told from it: false for them (their plain blobs are still recognised one by one).
    pub fn already_decrypted(&self) -> bool {
        if !(self.encrypted && self.manifest_key.is_some()) {
            return false;
        }
        let mut head = [0u8; 16];
        std::fs::File::open(self.root.join("Manifest.db"))
            .and_then(|mut f| std::io::Read::read_exact(&mut f, &mut head))
            .is_ok_and(|()| &head == SQLITE_HEADER)
    }

    /// Does reading this backup need a password? Encrypted, and not already decrypted by
    /// another tool (see [`Backup::already_decrypted`]).
    pub fn needs_password(&self) -> bool {
        self.encrypted && !self.already_decrypted()
    }

    /// Reads Manifest.db. `keys` is needed for encrypted iOS 10.2+ backups.
    pub fn open_manifest(&self, keys: Option<&UnlockedKeys>) -> Result<Manifest> {
        let bytes = self.manifest_db_bytes(keys)?;
        Manifest::from_db_bytes(&bytes).map_err(|e| match e {
            BackupError::Manifest(w) => BackupError::malformed(self.root.join("Manifest.db"), w),
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("Library/SMS/*", "Library/SMS/sms.db"));
        assert!(glob_match("*.db", "Library/SMS/sms.db"));
        assert!(glob_match("*", ""));
        assert!(glob_match("a?c", "abc"));
        assert!(!glob_match("a?c", "ac"));
        assert!(!glob_match("*.db", "sms.db-wal"));
        assert!(glob_match("*sms*", "Library/SMS/sms.db-wal"));
    }

    #[test]
    fn pkcs7() {
        assert_eq!(pkcs7_len(&[1, 2, 3, 1]), Some(3));
        assert_eq!(pkcs7_len(&[5, 5, 3, 3, 3]), Some(2));
        assert_eq!(pkcs7_len(&[0]), None);
        assert_eq!(pkcs7_len(&[]), None);
        assert_eq!(pkcs7_len(&[17; 17]), None);
    }
}
