//! list, info, hash, verify against the real fixtures, through the built binary.

mod common;
use common::{fixtures, sesame, snapshot, text};

use std::path::Path;
use std::process::Command;

/// A folder holding a copy of a real keybag fixture as its Manifest.plist.
fn keybag_backup(fx: &Path, name: &str) -> tempfile::TempDir {
    let d = tempfile::tempdir().unwrap();
    std::fs::copy(
        fx.join("keybags").join(name),
        d.path().join("Manifest.plist"),
    )
    .unwrap();
    d
}

#[test]
fn hash_prints_a_line_that_matches_the_keybag_and_verify_accepts_it() {
    let Some(fx) = fixtures() else { return };
    let b = keybag_backup(&fx, "manifest-ios9-test123.plist");
    let before = snapshot(b.path());
    let out = sesame(&["hash", b.path().to_str().unwrap()], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let line = String::from_utf8(out.stdout.clone())
        .unwrap()
        .trim()
        .to_string();
    assert!(line.starts_with("$itunes_backup$*9*"), "{line}");
    let ok = sesame(&["verify", &line], &[("SESAME_PASSWORD", "test123")]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    let bad = sesame(&["verify", &line], &[("SESAME_PASSWORD", "test12")]);
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert_eq!(snapshot(b.path()), before, "the backup must not change");
}

#[test]
fn verify_takes_a_folder_a_manifest_plist_and_a_password_file() {
    let Some(fx) = fixtures() else { return };
    let b = keybag_backup(&fx, "manifest-ios9-test123.plist");
    let pwfile = b
        .path()
        .join("..")
        .join(format!("pw-{}", std::process::id()));
    std::fs::write(&pwfile, "test123\r\nsecond line ignored\n").unwrap();
    let folder = sesame(
        &[
            "verify",
            b.path().to_str().unwrap(),
            "--password-file",
            pwfile.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(folder.status.code(), Some(0), "{}", text(&folder));
    let plist = b.path().join("Manifest.plist");
    let wrong = sesame(
        &["verify", plist.to_str().unwrap(), "--password", "nope"],
        &[],
    );
    assert_eq!(wrong.status.code(), Some(1), "{}", text(&wrong));
    assert!(
        text(&wrong).contains("can be seen by other users"),
        "--password warns"
    );
    std::fs::remove_file(pwfile).unwrap();
}

#[test]
fn verify_gives_one_verdict_per_line_of_a_hash_file() {
    let Some(fx) = fixtures() else { return };
    let tsv = std::fs::read_to_string(fx.join("hashlines.tsv")).unwrap();
    // The fast lines whose password is "hashcat" (DPIC 1000 or the old scheme).
    let lines: Vec<&str> = tsv
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .filter(|(pw, line)| *pw == "hashcat" && !line.contains("*10000000*"))
        .map(|(_, line)| line)
        .collect();
    assert!(lines.len() >= 2);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("hashes.txt");
    std::fs::write(&f, lines.join("\n")).unwrap();
    let ok = sesame(
        &["verify", f.to_str().unwrap()],
        &[("SESAME_PASSWORD", "hashcat")],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert_eq!(
        String::from_utf8_lossy(&ok.stdout)
            .matches(": right")
            .count(),
        lines.len()
    );
    // Add a line with another password: one verdict is now "wrong", so exit 1.
    let other = tsv
        .lines()
        .find(|l| l.starts_with("123456\t"))
        .unwrap()
        .split_once('\t')
        .unwrap()
        .1;
    std::fs::write(&f, format!("{}\n{other}\n", lines.join("\n"))).unwrap();
    let mixed = sesame(
        &["verify", f.to_str().unwrap()],
        &[("SESAME_PASSWORD", "hashcat")],
    );
    assert_eq!(mixed.status.code(), Some(1), "{}", text(&mixed));
    assert!(String::from_utf8_lossy(&mixed.stdout).contains(": wrong"));
}

#[test]
fn bad_targets_exit_2_with_a_message_naming_the_problem() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("hashes.txt");
    std::fs::write(&f, "$itunes_backup$*10*zz\n").unwrap();
    let out = sesame(
        &["verify", f.to_str().unwrap()],
        &[("SESAME_PASSWORD", "x")],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("line 1"), "{}", text(&out));
    let garbled = dir.path().join("g");
    std::fs::create_dir(&garbled).unwrap();
    std::fs::write(garbled.join("Manifest.plist"), b"bplist00garbage").unwrap();
    let out = sesame(&["info", garbled.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("Manifest.plist"), "{}", text(&out));
    let missing = sesame(&["hash", "/no/such/backup"], &[]);
    assert_eq!(missing.status.code(), Some(2));
    // A stray file named from the folder it is in: the message names that folder, not ".".
    std::fs::write(dir.path().join("junk.plist"), b"not a plist at all").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(["info", "junk.plist"])
        .current_dir(dir.path())
        .env("SESAME_HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let msg = text(&out);
    let here = std::fs::canonicalize(dir.path()).unwrap();
    assert!(
        msg.contains("is a file, not a backup") && msg.contains(here.to_str().unwrap()),
        "{msg}"
    );
    assert_eq!(msg.trim_end().lines().count(), 1, "{msg}");
}

#[test]
fn info_explains_the_real_ios10_2_keybag_and_measures_a_guess() {
    let Some(fx) = fixtures() else { return };
    let b = keybag_backup(&fx, "manifest-ios10_2-test123.plist");
    let out = sesame(&["info", b.path().to_str().unwrap(), "--json"], &[]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["encrypted"], true);
    assert_eq!(v["key_scheme"], "ios10.2");
    assert_eq!(v["sha256_iterations"], 10_000_000);
    assert_eq!(v["device_name"], "Mike's iPhone");
    assert_eq!(v["ios_version"], "10.2");
    let s = v["seconds_per_guess_per_core"].as_f64().unwrap();
    assert!(s > 0.01 && s < 1000.0, "measured cost {s}");
    let human = sesame(&["info", b.path().to_str().unwrap()], &[]);
    assert!(text(&human).contains("never set"), "{}", text(&human));
    assert!(
        text(&human).contains(" s of one CPU core"),
        "{}",
        text(&human)
    );
}

#[test]
fn info_gives_an_old_scheme_guess_in_milliseconds() {
    let Some(fx) = fixtures() else { return };
    let b = keybag_backup(&fx, "manifest-ios9-test123.plist");
    let human = sesame(&["info", b.path().to_str().unwrap()], &[]);
    let t = text(&human);
    let line = t
        .lines()
        .find(|l| l.starts_with("One guess costs:"))
        .unwrap_or_else(|| panic!("{t}"));
    // A fraction of a millisecond per guess: never "0.000 s".
    assert!(
        line.contains(" ms of one CPU core") && !line.contains("0.000"),
        "{line}"
    );
}

#[test]
fn list_finds_backups_under_a_root_and_says_which_are_encrypted() {
    let Some(fx) = fixtures() else { return };
    let root = tempfile::tempdir().unwrap();
    let enc = root.path().join("00008030-ENCRYPTED");
    std::fs::create_dir(&enc).unwrap();
    std::fs::copy(
        fx.join("keybags/manifest-ios9-test123.plist"),
        enc.join("Manifest.plist"),
    )
    .unwrap();
    let plain = root.path().join("plain-ios14");
    std::fs::create_dir(&plain).unwrap();
    std::fs::copy(
        fx.join("decrypted-backup-ios14/Info.plist"),
        plain.join("Info.plist"),
    )
    .unwrap();
    let out = sesame(
        &["list", "--root", root.path().to_str().unwrap(), "--json"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2, "{v}");
    let e = rows
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("ENCRYPTED"))
        .unwrap();
    assert_eq!(e["encrypted"], true);
    assert_eq!(e["product_type"], "iPhone7,2");
    let p = rows
        .iter()
        .find(|r| r["path"].as_str().unwrap().ends_with("plain-ios14"))
        .unwrap();
    assert_eq!(p["ios_version"], "14.3");
    let table = sesame(&["list", "--root", root.path().to_str().unwrap()], &[]);
    assert!(text(&table).contains("Mike's iPhone"), "{}", text(&table));
}

#[test]
fn a_password_in_the_potfile_is_used_when_none_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let backup = dir.path().join("b");
    sesame_backup::builder::BackupBuilder::new()
        .password("Remembered1")
        .iterations(10, Some(20))
        .file("HomeDomain", "Library/a.txt", b"hello".to_vec())
        .write(&backup)
        .unwrap();
    let line = sesame_backup::Backup::open(&backup)
        .unwrap()
        .hash_line()
        .unwrap();
    let pot = dir.path().join("pot");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_sesame"))
            .args(args)
            .env_remove("SESAME_PASSWORD")
            .env("SESAME_POTFILE", &pot)
            .env("SESAME_HOME", dir.path())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let out = dir.path().join("out");
    // No potfile yet: no password and no terminal is an error that says how to give one.
    let none = run(&[
        "decrypt",
        backup.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(none.status.code(), Some(2), "{}", text(&none));
    assert!(text(&none).contains("--password-file"), "{}", text(&none));
    std::fs::write(&pot, format!("{line}:Remembered1\n")).unwrap();
    let ok = run(&[
        "decrypt",
        backup.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok));
    assert_eq!(
        std::fs::read(
            out.join(&sesame_backup::builder::file_id("HomeDomain", "Library/a.txt")[..2])
                .join(sesame_backup::builder::file_id(
                    "HomeDomain",
                    "Library/a.txt"
                ))
        )
        .unwrap(),
        b"hello"
    );
    let v = run(&["verify", backup.to_str().unwrap()]);
    assert_eq!(v.status.code(), Some(0), "{}", text(&v));
}
