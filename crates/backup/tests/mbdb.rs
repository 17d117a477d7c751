//! Backups from iOS 4 to 9 (Manifest.mbdb, blobs flat in the folder): built in every kind
//! (encrypted and not, with and without iOS 4's Manifest.mbdx), read through the same entry
//! type as later backups, and written out by every writer, with the source byte-identical
//! after each. The parser gets hostile input: random bytes, truncations, 0xFFFF lengths,
//! absurd sizes, paths that climb out. pyiosbackup, where installed, reads what was built.

use proptest::prelude::*;
use sesame_backup::builder::{file_id, BackupBuilder};
use sesame_backup::keychain::{read_keychain, ItemClass, ItemSpec, ItemState};
use sesame_backup::mbdb::{self, Record};
use sesame_backup::mbfile::xattr_pairs;
use sesame_backup::write::{decrypt_backup, extract, rekey_backup, WriteOptions};
use sesame_backup::{Backup, BackupError, EntryKind, Era, Manifest, UnlockedKeys};
use std::path::{Path, PathBuf};

const PASSWORD: &str = "old phone";
/// "Café" with the accent as a combining character (NFD), as iOS stores names.
const NFD_NAME: &str = "Library/Notes/Cafe\u{301}.txt";

/// Every file under `dir` with its bytes (links as their targets), to prove nothing changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(p);
            } else if ft.is_symlink() {
                let t = std::fs::read_link(&p).unwrap();
                out.push((p, t.into_os_string().into_encoded_bytes()));
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn pattern(n: usize, k: u8) -> Vec<u8> {
    (0..n)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(k))
        .collect()
}

/// (domain, path, contents) of every file the built backups hold.
fn contents() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    vec![
        // Over two 4 MiB chunks, and not a whole number of AES blocks.
        (
            "CameraRollDomain",
            "Media/DCIM/100APPLE/IMG_0001.MOV",
            pattern(9 * 1024 * 1024 + 5, 1),
        ),
        ("HomeDomain", "Library/SMS/sms.db", pattern(278_528, 2)),
        ("HomeDomain", "Library/empty", Vec::new()),
        ("HomeDomain", "Library/fifteen", pattern(15, 3)),
        ("HomeDomain", "Library/sixteen", pattern(16, 4)),
        ("HomeDomain", "Library/seventeen", pattern(17, 5)),
        ("HomeDomain", NFD_NAME, "crème brûlée".as_bytes().to_vec()),
        (
            "AppDomain-com.example.app",
            "Documents/notes.txt",
            b"remember the milk".to_vec(),
        ),
        (
            "RootDomain",
            "Library/Caches/nobody.plist",
            b"owned by nobody".to_vec(),
        ),
    ]
}

fn keychain_items() -> Vec<ItemSpec> {
    vec![
        ItemSpec::new(
            ItemClass::GenericPassword,
            7,
            &[("svce", "AirPort"), ("acct", "Old Home Wi-Fi")],
            b"2011-wifi",
        ),
        ItemSpec::new(
            ItemClass::GenericPassword,
            11,
            &[("svce", "com.example.bound"), ("acct", "z")],
            b"never-shown",
        ),
    ]
}

/// A backup of iOS 4 to 9 with every kind of entry: directories (the domain root too),
/// files large and empty, a decomposed name, symlinks (one pointing outside), an owner of
/// -2 (nobody), extended attributes (one binary), a keychain, and (encrypted) a file of a
/// class only the device can open.
fn builder(password: Option<&str>, ios4: bool) -> BackupBuilder {
    let mut b = if ios4 {
        BackupBuilder::new().mbdx()
    } else {
        BackupBuilder::new().era_mbdb()
    }
    .iterations(10, Some(10))
    .modified(1_300_000_000)
    .dir("HomeDomain", "")
    .dir("HomeDomain", "Library")
    .dir("HomeDomain", "Library/SMS")
    .dir("HomeDomain", "Library/Notes")
    .symlink("HomeDomain", "Library/link", "SMS/sms.db")
    .symlink("HomeDomain", "Library/abs", "/var/mobile/Library")
    .owner("RootDomain", "Library/Caches/nobody.plist", -2, -2)
    .xattr(
        "HomeDomain",
        "Library/SMS/sms.db",
        "com.apple.text",
        "plain words",
    )
    .xattr(
        "HomeDomain",
        "Library/SMS/sms.db",
        "com.apple.binary",
        vec![0, 0xFF, 0xFE, 7],
    )
    .keychain(keychain_items());
    if let Some(p) = password {
        b = b
            .password(p)
            .file_with_class("HomeDomain", "Library/device-only", b"x".to_vec(), 11);
    }
    for (d, p, c) in contents() {
        b = b.file(d, p, c);
    }
    b
}

fn records(dir: &Path) -> Vec<Record> {
    let m = mbdb::parse(&std::fs::read(dir.join("Manifest.mbdb")).unwrap()).unwrap();
    assert!(m.damage.is_none(), "{:?}", m.damage);
    m.records
}

