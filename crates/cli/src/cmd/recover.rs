//! `sesame recover TARGET [sources]`: find the password. Exit 0 found, 1 not found, 2 error, as
//! the command-line contract says; a run stopped by Ctrl-C/SIGTERM has not found it either, so
//! it exits 1 too, and says (and `--json`'s result object says: "interrupted") how to resume.
//!
//! Output: the plan, progress and messages go to standard error; the password found goes to
//! standard output (alone on its line for one target; `LABEL<TAB>password` for several). With
//! `--json`, standard output carries one JSON object a line instead: `plan`, `progress` (every
//! few seconds), `found`, and a final `result`.

use super::candidates::SourceArgs;
use crate::output::{group, human_duration};
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use sesame_backup::HashLine;
use sesame_crack::session::Resume;
use sesame_crack::{bench, EngineConfig, Event, GpuDevice, Outcome, Potfile, Progress, Session};
use sesame_guess::{Plan, Shard};
use sesame_kernels::Kernel;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Device {
    Cpu,
    Gpu,
    All,
}

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
    /// Try only guess i where i mod N = K-1 (split one search over N processes or machines)
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,
    /// Worker threads (default: every core)
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub threads: Option<u32>,
    /// Where to compute: cpu, gpu or all (every GPU that passes its self-check, and the CPU)
    #[arg(long, value_enum, default_value_t = Device::All)]
    pub device: Device,
    /// Say why each GPU back end found nothing
    #[arg(long)]
    pub verbose: bool,
    /// The CPU kernel to use (sha-ni, avx512, avx2, portable); default: the fastest measured here
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
}

/// How the password is shown in JSON: the text when it is UTF-8, else hashcat's $HEX[...].
fn json_password(pw: &[u8]) -> String {
    match std::str::from_utf8(pw) {
        Ok(s) => s.to_string(),
        Err(_) => format!("$HEX[{}]", hex::encode(pw)),
    }
}

/// Set when standard output is gone (`| head`): the run then stops as on Ctrl-C.
static STDOUT_GONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn emit(v: serde_json::Value) {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{v}").and_then(|()| out.flush()).is_err() {
        STDOUT_GONE.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

/// `--threads`, capped at this computer's core count: thousands of threads stall the machine
/// and finish no batch. Says so when it caps.
pub fn capped_threads(asked: Option<u32>) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match asked {
        Some(t) if t as usize > cores => {
            eprintln!(
                "sesame: note: --threads {t} is more than this computer's {cores} cores: using {cores}"
            );
            cores
        }
        Some(t) => (t as usize).max(1),
        None => cores,
    }
}

/// The GPUs `--device` asks for, each checked against the CPU reference on random inputs first
/// (one that disagrees is left out, with a warning). Discovery says one line on standard error;
/// why each back end found nothing only with `verbose`. `--device gpu` with no usable GPU is
/// an error (exit 2) that says why; for `all` it is the one line.
pub fn select_gpus(device: Device, verbose: bool) -> anyhow::Result<Vec<Arc<GpuDevice>>> {
    if device == Device::Cpu {
        return Ok(Vec::new());
    }
    let (devices, notes) = sesame_gpu::discover_checked();
    for n in &notes {
        if n.contains("wrong key") {
            eprintln!("sesame: warning: {n}");
        } else if verbose {
            eprintln!("sesame: note: {n}");
        }
    }
    for d in &devices {
        let emulated = if d.kind() == sesame_gpu::DeviceKind::CpuEmulation {
            ", CPU emulation"
        } else {
            ""
        };
        eprintln!(
            "sesame: GPU {} ({}{emulated}): self-check against the CPU reference passed",
            d.name(),
            d.backend()
        );
    }
    if devices.is_empty() {
        if device == Device::Gpu {
            bail!(
                "--device gpu: no usable GPU found ({}); use --device cpu or --device all",
                notes.join("; ")
            );
        }
        if !verbose {
            eprintln!("sesame: no GPU found, using the CPU (--verbose says why)");
        }
    }
    Ok(devices.into_iter().map(Arc::new).collect())
}

