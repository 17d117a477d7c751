//! `sesame keychain` and `sesame export` through the built binary, on built backups and the
//! real iOS 14 fixture.

use sesame_backup::builder::BackupBuilder;
use sesame_backup::keychain::{ItemClass, ItemSpec};
use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

fn sesame(args: &[&str]) -> Output {
    common::sesame(args, &[])
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}
fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn items() -> Vec<ItemSpec> {
    let mut v = vec![
        ItemSpec::new(
            ItemClass::GenericPassword,
            7,
            &[("svce", "AirPort"), ("acct", "HomeNet")],
            b"wifi-secret-1",
        ),
        ItemSpec::new(
            ItemClass::InternetPassword,
            6,
            &[
                ("srvr", "shop.example.com"),
                ("acct", "erin"),
                ("labl", "Shop"),
            ],
            b"web,secret\"2",
        ),
        ItemSpec::new(
            ItemClass::GenericPassword,
            7,
            &[("svce", "BackupAgent"), ("acct", "BackupPassword")],
            b"pw",
        ),
        ItemSpec::new(
            ItemClass::GenericPassword,
            11,
            &[("svce", "com.example.bound"), ("acct", "z")],
            b"never-shown",
        ),
    ];
    v[1].version = 2;
    v
}

/// An encrypted backup with a keychain and a password file.
fn built(dir: &Path) -> (PathBuf, PathBuf) {
    let root = dir.join("backup");
    BackupBuilder::new()
        .password("pw")
        .iterations(10, Some(10))
        .keychain(items())
        .write(&root)
        .unwrap();
    let pwf = dir.join("pw.txt");
    std::fs::write(&pwf, "pw\n").unwrap();
    (root, pwf)
}

