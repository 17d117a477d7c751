//! The recovery use case through its library API alone (no binary): the potfile shortcut checks
//! the remembered password, a cancelled run resumes without skipping a guess, several targets
//! share one run, the plan's summary has per-stage sizes and estimates, finished sessions.

use sesame_backup::HashLine;
use sesame_crack::{
    recover, DeviceOptions, Potfile, RecoveryEvent, RecoveryHandle, RecoveryOutcome,
    RecoveryReport, RecoveryRequest, SessionOptions, Target, Warning,
};
use sesame_guess::{Chunk, Plan, Shard};
use std::sync::Arc;
use std::time::Duration;

mod common;
use common::Words;

fn plan(sizes: &[usize]) -> Arc<Plan> {
    let mut p = Plan::new();
    for &n in sizes {
        p.push(Box::new(Words(n)));
    }
    Arc::new(p)
}

fn target(label: &str, line: &HashLine) -> Target {
    Target {
        label: label.into(),
        line: line.clone(),
    }
}

/// A request in a private folder: its own potfile and sessions, the portable kernel (no
/// calibration), two threads, no timing.
fn request(dir: &std::path::Path, targets: Vec<Target>, plan: Arc<Plan>) -> RecoveryRequest {
    RecoveryRequest {
        potfile: Some(Potfile::new(dir.join("sesame.potfile"))),
        session: SessionOptions {
            dir: dir.join("sessions"),
            name: None,
            fresh: false,
            shard: Shard::ALL,
            shard_from: None,
            chunk: Chunk::ALL,
        },
        devices: DeviceOptions {
            threads: 2,
            kernel: Some("portable".into()),
            ..DeviceOptions::default()
        },
        measure: None,
        progress_interval: Duration::from_millis(10),
        checkpoint_interval: Duration::from_millis(10),
        ..RecoveryRequest::new(targets, plan)
    }
}

/// What a run said, in a form the tests can look at.
#[derive(Default)]
struct Seen {
    batches: Vec<(u64, u64)>,
    known: Vec<usize>,
    found: Vec<(usize, Vec<u8>)>,
    warnings: Vec<String>,
    resume_from: Option<u64>,
    plan_stages: Vec<(Option<u64>, Option<f64>)>,
    finished: usize,
}

fn run(
    req: RecoveryRequest,
    handle: &RecoveryHandle,
    cancel_after: Option<usize>,
) -> (RecoveryReport, Seen) {
    let mut seen = Seen::default();
    let report = recover(req, handle, &mut |e| match e {
        RecoveryEvent::Batch { lo, hi, .. } => {
            seen.batches.push((lo, hi));
            if Some(seen.batches.len()) == cancel_after {
                handle.cancel();
            }
        }
        RecoveryEvent::Known(f) => seen.known.push(f.target),
        RecoveryEvent::Found(f) => seen.found.push((f.target, f.password.to_vec())),
        RecoveryEvent::Warning(w) => seen.warnings.push(format!("{w:?}")),
        RecoveryEvent::Plan(p) => {
            seen.resume_from = Some(p.resume_from);
            seen.plan_stages = p.stages.iter().map(|s| (s.guesses, s.seconds)).collect();
        }
        RecoveryEvent::Finished(_) => seen.finished += 1,
        _ => {}
    })
    .unwrap();
    assert_eq!(seen.finished, 1, "one Finished event, last");
    (report, seen)
}

