//! Guesses per second of each kernel this CPU supports, for both iOS backup key schemes, on one
//! thread and on all threads.
//!
//! The 10,000,000-iteration scheme is timed on a fraction of its iterations (200,000 by
//! default, `--sample N` to change) and scaled; its 10,000-iteration SHA-1 stage is timed in
//! full. Usage: `cargo run --release -p sesame-kernels --example kernel_rate [-- --sample N]
//! [--kernel NAME] [--threads N] [--tsv] [--cpu-time]`.
//!
//! `--cpu-time` times each thread by the CPU time it got (Linux: /proc/thread-self/schedstat)
//! rather than the wall clock, so that other work on a busy machine does not count against a
//! kernel (a core shared with another hyperthread still does).

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

static CPU_TIME: AtomicBool = AtomicBool::new(false);

/// Nanoseconds this thread has run on a CPU, from the kernel's scheduler statistics.
fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// A stopwatch on the wall clock, or on this thread's CPU time with `--cpu-time`.
struct Watch(Instant, Option<u64>);

impl Watch {
    fn start() -> Watch {
        let cpu = if CPU_TIME.load(Ordering::Relaxed) {
            thread_cpu_ns()
        } else {
            None
        };
        Watch(Instant::now(), cpu)
    }
    fn secs(&self) -> f64 {
        match (self.1, thread_cpu_ns()) {
            (Some(a), Some(b)) => (b - a) as f64 / 1e9,
            _ => self.0.elapsed().as_secs_f64(),
        }
    }
}

use sesame_kernels::Kernel;

const DPIC: u64 = 10_000_000;
const ITER: u32 = 10_000;

struct Opts {
    sample: u32,
    kernels: Vec<Kernel>,
    threads: usize,
    /// Tab-separated output for scripts: kernel, lanes, then the four rates.
    tsv: bool,
}

fn parse() -> Opts {
    let mut o = Opts {
        sample: 200_000,
        kernels: Kernel::available(),
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
        tsv: false,
    };
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut i = 0;
    while i < args.len() {
        let val = args.get(i + 1).cloned().unwrap_or_default();
        match args[i].as_str() {
            "--tsv" => {
                o.tsv = true;
                i += 1;
                continue;
            }
            "--cpu-time" => {
                CPU_TIME.store(true, Ordering::Relaxed);
                i += 1;
                continue;
            }
            "--sample" => o.sample = val.parse().expect("--sample N"),
            "--threads" => o.threads = val.parse().expect("--threads N"),
            "--kernel" => {
                let k = Kernel::ALL
                    .into_iter()
                    .find(|k| k.name() == val)
                    .expect("--kernel sha-ni|avx512|avx2|portable");
                if !k.is_available() {
                    eprintln!("kernel {val} is not supported by this CPU");
                    std::process::exit(2);
                }
                o.kernels = vec![k];
            }
            other => {
                eprintln!("unknown argument {other}");
                std::process::exit(2);
            }
        }
        i += 2;
    }
    o
}

/// Seconds per batch of `batch` guesses of the new scheme (scaled) and of the old scheme.
fn time_batch(k: Kernel, batch: usize, sample: u32, seed: usize) -> (f64, f64) {
    let pws: Vec<Vec<u8>> = (0..batch)
        .map(|i| format!("guess-{seed}-{i}").into_bytes())
        .collect();
    let refs: Vec<&[u8]> = pws.iter().map(|p| p.as_slice()).collect();
    let salt = [7u8; 20];
    let mut out = vec![[0u8; 32]; batch];

    let t = Watch::start();
    k.pbkdf2_sha256_32(&refs, &salt, sample, &mut out);
    let sha256 = t.secs() * DPIC as f64 / sample as f64;
    let keys: Vec<[u8; 32]> = out.clone();
    let key_refs: Vec<&[u8]> = keys.iter().map(|p| p.as_slice()).collect();
    let t = Watch::start();
    k.pbkdf2_sha1_32(&key_refs, &salt, ITER, &mut out);
    let new_scheme = sha256 + t.secs();

    // The old scheme is cheap: run enough batches for a stable figure.
    let reps = 20;
    let t = Watch::start();
    for _ in 0..reps {
        k.pbkdf2_sha1_32(&refs, &salt, ITER, &mut out);
    }
    let old_scheme = t.secs() / reps as f64;
    std::hint::black_box(&out);
    (new_scheme, old_scheme)
}

/// Guesses/s for the new and old schemes with `threads` threads each running its own batches.
fn rate(k: Kernel, threads: usize, sample: u32) -> (f64, f64) {
    // Two lane-fulls per call, as the engine would batch.
    let batch = 2 * k.lanes();
    let per_thread: Vec<(f64, f64)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..threads)
            .map(|t| s.spawn(move || time_batch(k, batch, sample, t)))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    let new: f64 = per_thread.iter().map(|(n, _)| batch as f64 / n).sum();
    let old: f64 = per_thread.iter().map(|(_, o)| batch as f64 / o).sum();
    (new, old)
}

fn main() {
    let o = parse();
    if o.tsv {
        for k in o.kernels {
            let (n1, o1) = rate(k, 1, o.sample);
            let (na, oa) = rate(k, o.threads, o.sample);
            println!(
                "{}\t{}\t{n1:.4}\t{na:.4}\t{o1:.1}\t{oa:.1}",
                k.name(),
                k.lanes()
            );
        }
        return;
    }
    println!(
        "threads: {}, 10M scheme timed on {} SHA-256 iterations and scaled",
        o.threads, o.sample
    );
    println!(
        "{:<9} {:>5} {:>16} {:>16} {:>16} {:>16}",
        "kernel", "lanes", "10M 1 thread", "10M all", "old 1 thread", "old all"
    );
    for k in o.kernels {
        let (n1, o1) = rate(k, 1, o.sample);
        let (na, oa) = rate(k, o.threads, o.sample);
        println!(
            "{:<9} {:>5} {:>12.3} g/s {:>12.3} g/s {:>12.0} g/s {:>12.0} g/s",
            k.name(),
            k.lanes(),
            n1,
            na,
            o1,
            oa
        );
    }
}
