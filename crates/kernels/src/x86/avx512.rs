//! AVX-512 kernel: 16 passwords at once, one per 32-bit lane of a 512-bit register.
//!
//! Compared with AVX2 it doubles the lanes and has single-instruction rotates (`vprord`) and
//! three-input logic (`vpternlogd`) for SHA's choose, majority and three-way XOR.
//!
//! The SHA-256 loop is the compact form (`lanes::compress256_compact`): on a Zen 5 the fully
//! unrolled pair of compressions was bound by the front end, not the vector pipes.
//!
//! Two forms: one 16-lane state per call, and two interleaved (32 passwords a call), whose
//! second dependency chain fills the vector units that one chain leaves idle on cores with
//! more of them than it needs. On a 2-port AVX-512 Xeon the single form is faster (the pair's
//! 48 live vectors do not fit in 32 registers and spill); which one runs is measured per CPU
//! (see BENCHMARKS.md).

use core::arch::x86_64::*;

use super::lanes::{self, U32x};
use crate::jobs::{Job1, Job256};

pub(crate) fn detected() -> bool {
    is_x86_feature_detected!("avx512f")
}

#[derive(Clone, Copy)]
struct Avx512(__m512i);

// Each method is a single intrinsic; they are only reached from `kernel_*` below, whose
// `target_feature(enable = "avx512f")` they are inlined into.
impl U32x for Avx512 {
    const LANES: usize = 16;
    #[inline(always)]
    unsafe fn splat(x: u32) -> Self {
        Avx512(_mm512_set1_epi32(x as i32))
    }
    #[inline(always)]
    unsafe fn load(src: &[u32]) -> Self {
        assert!(src.len() >= 16);
        Avx512(_mm512_loadu_si512(src.as_ptr().cast()))
    }
    #[inline(always)]
    unsafe fn store(self, dst: &mut [u32]) {
        assert!(dst.len() >= 16);
        _mm512_storeu_si512(dst.as_mut_ptr().cast(), self.0)
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        Avx512(_mm512_add_epi32(self.0, o.0))
    }
    #[inline(always)]
    unsafe fn xor(self, o: Self) -> Self {
        Avx512(_mm512_xor_si512(self.0, o.0))
    }
    #[inline(always)]
    unsafe fn and(self, o: Self) -> Self {
        Avx512(_mm512_and_si512(self.0, o.0))
    }
    #[inline(always)]
    unsafe fn or(self, o: Self) -> Self {
        Avx512(_mm512_or_si512(self.0, o.0))
    }
    #[inline(always)]
    unsafe fn ror<const R: i32, const L: i32>(self) -> Self {
        Avx512(_mm512_ror_epi32::<R>(self.0))
    }
    #[inline(always)]
    unsafe fn shr<const R: i32>(self) -> Self {
        // The immediate form takes a u32 const that stable Rust cannot derive from R; a constant
        // count vector compiles to the same immediate shift.
        Avx512(_mm512_srl_epi32(self.0, _mm_cvtsi32_si128(R)))
    }
    // Not `inline(always)` (which cannot carry a target feature): the asm's zmm register
    // needs AVX-512F named here, and a one-instruction callee inlines into the kernels, which
    // enable it too.
    #[inline]
    #[target_feature(enable = "avx512f")]
    unsafe fn pin(self) -> Self {
        let mut v = self.0;
        // SAFETY: an empty instruction string: the register is left as it was; the asm only
        // keeps the compiler from moving additions across this point.
        core::arch::asm!("/* {0} */", inout(zmm_reg) v, options(pure, nomem, nostack, preserves_flags));
        Avx512(v)
    }
    // vpternlogd truth tables, indexed by (a<<2 | b<<1 | c) with a = self: 0x96 is a^b^c,
    // 0xCA is a ? b : c, 0xE8 is majority.
    #[inline(always)]
    unsafe fn xor3(self, y: Self, z: Self) -> Self {
        Avx512(_mm512_ternarylogic_epi32::<0x96>(self.0, y.0, z.0))
    }
    #[inline(always)]
    unsafe fn ch(self, y: Self, z: Self) -> Self {
        Avx512(_mm512_ternarylogic_epi32::<0xCA>(self.0, y.0, z.0))
    }
    #[inline(always)]
    unsafe fn maj(self, y: Self, z: Self) -> Self {
        Avx512(_mm512_ternarylogic_epi32::<0xE8>(self.0, y.0, z.0))
    }
}

/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn kernel_sha256(jobs: &mut [Job256], rounds: u32) {
    lanes::sha256_iterate_compact::<Avx512>(jobs, rounds)
}

/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn kernel_sha1(jobs: &mut [Job1], rounds: u32) {
    lanes::sha1_iterate::<Avx512>(jobs, rounds)
}

/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn kernel_sha256_x2(jobs: &mut [Job256], rounds: u32) {
    lanes::sha256_iterate_x2::<Avx512>(jobs, rounds)
}

/// # Safety
/// The CPU must support AVX-512F.
#[target_feature(enable = "avx512f")]
unsafe fn kernel_sha1_x2(jobs: &mut [Job1], rounds: u32) {
    lanes::sha1_iterate_x2::<Avx512>(jobs, rounds)
}

pub(crate) fn sha256_iterate_x2(jobs: &mut [Job256], rounds: u32) {
    assert!(
        detected(),
        "AVX-512 kernel entered on a CPU without AVX-512F"
    );
    // SAFETY: AVX-512F support was just confirmed at run time.
    unsafe { kernel_sha256_x2(jobs, rounds) }
}

pub(crate) fn sha1_iterate_x2(jobs: &mut [Job1], rounds: u32) {
    assert!(
        detected(),
        "AVX-512 kernel entered on a CPU without AVX-512F"
    );
    // SAFETY: AVX-512F support was just confirmed at run time.
    unsafe { kernel_sha1_x2(jobs, rounds) }
}

pub(crate) fn sha256_iterate(jobs: &mut [Job256], rounds: u32) {
    assert!(
        detected(),
        "AVX-512 kernel entered on a CPU without AVX-512F"
    );
    // SAFETY: AVX-512F support was just confirmed at run time.
    unsafe { kernel_sha256(jobs, rounds) }
}

pub(crate) fn sha1_iterate(jobs: &mut [Job1], rounds: u32) {
    assert!(
        detected(),
        "AVX-512 kernel entered on a CPU without AVX-512F"
    );
    // SAFETY: AVX-512F support was just confirmed at run time.
    unsafe { kernel_sha1(jobs, rounds) }
}
