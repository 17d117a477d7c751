//! How `recover` draws the library's recovery events: the plan, status lines, JSON lines.

use crate::output::{group, human_duration};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::json;
use sesame_crack::{PlanSummary, Progress, RecoveryOutcome, RecoveryReport, Target, Warning};
use sesame_guess::Shard;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// Set when standard output is gone (`| head`): the run is then cancelled as on Ctrl-C.
static STDOUT_GONE: AtomicBool = AtomicBool::new(false);

/// One JSON object on its own line of standard output.
pub fn emit(v: serde_json::Value) {
    let mut out = std::io::stdout().lock();
    if writeln!(out, "{v}").and_then(|()| out.flush()).is_err() {
        STDOUT_GONE.store(true, Ordering::SeqCst);
    }
}

pub fn stdout_gone() -> bool {
    STDOUT_GONE.load(Ordering::SeqCst)
}

/// How the password is shown in JSON: the text when it is UTF-8, else hashcat's $HEX[...].
pub fn json_password(pw: &[u8]) -> String {
    match std::str::from_utf8(pw) {
        Ok(s) => s.to_string(),
        Err(_) => format!("$HEX[{}]", hex::encode(pw)),
    }
}

/// The password alone on its line of standard output (`LABEL<TAB>password` for several).
pub fn print_password(label: &str, pw: &[u8], ntargets: usize) {
    let mut out = std::io::stdout().lock();
    if ntargets > 1 {
        let _ = write!(out, "{label}\t");
    }
    let _ = out.write_all(pw);
    let _ = out.write_all(b"\n");
    let _ = out.flush();
}

/// A `found` JSON line.
pub fn found_json(
    t: &Target,
    pw: &[u8],
    index: Option<u64>,
    from_potfile: bool,
) -> serde_json::Value {
    json!({"event": "found", "target": t.label, "hash": t.line.to_string(),
        "password": json_password(pw), "index": index, "from_potfile": from_potfile})
}

pub fn progress_json(p: &Progress, stages: &[String]) -> serde_json::Value {
    json!({
        "event": "progress",
        "done": p.done,
        "total": p.total,
        "position": p.position,
        "tried": p.tried,
        "rate": p.rate,
        "elapsed": p.elapsed,
        "eta": p.eta,
        "stage_eta": p.stage_eta,
        "source": p.source.and_then(|s| stages.get(s)),
        "devices": p.devices,
    })
}

/// Rate per device when there is more than the CPU, the ETA, and the stage being worked on.
pub fn status_message(p: &Progress, stages: &[String]) -> String {
    let mut s = format!("{} guesses/s", fmt_rate(p.rate));
    if p.devices.len() > 1 || p.devices.iter().any(|d| d.name != "CPU") {
        let each: Vec<String> = p
            .devices
            .iter()
            .map(|d| format!("{} {}", d.name, fmt_rate(d.rate)))
            .collect();
        s.push_str(&format!(" ({})", each.join(", ")));
    }
    let stage = p.source.and_then(|i| stages.get(i));
    // The current stage's time beside the whole plan's: "this stage 20 min, all 2 days".
    match (stage, p.stage_eta, p.eta) {
        (Some(src), Some(st), Some(all)) if stages.len() > 1 => s.push_str(&format!(
            ", {src}: {} left, all stages: {}",
            human_duration(st),
            human_duration(all)
        )),
        _ => {
            if let Some(eta) = p.eta {
                s.push_str(&format!(", ETA {}", human_duration(eta)));
            }
            if let Some(src) = stage {
                s.push_str(&format!(", {src}"));
            }
        }
    }
    s
}

pub fn fmt_rate(r: f64) -> String {
    if r >= 100.0 {
        group(r.round() as u64)
    } else {
        format!("{r:.2}")
    }
}

