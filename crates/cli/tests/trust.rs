//! Trustworthy answers and writes, through the built binary: nothing written through planted
//! links or into the source, no "not encrypted" when it cannot be told, no panics on a closed
//! stdout, nothing damaged that looks complete, Ctrl-C leaving nothing half-written.

mod common;
use common::{sesame, snapshot, text};

use sesame_backup::builder::BackupBuilder;
use sesame_backup::keychain::{ItemClass, ItemSpec};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PW: &str = "open sesame";

fn build(dir: &Path, big: usize) {
    let mut b = BackupBuilder::new()
        .password(PW)
        .iterations(10, Some(10))
        .device("Anna's iPhone", "iPhone14,2", "17.1")
        .dir("HomeDomain", "Library")
        .file(
            "HomeDomain",
            "Library/Preferences/com.example.db",
            b"SQLite format 3\0 messages".to_vec(),
        )
        .file("HomeDomain", "Library/Notes/a.txt", b"buy milk".to_vec())
        .file(
            "CameraRollDomain",
            "Media/DCIM/100APPLE/IMG_0001.JPG",
            b"\xff\xd8\xff jpeg".to_vec(),
        )
        .symlink("HomeDomain", "Library/link", "Notes/a.txt")
        .keychain(vec![ItemSpec::new(
            ItemClass::GenericPassword,
            7,
            &[("svce", "AirPort"), ("acct", "HomeNet")],
            b"wifi-secret-1",
        )]);
    if big > 0 {
        let bytes: Vec<u8> = (0..big).map(|i| (i * 7 + i / 251) as u8).collect();
        b = b.file(
            "CameraRollDomain",
            "Media/DCIM/100APPLE/IMG_0002.MOV",
            bytes,
        );
    }
    b.write(dir).unwrap();
}

fn pw_env() -> [(&'static str, &'static str); 2] {
    [
        ("SESAME_PASSWORD", PW),
        ("SESAME_NEW_PASSWORD", "a new one"),
    ]
}

/// The writers and their arguments (before `--out DIR`).
fn writers(src: &str) -> Vec<(&'static str, Vec<String>)> {
    vec![
        ("decrypt", vec!["decrypt".into(), src.into()]),
        ("extract", vec!["extract".into(), src.into()]),
        (
            "change-password",
            vec!["change-password".into(), src.into()],
        ),
        ("export", vec!["export".into(), src.into()]),
    ]
}

fn run_writer(args: &[String], out: &Path, force: bool) -> std::process::Output {
    let mut a: Vec<&str> = args.iter().map(String::as_str).collect();
    a.extend(["--out", out.to_str().unwrap()]);
    if force {
        a.push("--force");
    }
    sesame(&a, &pw_env())
}

/// Every path (relative, with whether it is a folder) under `dir`.
fn tree(dir: &Path) -> Vec<(PathBuf, bool)> {
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        for e in std::fs::read_dir(dir.join(&rel)).unwrap().flatten() {
            let r = rel.join(e.file_name());
            let is_dir = e.file_type().unwrap().is_dir();
            if is_dir {
                stack.push(r.clone());
            }
            out.push((r, is_dir));
        }
    }
    out.sort();
    out
}

