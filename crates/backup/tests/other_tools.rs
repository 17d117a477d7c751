//! What other tools leave behind (FORMAT.md, "What other tools leave behind"): copies that mvt
//! and iOSbackup decrypted but left marked encrypted, rows with odd flags, MBFile records that
//! must survive a copy exactly, fractional plist dates, empty Status.plist files.
//!
//! The real fixtures are required here: a missing fixture is a failure, not a skip.

use plist::Value;
use sesame_backup::builder::{file_id, BackupBuilder};
use sesame_backup::mbfile::{decode_mbfile, encode_mbfile, without_encryption_key, MbFile};
use sesame_backup::{Backup, EntryKind, UnlockedKeys};
use std::path::{Path, PathBuf};

fn fixtures() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    assert!(
        dir.join("decrypted-backup-ios14/Manifest.db").is_file(),
        "the real fixtures are required: not found at {}",
        dir.display()
    );
    dir
}

fn copy_tree(src: &Path, dst: &Path) {
    std::fs::create_dir_all(dst).unwrap();
    for e in std::fs::read_dir(src).unwrap() {
        let e = e.unwrap();
        let to = dst.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&e.path(), &to);
        } else {
            std::fs::write(&to, std::fs::read(e.path()).unwrap()).unwrap();
        }
    }
}

/// A small real SQLite database, as bytes.
fn sqlite_bytes(dir: &Path) -> Vec<u8> {
    let p = dir.join("sms.db");
    let _ = std::fs::remove_file(&p);
    let c = rusqlite::Connection::open(&p).unwrap();
    c.execute_batch(
        "CREATE TABLE message(ROWID INTEGER PRIMARY KEY, text TEXT);
         INSERT INTO message(text) VALUES ('hi'), ('there');",
    )
    .unwrap();
    drop(c);
    std::fs::read(&p).unwrap()
}

/// Bytes that look like ciphertext (a plain file of this kind is the hard case).
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed;
    (0..n)
        .map(|_| {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as u8
        })
        .collect()
}

fn contents(tmp: &Path) -> Vec<(&'static str, &'static str, Vec<u8>)> {
    vec![
        ("HomeDomain", "Library/SMS/sms.db", sqlite_bytes(tmp)),
        ("HomeDomain", "Library/Notes/five.txt", b"hello".to_vec()),
        (
            "HomeDomain",
            "Library/sixteen.txt",
            b"exactly16bytes!!".to_vec(),
        ),
        ("MediaDomain", "Media/noise.bin", noise(4096, 7)),
        ("MediaDomain", "Media/noise-small.bin", noise(32, 9)),
        ("HomeDomain", "Library/empty", Vec::new()),
        (
            "AppDomain-com.example",
            "Documents/big.txt",
            b"line of text\n".repeat(20_000),
        ),
    ]
}

/// An encrypted (iOS 10.2+ scheme) backup of `contents`, with a folder and a symlink.
fn encrypted(dir: &Path, tmp: &Path) -> (Backup, UnlockedKeys) {
    let mut bb = BackupBuilder::new()
        .password("pw")
        .iterations(10, Some(10))
        .dir("HomeDomain", "Library")
        .symlink("HomeDomain", "Library/link", "SMS/sms.db");
    for (d, p, c) in contents(tmp) {
        bb = bb.file(d, p, c);
    }
    let built = bb.write(dir).unwrap();
    let b = Backup::open(dir).unwrap();
    (b, UnlockedKeys::from_class_keys(built.class_keys))
}

/// What mvt (through iphone_backup_decrypt) and iOSbackup leave: Manifest.db and every blob
/// decrypted in place, Manifest.plist untouched (IsEncrypted, BackupKeyBag, ManifestKey), the
/// MBFile records untouched (EncryptionKey still there).
fn mvt_style_copy(src: &Backup, keys: &UnlockedKeys, dst: &Path) {
    copy_tree(&src.root, dst);
    let db = src.manifest_db_bytes(Some(keys)).unwrap();
    std::fs::write(dst.join("Manifest.db"), &*db).unwrap();
    let m = src.open_manifest(Some(keys)).unwrap();
    for e in m.entries().iter().filter(|e| e.kind == EntryKind::File) {
        let plain = src.read_file(e, Some(keys)).unwrap();
        let p = dst.join(&e.file_id[..2]).join(&e.file_id);
        if p.exists() {
            std::fs::write(p, plain).unwrap();
        }
    }
}