/// The plan: targets, rate, per-stage guesses and times, and the session (JSON: one object).
pub fn plan(s: &PlanSummary, targets: &[Target], json_mode: bool) {
    // Unknown times (no rate measured) read as "forever", as before: the search is unbounded.
    let secs = |t: Option<f64>| t.unwrap_or(f64::INFINITY);
    let searched = s.targets.iter().map(|&i| &targets[i]);
    if json_mode {
        emit(json!({
            "event": "plan",
            "targets": searched.map(|t| json!({"target": t.label, "hash": t.line.to_string(), "scheme": t.line.kdf_params().scheme_name()})).collect::<Vec<_>>(),
            "sources": s.stages.iter().map(|st| json!({"name": st.name, "guesses": st.guesses, "seconds": st.seconds})).collect::<Vec<_>>(),
            "total": s.total,
            "seconds": s.seconds_left,
            "rate": s.rate,
            "kernel": s.kernel.kernel.name(),
            "kernel_why": s.kernel.why,
            "threads": s.threads,
            "gpus": s.gpus,
            "shard": s.shard.to_string(),
            "shard_from": s.shard_from,
            "skip": s.chunk.skip,
            "limit": s.chunk.limit,
            "found_file": s.found_file.as_ref().map(|p| p.display().to_string()),
            "session": s.session,
            "session_file": s.session_file.display().to_string(),
            "resume_from": s.resume_from,
            "done": s.done,
            "default_plan": s.default_plan,
            "resumable": s.resumable,
        }));
        return;
    }
    for t in searched {
        let p = t.line.kdf_params();
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
        eprintln!("Target: {}, {} ({cost})", t.label, p.scheme_name());
    }
    let cpu = match s.threads {
        0 => "no CPU threads".to_string(),
        n => format!("{n} threads, kernel {}", s.kernel.kernel.name()),
    };
    let gpus = match s.gpus.is_empty() {
        true => String::new(),
        false => format!(", GPU: {}", s.gpus.join(", ")),
    };
    // "Plan (shard 2/4)", or with where it came from and the chunk:
    // "Plan for shard 2/4 from Slurm array task 1 (SLURM_...), guesses 10 to 59 of the stream".
    let mut part = Vec::new();
    if s.shard != Shard::ALL {
        part.push(match &s.shard_from {
            Some(from) => format!("shard {} from {from}", s.shard),
            None => format!("shard {}", s.shard),
        });
    }
    if s.chunk != sesame_guess::Chunk::ALL {
        part.push(match s.chunk.limit {
            Some(l) => format!(
                "guesses {} to {} of the stream",
                group(s.chunk.skip),
                group(s.chunk.skip.saturating_add(l.saturating_sub(1)))
            ),
            None => format!("guesses from {} of the stream on", group(s.chunk.skip)),
        });
    }
    let shard = match (part.len(), s.shard_from.is_some()) {
        (0, _) => String::new(),
        (1, false) => format!(" ({})", part[0]),
        _ => format!(" for {}", part.join(", ")),
    };
    let default = if s.default_plan { "Default p" } else { "P" };
    eprintln!(
        "{default}lan{shard}: about {} guesses/s on this machine ({cpu}{gpus}, measured just now)",
        fmt_rate(s.rate),
    );
    for (i, st) in s.stages.iter().enumerate() {
        match st.guesses {
            Some(c) => eprintln!(
                "  {}. {}: {} guesses, about {}",
                i + 1,
                st.name,
                group(c),
                human_duration(secs(st.seconds))
            ),
            None => eprintln!("  {}. {}: size unknown until read", i + 1, st.name),
        }
    }
    let at_rate = |n: u64| {
        human_duration(if s.rate > 0.0 {
            n as f64 / s.rate
        } else {
            f64::INFINITY
        })
    };
    match s.total {
        Some(t) => eprintln!(
            "  Total: {} guesses, about {} at worst",
            group(t),
            at_rate(t)
        ),
        None => eprintln!("  Total: unknown (a source is read from a stream)"),
    }
    if let Some(ff) = &s.found_file {
        eprintln!(
            "Found-file {}: the process that finds the password writes it there, every other one stops",
            ff.display()
        );
    }
    if s.resume_from > s.chunk.skip {
        let pct = s.total.map_or(String::new(), |t| {
            format!(" ({:.1}% done)", 100.0 * s.done as f64 / t.max(1) as f64)
        });
        let left = s.total.map(|t| t.saturating_sub(s.done));
        eprintln!(
            "Resuming session {} from guess {}{pct}; {} left, about {} (--fresh starts over)",
            s.session,
            group(s.resume_from),
            left.map_or("?".into(), group),
            left.map_or("?".into(), at_rate)
        );
    } else if !s.resumable {
        eprintln!(
            "Session {} (checkpoints in {}); a source is read from a stream (standard input), which \
             cannot be read again: a run stopped with Ctrl-C starts over next time",
            s.session,
            s.session_file.display()
        );
    } else {
        eprintln!(
            "Session {} (checkpoints in {}); Ctrl-C stops, running the same command again resumes",
            s.session,
            s.session_file.display()
        );
    }
}

