//! Measured guesses per second, and the check that a kernel agrees with the reference KDF.
//!
//! The iOS 10.2+ scheme costs 10,000,000 PBKDF2-HMAC-SHA256 iterations per guess (seconds): it is
//! measured by timing a reduced iteration count and scaling linearly (the iteration loop is the
//! whole cost; the per-call setup is a few compressions). The SHA-1 stage (10,000 iterations) is
//! timed as it is. Whole-machine figures run one measuring thread per core at the same time, so
//! shared clocks, SMT siblings and memory are counted as they are during a recovery.

use crate::engine::derive_many;
use crate::error::CrackError;
use rand::{Rng, RngCore};
use sesame_backup::KdfParams;
use sesame_kernels::Kernel;
use std::time::{Duration, Instant};

/// Guesses per second of one scheme.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct SchemeRate {
    /// One thread alone.
    pub per_core: f64,
    /// Every thread at once.
    pub total: f64,
}

/// Parameters of the iOS 10.2+ scheme as real backups have them.
pub fn scheme_10_2_params() -> KdfParams {
    KdfParams {
        salt: vec![0x5a; 20],
        iterations: 10_000,
        dp: Some((vec![0xa5; 20], 10_000_000)),
    }
}

/// Parameters of the scheme before iOS 10.2.
pub fn scheme_9_params() -> KdfParams {
    KdfParams {
        salt: vec![0x5a; 20],
        iterations: 10_000,
        dp: None,
    }
}

/// Checks `kernel` against the reference PBKDF2 (`sesame_backup::kdf`) on `cases` random
/// passwords, salts and iteration counts (short and long passwords, both stages and the full
/// derivation of both schemes). An error names what disagreed.
pub fn verify_kernel(kernel: Kernel, cases: usize) -> Result<(), CrackError> {
    let mut rng = rand::thread_rng();
    let lanes = kernel.lanes().max(kernel.sha1_lanes()).max(1);
    for case in 0..cases {
        // A few more than the lanes, so that partial groups are covered too.
        let n = lanes + rng.gen_range(0..=lanes);
        let pws: Vec<Vec<u8>> = (0..n)
            .map(|_| {
                // Lengths across the HMAC block boundary (64) and hashcat's limit.
                let len = match rng.gen_range(0..4) {
                    0 => rng.gen_range(0..8),
                    1 => rng.gen_range(8..64),
                    2 => rng.gen_range(64..130),
                    _ => 32,
                };
                let mut p = vec![0u8; len];
                rng.fill_bytes(&mut p);
                p
            })
            .collect();
        let refs: Vec<&[u8]> = pws.iter().map(|p| p.as_slice()).collect();
        let mut salt = vec![
            0u8;
            if case % 2 == 0 {
                20
            } else {
                rng.gen_range(0..60)
            }
        ];
        rng.fill_bytes(&mut salt);
        let iters: u32 = rng.gen_range(1..=1500);
        let mut out = vec![[0u8; 32]; n];
        kernel.pbkdf2_sha256_32(&refs, &salt, iters, &mut out);
        for (p, o) in pws.iter().zip(&out) {
            if *sesame_backup::kdf::sha256_stage(p, &salt, iters) != *o {
                return Err(mismatch(
                    kernel,
                    "PBKDF2-HMAC-SHA256",
                    p.len(),
                    salt.len(),
                    iters,
                ));
            }
        }
        kernel.pbkdf2_sha1_32(&refs, &salt, iters, &mut out);
        for (p, o) in pws.iter().zip(&out) {
            if *sesame_backup::kdf::sha1_stage(p, &salt, iters) != *o {
                return Err(mismatch(
                    kernel,
                    "PBKDF2-HMAC-SHA1",
                    p.len(),
                    salt.len(),
                    iters,
                ));
            }
        }
        // The whole derivation as the engine runs it, both schemes.
        let mut dpsl = [0u8; 20];
        rng.fill_bytes(&mut dpsl);
        let params = KdfParams {
            salt: salt.clone(),
            iterations: rng.gen_range(1..=300),
            dp: (case % 2 == 0).then(|| (dpsl.to_vec(), rng.gen_range(1..=300))),
        };
        let mut mid = vec![[0u8; 32]; n];
        derive_many(kernel, &params, &refs, &mut mid, &mut out);
        for (p, o) in pws.iter().zip(&out) {
            if *sesame_backup::kdf::derive(p, &params) != *o {
                return Err(mismatch(
                    kernel,
                    "the two-stage key derivation",
                    p.len(),
                    salt.len(),
                    params.iterations,
                ));
            }
        }
    }
    Ok(())
}