/// Every file of `contents()` reads back exactly, and the other entries are what was built.
fn check_entries(b: &Backup, keys: Option<&UnlockedKeys>) {
    let m = b.open_manifest(keys).unwrap();
    assert_eq!(m.era, Era::Mbdb);
    assert!(m.warnings.is_empty(), "{:?}", m.warnings);
    for (d, p, c) in contents() {
        let e = m.find(d, p).unwrap_or_else(|| panic!("{d}/{p} listed"));
        assert_eq!(e.kind, EntryKind::File);
        assert_eq!(e.file_id, file_id(d, p));
        assert_eq!(e.size(), c.len() as u64);
        let got = b.read_file(e, keys).unwrap();
        assert!(
            got == c,
            "{d}/{p}: {} bytes, expected {}",
            got.len(),
            c.len()
        );
    }
    let link = m.find("HomeDomain", "Library/link").unwrap();
    assert_eq!(link.kind, EntryKind::Symlink);
    assert_eq!(
        link.meta.as_ref().unwrap().target.as_deref(),
        Some("SMS/sms.db")
    );
    assert_eq!(m.find("HomeDomain", "").unwrap().kind, EntryKind::Directory);
    assert_eq!(
        m.find("HomeDomain", "Library/SMS").unwrap().kind,
        EntryKind::Directory
    );
    let nobody = m.find("RootDomain", "Library/Caches/nobody.plist").unwrap();
    let meta = nobody.meta.as_ref().unwrap();
    assert_eq!((meta.user_id, meta.group_id), (-2, -2));
    assert_eq!(meta.last_modified, 1_300_000_000);
    let sms = m.find("HomeDomain", "Library/SMS/sms.db").unwrap();
    let x = xattr_pairs(
        sms.meta
            .as_ref()
            .unwrap()
            .extended_attributes
            .as_deref()
            .unwrap(),
    );
    assert_eq!(
        x.unwrap(),
        vec![
            ("com.apple.text".to_string(), b"plain words".to_vec()),
            ("com.apple.binary".to_string(), vec![0, 0xFF, 0xFE, 7]),
        ]
    );
    // The decomposed name is kept as stored: not recomposed, and its fileID is of the bytes.
    assert!(m
        .find("HomeDomain", "Library/Notes/Caf\u{e9}.txt")
        .is_none());
}

fn opts() -> WriteOptions {
    WriteOptions {
        threads: 2,
        ..Default::default()
    }
}

fn blob_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.len() == 40 && n.bytes().all(|b| b.is_ascii_hexdigit()))
        .collect();
    v.sort();
    v
}

fn no_subfolders(dir: &Path) {
    let sub: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .filter(|e| e.file_type().unwrap().is_dir())
        .map(|e| e.path())
        .collect();
    assert!(sub.is_empty(), "a flat backup has no folders: {sub:?}");
}

