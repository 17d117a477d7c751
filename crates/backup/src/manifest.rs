//! The list of files in a backup: Manifest.db (iOS 10 on: domain, relativePath, flags, MBFile
//! record), or Manifest.mbdb (iOS 4 to 9, see `mbdb`), both read into the same entry type so
//! that nothing above this layer needs to know which era a backup is from.
//!
//! Encrypted iOS 10.2+ backups encrypt the whole database (AES-256-CBC, zero IV, key from
//! `ManifestKey`). It is decrypted in memory and opened by SQLite from there: the source file
//! is only ever read. Manifest.mbdb is never encrypted.

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

/// Which file list a backup keeps, and so where its blobs lie.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Era {
    /// iOS 10 and later: Manifest.db (SQLite), blobs in two-letter folders.
    #[default]
    ManifestDb,
    /// iOS 4 to 9: Manifest.mbdb, blobs flat in the backup folder.
    Mbdb,
}

impl Era {
    /// "ios10" or "mbdb": what `info --json` says.
    pub fn id(self) -> &'static str {
        match self {
            Era::ManifestDb => "ios10",
            Era::Mbdb => "mbdb",
        }
    }

    /// The file that holds the list.
    pub fn list_file(self) -> &'static str {
        match self {
            Era::ManifestDb => "Manifest.db",
            Era::Mbdb => "Manifest.mbdb",
        }
    }

    /// What the era means, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Era::ManifestDb => {
                "iOS 10 or later: the file list is Manifest.db (SQLite), the files are in two-letter folders"
            }
            Era::Mbdb => {
                "iOS 4 to 9: the file list is Manifest.mbdb, the files lie flat in the backup folder; \
                 copies Sesame writes keep that layout, which iTunes and the tools of that era read"
            }
        }
    }
}

/// One row of `Files` (or one Manifest.mbdb record).
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

/// The decoded Manifest.db or Manifest.mbdb.
#[derive(Clone, Debug, Default)]
pub struct Manifest {
    entries: Vec<ManifestEntry>,
    index: HashMap<(String, String), usize>,
    /// Rows that were skipped or only partly understood, in words.
    pub warnings: Vec<String>,
    /// Which file the entries came from.
    pub era: Era,
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

    /// The entries of a parsed Manifest.mbdb, with its warnings (damage, odd version).
    ///
    /// A name (domain and path, as text) that two records share is listed once, with the
    /// later record, as `find` would answer: writers that make a file per name (extract)
    /// must not get two. A warning says so.
    pub fn from_mbdb(m: &crate::mbdb::Mbdb) -> Manifest {
        let mut warnings = m.warnings();
        let mut entries: Vec<ManifestEntry> = Vec::with_capacity(m.records.len());
        let mut at: HashMap<(String, String), usize> = HashMap::new();
        for (n, r) in m.records.iter().enumerate() {
            let e = r.to_entry();
            match at.entry((e.domain.clone(), e.relative_path.clone())) {
                std::collections::hash_map::Entry::Occupied(o) => {
                    warnings.push(format!(
                        "Manifest.mbdb record {} repeats {}/{}: the later record is used",
                        n + 1,
                        e.domain,
                        e.relative_path
                    ));
                    entries[*o.get()] = e;
                }
                std::collections::hash_map::Entry::Vacant(v) => {
                    v.insert(entries.len());
                    entries.push(e);
                }
            }
        }
        let mut out = Manifest::from_entries(entries);
        out.era = Era::Mbdb;
        out.warnings = warnings;
        out
    }

    /// Reads Manifest.mbdb bytes (see `mbdb::parse`: a damaged record ends the list, with a
    /// warning; Err only when the bytes are no Manifest.mbdb at all).
    pub fn from_mbdb_bytes(bytes: &[u8]) -> Result<Manifest> {
        Ok(Manifest::from_mbdb(&crate::mbdb::parse(bytes)?))
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

/// A Manifest.mbdb or Manifest.mbdx read whole, refused past `mbdb::MAX_FILE_LEN` (without
/// reading more than that): a real one is tens of MB, a bigger one is only there to exhaust
/// memory.
pub(crate) fn read_capped(path: &std::path::Path) -> Result<Vec<u8>> {
    use std::io::Read;
    let f = std::fs::File::open(path).map_err(|e| BackupError::io(path, e))?;
    let mut raw = Vec::new();
    f.take(crate::mbdb::MAX_FILE_LEN + 1)
        .read_to_end(&mut raw)
        .map_err(|e| BackupError::io(path, e))?;
    if raw.len() as u64 > crate::mbdb::MAX_FILE_LEN {
        return Err(BackupError::malformed(
            path,
            format!(
                "over {} MiB, far more than any real backup's file list: refusing to read it",
                crate::mbdb::MAX_FILE_LEN >> 20
            ),
        ));
    }
    Ok(raw)
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

    /// The bytes of Manifest.mbdb (iOS 4 to 9; never encrypted), read once, with a size
    /// limit: a real one is tens of MB.
    pub fn mbdb_bytes(&self) -> Result<Vec<u8>> {
        read_capped(&self.root.join(Era::Mbdb.list_file()))
    }

    /// An error about a file named by its name alone (from a parser that reads bytes) made
    /// to name it in this backup's folder.
    pub(crate) fn in_folder(&self, e: BackupError) -> BackupError {
        match e {
            BackupError::Malformed { path, what } if path.components().count() == 1 => {
                BackupError::Malformed {
                    path: self.root.join(path),
                    what,
                }
            }
            other => other,
        }
    }

    /// Reads Manifest.mbdb (iOS 4 to 9) into entries.
    fn open_mbdb_manifest(&self) -> Result<Manifest> {
        Manifest::from_mbdb_bytes(&self.mbdb_bytes()?).map_err(|e| self.in_folder(e))
    }

    /// Reads the file list: Manifest.db, or Manifest.mbdb for backups from iOS 4 to 9.
    /// `keys` is needed for encrypted iOS 10.2+ backups only.
    pub fn open_manifest(&self, keys: Option<&UnlockedKeys>) -> Result<Manifest> {
        if self.era == Era::Mbdb {
            return self.open_mbdb_manifest();
        }
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
