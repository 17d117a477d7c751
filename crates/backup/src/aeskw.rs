//! AES-256 key wrap (RFC 3394), as the keybag, ManifestKey and file keys use it.

use aes::cipher::{generic_array::GenericArray, BlockDecrypt, BlockEncrypt, KeyInit};
use aes::Aes256;
use zeroize::Zeroizing;

/// The integrity value RFC 3394 puts in front of the wrapped key.
pub const IV: u64 = 0xA6A6_A6A6_A6A6_A6A6;

/// Unwraps `wrapped` (8*(n+1) bytes, n >= 2) with a 32-byte key encryption key.
/// Returns None when the length is wrong or the integrity check fails (wrong key).
pub fn unwrap(kek: &[u8; 32], wrapped: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if !wrapped.len().is_multiple_of(8) || wrapped.len() < 24 {
        return None;
    }
    let cipher = Aes256::new(GenericArray::from_slice(kek));
    let n = wrapped.len() / 8 - 1;
    let mut a = u64::from_be_bytes(wrapped[..8].try_into().ok()?);
    let mut r = Zeroizing::new(wrapped[8..].to_vec());
    let mut block = GenericArray::from([0u8; 16]);
    for j in (0..6u64).rev() {
        for i in (1..=n).rev() {
            let t = (n as u64) * j + i as u64;
            block[..8].copy_from_slice(&(a ^ t).to_be_bytes());
            block[8..].copy_from_slice(&r[(i - 1) * 8..i * 8]);
            cipher.decrypt_block(&mut block);
            a = u64::from_be_bytes(block[..8].try_into().ok()?);
            r[(i - 1) * 8..i * 8].copy_from_slice(&block[8..]);
        }
    }
    block.iter_mut().for_each(|b| *b = 0);
    (a == IV).then_some(r)
}

/// Unwraps a 40-byte wrapped 32-byte key.
pub fn unwrap_key(kek: &[u8; 32], wrapped: &[u8]) -> Option<Zeroizing<[u8; 32]>> {
    if wrapped.len() != 40 {
        return None;
    }
    let v = unwrap(kek, wrapped)?;
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&v);
    Some(out)
}

/// Wraps `key` (a multiple of 8 bytes, at least 16) with a 32-byte key encryption key.
pub fn wrap(kek: &[u8; 32], key: &[u8]) -> Vec<u8> {
    assert!(
        key.len().is_multiple_of(8) && key.len() >= 16,
        "key wrap needs 8*n bytes, n >= 2"
    );
    let cipher = Aes256::new(GenericArray::from_slice(kek));
    let n = key.len() / 8;
    let mut a = IV;
    let mut r = key.to_vec();
    let mut block = GenericArray::from([0u8; 16]);
    for j in 0..6u64 {
        for i in 1..=n {
            block[..8].copy_from_slice(&a.to_be_bytes());
            block[8..].copy_from_slice(&r[(i - 1) * 8..i * 8]);
            cipher.encrypt_block(&mut block);
            let t = (n as u64) * j + i as u64;
            a = u64::from_be_bytes(block[..8].try_into().expect("8 bytes")) ^ t;
            r[(i - 1) * 8..i * 8].copy_from_slice(&block[8..]);
        }
    }
    let mut out = a.to_be_bytes().to_vec();
    out.extend_from_slice(&r);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 3394 section 4.6: wrap 256 bits of key data with a 256-bit KEK.
    #[test]
    fn rfc3394_known_answer() {
        let kek: [u8; 32] =
            hex::decode("000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F")
                .unwrap()
                .try_into()
                .unwrap();
        let key = hex::decode("00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F")
            .unwrap();
        let expected = hex::decode(
            "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21",
        )
        .unwrap();
        assert_eq!(wrap(&kek, &key), expected);
        assert_eq!(unwrap(&kek, &expected).unwrap().as_slice(), key.as_slice());
        let mut bad = expected.clone();
        bad[5] ^= 1;
        assert!(unwrap(&kek, &bad).is_none());
    }

    proptest::proptest! {
        #[test]
        fn unwrap_never_panics(kek in proptest::array::uniform32(0u8..), data in proptest::collection::vec(0u8.., 0..100)) {
            let _ = unwrap(&kek, &data);
            let _ = unwrap_key(&kek, &data);
        }
    }
}
