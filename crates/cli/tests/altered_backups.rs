//! Backups that another tool or a person changed, and inputs as people really give them: a
//! contradicted or missing IsEncrypted flag, a copy another tool decrypted, a potfile with a
//! stale entry, a password file with a byte-order mark, a link planted in place of a blob, a
//! wordlist piped on standard input twice. Each once gave a false answer or a false success.

mod common;
use common::{sesame, text};

use plist::Value;
use sesame_backup::builder::BackupBuilder;
use sesame_backup::keychain::{ItemClass, ItemSpec};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const PW: &str = "open sesame";

fn build(dir: &Path) {
    BackupBuilder::new()
        .password(PW)
        .iterations(10, Some(10))
        .device("Anna's iPhone", "iPhone14,2", "17.1")
        .file("HomeDomain", "Library/Notes/a.txt", b"buy milk".to_vec())
        .keychain(vec![ItemSpec::new(
            ItemClass::GenericPassword,
            7,
            &[("svce", "AirPort"), ("acct", "HomeNet")],
            b"wifi-secret-1",
        )])
        .write(dir)
        .unwrap();
}

fn edit_manifest_plist(dir: &Path, edit: impl FnOnce(&mut plist::Dictionary)) {
    let path = dir.join("Manifest.plist");
    let mut v = Value::from_file(&path).unwrap();
    edit(v.as_dictionary_mut().unwrap());
    v.to_file_binary(&path).unwrap();
}

/// Every file below `dir`.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let t = e.file_type().unwrap();
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                out.push(e.path());
            }
        }
    }
    out
}

#[test]
fn an_encrypted_backup_is_never_called_unencrypted_because_of_its_flag() {
    let t = tempfile::tempdir().unwrap();
    for (name, flag) in [
        ("missing", None),
        ("false", Some(Value::Boolean(false))),
        ("a-string", Some(Value::String("yes".into()))),
    ] {
        let src = t.path().join(name);
        build(&src);
        edit_manifest_plist(&src, |d| match flag {
            None => {
                d.remove("IsEncrypted");
            }
            Some(v) => {
                d.insert("IsEncrypted".into(), v);
            }
        });
        let s = src.to_str().unwrap();
        let r = sesame(&["info", s], &[]);
        let out = text(&r);
        assert_eq!(r.status.code(), Some(0), "{name}: {out}");
        assert!(out.contains("Encrypted:         yes"), "{name}: {out}");
        assert!(out.contains("taken as encrypted"), "{name}: {out}");
        // And it opens with its password, as an encrypted backup does.
        let r = sesame(&["verify", s], &[("SESAME_PASSWORD", PW)]);
        assert_eq!(r.status.code(), Some(0), "{name}: {}", text(&r));
    }
}

