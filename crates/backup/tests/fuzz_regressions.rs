//! Inputs the fuzz targets (fuzz/, scripts/fuzz.sh) found to crash, hang or exhaust memory,
//! kept as tests so they stay fixed.

use sesame_backup::plistsafe;

/// A binary plist whose object `k` is an array holding object `k - 1` twice: `depth + 2`
/// objects, a few bytes each, that expand to 2^depth leaves when references are followed.
fn doubling_plist(depth: u16) -> Vec<u8> {
    let mut objects: Vec<Vec<u8>> = vec![vec![0x10, 1]]; // object 0: the integer 1
    for k in 1..=depth {
        let mut a = vec![0xA2]; // an array of 2 references, 2 bytes each
        a.extend_from_slice(&(k - 1).to_be_bytes());
        a.extend_from_slice(&(k - 1).to_be_bytes());
        objects.push(a);
    }
    let mut out = b"bplist00".to_vec();
    let mut offsets = Vec::new();
    for o in &objects {
        offsets.push(out.len() as u16);
        out.extend_from_slice(o);
    }
    let table = out.len() as u64;
    for off in offsets {
        out.extend_from_slice(&off.to_be_bytes());
    }
    out.extend_from_slice(&[0, 0, 0, 0, 0, 0, 2, 2]); // offset and reference sizes: 2 bytes
    out.extend_from_slice(&(objects.len() as u64).to_be_bytes());
    out.extend_from_slice(&u64::from(depth).to_be_bytes()); // the top object
    out.extend_from_slice(&table.to_be_bytes());
    out
}

/// fuzz target `plist`: the parser builds a tree, so shared references are copied out. 60
/// levels (under 500 bytes) never finished and grew without bound; 20 levels already make a
/// million values from 170 bytes. Such a file must be refused, not expanded.
#[test]
fn shared_references_that_expand_exponentially_are_refused() {
    let small = doubling_plist(20);
    assert!(small.len() < 200);
    let err = plistsafe::parse(&small).unwrap_err();
    assert!(err.contains("expand"), "{err}");
    let huge = doubling_plist(60);
    assert!(plistsafe::parse(&huge).unwrap_err().contains("expand"));
}

/// Sharing that does not multiply (the same string under many keys, as writers dedupe it)
/// still parses.
#[test]
fn shared_scalars_still_parse() {
    let shared = plist::Value::String("AirPort".into());
    let items: Vec<plist::Value> = (0..5000)
        .map(|_| plist::Value::Array(vec![shared.clone(), shared.clone()]))
        .collect();
    let mut bytes = Vec::new();
    plist::Value::Array(items.clone())
        .to_writer_binary(&mut bytes)
        .unwrap();
    assert_eq!(
        plistsafe::parse(&bytes).unwrap(),
        plist::Value::Array(items)
    );
}