fn round_trip(encrypted: bool, ios4: bool) {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    let password = encrypted.then_some(PASSWORD);
    builder(password, ios4).write(&src).unwrap();
    let before = snapshot(&src);
    no_subfolders(&src);
    assert!(!src.join("Manifest.db").exists());
    assert_eq!(src.join("Manifest.mbdx").is_file(), ios4);

    let b = Backup::open(&src).unwrap();
    assert_eq!(b.era, Era::Mbdb);
    assert_eq!(b.encrypted, encrypted);
    assert!(b.manifest_key.is_none());
    assert!(!b.already_decrypted());
    let info = b.info();
    assert_eq!(info.era.as_deref(), Some("mbdb"));
    assert!(info
        .era_description
        .as_deref()
        .unwrap()
        .contains("iOS 4 to 9"));
    assert_eq!(info.key_scheme.as_deref(), encrypted.then_some("legacy"));
    let keys = if encrypted {
        assert!(b.keybag().unwrap().dpsl.is_none());
        assert!(b
            .hash_line()
            .unwrap()
            .to_string()
            .starts_with("$itunes_backup$*9*"));
        assert!(matches!(
            b.unlock(b"wrong"),
            Err(BackupError::WrongPassword)
        ));
        Some(b.unlock(PASSWORD.as_bytes()).unwrap())
    } else {
        None
    };
    // The file list is never encrypted: it lists without a password.
    let listed = b.open_manifest(None).unwrap();
    assert!(listed.find("HomeDomain", NFD_NAME).is_some());
    if encrypted {
        let e = listed.find("HomeDomain", "Library/fifteen").unwrap();
        assert!(matches!(
            b.read_file(e, None),
            Err(BackupError::PasswordNeeded)
        ));
    }
    check_entries(&b, keys.as_ref());

    // The keychain, through the same entry type.
    let kc = read_keychain(&b, keys.as_ref()).unwrap();
    let wifi = kc
        .items
        .iter()
        .find(|i| i.name().as_deref() == Some("Old Home Wi-Fi"));
    if encrypted {
        assert_eq!(
            wifi.unwrap().secret.as_ref().unwrap().as_str(),
            Some("2011-wifi")
        );
    } else {
        // An unencrypted backup's keychain is sealed with keys only the device has.
        assert_eq!(kc.items.len(), 2);
        assert!(kc.items.iter().all(|i| i.state == ItemState::DeviceOnly));
    }

    // decrypt: a copy of the same era.
    let out = t.path().join("plain");
    let rep = decrypt_backup(&b, keys.as_ref(), &out, &opts(), &|_| {}).unwrap();
    assert!(rep.complete, "{:?}", rep.failed);
    assert_eq!(rep.failed.len(), usize::from(encrypted), "{:?}", rep.failed);
    assert_eq!(rep.directories, 4);
    assert_eq!(rep.symlinks, 2);
    assert!(rep.keychain_stays_encrypted);
    no_subfolders(&out);
    assert!(!out.join("Manifest.db").exists());
    assert!(!out.join(sesame_backup::outdir::UNFINISHED).exists());
    // Every record exactly as in the source but for the emptied key.
    let (src_records, out_records) = (records(&src), records(&out));
    assert_eq!(src_records.len(), out_records.len());
    for (s, o) in src_records.iter().zip(&out_records) {
        let mut want = s.clone();
        want.encryption_key = None;
        assert_eq!(*o, want);
        assert_eq!(
            s.encryption_key.is_some(),
            encrypted && s.mode & 0xF000 == 0x8000
        );
    }
    // The same blobs (the device-only one cannot be decrypted, so the copy has none).
    let mut want_blobs = blob_names(&src);
    if encrypted {
        let dev = file_id("HomeDomain", "Library/device-only");
        want_blobs.retain(|n| *n != dev);
    }
    assert_eq!(blob_names(&out), want_blobs);
    let c = Backup::open(&out).unwrap();
    assert_eq!(c.era, Era::Mbdb);
    assert!(!c.encrypted);
    let mp = c.manifest_plist.as_ref().unwrap();
    assert_eq!(
        mp.get("IsEncrypted").and_then(|v| v.as_boolean()),
        Some(false)
    );
    assert!(mp.get("ManifestKey").is_none());
    check_entries(&c, None);
    if !encrypted {
        // Nothing to decrypt: the copy's file list and blobs are the source's, byte for byte.
        assert_eq!(
            std::fs::read(out.join("Manifest.mbdb")).unwrap(),
            std::fs::read(src.join("Manifest.mbdb")).unwrap()
        );
    }
    if ios4 {
        // The index points at the same records in the rewritten file.
        let x = mbdb::parse_mbdx(&std::fs::read(out.join("Manifest.mbdx")).unwrap()).unwrap();
        let m = mbdb::parse(&std::fs::read(out.join("Manifest.mbdb")).unwrap()).unwrap();
        assert_eq!(x.entries.len(), m.records.len());
        for (e, (r, at)) in x.entries.iter().zip(m.records.iter().zip(&m.offsets)) {
            assert_eq!(hex::encode(e.file_id), r.file_id());
            assert_eq!(e.offset as usize + mbdb::HEADER_LEN, *at);
            assert_eq!(e.mode, r.mode);
        }
    }
    // The copy decrypted again is itself.
    let again = t.path().join("again");
    decrypt_backup(&c, None, &again, &opts(), &|_| {}).unwrap();
    assert_eq!(
        std::fs::read(again.join("Manifest.mbdb")).unwrap(),
        std::fs::read(out.join("Manifest.mbdb")).unwrap()
    );
    // The copy's keychain still opens with the original password (the keybag kept aside).
    if encrypted {
        let kb = c.keychain_keybag().unwrap();
        let k = sesame_backup::kdf::derive_fast(PASSWORD.as_bytes(), &kb.kdf_params());
        let ck = UnlockedKeys::from_keybag(&kb, &k).unwrap();
        let kc = read_keychain(&c, Some(&ck)).unwrap();
        assert!(kc
            .items
            .iter()
            .any(|i| i.secret.as_ref().and_then(|s| s.as_str()) == Some("2011-wifi")));
    }

    // extract: the readable tree.
    let tree = t.path().join("tree");
    let m = b.open_manifest(keys.as_ref()).unwrap();
    let all: Vec<_> = m.entries().iter().collect();
    let rep = extract(&b, keys.as_ref(), &all, &tree, &opts(), &|_| {}).unwrap();
    assert_eq!(rep.failed.len(), usize::from(encrypted), "{:?}", rep.failed);
    for (d, p, c) in contents() {
        assert!(std::fs::read(tree.join(d).join(p)).unwrap() == c, "{d}/{p}");
    }
    assert!(tree.join("HomeDomain").join(NFD_NAME).is_file());
    assert_eq!(
        std::fs::read_link(tree.join("HomeDomain/Library/link")).unwrap(),
        Path::new("SMS/sms.db")
    );
    // The link pointing outside the output folder is refused, not made.
    assert!(rep.refused.iter().any(|r| r.relative_path == "Library/abs"));
    assert!(std::fs::symlink_metadata(tree.join("HomeDomain/Library/abs")).is_err());

    // change-password: a copy whose blobs and file list are the source's, byte for byte.
    if encrypted {
        let re = t.path().join("rekeyed");
        rekey_backup(&b, PASSWORD.as_bytes(), b"new phone", &re, &opts(), &|_| {}).unwrap();
        let (s, r) = (snapshot(&src), snapshot(&re));
        let strip = |v: Vec<(PathBuf, Vec<u8>)>, root: &Path| -> Vec<(PathBuf, Vec<u8>)> {
            v.into_iter()
                .map(|(p, b)| (p.strip_prefix(root).unwrap().to_path_buf(), b))
                .filter(|(p, _)| p != Path::new("Manifest.plist"))
                .collect()
        };
        assert!(strip(s, &src) == strip(r, &re));
        let rb = Backup::open(&re).unwrap();
        assert_eq!(rb.era, Era::Mbdb);
        assert!(matches!(
            rb.unlock(PASSWORD.as_bytes()),
            Err(BackupError::WrongPassword)
        ));
        let rk = rb.unlock(b"new phone").unwrap();
        check_entries(&rb, Some(&rk));
        assert!(matches!(
            rekey_backup(&b, b"wrong", b"x", &t.path().join("re2"), &opts(), &|_| {}),
            Err(BackupError::WrongPassword)
        ));
    } else {
        assert!(matches!(
            rekey_backup(&b, b"", b"x", &t.path().join("re"), &opts(), &|_| {}),
            Err(BackupError::NotEncrypted)
        ));
    }

    assert!(
        before == snapshot(&src),
        "a command modified the source backup"
    );
}

