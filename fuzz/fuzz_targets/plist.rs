//! Any bytes as a plist (binary or XML) through the depth-checking parser every backup reader
//! uses. Whatever it accepts must survive a binary write and read back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use plist::Value;
use sesame_backup::plistsafe;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = plistsafe::parse(data) else {
        return;
    };
    let mut binary = Vec::new();
    value
        .to_writer_binary(&mut binary)
        .expect("a parsed value writes back");
    let again = plistsafe::parse(&binary).expect("our own binary plist parses");
    assert!(same(&value, &again), "binary round trip changed the value");
    // XML can't hold every string (control characters), so only check it doesn't panic.
    let mut xml = Vec::new();
    if value.to_writer_xml(&mut xml).is_ok() {
        let _ = plistsafe::parse(&xml);
    }
});

/// Equality where NaN reals equal themselves (bit for bit), so NaN doesn't fail the check.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Real(x), Value::Real(y)) => x.to_bits() == y.to_bits() || x == y,
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same(x, y))
        }
        (Value::Dictionary(x), Value::Dictionary(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}
