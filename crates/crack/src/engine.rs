//! Stream → batches → devices → AES unwrap check → events.
//!
//! Threads: one producer walks the plan from the start index, keeps the guesses this shard owns,
//! and cuts them into batches that cover consecutive index ranges `[lo, hi)`, each of the size
//! the asking worker wants (many small ones for CPU threads, few large ones for a GPU), so that
//! the devices together cover every index exactly once. Every device sits behind the
//! [`Device`] trait and every worker runs the same loop: ask for a batch, derive keys in calls of
//! at most [`Device::max_call`] passwords, once per group of targets that share KDF parameters,
//! and check each key with one AES unwrap per target. The calling thread collects completions
//! and owns all bookkeeping: the checkpoint position is the lowest `lo` of a batch not yet
//! finished (batches finish out of order), or, when none is out, the first index not yet cut.
//!
//! A device that fails mid-batch hands the batch back to the producer, which gives it (split to
//! the asker's size) to the next worker that asks: the batch never left the checkpoint's books,
//! so nothing is lost, and the run goes on without that device. Workers stay until the run ends
//! (they wait for handed-back batches after the stream ended), so the last batch of a failed
//! device still finds someone.
//!
//! Pause ([`EngineConfig::pause`]): workers take no new batch; the ones they hold wait or
//! finish, so the checkpoint stays below every guess not tried and does not move on.
//!
//! On a hit for every target, on exhaustion, on cancel or on error, [`run`] returns at once:
//! workers still inside a derivation finish that call, see the stop flag and exit on their own.

use crate::device::{CpuDevice, Device, DeviceError, DeviceKind};
use crate::error::CrackError;
use sesame_backup::{HashLine, KdfParams};
use sesame_gpu::GpuDevice;
use sesame_guess::{Chunk, Guess, Plan, PlanIter, Shard};
use sesame_kernels::Kernel;
use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

pub use crate::device::kdf_spec;

/// How a run is carried out.
#[derive(Clone)]
pub struct EngineConfig {
    /// Worker threads (0 = every core).
    pub threads: usize,
    /// Whether CPU worker threads run at all (false: the other devices alone).
    pub cpu: bool,
    /// GPUs working beside the CPU threads; self-check them first (`sesame_gpu::discover_checked`).
    pub gpus: Vec<Arc<GpuDevice>>,
    /// More devices beside the CPU threads and the GPUs (other back ends; tests inject some).
    pub devices: Vec<Arc<dyn Device>>,
    /// Guesses per GPU-kind batch; `None`: each device's preferred batch (smaller for short plans).
    pub gpu_batch_size: Option<usize>,
    /// The kernel every CPU worker uses.
    pub kernel: Kernel,
    /// Which indices this process tries.
    pub shard: Shard,
    /// The part of the stream this process works on (`--skip/--limit`): the run ends at its
    /// end, and `start` is inside it.
    pub chunk: Chunk,
    /// First global index to try (the chunk's start, or a resumed session's checkpoint).
    pub start: u64,
    /// Guesses per CPU batch; `None` picks from the cost of one guess (a multiple of the lanes).
    pub batch_size: Option<usize>,
    /// How often [`Event::Progress`] is sent.
    pub progress_interval: Duration,
    /// How often [`Event::Checkpoint`] is sent (also sent when the run ends for any reason).
    pub checkpoint_interval: Duration,
    /// Set from outside (a cancel handle, Ctrl-C in a front end) to stop: the run checkpoints
    /// and returns `Interrupted`.
    pub cancel: Arc<AtomicBool>,
    /// Set from outside to pause, cleared to resume (see the module docs).
    pub pause: Arc<AtomicBool>,
    /// Set from outside to end the run as `cancel` does, when the caller has its answer by
    /// other means (another process found the password): checkpoints, returns `Interrupted`.
    pub stop: Arc<AtomicBool>,
    /// Guesses per second expected before the first batch finishes (for the first ETAs).
    pub expected_rate: Option<f64>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            threads: 0,
            cpu: true,
            gpus: Vec::new(),
            devices: Vec::new(),
            gpu_batch_size: None,
            kernel: Kernel::best(),
            shard: Shard::ALL,
            chunk: Chunk::ALL,
            start: 0,
            batch_size: None,
            progress_interval: Duration::from_secs(2),
            checkpoint_interval: Duration::from_secs(30),
            cancel: Arc::new(AtomicBool::new(false)),
            pause: Arc::new(AtomicBool::new(false)),
            stop: Arc::new(AtomicBool::new(false)),
            expected_rate: None,
        }
    }
}