fn mismatch(kernel: Kernel, what: &str, len: usize, salt: usize, iters: u32) -> CrackError {
    CrackError::KernelMismatch {
        kernel: kernel.name(),
        what: format!("{what}, password of {len} bytes, salt of {salt} bytes, {iters} iterations"),
    }
}

/// How one measurement was made, for the record.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct Method {
    /// SHA-256 iterations actually timed per call (then scaled to DPIC).
    pub sha256_iterations_timed: u32,
    /// SHA-1 iterations timed per call (the real count).
    pub sha1_iterations_timed: u32,
}

/// Seconds one thread needs per guess for `params` with `kernel`, timing `sha256_iters`
/// SHA-256 iterations (scaled to DPIC) and `reps` calls of the real SHA-1 stage.
fn seconds_per_guess(kernel: Kernel, params: &KdfParams, sha256_iters: u32, reps: u32) -> f64 {
    let lanes = kernel.lanes_for(params.dp.is_some()).max(1);
    let pws: Vec<Vec<u8>> = (0..lanes)
        .map(|i| format!("bench-guess-{i}").into_bytes())
        .collect();
    let refs: Vec<&[u8]> = pws.iter().map(|p| p.as_slice()).collect();
    let mut out = vec![[0u8; 32]; lanes];
    let mut secs = 0.0;
    if let Some((dpsl, dpic)) = &params.dp {
        let n = sha256_iters.min(*dpic).max(1);
        let t = Instant::now();
        kernel.pbkdf2_sha256_32(&refs, dpsl, n, &mut out);
        secs += t.elapsed().as_secs_f64() / n as f64 * *dpic as f64;
    }
    let mids: Vec<[u8; 32]> = out.clone();
    let mid_refs: Vec<&[u8]> = mids.iter().map(|m| m.as_slice()).collect();
    let reps = reps.max(1);
    let t = Instant::now();
    for _ in 0..reps {
        kernel.pbkdf2_sha1_32(&mid_refs, &params.salt, params.iterations, &mut out);
    }
    secs += t.elapsed().as_secs_f64() / reps as f64;
    std::hint::black_box(&out);
    secs / lanes as f64
}

/// Picks how many SHA-256 iterations and SHA-1 repetitions take about `window` on one thread.
fn calibrate(kernel: Kernel, params: &KdfParams, window: Duration) -> (u32, u32) {
    let lanes = kernel.lanes_for(params.dp.is_some()).max(1);
    let pws: Vec<Vec<u8>> = (0..lanes).map(|i| vec![b'c', i as u8]).collect();
    let refs: Vec<&[u8]> = pws.iter().map(|p| p.as_slice()).collect();
    let mut out = vec![[0u8; 32]; lanes];
    let half = window.as_secs_f64() / 2.0;
    let sha256 = match &params.dp {
        Some((dpsl, dpic)) => {
            let n = 2_000u32;
            let t = Instant::now();
            kernel.pbkdf2_sha256_32(&refs, dpsl, n, &mut out);
            let per_iter = t.elapsed().as_secs_f64().max(1e-9) / n as f64;
            ((half / per_iter) as u32).max(1_000).min(*dpic)
        }
        None => 0,
    };
    let t = Instant::now();
    kernel.pbkdf2_sha1_32(&refs, &params.salt, params.iterations, &mut out);
    let per_call = t.elapsed().as_secs_f64().max(1e-9);
    let share = if params.dp.is_some() {
        half
    } else {
        2.0 * half
    };
    let reps = ((share / per_call) as u32).clamp(1, 10_000);
    (sha256, reps)
}

/// Guesses per second for `params`: one thread alone, then `threads` threads at once, each
/// timing about `window`.
pub fn measure(
    kernel: Kernel,
    params: &KdfParams,
    threads: usize,
    window: Duration,
) -> (SchemeRate, Method) {
    let (n256, reps) = calibrate(kernel, params, window);
    let per_core = 1.0 / seconds_per_guess(kernel, params, n256, reps);
    let total = measure_total(kernel, params, threads, n256, reps);
    (
        SchemeRate { per_core, total },
        Method {
            sha256_iterations_timed: n256,
            sha1_iterations_timed: params.iterations,
        },
    )
}

/// All threads at once; the sum of their rates.
fn measure_total(kernel: Kernel, params: &KdfParams, threads: usize, n256: u32, reps: u32) -> f64 {
    let threads = threads.max(1);
    let barrier = std::sync::Barrier::new(threads);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    barrier.wait();
                    1.0 / seconds_per_guess(kernel, params, n256, reps)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap_or(0.0)).sum()
    })
}

