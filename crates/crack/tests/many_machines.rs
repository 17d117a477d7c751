//! One search over many processes: chunks (`--skip/--limit`) and shards compose into an exact
//! partition of the stream, a chunk's session resumes inside the chunk, and the found-file stops
//! every other process with the (checked) password.

use sesame_backup::HashLine;
use sesame_crack::{
    recover, run, DeviceOptions, EngineConfig, Event, FoundFile, Outcome, Potfile, RecoveryEvent,
    RecoveryHandle, RecoveryOutcome, RecoveryReport, RecoveryRequest, SessionOptions, Target,
    Warning,
};
use sesame_guess::{Chunk, Plan, Shard};
use sesame_kernels::Kernel;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

mod common;
use common::Words;

fn plan(n: usize) -> Arc<Plan> {
    let mut p = Plan::new();
    p.push(Box::new(Words(n)));
    Arc::new(p)
}

fn request(
    dir: &Path,
    line: &HashLine,
    plan: Arc<Plan>,
    shard: Shard,
    chunk: Chunk,
) -> RecoveryRequest {
    RecoveryRequest {
        potfile: Some(Potfile::new(dir.join("sesame.potfile"))),
        session: SessionOptions {
            dir: dir.join("sessions"),
            name: None,
            fresh: false,
            shard,
            shard_from: None,
            chunk,
        },
        devices: DeviceOptions {
            threads: 1,
            kernel: Some("portable".into()),
            ..DeviceOptions::default()
        },
        batch_size: Some(2),
        measure: None,
        progress_interval: Duration::from_millis(10),
        checkpoint_interval: Duration::from_millis(10),
        ..RecoveryRequest::new(
            vec![Target {
                label: "t".into(),
                line: line.clone(),
            }],
            plan,
        )
    }
}

#[derive(Default)]
struct Seen {
    /// Every index tried, from the batches (with the shard, the owned ones of each range).
    tried: Vec<u64>,
    known: Vec<(usize, Vec<u8>, bool)>,
    warnings: Vec<String>,
    resume_from: Option<u64>,
    total: Option<u64>,
}

fn go(
    req: RecoveryRequest,
    shard: Shard,
    mut after_batch: impl FnMut(usize, &RecoveryHandle),
) -> (RecoveryReport, Seen) {
    let handle = RecoveryHandle::new();
    let mut seen = Seen::default();
    let mut batches = 0;
    let report = recover(req, &handle, &mut |e| match e {
        RecoveryEvent::Batch { lo, hi, tried, .. } => {
            let owned: Vec<u64> = (lo..hi).filter(|&i| shard.owns(i)).collect();
            assert_eq!(owned.len(), tried, "batch {lo}..{hi}");
            seen.tried.extend(owned);
            batches += 1;
            after_batch(batches, &handle);
        }
        RecoveryEvent::Known(f) => {
            seen.known
                .push((f.target, f.password.to_vec(), f.from_found_file))
        }
        RecoveryEvent::Warning(w) => seen.warnings.push(format!("{w:?}")),
        RecoveryEvent::Plan(p) => {
            seen.resume_from = Some(p.resume_from);
            seen.total = p.total;
        }
        _ => {}
    })
    .unwrap();
    (report, seen)
}

#[test]
fn chunks_and_shards_partition_the_stream_exactly() {
    let n = 103u64;
    let absent = sesame_crack::synthetic_line(b"absent", None, 2);
    let mut tried = Vec::new();
    for (skip, limit) in [(0, Some(40)), (40, Some(40)), (80, None)] {
        for k in 1..=3 {
            let cfg = EngineConfig {
                threads: 2,
                kernel: Kernel::Portable,
                batch_size: Some(3),
                shard: Shard::new(k, 3).unwrap(),
                chunk: Chunk::new(skip, limit),
                start: skip,
                ..EngineConfig::default()
            };
            let mut mine = Vec::new();
            let mut last = None;
            let report = run(
                plan(n as usize),
                std::slice::from_ref(&absent),
                &cfg,
                &mut |e| match e {
                    Event::BatchDone { indices, .. } => mine.extend_from_slice(indices),
                    Event::Checkpoint(p) => last = Some(p.position),
                    _ => {}
                },
            )
            .unwrap();
            assert_eq!(report.outcome, Outcome::Exhausted);
            let end = limit.map_or(n, |l| skip + l);
            assert_eq!(last, Some(end), "the checkpoint ends at the chunk's end");
            let want = Chunk::new(skip, limit).total(cfg.shard, Some(n));
            assert_eq!(report.progress.total, want);
            assert_eq!(Some(mine.len() as u64), want);
            assert!(mine
                .iter()
                .all(|&i| i >= skip && i < end && cfg.shard.owns(i)));
            tried.extend(mine);
        }
    }
    tried.sort_unstable();
    assert_eq!(
        tried,
        (0..n).collect::<Vec<_>>(),
        "every index exactly once"
    );
}

