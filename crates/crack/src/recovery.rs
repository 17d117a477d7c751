//! The recovery use case, once for every front end: "find the password of these targets with
//! these sources".
//!
//! [`recover`] does, in order: the potfile (a remembered password is checked against its target
//! before it is trusted), the plan (built only when some target is still unknown, so that a bad
//! source does not stand between the user and a password already found), the session (name,
//! resume rules, shard; checkpoints written as the run goes), the devices (the CPU kernel that
//! is fastest here among those that passed their self-test, GPUs that passed their
//! self-check), the plan's summary with per-stage sizes and time estimates, the run, and the
//! potfile entry of each password found. Everything it has to say is a [`RecoveryEvent`], on
//! the calling thread; a [`RecoveryHandle`] pauses, resumes or cancels from any other thread.
//! It prints nothing, installs no signal handler and never exits.

use crate::bench;
use crate::choice::{self, KernelChoice};
use crate::control::RecoveryHandle;
use crate::device::Device;
use crate::engine::{self, EngineConfig, Event, Outcome, Progress};
use crate::error::CrackError;
use crate::found_file::FoundFile;
use crate::potfile::Potfile;
use crate::session::{Resume, Session};
use sesame_backup::{HashLine, KdfParams};
use sesame_gpu::GpuDevice;
use sesame_guess::{Chunk, Plan, Shard};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use zeroize::Zeroizing;

/// Any error of the code that builds the plan (the front end's source options).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Builds the plan when it is needed.
pub type PlanBuilder = Box<dyn FnOnce() -> Result<Arc<Plan>, BoxError> + Send>;

/// One thing whose password is searched for.
#[derive(Clone, Debug)]
pub struct Target {
    /// Where it came from, for messages: a path, "line 3 of hashes.txt".
    pub label: String,
    pub line: HashLine,
}

/// Where checkpoints go and which part of the stream this process owns.
#[derive(Clone, Debug)]
pub struct SessionOptions {
    /// The folder of session files ([`crate::paths::sessions_dir`] by default).
    pub dir: PathBuf,
    /// `None`: a name derived from the targets, the plan and the shard, so that the same
    /// request resumes the same session.
    pub name: Option<String>,
    /// Start over instead of resuming.
    pub fresh: bool,
    pub shard: Shard,
    /// Where the shard came from (`--shard auto`: the job engine's variables), for the plan.
    pub shard_from: Option<String>,
    /// The part of the stream this process works on (`--skip/--limit`); a resumed session
    /// stays inside it.
    pub chunk: Chunk,
}

impl Default for SessionOptions {
    fn default() -> Self {
        SessionOptions {
            dir: crate::paths::sessions_dir(),
            name: None,
            fresh: false,
            shard: Shard::ALL,
            shard_from: None,
            chunk: Chunk::ALL,
        }
    }
}

/// Which GPUs to use.
#[derive(Clone, Debug)]
pub enum GpuChoice {
    None,
    /// Find them and keep those that pass their self-check; `required`: none is an error.
    Discover {
        required: bool,
    },
    /// These (already self-checked).
    Given(Vec<Arc<GpuDevice>>),
}

/// What to compute on.
#[derive(Clone)]
pub struct DeviceOptions {
    /// CPU worker threads at all.
    pub cpu: bool,
    /// CPU threads (0: every core).
    pub threads: usize,
    /// A CPU kernel by name instead of the fastest measured here.
    pub kernel: Option<String>,
    pub gpus: GpuChoice,
    /// Other devices beside these (other back ends; tests inject some).
    pub extra: Vec<Arc<dyn Device>>,
    /// Where the kernel calibration is cached (None: `kernels.json` in the data folder).
    pub kernel_cache: Option<PathBuf>,
}

impl Default for DeviceOptions {
    fn default() -> Self {
        DeviceOptions {
            cpu: true,
            threads: 0,
            kernel: None,
            gpus: GpuChoice::None,
            extra: Vec::new(),
            kernel_cache: None,
        }
    }
}

