//! The engine over the `Device` trait: a device that fails mid-run loses no guess, and a run
//! paused from another thread holds its checkpoint until resumed.

use sesame_backup::{HashLine, KdfParams};
use sesame_crack::{
    run, CpuDevice, CrackError, Device, DeviceError, DeviceKind, EngineConfig, Event, Outcome,
    RecoveryHandle,
};
use sesame_guess::Plan;
use sesame_kernels::Kernel;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

mod common;
use common::{wait_for_flag, Hooked, Words};

fn plan(n: usize) -> Arc<Plan> {
    let mut p = Plan::new();
    p.push(Box::new(Words(n)));
    Arc::new(p)
}

/// A GPU-like device that computes correctly for `good_calls` calls, then fails every call
/// (as a GPU that falls off the bus mid-batch).
struct Flaky {
    inner: CpuDevice,
    calls: AtomicUsize,
    good_calls: usize,
    workers: usize,
}

impl Flaky {
    fn new(good_calls: usize) -> Arc<Flaky> {
        Self::with_workers(good_calls, 1)
    }

    fn with_workers(good_calls: usize, workers: usize) -> Arc<Flaky> {
        Arc::new(Flaky {
            inner: CpuDevice {
                kernel: Kernel::Portable,
                threads: 1,
            },
            calls: AtomicUsize::new(0),
            good_calls,
            workers,
        })
    }
}

impl Device for Flaky {
    fn name(&self) -> String {
        "flaky".into()
    }
    fn kind(&self) -> DeviceKind {
        DeviceKind::Gpu
    }
    fn workers(&self) -> usize {
        self.workers
    }
    fn preferred_batch(&self, _: &[KdfParams]) -> usize {
        64
    }
    fn max_call(&self, _: &KdfParams) -> usize {
        // Several calls per batch, so that it fails in the middle of one.
        8
    }
    fn derive(
        &self,
        params: &KdfParams,
        passwords: &[&[u8]],
        stop: &AtomicBool,
        progress: &mut dyn FnMut(f64),
    ) -> Result<Zeroizing<Vec<[u8; 32]>>, DeviceError> {
        if self.calls.fetch_add(1, Ordering::SeqCst) >= self.good_calls {
            return Err(DeviceError::Failed("injected failure".into()));
        }
        self.inner.derive(params, passwords, stop, progress)
    }
}

fn cfg() -> EngineConfig {
    EngineConfig {
        threads: 1,
        kernel: Kernel::Portable,
        batch_size: Some(3),
        gpu_batch_size: Some(40),
        progress_interval: Duration::from_millis(10),
        checkpoint_interval: Duration::from_millis(10),
        ..EngineConfig::default()
    }
}

#[test]
fn a_device_that_fails_mid_run_loses_no_guess() {
    let n = 600;
    // Absent: every index must be tried, exactly once, by someone.
    let absent = sesame_crack::synthetic_line(b"absent", Some(3), 3);
    // Present, in the first batch the failing device takes (it fails on its 3rd call of 8).
    let early = sesame_crack::synthetic_line(b"word20", Some(3), 3);
    // (target, good calls, workers): with two workers, the second one holds a batch when the
    // first fails, and must hand it back too.
    for (target, good_calls, workers) in [
        (&absent, 3, 1),
        (&early, 2, 1),
        (&absent, 0, 1),
        (&absent, 4, 2),
    ] {
        let flaky = Flaky::with_workers(good_calls, workers);
        // The CPU is held back until the engine has reported the flaky device's failure:
        // without the hold it may finish the plan (or find the password) before the flaky
        // device's thread has taken a batch (as on a loaded 2-core machine), and the failure
        // under test never happens.
        let failed = Arc::new(AtomicBool::new(false));
        let gate = failed.clone();
        let cpu = Hooked::new(
            Arc::new(CpuDevice {
                kernel: Kernel::Portable,
                threads: 1,
            }),
            move |stop| wait_for_flag(&gate, stop),
        );
        let cfg = EngineConfig {
            cpu: false,
            devices: vec![cpu, flaky.clone()],
            ..cfg()
        };
        let mut tried: BTreeMap<u64, u32> = BTreeMap::new();
        let mut failures = Vec::new();
        let report = run(
            plan(n),
            std::slice::from_ref(target),
            &cfg,
            &mut |e| match e {
                Event::BatchDone { indices, .. } => {
                    for i in indices {
                        *tried.entry(*i).or_default() += 1;
                    }
                }
                Event::DeviceFailed { device, error } => {
                    failures.push((device.to_string(), error.to_string()));
                    failed.store(true, Ordering::SeqCst);
                }
                _ => {}
            },
        )
        .unwrap();
        assert!(
            !failures.is_empty() && failures.len() <= workers,
            "{failures:?}"
        );
        assert_eq!(failures[0].0, "flaky");
        assert!(failures[0].1.contains("injected"), "{failures:?}");
        let flaky_row = &report.progress.devices[1];
        assert_eq!(flaky_row.name, "flaky");
        if target == &absent {
            assert_eq!(report.outcome, Outcome::Exhausted);
            assert_eq!(report.progress.position, n as u64);
            assert!(tried.values().all(|&c| c == 1), "an index tried twice");
            assert_eq!(tried.len(), n, "an index never tried");
            // The failing device's unfinished batch was not counted for it.
            assert_eq!(flaky_row.tried % 40, 0);
        } else {
            assert_eq!(report.outcome, Outcome::Found);
            assert_eq!(report.found[0].password.as_slice(), b"word20");
            assert_eq!(report.found[0].index, 20);
        }
    }
}