#[test]
fn keychain_table_json_csv_and_masking() {
    let d = tempfile::tempdir().unwrap();
    let (root, pwf) = built(d.path());
    let (root, pwf) = (root.to_str().unwrap(), pwf.to_str().unwrap());

    let o = sesame(&["keychain", root, "--password-file", pwf]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let t = stdout(&o);
    assert!(t.contains("Wi-Fi") && t.contains("HomeNet"), "{t}");
    assert!(t.contains("shop.example.com") && t.contains("erin"), "{t}");
    assert!(t.contains("(device only)"), "{t}");
    assert!(t.contains("this device's backup password"), "{t}");
    assert!(t.contains("********"));
    assert!(
        !t.contains("wifi-secret-1") && !t.contains("never-shown"),
        "{t}"
    );

    let o = sesame(&["keychain", root, "--password-file", pwf, "--show-secrets"]);
    let t = stdout(&o);
    assert!(
        t.contains("wifi-secret-1") && t.contains("web,secret\"2"),
        "{t}"
    );
    assert!(!t.contains("never-shown"));

    let o = sesame(&["keychain", root, "--password-file", pwf, "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let arr = v.as_array().unwrap();
    assert_eq!(arr.len(), 4);
    let wifi = arr.iter().find(|i| i["kind"] == "wifi_network").unwrap();
    assert_eq!(wifi["name"], "HomeNet");
    assert_eq!(wifi["secret"], "********");
    let dev = arr.iter().find(|i| i["state"] == "device_only").unwrap();
    assert!(dev["secret"].is_null());

    let o = sesame(&[
        "keychain",
        root,
        "--password-file",
        pwf,
        "--csv",
        "--show-secrets",
    ]);
    let t = stdout(&o);
    assert!(
        t.starts_with("kind,name,account,password,label,created,modified\n"),
        "{t}"
    );
    assert!(
        t.contains("internet,https://shop.example.com,erin,\"web,secret\"\"2\",Shop,,")
            || t.contains("internet,shop.example.com,erin,\"web,secret\"\"2\",Shop,,"),
        "{t}"
    );

    // Wrong password: exit 1, one line.
    std::fs::write(d.path().join("bad.txt"), "nope\n").unwrap();
    let o = sesame(&[
        "keychain",
        root,
        "--password-file",
        d.path().join("bad.txt").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("the password is wrong"));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
}

#[test]
fn keychain_errors_are_one_line() {
    let d = tempfile::tempdir().unwrap();
    let o = sesame(&["keychain", d.path().join("missing").to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(stderr(&o).lines().count(), 1, "{}", stderr(&o));
    assert!(stderr(&o).contains("missing"));
}

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

#[test]
fn export_fixture_through_the_cli() {
    let Some(fx) = fixture() else { return };
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let fx = fx.to_str().unwrap();
    let o = sesame(&[
        "export",
        fx,
        "--out",
        out.to_str().unwrap(),
        "--only",
        "messages,calendar,safari",
    ]);
    // The fixture lists Safari's History.db and Bookmarks.db but does not hold their files:
    // the export says it is not complete and which part is missing.
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("NOT complete: 2 part(s)") && stderr(&o).contains("Safari"),
        "{}",
        stderr(&o)
    );
    let csv = std::fs::read_to_string(out.join("messages/messages.csv")).unwrap();
    assert!(csv.contains("Please click here https://badbadbad.example.org/"));
    assert!(out.join("calendar/events.ics").is_file());
    assert!(out.join("safari/tabs.csv").is_file());
    assert!(!out.join("contacts").exists());
    assert!(stdout(&o).contains("index.html"));

    // Non-empty output folder: refused in one line, exit 2; --force accepted.
    let o = sesame(&["export", fx, "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not empty"), "{}", stderr(&o));
    assert_eq!(stderr(&o).lines().count(), 1);
    let o = sesame(&[
        "export",
        fx,
        "--out",
        out.to_str().unwrap(),
        "--force",
        "--only",
        "calendar",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // Unknown kind.
    let o = sesame(&[
        "export",
        fx,
        "--out",
        d.path().join("o2").to_str().unwrap(),
        "--only",
        "bogus",
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bogus"));
}

#[test]
fn export_encrypted_built_backup_through_the_cli() {
    let d = tempfile::tempdir().unwrap();
    let (root, pwf) = built(d.path());
    let out = d.path().join("out");
    let o = sesame(&[
        "export",
        root.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--password-file",
        pwf.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(out.join("index.html").is_file());
}

#[test]
fn an_export_missing_a_photo_says_so_and_exits_2() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("backup");
    let (good, lost) = (
        "Media/DCIM/100APPLE/IMG_0001.JPG",
        "Media/DCIM/100APPLE/IMG_0002.JPG",
    );
    BackupBuilder::new()
        .password("pw")
        .iterations(10, Some(10))
        .file("CameraRollDomain", good, b"jpeg one".to_vec())
        .file("CameraRollDomain", lost, b"jpeg two".to_vec())
        .write(&root)
        .unwrap();
    // The second photo's file is gone from the backup folder (a copy that stopped halfway).
    let id = sesame_backup::builder::file_id("CameraRollDomain", lost);
    std::fs::remove_file(root.join(&id[..2]).join(&id)).unwrap();
    let pwf = d.path().join("pw.txt");
    std::fs::write(&pwf, "pw\n").unwrap();
    let out = d.path().join("out");
    let o = sesame(&[
        "export",
        root.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--only",
        "photos",
        "--password-file",
        pwf.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("NOT complete: 1 part(s)"),
        "{}",
        stderr(&o)
    );
    assert!(stdout(&o).contains("IMG_0002"), "{}", stdout(&o));
    assert_eq!(
        std::fs::read(out.join("photos/100APPLE/IMG_0001.JPG")).unwrap(),
        b"jpeg one"
    );
}

#[test]
fn a_formula_in_a_wifi_name_is_text_in_the_csv_and_the_password_stays_exact() {
    let d = tempfile::tempdir().unwrap();
    let root = d.path().join("backup");
    BackupBuilder::new()
        .password("pw")
        .iterations(10, Some(10))
        .keychain(vec![ItemSpec::new(
            ItemClass::GenericPassword,
            7,
            &[
                ("svce", "AirPort"),
                ("acct", "=HYPERLINK(\"http://x.example\")"),
            ],
            b"=exact-1",
        )])
        .write(&root)
        .unwrap();
    let pwf = d.path().join("pw.txt");
    std::fs::write(&pwf, "pw\n").unwrap();
    let o = sesame(&[
        "keychain",
        root.to_str().unwrap(),
        "--password-file",
        pwf.to_str().unwrap(),
        "--csv",
        "--show-secrets",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let t = stdout(&o);
    let row = t.lines().nth(1).unwrap_or_default();
    assert!(
        row.contains(",\"'=HYPERLINK(\"\"http://x.example\"\")\",") && row.contains(",=exact-1,"),
        "{t}"
    );
    assert!(!row.contains(",=HYPERLINK"), "{t}");
}