#[test]
fn no_writer_follows_a_link_planted_at_any_name_it_uses() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    build(&src, 0);
    let source_before = snapshot(&src);
    let outside = t.path().join("outside");
    std::fs::create_dir_all(outside.join("victimdir")).unwrap();
    std::fs::write(outside.join("victim"), b"keep me").unwrap();
    std::fs::write(outside.join("victimdir/inner"), b"keep me too").unwrap();
    let outside_before = snapshot(&outside);

    for (name, args) in writers(src.to_str().unwrap()) {
        // A clean run says which names the writer uses.
        let reference = t.path().join(format!("ref-{name}"));
        let r = run_writer(&args, &reference, false);
        assert_eq!(r.status.code(), Some(0), "{name}: {}", text(&r));
        let names = tree(&reference);
        let depth = names
            .iter()
            .map(|(p, _)| p.components().count())
            .max()
            .unwrap();
        // At each depth: real folders above, a link at every name of that depth (and at the
        // temporary name of every file).
        for d in 1..=depth {
            let out = t.path().join(format!("out-{name}-{d}"));
            std::fs::create_dir(&out).unwrap();
            for (p, is_dir) in &names {
                let n = p.components().count();
                if n < d && *is_dir {
                    std::fs::create_dir_all(out.join(p)).unwrap();
                } else if n == d {
                    let target = if *is_dir {
                        outside.join("victimdir")
                    } else {
                        outside.join("victim")
                    };
                    let at = out.join(p);
                    if std::fs::symlink_metadata(&at).is_err() {
                        std::os::unix::fs::symlink(&target, &at).unwrap();
                    }
                    if !is_dir {
                        let mut partial = at.into_os_string();
                        partial.push(".sesame-partial");
                        std::os::unix::fs::symlink(outside.join("victim"), partial).unwrap();
                    }
                }
            }
            let r = run_writer(&args, &out, true);
            assert!(
                matches!(r.status.code(), Some(0) | Some(2)),
                "{name} depth {d}: {}",
                text(&r)
            );
            assert!(!text(&r).contains("panicked"), "{}", text(&r));
            assert_eq!(
                snapshot(&outside),
                outside_before,
                "{name} at depth {d} wrote outside --out: {}",
                text(&r)
            );
        }
    }
    assert_eq!(snapshot(&src), source_before);
}

#[test]
fn an_output_inside_the_source_is_refused_before_anything_is_created() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    build(&src, 0);
    let before = tree(&src);
    let snap = snapshot(&src);
    for (name, args) in writers(src.to_str().unwrap()) {
        for (out, force) in [
            (src.join("sub"), false),
            (src.join("a/b"), true),
            (src.clone(), true),
        ] {
            let r = run_writer(&args, &out, force);
            assert_eq!(
                r.status.code(),
                Some(2),
                "{name} {}: {}",
                out.display(),
                text(&r)
            );
            assert!(
                text(&r).contains("inside the backup"),
                "{name}: {}",
                text(&r)
            );
            assert_eq!(tree(&src), before, "{name} created something in the source");
        }
    }
    assert_eq!(snapshot(&src), snap);
}

#[test]
fn only_a_folder_or_a_manifest_plist_is_a_backup() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("my backup");
    build(&src, 0);
    let info_plist = src.join("Info.plist");
    for cmd in ["info", "hash", "verify", "decrypt", "files"] {
        let mut a = vec![cmd, info_plist.to_str().unwrap()];
        if cmd == "decrypt" {
            a.extend(["--out", "/nonexistent/never"]);
        }
        let r = sesame(&a, &pw_env());
        let out = text(&r);
        assert_eq!(r.status.code(), Some(2), "{cmd}: {out}");
        assert!(
            !out.contains("Encrypted: no") && !out.contains("no password"),
            "{cmd}: {out}"
        );
        // It names the folder to give, quoted for the shell (it has a space).
        assert!(
            out.contains(&format!("'{}'", src.display())),
            "{cmd}: {out}"
        );
    }
    // The Manifest.plist alone still works.
    let r = sesame(&["hash", src.join("Manifest.plist").to_str().unwrap()], &[]);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
}

#[test]
fn without_a_readable_manifest_plist_nothing_says_not_encrypted() {
    let t = tempfile::tempdir().unwrap();
    for damage in ["missing", "garbage"] {
        let src = t.path().join(damage);
        build(&src, 0);
        match damage {
            "missing" => std::fs::remove_file(src.join("Manifest.plist")).unwrap(),
            _ => std::fs::write(src.join("Manifest.plist"), b"bplist00\x01\x02").unwrap(),
        }
        let s = src.to_str().unwrap();
        let out_dir = t.path().join(format!("out-{damage}"));
        let o = out_dir.to_str().unwrap();
        for args in [
            vec!["info", s],
            vec!["hash", s],
            vec!["verify", s],
            vec!["recover", s, "--pins"],
            vec!["decrypt", s, "--out", o],
            vec!["change-password", s, "--out", o],
        ] {
            let r = sesame(&args, &pw_env());
            let out = text(&r).to_lowercase();
            assert_eq!(r.status.code(), Some(2), "{args:?}: {out}");
            assert!(out.contains("cannot tell"), "{args:?}: {out}");
            assert!(
                out.contains("copy the whole backup folder again"),
                "{args:?}: {out}"
            );
            assert!(
                !out.contains("not encrypted") && !out.contains("encrypted: no"),
                "{args:?}: {out}"
            );
        }
        assert!(
            !out_dir.exists(),
            "a copy was written from a backup that cannot be told"
        );
    }
}

