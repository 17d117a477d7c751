//! Manifest.db rows. Fuzzing the bytes of a whole SQLite file mostly fuzzes SQLite's page
//! checks, so this builds a real in-memory `Files` table whose cells (type and value) come
//! from the input, and reads it the way a backup is read.
//!
//! Input: one flags byte, then cells of 5-column rows. Each cell is a tag byte whose value
//! mod 5 picks NULL, integer (8 bytes LE), real (8 bytes LE), text (1-byte length) or blob
//! (2-byte LE length); missing bytes read as zero. Whatever follows the last full row is a
//! path glob for `Manifest::filter`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection, MAIN_DB};
use sesame_backup::manifest::glob_match;
use sesame_backup::Manifest;

/// Rows per input: enough to make duplicates and mixes, few enough to stay fast.
const MAX_ROWS: usize = 32;

/// The schema iOS writes, and one without declared types, where SQLite keeps every value as
/// given (a TEXT flags, a REAL fileID) instead of converting it.
const REAL_SCHEMA: &str = "CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, \
    relativePath TEXT, flags INTEGER, file BLOB)";
const UNTYPED_SCHEMA: &str = "CREATE TABLE Files (fileID, domain, relativePath, flags, file)";

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Vec<u8> {
        let n = n.min(self.0.len());
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        head.to_vec()
    }
    fn array<const N: usize>(&mut self) -> [u8; N] {
        let mut out = [0u8; N];
        let got = self.take(N);
        out[..got.len()].copy_from_slice(&got);
        out
    }
    fn cell(&mut self) -> Option<Value> {
        let [tag] = self.array::<1>();
        Some(match tag % 5 {
            0 => Value::Null,
            1 => Value::Integer(i64::from_le_bytes(self.array())),
            2 => Value::Real(f64::from_le_bytes(self.array())),
            3 => {
                let [n] = self.array::<1>();
                Value::Text(String::from_utf8_lossy(&self.take(n.into())).into_owned())
            }
            _ => {
                let n = u16::from_le_bytes(self.array());
                Value::Blob(self.take(n.into()))
            }
        })
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let mut r = Reader(rest);
    let mut rows = Vec::new();
    while r.0.len() >= 5 && rows.len() < MAX_ROWS {
        let row: Vec<Value> = (0..5).filter_map(|_| r.cell()).collect();
        rows.push(row);
    }
    let glob = String::from_utf8_lossy(r.0).into_owned();

    let conn = Connection::open_in_memory().expect("in-memory database");
    let schema = if flags & 1 == 0 {
        REAL_SCHEMA
    } else {
        UNTYPED_SCHEMA
    };
    conn.execute_batch(schema).expect("create Files");
    for row in &rows {
        // A duplicate fileID breaks the primary key; a real database can't hold it either.
        let _ = conn.execute(
            "INSERT INTO Files VALUES (?1, ?2, ?3, ?4, ?5)",
            params_from_iter(row),
        );
    }
    let m = Manifest::from_connection(&conn).expect("a Files table reads");
    let count: i64 = conn
        .query_row("SELECT count(*) FROM Files", [], |r| r.get(0))
        .expect("count rows");
    assert!(m.len() as i64 <= count, "more entries than rows");
    for e in m.entries() {
        let _ = (e.size(), e.kind.name(), e.kind.flags());
        assert!(
            m.find(&e.domain, &e.relative_path).is_some(),
            "an entry is not found by its own domain and path"
        );
        assert!(
            glob_match(&e.relative_path, &e.relative_path),
            "a path does not match itself as a glob"
        );
    }
    let _ = m.filter(None, Some(&glob));

    // The same rows through the path a backup takes: database bytes, copied into SQLite.
    if flags & 2 != 0 {
        let bytes = conn.serialize(MAIN_DB).expect("serialize");
        let again = Manifest::from_db_bytes(&bytes).expect("our own database opens");
        assert_eq!(again.entries(), m.entries());
        assert_eq!(again.warnings, m.warnings);
    }
});
