//! The real fixtures in ../shared/fixtures: hash lines from hashcat and John, keybags from real devices.

use sesame_backup::{Backup, HashLine};
use std::path::PathBuf;

fn fixtures() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    if dir.is_dir() {
        Some(dir)
    } else {
        // In CI a missing fixture is a failure, never a silent pass.
        assert!(
            std::env::var_os("SESAME_REQUIRE_SHARED").is_none(),
            "SESAME_REQUIRE_SHARED is set but ../shared (the fixtures) is missing"
        );
        eprintln!(
            "SKIPPED: fixtures not found at {} (clone ../shared beside the repo)",
            dir.display()
        );
        None
    }
}

fn hash_lines(dir: &std::path::Path) -> Vec<(String, HashLine)> {
    std::fs::read_to_string(dir.join("hashlines.tsv"))
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let (pw, line) = l.split_once('\t').expect("password<TAB>line");
            (
                pw.to_string(),
                line.parse::<HashLine>()
                    .unwrap_or_else(|e| panic!("{line}: {e}")),
            )
        })
        .collect()
}

#[test]
fn every_fixture_hash_line_verifies_with_its_password_and_fails_with_another() {
    let Some(dir) = fixtures() else { return };
    let lines = hash_lines(&dir);
    assert!(lines.len() >= 6);
    let mut real_10m = 0;
    for (pw, h) in &lines {
        if h.dp.as_ref().is_some_and(|(dpic, _)| *dpic >= 1_000_000) {
            real_10m += 1;
        }
        assert!(h.verify(pw.as_bytes()), "{pw} should verify {h}");
        assert!(
            !h.verify(format!("{pw}x").as_bytes()),
            "{pw}x must not verify {h}"
        );
    }
    assert!(real_10m >= 1, "the fixture has one real 10M-iteration line");
}

#[test]
fn fixture_hash_lines_round_trip_through_display() {
    let Some(dir) = fixtures() else { return };
    let text = std::fs::read_to_string(dir.join("hashlines.tsv")).unwrap();
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        let line = l.split_once('\t').unwrap().1.trim();
        assert_eq!(line.parse::<HashLine>().unwrap().to_string(), line);
    }
}

#[test]
fn real_keybags_verify_with_test123_and_give_hash_lines_that_verify() {
    let Some(dir) = fixtures() else { return };
    for (name, version, dp) in [
        ("manifest-ios9-test123.plist", 9, false),
        ("manifest-ios10_2-test123.plist", 10, true),
    ] {
        let b = Backup::open(&dir.join("keybags").join(name)).unwrap();
        assert!(b.encrypted);
        let kb = b.keybag().unwrap();
        assert_eq!(kb.dpsl.is_some(), dp, "{name}");
        assert!(
            kb.class_keys.len() >= 10,
            "{name}: {} class keys",
            kb.class_keys.len()
        );
        let h = b.hash_line().unwrap();
        assert_eq!(h.version, version);
        assert!(h.verify(b"test123"));
        assert!(!h.verify(b"test124"));
        let keys = b.unlock(b"test123").unwrap();
        assert!(keys.classes().count() >= 3);
        assert!(matches!(
            b.unlock(b"wrong"),
            Err(sesame_backup::BackupError::WrongPassword)
        ));
        if dp {
            let mk = b.manifest_db_key(&keys).unwrap();
            assert!(mk.is_some(), "the iOS 10.2 ManifestKey unwraps");
        } else {
            assert!(b.manifest_key.is_none());
        }
        // The keybag survives a serialise/parse round trip.
        assert_eq!(&sesame_backup::Keybag::parse(&kb.to_bytes()).unwrap(), kb);
    }
}

#[test]
fn info_reads_the_real_ios14_info_plist() {
    let Some(dir) = fixtures() else { return };
    let b = Backup::open(&dir.join("decrypted-backup-ios14")).unwrap();
    assert!(!b.encrypted);
    let i = b.info();
    assert_eq!(i.product_type.as_deref(), Some("iPhone9,3"));
    assert_eq!(i.ios_version.as_deref(), Some("14.3"));
    assert_eq!(i.last_backup_date.as_deref(), Some("2021-12-03T19:33:13Z"));
    assert_eq!(i.encrypted, None, "no Manifest.plist in this fixture");
}
