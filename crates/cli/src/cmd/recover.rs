//! `sesame recover TARGET [sources]`: find the password. Exit 0 found, 1 not found, 2 error, as
//! the command-line contract says; a run stopped by Ctrl-C/SIGTERM has not found it either, so
//! it exits 1 too, and says (and `--json`'s result object says: "interrupted") how to resume.
//!
//! Output: the plan, progress and messages go to standard error; the password found goes to
//! standard output (alone on its line for one target; `LABEL<TAB>password` for several). With
//! `--json`, standard output carries one JSON object a line instead: `plan`, `progress` (every
//! few seconds), `found`, and a final `result`.
//!
//! The use case (potfile, session, devices, plan, run) is `sesame_crack::recover`; this file
//! maps the arguments onto its request and draws its events (`crate::render`).

use super::candidates::SourceArgs;
use crate::devices::{capped_threads, no_gpu_error, report_gpus, Device};
use crate::output::group;
use crate::render::{self, emit, found_json, print_password};
use anyhow::{bail, Context};
use indicatif::ProgressBar;
use sesame_crack::{
    CrackError, DeviceOptions, Potfile, RecoveryEvent as Ev, RecoveryHandle, RecoveryRequest,
    SessionOptions, Target,
};
use sesame_guess::{Chunk, Shard};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(clap::Args)]
pub struct Args {
    /// A backup folder, a Manifest.plist, a $itunes_backup$ hash line, or a file of hash lines
    pub target: String,
    #[command(flatten)]
    pub sources: SourceArgs,
    /// Name of the session (checkpoint) to save and resume; default: derived from target and plan
    #[arg(long, value_name = "NAME")]
    pub session: Option<String>,
    /// Start over instead of resuming a saved session
    #[arg(long)]
    pub fresh: bool,
    /// Try only guess i where i mod N = K-1 (split one search over N processes or machines);
    /// `auto`: K and N from the job engine (Slurm job array, Kubernetes Indexed Job)
    #[arg(long, value_name = "K/N|auto")]
    pub shard: Option<ShardArg>,
    /// Start at guess index S of the stream (hashcat's --skip; what `sesame keyspace` counts)
    #[arg(long, value_name = "S", default_value_t = 0)]
    pub skip: u64,
    /// Try only the L guess indices from --skip on (hashcat's --limit); with --shard, this
    /// shard's guesses among them
    #[arg(long, value_name = "L")]
    pub limit: Option<u64>,
    /// A file on a file system the processes of one search share: the one that finds the
    /// password writes it there, the others stop between batches and report it (exit 0)
    #[arg(long, value_name = "PATH")]
    pub found_file: Option<PathBuf>,
    /// Worker threads (default: every core)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub threads: Option<u32>,
    /// Where to compute: cpu, gpu or all (every GPU that passes its self-check, and the CPU)
    #[arg(long, value_enum, default_value_t = Device::All)]
    pub device: Device,
    /// Say why each GPU back end found nothing
    #[arg(long)]
    pub verbose: bool,
    /// The CPU kernel to use (sha-ni, avx512, avx512x2, avx2, portable); default: the fastest measured here
    #[arg(long, value_name = "NAME")]
    pub kernel: Option<String>,
    /// Potfile of passwords found (default: SESAME_POTFILE, or sesame.potfile in Sesame's data folder)
    #[arg(long, value_name = "FILE")]
    pub potfile: Option<PathBuf>,
    /// One JSON object a line on standard output: plan, progress, found, result
    #[arg(long)]
    pub json: bool,
    /// Seconds between checkpoints
    #[arg(long, value_name = "SECS", default_value_t = 30.0, hide = true)]
    pub checkpoint_interval: f64,
    /// Seconds between JSON/plain status lines
    #[arg(long, value_name = "SECS", default_value_t = 5.0, hide = true)]
    pub status_interval: f64,
    /// Guesses per batch (default: about a second of work, at least one kernel call)
    #[arg(long, value_name = "N", hide = true)]
    pub batch_size: Option<usize>,
    /// Append every finished batch's index range to FILE (indices only; for tests and audits)
    #[arg(long, value_name = "FILE", hide = true)]
    pub trace_file: Option<PathBuf>,
    /// On a Mac: first ask its Keychain for the "iOS Backup" item (macOS asks for your Mac password)
    #[arg(long)]
    pub mac_keychain: bool,
    /// The macOS `security` tool to ask (tests give a stand-in)
    #[arg(long, value_name = "PATH", hide = true)]
    pub security_tool: Option<PathBuf>,
}