#[test]
fn encrypted_backup_round_trips() {
    round_trip(true, false);
}

#[test]
fn unencrypted_backup_round_trips() {
    round_trip(false, false);
}

#[test]
fn ios4_backup_with_an_index_round_trips() {
    round_trip(true, true);
    round_trip(false, true);
}

/// A built backup's Manifest.mbdb with `extra` records appended (and blobs written for them),
/// for hostile entries the builder would never make.
fn append_records(dir: &Path, extra: &[(Record, Option<&[u8]>)]) {
    let p = dir.join("Manifest.mbdb");
    let mut m = mbdb::parse(&std::fs::read(&p).unwrap()).unwrap();
    for (r, blob) in extra {
        m.records.push(r.clone());
        if let Some(b) = blob {
            std::fs::write(dir.join(r.file_id()), b).unwrap();
        }
    }
    std::fs::write(&p, m.to_bytes().unwrap().0).unwrap();
}

fn hostile(domain: &str, path: &str, mode: u16, target: Option<&str>) -> Record {
    Record {
        domain: Some(domain.as_bytes().to_vec()),
        path: Some(path.as_bytes().to_vec()),
        target: target.map(|t| t.as_bytes().to_vec()),
        mode,
        size: 4,
        ..Default::default()
    }
}

#[test]
fn paths_that_climb_out_are_refused_and_nothing_lands_outside() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    BackupBuilder::new()
        .era_mbdb()
        .file("HomeDomain", "Library/ok.txt", b"fine".to_vec())
        .write(&src)
        .unwrap();
    let file = 0o100644;
    append_records(
        &src,
        &[
            (
                hostile("HomeDomain", "../../evil", file, None),
                Some(b"evil"),
            ),
            (
                hostile("HomeDomain", "a/../../../evil2", file, None),
                Some(b"evil"),
            ),
            (hostile("..", "evil3", file, None), Some(b"evil")),
            (
                hostile("HomeDomain", "/etc/evil4", file, None),
                Some(b"evil"),
            ),
            (
                hostile("HomeDomain", "nul\0evil5", file, None),
                Some(b"evil"),
            ),
            (hostile("", "evil6", file, None), Some(b"evil")),
            (
                hostile("HomeDomain", "up", 0o120755, Some("../../../etc")),
                None,
            ),
            (hostile("HomeDomain", "odd", 0o010644, None), None),
        ],
    );
    let before = snapshot(&src);
    let b = Backup::open(&src).unwrap();
    let m = b.open_manifest(None).unwrap();
    assert_eq!(m.len(), 9);
    let all: Vec<_> = m.entries().iter().collect();
    let out = t.path().join("deep/er/out");
    let rep = extract(&b, None, &all, &out, &opts(), &|_| {}).unwrap();
    assert_eq!(rep.files, 1);
    assert_eq!(rep.refused.len(), 7, "{:?}", rep.refused);
    assert!(
        rep.warnings.iter().any(|w| w.contains("odd")),
        "{:?}",
        rep.warnings
    );
    // Nothing but the output folder appeared.
    let mut top: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    top.sort();
    assert_eq!(top, ["deep", "src"]);
    assert_eq!(
        std::fs::read(out.join("HomeDomain/Library/ok.txt")).unwrap(),
        b"fine"
    );
    // decrypt keeps every blob under its own (hash) name, which cannot climb.
    let copy = t.path().join("deep/copy");
    let rep = decrypt_backup(&b, None, &copy, &opts(), &|_| {}).unwrap();
    assert!(rep.complete && rep.failed.is_empty(), "{:?}", rep.failed);
    assert_eq!(blob_names(&copy), blob_names(&src));
    assert!(before == snapshot(&src));
}

