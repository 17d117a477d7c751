//! Hostile input: damaged databases, records and ciphertext give errors, never panics.

use proptest::prelude::*;
use sesame_backup::builder::BackupBuilder;
use sesame_backup::mbfile::{decode_mbfile, encode_mbfile, MbFile};
use sesame_backup::{Backup, Manifest};
use std::path::Path;

fn db_with(rows: &[(Value, Value, Value, Value, Value)]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("m.db");
    let c = rusqlite::Connection::open(&p).unwrap();
    c.execute_batch("CREATE TABLE Files (fileID TEXT PRIMARY KEY, domain TEXT, relativePath TEXT, flags INTEGER, file BLOB)").unwrap();
    for r in rows {
        c.execute(
            "INSERT INTO Files VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![r.0, r.1, r.2, r.3, r.4],
        )
        .ok();
    }
    drop(c);
    std::fs::read(&p).unwrap()
}

type Value = rusqlite::types::Value;

fn any_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::Integer),
        any::<f64>().prop_map(Value::Real),
        "[a-z0-9./\\x00]{0,12}".prop_map(Value::Text),
        proptest::collection::vec(any::<u8>(), 0..64).prop_map(Value::Blob),
        Just(Value::Blob(encode_mbfile(&MbFile {
            size: u64::MAX,
            ..Default::default()
        }))),
    ]
}

#[test]
fn odd_rows_are_skipped_or_read_with_warnings() {
    let good = encode_mbfile(&MbFile {
        size: 3,
        relative_path: Some("p".into()),
        ..Default::default()
    });
    let bytes = db_with(&[
        (
            Value::Text("aa".into()),
            Value::Text("D".into()),
            Value::Text("p".into()),
            Value::Integer(1),
            Value::Blob(good.clone()),
        ),
        (
            Value::Null,
            Value::Text("D".into()),
            Value::Text("q".into()),
            Value::Integer(1),
            Value::Null,
        ),
        (
            Value::Text("bb".into()),
            Value::Null,
            Value::Text("q".into()),
            Value::Integer(1),
            Value::Null,
        ),
        (
            Value::Text("cc".into()),
            Value::Text("D".into()),
            Value::Null,
            Value::Text("x".into()),
            Value::Blob(b"garbage".to_vec()),
        ),
        (
            Value::Integer(7),
            Value::Blob(vec![0xff, 0xfe]),
            Value::Integer(3),
            Value::Real(2.0),
            Value::Text("nope".into()),
        ),
    ]);
    let m = Manifest::from_db_bytes(&bytes).unwrap();
    assert!(m.find("D", "p").is_some());
    assert!(m.warnings.len() >= 3, "{:?}", m.warnings);
    assert!(m.entries().len() <= 3);
}

#[test]
fn not_sqlite_is_an_error() {
    assert!(Manifest::from_db_bytes(b"").is_err());
    assert!(Manifest::from_db_bytes(&[0u8; 4096]).is_err());
    let mut fake = b"SQLite format 3\0".to_vec();
    fake.extend([0x55u8; 1000]);
    assert!(Manifest::from_db_bytes(&fake).is_err());
    // A real SQLite database without a Files table.
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.db");
    rusqlite::Connection::open(&p)
        .unwrap()
        .execute_batch("CREATE TABLE t(a)")
        .unwrap();
    let e = Manifest::from_db_bytes(&std::fs::read(&p).unwrap())
        .unwrap_err()
        .to_string();
    assert!(e.contains("Files"), "{e}");
    // Through a backup folder: the error names Manifest.db.
    let b = dir.path().join("b");
    BackupBuilder::new()
        .file("D", "f", b"x".to_vec())
        .write(&b)
        .unwrap();
    std::fs::write(b.join("Manifest.db"), b"this is not a database").unwrap();
    let e = Backup::open(&b)
        .unwrap()
        .open_manifest(None)
        .unwrap_err()
        .to_string();
    assert!(e.contains("Manifest.db") && e.contains("SQLite"), "{e}");
}

fn encrypted_backup(dir: &Path, sha256: Option<u32>) -> (Backup, sesame_backup::UnlockedKeys) {
    BackupBuilder::new()
        .password("pw")
        .iterations(10, sha256)
        .file("D", "small", b"hello world".to_vec())
        .file("D", "big", vec![7u8; 100_000])
        .write(dir)
        .unwrap();
    let b = Backup::open(dir).unwrap();
    let k = b.unlock(b"pw").unwrap();
    (b, k)
}

