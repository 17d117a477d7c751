//! `sesame bench [--json]`: guesses per second, per core and for the whole machine, for both key
//! schemes. Every available kernel is first checked against the reference key derivation on
//! random inputs; a kernel that disagrees is reported as broken and never measured or used.
//! GPUs (`--device gpu|all`) are self-checked against the CPU reference the same way and
//! measured with one batch of their preferred size per scheme.

use crate::devices::{select_gpus, Device};
use crate::output::group;
use serde_json::json;
use sesame_crack::bench::{self, SchemeRate};
use sesame_kernels::Kernel;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// One JSON object: kernel, threads, scheme_10_2 {per_core, total}, scheme_9 {per_core, total}
    #[arg(long)]
    pub json: bool,
    /// Threads for the whole-machine figure (default: every core)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub threads: Option<u32>,
    /// Seconds each measurement times (per scheme, per kernel)
    #[arg(long, value_name = "SECS", default_value_t = 1.0)]
    pub seconds: f64,
    /// Measure every available kernel, not only the fastest
    #[arg(long)]
    pub all_kernels: bool,
    /// The CPU kernel to measure (sha-ni, avx512, avx512x2, avx2, portable); default: the fastest here
    #[arg(long, value_name = "NAME")]
    pub kernel: Option<String>,
    /// Say why each GPU back end found nothing
    #[arg(long)]
    pub verbose: bool,
    /// Only run the CPU kernels' known-answer self-tests and say which kernel is in use
    #[arg(long)]
    pub self_test: bool,
    /// What to measure: cpu, gpu or all (the CPU kernels and every GPU that passes its self-check)
    #[arg(long, value_enum, default_value_t = Device::All)]
    pub device: Device,
}

