//! Damaged Manifest.plist / Info.plist / Status.plist files give errors or warnings, never panics.

use proptest::prelude::*;
use sesame_backup::Backup;
use std::path::PathBuf;

fn real_manifest() -> Option<Vec<u8>> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/keybags/manifest-ios10_2-test123.plist");
    match std::fs::read(&p) {
        Ok(b) => Some(b),
        Err(_) => {
            // In CI a missing fixture is a failure, never a silent pass.
            assert!(
                std::env::var_os("SESAME_REQUIRE_SHARED").is_none(),
                "SESAME_REQUIRE_SHARED is set but ../shared (the fixtures) is missing"
            );
            eprintln!("SKIPPED: {} not found", p.display());
            None
        }
    }
}

fn open_with(manifest: &[u8], info: &[u8]) {
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("Manifest.plist"), manifest).unwrap();
    std::fs::write(d.path().join("Info.plist"), info).unwrap();
    std::fs::write(d.path().join("Status.plist"), info).unwrap();
    if let Ok(b) = Backup::open(d.path()) {
        let _ = b.info();
        let _ = b.hash_line();
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn mutated_real_manifest_never_panics(flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
        let Some(mut m) = real_manifest() else { return Ok(()) };
        for (i, v) in flips {
            let at = i.index(m.len());
            m[at] = v;
        }
        let keep = cut.index(m.len() + 1);
        open_with(&m[..keep], b"");
    }

    #[test]
    fn random_plists_never_panic(m in proptest::collection::vec(any::<u8>(), 0..300), i in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut m2 = b"bplist00".to_vec();
        m2.extend_from_slice(&m);
        open_with(&m2, &i);
        open_with(&m, &i);
    }
}

#[test]
fn truncated_manifest_names_the_file() {
    let Some(m) = real_manifest() else { return };
    let d = tempfile::tempdir().unwrap();
    std::fs::write(d.path().join("Manifest.plist"), &m[..m.len() / 2]).unwrap();
    // The folder opens, but whether it is encrypted cannot be told: never "not encrypted".
    let b = Backup::open(d.path()).unwrap();
    let why = b.encryption_unknown.clone().expect("encryption is unknown");
    assert!(why.contains("Manifest.plist"), "{why}");
    let err = b.keybag().unwrap_err();
    assert!(
        matches!(err, sesame_backup::BackupError::EncryptionUnknown { .. }),
        "{err}"
    );
    assert!(err.to_string().contains("cannot tell"), "{err}");
    // The file alone is refused with its name.
    let err = Backup::open(&d.path().join("Manifest.plist"))
        .unwrap_err()
        .to_string();
    assert!(err.contains("Manifest.plist"), "{err}");
}
