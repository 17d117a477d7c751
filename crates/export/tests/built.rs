//! Exports of backups built in the real format (encrypted and not) holding small databases of
//! the shapes iOS uses, plus hostile names: everything lands under the output folder.

use rusqlite::Connection;
use sesame_backup::builder::BackupBuilder;
use sesame_backup::Backup;
use sesame_export::{export_backup, Kind, Options};

mod common;
use common::tree;
use std::path::Path;

fn db(sql: &str) -> Vec<u8> {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("x.db");
    let c = Connection::open(&p).unwrap();
    c.execute_batch(sql).unwrap();
    drop(c);
    std::fs::read(p).unwrap()
}

fn sms_db() -> Vec<u8> {
    db("CREATE TABLE handle (ROWID INTEGER PRIMARY KEY, id TEXT, service TEXT);
        INSERT INTO handle VALUES (1, '+15551234567', 'iMessage'), (2, 'bob@example.org', 'iMessage');
        CREATE TABLE chat (ROWID INTEGER PRIMARY KEY, chat_identifier TEXT, display_name TEXT);
        INSERT INTO chat VALUES (1, '+15551234567', ''), (2, 'chat123', 'Family');
        CREATE TABLE chat_handle_join (chat_id INTEGER, handle_id INTEGER);
        INSERT INTO chat_handle_join VALUES (1, 1), (2, 1), (2, 2);
        CREATE TABLE message (ROWID INTEGER PRIMARY KEY, text TEXT, handle_id INTEGER, date INTEGER,
                              is_from_me INTEGER, service TEXT, attributedBody BLOB);
        INSERT INTO message VALUES (1, 'Hello <b>there</b>, \"friend\"', 1, 700000000000000000, 0, 'iMessage', NULL);
        INSERT INTO message VALUES (2, 'Hi back', 0, 700000060000000000, 1, 'iMessage', NULL);
        INSERT INTO message VALUES (3, 'Dinner at 7?', 2, 400000000, 0, 'SMS', NULL);
        CREATE TABLE chat_message_join (chat_id INTEGER, message_id INTEGER);
        INSERT INTO chat_message_join VALUES (1, 1), (1, 2), (2, 3);
        CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY, filename TEXT, transfer_name TEXT);
        INSERT INTO attachment VALUES (1, '~/Library/SMS/Attachments/aa/10/X/photo.jpg', 'photo.jpg');
        INSERT INTO attachment VALUES (2, '~/Library/SMS/Attachments/../../../../etc/passwd', '../../evil');
        CREATE TABLE message_attachment_join (message_id INTEGER, attachment_id INTEGER);
        INSERT INTO message_attachment_join VALUES (2, 1), (3, 2);")
}