impl std::fmt::Debug for EngineConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let devices: Vec<String> = self.devices.iter().map(|d| d.name()).collect();
        f.debug_struct("EngineConfig")
            .field("threads", &self.threads)
            .field("cpu", &self.cpu)
            .field("gpus", &self.gpus.len())
            .field("devices", &devices)
            .field("kernel", &self.kernel)
            .field("shard", &self.shard)
            .field("chunk", &self.chunk)
            .field("start", &self.start)
            .field("batch_size", &self.batch_size)
            .field("gpu_batch_size", &self.gpu_batch_size)
            .finish_non_exhaustive()
    }
}

impl EngineConfig {
    /// Threads that will run: `threads`, or every core when 0.
    pub fn effective_threads(&self) -> usize {
        if self.threads > 0 {
            self.threads
        } else {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        }
    }

    /// Every device of the run, in the order progress lists them: the CPU threads (when
    /// `cpu`), the GPUs, then `devices`.
    pub fn all_devices(&self) -> Vec<Arc<dyn Device>> {
        let mut out: Vec<Arc<dyn Device>> = Vec::new();
        if self.cpu {
            out.push(Arc::new(CpuDevice {
                kernel: self.kernel,
                threads: self.effective_threads(),
            }));
        }
        out.extend(self.gpus.iter().map(|g| g.clone() as Arc<dyn Device>));
        out.extend(self.devices.iter().cloned());
        out
    }
}

/// A snapshot of the run for progress displays.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Progress {
    /// Checkpoint position: every index below it is finished (or not this shard's).
    pub position: u64,
    /// Guesses finished in this run (this process, since it started).
    pub tried: u64,
    /// Guesses of this shard (and chunk) before `position`, counting earlier runs of a
    /// resumed session.
    pub done: u64,
    /// Guesses this shard owns in the whole plan, or in its chunk (None when a source's length
    /// is unknown and the chunk runs to the end).
    pub total: Option<u64>,
    /// Guesses per second in this run (all targets together count one guess once).
    pub rate: f64,
    /// Seconds this run has worked (time paused is not counted).
    pub elapsed: f64,
    /// Estimated seconds left, when the total and a rate are known.
    pub eta: Option<f64>,
    /// Index in the plan of the source being worked on.
    pub source: Option<usize>,
    /// Estimated seconds left in that source (stage), when its size and a rate are known:
    /// "likeliest: 2 h" beside "everything: 2 days", so nobody gives up at the larger figure.
    pub stage_eta: Option<f64>,
    /// Each device's share: the CPU threads together, then each GPU, then other devices.
    pub devices: Vec<DeviceRate>,
}

/// One device's work in this run.
#[derive(Clone, Debug, serde::Serialize)]
pub struct DeviceRate {
    /// "CPU" or the GPU's name.
    pub name: String,
    /// Guesses finished on it (whole batches).
    pub tried: u64,
    /// Guesses per second, counting the finished part of batches still running.
    pub rate: f64,
}

