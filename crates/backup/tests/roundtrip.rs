//! Built backups (both key schemes, and unencrypted) round-trip through every writer.

use sesame_backup::builder::BackupBuilder;
use sesame_backup::write::{decrypt_backup, extract, rekey_backup, WriteOptions};
use sesame_backup::{Backup, BackupError, EntryKind};
use std::path::{Path, PathBuf};

/// Every file under `dir` with its bytes, to prove nothing changed.
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
                out.push((
                    p.clone(),
                    std::fs::read_link(&p)
                        .unwrap()
                        .into_os_string()
                        .into_encoded_bytes(),
                ));
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}

fn contents() -> Vec<(&'static str, &'static str, Vec<u8>)> {
    let pattern = |n: usize, k: u8| {
        (0..n)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(k))
            .collect::<Vec<u8>>()
    };
    vec![
        ("HomeDomain", "Library/SMS/sms.db", pattern(278_528, 1)),
        ("HomeDomain", "Library/empty", Vec::new()),
        ("HomeDomain", "Library/fifteen", pattern(15, 2)),
        ("HomeDomain", "Library/sixteen", pattern(16, 3)),
        ("HomeDomain", "Library/seventeen", pattern(17, 4)),
        (
            "CameraRollDomain",
            "Media/DCIM/100APPLE/IMG_0001.HEIC",
            pattern(9 * 1024 * 1024 + 5, 5),
        ),
        (
            "AppDomain-com.example.app",
            "Documents/notes.txt",
            b"remember the milk".to_vec(),
        ),
        ("KeychainDomain", "keychain-backup.plist", pattern(4096, 6)),
    ]
}

fn build(dir: &Path, password: Option<&str>, sha256: Option<u32>) -> BackupBuilder {
    let mut b = BackupBuilder::new()
        .iterations(10, sha256)
        .device("Anna's iPhone", "iPhone14,2", "17.1")
        .modified(1_600_000_000)
        .dir("HomeDomain", "")
        .dir("HomeDomain", "Library")
        .dir("HomeDomain", "Library/SMS")
        .symlink("HomeDomain", "Library/link", "SMS/sms.db")
        .symlink("HomeDomain", "Library/abs", "/var/mobile/Library");
    if let Some(p) = password {
        b = b.password(p);
    }
    for (d, p, c) in contents() {
        b = b.file(d, p, c);
    }
    let _ = dir;
    b
}

fn check_all_files(b: &Backup, keys: Option<&sesame_backup::UnlockedKeys>) {
    let m = b.open_manifest(keys).unwrap();
    for (d, p, c) in contents() {
        let e = m.find(d, p).unwrap_or_else(|| panic!("{d}/{p} listed"));
        assert_eq!(e.kind, EntryKind::File);
        let got = b.read_file(e, keys).unwrap();
        assert!(
            got == c,
            "{d}/{p}: {} bytes, expected {}",
            got.len(),
            c.len()
        );
    }
    assert_eq!(
        m.find("HomeDomain", "Library/link").unwrap().kind,
        EntryKind::Symlink
    );
    assert_eq!(
        m.find("HomeDomain", "Library/SMS").unwrap().kind,
        EntryKind::Directory
    );
}

