//! Any bytes as an MBFile record (the NSKeyedArchiver blob in Manifest.db's `file` column). A
//! decoded record must encode and decode back to itself.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sesame_backup::mbfile::{decode_mbfile, encode_mbfile};

fuzz_target!(|data: &[u8]| {
    let Ok(f) = decode_mbfile(data) else {
        return;
    };
    let _ = f.key_class();
    // The encoder always writes a RelativePath (empty when unknown), as iOS does. A string
    // "$null" is how NSKeyedArchiver spells nil, so text that decodes to it (from a data
    // object) comes back as absent.
    let mut want = f.clone();
    let null = |s: &mut Option<String>| {
        if s.as_deref() == Some("$null") {
            *s = None;
        }
    };
    null(&mut want.relative_path);
    null(&mut want.target);
    if f.relative_path.as_deref() != Some("$null") {
        want.relative_path.get_or_insert_with(String::new);
    }
    let again = decode_mbfile(&encode_mbfile(&f)).expect("an encoded record decodes");
    assert_eq!(again, want, "MBFile changed in a round trip");
});
