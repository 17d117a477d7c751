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

/// Every `Files` row of a Manifest.db: fileID -> file column.
fn rows(db: &std::path::Path) -> BTreeMap<String, Option<Vec<u8>>> {
    let c = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .unwrap();
    let mut st = c.prepare("SELECT fileID, file FROM Files").unwrap();
    let v = st
        .query_map([], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, Option<Vec<u8>>>(1)?))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    v
}

/// Blob files (two-letter folder / fileID) under a backup folder, with their bytes.
fn blobs(dir: &std::path::Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for d in std::fs::read_dir(dir).unwrap().flatten() {
        let name = d.file_name().to_string_lossy().into_owned();
        if name.len() == 2 && d.file_type().unwrap().is_dir() {
            for f in std::fs::read_dir(d.path()).unwrap().flatten() {
                out.insert(
                    format!("{name}/{}", f.file_name().to_string_lossy()),
                    std::fs::read(f.path()).unwrap(),
                );
            }
        }
    }
    out
}

#[test]
fn a_copy_keeps_every_blob_and_every_record_field_but_the_key() {
    let Some(dir) = fixture() else { return };
    let b = Backup::open(&dir).unwrap();
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("copy");
    let rep =
        sesame_backup::write::decrypt_backup(&b, None, &out, &Default::default(), &|_| {}).unwrap();
    assert!(rep.failed.is_empty(), "{:?}", rep.failed);
    // The same blobs, byte for byte: none invented for files that had none, and the one
    // without a Manifest.db row kept too.
    let (src, copy) = (blobs(&dir), blobs(&out));
    assert_eq!(src.len(), 11);
    assert_eq!(src, copy);
    assert_eq!(rep.orphan_blobs, 1);
    // Every record: the source's with EncryptionKey taken out, nothing else changed.
    let (a, z) = (
        rows(&dir.join("Manifest.db")),
        rows(&out.join("Manifest.db")),
    );
    assert_eq!(a.len(), z.len());
    let mut stripped = 0;
    for (id, file) in &a {
        let got = &z[id];
        match file {
            Some(f) => {
                let want = sesame_backup::mbfile::without_encryption_key(f).unwrap();
                stripped += usize::from(want != *f);
                assert_eq!(got.as_ref(), Some(&want), "{id}");
            }
            None => assert!(got.is_none(), "{id}"),
        }
    }
    assert!(stripped > 1000, "{stripped}");
}
