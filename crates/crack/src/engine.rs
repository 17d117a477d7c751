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
//! On a hit for every target, on exhaustion, on cancel or on error, [`run`] returns at once:
//! workers still inside a kernel call finish that call, see the stop flag and exit on their own.

use crate::error::CrackError;
use sesame_backup::{HashLine, KdfParams};
use sesame_guess::{Guess, Plan, Shard};
use sesame_kernels::Kernel;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// How a run is carried out.
#[derive(Clone, Debug)]
pub struct EngineConfig {
    /// Worker threads (0 = every core).
    pub threads: usize,
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
    },
    /// A target's password. Sent before the checkpoint that moves past it.
    Found(&'a Found),
}

/// A recovered password.
#[derive(Clone, Debug)]
pub struct Found {
    /// Index of the target in the list given to [`run`].
    pub target: usize,
    /// Global index of the guess in the plan.
    pub index: u64,
    pub password: Zeroizing<Vec<u8>>,
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
    let lanes = kernel.lanes().max(1);
    let compressions: u64 = group_targets(targets)
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
    let threads = cfg.effective_threads();
    let kernel = cfg.kernel;
    let shard = cfg.shard;
    let total = plan.len().map(|n| shard.count(n));
    let batch_size = match cfg.batch_size {
        Some(b) => b.max(1),
        None => {
            // A short plan is still spread over every thread.
            let auto = auto_batch_size(kernel, targets);
            match total {
                Some(t) => {
                    let left = t.saturating_sub(shard.count(cfg.start));
                    let share = left.div_ceil(threads as u64).max(1);
                    auto.min(usize::try_from(share).unwrap_or(usize::MAX))
                }
                None => auto,
            }
        }
    };
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
    let (batch_tx, batch_rx) = mpsc::sync_channel::<Batch>(threads + 1);
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
        batch_tx,
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
    drop(msg_tx);

    on_event(Event::Started {
        threads,
        kernel: kernel.name(),
        batch_size,
        start: cfg.start,
        groups: groups.len(),
    });

    let mut found: Vec<Found> = Vec::new();
    let mut tried: u64 = 0;
    let mut end_at: Option<u64> = None;
    let mut live_workers = threads;
    let mut last_progress = Instant::now();
    let mut last_checkpoint = Instant::now();
    let snapshot = |tried: u64, tracker: &Tracker, end_at: Option<u64>| -> Progress {
        let position = match end_at {
            Some(end) if tracker.in_flight.is_empty() => end.max(tracker.cursor),
            _ => tracker.position(),
        };
        let elapsed = started.elapsed().as_secs_f64();
        let measured = if tried > 0 && elapsed > 0.0 {
            Some(tried as f64 / elapsed)
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
            let p = snapshot(tried, &lock(&tracker), end_at);
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
            }) => {
                tried += indices.len() as u64;
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
                });
                if found.len() == targets.len() {
                    stop.store(true, Ordering::SeqCst);
                    let p = snapshot(tried, &lock(&tracker), end_at);
                    return finish(Outcome::Found, found, p, on_event);
                }
                if new_hit {
                    let p = snapshot(tried, &lock(&tracker), end_at);
                    on_event(Event::Checkpoint(&p));
                    last_checkpoint = Instant::now();
                }
            }
            Ok(Msg::End { at }) => end_at = Some(at),
            Ok(Msg::Failed(e)) => {
                stop.store(true, Ordering::SeqCst);
                // Keep what is finished: the position is still exact.
                let p = snapshot(tried, &lock(&tracker), None);
                on_event(Event::Checkpoint(&p));
                return Err(e);
            }
            Ok(Msg::WorkerExit) => {
                live_workers -= 1;
                let t = lock(&tracker);
                let busy = !t.in_flight.is_empty() || end_at.is_none();
                if live_workers == 0 && busy && !stop.load(Ordering::SeqCst) {
                    stop.store(true, Ordering::SeqCst);
                    let p = snapshot(tried, &t, None);
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
                let p = snapshot(tried, &t, end_at);
                drop(t);
                let outcome = Outcome::Exhausted;
                return finish(outcome, found, p, on_event);
            }
        }
        if last_progress.elapsed() >= cfg.progress_interval {
            last_progress = Instant::now();
            let p = snapshot(tried, &lock(&tracker), end_at);
            on_event(Event::Progress(&p));
        }
        if last_checkpoint.elapsed() >= cfg.checkpoint_interval {
            last_checkpoint = Instant::now();
            let p = snapshot(tried, &lock(&tracker), end_at);
            on_event(Event::Checkpoint(&p));
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

#[allow(clippy::too_many_arguments)]
fn spawn_producer(
    plan: Arc<Plan>,
    start: u64,
    shard: Shard,
    batch_size: usize,
    tracker: Arc<Mutex<Tracker>>,
    stop: Arc<AtomicBool>,
    batch_tx: SyncSender<Batch>,
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
        let mut lo = start;
        let mut indices = Vec::with_capacity(batch_size);
        let mut guesses: Vec<Zeroizing<Guess>> = Vec::with_capacity(batch_size);
        // Index one past the last one seen: where the stream stands.
        let mut seen_end = start;
        let send = |lo: &mut u64,
                    hi: u64,
                    indices: &mut Vec<u64>,
                    guesses: &mut Vec<Zeroizing<Guess>>|
         -> bool {
            let batch = Batch {
                lo: *lo,
                hi,
                indices: std::mem::take(indices),
                guesses: std::mem::take(guesses),
            };
            {
                let mut t = lock(&tracker);
                t.in_flight.insert(batch.lo);
                t.cursor = hi;
            }
            *lo = hi;
            batch_tx.send(batch).is_ok()
        };
        for item in iter {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            match item {
                Ok((i, g)) => {
                    seen_end = i + 1;
                    if !shard.owns(i) {
                        continue;
                    }
                    indices.push(i);
                    guesses.push(Zeroizing::new(g));
                    if guesses.len() >= batch_size
                        && !send(&mut lo, i + 1, &mut indices, &mut guesses)
                    {
                        return;
                    }
                }
                Err(e) => {
                    // Hand out what was read before the error so the checkpoint is exact.
                    if !guesses.is_empty() {
                        let hi = indices.last().map_or(lo, |i| i + 1);
                        send(&mut lo, hi, &mut indices, &mut guesses);
                    }
                    let _ = msg_tx.send(Msg::Failed(e.into()));
                    return;
                }
            }
        }
        // The end of the stream: its length when known (gaps at the end count as done).
        let end = plan.len().unwrap_or(seen_end).max(seen_end).max(lo);
        if !guesses.is_empty() {
            if !send(&mut lo, end, &mut indices, &mut guesses) {
                return;
            }
        } else {
            lock(&tracker).cursor = end;
        }
        let _ = msg_tx.send(Msg::End { at: end });
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
    let lanes = kernel.lanes().max(1);
    let mut hits = Vec::new();
    let mut mid = Zeroizing::new(vec![[0u8; 32]; lanes]);
    let mut keys = Zeroizing::new(vec![[0u8; 32]; lanes]);
    for group in groups {
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