/// What the engine tells its caller, in order, on the calling thread.
#[derive(Debug)]
pub enum Event<'a> {
    /// The run has begun.
    Started {
        threads: usize,
        kernel: &'static str,
        batch_size: usize,
        start: u64,
        groups: usize,
        /// The devices in use other than the CPU (GPUs), by name.
        gpus: Vec<String>,
    },
    /// Every `progress_interval`.
    Progress(&'a Progress),
    /// Persist this: every `checkpoint_interval`, when a target is found, and at the end.
    Checkpoint(&'a Progress),
    /// A batch `[lo, hi)` is finished: every index of it this shard owns was tried (`indices`).
    BatchDone {
        lo: u64,
        hi: u64,
        indices: &'a [u64],
        /// Who did it: "CPU" or the GPU's name.
        device: &'a str,
    },
    /// A target's password. Sent before the checkpoint that moves past it.
    Found(&'a Found),
    /// A device failed and takes no more batches; the batch it held went back to the others.
    DeviceFailed { device: &'a str, error: &'a str },
    /// [`EngineConfig::pause`] was seen: no new batch is taken (a checkpoint follows).
    Paused(&'a Progress),
    /// The pause was lifted.
    Resumed,
}

/// A recovered password. `Debug` does not show it.
#[derive(Clone)]
pub struct Found {
    /// Index of the target in the list given to [`run`].
    pub target: usize,
    /// Global index of the guess in the plan.
    pub index: u64,
    pub password: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Found {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Found")
            .field("target", &self.target)
            .field("index", &self.index)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// How the run ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every target's password was found.
    Found,
    /// The stream ended; `found` may hold passwords of some of several targets.
    Exhausted,
    /// `cancel` was set; the last checkpoint says where to resume.
    Interrupted,
}

/// The end of a run.
#[derive(Clone, Debug)]
pub struct Report {
    pub outcome: Outcome,
    pub found: Vec<Found>,
    /// The final progress (its `position` is the checkpoint).
    pub progress: Progress,
}

/// One batch: owned guesses of the index range `[lo, hi)`.
struct Batch {
    lo: u64,
    hi: u64,
    indices: Vec<u64>,
    guesses: Vec<Zeroizing<Guess>>,
}

/// (target, global index, password) of a hit.
type Hit = (usize, u64, Zeroizing<Vec<u8>>);

/// What workers and the producer tell the calling thread.
enum Msg {
    Done {
        lo: u64,
        hi: u64,
        indices: Vec<u64>,
        hits: Vec<Hit>,
        /// Index into the run's device list.
        device: usize,
    },
    /// The stream ends at this index (every batch of it has been cut).
    End { at: u64 },
    /// The producer hit an error at this point of the stream.
    Failed(CrackError),
    /// A device failed; its batch went back to the producer before this was sent.
    DeviceFailed { device: usize, error: String },
    /// A worker thread ended (normally or by panic).
    WorkerExit,
}

/// What workers tell the producer.
enum Ask {
    /// The next batch of up to `size` guesses, answered on `reply` (capacity 1).
    Batch {
        size: usize,
        reply: SyncSender<Batch>,
    },
    /// A batch its device could not finish: give it to someone else.
    Return(Batch),
}

/// Bookkeeping shared by the producer (hands out) and the calling thread (finishes).
struct Tracker {
    /// `lo` of every batch handed out (or handed back) and not finished.
    in_flight: BTreeSet<u64>,
    /// First index not cut yet.
    cursor: u64,
}

impl Tracker {
    fn position(&self) -> u64 {
        self.in_flight.first().copied().unwrap_or(self.cursor)
    }
}

/// Targets with equal KDF parameters: one derivation serves all.
struct Group {
    params: KdfParams,
    lines: Vec<(usize, HashLine)>,
}

fn group_targets(targets: &[HashLine]) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        let p = t.kdf_params();
        match groups.iter_mut().find(|g| g.params == p) {
            Some(g) => g.lines.push((i, t.clone())),
            None => groups.push(Group {
                params: p,
                lines: vec![(i, t.clone())],
            }),
        }
    }
    groups
}

/// Guesses per CPU batch when not given: whole kernel calls, about a second of work per batch
/// for cheap schemes, one call for the 10M scheme.
pub fn auto_batch_size(kernel: Kernel, targets: &[HashLine]) -> usize {
    let params: Vec<KdfParams> = group_targets(targets)
        .into_iter()
        .map(|g| g.params)
        .collect();
    CpuDevice { kernel, threads: 1 }.preferred_batch(&params)
}

/// What the calling thread counts.
struct Books {
    started: Instant,
    tried: u64,
    dev_tried: Vec<u64>,
    end_at: Option<u64>,
    /// Time spent paused, so that rates and ETAs count working time only.
    paused_total: Duration,
    paused_since: Option<Instant>,
}

impl Books {
    fn elapsed(&self) -> f64 {
        let paused = self.paused_total + self.paused_since.map_or(Duration::ZERO, |t| t.elapsed());
        self.started.elapsed().saturating_sub(paused).as_secs_f64()
    }
}

/// Runs the plan against `targets` until every target is found, the stream ends, or
/// `cfg.cancel` is set. Returns at once in each case (see the module docs).
pub fn run(
    plan: Arc<Plan>,
    targets: &[HashLine],
    cfg: &EngineConfig,
    on_event: &mut dyn FnMut(Event<'_>),
) -> Result<Report, CrackError> {
    if targets.is_empty() {
        return Err(CrackError::NoTargets);
    }
    let devices: Vec<Arc<dyn Device>> = cfg
        .all_devices()
        .into_iter()
        .filter(|d| d.workers() > 0)
        .collect();
    if devices.is_empty() {
        return Err(CrackError::NoDevice);
    }
    let shard = cfg.shard;
    let chunk = cfg.chunk;
    let start = cfg.start.max(chunk.skip);
    let total = chunk.total(shard, plan.len());
    let left = total.map(|t| t.saturating_sub(chunk.owned(shard, chunk.skip, start)));
    let groups = Arc::new(group_targets(targets));
    let params: Vec<KdfParams> = groups.iter().map(|g| g.params.clone()).collect();
    let gpu_like = devices
        .iter()
        .filter(|d| d.kind() == DeviceKind::Gpu)
        .count()
        .max(1) as u64;
    // Each device's batch. Without an explicit size, a short plan is still spread: over every
    // CPU thread, and half of it at most to each GPU-kind device.
    let sizes: Vec<usize> = devices
        .iter()
        .map(|d| {
            let (given, divisor) = match d.kind() {
                DeviceKind::Cpu => (cfg.batch_size, d.workers().max(1) as u64),
                DeviceKind::Gpu => (cfg.gpu_batch_size, 2 * gpu_like),
            };
            match (given, left) {
                (Some(b), _) => b.max(1),
                (None, Some(left)) => {
                    let share = left.div_ceil(divisor).max(1);
                    d.preferred_batch(&params)
                        .min(usize::try_from(share).unwrap_or(usize::MAX))
                        .max(1)
                }
                (None, None) => d.preferred_batch(&params).max(1),
            }
        })
        .collect();
    let device_names: Vec<String> = devices.iter().map(|d| d.name()).collect();
    // Worker slots: (device index) of each worker thread.
    let slots: Vec<usize> = devices
        .iter()
        .enumerate()
        .flat_map(|(i, d)| std::iter::repeat_n(i, d.workers()))
        .collect();
    // Guesses (in thousandths) of the batch each worker is in the middle of.
    let partial: Arc<Vec<AtomicU64>> = Arc::new(slots.iter().map(|_| AtomicU64::new(0)).collect());
    let failed: Arc<Vec<AtomicBool>> =
        Arc::new(devices.iter().map(|_| AtomicBool::new(false)).collect());
    let cracked: Arc<Vec<AtomicBool>> =
        Arc::new(targets.iter().map(|_| AtomicBool::new(false)).collect());
    let stop = Arc::new(AtomicBool::new(false));

    let tracker = Arc::new(Mutex::new(Tracker {
        in_flight: BTreeSet::new(),
        cursor: start,
    }));
    // Open the stream here so that a missing file is an error before anything starts.
    drop(plan.iter_from(start)?);
    let (msg_tx, msg_rx) = mpsc::channel::<Msg>();
    let (ask_tx, ask_rx) = mpsc::channel::<Ask>();
    spawn_producer(
        plan.clone(),
        start,
        shard,
        chunk.end(),
        tracker.clone(),
        stop.clone(),
        ask_rx,
        msg_tx.clone(),
    );
    for (slot, &d) in slots.iter().enumerate() {
        let w = Worker {
            device: devices[d].clone(),
            index: d,
            slot,
            size: sizes[d],
            groups: groups.clone(),
            cracked: cracked.clone(),
            failed: failed.clone(),
            stop: stop.clone(),
            pause: cfg.pause.clone(),
            ask: ask_tx.clone(),
            msg: msg_tx.clone(),
            partial: partial.clone(),
        };
        std::thread::spawn(move || w.run());
    }
    drop(ask_tx);
    drop(msg_tx);

    let cpu = devices.iter().position(|d| d.kind() == DeviceKind::Cpu);
    on_event(Event::Started {
        threads: cpu.map_or(0, |c| devices[c].workers()),
        kernel: cfg.kernel.name(),
        batch_size: sizes[cpu.unwrap_or(0)],
        start,
        groups: groups.len(),
        gpus: devices
            .iter()
            .filter(|d| d.kind() != DeviceKind::Cpu)
            .map(|d| d.name())
            .collect(),
    });

    let mut books = Books {
        started: Instant::now(),
        tried: 0,
        dev_tried: vec![0; devices.len()],
        end_at: None,
        paused_total: Duration::ZERO,
        paused_since: None,
    };
    let mut found: Vec<Found> = Vec::new();
    let mut live_workers = slots.len();
    let mut last_failure: Option<(usize, String)> = None;
    let mut last_progress = Instant::now();
    let mut last_checkpoint = Instant::now();
    let snapshot = |books: &Books, tracker: &Tracker| {
        let position = match books.end_at {
            Some(end) if tracker.in_flight.is_empty() => end.max(tracker.cursor),
            _ => tracker.position(),
        };
        let elapsed = books.elapsed();
        let mut part = vec![0.0f64; devices.len()];
        for (slot, &d) in slots.iter().enumerate() {
            part[d] += partial[slot].load(Ordering::Relaxed) as f64 / 1000.0;
        }
        let per_device: Vec<DeviceRate> = device_names
            .iter()
            .enumerate()
            .map(|(d, name)| DeviceRate {
                name: name.clone(),
                tried: books.dev_tried[d],
                rate: if elapsed > 0.0 {
                    (books.dev_tried[d] as f64 + part[d]) / elapsed
                } else {
                    0.0
                },
            })
            .collect();
        let work = books.tried as f64 + part.iter().sum::<f64>();
        let measured = (work > 0.0 && elapsed > 0.0).then(|| work / elapsed);
        let rate = measured.or(cfg.expected_rate).unwrap_or(0.0);
        let done = chunk.owned(shard, chunk.skip, position);
        let eta = total.and_then(|t| (rate > 0.0).then(|| t.saturating_sub(done) as f64 / rate));
        let at = plan.source_at(position);
        let stage_eta = at.and_then(|(s, off)| {
            let len = plan.sources()[s].len()?;
            let end = (position - off).checked_add(len)?;
            (rate > 0.0).then(|| chunk.owned(shard, position, end) as f64 / rate)
        });
        Progress {
            position,
            tried: books.tried,
            done,
            total,
            rate: measured.unwrap_or(0.0),
            elapsed,
            eta,
            source: at.map(|(s, _)| s),
            stage_eta,
            devices: per_device,
        }
    };

    let finish = |outcome: Outcome,
                  found: Vec<Found>,
                  progress: Progress,
                  on_event: &mut dyn FnMut(Event<'_>)| {
        stop.store(true, Ordering::SeqCst);
        on_event(Event::Checkpoint(&progress));
        Ok(Report {
            outcome,
            found,
            progress,
        })
    };

    loop {
        if cfg.cancel.load(Ordering::SeqCst) || cfg.stop.load(Ordering::SeqCst) {
            stop.store(true, Ordering::SeqCst);
            let p = snapshot(&books, &lock(&tracker));
            return finish(Outcome::Interrupted, found, p, on_event);
        }
        match (cfg.pause.load(Ordering::SeqCst), books.paused_since) {
            (true, None) => {
                books.paused_since = Some(Instant::now());
                let p = snapshot(&books, &lock(&tracker));
                on_event(Event::Paused(&p));
                // Persist the pause at once: a front end may be closed while paused.
                on_event(Event::Checkpoint(&p));
                last_checkpoint = Instant::now();
            }
            (false, Some(since)) => {
                books.paused_total += since.elapsed();
                books.paused_since = None;
                on_event(Event::Resumed);
            }
            _ => {}
        }
        let wait = cfg
            .progress_interval
            .min(Duration::from_millis(100))
            .max(Duration::from_millis(1));
        match msg_rx.recv_timeout(wait) {
            Ok(Msg::Done {
                lo,
                hi,
                indices,
                hits,
                device,
            }) => {
                books.tried += indices.len() as u64;
                books.dev_tried[device] += indices.len() as u64;
                let mut new_hit = false;
                for (target, index, password) in hits {
                    if found.iter().any(|f| f.target == target) {
                        continue;
                    }
                    cracked[target].store(true, Ordering::SeqCst);
                    let f = Found {
                        target,
                        index,
                        password,
                    };
                    on_event(Event::Found(&f));
                    found.push(f);
                    new_hit = true;
                }
                lock(&tracker).in_flight.remove(&lo);
                on_event(Event::BatchDone {
                    lo,
                    hi,
                    indices: &indices,
                    device: &device_names[device],
                });
                if found.len() == targets.len() {
                    stop.store(true, Ordering::SeqCst);
                    let p = snapshot(&books, &lock(&tracker));
                    return finish(Outcome::Found, found, p, on_event);
                }
                if new_hit {
                    let p = snapshot(&books, &lock(&tracker));
                    on_event(Event::Checkpoint(&p));
                    last_checkpoint = Instant::now();
                }
            }
            Ok(Msg::End { at }) => books.end_at = Some(at),
            Ok(Msg::Failed(e)) => {
                stop.store(true, Ordering::SeqCst);
                // Keep what is finished: the position is still exact.
                books.end_at = None;
                let p = snapshot(&books, &lock(&tracker));
                on_event(Event::Checkpoint(&p));
                return Err(e);
            }
            Ok(Msg::DeviceFailed { device, error }) => {
                on_event(Event::DeviceFailed {
                    device: &device_names[device],
                    error: &error,
                });
                last_failure = Some((device, error));
            }
            Ok(Msg::WorkerExit) => {
                live_workers -= 1;
                let t = lock(&tracker);
                let busy = !t.in_flight.is_empty() || books.end_at.is_none();
                if live_workers == 0 && busy && !stop.load(Ordering::SeqCst) {
                    stop.store(true, Ordering::SeqCst);
                    books.end_at = None;
                    let p = snapshot(&books, &t);
                    drop(t);
                    on_event(Event::Checkpoint(&p));
                    return Err(match last_failure {
                        Some((d, msg)) => CrackError::DeviceFailed {
                            device: device_names[d].clone(),
                            msg,
                        },
                        None => CrackError::WorkerDied,
                    });
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                // Every thread is gone: either the stream was finished (checked below) or
                // work was lost.
                if books.end_at.is_none() || !lock(&tracker).in_flight.is_empty() {
                    stop.store(true, Ordering::SeqCst);
                    return Err(CrackError::WorkerDied);
                }
            }
        }
        {
            let t = lock(&tracker);
            if books.end_at.is_some() && t.in_flight.is_empty() {
                let p = snapshot(&books, &t);
                drop(t);
                return finish(Outcome::Exhausted, found, p, on_event);
            }
        }
        if last_progress.elapsed() >= cfg.progress_interval {
            last_progress = Instant::now();
            let p = snapshot(&books, &lock(&tracker));
            on_event(Event::Progress(&p));
        }
        if last_checkpoint.elapsed() >= cfg.checkpoint_interval {
            last_checkpoint = Instant::now();
            let p = snapshot(&books, &lock(&tracker));
            on_event(Event::Checkpoint(&p));
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Cuts the stream into batches of owned guesses, registering each in the tracker before it
/// leaves (so the checkpoint never passes it).
struct Cutter<'p> {
    iter: PlanIter<'p>,
    shard: Shard,
    /// The chunk's end: no index at or past it is cut.
    limit: Option<u64>,
    /// Start of the next batch.
    lo: u64,
    /// One past the last index seen: where the stream stands.
    seen_end: u64,
    plan_len: Option<u64>,
    tracker: Arc<Mutex<Tracker>>,
    /// Set once the stream has ended: its length (gaps at the end count as done).
    end: Option<u64>,
}

/// A read error, with the batch of what was read before it (already registered).
type CutError = Box<(CrackError, Option<Batch>)>;

impl Cutter<'_> {
    /// The next batch of up to `size` owned guesses; `None` at the end of the stream (then
    /// `self.end` is set) or when stopped.
    fn cut(&mut self, size: usize, stop: &AtomicBool) -> Result<Option<Batch>, CutError> {
        if self.end.is_some() {
            return Ok(None);
        }
        let size = size.max(1);
        let mut indices = Vec::with_capacity(size.min(1 << 16));
        let mut guesses: Vec<Zeroizing<Guess>> = Vec::with_capacity(size.min(1 << 16));
        loop {
            if stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            // The chunk's end: stop before reading a guess past it.
            let at_limit = self
                .limit
                .is_some_and(|e| self.seen_end >= e || self.lo >= e);
            let next = if at_limit { None } else { self.iter.next() };
            match next {
                Some(Ok((i, _))) if self.limit.is_some_and(|e| i >= e) => {
                    self.seen_end = self.seen_end.max(self.limit.unwrap_or(i));
                    continue;
                }
                Some(Ok((i, g))) => {
                    self.seen_end = i + 1;
                    if !self.shard.owns(i) {
                        continue;
                    }
                    indices.push(i);
                    guesses.push(Zeroizing::new(g));
                    if guesses.len() >= size {
                        return Ok(Some(self.register(i + 1, indices, guesses)));
                    }
                }
                Some(Err(e)) => {
                    // Hand out what was read before the error so the checkpoint is exact.
                    let batch = (!guesses.is_empty()).then(|| {
                        let hi = indices.last().map_or(self.lo, |i| i + 1);
                        self.register(hi, indices, guesses)
                    });
                    return Err(Box::new((e.into(), batch)));
                }
                None => {
                    let mut end = self
                        .plan_len
                        .unwrap_or(self.seen_end)
                        .max(self.seen_end)
                        .max(self.lo);
                    if let Some(e) = self.limit {
                        end = end.min(e).max(self.lo);
                    }
                    self.end = Some(end);
                    if guesses.is_empty() {
                        lock(&self.tracker).cursor = end;
                        return Ok(None);
                    }
                    return Ok(Some(self.register(end, indices, guesses)));
                }
            }
        }
    }

    fn register(&mut self, hi: u64, indices: Vec<u64>, guesses: Vec<Zeroizing<Guess>>) -> Batch {
        let batch = Batch {
            lo: self.lo,
            hi,
            indices,
            guesses,
        };
        {
            let mut t = lock(&self.tracker);
            t.in_flight.insert(batch.lo);
            t.cursor = hi;
        }
        self.lo = hi;
        batch
    }
}

/// The producer: the stream, the batches handed back, and the workers waiting for one.
struct Producer<'p> {
    cut: Cutter<'p>,
    asks: Receiver<Ask>,
    /// Batches handed back by a failed device, still in the tracker: served first.
    returned: VecDeque<Batch>,
    /// Workers that asked after the stream ended: answered when a batch is handed back.
    waiting: Vec<(usize, SyncSender<Batch>)>,
    stop: Arc<AtomicBool>,
    msg_tx: mpsc::Sender<Msg>,
    end_sent: bool,
}

impl Producer<'_> {
    /// Tells the calling thread where the stream ends, once, as soon as the last batch is cut.
    fn send_end(&mut self) {
        if let (false, Some(end)) = (self.end_sent, self.cut.end) {
            self.end_sent = true;
            let _ = self.msg_tx.send(Msg::End { at: end });
        }
    }

    /// A handed-back batch of at most `size` guesses (the rest stays for the next asker, so
    /// that a large GPU batch is spread over the CPU threads).
    fn take_returned(&mut self, size: usize) -> Option<Batch> {
        let mut b = self.returned.pop_front()?;
        if b.guesses.len() > size.max(1) {
            let indices = b.indices.split_off(size.max(1));
            let guesses = b.guesses.split_off(size.max(1));
            let rest = Batch {
                lo: indices[0],
                hi: b.hi,
                indices,
                guesses,
            };
            b.hi = rest.lo;
            lock(&self.cut.tracker).in_flight.insert(rest.lo);
            self.returned.push_front(rest);
        }
        Some(b)
    }

    /// Sends `b` to a worker; one that is gone leaves the batch to the next asker.
    fn give(&mut self, reply: &SyncSender<Batch>, b: Batch) {
        // Capacity 1 and one answer per request: never full.
        if let Err(TrySendError::Disconnected(b) | TrySendError::Full(b)) = reply.try_send(b) {
            self.returned.push_front(b);
        }
    }

    /// Answers one request. False when the run must end (an error was sent).
    fn serve(&mut self, size: usize, reply: SyncSender<Batch>) -> bool {
        if let Some(b) = self.take_returned(size) {
            self.give(&reply, b);
            return true;
        }
        if self.cut.end.is_some() {
            self.waiting.push((size, reply));
            return true;
        }
        match self.cut.cut(size, &self.stop) {
            Ok(Some(b)) => {
                self.send_end();
                self.give(&reply, b);
            }
            Ok(None) if self.cut.end.is_some() => {
                self.send_end();
                self.waiting.push((size, reply));
            }
            Ok(None) => {} // stopped
            Err(err) => {
                let (e, b) = *err;
                if let Some(b) = b {
                    self.give(&reply, b);
                }
                let _ = self.msg_tx.send(Msg::Failed(e));
                return false;
            }
        }
        true
    }

    /// Serves requests until stop, an error, or every worker is gone.
    fn run(mut self) {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            match self.asks.recv_timeout(Duration::from_millis(20)) {
                Ok(Ask::Batch { size, reply }) => {
                    if !self.serve(size, reply) {
                        return;
                    }
                }
                Ok(Ask::Return(b)) => {
                    self.returned.push_back(b);
                    while !self.returned.is_empty() && !self.waiting.is_empty() {
                        let (size, reply) = self.waiting.remove(0);
                        if let Some(b) = self.take_returned(size) {
                            self.give(&reply, b);
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => return,
            }
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn spawn_producer(
    plan: Arc<Plan>,
    start: u64,
    shard: Shard,
    limit: Option<u64>,
    tracker: Arc<Mutex<Tracker>>,
    stop: Arc<AtomicBool>,
    asks: Receiver<Ask>,
    msg_tx: mpsc::Sender<Msg>,
) {
    std::thread::spawn(move || {
        // The stream's iterator borrows the plan, so it lives on this thread alone.
        let iter = match plan.iter_from(start) {
            Ok(it) => it,
            Err(e) => {
                let _ = msg_tx.send(Msg::Failed(e.into()));
                return;
            }
        };
        Producer {
            cut: Cutter {
                iter,
                shard,
                limit,
                lo: start,
                seen_end: start,
                plan_len: plan.len(),
                tracker,
                end: None,
            },
            asks,
            returned: VecDeque::new(),
            waiting: Vec::new(),
            stop,
            msg_tx,
            end_sent: false,
        }
        .run();
    });
}

/// Sends `WorkerExit` when the worker ends, even by panic.
struct ExitGuard(mpsc::Sender<Msg>);
impl Drop for ExitGuard {
    fn drop(&mut self) {
        let _ = self.0.send(Msg::WorkerExit);
    }
}

/// One worker thread of one device: the only worker loop and hit check of the engine.
struct Worker {
    device: Arc<dyn Device>,
    /// The device's index in the run.
    index: usize,
    /// This worker's index in `partial`.
    slot: usize,
    size: usize,
    groups: Arc<Vec<Group>>,
    cracked: Arc<Vec<AtomicBool>>,
    /// Per device: it failed, its other workers stop too.
    failed: Arc<Vec<AtomicBool>>,
    stop: Arc<AtomicBool>,
    pause: Arc<AtomicBool>,
    ask: mpsc::Sender<Ask>,
    msg: mpsc::Sender<Msg>,
    partial: Arc<Vec<AtomicU64>>,
}

impl Worker {
    /// Whether to leave: the run stopped, or this device failed.
    fn leaving(&self) -> bool {
        self.stop.load(Ordering::Relaxed) || self.failed[self.index].load(Ordering::Relaxed)
    }

    /// Waits while paused. False when leaving.
    fn wait_while_paused(&self) -> bool {
        while self.pause.load(Ordering::Relaxed) {
            if self.leaving() {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        !self.leaving()
    }

    fn run(self) {
        let _guard = ExitGuard(self.msg.clone());
        loop {
            if !self.wait_while_paused() {
                return;
            }
            let (reply, answer) = mpsc::sync_channel::<Batch>(1);
            let ask = Ask::Batch {
                size: self.size,
                reply,
            };
            if self.ask.send(ask).is_err() {
                return;
            }
            let Ok(batch) = answer.recv() else {
                return; // the run is over
            };
            // Paused while asking: hold the batch (the checkpoint stays below it).
            if !self.wait_while_paused() {
                if !self.stop.load(Ordering::SeqCst) {
                    // This device failed meanwhile (another of its workers): someone else
                    // must do the batch, or the run would wait for it forever.
                    let _ = self.ask.send(Ask::Return(batch));
                }
                return;
            }
            let result = self.check(&batch);
            self.partial[self.slot].store(0, Ordering::Relaxed);
            match result {
                Ok(hits) => {
                    let msg = Msg::Done {
                        lo: batch.lo,
                        hi: batch.hi,
                        indices: batch.indices,
                        hits,
                        device: self.index,
                    };
                    if self.msg.send(msg).is_err() {
                        return;
                    }
                }
                Err(DeviceError::Stopped) => return, // not finished, not reported
                Err(DeviceError::Failed(error)) => {
                    self.failed[self.index].store(true, Ordering::SeqCst);
                    // Hand the batch back first: the calling thread must not see this worker
                    // gone while its batch is nowhere.
                    let _ = self.ask.send(Ask::Return(batch));
                    let _ = self.msg.send(Msg::DeviceFailed {
                        device: self.index,
                        error,
                    });
                    return;
                }
            }
        }
    }

    /// Derives and checks every guess of the batch against every target not yet found.
    fn check(&self, batch: &Batch) -> Result<Vec<Hit>, DeviceError> {
        let active: Vec<&Group> = self
            .groups
            .iter()
            .filter(|g| {
                !g.lines
                    .iter()
                    .all(|(t, _)| self.cracked[*t].load(Ordering::Relaxed))
            })
            .collect();
        let cost = |g: &Group| {
            let (a, b) = g.params.compressions_per_guess();
            (a + b).max(1) as f64
        };
        let n_all = batch.guesses.len() as f64;
        // The batch's work in compressions, for the share done inside a batch.
        let work = active.iter().map(|g| cost(g)).sum::<f64>().max(1.0) * n_all;
        let partial = &self.partial[self.slot];
        let mut done = 0.0f64;
        let mut hits = Vec::new();
        for group in active {
            let per = cost(group);
            let max = self.device.max_call(&group.params).max(1);
            for (c, chunk) in batch.guesses.chunks(max).enumerate() {
                if self.stop.load(Ordering::Relaxed) {
                    return Err(DeviceError::Stopped);
                }
                let pws: Vec<&[u8]> = chunk.iter().map(|g| g.as_slice()).collect();
                let n = pws.len() as f64;
                let base = done;
                let keys = self
                    .device
                    .derive(&group.params, &pws, &self.stop, &mut |f| {
                        let d = base + f.clamp(0.0, 1.0) * n * per;
                        partial.store((d / work * n_all * 1000.0) as u64, Ordering::Relaxed);
                    })?;
                if keys.len() != pws.len() {
                    // Never take a short answer as "no hit": that would lose guesses.
                    return Err(DeviceError::Failed(format!(
                        "returned {} keys for {} passwords",
                        keys.len(),
                        pws.len()
                    )));
                }
                done += n * per;
                partial.store((done / work * n_all * 1000.0) as u64, Ordering::Relaxed);
                for (j, key) in keys.iter().enumerate() {
                    for (t, line) in &group.lines {
                        if line.key_matches(key) {
                            let k = c * max + j;
                            hits.push((*t, batch.indices[k], Zeroizing::new(chunk[j].to_vec())));
                        }
                    }
                }
            }
        }
        Ok(hits)
    }
}

/// The key of each password with the kernel: the SHA-256 stage (10.2+ scheme) into `mid`, then
/// the SHA-1 stage into `out`.
pub fn derive_many(
    kernel: Kernel,
    params: &KdfParams,
    passwords: &[&[u8]],
    mid: &mut [[u8; 32]],
    out: &mut [[u8; 32]],
) {
    match &params.dp {
        Some((dpsl, dpic)) => {
            kernel.pbkdf2_sha256_32(passwords, dpsl, *dpic, mid);
            let inner: Vec<&[u8]> = mid.iter().map(|m| m.as_slice()).collect();
            kernel.pbkdf2_sha1_32(&inner, &params.salt, params.iterations, out);
        }
        None => kernel.pbkdf2_sha1_32(passwords, &params.salt, params.iterations, out),
    }
}

#[cfg(test)]
mod found_tests {
    use super::*;

    #[test]
    fn debug_hides_the_password() {
        let f = Found {
            target: 0,
            index: 7,
            password: Zeroizing::new(b"pa55-secret".to_vec()),
        };
        let shown = format!("{f:?}");
        assert!(!shown.contains("pa55"), "{shown}");
        // Zeroizing's own Debug shows the bytes as numbers; check those are not there either.
        assert!(!shown.contains("112, 97"), "{shown}");
    }
}