fn progress_json(p: &Progress, plan: &Plan) -> serde_json::Value {
    json!({
        "event": "progress",
        "done": p.done,
        "total": p.total,
        "position": p.position,
        "tried": p.tried,
        "rate": p.rate,
        "elapsed": p.elapsed,
        "eta": p.eta,
        "source": p.source.and_then(|s| plan.sources().get(s)).map(|s| s.name()),
        "devices": p.devices,
    })
}

pub fn run(args: Args) -> anyhow::Result<i32> {
    if !(args.checkpoint_interval > 0.0 && args.status_interval > 0.0) {
        bail!("--checkpoint-interval and --status-interval must be positive");
    }
    let targets = crate::target::resolve(&args.target)?;
    let all_lines: Vec<HashLine> = targets.iter().map(|t| t.line.clone()).collect();
    let potfile = Potfile::open(args.potfile.as_deref());
    let shard = args.shard.unwrap_or(Shard::ALL);
    let json_mode = args.json;

    // Targets whose password the potfile already has are done.
    let mut pending: Vec<usize> = Vec::new();
    let mut known: Vec<(usize, zeroize::Zeroizing<Vec<u8>>)> = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        match potfile.lookup(&t.line) {
            Ok(Some(pw)) => known.push((i, pw)),
            Ok(None) => pending.push(i),
            Err(e) => {
                eprintln!("sesame: warning: cannot read the potfile: {e}");
                pending.push(i);
            }
        }
    }
    for (i, pw) in &known {
        if json_mode {
            emit(
                json!({"event": "found", "target": targets[*i].label, "hash": targets[*i].line.to_string(),
                "password": json_password(pw), "index": null, "from_potfile": true}),
            );
        } else {
            eprintln!(
                "sesame: {}: already recovered (in the potfile {})",
                targets[*i].label,
                potfile.path().display()
            );
            print_password(&targets[*i].label, pw, targets.len());
        }
    }
    if pending.is_empty() {
        if json_mode {
            emit(
                json!({"event": "result", "status": "found", "found": known.len(), "targets": targets.len()}),
            );
        }
        return Ok(0);
    }

    let plan = Arc::new(args.sources.build_plan()?);
    let fingerprint = plan.fingerprint();
    let source_names: Vec<String> = plan.sources().iter().map(|s| s.name()).collect();
    let lines: Vec<HashLine> = pending.iter().map(|&i| targets[i].line.clone()).collect();

    // Session: the same command (targets, plan, shard) gets the same name, and resumes.
    let name = match &args.session {
        Some(n) => {
            Session::check_name(n).map_err(anyhow::Error::msg)?;
            n.clone()
        }
        None => Session::default_name(&all_lines, &fingerprint, shard),
    };
    let total_all = plan.len();
    let (mut session, resume) = Session::open(
        &sesame_crack::paths::sessions_dir(),
        &name,
        &all_lines,
        &fingerprint,
        source_names.clone(),
        shard,
        total_all.map(|n| shard.count(n)),
        args.fresh,
    )?;
    let start = match resume {
        Resume::New => 0,
        Resume::From { position, .. } => position,
        Resume::Finished { how, .. } if how == "exhausted" => {
            let msg = format!(
                "session {name} already tried every guess of this plan without finding the password; \
                 use --fresh to run it again, or other sources"
            );
            if json_mode {
                emit(
                    json!({"event": "result", "status": "exhausted", "session": name, "message": msg}),
                );
            } else {
                eprintln!("sesame: {msg}");
            }
            return Ok(1);
        }
        Resume::Finished { .. } => {
            // Found before, but the potfile no longer has it: search again from the start.
            session.restart();
            0
        }
    };

    let gpus = select_gpus(args.device, args.verbose)?;
    let use_cpu = args.device != Device::Gpu;
    let cancel = sesame_crack::interrupt::flag()?;
    let threads = capped_threads(args.threads);

    // A short measurement of this machine's rate for the targets' parameters, for the plan.
    let mut groups: Vec<sesame_backup::KdfParams> = Vec::new();
    for l in &lines {
        let p = l.kdf_params();
        if !groups.contains(&p) {
            groups.push(p);
        }
    }
    // The kernel: by measurement on the costliest scheme among the targets (cached per CPU).
    let costliest = groups
        .iter()
        .find(|p| p.dp.is_some())
        .or(groups.first())
        .cloned()
        .unwrap_or_else(sesame_crack::bench::scheme_10_2_params);
    let choice = sesame_crack::choice::choose(&costliest, args.kernel.as_deref())?;
    let kernel = choice.kernel;
    if !json_mode && use_cpu {
        eprintln!("sesame: kernel {}: {}", kernel.name(), choice.why);
    }
    let mut rate = if use_cpu {
        bench::quick_rate(kernel, &groups, threads, Duration::from_millis(300))
    } else {
        0.0
    };
    for g in &gpus {
        // One guess costs the sum over the groups of targets.
        let mut secs = 0.0;
        for p in &groups {
            match bench::measure_gpu(g, p, Duration::from_millis(300)) {
                Ok(m) if m.rate > 0.0 => secs += 1.0 / m.rate,
                Ok(_) => {}
                Err(e) => bail!("{e}"),
            }
        }
        if secs > 0.0 {
            rate += 1.0 / secs;
        }
    }
    print_plan(&PlanInfo {
        plan: &plan,
        targets: &pending
            .iter()
            .map(|&i| (targets[i].label.as_str(), &targets[i].line))
            .collect::<Vec<_>>(),
        shard,
        start,
        rate,
        kernel,
        kernel_why: &choice.why,
        threads: if use_cpu { threads } else { 0 },
        gpus: &gpus
            .iter()
            .map(|g| g.name().to_string())
            .collect::<Vec<_>>(),
        session: &name,
        session_path: session.path(),
        json: json_mode,
        default_plan: args.sources.is_default_plan(),
    });

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
    if let Some(f) = trace.as_mut() {
        writeln!(f, "start {start}")?;
    }

    let tty = std::io::stderr().is_terminal() && !json_mode;
    let progress_interval = if tty {
        Duration::from_millis(250)
    } else if json_mode {
        Duration::from_secs_f64(args.status_interval)
    } else {
        Duration::from_secs_f64(args.status_interval.max(30.0))
    };
    let cfg = EngineConfig {
        threads,
        cpu: use_cpu,
        gpus,
        gpu_batch_size: None,
        kernel,
        shard,
        start,
        batch_size: args.batch_size,
        progress_interval,
        checkpoint_interval: Duration::from_secs_f64(args.checkpoint_interval),
        cancel,
        expected_rate: (rate > 0.0).then_some(rate),
    };
    let bar = tty.then(|| {
        let b = ProgressBar::with_draw_target(
            plan.len().map(|n| shard.count(n)),
            ProgressDrawTarget::stderr_with_hz(4),
        );
        b.set_style(
            ProgressStyle::with_template(
                "[{elapsed_precise}] {bar:20.cyan/blue} {human_pos}/{human_len} {wide_msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        b.set_position(shard.count(start));
        b
    });

    let mut save_error: Option<String> = None;
    let mut potfile_error: Option<String> = None;
    let mut on_event = |e: Event<'_>| match e {
        Event::Started { .. } => {}
        Event::Progress(p) => {
            if json_mode {
                emit(progress_json(p, &plan));
                if STDOUT_GONE.load(std::sync::atomic::Ordering::SeqCst) {
                    cfg.cancel.store(true, std::sync::atomic::Ordering::SeqCst);
                }
            } else if let Some(b) = &bar {
                b.set_position(p.done);
                b.set_message(status_message(p, &plan));
            } else {
                eprintln!(
                    "sesame: {} of {} guesses, {}",
                    group(p.done),
                    p.total.map_or("?".into(), group),
                    status_message(p, &plan)
                );
            }
        }
        Event::Checkpoint(p) => {
            if let Err(err) = session.save(p) {
                if save_error.is_none() {
                    let msg = format!("cannot save the session checkpoint: {err}");
                    eprintln!("sesame: warning: {msg}");
                    save_error = Some(msg);
                }
            }
        }
        Event::BatchDone {
            lo, hi, indices, ..
        } => {
            if let Some(f) = trace.as_mut() {
                let _ = writeln!(f, "{lo} {hi} {}", indices.len());
            }
        }
        Event::Found(f) => {
            let t = &targets[pending[f.target]];
            if let Err(err) = potfile.append(&t.line, &f.password) {
                potfile_error = Some(err.to_string());
            }
            if json_mode {
                emit(
                    json!({"event": "found", "target": t.label, "hash": t.line.to_string(),
                    "password": json_password(&f.password), "index": f.index, "from_potfile": false}),
                );
            } else {
                let line = format!(
                    "sesame: {}: password found (guess {} of the plan)",
                    t.label,
                    group(f.index + 1)
                );
                match &bar {
                    Some(b) => b.suspend(|| {
                        eprintln!("{line}");
                        print_password(&t.label, &f.password, targets.len());
                    }),
                    None => {
                        eprintln!("{line}");
                        print_password(&t.label, &f.password, targets.len());
                    }
                }
            }
        }
    };
    let result = sesame_crack::run(plan.clone(), &lines, &cfg, &mut on_event);
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let report = result?;
    if let Some(e) = &potfile_error {
        eprintln!("sesame: warning: the password could not be saved in the potfile: {e}");
    }
    let p = &report.progress;
    let (status, code) = match report.outcome {
        Outcome::Found => ("found", 0),
        Outcome::Exhausted if report.found.len() + known.len() == targets.len() => ("found", 0),
        Outcome::Exhausted => ("exhausted", 1),
        Outcome::Interrupted => ("interrupted", 1),
    };
    let finished = match report.outcome {
        Outcome::Found => session.finish("found", p),
        Outcome::Exhausted => session.finish("exhausted", p),
        Outcome::Interrupted => session.save(p),
    };
    if let Err(e) = finished {
        eprintln!("sesame: warning: cannot save the session: {e}");
    }
    if json_mode {
        let found: Vec<_> = report
            .found
            .iter()
            .map(|f| {
                let t = &targets[pending[f.target]];
                json!({"target": t.label, "hash": t.line.to_string(), "password": json_password(&f.password), "index": f.index})
            })
            .collect();
        emit(json!({
            "event": "result",
            "status": status,
            "found": found,
            "targets": targets.len(),
            "done": p.done,
            "total": p.total,
            "position": p.position,
            "tried": p.tried,
            "elapsed": p.elapsed,
            "rate": p.rate,
            "devices": p.devices,
            "session": name,
            "session_file": session.path().display().to_string(),
        }));
    } else {
        let summary = format!(
            "{} guesses in {} ({:.2} guesses/s)",
            group(p.tried),
            human_duration(p.elapsed),
            p.rate
        );
        match report.outcome {
            Outcome::Found => eprintln!("sesame: done: {summary}"),
            Outcome::Exhausted if code == 0 => eprintln!("sesame: done: {summary}"),
            Outcome::Exhausted => eprintln!(
                "sesame: not found: every guess of this plan was tried ({summary}); try other sources \
                 (--wordlist, --rules, --mask, --hints)"
            ),
            Outcome::Interrupted => eprintln!(
                "sesame: stopped at guess {} ({summary}); saved as session {name}: run the same command again to resume",
                group(p.position)
            ),
        }
    }
    Ok(code)
}