/// Everything a recovery needs.
pub struct RecoveryRequest {
    pub targets: Vec<Target>,
    pub plan: PlanBuilder,
    /// The plan is the default one (no source given): said in the summary.
    pub default_plan: bool,
    /// `None`: no potfile is read or written.
    pub potfile: Option<Potfile>,
    /// A file shared by the processes of one search over many machines: looked at before the
    /// run and between batches (a password in it, once checked, ends the run as found), and
    /// written (atomically) by the process that finds the password. See [`crate::found_file`].
    pub found_file: Option<PathBuf>,
    pub session: SessionOptions,
    pub devices: DeviceOptions,
    /// Guesses per CPU batch (default: about a second of work).
    pub batch_size: Option<usize>,
    pub progress_interval: Duration,
    pub checkpoint_interval: Duration,
    /// How long each device is timed for the estimates; `None`: no estimates.
    pub measure: Option<Duration>,
}

impl RecoveryRequest {
    /// A request with the defaults: the default potfile and sessions folder, every core, the
    /// measured kernel, no GPU, 300 ms of timing for the estimates.
    pub fn new(targets: Vec<Target>, plan: Arc<Plan>) -> Self {
        RecoveryRequest {
            targets,
            plan: Box::new(move || Ok(plan)),
            default_plan: false,
            potfile: Some(Potfile::open(None)),
            found_file: None,
            session: SessionOptions::default(),
            devices: DeviceOptions::default(),
            batch_size: None,
            progress_interval: Duration::from_secs(2),
            checkpoint_interval: Duration::from_secs(30),
            measure: Some(Duration::from_millis(300)),
        }
    }
}

/// One stage (source) of the plan: the guesses this shard owns in it and their time here.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Stage {
    pub name: String,
    /// `None` while a source's size is unknown (read from a stream).
    pub guesses: Option<u64>,
    /// At the measured rate; `None` when the size or the rate is unknown.
    pub seconds: Option<f64>,
}

/// What is about to run.
#[derive(Clone, Debug)]
pub struct PlanSummary {
    /// The targets searched (indices into the request's targets; those the potfile answered
    /// are not searched).
    pub targets: Vec<usize>,
    pub stages: Vec<Stage>,
    /// Guesses this shard owns in the whole plan.
    pub total: Option<u64>,
    /// Time for what is left (after a resume: the rest).
    pub seconds_left: Option<f64>,
    /// Guesses per second of every device together, measured just now (0: not measured).
    pub rate: f64,
    pub kernel: KernelChoice,
    /// CPU threads (0: none).
    pub threads: usize,
    /// The other devices, by name.
    pub gpus: Vec<String>,
    pub shard: Shard,
    /// Where the shard came from (`--shard auto`), when not given as K/N.
    pub shard_from: Option<String>,
    /// The part of the stream this process works on.
    pub chunk: Chunk,
    /// The found-file looked at between batches.
    pub found_file: Option<PathBuf>,
    pub session: String,
    pub session_file: PathBuf,
    /// First index of this run (the chunk's start, or a resumed checkpoint).
    pub resume_from: u64,
    /// Guesses of this shard before `resume_from`.
    pub done: u64,
    pub default_plan: bool,
    /// Whether running the same request again resumes from the checkpoint: false when a source
    /// is a stream (standard input), which cannot be read again; such a run always starts over.
    pub resumable: bool,
}

/// Something worth telling the user that does not stop the run.
#[derive(Clone, Debug)]
pub enum Warning {
    /// The potfile could not be read: its passwords are searched for again.
    PotfileUnreadable(String),
    /// The potfile's password for this target does not open it: searched for again.
    PotfileWrong { target: usize },
    /// A password found could not be written to the potfile.
    PotfileNotSaved(String),
    /// A checkpoint could not be written (said once per run).
    CheckpointNotSaved(String),
    /// The found-file could not be read (said once per run); the search goes on.
    FoundFileUnreadable(String),
    /// The found-file's password for this target does not open it: ignored.
    FoundFileWrong { target: usize },
    /// A password found could not be written to the found-file: the other processes go on.
    FoundFileNotSaved(String),
}

/// A password, from the potfile or from the search. `Debug` does not show it.
#[derive(Clone)]
pub struct FoundPassword {
    /// Index into the request's targets.
    pub target: usize,
    /// Global index of the guess in the plan; `None` from the potfile.
    pub index: Option<u64>,
    pub password: Zeroizing<Vec<u8>>,
    pub from_potfile: bool,
    /// Found by another process of the search: read from the found-file (and checked).
    pub from_found_file: bool,
}

