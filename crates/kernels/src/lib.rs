//! Many-lane PBKDF2-HMAC-SHA256 and PBKDF2-HMAC-SHA1 kernels, chosen at run time by CPU feature.
//!
//! An encrypted iOS 10.2+ backup costs, per password guess, PBKDF2-HMAC-SHA256 with 10,000,000
//! iterations followed by PBKDF2-HMAC-SHA1 with 10,000 iterations; older backups only the SHA-1
//! stage. Both are dominated by the iteration loop, which hashes one fixed-format block per
//! compression. The kernels here run many such loops at once: several interleaved streams on the
//! SHA extensions (whose latency, not throughput, limits one stream), or one password per 32-bit
//! SIMD lane with AVX2/AVX-512.
//!
//! ```
//! use sesame_kernels::Kernel;
//! let k = Kernel::best();
//! let mut out = [[0u8; 32]; 2];
//! k.pbkdf2_sha256_32(&[b"password", b"letmein"], b"salt", 1000, &mut out);
//! let mut reference = [0u8; 32];
//! sesame_kernels::reference::pbkdf2_hmac_sha256(b"letmein", b"salt", 1000, &mut reference);
//! assert_eq!(out[1], reference);
//! ```

mod jobs;
mod portable;
pub mod reference;
mod selftest;
pub use selftest::{Checked, SelfTestFailed};
#[cfg(target_arch = "x86_64")]
mod x86;

use jobs::{Job1, Job256};

/// A PBKDF2 implementation strategy. Every kernel computes the same function; they differ only
/// in speed and in which CPUs can run them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kernel {
    /// x86 SHA extensions (SHA-NI), several interleaved streams.
    ShaNi,
    /// AVX-512F: 16 passwords in 32-bit lanes.
    Avx512,
    /// AVX-512F, two 16-lane groups interleaved: 32 passwords a call.
    Avx512x2,
    /// AVX2: 8 passwords in 32-bit lanes.
    Avx2,
    /// Plain Rust, one password at a time; runs everywhere.
    Portable,
}

impl Kernel {
    /// Every kernel, in order of expected speed, fastest first.
    pub const ALL: [Kernel; 5] = [
        Kernel::ShaNi,
        Kernel::Avx512,
        Kernel::Avx512x2,
        Kernel::Avx2,
        Kernel::Portable,
    ];

    /// Kernels this CPU supports, fastest first.
    pub fn available() -> Vec<Kernel> {
        Self::ALL.into_iter().filter(|k| k.is_available()).collect()
    }

    /// The fastest kernel this CPU supports that passed its self-test (see `checked`). The
    /// portable kernel is the last resort: it is the plain reference itself.
    pub fn best() -> Kernel {
        Self::checked()
            .passed
            .first()
            .copied()
            .unwrap_or(Kernel::Portable)
    }