#[test]
fn an_mvt_style_copy_reads_without_a_password_and_with_one() {
    let tmp = tempfile::tempdir().unwrap();
    let (b, keys) = encrypted(&tmp.path().join("src"), tmp.path());
    assert!(!b.already_decrypted());
    assert!(b.needs_password());
    let dst = tmp.path().join("mvt");
    mvt_style_copy(&b, &keys, &dst);

    let c = Backup::open(&dst).unwrap();
    assert!(c.encrypted, "Manifest.plist still says encrypted");
    assert!(c.keybag.is_some() && c.manifest_key.is_some());
    assert!(c.already_decrypted());
    assert!(!c.needs_password());
    assert!(c.info().already_decrypted);
    assert!(!b.info().already_decrypted);

    let want = b.open_manifest(Some(&keys)).unwrap();
    for k in [None, Some(&keys)] {
        let m = c.open_manifest(k).unwrap();
        assert!(m.warnings.is_empty(), "{:?}", m.warnings);
        let ids = |m: &sesame_backup::Manifest| {
            let mut v: Vec<_> = m
                .entries()
                .iter()
                .map(|e| {
                    (
                        e.file_id.clone(),
                        e.domain.clone(),
                        e.relative_path.clone(),
                        e.kind.flags(),
                    )
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(ids(&m), ids(&want));
        for (d, p, body) in contents(tmp.path()) {
            let e = m.find(d, p).unwrap();
            let mut out = Vec::new();
            let rep = c.copy_file(e, k, &mut out).unwrap();
            assert!(out == body, "{d}/{p} with keys {}", k.is_some());
            assert_eq!(rep.bytes_written, body.len() as u64);
            assert_eq!(
                rep.warning, None,
                "{d}/{p}: plain is what this copy should hold"
            );
        }
    }
}

#[test]
fn plain_blobs_in_a_still_encrypted_backup_are_copied_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let (b, keys) = encrypted(&tmp.path().join("src"), tmp.path());
    let m = b.open_manifest(Some(&keys)).unwrap();
    let all = contents(tmp.path());
    // iOSbackup-style: some blobs decrypted in place, Manifest.db still encrypted.
    for (d, p, body) in &all {
        if [
            "Library/Notes/five.txt",
            "Library/SMS/sms.db",
            "Documents/big.txt",
        ]
        .contains(p)
        {
            std::fs::write(b.blob_path(&file_id(d, p)), body).unwrap();
        }
    }
    assert!(!b.already_decrypted());
    for (d, p, body) in &all {
        let e = m.find(d, p).unwrap();
        let mut out = Vec::new();
        let rep = b.copy_file(e, Some(&keys), &mut out).unwrap();
        assert!(out == *body, "{d}/{p}");
        let plain_now = [
            "Library/Notes/five.txt",
            "Library/SMS/sms.db",
            "Documents/big.txt",
        ]
        .contains(p);
        if plain_now {
            let w = rep.warning.unwrap_or_default();
            assert!(w.contains("already plain"), "{d}/{p}: {w}");
        } else {
            assert_eq!(rep.warning, None, "{d}/{p}");
        }
    }
    // Without keys: a blob that cannot be ciphertext (5 bytes, its Size) is taken as is;
    // one that could be needs the password.
    let five = m.find("HomeDomain", "Library/Notes/five.txt").unwrap();
    let rep = b.copy_file(five, None, &mut Vec::new()).unwrap();
    assert!(rep.warning.unwrap().contains("already plain"));
    let noise = m.find("MediaDomain", "Media/noise.bin").unwrap();
    assert!(matches!(
        b.read_file(noise, None),
        Err(sesame_backup::BackupError::PasswordNeeded)
    ));
}

#[test]
fn the_real_ios14_copy_marked_encrypted_reads_without_a_password() {
    // The real decrypted iOS 14 backup (records still carry EncryptionKey) under a real
    // encrypted Manifest.plist: exactly what mvt leaves.
    let fx = fixtures();
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("b");
    copy_tree(&fx.join("decrypted-backup-ios14"), &dst);
    std::fs::copy(
        fx.join("keybags/manifest-ios10_2-test123.plist"),
        dst.join("Manifest.plist"),
    )
    .unwrap();
    let b = Backup::open(&dst).unwrap();
    assert!(b.encrypted && b.manifest_key.is_some());
    assert!(b.already_decrypted());
    assert!(!b.needs_password());
    let m = b.open_manifest(None).unwrap();
    assert_eq!(m.len(), 3721);
    let mut read = 0;
    for e in m.entries().iter().filter(|e| e.kind == EntryKind::File) {
        let p = b.blob_path(&e.file_id);
        if !p.is_file() {
            continue;
        }
        let got = b.read_file(e, None).unwrap();
        assert!(got == std::fs::read(&p).unwrap(), "{}", e.relative_path);
        read += 1;
    }
    assert_eq!(
        read, 10,
        "the fixture's 10 blobs that have a row (the 11th has none)"
    );
}

#[test]
fn rows_with_unexpected_flags_take_their_kind_from_the_mbfile_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let meta = |mode: u32, path: &str, target: Option<&str>| {
        encode_mbfile(&MbFile {
            mode,
            relative_path: Some(path.into()),
            target: target.map(Into::into),
            last_modified: 1_600_000_000,
            ..Default::default()
        })
    };
    let f0 = file_id("HomeDomain", "Library/flag0.txt");
    let d0 = file_id("HomeDomain", "Library/Dir0");
    let l9 = file_id("HomeDomain", "Library/Dir0/link9");
    let odd = file_id("HomeDomain", "Library/odd");
    let built = BackupBuilder::new()
        .password("pw")
        .iterations(10, Some(10))
        .raw_row(
            &f0,
            Some("HomeDomain"),
            Some("Library/flag0.txt"),
            Some(0),
            None,
            Some(b"flags were 0".to_vec()),
        )
        .raw_row(
            &d0,
            Some("HomeDomain"),
            Some("Library/Dir0"),
            Some(0),
            Some(meta(0o040755, "Library/Dir0", None)),
            None,
        )
        .raw_row(
            &l9,
            Some("HomeDomain"),
            Some("Library/Dir0/link9"),
            Some(9),
            Some(meta(0o120755, "Library/Dir0/link9", Some("inner/file"))),
            None,
        )
        .raw_row(
            &odd,
            Some("HomeDomain"),
            Some("Library/odd"),
            Some(0),
            Some(meta(0o010644, "Library/odd", None)),
            None,
        )
        .write(&src)
        .unwrap();
    let keys = UnlockedKeys::from_class_keys(built.class_keys);
    let b = Backup::open(&src).unwrap();
    let m = b.open_manifest(Some(&keys)).unwrap();
    let kind = |p: &str| m.find("HomeDomain", p).unwrap().kind;
    assert_eq!(kind("Library/flag0.txt"), EntryKind::File);
    assert_eq!(kind("Library/Dir0"), EntryKind::Directory);
    assert_eq!(kind("Library/Dir0/link9"), EntryKind::Symlink);
    assert_eq!(
        kind("Library/odd"),
        EntryKind::Other(0),
        "a FIFO stays other"
    );
    let f = m.find("HomeDomain", "Library/flag0.txt").unwrap();
    assert_eq!(b.read_file(f, Some(&keys)).unwrap(), b"flags were 0");

    // extract and decrypt write it.
    let all = m.filter(None, None);
    let x = tmp.path().join("x");
    let rep =
        sesame_backup::write::extract(&b, Some(&keys), &all, &x, &Default::default(), &|_| {})
            .unwrap();
    assert_eq!(rep.files, 1, "{rep:?}");
    assert_eq!(
        std::fs::read(x.join("HomeDomain/Library/flag0.txt")).unwrap(),
        b"flags were 0"
    );
    assert!(x.join("HomeDomain/Library/Dir0").is_dir());
    #[cfg(unix)]
    assert_eq!(
        std::fs::read_link(x.join("HomeDomain/Library/Dir0/link9")).unwrap(),
        Path::new("inner/file")
    );
    let out = tmp.path().join("dec");
    let rep =
        sesame_backup::write::decrypt_backup(&b, Some(&keys), &out, &Default::default(), &|_| {})
            .unwrap();
    assert_eq!(rep.files, 1, "{rep:?}");
    assert_eq!(
        std::fs::read(out.join(&f0[..2]).join(&f0)).unwrap(),
        b"flags were 0"
    );
}

/// A value with every UID replaced by what it names (`$null` kept as the string).
fn deep(v: &Value, objects: &[Value], depth: usize) -> Value {
    assert!(depth < 32, "UIDs nest too deep");
    match v {
        Value::Uid(u) => deep(&objects[u.get() as usize], objects, depth + 1),
        Value::Array(a) => Value::Array(a.iter().map(|x| deep(x, objects, depth + 1)).collect()),
        Value::Dictionary(d) => Value::Dictionary(
            d.iter()
                .map(|(k, x)| (k.clone(), deep(x, objects, depth + 1)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// The MBFile root dict of an archive, UIDs resolved, as (key, value) pairs in order.
fn root_fields(blob: &[u8]) -> Vec<(String, Value)> {
    let v = Value::from_reader(std::io::Cursor::new(blob)).unwrap();
    let a = v.as_dictionary().unwrap();
    let objects = a["$objects"].as_array().unwrap();
    let root = &a["$top"].as_dictionary().unwrap()["root"];
    match deep(root, objects, 0) {
        Value::Dictionary(d) => d.into_iter().collect(),
        other => panic!("root is {other:?}"),
    }
}

#[test]
fn stripping_encryption_keys_keeps_every_other_field_of_every_real_ios14_record() {
    let fx = fixtures();
    let conn = rusqlite::Connection::open_with_flags(
        fx.join("decrypted-backup-ios14/Manifest.db"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let mut st = conn.prepare("SELECT fileID, file FROM Files").unwrap();
    let rows: Vec<(String, Vec<u8>)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(rows.len(), 3721);
    let (mut stripped_n, mut uid_minus2, mut gid_minus2, mut xattrs) = (0, 0, 0, 0);
    for (id, blob) in &rows {
        let orig = decode_mbfile(blob).unwrap();
        let out = without_encryption_key(blob).unwrap();
        let new = decode_mbfile(&out).unwrap();
        // Every decoded field but the key.
        assert_eq!(new.encryption_key, None, "{id}");
        assert_eq!(
            MbFile {
                encryption_key: None,
                ..orig.clone()
            },
            new,
            "{id}"
        );
        // Every field of the archive, in order, with its value and shape.
        let mut want = root_fields(blob);
        let had_key = want.iter().any(|(k, _)| k == "EncryptionKey");
        want.retain(|(k, _)| k != "EncryptionKey");
        assert_eq!(root_fields(&out), want, "{id}");
        if had_key {
            stripped_n += 1;
            let wrapped = &orig.encryption_key.as_ref().unwrap()[4..];
            assert!(
                !out.windows(wrapped.len()).any(|w| w == wrapped),
                "{id}: the wrapped key is gone, not just unreferenced"
            );
        } else {
            assert_eq!(
                &out, blob,
                "{id}: a record without a key is left byte for byte"
            );
        }
        // ExtendedAttributes stay the embedded data they are.
        if let Some((_, x)) = want.iter().find(|(k, _)| k == "ExtendedAttributes") {
            assert!(matches!(x, Value::Data(_)), "{id}: {x:?}");
            xattrs += 1;
        }
        uid_minus2 += usize::from(new.user_id == -2);
        gid_minus2 += usize::from(new.group_id == -2);
        // encode_mbfile keeps the signed ids too.
        let re = decode_mbfile(&encode_mbfile(&new)).unwrap();
        assert_eq!((re.user_id, re.group_id), (orig.user_id, orig.group_id));
        assert_eq!(re.extended_attributes, orig.extended_attributes);
    }
    assert_eq!(stripped_n, 1089);
    assert_eq!(xattrs, 77);
    assert_eq!(uid_minus2, 98, "UserID -2 (nobody) survives");
    assert_eq!(gid_minus2, 112, "GroupID -2 (nobody) survives");
}

/// Every Date inside `v`.
fn dates(v: &Value, out: &mut Vec<std::time::SystemTime>) {
    match v {
        Value::Date(d) => out.push((*d).into()),
        Value::Array(a) => a.iter().for_each(|x| dates(x, out)),
        Value::Dictionary(d) => d.values().for_each(|x| dates(x, out)),
        _ => {}
    }
}

#[test]
fn plists_the_builder_writes_carry_whole_second_dates() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, pw) in [("plain", None), ("enc", Some("pw"))] {
        let dir = tmp.path().join(name);
        let mut bb = BackupBuilder::new().file("HomeDomain", "a", b"x".to_vec());
        if let Some(pw) = pw {
            bb = bb.password(pw).iterations(10, Some(10));
        }
        bb.write(&dir).unwrap();
        let mut n = 0;
        for f in ["Info.plist", "Manifest.plist", "Status.plist"] {
            let bytes = std::fs::read(dir.join(f)).unwrap();
            let mut ds = Vec::new();
            dates(
                &Value::from_reader(std::io::Cursor::new(&bytes)).unwrap(),
                &mut ds,
            );
            for d in &ds {
                let since = d.duration_since(std::time::UNIX_EPOCH).unwrap();
                assert_eq!(since.subsec_nanos(), 0, "{name}/{f}: {d:?}");
            }
            n += ds.len();
            if !bytes.starts_with(b"bplist") {
                let text = String::from_utf8(bytes).unwrap();
                for part in text.split("<date>").skip(1) {
                    let date = part.split("</date>").next().unwrap();
                    assert!(!date.contains('.'), "{name}/{f}: <date>{date}</date>");
                }
            }
        }
        assert!(n >= 3, "{name}: {n} dates");
    }
}

#[test]
fn an_empty_or_partial_status_plist_means_unknown_not_unfinished() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("b");
    BackupBuilder::new()
        .file("HomeDomain", "a", b"x".to_vec())
        .write(&dir)
        .unwrap();
    let status = dir.join("Status.plist");
    let info = |bytes: Option<&[u8]>| {
        match bytes {
            Some(b) => std::fs::write(&status, b).unwrap(),
            None => {
                let _ = std::fs::remove_file(&status);
            }
        }
        Backup::open(&dir).unwrap().info()
    };
    let write = |d: plist::Dictionary| {
        let mut v = Vec::new();
        Value::Dictionary(d).to_writer_xml(&mut v).unwrap();
        v
    };
    let mut finished = plist::Dictionary::new();
    finished.insert("SnapshotState".into(), "finished".into());
    let mut uploading = plist::Dictionary::new();
    uploading.insert("SnapshotState".into(), "uploading".into());
    let mut no_state = plist::Dictionary::new();
    no_state.insert("BackupState".into(), "new".into());
    assert_eq!(info(Some(&write(finished))).complete, Some(true));
    assert_eq!(info(Some(&write(uploading))).complete, Some(false));
    for (what, bytes) in [
        ("empty", Some(&b""[..])),
        ("blank", Some(&b" \n"[..])),
        ("empty dict", Some(&write(plist::Dictionary::new())[..])),
        ("no SnapshotState", Some(&write(no_state.clone())[..])),
        ("missing", None),
    ] {
        let i = info(bytes);
        assert_eq!(i.complete, None, "{what}");
        assert!(
            i.warnings.iter().all(|w| !w.contains("Status.plist")),
            "{what}: {:?}",
            i.warnings
        );
    }
    // A damaged one is still reported.
    let i = info(Some(b"bplist00garbage"));
    assert_eq!(i.complete, None);
    assert!(
        i.warnings.iter().any(|w| w.contains("Status.plist")),
        "{:?}",
        i.warnings
    );
}