#[test]
fn when_the_last_device_fails_the_run_ends_with_an_exact_checkpoint() {
    let flaky = Flaky::new(5);
    let cfg = EngineConfig {
        cpu: false,
        devices: vec![flaky],
        ..cfg()
    };
    let absent = sesame_crack::synthetic_line(b"absent", None, 2);
    let mut done: Vec<u64> = Vec::new();
    let mut last = None;
    let err = run(plan(500), &[absent], &cfg, &mut |e| match e {
        Event::BatchDone { indices, .. } => done.extend_from_slice(indices),
        Event::Checkpoint(p) => last = Some(p.position),
        _ => {}
    })
    .unwrap_err();
    assert!(
        matches!(&err, CrackError::DeviceFailed { device, .. } if device == "flaky"),
        "{err}"
    );
    assert!(err.to_string().contains("checkpoint"), "{err}");
    // 5 good calls of 8: the first batch of 40 was finished, the second was not.
    let last = last.unwrap();
    assert_eq!(last, 40);
    assert!((0..last).all(|i| done.contains(&i)));
}

#[test]
fn pause_holds_the_checkpoint_and_resume_goes_on_without_a_gap() {
    // Costly enough per guess that batches take a while on two threads.
    let line: HashLine = sesame_crack::synthetic_line(b"absent", Some(20_000), 10);
    let handle = RecoveryHandle::new();
    // Derive calls counted where they begin, not where the engine's event loop (which may lag
    // on a loaded machine) reports them.
    let calls = Arc::new(AtomicU64::new(0));
    let counter = calls.clone();
    let cpu = Hooked::new(
        Arc::new(CpuDevice {
            kernel: Kernel::Portable,
            threads: 2,
        }),
        move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        },
    );
    let cfg = EngineConfig {
        cpu: false,
        devices: vec![cpu],
        batch_size: Some(2),
        cancel: handle.cancel_flag(),
        pause: handle.pause_flag(),
        ..cfg()
    };
    let batches = Arc::new(AtomicU64::new(0));
    let position = Arc::new(AtomicU64::new(0));
    let tried: Arc<Mutex<Vec<u64>>> = Arc::default();
    let paused_events = Arc::new(AtomicUsize::new(0));
    let runner = {
        let (batches, position, tried, paused_events) = (
            batches.clone(),
            position.clone(),
            tried.clone(),
            paused_events.clone(),
        );
        std::thread::spawn(move || {
            run(plan(100_000), &[line], &cfg, &mut |e| match e {
                Event::BatchDone { indices, .. } => {
                    tried.lock().unwrap().extend_from_slice(indices);
                    batches.fetch_add(1, Ordering::SeqCst);
                }
                Event::Checkpoint(p) => position.store(p.position, Ordering::SeqCst),
                Event::Paused(_) => {
                    paused_events.fetch_add(1, Ordering::SeqCst);
                }
                _ => {}
            })
        })
    };
    let wait_for = |what: &str, cond: &dyn Fn() -> bool| {
        let t0 = Instant::now();
        while !cond() {
            assert!(t0.elapsed() < Duration::from_secs(60), "timed out: {what}");
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    wait_for("some batches", &|| batches.load(Ordering::SeqCst) >= 4);
    handle.pause();
    assert!(handle.is_paused());
    let calls_at_pause = calls.load(Ordering::SeqCst);
    wait_for("the Paused event", &|| {
        paused_events.load(Ordering::SeqCst) == 1
    });
    // Let the batches already being computed finish, then nothing moves.
    let t0 = Instant::now();
    let mut settled = batches.load(Ordering::SeqCst);
    loop {
        std::thread::sleep(Duration::from_millis(1000));
        let now = batches.load(Ordering::SeqCst);
        if now == settled {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "work never stopped");
        settled = now;
    }
    // Each of the two workers finishes at most the batch it holds (2 guesses, so at most 2
    // derive calls): no new batch was begun.
    let begun = calls.load(Ordering::SeqCst) - calls_at_pause;
    assert!(begun <= 4, "{begun} derive calls begun after the pause");
    let held = position.load(Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(600));
    assert_eq!(
        batches.load(Ordering::SeqCst),
        settled,
        "work went on while paused"
    );
    assert_eq!(
        position.load(Ordering::SeqCst),
        held,
        "the checkpoint moved"
    );

    handle.resume();
    wait_for("work after resume", &|| {
        batches.load(Ordering::SeqCst) >= settled + 4
    });
    handle.cancel();
    let report = runner.join().unwrap().unwrap();
    assert_eq!(report.outcome, Outcome::Interrupted);
    let pos = report.progress.position;
    assert!(pos > held, "{pos} <= {held}");
    let mut all = tried.lock().unwrap().clone();
    all.sort_unstable();
    let n = all.len();
    all.dedup();
    assert_eq!(all.len(), n, "an index tried twice");
    assert!(
        (0..pos).all(|i| all.binary_search(&i).is_ok()),
        "a gap below {pos}"
    );
}
