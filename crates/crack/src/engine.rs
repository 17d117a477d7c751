//! Stream → batches → kernels on every core → AES unwrap check → events.
//!
//! Threads: one producer walks the plan from the start index, keeps the guesses this shard owns,
//! and cuts them into batches that cover consecutive index ranges `[lo, hi)`; a bounded channel
//! hands them to the workers, so every worker takes the next batch as soon as it is free and no
//! index is handed out twice or skipped. Workers derive keys with the kernel, `lanes()` guesses
//! per call, once per group of targets that share KDF parameters, and check each target. The
//! calling thread collects completions and owns all bookkeeping: the checkpoint position is the
//! lowest `lo` of a batch not yet finished (batches finish out of order), or, when none is in
//! flight, the first index not yet handed out.
//!
//! GPUs ([`EngineConfig::gpus`]) are extra consumers of the same stream: each GPU worker asks the
//! producer for a batch of the GPU's own (large) size, and the producer cuts it from the same
//! cursor, so the CPU and GPU batches together still cover every index exactly once, and the
//! checkpoint rule is the same. A GPU derives the final key (`sesame_gpu::GpuDevice::derive`) and
//! the worker checks it with [`HashLine::key_matches`].
//!
//! On a hit for every target, on exhaustion, on cancel or on error, [`run`] returns at once:
//! workers still inside a kernel call finish that call, see the stop flag and exit on their own.

use crate::error::CrackError;
use sesame_backup::{HashLine, KdfParams};
use sesame_gpu::{GpuDevice, GpuError, KdfSpec};
use sesame_guess::{Guess, Plan, PlanIter, Shard};
use sesame_kernels::Kernel;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// How a run is carried out.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Worker threads (0 = every core).
    pub threads: usize,
    /// Whether CPU worker threads run at all (false: the GPUs alone).
    pub cpu: bool,
    /// GPUs working beside the CPU threads; self-check them first (`sesame_gpu::discover_checked`).
    pub gpus: Vec<Arc<GpuDevice>>,
    /// Guesses per GPU batch; `None`: each GPU's preferred batch (smaller for short plans).
    pub gpu_batch_size: Option<usize>,
    /// The kernel every worker uses.
    pub kernel: Kernel,
    /// Which indices this process tries.
    pub shard: Shard,
    /// First global index to try (a resumed session's checkpoint).
    pub start: u64,
    /// Guesses per batch; `None` picks from the cost of one guess (a multiple of the lanes).
    pub batch_size: Option<usize>,
    /// How often [`Event::Progress`] is sent.
    pub progress_interval: Duration,
    /// How often [`Event::Checkpoint`] is sent (also sent when the run ends for any reason).
    pub checkpoint_interval: Duration,
    /// Set from outside (Ctrl-C) to stop: the run checkpoints and returns `Interrupted`.
    pub cancel: Arc<AtomicBool>,
    /// Guesses per second expected before the first batch finishes (for the first ETAs).
    pub expected_rate: Option<f64>,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            threads: 0,
            cpu: true,
            gpus: Vec::new(),
            gpu_batch_size: None,
            kernel: Kernel::best(),
            shard: Shard::ALL,
            start: 0,
            batch_size: None,
            progress_interval: Duration::from_secs(2),
            checkpoint_interval: Duration::from_secs(30),
            cancel: Arc::new(AtomicBool::new(false)),
            expected_rate: None,
        }
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
}

/// A snapshot of the run for progress displays.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Progress {
    /// Checkpoint position: every index below it is finished (or not this shard's).
    pub position: u64,
    /// Guesses finished in this run (this process, since it started).
    pub tried: u64,
    /// Guesses of this shard before `position`, counting earlier runs of a resumed session.
    pub done: u64,
    /// Guesses this shard owns in the whole plan (None when a source's length is unknown).
    pub total: Option<u64>,
    /// Guesses per second in this run (all targets together count one guess once).
    pub rate: f64,
    /// Seconds since this run started.
    pub elapsed: f64,
    /// Estimated seconds left, when the total and a rate are known.
    pub eta: Option<f64>,
    /// Index in the plan of the source being worked on.
    pub source: Option<usize>,
    /// Each device's share: the CPU threads together, then each GPU.
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
        /// The GPUs in use, by name.
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