#[test]
fn damaged_files_are_described_in_plain_words() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    build(&src, 0);
    let m = std::fs::read(src.join("Manifest.plist")).unwrap();
    std::fs::write(src.join("Manifest.plist"), &m[..m.len() / 3]).unwrap();
    let info = std::fs::read(src.join("Info.plist")).unwrap();
    std::fs::write(src.join("Info.plist"), &info[..info.len() / 2]).unwrap();
    let r = sesame(&["info", src.to_str().unwrap()], &[]);
    let out = text(&r);
    assert!(!out.contains("Error {") && !out.contains("kind:"), "{out}");
    assert!(
        !out.contains("UnexpectedEof") && !out.contains("Io("),
        "{out}"
    );
    // What the user gave is a backup folder: no "give the backup folder" hint.
    assert!(!out.contains("give the backup folder"), "{out}");
    let r = sesame(
        &["info", t.path().join("nothing here").to_str().unwrap()],
        &[],
    );
    assert!(text(&r).contains("give the backup folder"), "{}", text(&r));
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    build(&src, 0);
    let s = src.to_str().unwrap();
    let line = String::from_utf8(sesame(&["hash", s], &[]).stdout).unwrap();
    let line = line.trim().to_string();
    let home = tempfile::tempdir().unwrap();
    let out = |n: &str| t.path().join(n).to_str().unwrap().to_string();
    let (o1, o2, o3, o4) = (out("o1"), out("o2"), out("o3"), out("o4"));
    let cases: Vec<Vec<&str>> = vec![
        vec!["list", "--root", s],
        vec!["list", "--root", s, "--json"],
        vec!["info", s],
        vec!["info", s, "--json"],
        vec!["hash", s],
        vec!["verify", s],
        vec!["verify", &line],
        vec!["files", s],
        vec!["files", s, "--json"],
        vec!["keychain", s],
        vec!["keychain", s, "--json"],
        vec!["candidates", "--mask", "?d?d?d?d"],
        vec!["candidates", "--pins"],
        vec![
            "recover", &line, "--mask", "?d", "--json", "--device", "cpu",
        ],
        vec!["decrypt", s, "--out", &o1],
        vec!["extract", s, "--out", &o2],
        vec!["export", s, "--out", &o3],
        vec!["change-password", s, "--out", &o4],
        vec!["bench", "--self-test"],
    ];
    for args in cases {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sesame"))
            .args(&args)
            .env("SESAME_PASSWORD", PW)
            .env("SESAME_NEW_PASSWORD", "new")
            .env("SESAME_HOME", home.path())
            .env("SESAME_GPU_DISABLE", "1")
            .env("HOME", home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Close the reading end at once, as `| head -0` would.
        drop(child.stdout.take());
        let r = child.wait_with_output().unwrap();
        let err = String::from_utf8_lossy(&r.stderr);
        assert_ne!(r.status.code(), Some(101), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("Broken pipe"),
            "{args:?}: {err}"
        );
    }
}

