//! Portable scalar kernel: the fallback on every CPU, and the shape the SIMD kernels follow.

use crate::jobs::{Job1, Job256, SHA1_ITER_BITS, SHA256_ITER_BITS};
use crate::reference::{sha1_compress_words, sha256_compress_words};

/// Runs `rounds` further PBKDF2 iterations on each job.
pub(crate) fn sha256_iterate(jobs: &mut [Job256], rounds: u32) {
    for job in jobs {
        let mut block = [0u32; 16];
        block[8] = 0x8000_0000;
        block[15] = SHA256_ITER_BITS;
        for _ in 0..rounds {
            block[..8].copy_from_slice(&job.u);
            let mut inner = job.istate;
            sha256_compress_words(&mut inner, &block);
            block[..8].copy_from_slice(&inner);
            let mut outer = job.ostate;
            sha256_compress_words(&mut outer, &block);
            job.u = outer;
            for (a, u) in job.acc.iter_mut().zip(&job.u) {
                *a ^= u;
            }
        }
    }
}

pub(crate) fn sha1_iterate(jobs: &mut [Job1], rounds: u32) {
    for job in jobs {
        let mut block = [0u32; 16];
        block[5] = 0x8000_0000;
        block[15] = SHA1_ITER_BITS;
        for _ in 0..rounds {
            block[..5].copy_from_slice(&job.u);
            let mut inner = job.istate;
            sha1_compress_words(&mut inner, &block);
            block[..5].copy_from_slice(&inner);
            let mut outer = job.ostate;
            sha1_compress_words(&mut outer, &block);
            job.u = outer;
            for (a, u) in job.acc.iter_mut().zip(&job.u) {
                *a ^= u;
            }
        }
    }
}
