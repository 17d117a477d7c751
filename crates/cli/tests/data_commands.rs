//! decrypt, files, extract, change-password through the built binary, on built backups.
//! Every command must leave the source backup byte-identical.

mod common;
use common::{sesame, snapshot, text};

use sesame_backup::builder::BackupBuilder;
use sesame_backup::Backup;
use std::path::Path;

const FILES: &[(&str, &str, &[u8])] = &[
    (
        "HomeDomain",
        "Library/SMS/sms.db",
        b"SQLite format 3\0 pretend messages",
    ),
    ("HomeDomain", "Library/Notes/notes.txt", b"buy milk"),
    (
        "CameraRollDomain",
        "Media/DCIM/100APPLE/IMG_0001.JPG",
        b"\xff\xd8\xff jpeg",
    ),
    ("KeychainDomain", "keychain-backup.plist", b"<plist/>"),
];

fn backup(dir: &Path, sha256: Option<u32>) {
    let mut b = BackupBuilder::new()
        .password("open sesame")
        .iterations(10, sha256)
        .device("Anna's iPhone", "iPhone14,2", "17.1")
        .dir("HomeDomain", "Library");
    for (d, p, c) in FILES {
        b = b.file(d, p, c.to_vec());
    }
    b.write(dir).unwrap();
}

#[test]
fn decrypt_writes_a_copy_that_reads_unencrypted_and_leaves_the_source_alone() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    backup(&src, Some(10));
    let pwf = t.path().join("pw");
    std::fs::write(&pwf, "open sesame\n").unwrap();
    let before = snapshot(&src);
    let out = t.path().join("out");
    let s = src.to_str().unwrap();
    let o = out.to_str().unwrap();

    // Wrong password: exit 1, nothing written.
    let r = sesame(&["decrypt", s, "--out", o], &[("SESAME_PASSWORD", "nope")]);
    assert_eq!(r.status.code(), Some(1), "{}", text(&r));
    assert!(text(&r).contains("wrong"), "{}", text(&r));
    assert!(!out.exists() || std::fs::read_dir(&out).unwrap().count() == 0);

    let r = sesame(
        &[
            "decrypt",
            s,
            "--out",
            o,
            "--password-file",
            pwf.to_str().unwrap(),
            "--threads",
            "2",
        ],
        &[],
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    assert!(
        text(&r).contains("keychain"),
        "says the keychain stays encrypted: {}",
        text(&r)
    );
    let d = Backup::open(&out).unwrap();
    assert!(!d.encrypted);
    let m = d.open_manifest(None).unwrap();
    for (dom, p, c) in FILES {
        assert_eq!(d.read_file(m.find(dom, p).unwrap(), None).unwrap(), *c);
    }

    // A non-empty output folder: exit 2 with a hint; --force goes ahead.
    let r = sesame(
        &["decrypt", s, "--out", o],
        &[("SESAME_PASSWORD", "open sesame")],
    );
    assert_eq!(r.status.code(), Some(2), "{}", text(&r));
    assert!(
        text(&r).contains("not empty") && text(&r).contains("--force"),
        "{}",
        text(&r)
    );
    assert_eq!(text(&r).trim().lines().count(), 1, "one line: {}", text(&r));
    let r = sesame(
        &["decrypt", s, "--out", o, "--force"],
        &[("SESAME_PASSWORD", "open sesame")],
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));

    // A missing backup: exit 2, one line naming it.
    let r = sesame(
        &[
            "decrypt",
            t.path().join("nope").to_str().unwrap(),
            "--out",
            o,
        ],
        &[],
    );
    assert_eq!(r.status.code(), Some(2));
    assert!(text(&r).contains("nope"), "{}", text(&r));

    assert!(before == snapshot(&src), "decrypt modified the source");
}

