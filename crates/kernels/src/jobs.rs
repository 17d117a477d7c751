//! Per-password setup shared by every kernel.
//!
//! PBKDF2's cost is all in the iteration loop, and every iteration hashes a fixed-format block:
//! the previous digest followed by constant padding. So the kernels only ever see "jobs": the
//! HMAC ipad/opad midstates (computed once per password here), the current U, and the running
//! XOR of all U so far. Everything variable-length (long passwords, any salt length) is handled
//! here, once, by the reference code.

use crate::reference::{
    sha1, sha1_compress, sha1_finish_from, sha256, sha256_compress, sha256_finish_from, SHA1_IV,
    SHA256_IV,
};

/// One PBKDF2-HMAC-SHA256 output block in flight. Words are big-endian-decoded digest words.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, zeroize::Zeroize)]
pub(crate) struct Job256 {
    pub istate: [u32; 8],
    pub ostate: [u32; 8],
    pub u: [u32; 8],
    pub acc: [u32; 8],
}

/// One PBKDF2-HMAC-SHA1 output block in flight.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, zeroize::Zeroize)]
pub(crate) struct Job1 {
    pub istate: [u32; 5],
    pub ostate: [u32; 5],
    pub u: [u32; 5],
    pub acc: [u32; 5],
}

/// The padded HMAC key block (RFC 2104: keys over 64 bytes are hashed first).
fn key_block(password: &[u8], hash: impl Fn(&[u8]) -> Vec<u8>) -> [u8; 64] {
    let mut block = [0u8; 64];
    if password.len() > 64 {
        let d = hash(password);
        block[..d.len()].copy_from_slice(&d);
    } else {
        block[..password.len()].copy_from_slice(password);
    }
    block
}

fn xor_block(key: &[u8; 64], pad: u8) -> [u8; 64] {
    let mut b = *key;
    for x in &mut b {
        *x ^= pad;
    }
    b
}

fn words<const N: usize>(bytes: &[u8]) -> [u32; N] {
    let mut w = [0u32; N];
    for (wi, c) in w.iter_mut().zip(bytes.chunks_exact(4)) {
        *wi = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
    }
    w
}

/// salt || INT(block_index), the message of U1.
fn first_message(salt: &[u8], block_index: u32) -> Vec<u8> {
    let mut m = Vec::with_capacity(salt.len() + 4);
    m.extend_from_slice(salt);
    m.extend_from_slice(&block_index.to_be_bytes());
    m
}

impl Job256 {
    /// Sets up output block `block_index` (1-based) for `password`, with U1 already computed.
    pub fn new(password: &[u8], salt: &[u8], block_index: u32) -> Self {
        let key = key_block(password, |d| sha256(d).to_vec());
        let mut istate = SHA256_IV;
        sha256_compress(&mut istate, &xor_block(&key, 0x36));
        let mut ostate = SHA256_IV;
        sha256_compress(&mut ostate, &xor_block(&key, 0x5c));
        let inner = sha256_finish_from(istate, 64, &first_message(salt, block_index));
        let u = words(&sha256_finish_from(ostate, 64, &inner));
        Job256 {
            istate,
            ostate,
            u,
            acc: u,
        }
    }

    pub fn output(&self) -> [u8; 32] {
        crate::reference::words_to_bytes(&self.acc)
    }
}

impl Job1 {
    pub fn new(password: &[u8], salt: &[u8], block_index: u32) -> Self {
        let key = key_block(password, |d| sha1(d).to_vec());
        let mut istate = SHA1_IV;
        sha1_compress(&mut istate, &xor_block(&key, 0x36));
        let mut ostate = SHA1_IV;
        sha1_compress(&mut ostate, &xor_block(&key, 0x5c));
        let inner = sha1_finish_from(istate, 64, &first_message(salt, block_index));
        let u = words(&sha1_finish_from(ostate, 64, &inner));
        Job1 {
            istate,
            ostate,
            u,
            acc: u,
        }
    }

    pub fn output(&self) -> [u8; 20] {
        crate::reference::words_to_bytes(&self.acc)
    }
}

/// Word 15 of the fixed iteration block for SHA-256: the bit length of ipad/opad block (64
/// bytes) plus a 32-byte digest.
pub(crate) const SHA256_ITER_BITS: u32 = (64 + 32) * 8;
/// Same for SHA-1: 64-byte pad block plus a 20-byte digest.
pub(crate) const SHA1_ITER_BITS: u32 = (64 + 20) * 8;