    /// Short stable name, as printed by `sesame bench`.
    pub fn name(self) -> &'static str {
        match self {
            Kernel::ShaNi => "sha-ni",
            Kernel::Avx512 => "avx512",
            Kernel::Avx512x2 => "avx512x2",
            Kernel::Avx2 => "avx2",
            Kernel::Portable => "portable",
        }
    }

    /// Whether this CPU (and build) can run the kernel.
    pub fn is_available(self) -> bool {
        match self {
            Kernel::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Kernel::ShaNi => x86::shani::detected(),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => x86::avx2::detected(),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 | Kernel::Avx512x2 => x86::avx512::detected(),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// How many passwords per call fill this kernel's lanes or streams. Any count works; counts
    /// that are multiples of this waste nothing on padding.
    pub fn lanes(self) -> usize {
        match self {
            Kernel::Portable => 1,
            Kernel::ShaNi => SHANI_STREAMS,
            Kernel::Avx2 => 8,
            Kernel::Avx512 => 16,
            Kernel::Avx512x2 => 32,
        }
    }

    /// How many passwords per call fill this kernel's SHA-1 stage, the whole cost of old-scheme
    /// (before iOS 10.2) backups. Differs from [`Kernel::lanes`] where the SHA-1 stage runs on
    /// other units than the SHA-256 stage (the SHA-NI kernel hands SHA-1 to 8 AVX2 lanes).
    pub fn sha1_lanes(self) -> usize {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::ShaNi if x86::avx2::detected() => 8,
            #[cfg(target_arch = "x86_64")]
            Kernel::ShaNi => x86::shani::SHA1_STREAMS,
            other => other.lanes(),
        }
    }

    /// Passwords per call that fill the kernel for a key scheme: with the SHA-256 stage (iOS
    /// 10.2+, where it is over 99% of the cost) or with the SHA-1 stage alone.
    pub fn lanes_for(self, has_sha256_stage: bool) -> usize {
        if has_sha256_stage {
            self.lanes()
        } else {
            self.sha1_lanes()
        }
    }

    /// The kernel that will actually run: an unavailable one falls back to portable, so that a
    /// caller's mistake costs speed, never memory safety.
    fn effective(self) -> Kernel {
        if self.is_available() {
            self
        } else {
            Kernel::Portable
        }
    }

    /// PBKDF2-HMAC-SHA256 with a 32-byte output, for each password. `out.len()` must equal
    /// `passwords.len()`. An iteration count of 0 is treated as 1 (as the `pbkdf2` crate does).
    ///
    /// # Panics
    /// If `out.len() != passwords.len()`.
    pub fn pbkdf2_sha256_32(
        self,
        passwords: &[&[u8]],
        salt: &[u8],
        iterations: u32,
        out: &mut [[u8; 32]],
    ) {
        assert_eq!(out.len(), passwords.len(), "one output per password");
        let rounds = iterations.max(1) - 1;
        let mut jobs: Vec<Job256> = passwords.iter().map(|p| Job256::new(p, salt, 1)).collect();
        self.effective().sha256_iterate(&mut jobs, rounds);
        for (o, j) in out.iter_mut().zip(&jobs) {
            *o = j.output();
        }
        wipe(&mut jobs);
    }

    /// PBKDF2-HMAC-SHA1 with a 32-byte output (T1 and the first 12 bytes of T2), for each
    /// password. Same contract as [`Kernel::pbkdf2_sha256_32`].
    ///
    /// # Panics
    /// If `out.len() != passwords.len()`.
    pub fn pbkdf2_sha1_32(
        self,
        passwords: &[&[u8]],
        salt: &[u8],
        iterations: u32,
        out: &mut [[u8; 32]],
    ) {
        assert_eq!(out.len(), passwords.len(), "one output per password");
        let rounds = iterations.max(1) - 1;
        // Two independent output blocks per password: twice the parallelism for the kernels.
        let mut jobs: Vec<Job1> = passwords
            .iter()
            .flat_map(|p| [Job1::new(p, salt, 1), Job1::new(p, salt, 2)])
            .collect();
        self.effective().sha1_iterate(&mut jobs, rounds);
        for (o, pair) in out.iter_mut().zip(jobs.chunks_exact(2)) {
            o[..20].copy_from_slice(&pair[0].output());
            o[20..].copy_from_slice(&pair[1].output()[..12]);
        }
        wipe(&mut jobs);
    }

    fn sha256_iterate(self, jobs: &mut [Job256], rounds: u32) {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::ShaNi => x86::shani::sha256_iterate(jobs, rounds),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => x86::avx2::sha256_iterate(jobs, rounds),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => x86::avx512::sha256_iterate(jobs, rounds),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512x2 => x86::avx512::sha256_iterate_x2(jobs, rounds),
            _ => portable::sha256_iterate(jobs, rounds),
        }
    }

    fn sha1_iterate(self, jobs: &mut [Job1], rounds: u32) {
        match self {
            #[cfg(target_arch = "x86_64")]
            Kernel::ShaNi => x86::shani::sha1_iterate(jobs, rounds),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx2 => x86::avx2::sha1_iterate(jobs, rounds),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512 => x86::avx512::sha1_iterate(jobs, rounds),
            #[cfg(target_arch = "x86_64")]
            Kernel::Avx512x2 => x86::avx512::sha1_iterate_x2(jobs, rounds),
            _ => portable::sha1_iterate(jobs, rounds),
        }
    }
}

/// Streams the SHA-NI kernel interleaves; see `x86::shani` for how it was chosen.
const SHANI_STREAMS: usize = 5;

/// Overwrites password-derived state before the buffer is freed (zeroize's writes are not
/// optimised away even though the memory is about to be deallocated).
fn wipe<T: zeroize::Zeroize>(items: &mut [T]) {
    items.iter_mut().for_each(zeroize::Zeroize::zeroize);
}

impl std::fmt::Display for Kernel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Knobs for benchmarks and tuning only; not a stable API.
#[doc(hidden)]
pub mod tuning {
    use crate::jobs::{Job1, Job256};

    /// Times `rounds` SHA-256 PBKDF2 iterations on `jobs` dummy jobs with the SHA-NI kernel
    /// interleaving `streams` streams. Returns None where SHA-NI is unavailable.
    pub fn shani_sha256(jobs: usize, rounds: u32, streams: usize) -> Option<std::time::Duration> {
        #[cfg(target_arch = "x86_64")]
        if crate::x86::shani::detected() {
            let mut j: Vec<Job256> = (0..jobs)
                .map(|i| Job256::new(&i.to_le_bytes(), b"salt", 1))
                .collect();
            let t = std::time::Instant::now();
            crate::x86::shani::sha256_iterate_streams(&mut j, rounds, streams);
            return Some(t.elapsed());
        }
        let _ = (jobs, rounds, streams);
        None
    }

    /// As [`shani_sha256`] for SHA-1.
    pub fn shani_sha1(jobs: usize, rounds: u32, streams: usize) -> Option<std::time::Duration> {
        #[cfg(target_arch = "x86_64")]
        if crate::x86::shani::detected() {
            let mut j: Vec<Job1> = (0..jobs)
                .map(|i| Job1::new(&i.to_le_bytes(), b"salt", 1))
                .collect();
            let t = std::time::Instant::now();
            crate::x86::shani::sha1_iterate_streams(&mut j, rounds, streams);
            return Some(t.elapsed());
        }
        let _ = (jobs, rounds, streams);
        None
    }
}