#[test]
fn a_flag_beats_the_environment_and_an_empty_password_file_says_so() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    build(&src, 0);
    let s = src.to_str().unwrap();
    let r = sesame(
        &["verify", s, "--password", PW],
        &[("SESAME_PASSWORD", "wrong")],
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    let f = t.path().join("pw");
    std::fs::write(&f, format!("{PW}\n")).unwrap();
    let r = sesame(
        &["verify", s, "--password-file", f.to_str().unwrap()],
        &[("SESAME_PASSWORD", "wrong")],
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    std::fs::write(&f, b"").unwrap();
    let r = sesame(
        &["verify", s, "--password-file", f.to_str().unwrap()],
        &[("SESAME_PASSWORD", PW)],
    );
    assert_eq!(r.status.code(), Some(2), "{}", text(&r));
    assert!(text(&r).contains("is empty"), "{}", text(&r));
}

#[test]
fn suggested_commands_quote_paths_with_spaces() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("Application Support").join("00008101-ABC");
    build(&src, 0);
    let out = t.path().join("o");
    let r = sesame(
        &[
            "decrypt",
            src.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &[("SESAME_PASSWORD", "wrong")],
    );
    assert_eq!(r.status.code(), Some(1), "{}", text(&r));
    assert!(
        text(&r).contains(&format!("sesame recover '{}'", src.display())),
        "{}",
        text(&r)
    );
}

/// Runs sesame with file writes limited to `kib` KiB: writes past it fail as on a full disk
/// (EFBIG; the signal that would kill the process is ignored, as the test needs).
fn with_small_disk(kib: u32, args: &[&str]) -> std::process::Output {
    let home = tempfile::tempdir().unwrap();
    Command::new("bash")
        .arg("-c")
        .arg(format!("trap '' XFSZ; ulimit -f {kib}; exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_sesame"))
        .args(args)
        .env("SESAME_PASSWORD", PW)
        .env("SESAME_NEW_PASSWORD", "a new one")
        .env("SESAME_HOME", home.path())
        .env("HOME", home.path())
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn a_write_that_fails_leaves_nothing_that_looks_complete() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    build(&src, 600 << 10);
    let s = src.to_str().unwrap();
    let before = snapshot(&src);
    for cmd in ["decrypt", "export", "change-password", "extract"] {
        let out = t.path().join(format!("full-{cmd}"));
        let r = with_small_disk(256, &[cmd, s, "--out", out.to_str().unwrap()]);
        let msg = text(&r);
        assert_eq!(r.status.code(), Some(2), "{cmd}: {msg}");
        assert!(!msg.contains("panicked"), "{cmd}: {msg}");
        // The error names the file that could not be written, in the output folder.
        assert!(msg.contains(out.to_str().unwrap()), "{cmd}: {msg}");
        assert!(
            !msg.contains(&format!("{s}/")),
            "{cmd} blamed the source: {msg}"
        );
        if cmd != "export" && cmd != "extract" {
            assert!(
                !out.join("Manifest.plist").exists(),
                "{cmd}: marked complete: {msg}\n{:?}",
                tree(&out)
            );
            assert!(!out.join("Status.plist").exists(), "{cmd}: marked complete");
        }
        // `list` does not call it complete.
        let l = sesame(&["list", "--root", out.to_str().unwrap(), "--json"], &[]);
        let v: serde_json::Value = serde_json::from_slice(&l.stdout).unwrap_or_default();
        if let Some(first) = v.as_array().and_then(|a| a.first()) {
            assert_ne!(first["complete"], serde_json::json!(true), "{cmd}: {v}");
        }
        // A rerun says the earlier one did not finish.
        let again = sesame(&[cmd, s, "--out", out.to_str().unwrap()], &pw_env());
        assert_eq!(again.status.code(), Some(2), "{cmd}: {}", text(&again));
        assert!(
            text(&again).contains("did not finish"),
            "{cmd}: {}",
            text(&again)
        );
        assert!(text(&again).contains("--force"), "{cmd}: {}", text(&again));
    }
    assert_eq!(snapshot(&src), before);
}

#[test]
fn change_password_checks_the_source_opens_before_writing() {
    let t = tempfile::tempdir().unwrap();
    for damage in ["missing", "garbage"] {
        let src = t.path().join(damage);
        build(&src, 0);
        match damage {
            "missing" => std::fs::remove_file(src.join("Manifest.db")).unwrap(),
            _ => std::fs::write(src.join("Manifest.db"), vec![7u8; 4096]).unwrap(),
        }
        let out = t.path().join(format!("o-{damage}"));
        let r = sesame(
            &[
                "change-password",
                src.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ],
            &pw_env(),
        );
        assert_eq!(r.status.code(), Some(2), "{damage}: {}", text(&r));
        assert!(text(&r).contains("Manifest.db"), "{damage}: {}", text(&r));
        assert!(!out.exists(), "{damage}: a copy was written");
    }
}

#[test]
fn ctrl_c_removes_the_file_in_flight_and_a_rerun_says_so() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    let out = t.path().join("out");
    let home = tempfile::tempdir().unwrap();
    let partial = |d: &Path| {
        d.exists()
            && tree(d)
                .iter()
                .any(|(p, _)| p.to_string_lossy().ends_with(".sesame-partial"))
    };
    // The big file is the window in which the signal must land. Where the copy finished before
    // the signal arrived (a loaded machine, a fast disk), that try proves nothing either way:
    // again with a bigger file.
    let mut tries = [48usize << 20, 160 << 20, 400 << 20].into_iter();
    let r = loop {
        let size = tries.next().expect("every copy finished before the signal");
        let _ = std::fs::remove_dir_all(&src);
        let _ = std::fs::remove_dir_all(&out);
        build(&src, size);
        let child = Command::new(env!("CARGO_BIN_EXE_sesame"))
            .args([
                "decrypt",
                src.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
                "--threads",
                "1",
            ])
            .env("SESAME_PASSWORD", PW)
            .env("SESAME_HOME", home.path())
            .env("HOME", home.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Wait until a file is being written, then interrupt.
        let start = std::time::Instant::now();
        while !partial(&out) && start.elapsed().as_secs() < 60 {
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert!(partial(&out), "no file was ever in flight");
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        let r = child.wait_with_output().unwrap();
        if r.status.code() != Some(0) {
            break r;
        }
    };
    let err = String::from_utf8_lossy(&r.stderr);
    assert_eq!(r.status.code(), Some(2), "{err}");
    assert_eq!(
        err.lines().filter(|l| l.contains("interrupted")).count(),
        1,
        "{err}"
    );
    assert!(!partial(&out), "a half-written file was left behind");
    assert!(!out.join("Manifest.plist").exists());
    let again = sesame(
        &[
            "decrypt",
            src.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &pw_env(),
    );
    assert_eq!(again.status.code(), Some(2), "{}", text(&again));
    assert!(text(&again).contains("did not finish"), "{}", text(&again));
    let redo = sesame(
        &[
            "decrypt",
            src.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--force",
        ],
        &pw_env(),
    );
    assert_eq!(redo.status.code(), Some(0), "{}", text(&redo));
    assert!(out.join("Manifest.plist").exists());
    let l = sesame(&["list", "--root", out.to_str().unwrap(), "--json"], &[]);
    let v: serde_json::Value = serde_json::from_slice(&l.stdout).unwrap();
    assert_ne!(v[0]["complete"], serde_json::json!(false), "{v}");
}

#[test]
fn the_keychain_of_a_decrypted_copy_opens_with_the_original_password() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    build(&src, 0);
    let out = t.path().join("copy");
    let r = sesame(
        &[
            "decrypt",
            src.to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ],
        &pw_env(),
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    let r = sesame(
        &[
            "keychain",
            out.to_str().unwrap(),
            "--json",
            "--show-secrets",
        ],
        &pw_env(),
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    let wifi = v
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["account"] == "HomeNet")
        .expect("the Wi-Fi item");
    assert_eq!(wifi["state"], "decrypted", "{v}");
    assert_eq!(wifi["secret"], "wifi-secret-1", "{v}");
    // A wrong original password is said plainly.
    let r = sesame(
        &["keychain", out.to_str().unwrap()],
        &[("SESAME_PASSWORD", "nope")],
    );
    assert_eq!(r.status.code(), Some(1), "{}", text(&r));
}