fn fmt(r: f64) -> String {
    if r >= 100.0 {
        group(r.round() as u64)
    } else {
        format!("{r:.3}")
    }
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    if args.self_test {
        let c = sesame_kernels::Kernel::checked();
        for k in &c.passed {
            outln!("{:<10} passed its self-test", k.name());
        }
        for f in &c.failed {
            outln!("{:<10} FAILED: {f}", f.kernel);
        }
        outln!(
            "fastest self-tested kernel by the fixed order: {} (recover and bench choose by measurement: see `sesame bench`)",
            sesame_kernels::Kernel::best().name()
        );
        return Ok(if c.failed.is_empty() { 0 } else { 2 });
    }
    if !(args.seconds > 0.0 && args.seconds <= 600.0) {
        anyhow::bail!("--seconds must be between 0 and 600");
    }
    let threads = crate::devices::capped_threads(args.threads);
    let window = Duration::from_secs_f64(args.seconds);
    let gpus = select_gpus(args.device, args.verbose)?;
    let mut gpu_rows = Vec::new();
    for g in &gpus {
        let a = bench::measure_gpu(g, &bench::scheme_10_2_params(), window)?;
        let b = bench::measure_gpu(g, &bench::scheme_9_params(), window)?;
        gpu_rows.push((g.clone(), a, b));
    }
    let gpu_json: Vec<_> = gpu_rows
        .iter()
        .map(|(g, a, b)| {
            json!({
                "name": g.name(),
                "backend": g.backend(),
                "cpu_emulation": g.kind() == sesame_gpu::DeviceKind::CpuEmulation,
                "batch": a.batch,
                "scheme_10_2": a.rate,
                "scheme_9": b.rate,
                "sha256_iterations_timed": a.sha256_iterations_timed,
            })
        })
        .collect();
    let print_gpus = || {
        for (g, a, b) in &gpu_rows {
            let emulated = if g.kind() == sesame_gpu::DeviceKind::CpuEmulation {
                ", CPU emulation: not a GPU figure"
            } else {
                ""
            };
            outln!(
                "GPU {} ({}{emulated}), batches of {}:",
                g.name(),
                g.backend(),
                group(a.batch as u64)
            );
            outln!(
                "  iOS 10.2+: {} guesses/s (DPIC scaled from {} timed iterations); before iOS 10.2: {} guesses/s",
                fmt(a.rate),
                group(u64::from(a.sha256_iterations_timed)),
                fmt(b.rate)
            );
        }
    };
    if args.device == Device::Gpu {
        if args.json {
            outln!(
                "{}",
                json!({"kernel": null, "threads": 0, "scheme_10_2": null, "scheme_9": null, "gpus": gpu_json})
            );
        } else {
            print_gpus();
        }
        return Ok(0);
    }
    // Check every kernel before measuring any.
    let mut good = Vec::new();
    let mut broken = Vec::new();
    for k in Kernel::available() {
        match bench::verify_kernel(k, 8) {
            Ok(()) => good.push(k),
            Err(e) => broken.push((k, e.to_string())),
        }
    }
    for (_, e) in &broken {
        eprintln!("sesame: error: {e}");
    }
    if good.is_empty() {
        anyhow::bail!(
            "no kernel agrees with the reference key derivation; refusing to report rates"
        );
    }
    // The kernel of each scheme: the one named with --kernel, else the fastest measured here
    // (cached per CPU), as `recover` chooses it.
    let pick = |params: &sesame_backup::KdfParams| -> anyhow::Result<(Kernel, String)> {
        let c = sesame_crack::choice::choose(params, args.kernel.as_deref())?;
        if !good.contains(&c.kernel) {
            anyhow::bail!(
                "the {} kernel disagrees with the reference key derivation",
                c.kernel.name()
            );
        }
        Ok((c.kernel, c.why))
    };
    let (k10, why10) = pick(&bench::scheme_10_2_params())?;
    let (k9, why9) = pick(&bench::scheme_9_params())?;
    let (r10, m10) = bench::measure(k10, &bench::scheme_10_2_params(), threads, window);
    let (r9, _) = bench::measure(k9, &bench::scheme_9_params(), threads, window);
    let mut rows = Vec::new();
    if args.all_kernels {
        for &k in &good {
            let (a, m) = bench::measure(k, &bench::scheme_10_2_params(), threads, window);
            let (b, _) = bench::measure(k, &bench::scheme_9_params(), threads, window);
            rows.push((k, a, b, m));
        }
    } else {
        rows.push((k10, r10, r9, m10));
    }
    let cpu = sesame_crack::choice::cpu_model();
    if args.json {
        let obj = |r: SchemeRate| json!({"per_core": r.per_core, "total": r.total});
        let v = json!({
            "kernel": k10.name(),
            "kernel_why": why10,
            "kernel_scheme_9": k9.name(),
            "kernel_scheme_9_why": why9,
            "threads": threads,
            "scheme_10_2": obj(r10),
            "scheme_9": obj(r9),
            "cpu": cpu,
            "verified_kernels": good.iter().map(|k| k.name()).collect::<Vec<_>>(),
            "broken_kernels": broken.iter().map(|(k, _)| k.name()).collect::<Vec<_>>(),
            "method": {
                "scheme_10_2": format!(
                    "DPIC 10,000,000 scaled from {} timed PBKDF2-SHA256 iterations; SHA-1 stage (10,000 iterations) timed in full",
                    m10.sha256_iterations_timed
                ),
                "scheme_9": "PBKDF2-SHA1, 10,000 iterations, timed in full",
                "seconds_per_measurement": args.seconds,
            },
            "kernels": rows.iter().map(|(k, a, b, _)| json!({
                "kernel": k.name(), "scheme_10_2": obj(*a), "scheme_9": obj(*b)
            })).collect::<Vec<_>>(),
            "gpus": gpu_json,
        });
        outln!("{v}");
    } else {
        outln!("CPU: {cpu}");
        outln!(
            "Kernels checked against the reference PBKDF2: {}{}",
            good.iter().map(|k| k.name()).collect::<Vec<_>>().join(", "),
            if broken.is_empty() {
                String::new()
            } else {
                format!(
                    " (disagreeing, not used: {})",
                    broken
                        .iter()
                        .map(|(k, _)| k.name())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            }
        );
        outln!("Kernel for iOS 10.2+: {} ({why10})", k10.name());
        outln!("Kernel before iOS 10.2: {} ({why9})", k9.name());
        outln!("Threads: {threads}");
        if !args.all_kernels {
            rows[0].2 = r9;
        }
        for (k, a, b, _) in &rows {
            if rows.len() > 1 {
                outln!("[{}]", k.name());
            } else if k9 != k10 {
                outln!("[{} for iOS 10.2+, {} before]", k10.name(), k9.name());
            }
            outln!(
                "  iOS 10.2+ (10,000,000 x SHA-256 + 10,000 x SHA-1): {} guesses/s per core, {} guesses/s whole machine",
                fmt(a.per_core),
                fmt(a.total)
            );
            outln!(
                "  before iOS 10.2 (10,000 x SHA-1):                  {} guesses/s per core, {} guesses/s whole machine",
                fmt(b.per_core),
                fmt(b.total)
            );
        }
        outln!(
            "The iOS 10.2+ figure times {} PBKDF2-SHA256 iterations and scales to 10,000,000 (the loop is the whole cost); the SHA-1 stage is timed in full.",
            group(u64::from(m10.sha256_iterations_timed))
        );
        print_gpus();
    }
    Ok(if broken.is_empty() { 0 } else { 2 })
}
