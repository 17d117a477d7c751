//! Plain one-password reference implementations: SHA-256, SHA-1, HMAC and PBKDF2.
//!
//! These are written for clarity, not speed, and share no code with the fast kernels beyond the
//! compression functions, so that the kernels can be checked against them. They have no
//! dependencies; the test suite checks them in turn against the RustCrypto crates.

/// SHA-256 round constants (FIPS 180-4 §4.2.2).
pub const K256: [u32; 64] = [
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
];

/// SHA-256 initial hash value (FIPS 180-4 §5.3.3).
pub const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// SHA-1 round constants, one per 20-round stage.
pub const K1: [u32; 4] = [0x5a827999, 0x6ed9eba1, 0x8f1bbcdc, 0xca62c1d6];

/// SHA-1 initial hash value (FIPS 180-4 §5.3.1).
pub const SHA1_IV: [u32; 5] = [0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0];

/// One SHA-256 compression of a block given as 16 big-endian words.
#[inline(always)]
pub fn sha256_compress_words(state: &mut [u32; 8], block: &[u32; 16]) {
    let mut w = [0u32; 64];
    w[..16].copy_from_slice(block);
    for t in 16..64 {
        let s0 = w[t - 15].rotate_right(7) ^ w[t - 15].rotate_right(18) ^ (w[t - 15] >> 3);
        let s1 = w[t - 2].rotate_right(17) ^ w[t - 2].rotate_right(19) ^ (w[t - 2] >> 10);
        w[t] = w[t - 16]
            .wrapping_add(s0)
            .wrapping_add(w[t - 7])
            .wrapping_add(s1);
    }
    let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut h] = *state;
    for t in 0..64 {
        let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
        let ch = (e & f) ^ (!e & g);
        let t1 = h
            .wrapping_add(s1)
            .wrapping_add(ch)
            .wrapping_add(K256[t])
            .wrapping_add(w[t]);
        let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
        let maj = (a & b) ^ (a & c) ^ (b & c);
        let t2 = s0.wrapping_add(maj);
        h = g;
        g = f;
        f = e;
        e = d.wrapping_add(t1);
        d = c;
        c = b;
        b = a;
        a = t1.wrapping_add(t2);
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e, f, g, h]) {
        *s = s.wrapping_add(v);
    }
}

/// One SHA-256 compression of a 64-byte block.
pub fn sha256_compress(state: &mut [u32; 8], block: &[u8; 64]) {
    sha256_compress_words(state, &be_words(block));
}

/// One SHA-1 compression of a block given as 16 big-endian words.
#[inline(always)]
pub fn sha1_compress_words(state: &mut [u32; 5], block: &[u32; 16]) {
    let mut w = [0u32; 80];
    w[..16].copy_from_slice(block);
    for t in 16..80 {
        w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
    }
    let [mut a, mut b, mut c, mut d, mut e] = *state;
    for (t, &wt) in w.iter().enumerate() {
        let f = match t / 20 {
            0 => (b & c) | (!b & d),
            2 => (b & c) | (b & d) | (c & d),
            _ => b ^ c ^ d,
        };
        let tmp = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(K1[t / 20])
            .wrapping_add(wt);
        e = d;
        d = c;
        c = b.rotate_left(30);
        b = a;
        a = tmp;
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e]) {
        *s = s.wrapping_add(v);
    }
}

/// One SHA-1 compression of a 64-byte block.
pub fn sha1_compress(state: &mut [u32; 5], block: &[u8; 64]) {
    sha1_compress_words(state, &be_words(block));
}

pub(crate) fn be_words(block: &[u8; 64]) -> [u32; 16] {
    let mut w = [0u32; 16];
    for (wi, chunk) in w.iter_mut().zip(block.chunks_exact(4)) {
        *wi = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    }
    w
}

/// Merkle–Damgård padding shared by SHA-1 and SHA-256: feeds `data` then the padding to
/// `compress`, as if `prefix_len` bytes had already been absorbed (a whole number of blocks).
/// Taking a prefix length lets HMAC continue from a precomputed ipad/opad state.
pub(crate) fn md_finish(prefix_len: u64, data: &[u8], mut compress: impl FnMut(&[u8; 64])) {
    let total_bits = (prefix_len + data.len() as u64) * 8;
    let mut chunks = data.chunks_exact(64);
    for block in &mut chunks {
        compress(block.try_into().expect("64-byte chunk"));
    }
    let rest = chunks.remainder();
    let mut last = [0u8; 128];
    last[..rest.len()].copy_from_slice(rest);
    last[rest.len()] = 0x80;
    // The 64-bit length must fit after the 0x80 byte; otherwise it spills into a second block.
    let len = if rest.len() < 56 { 64 } else { 128 };
    last[len - 8..len].copy_from_slice(&total_bits.to_be_bytes());
    for block in last[..len].chunks_exact(64) {
        compress(block.try_into().expect("64-byte chunk"));
    }
}

