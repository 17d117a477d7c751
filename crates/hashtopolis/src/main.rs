//! `sesame-hashtopolis`: Sesame as a Hashtopolis "generic cracker", over the same library calls
//! as `sesame recover`.
//!
//! The contract (what Hashtopolis's Python agent runs and reads):
//! - `sesame-hashtopolis keyspace ATTACK`: the number of guesses, alone on the last line of
//!   standard output.
//! - `sesame-hashtopolis crack -s SKIP -l LENGTH ATTACK [--timeout=SECS]`: tries exactly the
//!   guess indices SKIP .. SKIP+LENGTH-1 of the stream (the numbering of `keyspace`, `sesame
//!   candidates` and `sesame recover --skip/--limit`), prints `STATUS <progress> <speed>` lines
//!   (progress 0 to 10000 of the chunk, speed in guesses per second, both whole numbers) at a
//!   fixed interval and once at the end, and `hash:password` for each password found, before the
//!   status line that follows it (the agent sends cracks with the next status). `--timeout` is
//!   the agent's benchmark: stop after SECS, the last status says how far it got.
//! - Errors go to standard error, with exit status 2; a chunk that ran as asked exits 0, found
//!   or not (the agent reads cracks from the output, and fails a benchmark on a nonzero status).
//!
//! ATTACK is `sesame recover`'s sources (`-w`, `-r`, `-m`, `--hints`, ...) with the hash list
//! given as `-a FILE` (or alone): a task's command line is `-a #HL# -w words.txt`, and the agent
//! puts the hash list's path where `#HL#` is (and leaves `-a #HL#` out for `keyspace`).

use anyhow::{bail, Context};
use clap::{Args, Parser, Subcommand};
use sesame_cli::sources::SourceArgs;
use sesame_crack::{
    DeviceOptions, GpuChoice, RecoveryEvent, RecoveryHandle, RecoveryOutcome, RecoveryRequest,
    SessionOptions, Target,
};
use sesame_guess::Chunk;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(
    name = "sesame-hashtopolis",
    version,
    about = "Sesame as a Hashtopolis generic cracker (keyspace; crack -s SKIP -l LENGTH)"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print the number of guesses ATTACK makes
    Keyspace(Attack),
    /// Try guesses SKIP .. SKIP+LENGTH-1 of ATTACK against the hash list; STATUS lines on stdout
    Crack(CrackArgs),
}

#[derive(Args)]
struct Attack {
    /// The hash list ($itunes_backup$ lines; Hashtopolis puts its path where the task says #HL#)
    #[arg(short = 'a', long = "hashlist", value_name = "FILE")]
    hashlist: Option<String>,
    /// The hash list, when not given with -a (a literal #HL# is ignored: `keyspace` needs none)
    #[arg(value_name = "HASHLIST")]
    positional: Vec<String>,
    /// Worker threads (default: every core); part of the attack so that a task's command line
    /// serves `keyspace` too, which ignores it
    #[arg(long, value_name = "N")]
    threads: Option<usize>,
    /// Use the CPU only (default: also every GPU that passes its self-check)
    #[arg(long)]
    cpu_only: bool,
    #[command(flatten)]
    sources: SourceArgs,
}

impl Attack {
    /// The hash list's path, if one is given (not the literal placeholder).
    fn hashlist(&self) -> anyhow::Result<Option<&str>> {
        let mut given: Vec<&str> = self
            .hashlist
            .iter()
            .chain(self.positional.iter())
            .map(String::as_str)
            .filter(|p| *p != "#HL#")
            .collect();
        if given.len() > 1 {
            bail!(
                "more than one hash list given ({}): give one, with -a FILE",
                given.join(", ")
            );
        }
        Ok(given.pop())
    }
}

#[derive(Args)]
struct CrackArgs {
    /// First guess index of the chunk (what `keyspace` counts)
    #[arg(short = 's', long = "skip", value_name = "SKIP", default_value_t = 0)]
    skip: u64,
    /// Guess indices in the chunk
    #[arg(short = 'l', long = "length", alias = "limit", value_name = "LENGTH")]
    length: u64,
    /// Stop after SECS seconds (Hashtopolis's benchmark run); the last STATUS says how far
    #[arg(long, value_name = "SECS")]
    timeout: Option<f64>,
    /// Seconds between STATUS lines
    #[arg(long, value_name = "SECS", default_value_t = 5.0)]
    status_interval: f64,
    #[command(flatten)]
    attack: Attack,
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Keyspace(a) => keyspace(a),
        Command::Crack(a) => crack(a),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
            eprintln!("sesame-hashtopolis: error: {}", chain.join(": "));
            std::process::exit(2);
        }
    }
}

