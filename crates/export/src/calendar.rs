//! Calendar: `HomeDomain/Library/Calendar/Calendar.sqlitedb`.
//! Output: `calendar/events.csv` and `calendar/events.ics` (iCalendar).

use crate::html::csv;
use crate::out::Output;
use crate::source::Source;
use crate::sql::{self, s};
use crate::time;
use crate::{Result, Section};
use std::collections::HashMap;

pub const CANDIDATES: &[(&str, &str)] = &[("HomeDomain", "Library/Calendar/Calendar.sqlitedb")];

/// iCalendar text escaping (RFC 5545 3.3.11).
fn ics_text(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace(';', "\\;")
        .replace(',', "\\,")
        .replace("\r\n", "\\n")
        .replace(['\n', '\r'], "\\n")
}

/// Folds a content line at 75 octets (RFC 5545 3.1).
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut n = 0;
    for c in line.chars() {
        if n + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            n = 1;
        }
        out.push(c);
        n += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

pub fn export(source: &dyn Source, out: &Output, section: &mut Section) -> Result<()> {
    let Some(file) = sql::locate(source, CANDIDATES) else {
        return Ok(());
    };
    section.found = true;
    let db = sql::open(source, out, &file)?;
    let mut calendars: HashMap<i64, String> = HashMap::new();
    if db.has_table("Calendar") {
        for r in db.select("Calendar", &["ROWID", "title"], "")? {
            if let Some(id) = r[0].int() {
                calendars.insert(id, s(&r, 1));
            }
        }
    } else {
        section.note("no Calendar table: calendar names are not shown");
    }
    let mut locations: HashMap<i64, String> = HashMap::new();
    if db.has_table("Location") {
        for r in db.select("Location", &["ROWID", "title", "address"], "")? {
            if let Some(id) = r[0].int() {
                let t = [s(&r, 1), s(&r, 2)]
                    .into_iter()
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
                    .join(", ");
                locations.insert(id, t);
            }
        }
    }
    let order = if db.columns("CalendarItem").contains("start_date") {
        "ORDER BY start_date"
    } else {
        ""
    };
    let items = db.select(
        "CalendarItem",
        &[
            "ROWID",
            "summary",
            "start_date",
            "end_date",
            "all_day",
            "calendar_id",
            "location_id",
            "description",
            "url",
            "UUID",
            "creation_date",
            "last_modified",
        ],
        order,
    )?;
    let headers = [
        "start_utc",
        "end_utc",
        "all_day",
        "summary",
        "calendar",
        "location",
        "description",
        "url",
        "created_utc",
        "modified_utc",
    ];
    let mut rows = Vec::new();
    let mut ics =
        String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Sesame//backup export//EN\r\n");
    for r in &items {
        let start = r[2].real().and_then(time::apple_to_unix);
        let end = r[3].real().and_then(time::apple_to_unix);
        let all_day = r[4].truthy();
        let cal = r[5]
            .int()
            .and_then(|c| calendars.get(&c))
            .cloned()
            .unwrap_or_default();
        let loc = r[6]
            .int()
            .and_then(|c| locations.get(&c))
            .cloned()
            .unwrap_or_default();
        rows.push(vec![
            start.map(time::format).unwrap_or_default(),
            end.map(time::format).unwrap_or_default(),
            if all_day { "yes" } else { "no" }.into(),
            s(r, 1),
            cal,
            loc.clone(),
            s(r, 7),
            s(r, 8),
            time::apple(r[10].real()),
            time::apple(r[11].real()),
        ]);
        ics.push_str("BEGIN:VEVENT\r\n");
        let uid = r[9]
            .text()
            .unwrap_or_else(|| format!("sesame-{}", r[0].int().unwrap_or(0)));
        ics.push_str(&fold(&format!("UID:{}", ics_text(&uid))));
        if let Some(m) = r[11].real().and_then(time::apple_to_unix).or(start) {
            ics.push_str(&format!("DTSTAMP:{}\r\n", time::ical(m)));
        }
        if let Some(st) = start {
            if all_day {
                ics.push_str(&format!("DTSTART;VALUE=DATE:{}\r\n", &time::ical(st)[..8]));
            } else {
                ics.push_str(&format!("DTSTART:{}\r\n", time::ical(st)));
            }
        }
        if let Some(en) = end {
            if all_day {
                ics.push_str(&format!(
                    "DTEND;VALUE=DATE:{}\r\n",
                    &time::ical(en + 1)[..8]
                ));
            } else {
                ics.push_str(&format!("DTEND:{}\r\n", time::ical(en)));
            }
        }
        for (name, v) in [
            ("SUMMARY", s(r, 1)),
            ("DESCRIPTION", s(r, 7)),
            ("LOCATION", loc),
            ("URL", s(r, 8)),
        ] {
            if !v.is_empty() {
                ics.push_str(&fold(&format!("{name}:{}", ics_text(&v))));
            }
        }
        ics.push_str("END:VEVENT\r\n");
    }
    ics.push_str("END:VCALENDAR\r\n");
    out.write_file("calendar/events.csv", csv(&headers, &rows).as_bytes())?;
    out.write_file("calendar/events.ics", ics.as_bytes())?;
    section.items = rows.len();
    section.file("calendar/events.csv", &format!("{} event(s)", rows.len()));
    section.file("calendar/events.ics", "the same events, for calendar apps");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ical_text_and_folding() {
        assert_eq!(ics_text("a,b;c\\d\ne"), "a\\,b\\;c\\\\d\\ne");
        let long = fold(&"x".repeat(160));
        assert!(long.split("\r\n").all(|l| l.len() <= 75));
    }
}
