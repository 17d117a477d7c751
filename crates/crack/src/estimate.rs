//! What a plan would cost here, before anything runs: the stages with their sizes and times at
//! a rate measured just now on the devices a recovery would use. The plan screen of a front end
//! shows this before the person decides to start; [`crate::recover`] computes the same figures
//! again when it starts (the machine may be busier by then).

use crate::bench;
use crate::choice::{self, KernelChoice};
use crate::error::CrackError;
use crate::recovery::{summarize, Stage, Target};
use sesame_backup::KdfParams;
use sesame_gpu::GpuDevice;
use sesame_guess::{Chunk, Plan, Shard};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// The plan's stages and times on this computer.
#[derive(Clone, Debug)]
pub struct Estimate {
    pub stages: Vec<Stage>,
    pub total: Option<u64>,
    /// For the whole plan; `None` when a size or the rate is unknown.
    pub seconds: Option<f64>,
    /// Guesses per second of the CPU threads and the GPUs together, measured just now.
    pub rate: f64,
    /// Each device's part: "CPU" and each GPU by name, guesses per second.
    pub devices: Vec<(String, f64)>,
    /// Seconds one guess costs one CPU thread (what "one guess costs here" means to a person).
    pub seconds_per_guess_per_thread: f64,
    pub kernel: KernelChoice,
    pub threads: usize,
}

/// The kernel a recovery of `targets` would use, its measured rate on `threads` CPU threads
/// (0: every core) and on each of `gpus` over about `window`, and the plan's stages at that
/// rate. The kernel choice is cached in `kernel_cache` (None: the data folder).
pub fn estimate(
    targets: &[Target],
    plan: &Plan,
    threads: usize,
    gpus: &[Arc<GpuDevice>],
    window: Duration,
    kernel_cache: Option<&Path>,
) -> Result<Estimate, CrackError> {
    if targets.is_empty() {
        return Err(CrackError::NoTargets);
    }
    let mut groups: Vec<KdfParams> = Vec::new();
    for t in targets {
        let p = t.line.kdf_params();
        if !groups.contains(&p) {
            groups.push(p);
        }
    }
    let costliest = groups
        .iter()
        .find(|p| p.dp.is_some())
        .or(groups.first())
        .cloned()
        .unwrap_or_else(bench::scheme_10_2_params);
    let kernel = match kernel_cache {
        Some(c) => choice::choose_cached_in(&costliest, None, c)?,
        None => choice::choose(&costliest, None)?,
    };
    let threads = if threads > 0 {
        threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    let cpu = bench::quick_rate(kernel.kernel, &groups, threads, window);
    let mut devices = vec![("CPU".to_string(), cpu)];
    for g in gpus {
        // One guess costs the sum over the groups of targets, as in the run.
        let mut secs = 0.0;
        for p in &groups {
            let m = bench::measure_gpu(g, p, window)?;
            if m.rate > 0.0 {
                secs += 1.0 / m.rate;
            }
        }
        devices.push((
            g.name().to_string(),
            if secs > 0.0 { 1.0 / secs } else { 0.0 },
        ));
    }
    let rate: f64 = devices.iter().map(|(_, r)| r).sum();
    let (stages, seconds) = summarize(plan, Shard::ALL, Chunk::ALL, 0, rate);
    Ok(Estimate {
        stages,
        total: plan.len(),
        seconds,
        rate,
        seconds_per_guess_per_thread: if cpu > 0.0 { threads as f64 / cpu } else { 0.0 },
        devices,
        kernel,
        threads,
    })
}