fn scheme_round_trip(sha256: Option<u32>) {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    build(&src, Some("s3cret"), sha256)
        .file_with_class("HomeDomain", "Library/device-only", b"x".to_vec(), 11)
        .write(&src)
        .unwrap();
    let before = snapshot(&src);

    let b = Backup::open(&src).unwrap();
    assert!(b.encrypted);
    assert_eq!(b.manifest_key.is_some(), sha256.is_some());
    assert_eq!(b.keybag().unwrap().dpsl.is_some(), sha256.is_some());
    assert!(matches!(
        b.unlock(b"wrong"),
        Err(BackupError::WrongPassword)
    ));
    assert!(b.hash_line().unwrap().verify(b"s3cret"));
    if sha256.is_some() {
        assert!(
            b.open_manifest(None).is_err(),
            "encrypted Manifest.db needs keys"
        );
        assert!(std::fs::read(src.join("Manifest.db")).unwrap()[..16] != *b"SQLite format 3\0");
    }
    let keys = b.unlock(b"s3cret").unwrap();
    check_all_files(&b, Some(&keys));
    let m = b.open_manifest(Some(&keys)).unwrap();
    let dev = m.find("HomeDomain", "Library/device-only").unwrap();
    let err = b.read_file(dev, Some(&keys)).unwrap_err().to_string();
    assert!(err.contains("only be decrypted on the device"), "{err}");

    // Decrypted copy: reads as an unencrypted backup with the same contents.
    let out = tmp.path().join("dec");
    let calls = std::sync::atomic::AtomicU64::new(0);
    let rep = decrypt_backup(
        &b,
        Some(&keys),
        &out,
        &WriteOptions {
            force: false,
            threads: 2,
            ..Default::default()
        },
        &|p| {
            assert!(p.bytes_done <= p.bytes_total);
            calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        },
    )
    .unwrap();
    assert!(calls.into_inner() > 0);
    assert_eq!(rep.files, contents().len() as u64);
    assert_eq!(rep.failed.len(), 1, "{:?}", rep.failed);
    assert_eq!(rep.failed[0].relative_path, "Library/device-only");
    assert!(rep.keychain_stays_encrypted);
    assert!(rep.warnings.is_empty(), "{:?}", rep.warnings);
    let d = Backup::open(&out).unwrap();
    assert!(!d.encrypted);
    assert!(d.manifest_key.is_none() && d.keybag.is_none());
    let mp = d.manifest_plist.as_ref().unwrap();
    assert!(!mp.contains_key("BackupKeyBag") && !mp.contains_key("ManifestKey"));
    assert_eq!(
        std::fs::read(out.join("Manifest.db")).unwrap()[..16],
        *b"SQLite format 3\0"
    );
    check_all_files(&d, None);
    let dm = d.open_manifest(None).unwrap();
    assert_eq!(dm.len(), m.len());
    assert!(dm
        .entries()
        .iter()
        .all(|e| e.meta.as_ref().unwrap().encryption_key.is_none()));
    assert_eq!(d.info().device_name.as_deref(), Some("Anna's iPhone"));
    assert_eq!(d.info().complete, Some(true));
    assert!(snapshot(&out)
        .iter()
        .all(|(p, _)| !p.to_string_lossy().contains(".sesame-partial")));

    // A non-empty output folder is refused unless forced; one inside the source always.
    assert!(matches!(
        decrypt_backup(&b, Some(&keys), &out, &WriteOptions::default(), &|_| {}),
        Err(BackupError::OutputNotEmpty { .. })
    ));
    decrypt_backup(
        &b,
        Some(&keys),
        &out,
        &WriteOptions {
            force: true,
            threads: 1,
            ..Default::default()
        },
        &|_| {},
    )
    .unwrap();
    assert!(matches!(
        decrypt_backup(
            &b,
            Some(&keys),
            &src.join("inside"),
            &WriteOptions::default(),
            &|_| {}
        ),
        Err(BackupError::OutputInsideSource { .. })
    ));
    assert!(matches!(
        decrypt_backup(
            &b,
            None,
            &tmp.path().join("nokeys"),
            &WriteOptions::default(),
            &|_| {}
        ),
        Err(BackupError::PasswordNeeded)
    ));

    // Change password: old fails, new works, contents equal.
    let re = tmp.path().join("rekeyed");
    assert!(matches!(
        rekey_backup(
            &b,
            b"nope",
            b"new pw",
            &re,
            &WriteOptions::default(),
            &|_| {}
        ),
        Err(BackupError::WrongPassword)
    ));
    let rr = rekey_backup(
        &b,
        b"s3cret",
        b"new pw",
        &re,
        &WriteOptions::default(),
        &|_| {},
    )
    .unwrap();
    assert_eq!(rr.class_keys, 11);
    let r = Backup::open(&re).unwrap();
    let (okb, nkb) = (b.keybag().unwrap(), r.keybag().unwrap());
    assert_ne!(okb.salt, nkb.salt);
    if okb.dpsl.is_some() {
        assert_ne!(okb.dpsl, nkb.dpsl);
    }
    assert_eq!((okb.iterations, okb.dpic), (nkb.iterations, nkb.dpic));
    assert!(matches!(
        r.unlock(b"s3cret"),
        Err(BackupError::WrongPassword)
    ));
    let rkeys = r.unlock(b"new pw").unwrap();
    check_all_files(&r, Some(&rkeys));
    let out2 = tmp.path().join("dec2");
    decrypt_backup(&r, Some(&rkeys), &out2, &WriteOptions::default(), &|_| {}).unwrap();
    let strip = |v: Vec<(PathBuf, Vec<u8>)>, base: &Path| -> Vec<(PathBuf, Vec<u8>)> {
        v.into_iter()
            .filter(|(p, _)| p.parent() != Some(base)) // top-level plists and Manifest.db differ in dates
            .map(|(p, c)| (p.strip_prefix(base).unwrap().to_path_buf(), c))
            .collect()
    };
    assert_eq!(strip(snapshot(&out), &out), strip(snapshot(&out2), &out2));

    // Extract: a readable tree with times; the absolute symlink is refused.
    let x = tmp.path().join("x");
    let all = m.filter(None, None);
    let xr = extract(&b, Some(&keys), &all, &x, &WriteOptions::default(), &|_| {}).unwrap();
    assert_eq!(xr.files, contents().len() as u64);
    for (d, p, c) in contents() {
        assert!(std::fs::read(x.join(d).join(p)).unwrap() == c, "{d}/{p}");
    }
    let t = std::fs::metadata(x.join("HomeDomain/Library/SMS/sms.db"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(
        t.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs(),
        1_600_000_000
    );
    #[cfg(unix)]
    assert_eq!(
        std::fs::read_link(x.join("HomeDomain/Library/link")).unwrap(),
        Path::new("SMS/sms.db")
    );
    assert_eq!(xr.refused.len(), 1, "{:?}", xr.refused);
    assert!(xr.refused[0].relative_path == "Library/abs");
    let sel = m.filter(Some("HomeDomain"), Some("Library/SMS/*"));
    assert_eq!(sel.len(), 1);

    // The source never changed.
    assert!(before == snapshot(&src), "the source backup was modified");
}

#[test]
fn ios10_2_scheme_round_trips() {
    scheme_round_trip(Some(100));
}

#[test]
fn legacy_scheme_round_trips() {
    scheme_round_trip(None);
}

#[test]
fn unencrypted_backups_read_and_decrypt_as_copies() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    build(&src, None, Some(100)).write(&src).unwrap();
    let b = Backup::open(&src).unwrap();
    assert!(!b.encrypted);
    check_all_files(&b, None);
    let out = tmp.path().join("out");
    let rep = decrypt_backup(&b, None, &out, &WriteOptions::default(), &|_| {}).unwrap();
    assert!(rep.failed.is_empty());
    check_all_files(&Backup::open(&out).unwrap(), None);
}

#[test]
fn extract_refuses_traversal_and_writes_nothing_outside() {
    let tmp = tempfile::tempdir().unwrap();
    let src = tmp.path().join("src");
    let outside = tmp.path().join("outside");
    std::fs::create_dir(&outside).unwrap();
    let evil = b"evil".to_vec();
    BackupBuilder::new()
        .password("pw")
        .iterations(10, Some(10))
        .file("HomeDomain", "../evil", evil.clone())
        .file("HomeDomain", "a/../../../evil2", evil.clone())
        .file("HomeDomain", "/tmp/evil-abs", evil.clone())
        .file("HomeDomain", "nul\0evil", evil.clone())
        .file("..", "evil3", evil.clone())
        .file("", "evil4", evil.clone())
        .file("Home/../..", "evil5", evil.clone())
        // A symlinked parent: the link is refused (absolute), the file under it lands in a real folder.
        .symlink("HomeDomain", "up", outside.to_str().unwrap())
        .file("HomeDomain", "up/evil6", evil.clone())
        .symlink("HomeDomain", "rel", "../../outside")
        .file("HomeDomain", "rel/evil7", evil.clone())
        .file("HomeDomain", "ok/fine.txt", b"fine".to_vec())
        .raw_row(
            "../../evil8",
            Some("HomeDomain"),
            Some("evil8"),
            Some(1),
            None,
            Some(evil.clone()),
        )
        .write(&src)
        .unwrap();
    let b = Backup::open(&src).unwrap();
    let keys = b.unlock(b"pw").unwrap();
    let m = b.open_manifest(Some(&keys)).unwrap();
    let all = m.filter(None, None);

    let parent = tmp.path().join("p");
    let x = parent.join("x");
    let rep = extract(&b, Some(&keys), &all, &x, &WriteOptions::default(), &|_| {}).unwrap();
    assert_eq!(
        std::fs::read(x.join("HomeDomain/ok/fine.txt")).unwrap(),
        b"fine"
    );
    // Both symlinks refused; files under their names went into real folders inside x.
    let refused: Vec<_> = rep
        .refused
        .iter()
        .map(|r| format!("{}/{}", r.domain, r.relative_path))
        .collect();
    for want in [
        "HomeDomain/../evil",
        "HomeDomain/a/../../../evil2",
        "HomeDomain//tmp/evil-abs",
        "HomeDomain/nul\0evil",
        "../evil3",
        "/evil4",
        "Home/../../evil5",
        "HomeDomain/up",
        "HomeDomain/rel",
    ] {
        assert!(
            refused.iter().any(|r| r == want),
            "{want:?} refused: {refused:?}"
        );
    }
    assert!(
        rep.failed.iter().any(|f| f.relative_path == "evil8"),
        "bad fileID fails: {:?}",
        rep.failed
    );
    assert_eq!(
        std::fs::read_dir(&outside).unwrap().count(),
        0,
        "nothing written outside"
    );
    assert_eq!(
        std::fs::read_dir(&parent).unwrap().count(),
        1,
        "only x in its parent"
    );
    assert!(!tmp.path().join("evil").exists() && !tmp.path().join("evil3").exists());
    for (p, _) in snapshot(&x) {
        assert!(p.starts_with(&x));
    }

    // A symlink planted in the output folder beforehand is not followed (with --force).
    #[cfg(unix)]
    {
        let y = parent.join("y");
        std::fs::create_dir(&y).unwrap();
        std::os::unix::fs::symlink(&outside, y.join("HomeDomain")).unwrap();
        let rep = extract(
            &b,
            Some(&keys),
            &all,
            &y,
            &WriteOptions {
                force: true,
                threads: 1,
                ..Default::default()
            },
            &|_| {},
        )
        .unwrap();
        assert_eq!(rep.files, 0, "{rep:?}");
        assert!(
            rep.refused.iter().any(|r| r.reason.contains("symlink")),
            "{:?}",
            rep.refused
        );
        assert_eq!(
            std::fs::read_dir(&outside).unwrap().count(),
            0,
            "nothing written through the planted link"
        );
    }

    // And the decrypted copy never uses an unsafe fileID as a path.
    let out = tmp.path().join("dec");
    let rep = decrypt_backup(&b, Some(&keys), &out, &WriteOptions::default(), &|_| {}).unwrap();
    assert!(rep.failed.iter().any(|f| f.file_id == "../../evil8"));
    for (p, _) in snapshot(&out) {
        assert!(p.starts_with(&out));
    }
}

#[cfg(unix)]
#[test]
fn a_symlink_planted_at_a_temporary_name_is_replaced_not_followed() {
    use sesame_backup::builder::BackupBuilder;
    use sesame_backup::write::{extract, WriteOptions};
    let d = tempfile::tempdir().unwrap();
    let src = d.path().join("src");
    BackupBuilder::new()
        .file("HomeDomain", "Library/a.txt", b"from the backup".to_vec())
        .write(&src)
        .unwrap();
    let victim = d.path().join("victim.txt");
    std::fs::write(&victim, b"must stay").unwrap();
    let out = d.path().join("out");
    std::fs::create_dir_all(out.join("HomeDomain/Library")).unwrap();
    std::os::unix::fs::symlink(&victim, out.join("HomeDomain/Library/a.txt.sesame-partial"))
        .unwrap();
    let backup = sesame_backup::Backup::open(&src).unwrap();
    let manifest = backup.open_manifest(None).unwrap();
    let entries = manifest.filter(None, None);
    let opts = WriteOptions {
        force: true,
        threads: 1,
        ..Default::default()
    };
    extract(&backup, None, &entries, &out, &opts, &|_| {}).unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"must stay");
    assert_eq!(
        std::fs::read(out.join("HomeDomain/Library/a.txt")).unwrap(),
        b"from the backup"
    );
}