#[test]
fn the_potfile_shortcut_checks_the_remembered_password() {
    let dir = tempfile::tempdir().unwrap();
    let line = sesame_crack::synthetic_line(b"word7", None, 5);
    let pot = Potfile::new(dir.path().join("sesame.potfile"));

    // A wrong password remembered (an edited or shared potfile): not trusted, searched again.
    pot.append(&line, b"not-it").unwrap();
    let req = request(dir.path(), vec![target("t", &line)], plan(&[20]));
    let (report, seen) = run(req, &RecoveryHandle::new(), None);
    assert!(seen.known.is_empty());
    assert_eq!(
        seen.warnings,
        vec![format!("{:?}", Warning::PotfileWrong { target: 0 })]
    );
    assert_eq!(report.outcome, RecoveryOutcome::Found);
    assert_eq!(seen.found, vec![(0, b"word7".to_vec())]);
    assert_eq!(pot.lookup(&line).unwrap().unwrap().as_slice(), b"word7");

    // The right one remembered: answered without a plan, a session or a device.
    let mut req = request(dir.path(), vec![target("t", &line)], plan(&[20]));
    req.plan = Box::new(|| panic!("the plan was built although the potfile had the answer"));
    let (report, seen) = run(req, &RecoveryHandle::new(), None);
    assert_eq!(seen.known, vec![0]);
    assert!(seen.batches.is_empty() && seen.warnings.is_empty());
    assert_eq!(report.outcome, RecoveryOutcome::Found);
    assert!(report.found[0].from_potfile && report.found[0].index.is_none());
    assert_eq!(report.found[0].password.as_slice(), b"word7");
    assert!(report.progress.is_none() && report.session.is_none());
}

#[test]
fn resume_after_cancel_skips_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let n = 300;
    let at = 250u64;
    // Slow enough per guess that the cancel comes well before the password.
    let line = sesame_crack::synthetic_line(format!("word{at}").as_bytes(), Some(20_000), 5);
    let make = || {
        let mut r = request(dir.path(), vec![target("t", &line)], plan(&[n]));
        r.batch_size = Some(2);
        // One thread: a hit ends the run at once, and with two a batch below the hit could
        // still be running then (fine for a recovery, not for counting here).
        r.devices.threads = 1;
        r
    };
    let (first, seen1) = run(make(), &RecoveryHandle::new(), Some(10));
    assert_eq!(first.outcome, RecoveryOutcome::Interrupted);
    let checkpoint = first.progress.as_ref().unwrap().position;
    assert!(checkpoint > 0 && checkpoint < at, "{checkpoint}");
    // The first run finished every guess below its checkpoint.
    let covered = |b: &[(u64, u64)], i: u64| b.iter().any(|&(lo, hi)| lo <= i && i < hi);
    assert!((0..checkpoint).all(|i| covered(&seen1.batches, i)));

    // The same request again (a new handle, as a new process would have) resumes there.
    let (second, seen2) = run(make(), &RecoveryHandle::new(), None);
    assert_eq!(seen2.resume_from, Some(checkpoint));
    assert_eq!(second.outcome, RecoveryOutcome::Found);
    assert_eq!(second.found[0].index, Some(at));
    assert!(seen2.batches.iter().all(|&(lo, _)| lo >= checkpoint));
    assert!(
        (checkpoint..=at).all(|i| covered(&seen2.batches, i)),
        "the resumed run skipped a guess"
    );
    // Found: the session is finished, and the potfile answers the next time.
    let (third, seen3) = run(make(), &RecoveryHandle::new(), None);
    assert_eq!(third.outcome, RecoveryOutcome::Found);
    assert_eq!(seen3.known, vec![0]);
}