fn address_book() -> Vec<u8> {
    db("CREATE TABLE ABPerson (ROWID INTEGER PRIMARY KEY, First TEXT, Last TEXT, Organization TEXT);
        INSERT INTO ABPerson VALUES (1, 'Ada', 'Lovelace', 'Analytical, Ltd');
        CREATE TABLE ABMultiValueLabel (ROWID INTEGER PRIMARY KEY, value TEXT);
        INSERT INTO ABMultiValueLabel VALUES (1, '_$!<Mobile>!$_');
        CREATE TABLE ABMultiValue (UID INTEGER PRIMARY KEY, record_id INTEGER, property INTEGER, label INTEGER, value TEXT);
        INSERT INTO ABMultiValue VALUES (1, 1, 3, 1, '+44 20 7946 0000'), (2, 1, 4, NULL, 'ada@example.org');")
}

fn call_history() -> Vec<u8> {
    db("CREATE TABLE ZCALLRECORD (Z_PK INTEGER PRIMARY KEY, ZDATE REAL, ZORIGINATED INTEGER, ZADDRESS TEXT,
                                  ZDURATION REAL, ZANSWERED INTEGER, ZSERVICE_PROVIDER TEXT);
        INSERT INTO ZCALLRECORD VALUES (1, 600000000.5, 1, '+15551234567', 61.0, 1, 'com.apple.Telephony');")
}

fn build(dir: &Path, password: Option<&str>) {
    let mut b = BackupBuilder::new()
        .iterations(10, Some(10))
        .modified(1_600_000_000)
        .file("HomeDomain", "Library/SMS/sms.db", sms_db())
        .file(
            "MediaDomain",
            "Library/SMS/Attachments/aa/10/X/photo.jpg",
            b"JPEGDATA".to_vec(),
        )
        .file(
            "HomeDomain",
            "Library/AddressBook/AddressBook.sqlitedb",
            address_book(),
        )
        .file(
            "HomeDomain",
            "Library/CallHistoryDB/CallHistory.storedata",
            call_history(),
        )
        .file(
            "CameraRollDomain",
            "Media/DCIM/100APPLE/IMG_0001.HEIC",
            b"HEIC1".to_vec(),
        )
        .file(
            "CameraRollDomain",
            "Media/DCIM/100APPLE/IMG_0002.MOV",
            b"MOV2".to_vec(),
        )
        .file(
            "CameraRollDomain",
            "Media/DCIM/../../../../escape.jpg",
            b"evil".to_vec(),
        )
        .file(
            "CameraRollDomain",
            "Media/DCIM/101APPLE/..",
            b"evil2".to_vec(),
        )
        .file(
            "HomeDomain",
            "Library/Safari/Bookmarks.db",
            b"not a database at all".to_vec(),
        );
    if let Some(pw) = password {
        b = b.password(pw);
    }
    b.write(dir).unwrap();
}

fn check(out: &Path) {
    let read = |p: &str| std::fs::read_to_string(out.join(p)).unwrap();
    let csv = read("messages/messages.csv");
    assert!(csv.contains("+15551234567,2023-03-08 20:26:40,received,+15551234567,\"Hello <b>there</b>, \"\"friend\"\"\",iMessage,"), "{csv}");
    assert!(csv.contains("+15551234567,2023-03-08 20:27:40,sent,me,Hi back,iMessage,messages/attachments/2-photo.jpg"), "{csv}");
    assert!(csv.contains("Family,2013-09-04 15:06:40,received,bob@example.org,Dinner at 7?,SMS,(not in backup: ../../evil)"), "{csv}");
    assert_eq!(
        std::fs::read(out.join("messages/attachments/2-photo.jpg")).unwrap(),
        b"JPEGDATA"
    );
    // HTML is escaped.
    let page = read("messages/conversation-0001.html");
    assert!(page.contains("Hello &lt;b&gt;there&lt;/b&gt;"), "{page}");
    assert!(!page.contains("<b>there"));

    let vcf = read("contacts/contacts.vcf");
    assert!(vcf.contains("N:Lovelace;Ada;;;\r\n"), "{vcf}");
    assert!(vcf.contains("ORG:Analytical\\, Ltd\r\n"));
    assert!(vcf.contains("TEL;TYPE=Mobile:+44 20 7946 0000\r\n"));
    assert!(vcf.contains("EMAIL:ada@example.org\r\n"));
    let calls = read("calls/calls.csv");
    assert!(
        calls.contains("2020-01-06 10:40:00,outgoing,+15551234567,,61,yes,phone"),
        "{calls}"
    );

    assert_eq!(
        std::fs::read(out.join("photos/100APPLE/IMG_0001.HEIC")).unwrap(),
        b"HEIC1"
    );
    let mtime = std::fs::metadata(out.join("photos/100APPLE/IMG_0002.MOV"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        mtime
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        1_600_000_000
    );

    // A damaged database is a note in the index, and the rest is still exported.
    let index = read("index.html");
    assert!(index.contains("not a SQLite database"), "{index}");
}

#[test]
fn encrypted_built_backup_exports_and_stays_inside() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("backup");
    build(&root, Some("pw"));
    let backup = Backup::open(&root).unwrap();
    assert!(backup.encrypted);
    let keys = backup.unlock(b"pw").unwrap();
    // Without the keys: refused.
    assert!(export_backup(&backup, None, &d.path().join("nokeys"), &Options::default()).is_err());
    let out = d.path().join("sub/out");
    let report = export_backup(&backup, Some(&keys), &out, &Options::default()).unwrap();
    check(&out);
    // What did not make it is counted where it belongs, so the caller can say "not complete":
    // the damaged Bookmarks.db, and the two photos whose names would leave the folder.
    let failed = |k: Kind| report.sections.iter().find(|s| s.kind == k).unwrap().failed;
    assert_eq!(failed(Kind::Safari), 1);
    assert_eq!(failed(Kind::Photos), 2);
    assert_eq!(failed(Kind::Contacts), 0);
    assert_eq!(failed(Kind::Calls), 0);
    // Nothing written outside the output folder: the temp dir holds only backup + out.
    let mut top: Vec<String> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(
        top,
        ["backup", "sub"],
        "the refused export must not create its folder"
    );
    assert_eq!(std::fs::read_dir(d.path().join("sub")).unwrap().count(), 1);
    let files = tree(&out);
    assert!(
        files
            .iter()
            .all(|f| !f.contains("escape") && !f.contains("sesame-export-tmp")),
        "{files:?}"
    );
    assert!(!d.path().join("escape.jpg").exists());
    assert!(
        files.iter().all(|f| !f.starts_with("photos/101APPLE")),
        "{files:?}"
    );
    assert!(std::fs::read_to_string(out.join("index.html"))
        .unwrap()
        .contains("skipped"));
}

#[test]
fn unencrypted_built_backup_exports() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("backup");
    build(&root, None);
    let backup = Backup::open(&root).unwrap();
    let out = d.path().join("out");
    let opts = Options {
        only: Some(vec![
            Kind::Messages,
            Kind::Contacts,
            Kind::Calls,
            Kind::Photos,
            Kind::Safari,
        ]),
        force: false,
        ..Default::default()
    };
    export_backup(&backup, None, &out, &opts).unwrap();
    check(&out);
}