fn print_password(label: &str, pw: &[u8], ntargets: usize) {
    let mut out = std::io::stdout().lock();
    if ntargets > 1 {
        let _ = write!(out, "{label}\t");
    }
    let _ = out.write_all(pw);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

fn status_message(p: &Progress, plan: &Plan) -> String {
    let mut s = format!("{} guesses/s", fmt_rate(p.rate));
    if p.devices.len() > 1 || p.devices.iter().any(|d| d.name != "CPU") {
        let each: Vec<String> = p
            .devices
            .iter()
            .map(|d| format!("{} {}", d.name, fmt_rate(d.rate)))
            .collect();
        s.push_str(&format!(" ({})", each.join(", ")));
    }
    if let Some(eta) = p.eta {
        s.push_str(&format!(", ETA {}", human_duration(eta)));
    }
    if let Some(src) = p.source.and_then(|i| plan.sources().get(i)) {
        s.push_str(&format!(", {}", src.name()));
    }
    s
}

struct PlanInfo<'a> {
    plan: &'a Plan,
    targets: &'a [(&'a str, &'a HashLine)],
    shard: Shard,
    start: u64,
    rate: f64,
    kernel: Kernel,
    kernel_why: &'a str,
    threads: usize,
    gpus: &'a [String],
    session: &'a str,
    session_path: &'a std::path::Path,
    json: bool,
    default_plan: bool,
}