/// The end of `recover`: the result line (JSON) or summary, and the exit code.
pub fn result(report: &RecoveryReport, targets: &[Target], json_mode: bool) -> i32 {
    let n = targets.len();
    let found_all = report.outcome == RecoveryOutcome::Found;
    let (Some(p), Some((name, file))) = (&report.progress, &report.session) else {
        if report.outcome == RecoveryOutcome::AlreadyExhausted {
            let name = report.session.as_ref().map_or("", |s| s.0.as_str());
            let msg = format!(
                "session {name} already tried every guess of this plan without finding the password; \
                 use --fresh to run it again, or other sources"
            );
            match json_mode {
                true => emit(
                    json!({"event": "result", "status": "exhausted", "session": name, "message": msg}),
                ),
                false => eprintln!("sesame: {msg}"),
            }
            return 1;
        }
        // The potfile answered every target.
        if json_mode {
            emit(
                json!({"event": "result", "status": "found", "found": report.found.len(), "targets": n}),
            );
        }
        return 0;
    };
    let (status, code) = match report.outcome {
        RecoveryOutcome::Found => ("found", 0),
        // Not 1: a script must tell a stopped search from one that tried everything.
        RecoveryOutcome::Interrupted => ("interrupted", 2),
        _ => ("exhausted", 1),
    };
    if json_mode {
        let found: Vec<_> = report.found.iter().filter(|f| !f.from_potfile).map(|f| {
            let t = &targets[f.target];
            let mut v = json!({"target": t.label, "hash": t.line.to_string(), "password": json_password(&f.password), "index": f.index});
            if f.from_found_file {
                // Found by another process of the search; the finder's object has no such key.
                v["from_found_file"] = true.into();
            }
            v
        }).collect();
        emit(json!({
            "event": "result", "status": status, "found": found, "targets": n,
            "done": p.done, "total": p.total, "position": p.position, "tried": p.tried,
            "elapsed": p.elapsed, "rate": p.rate, "devices": p.devices,
            "session": name, "session_file": file.display().to_string(),
        }));
        return code;
    }
    let summary = format!(
        "{} guesses in {} ({:.2} guesses/s)",
        group(p.tried),
        human_duration(p.elapsed),
        p.rate
    );
    match report.outcome {
        _ if found_all => eprintln!("sesame: done: {summary}"),
        RecoveryOutcome::Interrupted if !report.resumable => eprintln!(
            "sesame: stopped at guess {} ({summary}); the guesses came from a stream (standard \
             input), which cannot be read again: the same command starts over",
            group(p.position)
        ),
        RecoveryOutcome::Interrupted => eprintln!(
            "sesame: stopped at guess {} ({summary}); saved as session {name}: run the same command again to resume",
            group(p.position)
        ),
        _ => eprintln!(
            "sesame: not found: every guess of this plan was tried ({summary}); try other sources \
             (--wordlist, --rules, --mask, --hints)"
        ),
    }
    code
}

/// A warning of the recovery in words.
pub fn warning(w: &Warning, targets: &[Target]) -> String {
    match w {
        Warning::PotfileUnreadable(e) => format!("cannot read the potfile: {e}"),
        Warning::PotfileWrong { target } => format!(
            "{}: the password in the potfile does not open it; searching again",
            targets[*target].label
        ),
        Warning::PotfileNotSaved(e) => {
            format!("the password could not be saved in the potfile: {e}")
        }
        Warning::CheckpointNotSaved(e) => format!("cannot save the session checkpoint: {e}"),
        Warning::FoundFileUnreadable(e) => format!(
            "cannot read the found-file ({e}); searching on, without news from the other processes"
        ),
        Warning::FoundFileWrong { target } => format!(
            "{}: the password in the found-file does not open it; ignored, searching on",
            targets[*target].label
        ),
        Warning::FoundFileNotSaved(e) => format!(
            "the password could not be written to the found-file ({e}): the other processes will not stop on their own"
        ),
    }
}

pub fn new_bar(total: Option<u64>, done: u64) -> ProgressBar {
    let b = ProgressBar::with_draw_target(total, ProgressDrawTarget::stderr_with_hz(4));
    b.set_style(
        ProgressStyle::with_template(
            "[{elapsed_precise}] {bar:20.cyan/blue} {human_pos}/{human_len} {wide_msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    b.set_position(done);
    b
}
