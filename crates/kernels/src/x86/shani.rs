//! SHA-NI kernel: the x86 SHA extensions, several independent PBKDF2 streams interleaved.
//!
//! One `sha256rnds2` does two rounds but its result feeds the next one, so a single stream runs
//! at the instruction's latency. Interleaving N independent passwords (each stream a different
//! job) lets the out-of-order core issue them at the instruction's throughput instead. The
//! stream count is a const generic so every variant is fully unrolled with its state in
//! registers; `SHANI_STREAMS` in lib.rs records the count measured fastest.
//!
//! Both hashes keep the iteration's digest in the register layout the next compression takes as
//! its message, so the loop never goes through memory or byte swaps.

use core::arch::x86_64::*;

use crate::jobs::{Job1, Job256, SHA1_ITER_BITS, SHA256_ITER_BITS};
use crate::reference::K256;

pub(crate) fn detected() -> bool {
    is_x86_feature_detected!("sha")
        && is_x86_feature_detected!("sse2")
        && is_x86_feature_detected!("ssse3")
        && is_x86_feature_detected!("sse4.1")
}

/// Runs `rounds` PBKDF2 iterations on every job, `STREAMS` at a time; leftovers use fewer
/// streams (a partial group costs the same wall time as a full one, never more).
pub(crate) fn sha256_iterate(jobs: &mut [Job256], rounds: u32) {
    sha256_iterate_streams(jobs, rounds, crate::SHANI_STREAMS);
}

/// As [`sha256_iterate`] with an explicit stream count (1..=8), for benchmarking the choice.
pub(crate) fn sha256_iterate_streams(jobs: &mut [Job256], rounds: u32, streams: usize) {
    assert!(detected(), "SHA-NI kernel entered on a CPU without SHA-NI");
    let mut rest = jobs;
    while !rest.is_empty() {
        let n = rest.len().min(streams.clamp(1, 8));
        let (group, tail) = rest.split_at_mut(n);
        // SAFETY: `detected()` above confirmed sha, sse2, ssse3 and sse4.1, the features these
        // functions are compiled for; the slices have exactly the length each one expects.
        unsafe {
            match n {
                1 => sha256_n::<1>(group.try_into().expect("len 1"), rounds),
                2 => sha256_n::<2>(group.try_into().expect("len 2"), rounds),
                3 => sha256_n::<3>(group.try_into().expect("len 3"), rounds),
                4 => sha256_n::<4>(group.try_into().expect("len 4"), rounds),
                5 => sha256_n::<5>(group.try_into().expect("len 5"), rounds),
                6 => sha256_n::<6>(group.try_into().expect("len 6"), rounds),
                7 => sha256_n::<7>(group.try_into().expect("len 7"), rounds),
                _ => sha256_n::<8>(group.try_into().expect("len 8"), rounds),
            }
        }
        rest = tail;
    }
}

/// SHA-1 for the SHA-NI kernel. Where AVX2 is present this runs the AVX2 kernel instead: on the
/// AMD Zen 3 this was tuned on, 8 AVX2 lanes do a SHA-1 PBKDF2 iteration in about 60% of the
/// time 4 interleaved SHA-NI streams take per job (see BENCHMARKS.md), and the SHA-1 stage is
/// the whole cost of old-scheme backups. CPUs with SHA-NI but no AVX2 (Goldmont Atoms) keep it.
pub(crate) fn sha1_iterate(jobs: &mut [Job1], rounds: u32) {
    if super::avx2::detected() {
        super::avx2::sha1_iterate(jobs, rounds);
    } else {
        sha1_iterate_streams(jobs, rounds, SHA1_STREAMS);
    }
}

/// Streams for SHA-1 (measured; see BENCHMARKS.md).
pub(crate) const SHA1_STREAMS: usize = 4;

pub(crate) fn sha1_iterate_streams(jobs: &mut [Job1], rounds: u32, streams: usize) {
    assert!(detected(), "SHA-NI kernel entered on a CPU without SHA-NI");
    let mut rest = jobs;
    while !rest.is_empty() {
        let n = rest.len().min(streams.clamp(1, 4));
        let (group, tail) = rest.split_at_mut(n);
        // SAFETY: as in `sha256_iterate_streams`: features checked by `detected()`, lengths match.
        unsafe {
            match n {
                1 => sha1_n::<1>(group.try_into().expect("len 1"), rounds),
                2 => sha1_n::<2>(group.try_into().expect("len 2"), rounds),
                3 => sha1_n::<3>(group.try_into().expect("len 3"), rounds),
                _ => sha1_n::<4>(group.try_into().expect("len 4"), rounds),
            }
        }
        rest = tail;
    }
}