fn print_plan(info: &PlanInfo<'_>) {
    let PlanInfo {
        plan, shard, rate, ..
    } = *info;
    let secs = |n: u64| {
        if rate > 0.0 {
            n as f64 / rate
        } else {
            f64::INFINITY
        }
    };
    // Guesses this shard owns in each source.
    let mut offset = 0u64;
    let mut rows = Vec::new();
    let mut known = true;
    for s in plan.sources() {
        let len = s.len();
        let owned = match len {
            Some(l) if known => {
                let c = shard.count(offset + l) - shard.count(offset);
                offset += l;
                Some(c)
            }
            _ => {
                known = false;
                None
            }
        };
        rows.push((s.name(), owned));
    }
    let total = plan.len().map(|n| shard.count(n));
    let done = shard.count(info.start);
    if info.json {
        emit(json!({
            "event": "plan",
            "targets": info.targets.iter().map(|(l, h)| json!({"target": l, "hash": h.to_string(), "scheme": h.kdf_params().scheme_name()})).collect::<Vec<_>>(),
            "sources": rows.iter().map(|(n, c)| json!({"name": n, "guesses": c, "seconds": c.map(secs)})).collect::<Vec<_>>(),
            "total": total,
            "seconds": total.map(|t| secs(t.saturating_sub(done))),
            "rate": rate,
            "kernel": info.kernel.name(),
            "kernel_why": info.kernel_why,
            "threads": info.threads,
            "gpus": info.gpus,
            "shard": shard.to_string(),
            "session": info.session,
            "session_file": info.session_path.display().to_string(),
            "resume_from": info.start,
            "done": done,
            "default_plan": info.default_plan,
        }));
        return;
    }
    for (label, h) in info.targets {
        let p = h.kdf_params();
        let cost = match &p.dp {
            Some((_, dpic)) => format!(
                "{} SHA-256 + {} SHA-1 iterations a guess",
                group(u64::from(*dpic)),
                group(u64::from(p.iterations))
            ),
            None => format!(
                "{} SHA-1 iterations a guess",
                group(u64::from(p.iterations))
            ),
        };
        eprintln!("Target: {label}, {} ({cost})", p.scheme_name());
    }
    let cpu = if info.threads > 0 {
        format!("{} threads, kernel {}", info.threads, info.kernel.name())
    } else {
        "no CPU threads".to_string()
    };
    let gpus = if info.gpus.is_empty() {
        String::new()
    } else {
        format!(", GPU: {}", info.gpus.join(", "))
    };
    eprintln!(
        "{}lan{}: about {} guesses/s on this machine ({cpu}{gpus}, measured just now)",
        if info.default_plan { "Default p" } else { "P" },
        if shard == Shard::ALL {
            String::new()
        } else {
            format!(" (shard {shard})")
        },
        fmt_rate(rate),
    );
    for (i, (name, count)) in rows.iter().enumerate() {
        match count {
            Some(c) => eprintln!(
                "  {}. {name}: {} guesses, about {}",
                i + 1,
                group(*c),
                human_duration(secs(*c))
            ),
            None => eprintln!("  {}. {name}: size unknown until read", i + 1),
        }
    }
    match total {
        Some(t) => eprintln!(
            "  Total: {} guesses, about {} at worst",
            group(t),
            human_duration(secs(t))
        ),
        None => eprintln!("  Total: unknown (a source is read from a stream)"),
    }
    if info.start > 0 {
        let pct = total.map_or(String::new(), |t| {
            format!(" ({:.1}% done)", 100.0 * done as f64 / t.max(1) as f64)
        });
        eprintln!(
            "Resuming session {} from guess {}{pct}; {} left, about {} (--fresh starts over)",
            info.session,
            group(info.start),
            total.map_or("?".into(), |t| group(t.saturating_sub(done))),
            total.map_or("?".into(), |t| human_duration(secs(t.saturating_sub(done))))
        );
    } else {
        eprintln!(
            "Session {} (checkpoints in {}); Ctrl-C stops, running the same command again resumes",
            info.session,
            info.session_path.display()
        );
    }
}

fn fmt_rate(r: f64) -> String {
    if r >= 100.0 {
        group(r.round() as u64)
    } else {
        format!("{r:.2}")
    }
}