/// `--mac-keychain`: the password the Mac kept for this backup, checked against it, goes into
/// the potfile, where the recovery then finds it before any search.
fn ask_mac_keychain(args: &Args, targets: &[Target], potfile: &Potfile) -> anyhow::Result<()> {
    use sesame_crack::macos_keychain::{default_tool, lookup, KeychainAnswer};
    let tool = match (&args.security_tool, default_tool()) {
        (Some(t), _) => t.clone(),
        (None, Some(t)) => t.to_path_buf(),
        (None, None) => bail!(
            "--mac-keychain: only a Mac keeps the \"iOS Backup\" Keychain item; on a Mac, open \
             Keychain Access and search for \"iOS Backup\" (or run Sesame there)"
        ),
    };
    // The backup's UDID names the item of this device first.
    let udid = sesame_backup::Backup::open(std::path::Path::new(&args.target))
        .ok()
        .and_then(|b| b.info().udid);
    for t in targets {
        match lookup(&tool, udid.as_deref(), &t.line) {
            Ok(KeychainAnswer::Opens(pw)) => {
                eprintln!("sesame: {}: the Mac's Keychain had the password", t.label);
                potfile.append(&t.line, &pw)?;
            }
            Ok(KeychainAnswer::Wrong(n)) => eprintln!(
                "sesame: the Mac's Keychain holds {n} backup password(s), none opens {}: \
                 try them as --old-password, they may be close",
                t.label
            ),
            Ok(KeychainAnswer::None) => eprintln!(
                "sesame: the Mac's Keychain has no \"iOS Backup\" or \"iPhone Backup\" item"
            ),
            Err(e) => eprintln!("sesame: warning: {e}; searching without it"),
        }
    }
    Ok(())
}

/// `--shard K/N` or `--shard auto`.
#[derive(Clone, Debug)]
pub enum ShardArg {
    Given(Shard),
    Auto,
}

impl std::str::FromStr for ShardArg {
    type Err = sesame_guess::GuessError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim().eq_ignore_ascii_case("auto") {
            Ok(ShardArg::Auto)
        } else {
            s.parse().map(ShardArg::Given)
        }
    }
}

