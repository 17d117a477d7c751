//! `sesame device ...` through the built binary, against the simulated phone of
//! crates/device/tests/sim (reached as libimobiledevice tools reach a usbmuxd elsewhere:
//! USBMUXD_SOCKET_ADDRESS=UNIX:/path).

mod common;
#[path = "../../device/tests/sim/mod.rs"]
mod sim;

use common::{sesame, text};
use sesame_backup::builder::BackupBuilder;
use sim::{Phone, UDID};
use std::io::BufRead;
use std::path::Path;

fn mux(phone: &Phone) -> String {
    format!("UNIX:{}", phone.socket.display())
}

fn run(phone: &Phone, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let m = mux(phone);
    let mut e: Vec<(&str, &str)> = vec![("USBMUXD_SOCKET_ADDRESS", &m)];
    e.extend_from_slice(env);
    sesame(args, &e)
}

fn with_files(phone: &Phone, dir: &Path) {
    BackupBuilder::new()
        .udid(UDID)
        .device("Anna's iPhone", "iPhone14,2", "17.1")
        .file("HomeDomain", "Library/SMS/sms.db", b"messages".to_vec())
        .write(&dir.join("src"))
        .unwrap();
    let files = sim::files_of(&dir.join("src"));
    phone.set(|s| s.files = files);
}

#[test]
fn list_and_info_through_usbmuxd_socket_address() {
    let phone = Phone::paired();
    let o = run(&phone, &["device", "list"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains(UDID) && out.contains("USB"), "{out}");

    let o = run(&phone, &["device", "info", "--json"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["will_encrypt"], serde_json::Value::Bool(false));
    assert_eq!(v["name"], "Anna's iPhone");

    phone.set(|s| s.will_encrypt = true);
    let o = run(&phone, &["device", "info"], &[]);
    assert!(text(&o).contains("Backup encryption: on"), "{}", text(&o));
}

#[test]
fn no_usbmuxd_says_what_to_install() {
    let d = tempfile::tempdir().unwrap();
    let addr = format!("UNIX:{}", d.path().join("none").display());
    let o = sesame(&["device", "list"], &[("USBMUXD_SOCKET_ADDRESS", &addr)]);
    assert_eq!(o.status.code(), Some(2));
    let t = text(&o);
    assert!(t.contains("usbmuxd package"), "{t}");
    assert!(t.contains("Apple Devices") && t.contains("iTunes"), "{t}");
    let o = sesame(
        &["device", "list"],
        &[("USBMUXD_SOCKET_ADDRESS", "nonsense")],
    );
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("USBMUXD_SOCKET_ADDRESS"), "{}", text(&o));
}

#[test]
fn encryption_on_then_off_with_a_wrong_password_first() {
    let phone = Phone::paired();
    let d = tempfile::tempdir().unwrap();
    let new = d.path().join("new");
    std::fs::write(&new, "secret 1\n").unwrap();
    let wrong = d.path().join("wrong");
    std::fs::write(&wrong, "not it\n").unwrap();
    let o = run(
        &phone,
        &[
            "device",
            "encryption",
            "on",
            "--new-password-file",
            new.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("passcode"),
        "iOS 17 asks for it: {}",
        text(&o)
    );
    assert_eq!(
        phone.get(|s| s.password.clone()).as_deref(),
        Some("secret 1")
    );

    let o = run(
        &phone,
        &[
            "device",
            "encryption",
            "off",
            "--password-file",
            wrong.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("backup password is wrong"),
        "{}",
        text(&o)
    );
    assert!(phone.get(|s| s.will_encrypt));

    let o = run(
        &phone,
        &[
            "device",
            "encryption",
            "off",
            "--password-file",
            new.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!phone.get(|s| s.will_encrypt));
}

#[test]
fn a_backup_from_the_phone_opens_with_sesame_files_and_restores_only_when_asked() {
    let phone = Phone::paired();
    let d = tempfile::tempdir().unwrap();
    with_files(&phone, d.path());
    let out = d.path().join("backup");
    let o = run(
        &phone,
        &["device", "backup", "--out", out.to_str().unwrap()],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = sesame(&["files", out.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("HomeDomain/Library/SMS/sms.db"),
        "{}",
        text(&o)
    );

    // Restoring it: told what is replaced, and nothing happens without --yes.
    let o = run(&phone, &["device", "restore", out.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("replaces everything on Anna's iPhone") && t.contains("--yes"),
        "{t}"
    );
    assert!(phone.get(|s| s.restored.is_empty()));
    let o = run(
        &phone,
        &["device", "restore", out.to_str().unwrap(), "--yes"],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(phone.get(|s| s.restored.contains_key(&format!("{UDID}/Manifest.db"))));
}

#[test]
fn forgot_explains_reset_all_settings_waits_and_backs_up() {
    let phone = Phone::paired();
    let d = tempfile::tempdir().unwrap();
    with_files(&phone, d.path());
    phone.set(|s| {
        s.will_encrypt = true;
        s.password = Some("long forgotten".into());
    });
    let out = d.path().join("fresh");
    let home = tempfile::tempdir().unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(["device", "forgot", "--out", out.to_str().unwrap()])
        .env("USBMUXD_SOCKET_ADDRESS", mux(&phone))
        .env("SESAME_HOME", home.path())
        .env("HOME", home.path())
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Standard error is read on its own thread so that a failure can show it.
    let stderr = child.stderr.take().unwrap();
    let errors = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::BufReader::new(stderr), &mut s).ok();
        s
    });
    let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut said = String::new();
    for l in lines.by_ref() {
        let l = l.unwrap();
        said.push_str(&l);
        said.push('\n');
        if l.contains("Reset All Settings") {
            break;
        }
    }
    assert!(said.contains("No data or media are deleted"), "{said}");
    // The person resets the phone now.
    phone.reset_all_settings();
    for l in lines {
        said.push_str(&l.unwrap());
        said.push('\n');
    }
    let status = child.wait().unwrap();
    let errors = errors.join().unwrap();
    assert!(status.success(), "{said}\nstderr:\n{errors}");
    assert!(said.contains("Backup encryption is off"), "{said}");
    let o = sesame(&["files", out.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}