impl std::fmt::Debug for FoundPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FoundPassword")
            .field("target", &self.target)
            .field("index", &self.index)
            .field("from_potfile", &self.from_potfile)
            .field("from_found_file", &self.from_found_file)
            .finish_non_exhaustive()
    }
}

/// How a recovery ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecoveryOutcome {
    /// Every target has its password (some perhaps from the potfile).
    Found,
    /// Every guess was tried; some target has none.
    Exhausted,
    /// Cancelled; the session's checkpoint says where to resume.
    Interrupted,
    /// This session had already tried every guess of this plan: nothing was run.
    AlreadyExhausted,
}

/// The end of a recovery.
#[derive(Clone, Debug)]
pub struct RecoveryReport {
    pub outcome: RecoveryOutcome,
    /// Every password known at the end, from the potfile first.
    pub found: Vec<FoundPassword>,
    /// The final progress of the run; `None` when nothing ran.
    pub progress: Option<Progress>,
    /// The session's name and file; `None` when the potfile answered everything.
    pub session: Option<(String, PathBuf)>,
    /// Whether running the same request again resumes this session (see
    /// [`PlanSummary::resumable`]).
    pub resumable: bool,
}

/// What a recovery tells its caller, in order, on the calling thread.
#[derive(Debug)]
pub enum RecoveryEvent<'a> {
    /// A password known without this process's search, checked against its target: from the
    /// potfile (before the run), or from the found-file (before or during the run: another
    /// process found it).
    Known(&'a FoundPassword),
    Warning(Warning),
    /// GPU discovery: the devices that passed their self-check, and why others did not.
    Gpus {
        devices: &'a [Arc<GpuDevice>],
        notes: &'a [String],
    },
    /// The CPU kernel and why.
    Kernel(&'a KernelChoice),
    Plan(&'a PlanSummary),
    /// Every `progress_interval`: per device (`devices`) and per stage (`source`).
    Progress(&'a Progress),
    /// Guesses `[lo, hi)` are finished (`tried` of them are this shard's), by `device`.
    Batch {
        lo: u64,
        hi: u64,
        tried: usize,
        device: &'a str,
    },
    /// A checkpoint, already written to the session file.
    Checkpoint(&'a Progress),
    /// A password found by the search (already in the potfile).
    Found(&'a FoundPassword),
    /// A device failed; the run goes on without it, and loses no guess.
    DeviceFailed {
        device: &'a str,
        error: &'a str,
    },
    Paused(&'a Progress),
    Resumed,
    /// The last event.
    Finished(&'a RecoveryReport),
}

/// Runs the recovery `req` (see the module docs). Errors: bad input (a session made for other
/// sources, an unknown kernel, no usable GPU when one is required, a source that cannot be
/// read), or a run that could not go on; the session's last checkpoint stays valid.
pub fn recover(
    req: RecoveryRequest,
    handle: &RecoveryHandle,
    on_event: &mut dyn FnMut(RecoveryEvent<'_>),
) -> Result<RecoveryReport, CrackError> {
    let RecoveryRequest {
        targets,
        plan,
        default_plan,
        potfile,
        found_file,
        session: session_opts,
        devices: dev_opts,
        batch_size,
        progress_interval,
        checkpoint_interval,
        measure,
    } = req;
    if targets.is_empty() {
        return Err(CrackError::NoTargets);
    }
    let all_lines: Vec<HashLine> = targets.iter().map(|t| t.line.clone()).collect();

    // The potfile: a password it remembers is used only if it opens the target (a shared or
    // edited potfile can be wrong, and a wrong "found" would be a false answer).
    let mut known: Vec<FoundPassword> = Vec::new();
    let mut pending: Vec<usize> = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let remembered = match potfile.as_ref().map(|p| p.lookup_verified(&t.line)) {
            None => (None, 0),
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                on_event(RecoveryEvent::Warning(Warning::PotfileUnreadable(
                    e.to_string(),
                )));
                (None, 0)
            }
        };
        match remembered {
            (Some(pw), _) => {
                let f = FoundPassword {
                    target: i,
                    index: None,
                    password: pw,
                    from_potfile: true,
                    from_found_file: false,
                };
                on_event(RecoveryEvent::Known(&f));
                known.push(f);
            }
            (None, wrong) if wrong > 0 => {
                on_event(RecoveryEvent::Warning(Warning::PotfileWrong { target: i }));
                pending.push(i);
            }
            (None, _) => pending.push(i),
        }
    }
    // The found-file: another process of this search may have found it already.
    let mut found_file = found_file.map(FoundFile::new);
    let mut found_file_warned = false;
    if let Some(ff) = found_file.as_mut() {
        let answered = take_found_file(ff, &all_lines, &pending, &mut found_file_warned, on_event);
        for f in answered {
            pending.retain(|&p| p != f.target);
            known.push(f);
        }
    }
    if pending.is_empty() {
        let report = RecoveryReport {
            outcome: RecoveryOutcome::Found,
            found: known,
            progress: None,
            session: None,
            resumable: true,
        };
        on_event(RecoveryEvent::Finished(&report));
        return Ok(report);
    }

    let plan = plan().map_err(CrackError::Plan)?;
    let fingerprint = plan.fingerprint();
    let shard = session_opts.shard;
    let chunk = session_opts.chunk;

    // The session: the same targets, plan and shard get the same name, and resume.
    let name = match session_opts.name {
        Some(n) => {
            Session::check_name(&n).map_err(CrackError::SessionName)?;
            n
        }
        None => Session::default_name(&all_lines, &fingerprint, shard, chunk),
    };
    let total = chunk.total(shard, plan.len());
    let resumable = plan.len().is_some();
    let (mut session, resume) = Session::open(
        &session_opts.dir,
        &name,
        &all_lines,
        &fingerprint,
        plan.sources().iter().map(|s| s.name()).collect(),
        shard,
        chunk,
        total,
        // A stream (standard input) cannot be read again, and its fingerprint cannot say that
        // a later run's stream is the same: resuming would skip guesses nobody tried, and a
        // finished session would turn a new stream into "not found" unread. Start over.
        session_opts.fresh || !resumable,
    )?;
    let start = match resume {
        Resume::New => chunk.skip,
        Resume::From { position, .. } => position.max(chunk.skip),
        Resume::Finished { how, .. } if how == "exhausted" => {
            let report = RecoveryReport {
                outcome: RecoveryOutcome::AlreadyExhausted,
                found: known,
                progress: None,
                session: Some((name, session.path().to_path_buf())),
                resumable,
            };
            on_event(RecoveryEvent::Finished(&report));
            return Ok(report);
        }
        Resume::Finished { .. } => {
            // Found before, but the potfile no longer has it: search again from the start.
            session.restart();
            chunk.skip
        }
    };

    // Devices.
    let gpus: Vec<Arc<GpuDevice>> = match dev_opts.gpus {
        GpuChoice::None => Vec::new(),
        GpuChoice::Given(g) => g,
        GpuChoice::Discover { required } => {
            let (found, notes) = sesame_gpu::discover_checked();
            let found: Vec<Arc<GpuDevice>> = found.into_iter().map(Arc::new).collect();
            on_event(RecoveryEvent::Gpus {
                devices: &found,
                notes: &notes,
            });
            if found.is_empty() && required {
                return Err(CrackError::NoGpu(notes.join("; ")));
            }
            found
        }
    };
    let lines: Vec<HashLine> = pending.iter().map(|&i| all_lines[i].clone()).collect();
    let mut groups: Vec<KdfParams> = Vec::new();
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
        .unwrap_or_else(bench::scheme_10_2_params);
    let cache = dev_opts
        .kernel_cache
        .clone()
        .unwrap_or_else(choice::cache_path);
    let kernel = choice::choose_cached_in(&costliest, dev_opts.kernel.as_deref(), &cache)?;
    on_event(RecoveryEvent::Kernel(&kernel));
    let threads = if dev_opts.threads > 0 {
        dev_opts.threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };

    // The estimate: a short measurement of each device on the targets' parameters.
    let mut rate = 0.0;
    if let Some(window) = measure {
        if dev_opts.cpu {
            rate += bench::quick_rate(kernel.kernel, &groups, threads, window);
        }
        for g in &gpus {
            // One guess costs the sum over the groups of targets.
            let mut secs = 0.0;
            for p in &groups {
                let m = bench::measure_gpu(g, p, window)?;
                if m.rate > 0.0 {
                    secs += 1.0 / m.rate;
                }
            }
            if secs > 0.0 {
                rate += 1.0 / secs;
            }
        }
    }
    let summary = summarize(&plan, shard, chunk, start, rate);
    let summary = PlanSummary {
        targets: pending.clone(),
        stages: summary.0,
        total,
        seconds_left: summary.1,
        rate,
        kernel: kernel.clone(),
        threads: if dev_opts.cpu { threads } else { 0 },
        gpus: gpus
            .iter()
            .map(|g| g.name().to_string())
            .chain(dev_opts.extra.iter().map(|d| d.name()))
            .collect(),
        shard,
        shard_from: session_opts.shard_from.clone(),
        chunk,
        found_file: found_file.as_ref().map(|f| f.path().to_path_buf()),
        session: name.clone(),
        session_file: session.path().to_path_buf(),
        resume_from: start,
        done: chunk.owned(shard, chunk.skip, start),
        default_plan,
        resumable,
    };
    on_event(RecoveryEvent::Plan(&summary));

    // Set when the found-file answers every target still searched for: the run ends.
    let stop_elsewhere = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let cfg = EngineConfig {
        threads,
        cpu: dev_opts.cpu,
        gpus,
        devices: dev_opts.extra,
        gpu_batch_size: None,
        kernel: kernel.kernel,
        shard,
        chunk,
        start,
        batch_size,
        progress_interval,
        checkpoint_interval,
        cancel: handle.cancel_flag(),
        pause: handle.pause_flag(),
        stop: stop_elsewhere.clone(),
        expected_rate: (rate > 0.0).then_some(rate),
    };
    let mut found = known;
    let mut checkpoint_warned = false;
    let mut potfile_error: Option<String> = None;
    let mut found_file_error: Option<String> = None;
    // Between batches (and at each progress tick, for long batches): the found-file.
    let mut look = |found_file: &mut Option<FoundFile>,
                    found: &mut Vec<FoundPassword>,
                    on_event: &mut dyn FnMut(RecoveryEvent<'_>)| {
        let Some(ff) = found_file.as_mut() else {
            return;
        };
        if matches!(ff.changed(), Ok(false)) {
            return;
        }
        // Only the targets still without a password (not those this process found itself).
        let missing: Vec<usize> = pending
            .iter()
            .copied()
            .filter(|t| !found.iter().any(|f| f.target == *t))
            .collect();
        let answered = take_found_file(ff, &all_lines, &missing, &mut found_file_warned, on_event);
        found.extend(answered);
        if pending.iter().all(|t| found.iter().any(|f| f.target == *t)) {
            stop_elsewhere.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    };
    let result = engine::run(plan, &lines, &cfg, &mut |e| match e {
        Event::Started { .. } => {}
        Event::Progress(p) => {
            on_event(RecoveryEvent::Progress(p));
            look(&mut found_file, &mut found, on_event);
        }
        Event::Checkpoint(p) => {
            if let Err(err) = session.save(p) {
                if !checkpoint_warned {
                    checkpoint_warned = true;
                    on_event(RecoveryEvent::Warning(Warning::CheckpointNotSaved(
                        err.to_string(),
                    )));
                }
            }
            on_event(RecoveryEvent::Checkpoint(p));
        }
        Event::BatchDone {
            lo,
            hi,
            indices,
            device,
        } => {
            on_event(RecoveryEvent::Batch {
                lo,
                hi,
                tried: indices.len(),
                device,
            });
            look(&mut found_file, &mut found, on_event);
        }
        Event::Found(f) => {
            let target = pending[f.target];
            // The potfile first: a password shown but not saved could be lost with the
            // terminal.
            if let Some(pot) = &potfile {
                if let Err(err) = pot.append(&all_lines[target], &f.password) {
                    potfile_error = Some(err.to_string());
                }
            }
            // Then the other processes of the search.
            if let Some(ff) = found_file.as_mut() {
                if let Err(err) = ff.record(&all_lines[target], &f.password) {
                    found_file_error = Some(err.to_string());
                }
            }
            let fp = FoundPassword {
                target,
                index: Some(f.index),
                password: f.password.clone(),
                from_potfile: false,
                from_found_file: false,
            };
            on_event(RecoveryEvent::Found(&fp));
            if !found.iter().any(|g| g.target == target) {
                found.push(fp);
            }
        }
        Event::DeviceFailed { device, error } => {
            on_event(RecoveryEvent::DeviceFailed { device, error })
        }
        Event::Paused(p) => on_event(RecoveryEvent::Paused(p)),
        Event::Resumed => on_event(RecoveryEvent::Resumed),
    });
    let run = result?;
    if let Some(e) = potfile_error {
        on_event(RecoveryEvent::Warning(Warning::PotfileNotSaved(e)));
    }
    if let Some(e) = found_file_error {
        on_event(RecoveryEvent::Warning(Warning::FoundFileNotSaved(e)));
    }
    let all_found = found.len() == targets.len();
    let outcome = match run.outcome {
        Outcome::Found => RecoveryOutcome::Found,
        Outcome::Exhausted | Outcome::Interrupted if all_found => RecoveryOutcome::Found,
        Outcome::Exhausted => RecoveryOutcome::Exhausted,
        Outcome::Interrupted => RecoveryOutcome::Interrupted,
    };
    let p = &run.progress;
    let saved = match run.outcome {
        Outcome::Found => session.finish("found", p),
        Outcome::Interrupted if all_found => session.finish("found", p),
        Outcome::Exhausted => session.finish("exhausted", p),
        Outcome::Interrupted => session.save(p),
    };
    if let Err(e) = saved {
        on_event(RecoveryEvent::Warning(Warning::CheckpointNotSaved(
            e.to_string(),
        )));
    }
    let report = RecoveryReport {
        outcome,
        found,
        progress: Some(run.progress),
        session: Some((name, session.path().to_path_buf())),
        resumable,
    };
    on_event(RecoveryEvent::Finished(&report));
    Ok(report)
}

/// Looks at the found-file for the targets `pending` (indices into `all_lines`): each password
/// it holds is checked against its target; those that open it come back as found (and are told
/// as `Known`), those that do not are a warning. An unreadable file is a warning once.
fn take_found_file(
    ff: &mut FoundFile,
    all_lines: &[HashLine],
    pending: &[usize],
    warned: &mut bool,
    on_event: &mut dyn FnMut(RecoveryEvent<'_>),
) -> Vec<FoundPassword> {
    let lines: Vec<&HashLine> = pending.iter().map(|&i| &all_lines[i]).collect();
    let check = match ff.check(&lines) {
        Ok(c) => c,
        Err(e) => {
            if !*warned {
                *warned = true;
                on_event(RecoveryEvent::Warning(Warning::FoundFileUnreadable(
                    e.to_string(),
                )));
            }
            return Vec::new();
        }
    };
    for i in check.wrong {
        on_event(RecoveryEvent::Warning(Warning::FoundFileWrong {
            target: pending[i],
        }));
    }
    let mut out = Vec::new();
    for (i, password) in check.verified {
        let f = FoundPassword {
            target: pending[i],
            index: None,
            password,
            from_potfile: false,
            from_found_file: true,
        };
        on_event(RecoveryEvent::Known(&f));
        out.push(f);
    }
    out
}

/// Per-stage guesses this shard owns (in its chunk) and their time at `rate`, and the time for
/// what is left after `start`.
pub(crate) fn summarize(
    plan: &Plan,
    shard: Shard,
    chunk: Chunk,
    start: u64,
    rate: f64,
) -> (Vec<Stage>, Option<f64>) {
    let secs = |n: u64| (rate > 0.0).then(|| n as f64 / rate);
    let mut offset = 0u64;
    let mut known = true;
    let mut stages = Vec::new();
    for s in plan.sources() {
        // A source after one of unknown size has unknown global indices too.
        let guesses = match s.len() {
            Some(l) if known => {
                let c = chunk.owned(shard, offset, offset.saturating_add(l));
                offset = offset.saturating_add(l);
                Some(c)
            }
            _ => {
                known = false;
                None
            }
        };
        stages.push(Stage {
            name: s.name(),
            guesses,
            seconds: guesses.and_then(secs),
        });
    }
    let left = chunk
        .end_in(plan.len())
        .map(|e| chunk.owned(shard, start, e));
    (stages, left.and_then(secs))
}