#[test]
fn two_targets_share_one_run() {
    let dir = tempfile::tempdir().unwrap();
    // Two with the same parameters (one derivation serves both) and one of the other scheme.
    let a = sesame_crack::synthetic_line(b"word30", Some(4), 4);
    // Same salts and counts as `a`, another password: a class key wrapped under word55's key.
    let key = sesame_backup::kdf::derive(b"word55", &a.kdf_params());
    let b = HashLine {
        wpky: sesame_backup::aeskw::wrap(&key, &[7u8; 32])
            .try_into()
            .unwrap(),
        ..a.clone()
    };
    assert!(b.verify(b"word55") && b.kdf_params() == a.kdf_params());
    let c = sesame_crack::synthetic_line(b"word90", None, 3);
    let targets = vec![target("a", &a), target("b", &b), target("c", &c)];
    // The second stage repeats word0..: word90 is global index 60 + 90.
    let mut req = request(dir.path(), targets, plan(&[60, 100]));
    req.batch_size = Some(5);
    // One thread: the run stops at the batch that found the last target, however the threads
    // are scheduled (with two, the other one may finish a later batch first).
    req.devices.threads = 1;
    let (report, seen) = run(req, &RecoveryHandle::new(), None);
    assert_eq!(report.outcome, RecoveryOutcome::Found);
    let mut found = seen.found.clone();
    found.sort();
    assert_eq!(
        found,
        vec![
            (0, b"word30".to_vec()),
            (1, b"word55".to_vec()),
            (2, b"word90".to_vec())
        ]
    );
    // One stream for all three: no index was handed out twice.
    let mut idx: Vec<u64> = seen.batches.iter().flat_map(|&(lo, hi)| lo..hi).collect();
    let n = idx.len();
    idx.sort_unstable();
    idx.dedup();
    assert_eq!(idx.len(), n);
    assert!(
        idx.contains(&150) && idx.iter().all(|&i| i < 155),
        "{idx:?}"
    );
    assert_eq!(report.found[2].index, Some(150));
}

#[test]
fn the_plan_has_per_stage_sizes_and_estimates_and_a_finished_session_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let line = sesame_crack::synthetic_line(b"absent", None, 3);
    let mut req = request(dir.path(), vec![target("t", &line)], plan(&[10, 30]));
    req.measure = Some(Duration::from_millis(20));
    let (report, seen) = run(req, &RecoveryHandle::new(), None);
    assert_eq!(report.outcome, RecoveryOutcome::Exhausted);
    assert_eq!(seen.plan_stages.len(), 2);
    assert_eq!(seen.plan_stages[0].0, Some(10));
    assert_eq!(seen.plan_stages[1].0, Some(30));
    assert!(seen
        .plan_stages
        .iter()
        .all(|s| s.1.is_some_and(|t| t > 0.0)));
    assert_eq!(report.progress.unwrap().done, 40);

    // The same request again: already tried, nothing runs; `fresh` runs it again.
    let req = request(dir.path(), vec![target("t", &line)], plan(&[10, 30]));
    let (again, seen) = run(req, &RecoveryHandle::new(), None);
    assert_eq!(again.outcome, RecoveryOutcome::AlreadyExhausted);
    assert!(seen.batches.is_empty());
    let mut req = request(dir.path(), vec![target("t", &line)], plan(&[10, 30]));
    req.session.fresh = true;
    let (fresh, _) = run(req, &RecoveryHandle::new(), None);
    assert_eq!(fresh.outcome, RecoveryOutcome::Exhausted);
}

#[test]
fn bad_requests_are_typed_errors() {
    let dir = tempfile::tempdir().unwrap();
    let line = sesame_crack::synthetic_line(b"x", None, 3);
    let mut req = request(dir.path(), vec![target("t", &line)], plan(&[5]));
    req.session.name = Some("../escape".into());
    let e = recover(req, &RecoveryHandle::new(), &mut |_| {}).unwrap_err();
    assert!(matches!(e, sesame_crack::CrackError::SessionName(_)), "{e}");
    let mut req = request(dir.path(), vec![target("t", &line)], plan(&[5]));
    req.devices.kernel = Some("nope".into());
    let e = recover(req, &RecoveryHandle::new(), &mut |_| {}).unwrap_err();
    assert!(e.to_string().contains("unknown kernel"), "{e}");
    let mut req = request(dir.path(), vec![target("t", &line)], plan(&[5]));
    req.plan = Box::new(|| Err("no such wordlist".into()));
    let e = recover(req, &RecoveryHandle::new(), &mut |_| {}).unwrap_err();
    assert_eq!(e.to_string(), "no such wordlist");
    let req = request(dir.path(), Vec::new(), plan(&[5]));
    let e = recover(req, &RecoveryHandle::new(), &mut |_| {}).unwrap_err();
    assert!(matches!(e, sesame_crack::CrackError::NoTargets), "{e}");
}

