//! The real iOS 14 fixture: a decrypted backup whose MBFile records still carry EncryptionKey
//! and whose blobs do not match their recorded Size.

use sesame_backup::{Backup, EntryKind};
use std::collections::BTreeMap;
use std::path::PathBuf;

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
        eprintln!(
            "SKIPPED: fixture not found at {} (clone ../shared beside the repo)",
            dir.display()
        );
        None
    }
}

#[test]
fn lists_all_3721_entries_with_their_domains_and_kinds() {
    let Some(dir) = fixture() else { return };
    let b = Backup::open(&dir).unwrap();
    let m = b.open_manifest(None).unwrap();
    assert_eq!(m.len(), 3721);
    assert!(
        m.warnings.is_empty(),
        "{:?}",
        &m.warnings[..m.warnings.len().min(3)]
    );
    let mut kinds = BTreeMap::new();
    for e in m.entries() {
        *kinds.entry(e.kind.name()).or_insert(0) += 1;
        assert!(e.meta.is_some(), "{} has an MBFile record", e.file_id);
    }
    assert_eq!(kinds["file"], 1089);
    assert_eq!(kinds["directory"], 2618);
    assert_eq!(kinds["symlink"], 14);
    let domains: std::collections::BTreeSet<_> =
        m.entries().iter().map(|e| e.domain.as_str()).collect();
    assert!(domains.contains("HomeDomain"));
    assert!(domains.contains("AppDomain-ch.icoaching.typewise"));
    assert!(domains.len() > 50, "{} domains", domains.len());
    // Symlinks carry their targets; file records their keys.
    let link = m
        .find(
            "AppDomain-ch.icoaching.typewise",
            "Library/WebKit/WebsiteData/IndexedDB/v0",
        )
        .unwrap();
    assert_eq!(link.kind, EntryKind::Symlink);
    assert!(link
        .meta
        .as_ref()
        .unwrap()
        .target
        .as_deref()
        .unwrap()
        .starts_with("/var/mobile/Containers/"));
    let sms = m.find("HomeDomain", "Library/SMS/sms.db").unwrap();
    let meta = sms.meta.as_ref().unwrap();
    assert_eq!(meta.size, 278_528);
    assert_eq!(meta.protection_class, 4);
    assert_eq!(meta.encryption_key.as_ref().unwrap().len(), 44);
    assert_eq!(meta.relative_path.as_deref(), Some("Library/SMS/sms.db"));
    assert_eq!(
        m.filter(Some("HomeDomain"), Some("Library/SMS/*"))
            .iter()
            .filter(|e| e.relative_path == "Library/SMS/sms.db")
            .count(),
        1
    );
}

#[test]
fn sms_db_comes_out_byte_identical_to_its_blob_despite_size() {
    let Some(dir) = fixture() else { return };
    let b = Backup::open(&dir).unwrap();
    let m = b.open_manifest(None).unwrap();
    let sms = m.find("HomeDomain", "Library/SMS/sms.db").unwrap();
    let blob = std::fs::read(dir.join("3d/3d0d7e5fb2ce288813306e4d4636395e047a3d28")).unwrap();
    let got = b.read_file(sms, None).unwrap();
    assert_eq!(got, blob);
    let mut out = Vec::new();
    let rep = b.copy_file(sms, None, &mut out).unwrap();
    assert_eq!(rep.bytes_written, blob.len() as u64);
    assert!(rep.warning.is_some(), "the Size mismatch is reported");
}

#[test]
fn extract_writes_the_fixture_tree_without_touching_it() {
    let Some(dir) = fixture() else { return };
    let b = Backup::open(&dir).unwrap();
    let m = b.open_manifest(None).unwrap();
    let out = tempfile::tempdir().unwrap();
    let sel = m.filter(Some("HomeDomain"), None);
    let rep =
        sesame_backup::write::extract(&b, None, &sel, out.path(), &Default::default(), &|_| {})
            .unwrap();
    let blob = std::fs::read(dir.join("3d/3d0d7e5fb2ce288813306e4d4636395e047a3d28")).unwrap();
    assert_eq!(
        std::fs::read(out.path().join("HomeDomain/Library/SMS/sms.db")).unwrap(),
        blob
    );
    assert!(rep.files >= 1);
    let mtime = std::fs::metadata(out.path().join("HomeDomain/Library/SMS/sms.db"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        mtime
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
        1_638_501_497
    );
}
