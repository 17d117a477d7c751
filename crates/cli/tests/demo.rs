//! `sesame demo` runs every step and says what it found.

use std::process::Command;

#[test]
fn demo_builds_recovers_and_decrypts_its_example() {
    let home = tempfile::tempdir().unwrap();
    let keep = home.path().join("example");
    let out = Command::new(env!("CARGO_BIN_EXE_sesame"))
        // A low iteration count keeps the test fast; the README's command uses the real 10,000,000.
        .args([
            "demo",
            "--sha256-iterations",
            "2000",
            "--keep",
            keep.to_str().unwrap(),
        ])
        .env("SESAME_HOME", home.path())
        .env("SESAME_POTFILE", home.path().join("pot"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Found \"Biscuit2016\""), "{text}");
    assert!(
        text.contains("reads: eggs, flour, dog treats for Biscuit"),
        "{text}"
    );
    assert!(text.contains("Biscuit2016  right"), "{text}");
    assert!(
        text.contains("Home-WiFi") && text.contains("CorgiCastle42"),
        "{text}"
    );
    assert!(text.contains("only the device can decrypt"), "{text}");
    assert!(!text.contains("never-leaves-the-phone"), "{text}");
    assert!(text.contains("biscuit      wrong"), "{text}");
    // The kept example is a real backup that the other commands open.
    let backup = keep.join("00008110-000A1B2C3D4E5F60");
    let v = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(["verify", backup.to_str().unwrap()])
        .env("SESAME_PASSWORD", "Biscuit2016")
        .env("SESAME_HOME", home.path())
        .env("SESAME_POTFILE", home.path().join("pot"))
        .status()
        .unwrap();
    assert_eq!(v.code(), Some(0));
}