#[test]
fn records_that_repeat_a_name_are_listed_once_and_copied_whole() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    BackupBuilder::new()
        .era_mbdb()
        .file("HomeDomain", "Library/twice.txt", b"first".to_vec())
        .write(&src)
        .unwrap();
    let mut again = records(&src)[0].clone();
    again.inode = 99;
    // Two names that differ as bytes but read the same as text (not UTF-8): two blobs.
    let mut bad_a = hostile("HomeDomain", "", 0o100644, None);
    bad_a.path = Some(b"Library/\xff".to_vec());
    let mut bad_b = bad_a.clone();
    bad_b.path = Some(b"Library/\xfe".to_vec());
    append_records(
        &src,
        &[
            (again, None),
            (bad_a.clone(), Some(b"AAAA")),
            (bad_b.clone(), Some(b"BBBB")),
        ],
    );
    let before = snapshot(&src);
    let b = Backup::open(&src).unwrap();
    let m = b.open_manifest(None).unwrap();
    assert_eq!(m.len(), 2);
    assert_eq!(m.warnings.len(), 2, "{:?}", m.warnings);
    assert!(m.warnings[0].contains("record 2 repeats HomeDomain/Library/twice.txt"));
    let e = m.find("HomeDomain", "Library/twice.txt").unwrap();
    assert_eq!(e.meta.as_ref().unwrap().inode, 99);
    let all: Vec<_> = m.entries().iter().collect();
    let rep = extract(&b, None, &all, &t.path().join("tree"), &opts(), &|_| {}).unwrap();
    assert_eq!(rep.files, 2);
    assert!(rep.failed.is_empty() && rep.refused.is_empty(), "{rep:?}");
    // The copy keeps every record and every blob.
    let out = t.path().join("copy");
    let rep = decrypt_backup(&b, None, &out, &opts(), &|_| {}).unwrap();
    assert!(rep.complete && rep.failed.is_empty(), "{:?}", rep.failed);
    assert_eq!(rep.orphan_blobs, 0);
    assert_eq!(records(&out), records(&src));
    assert_eq!(blob_names(&out), blob_names(&src));
    assert_eq!(std::fs::read(out.join(bad_b.file_id())).unwrap(), b"BBBB");
    assert!(before == snapshot(&src));
}

#[cfg(unix)]
#[test]
fn output_folder_rules_hold_for_the_flat_layout() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    BackupBuilder::new()
        .era_mbdb()
        .password("pw")
        .iterations(10, None)
        .file("HomeDomain", "Library/a.txt", b"secret text".to_vec())
        .write(&src)
        .unwrap();
    let before = snapshot(&src);
    let b = Backup::open(&src).unwrap();
    let keys = b.unlock(b"pw").unwrap();
    // An output inside the source is refused before anything is written.
    let e = decrypt_backup(&b, Some(&keys), &src.join("out"), &opts(), &|_| {}).unwrap_err();
    assert!(matches!(e, BackupError::OutputInsideSource { .. }), "{e}");
    // A link planted at a blob's flat name, and at Manifest.mbdb, is replaced, not followed.
    let victim = t.path().join("victim");
    std::fs::write(&victim, b"keep").unwrap();
    let out = t.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let id = file_id("HomeDomain", "Library/a.txt");
    std::os::unix::fs::symlink(&victim, out.join(&id)).unwrap();
    std::os::unix::fs::symlink(&victim, out.join("Manifest.mbdb")).unwrap();
    let e = decrypt_backup(&b, Some(&keys), &out, &opts(), &|_| {}).unwrap_err();
    assert!(matches!(e, BackupError::OutputNotEmpty { .. }), "{e}");
    let o = WriteOptions {
        force: true,
        ..opts()
    };
    let rep = decrypt_backup(&b, Some(&keys), &out, &o, &|_| {}).unwrap();
    assert!(rep.complete);
    assert_eq!(std::fs::read(&victim).unwrap(), b"keep");
    assert!(!std::fs::symlink_metadata(out.join(&id))
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(std::fs::read(out.join(&id)).unwrap(), b"secret text");
    assert!(mbdb::parse(&std::fs::read(out.join("Manifest.mbdb")).unwrap()).is_ok());
    assert!(before == snapshot(&src));
}

