//! Opening a backup's SQLite database and reading it without trusting its schema.

use crate::out::Output;
use crate::source::{FileInfo, Source};
use crate::{ExportError, Result};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OpenFlags};
use std::collections::HashSet;

/// A database copied out of the backup into a private temporary folder under the output folder
/// (with its `-wal` journal when the backup has one, so recent rows are seen).
pub struct Db {
    pub conn: Connection,
    pub file: FileInfo,
    _dir: tempfile::TempDir,
}

/// The first of `candidates` (domain, path) present in the backup.
pub fn locate(source: &dyn Source, candidates: &[(&str, &str)]) -> Option<FileInfo> {
    candidates.iter().find_map(|(d, p)| source.find(d, p))
}

/// Copies `file` (and its -wal) out of the backup and opens it.
pub fn open(source: &dyn Source, out: &Output, file: &FileInfo) -> Result<Db> {
    let what = format!("{}/{}", file.domain, file.path);
    let dir = out.temp_dir()?;
    let path = dir.path().join("db");
    let bytes = source.read(file)?;
    if bytes.len() < 100 || !bytes.starts_with(b"SQLite format 3\0") {
        return Err(ExportError::data(
            what,
            "not a SQLite database (damaged, or still encrypted)",
        ));
    }
    std::fs::write(&path, &bytes).map_err(|e| ExportError::io(&path, e))?;
    drop(bytes);
    for suffix in ["-wal"] {
        if let Some(j) = source.find(&file.domain, &format!("{}{suffix}", file.path)) {
            if let Ok(b) = source.read(&j) {
                let p = dir.path().join(format!("db{suffix}"));
                std::fs::write(&p, &b).map_err(|e| ExportError::io(&p, e))?;
            }
        }
    }
    let conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| ExportError::data(&what, e))?;
    // Check it is readable at all.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| ExportError::data(&what, e))?;
    Ok(Db {
        conn,
        file: file.clone(),
        _dir: dir,
    })
}

impl Db {
    pub fn name(&self) -> String {
        format!("{}/{}", self.file.domain, self.file.path)
    }

    pub fn has_table(&self, table: &str) -> bool {
        self.conn
            .query_row(
                "SELECT 1 FROM sqlite_master WHERE type IN ('table','view') AND name = ?1",
                [table],
                |_| Ok(()),
            )
            .is_ok()
    }

    /// Column names of `table` (empty when there is no such table).
    pub fn columns(&self, table: &str) -> HashSet<String> {
        let mut out = HashSet::new();
        let sql = format!("PRAGMA table_info({})", quote(table));
        if let Ok(mut st) = self.conn.prepare(&sql) {
            if let Ok(rows) = st.query_map([], |r| r.get::<_, String>(1)) {
                out.extend(rows.flatten());
            }
        }
        out
    }

    /// `SELECT` of `cols` from `table` (a column the table lacks reads as NULL), then `tail`
    /// (WHERE / ORDER BY using only columns known to exist). Errors when the table is missing.
    pub fn select(&self, table: &str, cols: &[&str], tail: &str) -> Result<Vec<Vec<Val>>> {
        let have = self.columns(table);
        if have.is_empty() {
            return Err(ExportError::data(self.name(), format!("no table {table}")));
        }
        let list: Vec<String> = cols
            .iter()
            .map(|c| {
                if have.contains(*c) {
                    quote(c)
                } else {
                    "NULL".to_string()
                }
            })
            .collect();
        let sql = format!("SELECT {} FROM {} {tail}", list.join(", "), quote(table));
        self.query(&sql, cols.len())
    }

    /// Runs `sql` and reads `n` columns of every row.
    pub fn query(&self, sql: &str, n: usize) -> Result<Vec<Vec<Val>>> {
        let err = |e: rusqlite::Error| ExportError::data(self.name(), e);
        let mut st = self.conn.prepare(sql).map_err(err)?;
        let mut rows = st.query([]).map_err(err)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(err)? {
            let mut row = Vec::with_capacity(n);
            for i in 0..n {
                row.push(r.get_ref(i).map(Val::from).unwrap_or(Val::Null));
            }
            out.push(row);
        }
        Ok(out)
    }
}

/// An SQL identifier in double quotes.
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// One SQLite value.
#[derive(Clone, Debug, PartialEq)]
pub enum Val {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl From<ValueRef<'_>> for Val {
    fn from(v: ValueRef<'_>) -> Val {
        match v {
            ValueRef::Null => Val::Null,
            ValueRef::Integer(i) => Val::Int(i),
            ValueRef::Real(f) => Val::Real(f),
            ValueRef::Text(t) => Val::Text(String::from_utf8_lossy(t).into_owned()),
            ValueRef::Blob(b) => Val::Blob(b.to_vec()),
        }
    }
}

impl Val {
    /// Text of a text (or UTF-8 blob, or number) value; None for NULL and empty strings.
    pub fn text(&self) -> Option<String> {
        let s = match self {
            Val::Null => return None,
            Val::Int(i) => i.to_string(),
            Val::Real(f) => f.to_string(),
            Val::Text(t) => t.clone(),
            Val::Blob(b) => String::from_utf8_lossy(b).into_owned(),
        };
        (!s.is_empty()).then_some(s)
    }
    pub fn int(&self) -> Option<i64> {
        match self {
            Val::Int(i) => Some(*i),
            Val::Real(f) if f.is_finite() => Some(*f as i64),
            Val::Text(t) => t.trim().parse().ok(),
            _ => None,
        }
    }
    pub fn real(&self) -> Option<f64> {
        match self {
            Val::Int(i) => Some(*i as f64),
            Val::Real(f) if f.is_finite() => Some(*f),
            Val::Text(t) => t.trim().parse().ok().filter(|f: &f64| f.is_finite()),
            _ => None,
        }
    }
    pub fn truthy(&self) -> bool {
        self.int().is_some_and(|i| i != 0)
    }
    pub fn blob(&self) -> Option<&[u8]> {
        match self {
            Val::Blob(b) => Some(b),
            _ => None,
        }
    }
}

/// Text of `row[i]` or "".
pub fn s(row: &[Val], i: usize) -> String {
    row.get(i).and_then(Val::text).unwrap_or_default()
}