#[test]
fn files_lists_and_filters_as_text_and_json() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    backup(&src, Some(10));
    let before = snapshot(&src);
    let s = src.to_str().unwrap();
    let pw = [("SESAME_PASSWORD", "open sesame")];
    let r = sesame(&["files", s, "--json"], &pw);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), FILES.len() + 1);
    assert!(v
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["relative_path"] == "Library/SMS/sms.db"
            && e["kind"] == "file"
            && e["size"] == 33));
    let r = sesame(
        &["files", s, "--domain", "HomeDomain", "--path", "*.db"],
        &pw,
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    let out = String::from_utf8_lossy(&r.stdout);
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("HomeDomain/Library/SMS/sms.db"));
    // Wrong password for an encrypted Manifest.db: exit 1.
    let r = sesame(&["files", s], &[("SESAME_PASSWORD", "nope")]);
    assert_eq!(r.status.code(), Some(1), "{}", text(&r));

    // The legacy scheme keeps Manifest.db plain: no password needed.
    let legacy = t.path().join("legacy");
    backup(&legacy, None);
    let r = sesame(&["files", legacy.to_str().unwrap()], &[]);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    assert!(String::from_utf8_lossy(&r.stdout)
        .contains("CameraRollDomain/Media/DCIM/100APPLE/IMG_0001.JPG"));
    assert!(before == snapshot(&src));
}

#[test]
fn extract_writes_a_tree_and_refuses_traversal() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    BackupBuilder::new()
        .password("pw")
        .iterations(10, Some(10))
        .file("HomeDomain", "Library/SMS/sms.db", b"messages".to_vec())
        .file("HomeDomain", "../../escaped", b"evil".to_vec())
        .symlink("HomeDomain", "Library/out", "/etc")
        .write(&src)
        .unwrap();
    let before = snapshot(&src);
    let parent = t.path().join("p");
    let x = parent.join("x");
    let r = sesame(
        &[
            "extract",
            src.to_str().unwrap(),
            "--out",
            x.to_str().unwrap(),
            "--domain",
            "HomeDomain",
        ],
        &[("SESAME_PASSWORD", "pw")],
    );
    assert_eq!(r.status.code(), Some(2), "{}", text(&r));
    assert_eq!(
        std::fs::read(x.join("HomeDomain/Library/SMS/sms.db")).unwrap(),
        b"messages"
    );
    assert!(text(&r).contains("refused"), "{}", text(&r));
    assert!(!t.path().join("escaped").exists() && !parent.join("escaped").exists());
    assert!(std::fs::symlink_metadata(x.join("HomeDomain/Library/out")).is_err());
    // A glob that matches nothing: exit 2 with a hint.
    let r = sesame(
        &[
            "extract",
            src.to_str().unwrap(),
            "--out",
            t.path().join("y").to_str().unwrap(),
            "--path",
            "*.nothing",
        ],
        &[("SESAME_PASSWORD", "pw")],
    );
    assert_eq!(r.status.code(), Some(2), "{}", text(&r));
    assert!(before == snapshot(&src));
}

#[test]
fn change_password_makes_a_copy_that_opens_with_the_new_password_only() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    backup(&src, Some(10));
    let before = snapshot(&src);
    let out = t.path().join("re");
    let newf = t.path().join("new");
    std::fs::write(&newf, "new secret\n").unwrap();
    let r = sesame(
        &[
            "change-password",
            src.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--new-password-file",
            newf.to_str().unwrap(),
        ],
        &[("SESAME_PASSWORD", "open sesame")],
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    let b = Backup::open(&out).unwrap();
    assert!(b.unlock(b"open sesame").is_err());
    let k = b.unlock(b"new secret").unwrap();
    let m = b.open_manifest(Some(&k)).unwrap();
    for (dom, p, c) in FILES {
        assert_eq!(b.read_file(m.find(dom, p).unwrap(), Some(&k)).unwrap(), *c);
    }
    // verify agrees; the old password is refused by the copy.
    let r = sesame(
        &["verify", out.to_str().unwrap()],
        &[("SESAME_PASSWORD", "new secret")],
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    // Wrong old password: exit 1; the new one from SESAME_NEW_PASSWORD.
    let r = sesame(
        &[
            "change-password",
            src.to_str().unwrap(),
            "--out",
            t.path().join("re2").to_str().unwrap(),
        ],
        &[("SESAME_PASSWORD", "wrong"), ("SESAME_NEW_PASSWORD", "x")],
    );
    assert_eq!(r.status.code(), Some(1), "{}", text(&r));
    assert!(
        before == snapshot(&src),
        "change-password modified the source"
    );
}