#[test]
fn blobs_without_a_record_are_copied_and_files_without_a_blob_get_none() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    BackupBuilder::new()
        .era_mbdb()
        .password("pw")
        .iterations(10, None)
        .file("HomeDomain", "Library/a.txt", b"a".to_vec())
        .file("HomeDomain", "Library/empty", Vec::new())
        .write(&src)
        .unwrap();
    // The empty file's blob removed (iTunes often writes none), an orphan blob added, and a
    // file that is no blob (not 40 hex digits) beside them.
    std::fs::remove_file(src.join(file_id("HomeDomain", "Library/empty"))).unwrap();
    let orphan = "0123456789abcdef0123456789abcdef01234567";
    std::fs::write(src.join(orphan), b"no record names me").unwrap();
    std::fs::write(src.join("notes.txt"), b"not a blob").unwrap();
    let b = Backup::open(&src).unwrap();
    let keys = b.unlock(b"pw").unwrap();
    let m = b.open_manifest(None).unwrap();
    assert_eq!(
        b.read_file(m.find("HomeDomain", "Library/empty").unwrap(), Some(&keys))
            .unwrap(),
        b""
    );
    let out = t.path().join("out");
    let rep = decrypt_backup(&b, Some(&keys), &out, &opts(), &|_| {}).unwrap();
    assert!(rep.complete && rep.failed.is_empty(), "{:?}", rep.failed);
    assert_eq!(rep.orphan_blobs, 1);
    assert_eq!(
        std::fs::read(out.join(orphan)).unwrap(),
        b"no record names me"
    );
    assert!(!out.join(file_id("HomeDomain", "Library/empty")).exists());
    assert!(!out.join("notes.txt").exists());
}

#[test]
fn absurd_sizes_and_damaged_lists_give_warnings_not_panics() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    BackupBuilder::new()
        .era_mbdb()
        .password("pw")
        .iterations(10, None)
        .file("HomeDomain", "Library/a.txt", b"contents".to_vec())
        .file("HomeDomain", "Library/b.txt", b"more".to_vec())
        .write(&src)
        .unwrap();
    let p = src.join("Manifest.mbdb");
    let mut m = mbdb::parse(&std::fs::read(&p).unwrap()).unwrap();
    m.records[0].size = u64::MAX;
    let (mut bytes, offsets) = m.to_bytes().unwrap();
    // The second record cut short: the list keeps the first, with a warning.
    bytes.truncate(offsets[1] + 7);
    std::fs::write(&p, &bytes).unwrap();
    let before = snapshot(&src);
    let b = Backup::open(&src).unwrap();
    let keys = b.unlock(b"pw").unwrap();
    let list = b.open_manifest(None).unwrap();
    assert_eq!(list.len(), 1);
    assert!(
        list.warnings
            .iter()
            .any(|w| w.contains("damaged") && w.contains("record 2")),
        "{:?}",
        list.warnings
    );
    let e = &list.entries()[0];
    assert_eq!(e.size(), u64::MAX);
    let mut got = Vec::new();
    let rep = b.copy_file(e, Some(&keys), &mut got).unwrap();
    assert_eq!(got, b"contents");
    assert!(rep.warning.unwrap().contains("Size says"));
    // The copy keeps the unreadable rest as it was, and says so.
    let out = t.path().join("out");
    let rep = decrypt_backup(&b, Some(&keys), &out, &opts(), &|_| {}).unwrap();
    assert!(
        rep.warnings.iter().any(|w| w.contains("copied as it was")),
        "{:?}",
        rep.warnings
    );
    let copied = std::fs::read(out.join("Manifest.mbdb")).unwrap();
    assert_eq!(&copied[copied.len() - 7..], &bytes[bytes.len() - 7..]);
    let cm = mbdb::parse(&copied).unwrap();
    assert_eq!(cm.records.len(), 1);
    assert_eq!(cm.records[0].encryption_key, None);
    assert!(before == snapshot(&src));

    // No mbdb header: an error naming the file, never an empty list.
    std::fs::write(&p, b"not a file list").unwrap();
    let e = Backup::open(&src).unwrap().open_manifest(None).unwrap_err();
    assert!(e.to_string().contains(&p.display().to_string()), "{e}");
    assert!(e.to_string().contains("not a Manifest.mbdb"), "{e}");
}

#[test]
fn lengths_of_0xffff_are_absent_values() {
    let mut bytes = b"mbdb\x05\x00".to_vec();
    bytes.extend([0xFF; 10]); // five strings, all absent
    bytes.extend([0x11, 0xA4]); // mode 0o10644: a FIFO, which no entry kind is
    bytes.extend([0; 8 + 4 + 4 + 12 + 8]);
    bytes.extend([3, 1]); // class 3, one property
    bytes.extend([0xFF, 0xFF, 0x00, 0x00]); // name absent, value empty
    let m = mbdb::parse(&bytes).unwrap();
    assert!(m.damage.is_none());
    let r = &m.records[0];
    assert_eq!(
        (r.domain.clone(), r.path.clone(), r.encryption_key.clone()),
        (None, None, None)
    );
    assert_eq!(r.properties, vec![(None, Some(Vec::new()))]);
    assert_eq!(m.to_bytes().unwrap().0, bytes);
    let e = r.to_entry();
    assert_eq!(e.domain, "");
    assert_eq!(e.kind, EntryKind::Other(0));
    assert!(e.meta.as_ref().unwrap().encryption_key.is_none());
    // A length of 0xFFFE with a few bytes behind it: damage, not an allocation of 64 KiB
    // from a claim, and not a panic.
    let mut short = b"mbdb\x05\x00".to_vec();
    short.extend([0xFF, 0xFE, b'a', b'b']);
    let m = mbdb::parse(&short).unwrap();
    assert!(m.records.is_empty());
    assert!(m.damage.unwrap().reason.contains("65534 bytes"));
    // 255 properties claimed, none there.
    let mut many = bytes[..bytes.len() - 5].to_vec();
    many.push(255);
    let m = mbdb::parse(&many).unwrap();
    assert!(m.damage.unwrap().reason.contains("property 1 of 255"));
    // Too short for a header, or another file entirely.
    for b in [
        &b""[..],
        b"mbdb",
        b"mbdb\x05",
        b"bplist00",
        b"SQLite format 3\0",
    ] {
        assert!(mbdb::parse(b).is_err());
    }
    assert!(mbdb::parse(b"mbdb\x05\x00").unwrap().records.is_empty());
}

