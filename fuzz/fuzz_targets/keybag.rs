//! Any bytes as a backup keybag (the TLV records of Manifest.plist's BackupKeyBag). An accepted
//! keybag must serialise and parse back to itself, and give a hash line that round-trips.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sesame_backup::{aeskw, HashLine, Keybag, UnlockedKeys};

/// Any fixed key: the point is to run the unwrap paths, not to find the password.
const KEY: [u8; 32] = [7; 32];

fuzz_target!(|data: &[u8]| {
    let Ok(kb) = Keybag::parse(data) else {
        return;
    };
    let bytes = kb.to_bytes();
    let again = Keybag::parse(&bytes).expect("a written keybag parses");
    assert_eq!(again, kb, "keybag changed in a round trip");

    let _ = kb.kdf_params();
    for ck in &kb.class_keys {
        let _ = aeskw::unwrap(&KEY, &ck.wpky);
        let _ = (
            ck.password_wrapped(),
            ck.device_only(),
            kb.class_key(ck.class),
        );
    }
    let _ = UnlockedKeys::from_keybag(&kb, &KEY);
    if let Ok(h) = HashLine::from_keybag(&kb) {
        // A hash line holds a 20-byte SALT and DPSL; other lengths cannot be written as one.
        let dpsl_ok = kb.dpsl.as_ref().is_none_or(|s| s.len() == 20);
        if kb.salt.len() == 20 && dpsl_ok {
            let back: HashLine = h
                .to_string()
                .parse()
                .expect("the keybag's hash line parses");
            assert_eq!(back, h);
        }
    }
});