/// One line of standard output, flushed (the agent reads it as it comes).
fn say(line: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(line);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

fn keyspace(a: Attack) -> anyhow::Result<i32> {
    let plan = a.sources.build_plan()?;
    match plan.len() {
        Some(n) => {
            say(n.to_string().as_bytes());
            Ok(0)
        }
        None => bail!(
            "the number of guesses of standard input (--wordlist -) is not known; give a wordlist file"
        ),
    }
}

fn warning(w: &sesame_crack::Warning) -> String {
    use sesame_crack::Warning as W;
    match w {
        W::CheckpointNotSaved(e) => format!("cannot save the chunk's checkpoint: {e}"),
        W::PotfileUnreadable(e) | W::FoundFileUnreadable(e) => format!("cannot read {e}"),
        W::PotfileNotSaved(e) | W::FoundFileNotSaved(e) => format!("cannot write {e}"),
        W::PotfileWrong { .. } | W::FoundFileWrong { .. } => {
            "a remembered password does not open its hash; searching".into()
        }
    }
}

/// The chunk's progress in ten-thousandths, below 10000 until it is finished.
fn progress(work: f64, total: u64) -> u64 {
    if total == 0 {
        return 9999;
    }
    ((work / total as f64 * 10000.0).floor() as u64).min(9999)
}

fn crack(a: CrackArgs) -> anyhow::Result<i32> {
    if a.length == 0 {
        bail!("-l 0: a chunk needs at least one guess");
    }
    if !a.status_interval.is_finite() || a.status_interval <= 0.0 {
        bail!("--status-interval must be a positive number of seconds");
    }
    if a.timeout.is_some_and(|t| !t.is_finite() || t <= 0.0) {
        bail!("--timeout must be a positive number of seconds");
    }
    let Some(path) = a.attack.hashlist()? else {
        bail!("no hash list: give it with -a FILE (a task's command line: -a #HL# -w words.txt)");
    };
    let bytes = std::fs::read(path).with_context(|| format!("cannot read the hash list {path}"))?;
    let file = sesame_backup::hashline::parse_hash_file(&String::from_utf8_lossy(&bytes));
    for (n, e) in &file.skipped {
        eprintln!("sesame-hashtopolis: warning: {path} line {n}: not a valid $itunes_backup$ hash line ({e}); skipped");
    }
    if file.lines.is_empty() {
        bail!("{path}: no valid $itunes_backup$ hash line; the hash list must hold the lines `sesame hash BACKUP` writes");
    }
    // Cracks are printed with the hash as the hash list has it, so the server matches them.
    let texts: Vec<String> = file.lines.iter().map(|l| l.text.clone()).collect();
    let targets: Vec<Target> = file
        .lines
        .into_iter()
        .map(|l| Target {
            label: format!("{path} line {}", l.number),
            line: l.hash,
        })
        .collect();
    let sources = a.attack.sources;
    let mut req = RecoveryRequest::new(targets, Arc::new(sources.build_plan()?));
    // Hashtopolis keeps the cracks: no potfile shortcut, nothing written beside the agent.
    req.potfile = None;
    req.default_plan = sources.is_default_plan();
    req.session = SessionOptions {
        // A chunk handed out again (an agent restarted) resumes inside its range; a benchmark
        // always starts at its beginning.
        fresh: a.timeout.is_some(),
        chunk: Chunk::new(a.skip, Some(a.length)),
        ..SessionOptions::default()
    };
    req.devices = DeviceOptions {
        threads: a.attack.threads.unwrap_or(0),
        gpus: if a.attack.cpu_only {
            GpuChoice::None
        } else {
            GpuChoice::Discover { required: false }
        },
        ..DeviceOptions::default()
    };
    req.measure = None;
    req.progress_interval = Duration::from_secs_f64(a.status_interval);

    let handle = RecoveryHandle::new();
    // The benchmark's clock: cancel after --timeout seconds.
    let done = Arc::new(AtomicBool::new(false));
    if let Some(t) = a.timeout {
        let (h, done) = (handle.clone(), done.clone());
        let deadline = Instant::now() + Duration::from_secs_f64(t);
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                let now = Instant::now();
                if now >= deadline {
                    h.cancel();
                    return;
                }
                std::thread::sleep((deadline - now).min(Duration::from_millis(50)));
            }
        });
    }
    let mut total = a.length;
    let mut last_work = 0.0f64;
    let mut speed = 0u64;
    let result = sesame_crack::recover(req, &handle, &mut |e| match e {
        RecoveryEvent::Plan(p) => {
            total = p.total.unwrap_or(a.length);
            say(b"STATUS 0 0");
        }
        RecoveryEvent::Progress(p) => {
            // Finished guesses, and the finished part of batches still running.
            last_work = (p.done as f64).max(p.rate * p.elapsed).min(total as f64);
            speed = p.rate.round() as u64;
            say(format!("STATUS {} {speed}", progress(last_work, total)).as_bytes());
        }
        RecoveryEvent::Found(f) => {
            let mut line = format!("{}:", texts[f.target]).into_bytes();
            line.extend_from_slice(&sesame_crack::potfile::encode_password(&f.password));
            say(&line);
        }
        RecoveryEvent::Warning(w) => eprintln!("sesame-hashtopolis: warning: {}", warning(&w)),
        RecoveryEvent::DeviceFailed { device, error } => {
            eprintln!("sesame-hashtopolis: warning: {device} failed ({error}); going on without it")
        }
        _ => {}
    });
    done.store(true, Ordering::SeqCst);
    let report = result?;
    let (work, rate) = match &report.progress {
        Some(p) => (
            (p.done as f64).max(p.rate * p.elapsed).min(total as f64),
            p.rate.round() as u64,
        ),
        None => (last_work, speed),
    };
    let end = match report.outcome {
        // The chunk is finished: every guess tried, or nothing left to find.
        RecoveryOutcome::Found | RecoveryOutcome::Exhausted | RecoveryOutcome::AlreadyExhausted => {
            10000
        }
        RecoveryOutcome::Interrupted => progress(work, total),
    };
    say(format!("STATUS {end} {rate}").as_bytes());
    Ok(0)
}