// ---------------------------------------------------------------------------------------------
// SHA-256

/// Loads 4 words so that lane i holds `w[i]`.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn load4(w: &[u32]) -> __m128i {
    debug_assert!(w.len() >= 4);
    _mm_loadu_si128(w.as_ptr().cast())
}

#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn store4(w: &mut [u32], v: __m128i) {
    debug_assert!(w.len() >= 4);
    _mm_storeu_si128(w.as_mut_ptr().cast(), v)
}

/// [A,B,C,D],[E,F,G,H] (lane 0 first) to the ABEF/CDGH layout `sha256rnds2` works in.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn to_abef_cdgh(abcd: __m128i, efgh: __m128i) -> (__m128i, __m128i) {
    let badc = _mm_shuffle_epi32(abcd, 0xB1); // lanes B,A,D,C
    let hgfe = _mm_shuffle_epi32(efgh, 0x1B); // lanes H,G,F,E
    let abef = _mm_alignr_epi8(badc, hgfe, 8); // lanes F,E,B,A
    let cdgh = _mm_blend_epi16(hgfe, badc, 0xF0); // lanes H,G,D,C
    (abef, cdgh)
}

/// The inverse of [`to_abef_cdgh`]. Its result is also the digest as message words W0..7.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn from_abef_cdgh(abef: __m128i, cdgh: __m128i) -> (__m128i, __m128i) {
    let abef_r = _mm_shuffle_epi32(abef, 0x1B); // lanes A,B,E,F
    let dchg = _mm_shuffle_epi32(cdgh, 0xB1); // lanes G,H,C,D
    let abcd = _mm_blend_epi16(abef_r, dchg, 0xF0);
    let efgh = _mm_alignr_epi8(dchg, abef_r, 8);
    (abcd, efgh)
}

/// One SHA-256 compression of the fixed iteration block (digest words then constant padding)
/// for each of N streams, interleaved group by group so independent work is adjacent.
#[inline(always)]
unsafe fn compress256<const N: usize>(
    state: &[(__m128i, __m128i); N],
    digest: &[(__m128i, __m128i); N],
) -> [(__m128i, __m128i); N] {
    // Words 8..15 of the block: 0x80000000, zeros, then the bit length.
    let pad0 = _mm_set_epi32(0, 0, 0, 0x8000_0000_u32 as i32);
    let pad1 = _mm_set_epi32(SHA256_ITER_BITS as i32, 0, 0, 0);
    let mut s0: [__m128i; N] = core::array::from_fn(|i| state[i].0);
    let mut s1: [__m128i; N] = core::array::from_fn(|i| state[i].1);
    let mut w: [[__m128i; 4]; N] = core::array::from_fn(|i| [digest[i].0, digest[i].1, pad0, pad1]);
    // One group of 4 rounds per stream, written out for each literal group number (a loop
    // here is not reliably unrolled, and then the ring indices below become memory accesses).
    macro_rules! group {
        ($g:literal) => {{
            let g: usize = $g;
            let k = load4(&K256[4 * g..]);
            for i in 0..N {
                if g >= 4 {
                    // W[g] from W[g-4..g-1] (kept in a ring of 4 vectors).
                    let wm4 = w[i][g % 4];
                    let wm3 = w[i][(g + 1) % 4];
                    let wm2 = w[i][(g + 2) % 4];
                    let wm1 = w[i][(g + 3) % 4];
                    // Words 8..15 of the block are constants (0x80000000, six zeros, the bit
                    // length), which makes two terms constant: for g = 4 the W[9..12] term is
                    // zero, and for g = 6 msg1's W[8..11] + sigma0(W[9..12]) is just W[8..11].
                    let t = match g {
                        4 => _mm_sha256msg1_epu32(wm4, wm3),
                        6 => _mm_add_epi32(pad0, _mm_alignr_epi8(wm1, wm2, 4)),
                        _ => _mm_add_epi32(
                            _mm_sha256msg1_epu32(wm4, wm3),
                            _mm_alignr_epi8(wm1, wm2, 4),
                        ),
                    };
                    w[i][g % 4] = _mm_sha256msg2_epu32(t, wm1);
                }
                let wk = _mm_add_epi32(w[i][g % 4], k);
                s1[i] = _mm_sha256rnds2_epu32(s1[i], s0[i], wk);
                s0[i] = _mm_sha256rnds2_epu32(s0[i], s1[i], _mm_shuffle_epi32(wk, 0x0E));
            }
        }};
    }
    macro_rules! groups {
        ($($g:literal)*) => { $( group!($g); )* };
    }
    groups!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15);
    core::array::from_fn(|i| {
        let abef = _mm_add_epi32(s0[i], state[i].0);
        let cdgh = _mm_add_epi32(s1[i], state[i].1);
        from_abef_cdgh(abef, cdgh)
    })
}

