//! What the CPU prepares for a batch: per password the HMAC inner and outer states (the only
//! thing uploaded per password; a password longer than the 64-byte block is hashed first, as
//! HMAC requires), and once per batch the padded `salt || INT(block)` messages.

use crate::codegen::layout::*;
use sesame_kernels::reference::{self, SHA1_IV, SHA256_IV};
use zeroize::Zeroize;

fn key_block(key: &[u8], hash: impl Fn(&[u8]) -> Vec<u8>) -> [u8; 64] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        let d = hash(key);
        block[..d.len()].copy_from_slice(&d);
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    block
}

fn xor_block(block: &[u8; 64], pad: u8) -> [u8; 64] {
    let mut out = *block;
    for b in &mut out {
        *b ^= pad;
    }
    out
}

/// HMAC-SHA256 inner and outer states of `key`.
pub fn hmac_states_sha256(key: &[u8]) -> ([u32; 8], [u32; 8]) {
    let kb = key_block(key, |d| reference::sha256(d).to_vec());
    let (mut i, mut o) = (SHA256_IV, SHA256_IV);
    reference::sha256_compress(&mut i, &xor_block(&kb, 0x36));
    reference::sha256_compress(&mut o, &xor_block(&kb, 0x5c));
    (i, o)
}

/// HMAC-SHA1 inner and outer states of `key`.
pub fn hmac_states_sha1(key: &[u8]) -> ([u32; 5], [u32; 5]) {
    let kb = key_block(key, |d| reference::sha1(d).to_vec());
    let (mut i, mut o) = (SHA1_IV, SHA1_IV);
    reference::sha1_compress(&mut i, &xor_block(&kb, 0x36));
    reference::sha1_compress(&mut o, &xor_block(&kb, 0x5c));
    (i, o)
}

/// `salt || INT(block)` padded as the tail of an HMAC inner hash (after the 64-byte key block),
/// as big-endian words, 16 per 64-byte block. SHA-1 and SHA-256 pad the same way.
pub fn salt_message(salt: &[u8], block: u32) -> Vec<u32> {
    let mut m = salt.to_vec();
    m.extend_from_slice(&block.to_be_bytes());
    let bits = ((64 + m.len()) as u64) * 8;
    m.push(0x80);
    while m.len() % 64 != 56 {
        m.push(0);
    }
    m.extend_from_slice(&bits.to_be_bytes());
    m.chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
        .collect()
}

/// Everything uploaded for one batch.
pub struct Batch {
    /// Passwords in the batch.
    pub n: usize,
    /// SHA-256 lane states (structure of arrays), inner/outer filled in; empty for the old scheme.
    pub st256: Vec<u32>,
    /// SHA-1 lane states, `2 * n` lanes; inner/outer filled in for the old scheme only (for the
    /// new scheme the GPU derives them from the SHA-256 stage's output).
    pub st1: Vec<u32>,
    /// SHA-256 salt message blocks, then the SHA-1 ones for output blocks 1 and 2.
    pub msg: Vec<u32>,
    /// Blocks in the SHA-256 message (0 for the old scheme).
    pub nb256: u32,
    /// Blocks in each SHA-1 message.
    pub nb1: u32,
}

impl Drop for Batch {
    fn drop(&mut self) {
        // The pad states are password equivalents: wipe them.
        self.st256.zeroize();
        self.st1.zeroize();
    }
}

/// Prepares a batch for `passwords` under `spec`.
pub fn prepare(passwords: &[&[u8]], spec: &crate::KdfSpec) -> Batch {
    let n = passwords.len();
    let mut st256 = Vec::new();
    let mut st1 = vec![0u32; ST1_WORDS * 2 * n];
    let mut msg = Vec::new();
    let mut nb256 = 0;
    if let Some((dpsl, _)) = &spec.dp {
        st256 = vec![0u32; ST256_WORDS * n];
        for (i, pw) in passwords.iter().enumerate() {
            let (is, os) = hmac_states_sha256(pw);
            for k in 0..8 {
                st256[(S256_I + k) * n + i] = is[k];
                st256[(S256_O + k) * n + i] = os[k];
            }
        }
        let m = salt_message(dpsl, 1);
        nb256 = (m.len() / 16) as u32;
        msg.extend_from_slice(&m);
    } else {
        for (i, pw) in passwords.iter().enumerate() {
            let (is, os) = hmac_states_sha1(pw);
            for lane in [2 * i, 2 * i + 1] {
                for k in 0..5 {
                    st1[(S1_I + k) * 2 * n + lane] = is[k];
                    st1[(S1_O + k) * 2 * n + lane] = os[k];
                }
            }
        }
    }
    let m1 = salt_message(&spec.salt, 1);
    let m2 = salt_message(&spec.salt, 2);
    let nb1 = (m1.len() / 16) as u32;
    msg.extend_from_slice(&m1);
    msg.extend_from_slice(&m2);
    Batch {
        n,
        st256,
        st1,
        msg,
        nb256,
        nb1,
    }
}

/// The 32-byte keys from the SHA-1 lanes' T words (`20 * 2n` words as downloaded, or just the T
/// part: `t` is indexed as word `k` of lane `l` at `k * 2n + l`).
pub fn keys_from_t(t: &[u32], n: usize) -> Vec<[u8; 32]> {
    let lanes = 2 * n;
    (0..n)
        .map(|i| {
            let mut key = [0u8; 32];
            let words = (0..5)
                .map(|k| t[k * lanes + 2 * i])
                .chain((0..3).map(|k| t[k * lanes + 2 * i + 1]));
            for (chunk, w) in key.chunks_exact_mut(4).zip(words) {
                chunk.copy_from_slice(&w.to_be_bytes());
            }
            key
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salt_message_is_padded_sha_input() {
        // HMAC-SHA256 inner hash of salt||INT(1) == compress(istate, message blocks).
        for len in [0usize, 20, 51, 52, 60, 100] {
            let salt: Vec<u8> = (0..len as u8).collect();
            let key = b"key";
            let (mut is, _) = hmac_states_sha256(key);
            for b in salt_message(&salt, 1).chunks_exact(16) {
                reference::sha256_compress_words(&mut is, b.try_into().unwrap());
            }
            let mut expect = [0x36u8; 64].to_vec();
            for (e, k) in expect.iter_mut().zip(key) {
                *e ^= k;
            }
            expect.extend_from_slice(&salt);
            expect.extend_from_slice(&1u32.to_be_bytes());
            let d = reference::sha256(&expect);
            let got: Vec<u8> = is.iter().flat_map(|w| w.to_be_bytes()).collect();
            assert_eq!(got, d, "salt length {len}");
        }
    }
}