/// The shard to run and, for `auto`, which variables it came from.
fn shard_of(arg: Option<&ShardArg>) -> anyhow::Result<(Shard, Option<String>)> {
    match arg {
        None => Ok((Shard::ALL, None)),
        Some(ShardArg::Given(s)) => Ok((*s, None)),
        Some(ShardArg::Auto) => {
            let a = sesame_crack::shard_from_env(&|k| std::env::var(k).ok())
                .map_err(|e| anyhow::anyhow!("--shard auto: {e}"))?;
            Ok((a.shard, Some(a.from)))
        }
    }
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    if !(args.checkpoint_interval > 0.0 && args.status_interval > 0.0) {
        bail!("--checkpoint-interval and --status-interval must be positive");
    }
    if args.limit == Some(0) {
        bail!("--limit 0 tries nothing: give at least 1, or leave --limit out to go to the end");
    }
    let (shard, shard_from) = shard_of(args.shard.as_ref())?;
    let chunk = Chunk::new(args.skip, args.limit);
    let targets: Vec<Target> = crate::target::resolve(&args.target)?
        .into_iter()
        .map(|t| Target {
            label: t.label,
            line: t.line,
        })
        .collect();
    let (json_mode, verbose, device) = (args.json, args.verbose, args.device);
    let tty = std::io::stderr().is_terminal() && !json_mode;
    let mut trace = match &args.trace_file {
        Some(p) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(p)
                .with_context(|| format!("cannot open the trace file {}", p.display()))?,
        ),
        None => None,
    };
    let potfile = Potfile::open(args.potfile.as_deref());
    if args.mac_keychain {
        ask_mac_keychain(&args, &targets, &potfile)?;
    }
    let default_plan = args.sources.is_default_plan() && !args.sources.wider;
    super::candidates::print_notes(&args.sources);
    let sources: SourceArgs = args.sources;
    let req = RecoveryRequest {
        plan: Box::new(move || Ok(Arc::new(sources.build_plan()?))),
        default_plan,
        potfile: Some(potfile.clone()),
        found_file: args.found_file.clone(),
        session: SessionOptions {
            name: args.session,
            fresh: args.fresh,
            shard,
            shard_from,
            chunk,
            ..SessionOptions::default()
        },
        devices: DeviceOptions {
            cpu: device != Device::Gpu,
            threads: capped_threads(args.threads),
            kernel: args.kernel,
            gpus: device.gpus(),
            extra: Vec::new(),
            kernel_cache: None,
        },
        batch_size: args.batch_size,
        progress_interval: if tty {
            Duration::from_millis(250)
        } else if json_mode {
            Duration::from_secs_f64(args.status_interval)
        } else {
            Duration::from_secs_f64(args.status_interval.max(30.0))
        },
        checkpoint_interval: Duration::from_secs_f64(args.checkpoint_interval),
        // A short measurement of each device, for the plan's times.
        measure: Some(Duration::from_millis(300)),
        targets: targets.clone(),
    };
    let handle = RecoveryHandle::with_cancel_flag(crate::interrupt::flag()?);
    let n = targets.len();
    let found_file = args.found_file;
    let mut stages: Vec<String> = Vec::new();
    let mut bar: Option<ProgressBar> = None;
    // Draws on standard error without tearing the progress bar.
    let say = |bar: &Option<ProgressBar>, f: &mut dyn FnMut()| match bar {
        Some(b) => b.suspend(f),
        None => f(),
    };
    let result = sesame_crack::recover(req, &handle, &mut |e| match e {
        Ev::Known(f) if json_mode => {
            let mut v = found_json(&targets[f.target], &f.password, None, f.from_potfile);
            if f.from_found_file {
                v["from_found_file"] = true.into();
            }
            emit(v)
        }
        Ev::Known(f) => say(&bar, &mut || {
            let t = &targets[f.target];
            if f.from_found_file {
                eprintln!(
                    "sesame: {}: found by another process of this search (in the found-file {}, checked)",
                    t.label,
                    found_file.as_ref().map_or(String::new(), |p| p.display().to_string())
                );
            } else {
                eprintln!(
                    "sesame: {}: already recovered (in the potfile {})",
                    t.label,
                    potfile.path().display()
                );
            }
            print_password(&t.label, &f.password, n);
        }),
        Ev::Warning(w) => {
            let msg = render::warning(&w, &targets);
            say(&bar, &mut || eprintln!("sesame: warning: {msg}"));
        }
        Ev::Gpus { devices, notes } => report_gpus(devices, notes, verbose, device == Device::Gpu),
        Ev::Kernel(c) if !json_mode && device != Device::Gpu => {
            eprintln!("sesame: kernel {}: {}", c.kernel.name(), c.why)
        }
        Ev::Plan(s) => {
            render::plan(s, &targets, json_mode);
            stages = s.stages.iter().map(|st| st.name.clone()).collect();
            if let Some(f) = trace.as_mut() {
                let _ = f.write_all(format!("start {}\n", s.resume_from).as_bytes());
                if s.shard != Shard::ALL || s.chunk != Chunk::ALL {
                    let _ =
                        f.write_all(format!("shard {} chunk {}\n", s.shard, s.chunk).as_bytes());
                }
            }
            bar = tty.then(|| render::new_bar(s.total, s.done));
        }
        Ev::Progress(p) if json_mode => {
            emit(render::progress_json(p, &stages));
            if render::stdout_gone() {
                handle.cancel();
            }
        }
        Ev::Progress(p) => match &bar {
            Some(b) => {
                b.set_position(p.done);
                b.set_message(render::status_message(p, &stages));
            }
            None => eprintln!(
                "sesame: {} of {} guesses, {}",
                group(p.done),
                p.total.map_or("?".into(), group),
                render::status_message(p, &stages)
            ),
        },
        Ev::Batch { lo, hi, tried, .. } => {
            if let Some(f) = trace.as_mut() {
                // One write a line: a run killed mid-line leaves whole lines (O_APPEND).
                let _ = f.write_all(format!("{lo} {hi} {tried}\n").as_bytes());
            }
        }
        Ev::Found(f) if json_mode => {
            emit(found_json(&targets[f.target], &f.password, f.index, false))
        }
        Ev::Found(f) => say(&bar, &mut || {
            let t = &targets[f.target];
            let at = group(f.index.unwrap_or(0) + 1);
            eprintln!(
                "sesame: {}: password found (guess {at} of the plan)",
                t.label
            );
            print_password(&t.label, &f.password, n);
        }),
        Ev::DeviceFailed { device, error } => {
            say(&bar, &mut || {
                eprintln!("sesame: warning: {device} failed ({error}); going on without it, no guess is lost")
            })
        }
        _ => {}
    });
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let report = match result {
        Err(CrackError::NoGpu(why)) => return Err(no_gpu_error(&why)),
        r => r?,
    };
    Ok(crate::render::result(&report, &targets, json_mode))
}