/// Continue a SHA-256 computation from `state` after `prefix_len` bytes, absorbing `data` and
/// the final padding; returns the digest.
pub(crate) fn sha256_finish_from(mut state: [u32; 8], prefix_len: u64, data: &[u8]) -> [u8; 32] {
    md_finish(prefix_len, data, |b| sha256_compress(&mut state, b));
    words_to_bytes(&state)
}

/// Continue a SHA-1 computation from `state` after `prefix_len` bytes.
pub(crate) fn sha1_finish_from(mut state: [u32; 5], prefix_len: u64, data: &[u8]) -> [u8; 20] {
    md_finish(prefix_len, data, |b| sha1_compress(&mut state, b));
    words_to_bytes(&state)
}

pub(crate) fn words_to_bytes<const W: usize, const B: usize>(words: &[u32; W]) -> [u8; B] {
    let mut out = [0u8; B];
    for (chunk, w) in out.chunks_exact_mut(4).zip(words) {
        chunk.copy_from_slice(&w.to_be_bytes());
    }
    out
}

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    sha256_finish_from(SHA256_IV, 0, data)
}

/// SHA-1 of `data`.
pub fn sha1(data: &[u8]) -> [u8; 20] {
    sha1_finish_from(SHA1_IV, 0, data)
}

/// HMAC key block: keys longer than the 64-byte block are hashed first (RFC 2104 §2).
fn hmac_key_block(key: &[u8], hash: impl Fn(&[u8]) -> Vec<u8>) -> [u8; 64] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        let digest = hash(key);
        block[..digest.len()].copy_from_slice(&digest);
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    block
}

fn hmac_generic(key: &[u8], msg: &[u8], hash: impl Fn(&[u8]) -> Vec<u8>) -> Vec<u8> {
    let key = hmac_key_block(key, &hash);
    let mut inner: Vec<u8> = key.iter().map(|b| b ^ 0x36).collect();
    inner.extend_from_slice(msg);
    let inner_digest = hash(&inner);
    let mut outer: Vec<u8> = key.iter().map(|b| b ^ 0x5c).collect();
    outer.extend_from_slice(&inner_digest);
    hash(&outer)
}

/// HMAC-SHA256 (RFC 2104).
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let v = hmac_generic(key, msg, |d| sha256(d).to_vec());
    v.try_into().expect("32-byte digest")
}

/// HMAC-SHA1 (RFC 2104).
pub fn hmac_sha1(key: &[u8], msg: &[u8]) -> [u8; 20] {
    let v = hmac_generic(key, msg, |d| sha1(d).to_vec());
    v.try_into().expect("20-byte digest")
}

/// PBKDF2 (RFC 8018 §5.2) over any PRF; `out.len()` is dkLen. An iteration count of 0 is
/// treated as 1, as the `pbkdf2` crate does, so that every entry point agrees.
fn pbkdf2_generic<const H: usize>(
    prf: impl Fn(&[u8]) -> [u8; H],
    salt: &[u8],
    iterations: u32,
    out: &mut [u8],
) {
    for (i, chunk) in out.chunks_mut(H).enumerate() {
        let mut msg = salt.to_vec();
        msg.extend_from_slice(&(i as u32 + 1).to_be_bytes());
        let mut u = prf(&msg);
        let mut t = u;
        for _ in 1..iterations {
            u = prf(&u);
            for (ti, ui) in t.iter_mut().zip(&u) {
                *ti ^= ui;
            }
        }
        chunk.copy_from_slice(&t[..chunk.len()]);
    }
}

/// PBKDF2-HMAC-SHA256 of one password; `out.len()` is the derived key length.
pub fn pbkdf2_hmac_sha256(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    pbkdf2_generic(|m| hmac_sha256(password, m), salt, iterations, out);
}

/// PBKDF2-HMAC-SHA1 of one password; `out.len()` is the derived key length.
pub fn pbkdf2_hmac_sha1(password: &[u8], salt: &[u8], iterations: u32, out: &mut [u8]) {
    pbkdf2_generic(|m| hmac_sha1(password, m), salt, iterations, out);
}