#[test]
fn every_truncation_of_a_real_list_keeps_a_prefix() {
    let t = tempfile::tempdir().unwrap();
    builder(Some("pw"), false).write(t.path()).unwrap();
    let bytes = std::fs::read(t.path().join("Manifest.mbdb")).unwrap();
    let full = mbdb::parse(&bytes).unwrap();
    assert!(full.damage.is_none() && full.records.len() > 10);
    for n in 0..bytes.len() {
        let cut = &bytes[..n];
        let Ok(m) = mbdb::parse(cut) else {
            assert!(n < mbdb::HEADER_LEN);
            continue;
        };
        assert_eq!(m.records[..], full.records[..m.records.len()]);
        // Whole records read clean; a cut inside one is damage at its start.
        assert_eq!(m.damage.is_none(), full.offsets.contains(&n), "cut at {n}");
        // Nothing is lost: what was read, written back, and the unread rest are the input.
        let (mut again, _) = m.to_bytes().unwrap();
        if let Some(d) = &m.damage {
            again.extend_from_slice(&cut[d.offset..]);
        }
        assert_eq!(again, cut);
        let list = Manifest::from_mbdb_bytes(cut).unwrap();
        assert_eq!(list.len(), m.records.len());
    }
}

fn field() -> impl Strategy<Value = Option<Vec<u8>>> {
    prop_oneof![
        Just(None),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Some),
        // Text with '/', '..' and decomposed accents, as paths have.
        "[a-zA-Z./\u{301}-]{0,24}".prop_map(|s| Some(s.into_bytes())),
    ]
}

fn record() -> impl Strategy<Value = Record> {
    (
        (field(), field(), field(), field(), field()),
        (any::<u16>(), any::<u64>(), any::<u32>(), any::<u32>()),
        (
            any::<u32>(),
            any::<u32>(),
            any::<u32>(),
            any::<u64>(),
            any::<u8>(),
        ),
        proptest::collection::vec((field(), field()), 0..4),
    )
        .prop_map(
            |((d, p, t, h, k), (mode, inode, uid, gid), (a, b, c, size, class), props)| Record {
                domain: d,
                path: p,
                target: t,
                digest: h,
                encryption_key: k,
                mode,
                inode,
                user_id: uid,
                group_id: gid,
                last_modified: a,
                last_status_change: b,
                birth: c,
                size,
                protection_class: class,
                properties: props,
            },
        )
}

proptest! {
    /// Any bytes: no panic; with the header, what is read plus the unread rest is the input.
    #[test]
    fn random_bytes_never_panic_and_lose_nothing(body in proptest::collection::vec(any::<u8>(), 0..600), header in any::<bool>()) {
        let bytes = if header { [&b"mbdb\x05\x00"[..], &body].concat() } else { body };
        match mbdb::parse(&bytes) {
            Err(_) => prop_assert!(!bytes.starts_with(b"mbdb") || bytes.len() < 6),
            Ok(m) => {
                let (mut again, offsets) = m.to_bytes().unwrap();
                prop_assert_eq!(&offsets, &m.offsets);
                if let Some(d) = &m.damage {
                    again.extend_from_slice(&bytes[d.offset..]);
                }
                prop_assert_eq!(again, bytes.clone());
                for r in &m.records {
                    let e = r.to_entry();
                    prop_assert_eq!(e.file_id.len(), 40);
                    // Anything a record names is either refused or stays below the output.
                    if let Ok(rel) = sesame_backup::paths::safe_relative(&e.domain, &e.relative_path) {
                        prop_assert!(rel.components().all(|c| matches!(c, std::path::Component::Normal(_))));
                    }
                }
                let list = Manifest::from_mbdb_bytes(&bytes).unwrap();
                for e in list.entries() {
                    prop_assert!(list.find(&e.domain, &e.relative_path).is_some());
                }
            }
        }
        let _ = mbdb::parse_mbdx(&bytes);
    }

    /// Records written and read back are the same records, byte for byte.
    #[test]
    fn records_round_trip(records in proptest::collection::vec(record(), 0..8)) {
        let bytes = mbdb::write(&records).unwrap();
        let m = mbdb::parse(&bytes).unwrap();
        prop_assert!(m.damage.is_none());
        prop_assert_eq!(&m.records, &records);
        prop_assert_eq!(m.to_bytes().unwrap().0, bytes);
        // And the index of them points at each.
        let x = mbdb::Mbdx::for_records(&m.records, &m.offsets).unwrap();
        prop_assert_eq!(mbdb::parse_mbdx(&x.to_bytes()).unwrap(), x);
    }

    /// A valid list with one byte changed still never panics, and reads a prefix or more.
    #[test]
    fn flipped_bytes_never_panic(records in proptest::collection::vec(record(), 1..5), at in any::<prop::sample::Index>(), v in any::<u8>()) {
        let mut bytes = mbdb::write(&records).unwrap();
        let i = at.index(bytes.len());
        bytes[i] = v;
        if let Ok(m) = mbdb::parse(&bytes) {
            let _ = Manifest::from_mbdb(&m);
        }
    }
}