#[test]
fn a_resumed_chunk_stays_inside_its_range() {
    let dir = tempfile::tempdir().unwrap();
    // Slow enough that the cancel after two batches comes long before the chunk's end.
    let line = sesame_crack::synthetic_line(b"absent", Some(20_000), 2);
    let chunk = Chunk::new(30, Some(20));
    let shard = Shard::ALL;
    let (report, first) = go(
        request(dir.path(), &line, plan(100), shard, chunk),
        shard,
        |b, h| {
            if b == 2 {
                h.cancel();
            }
        },
    );
    assert_eq!(report.outcome, RecoveryOutcome::Interrupted);
    assert_eq!(first.resume_from, Some(30));
    assert_eq!(first.total, Some(20));
    let at = report.progress.as_ref().unwrap().position;
    assert!((32..50).contains(&at), "{at}");
    let (report, second) = go(
        request(dir.path(), &line, plan(100), shard, chunk),
        shard,
        |_, _| {},
    );
    assert_eq!(report.outcome, RecoveryOutcome::Exhausted);
    assert_eq!(second.resume_from, Some(at));
    assert_eq!(report.progress.as_ref().unwrap().position, 50);
    let mut all = first.tried.clone();
    all.extend(&second.tried);
    all.sort_unstable();
    all.dedup();
    assert_eq!(all, (30..50).collect::<Vec<_>>());
    assert!(second.tried.iter().all(|&i| i >= at));
    // Another chunk of the same stream is another session, not a resume of this one.
    let (_, other) = go(
        request(dir.path(), &line, plan(100), shard, Chunk::new(50, Some(2))),
        shard,
        |_, _| {},
    );
    assert_eq!(other.resume_from, Some(50));
    assert_eq!(other.tried, vec![50, 51]);
}

#[test]
fn the_finder_writes_the_found_file_and_a_late_starter_stops_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let ff = dir.path().join("shared/found");
    let line = sesame_crack::synthetic_line(b"word13", None, 2);
    // Shard 2/3 owns index 13.
    let finder = Shard::new(2, 3).unwrap();
    let mut req = request(dir.path(), &line, plan(60), finder, Chunk::ALL);
    req.found_file = Some(ff.clone());
    let (report, seen) = go(req, finder, |_, _| {});
    assert_eq!(report.outcome, RecoveryOutcome::Found);
    assert!(!report.found[0].from_found_file && report.found[0].index == Some(13));
    assert!(seen.known.is_empty());
    let text = std::fs::read_to_string(&ff).unwrap();
    assert_eq!(text, format!("{line}:word13\n"));
    // The finder's potfile line is the one a single machine writes.
    let pot = std::fs::read_to_string(dir.path().join("sesame.potfile")).unwrap();
    assert_eq!(pot, format!("{line}:word13\n"));

    // Shard 1/3 starts after the find (its own potfile): it tries nothing and has the answer.
    let other = tempfile::tempdir().unwrap();
    let shard = Shard::new(1, 3).unwrap();
    let mut req = request(other.path(), &line, plan(60), shard, Chunk::ALL);
    req.found_file = Some(ff.clone());
    let (report, seen) = go(req, shard, |_, _| {});
    assert_eq!(report.outcome, RecoveryOutcome::Found);
    assert!(seen.tried.is_empty());
    assert_eq!(seen.known, vec![(0, b"word13".to_vec(), true)]);
    assert!(report.found[0].from_found_file);
}

#[test]
fn a_running_process_stops_between_batches_on_a_checked_password() {
    let dir = tempfile::tempdir().unwrap();
    let ff = dir.path().join("found");
    // The password is at index 5, which shard 2/2 owns: shard 1/2 never finds it itself.
    let line = sesame_crack::synthetic_line(b"word5", Some(2_000), 2);
    let shard = Shard::new(1, 2).unwrap();
    let mut req = request(dir.path(), &line, plan(400), shard, Chunk::ALL);
    req.found_file = Some(ff.clone());
    let (report, seen) = go(req, shard, |b, _| {
        if b == 2 {
            // A wrong password first: a warning, the search goes on.
            std::fs::write(&ff, format!("{line}:not-the-password\n")).unwrap();
        }
        if b == 4 {
            // Then the other process's find (written as it writes it).
            std::fs::remove_file(&ff).unwrap();
            FoundFile::new(&ff).record(&line, b"word5").unwrap();
        }
    });
    assert_eq!(report.outcome, RecoveryOutcome::Found);
    assert_eq!(seen.known, vec![(0, b"word5".to_vec(), true)]);
    assert_eq!(
        seen.warnings,
        vec![format!("{:?}", Warning::FoundFileWrong { target: 0 })]
    );
    assert!(
        seen.tried.len() < 20,
        "stopped soon after the file: {}",
        seen.tried.len()
    );
    assert!(report.found[0].from_found_file);
    // The session says found: a rerun does not search again.
    let sessions: Vec<_> = std::fs::read_dir(dir.path().join("sessions"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    assert!(
        sessions[0].contains("\"finished\": \"found\""),
        "{sessions:?}"
    );
}

#[test]
fn with_two_targets_only_the_missing_one_is_taken_from_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let ff = dir.path().join("found");
    let a = sesame_crack::synthetic_line(b"word3", Some(2_000), 2);
    let b = sesame_crack::synthetic_line(b"word390", Some(2_000), 2);
    let mut req = request(dir.path(), &a, plan(400), Shard::ALL, Chunk::ALL);
    req.targets.push(Target {
        label: "b".into(),
        line: b.clone(),
    });
    req.found_file = Some(ff.clone());
    let (report, seen) = go(req, Shard::ALL, |n, _| {
        // Past index 3 (found here, and written to the file by this process): another
        // process's find of the second target joins it in the file.
        if n == 6 {
            let text = std::fs::read_to_string(&ff).unwrap();
            assert_eq!(text, format!("{a}:word3\n"));
            FoundFile::new(&ff).record(&b, b"word390").unwrap();
        }
    });
    assert_eq!(report.outcome, RecoveryOutcome::Found);
    // Only the second target came from the file; the first is this process's own find.
    assert_eq!(seen.known, vec![(1, b"word390".to_vec(), true)]);
    let mine: Vec<(usize, bool)> = report
        .found
        .iter()
        .map(|f| (f.target, f.from_found_file))
        .collect();
    assert_eq!(mine, vec![(0, false), (1, true)]);
    assert!(
        seen.tried.len() < 390,
        "stopped before reaching the second password itself"
    );
}