enum Msg {
    Done {
        lo: u64,
        hi: u64,
        indices: Vec<u64>,
        hits: Vec<Hit>,
        /// 0 = the CPU threads, 1 + i = `gpus[i]`.
        device: usize,
    },
    /// The producer handed out every batch; the stream ends at this index.
    End { at: u64 },
    /// The producer hit an error at this point of the stream.
    Failed(CrackError),
    /// A worker thread ended (normally or by panic).
    WorkerExit,
}

/// Bookkeeping shared by the producer (hands out) and the calling thread (finishes).
struct Tracker {
    /// `lo` of every batch handed out and not finished.
    in_flight: BTreeSet<u64>,
    /// First index not handed out yet.
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

/// Guesses per batch when not given: whole kernel calls, about a second of work per batch for
/// cheap schemes, one call for the 10M scheme.
pub fn auto_batch_size(kernel: Kernel, targets: &[HashLine]) -> usize {
    let groups = group_targets(targets);
    let lanes = kernel
        .lanes_for(groups.iter().any(|g| g.params.dp.is_some()))
        .max(1);
    let compressions: u64 = groups
        .iter()
        .map(|g| {
            let (a, b) = g.params.compressions_per_guess();
            a + b
        })
        .sum::<u64>()
        .max(1);
    // Roughly 10^7 compressions per second per core on any kernel.
    let per_second = (10_000_000 / compressions) as usize;
    let calls = (per_second / lanes).clamp(1, 256);
    calls * lanes
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
    let started = Instant::now();
    let threads = if cfg.cpu { cfg.effective_threads() } else { 0 };
    let gpus = cfg.gpus.clone();
    if threads == 0 && gpus.is_empty() {
        return Err(CrackError::NoDevice);
    }
    let kernel = cfg.kernel;
    let shard = cfg.shard;
    let total = plan.len().map(|n| shard.count(n));
    let left = total.map(|t| t.saturating_sub(shard.count(cfg.start)));
    let batch_size = match cfg.batch_size {
        Some(b) => b.max(1),
        None => {
            // A short plan is still spread over every thread.
            let auto = auto_batch_size(kernel, targets);
            match left {
                Some(left) => {
                    let share = left.div_ceil(threads.max(1) as u64).max(1);
                    auto.min(usize::try_from(share).unwrap_or(usize::MAX))
                }
                None => auto,
            }
        }
    };
    // Each GPU's batch: its preferred size, or less for a short plan (shared by the GPUs).
    let gpu_sizes: Vec<usize> = gpus
        .iter()
        .map(|g| {
            let want = cfg.gpu_batch_size.unwrap_or(g.preferred_batch());
            let want = match (cfg.gpu_batch_size, left) {
                (None, Some(left)) => {
                    let share = left.div_ceil(2 * gpus.len() as u64).max(1);
                    want.min(usize::try_from(share).unwrap_or(usize::MAX))
                }
                _ => want,
            };
            want.clamp(1, g.max_batch().max(1))
        })
        .collect();
    let mut device_names = vec!["CPU".to_string()];
    device_names.extend(gpus.iter().map(|g| g.name().to_string()));
    // Guesses (in thousandths) of the batch each device is in the middle of (GPUs only).
    let partial: Arc<Vec<AtomicU64>> =
        Arc::new(device_names.iter().map(|_| AtomicU64::new(0)).collect());
    let groups = Arc::new(group_targets(targets));
    let cracked: Arc<Vec<AtomicBool>> =
        Arc::new(targets.iter().map(|_| AtomicBool::new(false)).collect());
    let stop = Arc::new(AtomicBool::new(false));

    // Open the stream here so that a missing file is an error before anything starts.
    let tracker = Arc::new(Mutex::new(Tracker {
        in_flight: BTreeSet::new(),
        cursor: cfg.start,
    }));
    let (msg_tx, msg_rx) = mpsc::channel::<Msg>();
    // With GPUs beside them, the CPU threads prefetch little, so that a short plan is not all
    // taken by the CPU before a GPU asks.
    let depth = if gpus.is_empty() { threads + 1 } else { 1 };
    let (batch_tx, batch_rx) = mpsc::sync_channel::<Batch>(depth);
    let (gpu_tx, gpu_rx) = mpsc::channel::<GpuRequest>();
    {
        // Validate that the stream opens (files exist) before spawning anything.
        drop(plan.iter_from(cfg.start)?);
    }
    spawn_producer(
        plan.clone(),
        cfg.start,
        shard,
        batch_size,
        tracker.clone(),
        stop.clone(),
        (threads > 0).then_some(batch_tx),
        (!gpus.is_empty()).then_some(gpu_rx),
        msg_tx.clone(),
    );
    let batch_rx = Arc::new(Mutex::new(batch_rx));
    for _ in 0..threads {
        spawn_worker(
            kernel,
            groups.clone(),
            cracked.clone(),
            stop.clone(),
            batch_rx.clone(),
            msg_tx.clone(),
        );
    }
    for (i, gpu) in gpus.iter().enumerate() {
        spawn_gpu_worker(
            1 + i,
            gpu.clone(),
            gpu_sizes[i],
            groups.clone(),
            cracked.clone(),
            stop.clone(),
            gpu_tx.clone(),
            msg_tx.clone(),
            partial.clone(),
        );
    }
    drop(gpu_tx);
    drop(msg_tx);

    on_event(Event::Started {
        threads,
        kernel: kernel.name(),
        batch_size,
        start: cfg.start,
        groups: groups.len(),
        gpus: gpus.iter().map(|g| g.name().to_string()).collect(),
    });

    let mut found: Vec<Found> = Vec::new();
    let mut tried: u64 = 0;
    let mut dev_tried: Vec<u64> = vec![0; device_names.len()];
    let mut end_at: Option<u64> = None;
    let mut live_workers = threads + gpus.len();
    let mut last_progress = Instant::now();
    let mut last_checkpoint = Instant::now();
    let snapshot = |tried: u64, dev_tried: &[u64], tracker: &Tracker, end_at: Option<u64>| {
        let position = match end_at {
            Some(end) if tracker.in_flight.is_empty() => end.max(tracker.cursor),
            _ => tracker.position(),
        };
        let elapsed = started.elapsed().as_secs_f64();
        let part: Vec<f64> = partial
            .iter()
            .map(|p| p.load(Ordering::Relaxed) as f64 / 1000.0)
            .collect();
        let devices: Vec<DeviceRate> = device_names
            .iter()
            .enumerate()
            .filter(|(d, _)| *d > 0 || threads > 0)
            .map(|(d, name)| DeviceRate {
                name: name.clone(),
                tried: dev_tried[d],
                rate: if elapsed > 0.0 {
                    (dev_tried[d] as f64 + part[d]) / elapsed
                } else {
                    0.0
                },
            })
            .collect();
        let work = tried as f64 + part.iter().sum::<f64>();
        let measured = if work > 0.0 && elapsed > 0.0 {
            Some(work / elapsed)
        } else {
            None
        };
        let rate = measured.or(cfg.expected_rate).unwrap_or(0.0);
        let done = shard.count(position);
        let eta = total.and_then(|t| (rate > 0.0).then(|| t.saturating_sub(done) as f64 / rate));
        Progress {
            position,
            tried,
            done,
            total,
            rate: measured.unwrap_or(0.0),
            elapsed,
            eta,
            source: plan.source_at(position).map(|(s, _)| s),
            devices,
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
        if cfg.cancel.load(Ordering::SeqCst) {
            stop.store(true, Ordering::SeqCst);
            let p = snapshot(tried, &dev_tried, &lock(&tracker), end_at);
            return finish(Outcome::Interrupted, found, p, on_event);
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
                tried += indices.len() as u64;
                dev_tried[device] += indices.len() as u64;
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
                    let p = snapshot(tried, &dev_tried, &lock(&tracker), end_at);
                    return finish(Outcome::Found, found, p, on_event);
                }
                if new_hit {
                    let p = snapshot(tried, &dev_tried, &lock(&tracker), end_at);
                    on_event(Event::Checkpoint(&p));
                    last_checkpoint = Instant::now();
                }
            }
            Ok(Msg::End { at }) => end_at = Some(at),
            Ok(Msg::Failed(e)) => {
                stop.store(true, Ordering::SeqCst);
                // Keep what is finished: the position is still exact.
                let p = snapshot(tried, &dev_tried, &lock(&tracker), None);
                on_event(Event::Checkpoint(&p));
                return Err(e);
            }
            Ok(Msg::WorkerExit) => {
                live_workers -= 1;
                let t = lock(&tracker);
                let busy = !t.in_flight.is_empty() || end_at.is_none();
                if live_workers == 0 && busy && !stop.load(Ordering::SeqCst) {
                    stop.store(true, Ordering::SeqCst);
                    let p = snapshot(tried, &dev_tried, &t, None);
                    drop(t);
                    on_event(Event::Checkpoint(&p));
                    return Err(CrackError::WorkerDied);
                }
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => {
                // Every thread is gone: either the stream was finished (checked below) or
                // work was lost.
                if end_at.is_none() || !lock(&tracker).in_flight.is_empty() {
                    stop.store(true, Ordering::SeqCst);
                    return Err(CrackError::WorkerDied);
                }
            }
        }
        {
            let t = lock(&tracker);
            if end_at.is_some() && t.in_flight.is_empty() {
                let p = snapshot(tried, &dev_tried, &t, end_at);
                drop(t);
                let outcome = Outcome::Exhausted;
                return finish(outcome, found, p, on_event);
            }
        }
        if last_progress.elapsed() >= cfg.progress_interval {
            last_progress = Instant::now();
            let p = snapshot(tried, &dev_tried, &lock(&tracker), end_at);
            on_event(Event::Progress(&p));
        }
        if last_checkpoint.elapsed() >= cfg.checkpoint_interval {
            last_checkpoint = Instant::now();
            let p = snapshot(tried, &dev_tried, &lock(&tracker), end_at);
            on_event(Event::Checkpoint(&p));
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A GPU worker's request for the next batch of `size` guesses; the producer answers on `reply`
/// (capacity 1) or drops it when there is nothing left.
struct GpuRequest {
    size: usize,
    reply: SyncSender<Batch>,
}

/// Cuts the stream into batches of owned guesses, registering each in the tracker before it
/// leaves (so the checkpoint never passes it).
struct Cutter<'p> {
    iter: PlanIter<'p>,
    shard: Shard,
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
            match self.iter.next() {
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
                    let end = self
                        .plan_len
                        .unwrap_or(self.seen_end)
                        .max(self.seen_end)
                        .max(self.lo);
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

/// The producer's state: the stream, the CPU channel, the GPU requests, and a CPU batch cut but
/// not yet taken.
struct Producer<'p> {
    cut: Cutter<'p>,
    cpu_batch: usize,
    batch_tx: Option<SyncSender<Batch>>,
    gpu_rx: Option<Receiver<GpuRequest>>,
    pending: Option<Batch>,
    stop: Arc<AtomicBool>,
    msg_tx: mpsc::Sender<Msg>,
    end_sent: bool,
}

impl Producer<'_> {
    /// Tells the calling thread where the stream ends, once, before any worker can see the end
    /// (a worker that exits first must not look like one that died).
    fn send_end(&mut self) {
        if !self.end_sent {
            self.end_sent = true;
            let end = self.cut.end.unwrap_or(self.cut.lo);
            let _ = self.msg_tx.send(Msg::End { at: end });
        }
    }

    /// Answers one GPU request. False when the run must end (an error was sent).
    fn serve(&mut self, req: GpuRequest) -> bool {
        // A CPU batch nobody else will take goes to the GPU.
        let mut batch = if self.pending.is_some() && self.batch_tx.is_none() {
            self.pending.take()
        } else {
            match self.cut.cut(req.size, &self.stop) {
                Ok(b) => b,
                Err(err) => {
                    let (e, b) = *err;
                    if let Some(b) = b {
                        let _ = req.reply.try_send(b);
                    }
                    let _ = self.msg_tx.send(Msg::Failed(e));
                    return false;
                }
            }
        };
        if batch.is_none() && self.cut.end.is_some() {
            batch = self.pending.take();
        }
        if batch.is_none() && self.cut.end.is_some() {
            self.send_end();
        }
        if let Some(b) = batch {
            // Capacity 1 and one request at a time: never blocks. If the worker is gone its
            // batch stays unfinished, and the run ends with an error rather than skip it.
            let _ = req.reply.try_send(b);
        }
        true
    }

    /// Hands out batches until the stream ends, an error, or stop.
    fn run(mut self) {
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return;
            }
            // GPU requests first: they are few and large.
            if let Some(rx) = &self.gpu_rx {
                match rx.try_recv() {
                    Ok(req) => {
                        if !self.serve(req) {
                            return;
                        }
                        continue;
                    }
                    Err(TryRecvError::Empty) => {}
                    Err(TryRecvError::Disconnected) => self.gpu_rx = None,
                }
            }
            if self.cut.end.is_some() && self.pending.is_none() {
                break;
            }
            if let Some(tx) = self.batch_tx.clone() {
                if self.pending.is_none() {
                    match self.cut.cut(self.cpu_batch, &self.stop) {
                        Ok(Some(b)) => self.pending = Some(b),
                        Ok(None) => continue, // the end, or stop: checked above
                        Err(err) => {
                            let (e, b) = *err;
                            if let Some(b) = b {
                                let _ = tx.try_send(b);
                            }
                            let _ = self.msg_tx.send(Msg::Failed(e));
                            return;
                        }
                    }
                }
                let Some(b) = self.pending.take() else {
                    continue;
                };
                match tx.try_send(b) {
                    Ok(()) => {}
                    Err(TrySendError::Full(b)) => {
                        self.pending = Some(b);
                        match &self.gpu_rx {
                            // Wait a little for a GPU request, then offer the batch again.
                            Some(rx) => match rx.recv_timeout(Duration::from_millis(2)) {
                                Ok(req) => {
                                    if !self.serve(req) {
                                        return;
                                    }
                                }
                                Err(RecvTimeoutError::Timeout) => {}
                                Err(RecvTimeoutError::Disconnected) => self.gpu_rx = None,
                            },
                            None => {
                                let b = self.pending.take().expect("pending batch");
                                if let Err(mpsc::SendError(b)) = tx.send(b) {
                                    self.pending = Some(b);
                                    self.batch_tx = None;
                                }
                            }
                        }
                    }
                    Err(TrySendError::Disconnected(b)) => {
                        // Every CPU worker is gone; a GPU may still take it.
                        self.pending = Some(b);
                        self.batch_tx = None;
                    }
                }
            } else if let Some(rx) = &self.gpu_rx {
                match rx.recv_timeout(Duration::from_millis(50)) {
                    Ok(req) => {
                        if !self.serve(req) {
                            return;
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {}
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            } else {
                return; // no worker left: the calling thread reports it
            }
        }
        self.send_end();
    }
}

#[allow(clippy::too_many_arguments)]
fn spawn_producer(
    plan: Arc<Plan>,
    start: u64,
    shard: Shard,
    batch_size: usize,
    tracker: Arc<Mutex<Tracker>>,
    stop: Arc<AtomicBool>,
    batch_tx: Option<SyncSender<Batch>>,
    gpu_rx: Option<Receiver<GpuRequest>>,
    msg_tx: mpsc::Sender<Msg>,
) {
    std::thread::spawn(move || {
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
                lo: start,
                seen_end: start,
                plan_len: plan.len(),
                tracker,
                end: None,
            },
            cpu_batch: batch_size,
            batch_tx,
            gpu_rx,
            pending: None,
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

fn spawn_worker(
    kernel: Kernel,
    groups: Arc<Vec<Group>>,
    cracked: Arc<Vec<AtomicBool>>,
    stop: Arc<AtomicBool>,
    batch_rx: Arc<Mutex<Receiver<Batch>>>,
    msg_tx: mpsc::Sender<Msg>,
) {
    std::thread::spawn(move || {
        let _guard = ExitGuard(msg_tx.clone());
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let batch = match lock(&batch_rx).recv() {
                Ok(b) => b,
                Err(_) => return,
            };
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let Some(hits) = check_batch(kernel, &groups, &cracked, &stop, &batch) else {
                return; // stopped mid-batch: not finished, not reported
            };
            let msg = Msg::Done {
                lo: batch.lo,
                hi: batch.hi,
                indices: batch.indices,
                hits,
                device: 0,
            };
            if msg_tx.send(msg).is_err() {
                return;
            }
        }
    });
}

/// Derives and checks every guess of the batch against every target not yet found.
/// `None` when stopped before the batch was finished.
fn check_batch(
    kernel: Kernel,
    groups: &[Group],
    cracked: &[AtomicBool],
    stop: &AtomicBool,
    batch: &Batch,
) -> Option<Vec<Hit>> {
    let most = kernel.lanes().max(kernel.sha1_lanes()).max(1);
    let mut hits = Vec::new();
    let mut mid = Zeroizing::new(vec![[0u8; 32]; most]);
    let mut keys = Zeroizing::new(vec![[0u8; 32]; most]);
    for group in groups {
        // Old-scheme groups are all SHA-1, which some kernels run on more lanes than SHA-256.
        let lanes = kernel.lanes_for(group.params.dp.is_some()).max(1);
        if group
            .lines
            .iter()
            .all(|(t, _)| cracked[*t].load(Ordering::Relaxed))
        {
            continue;
        }
        for (c, chunk) in batch.guesses.chunks(lanes).enumerate() {
            if stop.load(Ordering::Relaxed) {
                return None;
            }
            let pws: Vec<&[u8]> = chunk.iter().map(|g| g.as_slice()).collect();
            let n = pws.len();
            derive_many(kernel, &group.params, &pws, &mut mid[..n], &mut keys[..n]);
            for (j, key) in keys[..n].iter().enumerate() {
                for (t, line) in &group.lines {
                    if line.key_matches(key) {
                        let k = c * lanes + j;
                        hits.push((*t, batch.indices[k], Zeroizing::new(chunk[j].to_vec())));
                    }
                }
            }
        }
    }
    Some(hits)
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

/// The GPU kernels' form of the KDF parameters.
pub fn kdf_spec(params: &KdfParams) -> KdfSpec {
    KdfSpec {
        salt: params.salt.clone(),
        iterations: params.iterations,
        dp: params.dp.clone(),
    }
}

#[allow(clippy::too_many_arguments)]
fn spawn_gpu_worker(
    device: usize,
    gpu: Arc<GpuDevice>,
    size: usize,
    groups: Arc<Vec<Group>>,
    cracked: Arc<Vec<AtomicBool>>,
    stop: Arc<AtomicBool>,
    req_tx: mpsc::Sender<GpuRequest>,
    msg_tx: mpsc::Sender<Msg>,
    partial: Arc<Vec<AtomicU64>>,
) {
    std::thread::spawn(move || {
        let _guard = ExitGuard(msg_tx.clone());
        let specs: Vec<KdfSpec> = groups.iter().map(|g| kdf_spec(&g.params)).collect();
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let (reply_tx, reply_rx) = mpsc::sync_channel::<Batch>(1);
            if req_tx
                .send(GpuRequest {
                    size,
                    reply: reply_tx,
                })
                .is_err()
            {
                return;
            }
            let Ok(batch) = reply_rx.recv() else {
                return; // nothing left
            };
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let result = check_batch_gpu(
                &gpu,
                &groups,
                &specs,
                &cracked,
                &stop,
                &batch,
                &partial[device],
            );
            partial[device].store(0, Ordering::Relaxed);
            match result {
                Ok(hits) => {
                    let msg = Msg::Done {
                        lo: batch.lo,
                        hi: batch.hi,
                        indices: batch.indices,
                        hits,
                        device,
                    };
                    if msg_tx.send(msg).is_err() {
                        return;
                    }
                }
                Err(GpuError::Cancelled) => return,
                Err(e) => {
                    let _ = msg_tx.send(Msg::Failed(CrackError::Gpu(e.to_string())));
                    return;
                }
            }
        }
    });
}

/// Derives every guess of the batch on the GPU and checks it against every target not yet
/// found; `partial` follows the progress inside the batch (thousandths of guesses).
fn check_batch_gpu(
    gpu: &GpuDevice,
    groups: &[Group],
    specs: &[KdfSpec],
    cracked: &[AtomicBool],
    stop: &AtomicBool,
    batch: &Batch,
    partial: &AtomicU64,
) -> Result<Vec<Hit>, GpuError> {
    let active: Vec<usize> = (0..groups.len())
        .filter(|&g| {
            !groups[g]
                .lines
                .iter()
                .all(|(t, _)| cracked[*t].load(Ordering::Relaxed))
        })
        .collect();
    let work: u64 = active
        .iter()
        .map(|&g| specs[g].total_iterations())
        .sum::<u64>()
        .max(1)
        * batch.guesses.len() as u64;
    let mut done: u64 = 0;
    let mut hits = Vec::new();
    let max = gpu.max_batch().max(1);
    for &g in &active {
        let spec = &specs[g];
        let per = spec.total_iterations();
        for (c, chunk) in batch.guesses.chunks(max).enumerate() {
            let pws: Vec<&[u8]> = chunk.iter().map(|g| g.as_slice()).collect();
            let n = pws.len() as u64;
            let base = done;
            let keys = Zeroizing::new(gpu.derive(&pws, spec, stop, &mut |it| {
                let d = base + it.min(per) * n;
                partial.store(
                    (d as f64 / work as f64 * batch.guesses.len() as f64 * 1000.0) as u64,
                    Ordering::Relaxed,
                );
            })?);
            done += per * n;
            for (j, key) in keys.iter().enumerate() {
                for (t, line) in &groups[g].lines {
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