/// # Safety
/// The CPU must support sha, sse2, ssse3 and sse4.1.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn sha256_n<const N: usize>(jobs: &mut [Job256; N], rounds: u32) {
    let istate: [(__m128i, __m128i); N] =
        core::array::from_fn(|i| to_abef_cdgh(load4(&jobs[i].istate), load4(&jobs[i].istate[4..])));
    let ostate: [(__m128i, __m128i); N] =
        core::array::from_fn(|i| to_abef_cdgh(load4(&jobs[i].ostate), load4(&jobs[i].ostate[4..])));
    let mut u: [(__m128i, __m128i); N] =
        core::array::from_fn(|i| (load4(&jobs[i].u), load4(&jobs[i].u[4..])));
    let mut acc: [(__m128i, __m128i); N] =
        core::array::from_fn(|i| (load4(&jobs[i].acc), load4(&jobs[i].acc[4..])));
    for _ in 0..rounds {
        let inner = compress256(&istate, &u);
        u = compress256(&ostate, &inner);
        for i in 0..N {
            acc[i] = (
                _mm_xor_si128(acc[i].0, u[i].0),
                _mm_xor_si128(acc[i].1, u[i].1),
            );
        }
    }
    for i in 0..N {
        store4(&mut jobs[i].u, u[i].0);
        store4(&mut jobs[i].u[4..], u[i].1);
        store4(&mut jobs[i].acc, acc[i].0);
        store4(&mut jobs[i].acc[4..], acc[i].1);
    }
}

// ---------------------------------------------------------------------------------------------
// SHA-1
//
// `sha1rnds4` wants A in the top lane: state ABCD as lanes [D,C,B,A] and E alone in lane 3.
// Message vectors likewise hold W[4g] in lane 3. A digest [a,b,c,d],[e,0,0,0] in that layout is
// exactly message vectors 0 and 1 (with the 0x80 padding word OR-ed into lane 2 of the second).

#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn sha1_state(w: &[u32; 5]) -> (__m128i, __m128i) {
    (
        _mm_set_epi32(w[0] as i32, w[1] as i32, w[2] as i32, w[3] as i32),
        _mm_set_epi32(w[4] as i32, 0, 0, 0),
    )
}

#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn sha1_words(v: (__m128i, __m128i)) -> [u32; 5] {
    let mut abcd = [0u32; 4];
    let mut e = [0u32; 4];
    store4(&mut abcd, v.0);
    store4(&mut e, v.1);
    [abcd[3], abcd[2], abcd[1], abcd[0], e[3]]
}

#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn rnds4(abcd: __m128i, e: __m128i, stage: usize) -> __m128i {
    match stage {
        0 => _mm_sha1rnds4_epu32::<0>(abcd, e),
        1 => _mm_sha1rnds4_epu32::<1>(abcd, e),
        2 => _mm_sha1rnds4_epu32::<2>(abcd, e),
        _ => _mm_sha1rnds4_epu32::<3>(abcd, e),
    }
}