/// The web app's pause: from another thread, without Ctrl-C. While paused, the session file
/// holds its position (a closed page loses nothing); after resume the run goes on and finds.
#[test]
fn pause_holds_the_saved_index_and_resume_finds() {
    let dir = tempfile::tempdir().unwrap();
    // Far enough into the plan that a test thread slow to pause (a loaded machine) still
    // pauses before it.
    let at = 600u64;
    let line = sesame_crack::synthetic_line(format!("word{at}").as_bytes(), Some(20_000), 5);
    let mut req = request(dir.path(), vec![target("t", &line)], plan(&[800]));
    req.batch_size = Some(2);
    req.session.name = Some("paused".into());
    let handle = RecoveryHandle::new();
    let batches = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let runner = {
        let (handle, batches) = (handle.clone(), batches.clone());
        std::thread::spawn(move || {
            recover(req, &handle, &mut |e| {
                if let RecoveryEvent::Batch { .. } = e {
                    batches.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            })
        })
    };
    let count = || batches.load(std::sync::atomic::Ordering::SeqCst);
    let t0 = std::time::Instant::now();
    while count() < 3 {
        assert!(t0.elapsed() < Duration::from_secs(60), "no progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    handle.pause();
    let file = dir.path().join("sessions/paused.json");
    let saved = || -> u64 {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
        v["position"].as_u64().unwrap()
    };
    // Let the batches being computed finish (at most one per thread), then nothing moves.
    let mut settled = count();
    loop {
        std::thread::sleep(Duration::from_millis(1000));
        if count() == settled {
            break;
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "work never stopped");
        settled = count();
    }
    let held = saved();
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(count(), settled, "batches finished while paused");
    assert_eq!(saved(), held, "the saved checkpoint moved while paused");
    assert!(held < at, "{held}");
    handle.resume();
    let report = runner.join().unwrap().unwrap();
    assert_eq!(report.outcome, RecoveryOutcome::Found);
    assert_eq!(report.found[0].index, Some(at));
}

#[test]
fn progress_gives_the_time_left_in_the_stage_beside_the_whole_plan() {
    let dir = tempfile::tempdir().unwrap();
    let line = sesame_crack::synthetic_line(b"absent", None, 200);
    let mut req = request(dir.path(), vec![target("t", &line)], plan(&[300, 3000]));
    req.batch_size = Some(16);
    // (stage, position, stage time left, all time left)
    type Seen = (Option<usize>, u64, Option<f64>, Option<f64>);
    let mut seen: Vec<Seen> = Vec::new();
    recover(req, &RecoveryHandle::new(), &mut |e| {
        if let RecoveryEvent::Progress(p) = e {
            seen.push((p.source, p.position, p.stage_eta, p.eta));
        }
    })
    .unwrap();
    let timed: Vec<_> = seen.iter().filter(|s| s.2.is_some()).collect();
    assert!(!timed.is_empty(), "no progress with a stage time: {seen:?}");
    for (source, position, stage, all) in timed {
        let (stage, all) = (stage.unwrap(), all.unwrap());
        assert!(stage <= all + 1e-9, "{stage} > {all}");
        // In the first stage, its time is the smaller part of the whole: 300 of 3,300.
        if *source == Some(0) && *position < 300 && all > 0.0 {
            let expect = (300 - position) as f64 / (3300 - position) as f64;
            assert!(
                (stage / all - expect).abs() < 1e-6,
                "{stage} / {all} vs {expect}"
            );
        }
        if *source == Some(1) {
            assert!(
                (stage - all).abs() < 1e-9,
                "the last stage's time is the rest"
            );
        }
    }
}
