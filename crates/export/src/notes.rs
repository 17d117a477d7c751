//! Notes. iOS 9+ keeps them in `AppDomainGroup-group.com.apple.notes/NoteStore.sqlite`
//! (ZICCLOUDSYNCINGOBJECT: title, snippet, dates; the body is a gzipped protobuf, not decoded
//! here); older iOS in `HomeDomain/Library/Notes/notes.sqlite` (ZNOTE, ZNOTEBODY: HTML bodies).
//! Output: `notes/notes.csv`.

use crate::html::csv;
use crate::out::Output;
use crate::source::Source;
use crate::sql::{self, s};
use crate::time;
use crate::{Result, Section};

pub const MODERN: (&str, &str) = ("AppDomainGroup-group.com.apple.notes", "NoteStore.sqlite");
pub const LEGACY: (&str, &str) = ("HomeDomain", "Library/Notes/notes.sqlite");

const HEADERS: [&str; 5] = ["title", "created_utc", "modified_utc", "text", "source"];

pub fn export(source: &dyn Source, out: &Output, section: &mut Section) -> Result<()> {
    let mut rows = Vec::new();
    if let Some(file) = source.find(MODERN.0, MODERN.1) {
        section.found = true;
        let db = sql::open(source, out, &file)?;
        let cols = db.columns("ZICCLOUDSYNCINGOBJECT");
        if cols.contains("ZTITLE1") {
            let filter = if cols.contains("ZMARKEDFORDELETION") {
                "WHERE ZTITLE1 IS NOT NULL AND (ZMARKEDFORDELETION IS NULL OR ZMARKEDFORDELETION = 0)"
            } else {
                "WHERE ZTITLE1 IS NOT NULL"
            };
            for r in db.select(
                "ZICCLOUDSYNCINGOBJECT",
                &[
                    "ZTITLE1",
                    "ZCREATIONDATE1",
                    "ZMODIFICATIONDATE1",
                    "ZSNIPPET",
                ],
                filter,
            )? {
                rows.push(vec![
                    s(&r, 0),
                    time::apple(r[1].real()),
                    time::apple(r[2].real()),
                    s(&r, 3),
                    "NoteStore.sqlite (title and first line only)".to_string(),
                ]);
            }
            section.note("iOS 9+ note bodies are compressed protobuf: only titles and first lines are exported");
        } else {
            section.note("NoteStore.sqlite has no ZICCLOUDSYNCINGOBJECT.ZTITLE1: schema not known");
        }
    }
    if let Some(file) = source.find(LEGACY.0, LEGACY.1) {
        section.found = true;
        let db = sql::open(source, out, &file)?;
        if db.has_table("ZNOTE") {
            let body = if db.has_table("ZNOTEBODY") {
                "SELECT n.ZTITLE, n.ZCREATIONDATE, n.ZMODIFICATIONDATE, b.ZCONTENT FROM ZNOTE n \
                 LEFT JOIN ZNOTEBODY b ON b.ZOWNER = n.Z_PK"
            } else {
                "SELECT ZTITLE, ZCREATIONDATE, ZMODIFICATIONDATE, ZSUMMARY FROM ZNOTE"
            };
            match db.query(body, 4) {
                Ok(list) => {
                    for r in list {
                        rows.push(vec![
                            s(&r, 0),
                            time::apple(r[1].real()),
                            time::apple(r[2].real()),
                            s(&r, 3),
                            "notes.sqlite".to_string(),
                        ]);
                    }
                }
                Err(e) => section.fail(format!("notes.sqlite: {e}")),
            }
        }
    }
    if section.found {
        out.write_file("notes/notes.csv", csv(&HEADERS, &rows).as_bytes())?;
        section.items = rows.len();
        section.file("notes/notes.csv", &format!("{} note(s)", rows.len()));
    }
    Ok(())
}