/// A quick estimate of the whole machine's guesses per second for `params` (about `window` of
/// measuring on every thread), for plans and ETAs before a recovery starts.
pub fn quick_rate(kernel: Kernel, params: &[KdfParams], threads: usize, window: Duration) -> f64 {
    // One guess costs the sum over the groups of targets.
    let secs: f64 = params
        .iter()
        .map(|p| {
            let (n256, reps) = calibrate(kernel, p, window / params.len().max(1) as u32);
            1.0 / measure_total(kernel, p, threads, n256, reps)
        })
        .sum();
    if secs > 0.0 {
        1.0 / secs
    } else {
        0.0
    }
}

/// Guesses per second of one GPU for `params`: one batch of its preferred size. The SHA-1 stage
/// is timed at its real iteration count; the SHA-256 stage (10.2+ scheme) is timed at a reduced
/// count (grown until it takes about half of `window`) and scaled to DPIC, as for the CPU.
pub fn measure_gpu(
    gpu: &sesame_gpu::GpuDevice,
    params: &KdfParams,
    window: Duration,
) -> Result<GpuMeasure, CrackError> {
    use std::sync::atomic::AtomicBool;
    let n = gpu.preferred_batch().clamp(1, gpu.max_batch().max(1));
    let pws: Vec<Vec<u8>> = (0..n)
        .map(|i| format!("bench-guess-{i}").into_bytes())
        .collect();
    let refs: Vec<&[u8]> = pws.iter().map(|p| p.as_slice()).collect();
    let never = AtomicBool::new(false);
    let gpu_err = |e: sesame_gpu::GpuError| CrackError::Gpu(e.to_string());
    let time = |spec: &sesame_gpu::KdfSpec| -> Result<f64, CrackError> {
        let t = Instant::now();
        let keys = gpu
            .derive(&refs, spec, &never, &mut |_| {})
            .map_err(gpu_err)?;
        std::hint::black_box(&keys);
        Ok(t.elapsed().as_secs_f64())
    };
    let sha1_only = sesame_gpu::KdfSpec {
        salt: params.salt.clone(),
        iterations: params.iterations,
        dp: None,
    };
    // A whole batch of the old scheme: its loop, and what every call costs besides (HMAC states
    // on the CPU, upload, read-back), which the 10.2+ scheme pays once too.
    let mut secs = time(&sha1_only)?;
    let mut timed = 0u32;
    if let Some((dpsl, dpic)) = params.dp.as_ref().filter(|(_, dpic)| *dpic > 1) {
        let spec = |k: u32| sesame_gpu::KdfSpec {
            salt: params.salt.clone(),
            iterations: 1,
            dp: Some((dpsl.clone(), k)),
        };
        // Only the SHA-256 loop is scaled up to DPIC: the rest of a call is timed on a call of
        // one iteration and taken out. With a batch of half a million passwords that rest is
        // a large part of a short timed call, and scaled by DPIC over the timed count it would
        // make the GPU look several times slower than it is.
        let fixed = time(&spec(1))?;
        let mut k = 1_000u32.clamp(2, *dpic);
        loop {
            let t = time(&spec(k))?;
            if t - fixed >= window.as_secs_f64() / 2.0 || k >= *dpic {
                secs += (t - fixed).max(0.0) / f64::from(k - 1) * f64::from(*dpic - 1);
                timed = k;
                break;
            }
            k = k.saturating_mul(4).min(*dpic);
        }
    }
    Ok(GpuMeasure {
        rate: n as f64 / secs.max(1e-9),
        batch: n,
        sha256_iterations_timed: timed,
    })
}

/// One GPU's measured rate for one scheme.
#[derive(Clone, Copy, Debug, serde::Serialize)]
pub struct GpuMeasure {
    /// Guesses per second.
    pub rate: f64,
    /// Passwords per call (the device's preferred batch).
    pub batch: usize,
    /// SHA-256 iterations timed per call, scaled to DPIC (0 for the older scheme).
    pub sha256_iterations_timed: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_available_kernel_agrees_with_the_reference() {
        for k in Kernel::available() {
            verify_kernel(k, 3).unwrap();
        }
    }

    #[test]
    fn measure_gives_positive_rates() {
        let k = Kernel::best();
        let (r, m) = measure(k, &scheme_9_params(), 1, Duration::from_millis(40));
        assert!(r.per_core > 0.0 && r.total > 0.0);
        assert_eq!(m.sha1_iterations_timed, 10_000);
        let q = quick_rate(k, &[scheme_10_2_params()], 1, Duration::from_millis(40));
        assert!(q > 0.0 && q < 1000.0, "{q}");
    }
}
