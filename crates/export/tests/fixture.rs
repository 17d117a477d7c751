//! Exports of the real iOS 14 fixture (`../shared/fixtures/decrypted-backup-ios14`), whose
//! blobs are small test databases: sms.db, Calendar.sqlitedb, Safari's BrowserState.db,
//! WhatsApp's ChatStorage.sqlite. Row contents below were read from those databases.

use sesame_backup::Backup;
use sesame_export::{export_backup, Kind, Options};

mod common;
use common::tree;
use std::path::{Path, PathBuf};

fn fixture() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/decrypted-backup-ios14");
    if dir.is_dir() {
        Some(dir)
    } else {
        // In CI a missing fixture is a failure, never a silent pass.
        assert!(
            std::env::var_os("SESAME_REQUIRE_SHARED").is_none(),
            "SESAME_REQUIRE_SHARED is set but ../shared (the fixtures) is missing"
        );
        eprintln!("SKIPPED: fixture not found at {}", dir.display());
        None
    }
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn fixture_exports_messages_safari_calendar_whatsapp() {
    let Some(fx) = fixture() else { return };
    let backup = Backup::open(&fx).unwrap();
    assert!(!backup.encrypted);
    let parent = tempfile::tempdir().unwrap();
    let out = parent.path().join("export");
    let report = export_backup(&backup, None, &out, &Options::default()).unwrap();

    // Messages: one SMS from "apple", date in nanoseconds since 2001.
    let csv = read(&out.join("messages/messages.csv"));
    assert!(
        csv.contains("apple,2019-08-29 23:13:30,received,apple,Please click here https://badbadbad.example.org/,"),
        "{csv}"
    );
    assert_eq!(csv.lines().count(), 2, "{csv}");
    let json: serde_json::Value =
        serde_json::from_str(&read(&out.join("messages/messages.json"))).unwrap();
    assert_eq!(json[0]["title"], "apple");
    assert_eq!(json[0]["messages"][0]["id"], 3);
    assert_eq!(json[0]["messages"][0]["date"], 1_567_120_410);
    let page = read(&out.join("messages/conversation-0001.html"));
    assert!(page.contains("Please click here https://badbadbad.example.org/"));

    // Calendar: one event, start and end in seconds since 2001.
    let ev = read(&out.join("calendar/events.csv"));
    assert!(
        ev.contains("2023-04-18 09:15:00,2023-04-18 10:15:00,no,Super interesting meeting,,,very very interesting things,,2023-04-11 18:30:06,2023-04-11 18:30:38"),
        "{ev}"
    );
    let ics = read(&out.join("calendar/events.ics"));
    assert!(ics.contains("DTSTART:20230418T091500Z\r\n"), "{ics}");
    assert!(ics.contains("UID:FAE72C77-4932-47FD-885C-A084D502F3C4\r\n"));
    assert!(ics.contains("SUMMARY:Super interesting meeting\r\n"));

    // Safari: the one open tab of BrowserState.db.
    let tabs = read(&out.join("safari/tabs.csv"));
    assert!(
        tabs.contains("NSO is bad,https://en.wikipedia.org/wiki/NSO_Group,2021-09-29 08:56:46,no"),
        "{tabs}"
    );

    // WhatsApp: two chats, three messages, seconds since 2001.
    let wa = read(&out.join("whatsapp/messages.csv"));
    assert!(
        wa.contains("Alice Example,2025-08-27 15:06:40,received,14155550100@s.whatsapp.net,Hi\r\n"),
        "{wa}"
    );
    assert!(
        wa.contains("Alice Example,2025-08-28 18:53:20,sent,me,Check https://example.org/news\r\n")
    );
    assert!(wa.contains(
        "Example Group,2025-08-29 22:40:00,received,14155550101@s.whatsapp.net,Welcome\r\n"
    ));

    // The index ties it together and says what is missing.
    let index = read(&out.join("index.html"));
    assert!(index.contains("href=\"messages/index.html\""));
    assert!(index.contains("href=\"safari/tabs.csv\""));
    assert!(index.contains("href=\"calendar/events.csv\""));
    let by_kind = |k: Kind| report.sections.iter().find(|s| s.kind == k).unwrap();
    assert_eq!(by_kind(Kind::Messages).items, 1);
    assert_eq!(by_kind(Kind::Calendar).items, 1);
    assert!(by_kind(Kind::Safari).found);
    // No temporary files left, nothing outside the output folder.
    let files = tree(&out);
    assert!(
        files.iter().all(|f| !f.contains("sesame-export-tmp")),
        "{files:?}"
    );
    assert_eq!(tree(parent.path()).len(), files.len());
}

#[test]
fn only_and_force() {
    let Some(fx) = fixture() else { return };
    let backup = Backup::open(&fx).unwrap();
    let d = tempfile::tempdir().unwrap();
    let opts = Options {
        only: Some(vec![Kind::Calendar]),
        force: false,
        ..Default::default()
    };
    let report = export_backup(&backup, None, d.path(), &opts).unwrap();
    assert_eq!(report.sections.len(), 1);
    assert!(d.path().join("calendar/events.csv").is_file());
    assert!(!d.path().join("messages").exists());
    // Non-empty now: refused without force, accepted with it.
    let err = export_backup(&backup, None, d.path(), &opts).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    let opts = Options {
        only: Some(vec![Kind::Calendar]),
        force: true,
        ..Default::default()
    };
    export_backup(&backup, None, d.path(), &opts).unwrap();
}
