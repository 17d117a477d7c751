//! AVX2 kernel: 8 passwords at once, one per 32-bit lane of a 256-bit register.

use core::arch::x86_64::*;

use super::lanes::{self, U32x};
use crate::jobs::{Job1, Job256};

pub(crate) fn detected() -> bool {
    is_x86_feature_detected!("avx2")
}

#[derive(Clone, Copy)]
struct Avx2(__m256i);

// Each method is a single intrinsic; they are only reached from `kernel_*` below, whose
// `target_feature(enable = "avx2")` they are inlined into.
impl U32x for Avx2 {
    const LANES: usize = 8;
    #[inline(always)]
    unsafe fn splat(x: u32) -> Self {
        Avx2(_mm256_set1_epi32(x as i32))
    }
    #[inline(always)]
    unsafe fn load(src: &[u32]) -> Self {
        assert!(src.len() >= 8);
        Avx2(_mm256_loadu_si256(src.as_ptr().cast()))
    }
    #[inline(always)]
    unsafe fn store(self, dst: &mut [u32]) {
        assert!(dst.len() >= 8);
        _mm256_storeu_si256(dst.as_mut_ptr().cast(), self.0)
    }
    #[inline(always)]
    unsafe fn add(self, o: Self) -> Self {
        Avx2(_mm256_add_epi32(self.0, o.0))
    }
    #[inline(always)]
    unsafe fn xor(self, o: Self) -> Self {
        Avx2(_mm256_xor_si256(self.0, o.0))
    }
    #[inline(always)]
    unsafe fn and(self, o: Self) -> Self {
        Avx2(_mm256_and_si256(self.0, o.0))
    }
    #[inline(always)]
    unsafe fn or(self, o: Self) -> Self {
        Avx2(_mm256_or_si256(self.0, o.0))
    }
    #[inline(always)]
    unsafe fn ror<const R: i32, const L: i32>(self) -> Self {
        Avx2(_mm256_or_si256(
            _mm256_srli_epi32::<R>(self.0),
            _mm256_slli_epi32::<L>(self.0),
        ))
    }
    #[inline(always)]
    unsafe fn shr<const R: i32>(self) -> Self {
        Avx2(_mm256_srli_epi32::<R>(self.0))
    }
}

/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
unsafe fn kernel_sha256(jobs: &mut [Job256], rounds: u32) {
    lanes::sha256_iterate::<Avx2>(jobs, rounds)
}

/// # Safety
/// The CPU must support AVX2.
#[target_feature(enable = "avx2")]
unsafe fn kernel_sha1(jobs: &mut [Job1], rounds: u32) {
    lanes::sha1_iterate::<Avx2>(jobs, rounds)
}

pub(crate) fn sha256_iterate(jobs: &mut [Job256], rounds: u32) {
    assert!(detected(), "AVX2 kernel entered on a CPU without AVX2");
    // SAFETY: AVX2 support was just confirmed at run time.
    unsafe { kernel_sha256(jobs, rounds) }
}

pub(crate) fn sha1_iterate(jobs: &mut [Job1], rounds: u32) {
    assert!(detected(), "AVX2 kernel entered on a CPU without AVX2");
    // SAFETY: AVX2 support was just confirmed at run time.
    unsafe { kernel_sha1(jobs, rounds) }
}
