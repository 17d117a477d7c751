//! Guesses per second of each GPU, for both key schemes.
//!
//! `cargo run --release -p sesame-gpu --example gpu_bench [-- SECONDS [SCALE...]]`
//!
//! With SCALEs (e.g. `2 0.25 0.5 1 2 4`), the SHA-256 stage is also timed at each multiple of
//! the device's preferred batch, to see whether a smaller or larger batch fills it better.
//! `SESAME_CUDA_BLOCK=N` runs the CUDA kernels in blocks of N threads (default 64).
//!
//! Each stage is timed on a reduced iteration count (grown until one run takes about SECONDS,
//! default 2) and scaled to the real counts: 10,000,000 PBKDF2-HMAC-SHA256 iterations plus 10,000
//! PBKDF2-HMAC-SHA1 ones for iOS 10.2+, and the SHA-1 stage alone before. Set
//! `SESAME_GPU_ALLOW_CPU=1` to include CPU drivers such as lavapipe (their figures are a CPU
//! emulation, not a GPU's).

use sesame_gpu::{DeviceKind, GpuDevice, KdfSpec};
use std::sync::atomic::AtomicBool;
use std::time::Instant;

const DPIC: f64 = 10_000_000.0;
const ITER: f64 = 10_000.0;

/// Seconds per iteration of the stage that `spec(r)` runs `r` iterations of, for the whole batch.
/// What a call costs besides the loop (HMAC states on the CPU, upload, read-back: seconds for a
/// batch of millions) is timed on a one-iteration call and taken out.
fn time_stage(dev: &GpuDevice, batch: &[&[u8]], budget: f64, spec: impl Fn(u32) -> KdfSpec) -> f64 {
    let never = AtomicBool::new(false);
    let time = |r: u32| {
        let t0 = Instant::now();
        dev.derive(batch, &spec(r), &never, &mut |_| {})
            .expect("derive");
        t0.elapsed().as_secs_f64()
    };
    let fixed = time(1);
    let mut r = 64u32;
    loop {
        let t = time(r);
        if t - fixed >= budget || r >= 1 << 24 {
            return (t - fixed).max(1e-9) / f64::from(r - 1);
        }
        let grow = (budget / (t - fixed).max(1e-3) * 1.2).clamp(2.0, 16.0);
        r = (f64::from(r) * grow) as u32;
    }
}

/// `text` as a number, or a one-line error naming what was expected, and exit 2.
fn number<T: std::str::FromStr>(text: &str, what: &str) -> T {
    text.parse().unwrap_or_else(|_| {
        eprintln!("gpu_bench: {what} must be a number, not {text:?} (usage: gpu_bench [SECONDS [SCALE...]])");
        std::process::exit(2)
    })
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let budget: f64 = args.first().map_or(2.0, |s| number(s, "SECONDS"));
    let scales: Vec<f64> = args.iter().skip(1).map(|s| number(s, "SCALE")).collect();
    // SESAME_CUDA_BLOCK=N: CUDA blocks of N threads instead of the default, to compare.
    let cuda_block: Option<u32> = std::env::var("SESAME_CUDA_BLOCK")
        .ok()
        .map(|v| number(&v, "SESAME_CUDA_BLOCK (threads per block)"));
    if let Some(b) = cuda_block {
        println!("CUDA blocks of {b} threads");
    }
    let (devices, notes) = sesame_gpu::discover_with(sesame_gpu::Discovery {
        cuda_block,
        ..sesame_gpu::Discovery::from_env()
    });
    for n in &notes {
        println!("note: {n}");
    }
    let (ops256, ops1) = sesame_gpu::codegen::loop_ops();
    for dev in &devices {
        println!(
            "{} ({}, {:?}), batch {}",
            dev.name(),
            dev.backend(),
            dev.kind(),
            dev.preferred_batch()
        );
        if let Err(e) = dev.self_check() {
            println!("  {e}");
            continue;
        }
        println!("  self-check against the CPU reference: passed");
        let passwords: Vec<Vec<u8>> = (0..dev.preferred_batch())
            .map(|i| format!("pw{i}").into_bytes())
            .collect();
        let batch: Vec<&[u8]> = passwords.iter().map(Vec::as_slice).collect();
        let n = batch.len() as f64;
        let salt = vec![0x11; 20];
        // SHA-1 loop alone (old scheme), then SHA-256 loop (with a 1-iteration SHA-1 stage).
        let s1 = time_stage(dev, &batch, budget, |r| KdfSpec {
            salt: salt.clone(),
            iterations: r,
            dp: None,
        });
        let s256 = time_stage(dev, &batch, budget, |r| KdfSpec {
            salt: salt.clone(),
            iterations: 1,
            dp: Some((vec![0x22; 20], r)),
        });
        let old = n / (s1 * ITER);
        let new = n / (s256 * DPIC + s1 * ITER);
        let c256 = 2.0 * n / s256;
        println!("  iOS 10.2+ scheme (10M SHA-256 + 10k SHA-1 iterations): {new:.2} guesses/s");
        println!("  older scheme (10k SHA-1 iterations):                   {old:.1} guesses/s");
        println!(
            "  SHA-256 compressions/s: {:.3e} ({:.3e} generated 32-bit ops/s at {} ops per compression)",
            c256,
            c256 * f64::from(ops256.total()) / 2.0,
            ops256.total() / 2
        );
        println!(
            "  SHA-1 compressions/s:   {:.3e} ({} ops per compression)",
            4.0 * n / s1,
            ops1.total() / 2
        );
        for &scale in &scales {
            let size = ((dev.preferred_batch() as f64 * scale) as usize).clamp(1, dev.max_batch());
            let passwords: Vec<Vec<u8>> =
                (0..size).map(|i| format!("pw{i}").into_bytes()).collect();
            let batch: Vec<&[u8]> = passwords.iter().map(Vec::as_slice).collect();
            let s256 = time_stage(dev, &batch, budget, |r| KdfSpec {
                salt: salt.clone(),
                iterations: 1,
                dp: Some((vec![0x22; 20], r)),
            });
            println!(
                "  batch {size} ({scale}x preferred): {:.2} guesses/s on the iOS 10.2+ scheme (SHA-256 stage)",
                size as f64 / (s256 * DPIC)
            );
        }
        if dev.kind() == DeviceKind::CpuEmulation {
            println!("  note: this is a CPU driver emulating a GPU: not a GPU figure (it shares the cores the CPU kernels use)");
        }
    }
    if devices.is_empty() {
        println!("no GPU to measure");
    }
}