/// A copy decrypted the way mvt and iOSbackup leave it: plain files, but the original
/// Manifest.plist (IsEncrypted true, keybag, ManifestKey).
fn copy_decrypted_by_another_tool(t: &Path) -> PathBuf {
    let src = t.join("src");
    build(&src);
    let copy = t.join("mvt-copy");
    let r = sesame(
        &[
            "decrypt",
            src.to_str().unwrap(),
            "--out",
            copy.to_str().unwrap(),
        ],
        &[("SESAME_PASSWORD", PW)],
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    std::fs::remove_file(copy.join("SesameOriginalKeybag.plist")).unwrap();
    std::fs::copy(src.join("Manifest.plist"), copy.join("Manifest.plist")).unwrap();
    copy
}

#[test]
fn a_copy_another_tool_decrypted_gets_no_new_password_but_its_keychain_opens() {
    let t = tempfile::tempdir().unwrap();
    let copy = copy_decrypted_by_another_tool(t.path());
    let c = copy.to_str().unwrap();
    let out = t.path().join("rekeyed");
    let r = sesame(
        &["change-password", c, "--out", out.to_str().unwrap()],
        &[("SESAME_PASSWORD", PW), ("SESAME_NEW_PASSWORD", "new one")],
    );
    let said = text(&r);
    assert_eq!(r.status.code(), Some(2), "{said}");
    assert!(said.contains("already decrypted"), "{said}");
    assert!(
        !out.join("Manifest.plist").exists(),
        "a copy marked encrypted over plain files was written"
    );

    // Its keychain items are still wrapped with the backup's class keys: the password opens
    // them, and they are not "device only".
    let r = sesame(
        &["keychain", c, "--json", "--show-secrets"],
        &[("SESAME_PASSWORD", PW)],
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
}

#[test]
fn a_wrong_potfile_entry_does_not_hide_the_right_one() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    build(&src);
    let s = src.to_str().unwrap();
    let r = sesame(&["hash", s], &[]);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    let line = String::from_utf8(r.stdout).unwrap().trim().to_string();
    // The newest entry (the last) is wrong; the older one is right.
    let pot = t.path().join("shared.potfile");
    std::fs::write(&pot, format!("{line}:{PW}\n{line}:not it\n")).unwrap();
    let p = pot.to_str().unwrap();
    let r = sesame(&["files", s], &[("SESAME_POTFILE", p)]);
    let out = text(&r);
    assert_eq!(r.status.code(), Some(0), "{out}");
    assert!(out.contains("Library/Notes/a.txt"), "{out}");
    // Only wrong entries: said, and then the password is asked for as if none were remembered.
    std::fs::write(&pot, format!("{line}:not it\n")).unwrap();
    let r = sesame(&["files", s], &[("SESAME_POTFILE", p)]);
    let out = text(&r);
    assert_eq!(r.status.code(), Some(2), "{out}");
    assert!(out.contains("none of them opens it"), "{out}");
    assert!(out.contains("no password given"), "{out}");
}

#[test]
fn a_password_file_with_a_byte_order_mark_reads_as_typed() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    build(&src);
    let f = t.path().join("password.txt");
    std::fs::write(&f, format!("\u{feff}{PW}\r\n")).unwrap();
    let r = sesame(
        &[
            "verify",
            src.to_str().unwrap(),
            "--password-file",
            f.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    // An empty SESAME_PASSWORD is unset, not an empty password tried and called wrong.
    let r = sesame(
        &["verify", src.to_str().unwrap()],
        &[("SESAME_PASSWORD", "")],
    );
    let out = text(&r);
    assert_eq!(r.status.code(), Some(2), "{out}");
    assert!(out.contains("no password given"), "{out}");
}

#[cfg(unix)]
#[test]
fn a_link_planted_in_place_of_a_blob_is_not_followed() {
    let t = tempfile::tempdir().unwrap();
    let copy = copy_decrypted_by_another_tool(t.path());
    let outside = t.path().join("outside.txt");
    std::fs::write(&outside, b"SECRET OF THIS COMPUTER").unwrap();
    let blob = files_below(&copy)
        .into_iter()
        .find(|p| std::fs::read(p).unwrap() == b"buy milk")
        .expect("the note's blob");
    std::fs::remove_file(&blob).unwrap();
    std::os::unix::fs::symlink(&outside, &blob).unwrap();
    for cmd in ["extract", "decrypt"] {
        let out = t.path().join(format!("out-{cmd}"));
        let r = sesame(
            &[cmd, copy.to_str().unwrap(), "--out", out.to_str().unwrap()],
            &[("SESAME_PASSWORD", PW)],
        );
        let said = text(&r);
        assert_eq!(r.status.code(), Some(2), "{cmd}: {said}");
        assert!(said.contains("is a link"), "{cmd}: {said}");
        for f in files_below(&out) {
            let bytes = std::fs::read(&f).unwrap();
            assert!(
                !bytes.windows(6).any(|w| w == b"SECRET"),
                "{cmd} copied a file from outside the backup into {}",
                f.display()
            );
        }
    }
}

/// `sesame recover SRC -w -` with `words` on standard input, in the session folder `home`.
fn recover_from_stdin(src: &Path, home: &Path, words: &str) -> std::process::Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(["recover", src.to_str().unwrap(), "-w", "-"])
        .env_remove("SESAME_PASSWORD")
        .env("SESAME_HOME", home)
        .env("SESAME_POTFILE", home.join("test.potfile"))
        .env("HOME", home)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(words.as_bytes()).unwrap();
    c.wait_with_output().unwrap()
}

#[test]
fn a_wordlist_on_standard_input_is_read_anew_every_run() {
    let t = tempfile::tempdir().unwrap();
    let src = t.path().join("src");
    build(&src);
    let home = t.path().join("home");
    let r = recover_from_stdin(&src, &home, "alpha\nbravo\n");
    assert_eq!(r.status.code(), Some(1), "{}", text(&r));
    // Another list on the same command: the same session name, but not the same guesses.
    let r = recover_from_stdin(&src, &home, "alpha\nopen sesame\n");
    let out = text(&r);
    assert_eq!(r.status.code(), Some(0), "{out}");
    assert_eq!(String::from_utf8_lossy(&r.stdout).trim(), PW, "{out}");
    assert!(out.contains("cannot be read again"), "{out}");
}