/// pyiosbackup (pip install pyiosbackup) reads what the builder wrote, and what Sesame
/// decrypted, file by file. Skipped where it is not installed, except in CI
/// (SESAME_REQUIRE_SHARED), where a missing reader is a failure.
#[test]
fn pyiosbackup_reads_built_and_decrypted_mbdb_backups() {
    let have = std::process::Command::new("python3")
        .args(["-c", "import pyiosbackup"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !have {
        assert!(
            std::env::var_os("SESAME_REQUIRE_SHARED").is_none(),
            "SESAME_REQUIRE_SHARED is set but python3 with pyiosbackup is missing \
             (pip install pyiosbackup==0.2.4)"
        );
        eprintln!("SKIPPED: python3 with pyiosbackup not found (pip install pyiosbackup)");
        return;
    }
    // pyiosbackup reads every property as UTF-8 text and needs every class key, so this
    // backup has text attributes only and no device-only file.
    let t = tempfile::tempdir().unwrap();
    let build = |password: Option<&str>, dir: &Path| {
        let mut b = BackupBuilder::new()
            .era_mbdb()
            .iterations(10, None)
            .dir("HomeDomain", "Library")
            .symlink("HomeDomain", "Library/link", "SMS/sms.db")
            .owner("RootDomain", "Library/Caches/nobody.plist", -2, -2)
            .xattr(
                "HomeDomain",
                "Library/SMS/sms.db",
                "com.apple.text",
                "plain words",
            );
        if let Some(p) = password {
            b = b.password(p);
        }
        for (d, p, c) in contents() {
            b = b.file(d, p, c);
        }
        b.write(dir).unwrap();
    };
    let plain = t.path().join("plain");
    let enc = t.path().join("enc");
    build(None, &plain);
    build(Some(PASSWORD), &enc);
    let b = Backup::open(&enc).unwrap();
    let keys = b.unlock(PASSWORD.as_bytes()).unwrap();
    let copy = t.path().join("copy");
    assert!(
        decrypt_backup(&b, Some(&keys), &copy, &opts(), &|_| {})
            .unwrap()
            .complete
    );

    let script = r#"
import hashlib, sys
from pyiosbackup import Backup
b = Backup.from_path(sys.argv[1], sys.argv[2])
for f in b.iter_files():
    digest = hashlib.sha256(f.read_bytes()).hexdigest()
    print(f.domain + "/" + f.relative_path, digest, f.user_id, f.size, sep="\t")
"#;
    let want: std::collections::BTreeMap<String, (String, u64)> = contents()
        .into_iter()
        .map(|(d, p, c)| {
            use sha2::Digest;
            (
                format!("{d}/{p}"),
                (hex::encode(sha2::Sha256::digest(&c)), c.len() as u64),
            )
        })
        .collect();
    for (dir, pw) in [(&plain, ""), (&enc, PASSWORD), (&copy, "")] {
        let o = std::process::Command::new("python3")
            .args(["-c", script, dir.to_str().unwrap(), pw])
            .env("PYTHONIOENCODING", "utf-8")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "pyiosbackup on {}: {}",
            dir.display(),
            String::from_utf8_lossy(&o.stderr)
        );
        let got: std::collections::BTreeMap<String, (String, u64, u64)> =
            String::from_utf8(o.stdout)
                .unwrap()
                .lines()
                .map(|l| {
                    let f: Vec<&str> = l.split('\t').collect();
                    assert_eq!(f.len(), 4, "{l}");
                    (
                        f[0].to_string(),
                        (
                            f[1].to_string(),
                            f[2].parse().unwrap(),
                            f[3].parse().unwrap(),
                        ),
                    )
                })
                .collect();
        let got_files: std::collections::BTreeMap<String, (String, u64)> = got
            .iter()
            .map(|(k, v)| (k.clone(), (v.0.clone(), v.2)))
            .collect();
        assert_eq!(
            got_files,
            want,
            "pyiosbackup read {} differently",
            dir.display()
        );
        // uid -2 is stored as 0xFFFFFFFE, which a reader of the unsigned field sees.
        assert_eq!(got["RootDomain/Library/Caches/nobody.plist"].1, 0xFFFF_FFFE);
    }
}