/// One SHA-1 compression of the fixed iteration block for each of N streams.
#[inline]
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn compress1<const N: usize>(
    state: &[(__m128i, __m128i); N],
    digest: &[(__m128i, __m128i); N],
) -> [(__m128i, __m128i); N] {
    let pad1 = _mm_set_epi32(0, 0x8000_0000_u32 as i32, 0, 0); // W5
    let pad3 = _mm_set_epi32(0, 0, 0, SHA1_ITER_BITS as i32); // W15
    let zero = _mm_setzero_si128();
    let mut w: [[__m128i; 4]; N] =
        core::array::from_fn(|i| [digest[i].0, _mm_or_si128(digest[i].1, pad1), zero, pad3]);
    let mut abcd: [__m128i; N] = core::array::from_fn(|i| state[i].0);
    let mut prev = abcd;
    for g in 0..20 {
        for i in 0..N {
            if g >= 4 {
                let t = _mm_sha1msg1_epu32(w[i][g % 4], w[i][(g + 1) % 4]);
                let t = _mm_xor_si128(t, w[i][(g + 2) % 4]);
                w[i][g % 4] = _mm_sha1msg2_epu32(t, w[i][(g + 3) % 4]);
            }
            // E for this group of 4 rounds is the initial E (group 0) or ROL30 of A from the
            // start of the previous group; `sha1nexte` forms that and adds the message.
            let e = if g == 0 {
                _mm_add_epi32(state[i].1, w[i][0])
            } else {
                _mm_sha1nexte_epu32(prev[i], w[i][g % 4])
            };
            prev[i] = abcd[i];
            abcd[i] = rnds4(abcd[i], e, g / 5);
        }
    }
    core::array::from_fn(|i| {
        (
            _mm_add_epi32(abcd[i], state[i].0),
            // Lanes 0..2 stay zero: they come from the state's E vector, which has zeros there.
            _mm_sha1nexte_epu32(prev[i], state[i].1),
        )
    })
}

/// # Safety
/// The CPU must support sha, sse2, ssse3 and sse4.1.
#[target_feature(enable = "sha,sse2,ssse3,sse4.1")]
unsafe fn sha1_n<const N: usize>(jobs: &mut [Job1; N], rounds: u32) {
    let istate: [(__m128i, __m128i); N] = core::array::from_fn(|i| sha1_state(&jobs[i].istate));
    let ostate: [(__m128i, __m128i); N] = core::array::from_fn(|i| sha1_state(&jobs[i].ostate));
    let mut u: [(__m128i, __m128i); N] = core::array::from_fn(|i| sha1_state(&jobs[i].u));
    let mut acc: [(__m128i, __m128i); N] = core::array::from_fn(|i| sha1_state(&jobs[i].acc));
    for _ in 0..rounds {
        let inner = compress1(&istate, &u);
        u = compress1(&ostate, &inner);
        for i in 0..N {
            acc[i] = (
                _mm_xor_si128(acc[i].0, u[i].0),
                _mm_xor_si128(acc[i].1, u[i].1),
            );
        }
    }
    for i in 0..N {
        jobs[i].u = sha1_words(u[i]);
        jobs[i].acc = sha1_words(acc[i]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The SHA-1 streams are bypassed by `sha1_iterate` where AVX2 exists, so check them
    /// directly, at every stream count, against the portable kernel.
    #[test]
    fn sha1_streams_match_portable() {
        if !detected() {
            eprintln!("SKIP: SHA-NI not supported by this CPU");
            return;
        }
        for streams in 1..=4 {
            for n in [1, 2, 3, 4, 5, 9] {
                let mut jobs: Vec<Job1> = (0..n)
                    .map(|i| Job1::new(format!("p{i}").as_bytes(), b"salt", 1 + i as u32 % 2))
                    .collect();
                let mut expect = jobs.clone();
                sha1_iterate_streams(&mut jobs, 777, streams);
                crate::portable::sha1_iterate(&mut expect, 777);
                assert_eq!(jobs, expect, "streams {streams}, {n} jobs");
            }
        }
    }

    #[test]
    fn sha256_streams_match_portable() {
        if !detected() {
            eprintln!("SKIP: SHA-NI not supported by this CPU");
            return;
        }
        for streams in 1..=8 {
            for n in [1, 2, 3, 4, 5, 9, 11] {
                let mut jobs: Vec<Job256> = (0..n)
                    .map(|i| Job256::new(format!("p{i}").as_bytes(), b"salt", 1))
                    .collect();
                let mut expect = jobs.clone();
                sha256_iterate_streams(&mut jobs, 777, streams);
                crate::portable::sha256_iterate(&mut expect, 777);
                assert_eq!(jobs, expect, "streams {streams}, {n} jobs");
            }
        }
    }
}
