//! Call history: `HomeDomain/Library/CallHistoryDB/CallHistory.storedata` (iOS 8+), or the older
//! `WirelessDomain/Library/CallHistory/call_history.db`. Output: `calls/calls.csv`.

use crate::html::csv;
use crate::out::Output;
use crate::source::Source;
use crate::sql::{self, s};
use crate::time;
use crate::{Result, Section};

pub const CANDIDATES: &[(&str, &str)] = &[
    ("HomeDomain", "Library/CallHistoryDB/CallHistory.storedata"),
    ("WirelessDomain", "Library/CallHistory/call_history.db"),
];

const HEADERS: [&str; 7] = [
    "date_utc",
    "direction",
    "number",
    "name",
    "duration_seconds",
    "answered",
    "service",
];

pub fn export(source: &dyn Source, out: &Output, section: &mut Section) -> Result<()> {
    let Some(file) = sql::locate(source, CANDIDATES) else {
        return Ok(());
    };
    section.found = true;
    let db = sql::open(source, out, &file)?;
    let mut rows = Vec::new();
    if db.has_table("ZCALLRECORD") {
        let order = if db.columns("ZCALLRECORD").contains("ZDATE") {
            "ORDER BY ZDATE"
        } else {
            ""
        };
        for r in db.select(
            "ZCALLRECORD",
            &[
                "ZDATE",
                "ZORIGINATED",
                "ZADDRESS",
                "ZNAME",
                "ZDURATION",
                "ZANSWERED",
                "ZSERVICE_PROVIDER",
                "ZCALLTYPE",
            ],
            order,
        )? {
            let service = match (s(&r, 6).as_str(), r[7].int()) {
                ("com.apple.Telephony", _) | (_, Some(1)) => "phone".to_string(),
                ("com.apple.FaceTime", _) | (_, Some(8)) | (_, Some(16)) => "FaceTime".to_string(),
                (p, _) => p.to_string(),
            };
            rows.push(vec![
                time::apple(r[0].real()),
                if r[1].truthy() {
                    "outgoing"
                } else {
                    "incoming"
                }
                .to_string(),
                s(&r, 2),
                s(&r, 3),
                r[4].real().map(|d| format!("{:.0}", d)).unwrap_or_default(),
                if r[5].truthy() { "yes" } else { "no" }.to_string(),
                service,
            ]);
        }
    } else if db.has_table("call") {
        // Before iOS 8: Unix times; flags bit 0 = outgoing.
        for r in db.select(
            "call",
            &["date", "flags", "address", "name", "duration"],
            "ORDER BY date",
        )? {
            let flags = r[1].int().unwrap_or(0);
            rows.push(vec![
                time::unix(r[0].real()),
                if flags & 1 != 0 {
                    "outgoing"
                } else {
                    "incoming"
                }
                .to_string(),
                s(&r, 2),
                s(&r, 3),
                s(&r, 4),
                String::new(),
                "phone".to_string(),
            ]);
        }
    } else {
        section.note(format!("{}: no ZCALLRECORD or call table", db.name()));
        return Ok(());
    }
    out.write_file("calls/calls.csv", csv(&HEADERS, &rows).as_bytes())?;
    section.items = rows.len();
    section.file("calls/calls.csv", &format!("{} call(s)", rows.len()));
    Ok(())
}