#[test]
fn truncated_and_garbled_ciphertext_give_errors_or_warnings() {
    let dir = tempfile::tempdir().unwrap();
    let (b, k) = encrypted_backup(dir.path(), Some(10));
    let m = b.open_manifest(Some(&k)).unwrap();
    let big = m.find("D", "big").unwrap();
    let path = b.blob_path(&big.file_id);
    let orig = std::fs::read(&path).unwrap();
    // Not a whole number of blocks.
    std::fs::write(&path, &orig[..orig.len() - 5]).unwrap();
    assert!(b.read_file(big, Some(&k)).is_err());
    // Last blocks gone: an error, or the bytes kept with a warning (Size disagrees).
    for cut in [16, 32, 48] {
        std::fs::write(&path, &orig[..orig.len() - cut]).unwrap();
        let mut out = Vec::new();
        if let Ok(rep) = b.copy_file(big, Some(&k), &mut out) {
            assert!(rep.warning.is_some(), "cut {cut}");
        }
    }
    // A lone garbage block with an implausible Size: bad padding is an error.
    // (The key is random: the block may end in valid padding by chance; then a warning.)
    std::fs::write(&path, [0x42u8; 16]).unwrap();
    let mut out = Vec::new();
    match b.copy_file(big, Some(&k), &mut out) {
        Ok(rep) => assert!(rep.warning.is_some()),
        Err(e) => assert!(e.to_string().contains("padding"), "{e}"),
    }
    // Garbled last block: kept only with a warning.
    let mut g = orig.clone();
    let n = g.len();
    g[n - 20] ^= 0x5a;
    std::fs::write(&path, &g).unwrap();
    let mut out = Vec::new();
    if let Ok(rep) = b.copy_file(big, Some(&k), &mut out) {
        assert!(rep.warning.is_some());
    }
    // Missing blob.
    std::fs::remove_file(&path).unwrap();
    assert!(b.read_file(big, Some(&k)).is_err());
    // A damaged encrypted Manifest.db.
    let mdb = dir.path().join("Manifest.db");
    let mut db = std::fs::read(&mdb).unwrap();
    db.truncate(db.len() - 3);
    std::fs::write(&mdb, &db).unwrap();
    assert!(b.open_manifest(Some(&k)).is_err());
    db.truncate(db.len() - 13);
    db[0] ^= 1;
    std::fs::write(&mdb, &db).unwrap();
    assert!(b.open_manifest(Some(&k)).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_rows_never_panic(rows in proptest::collection::vec((any_value(), any_value(), any_value(), any_value(), any_value()), 0..12)) {
        let bytes = db_with(&rows);
        if let Ok(m) = Manifest::from_db_bytes(&bytes) {
            let _ = m.filter(Some("D"), Some("*"));
            for e in m.entries() {
                let _ = e.size();
            }
        }
    }

    #[test]
    fn garbled_databases_never_panic(flips in proptest::collection::vec((0usize..8192, any::<u8>()), 1..16), cut in 0usize..9000) {
        let good = encode_mbfile(&MbFile { size: 3, relative_path: Some("p".into()), ..Default::default() });
        let mut bytes = db_with(&[(Value::Text("aa".into()), Value::Text("D".into()), Value::Text("p".into()), Value::Integer(1), Value::Blob(good))]);
        for (i, x) in flips {
            let n = bytes.len();
            bytes[i % n] ^= x;
        }
        bytes.truncate(cut.max(16).min(bytes.len()));
        let _ = Manifest::from_db_bytes(&bytes);
    }

    #[test]
    fn truncated_or_garbled_mbfile_never_panics(cut in 0usize..600, flips in proptest::collection::vec((0usize..600, any::<u8>()), 0..6)) {
        let mut b = encode_mbfile(&MbFile { size: 9, encryption_key: Some(vec![1; 44]), target: Some("t".into()), relative_path: Some("x".into()), ..Default::default() });
        for (i, x) in flips {
            let n = b.len();
            b[i % n] ^= x;
        }
        b.truncate(cut.min(b.len()));
        let _ = decode_mbfile(&b);
    }

    #[test]
    fn random_blobs_and_sizes_never_panic(blob in proptest::collection::vec(any::<u8>(), 0..200), size in any::<u64>()) {
        let dir = tempfile::tempdir().unwrap();
        let (b, k) = encrypted_backup(dir.path(), None);
        let m = b.open_manifest(Some(&k)).unwrap();
        let mut e = m.find("D", "small").unwrap().clone();
        std::fs::write(b.blob_path(&e.file_id), &blob).unwrap();
        e.meta.as_mut().unwrap().size = size;
        let mut out = Vec::new();
        if let Ok(rep) = b.copy_file(&e, Some(&k), &mut out) {
            prop_assert_eq!(rep.bytes_written as usize, out.len());
            prop_assert!(out.len() <= blob.len());
        }
    }
}
