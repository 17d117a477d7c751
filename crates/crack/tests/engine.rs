//! The engine end to end on hash lines built here: every source, both schemes, several targets,
//! shards that partition the stream, checkpoints that never pass an unfinished guess, cancel.

use rand::RngCore;
use sesame_backup::{aeskw, kdf, HashLine};
use sesame_crack::{run, CpuDevice, Device, EngineConfig, Event, Outcome, Report};
use sesame_guess::{
    common::CommonSource, mask::Mask, mask::MaskSource, pins::PinSource, rules::Rules,
    rules::RulesSource, wordlist::Wordlist, GuessError, GuessIter, Plan, Shard, Source,
};
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

mod common;
use common::{wait_for_flag, Hooked};

/// A hash line whose password is `password`: random class key wrapped with the derived key.
fn line_for(password: &[u8], dp: Option<u32>, iterations: u32) -> HashLine {
    let mut rng = rand::thread_rng();
    let mut class_key = [0u8; 32];
    rng.fill_bytes(&mut class_key);
    let mut salt = vec![0u8; 20];
    rng.fill_bytes(&mut salt);
    let mut dpsl = vec![0u8; 20];
    rng.fill_bytes(&mut dpsl);
    let params = sesame_backup::KdfParams {
        salt: salt.clone(),
        iterations,
        dp: dp.map(|n| (dpsl.clone(), n)),
    };
    let key = kdf::derive(password, &params);
    let wpky: [u8; 40] = aeskw::wrap(&key, &class_key).try_into().unwrap();
    let line = HashLine {
        version: if dp.is_some() { 10 } else { 9 },
        wpky,
        iterations,
        salt,
        dp: dp.map(|n| (n, dpsl)),
    };
    assert!(line.verify(password));
    line
}

/// Guesses given in a list: a source for tests.
struct List(Vec<Vec<u8>>);
impl Source for List {
    fn name(&self) -> String {
        format!("{} test words", self.0.len())
    }
    fn len(&self) -> Option<u64> {
        Some(self.0.len() as u64)
    }
    fn iter_from(&self, start: u64) -> Result<GuessIter<'_>, GuessError> {
        let s = (start as usize).min(self.0.len());
        Ok(Box::new(self.0[s..].iter().cloned().map(Ok)))
    }
    fn fingerprint(&self) -> String {
        format!("list {:?}", self.0)
    }
}

fn words(n: usize) -> List {
    List((0..n).map(|i| format!("word{i}").into_bytes()).collect())
}

fn plan_of(sources: Vec<Box<dyn Source>>) -> Arc<Plan> {
    let mut p = Plan::new();
    for s in sources {
        p.push(s);
    }
    Arc::new(p)
}

fn cfg() -> EngineConfig {
    EngineConfig {
        threads: 2,
        progress_interval: Duration::from_millis(20),
        checkpoint_interval: Duration::from_millis(20),
        ..EngineConfig::default()
    }
}

/// Runs and collects every batch's indices and every checkpoint.
struct Trace {
    report: Report,
    tried: Vec<u64>,
    checkpoints: Vec<u64>,
}

fn run_traced(plan: Arc<Plan>, targets: &[HashLine], cfg: &EngineConfig) -> Trace {
    let mut tried = Vec::new();
    let mut checkpoints = Vec::new();
    let report = run(plan, targets, cfg, &mut |e| match e {
        Event::BatchDone { indices, .. } => tried.extend_from_slice(indices),
        Event::Checkpoint(p) => checkpoints.push(p.position),
        _ => {}
    })
    .unwrap();
    // Every checkpoint only counts finished work: all owned indices below it were tried.
    let set: BTreeSet<u64> = tried.iter().copied().collect();
    for w in checkpoints.windows(2) {
        assert!(w[0] <= w[1], "checkpoint went backwards: {checkpoints:?}");
    }
    Trace {
        report,
        tried,
        checkpoints,
    }
    .check_prefix(&set, cfg.shard, cfg.start)
}

impl Trace {
    fn check_prefix(self, set: &BTreeSet<u64>, shard: Shard, start: u64) -> Self {
        let last = *self.checkpoints.last().unwrap();
        for i in start..last {
            if shard.owns(i) && self.report.outcome != Outcome::Exhausted {
                // Gaps are possible only at indices the plan does not hold (rules); the lists
                // used with checkpoints here have none.
                assert!(
                    set.contains(&i),
                    "checkpoint {last} passed untried index {i}"
                );
            }
        }
        self
    }
}

fn found_password(r: &Report) -> Vec<u8> {
    assert_eq!(r.outcome, Outcome::Found);
    r.found[0].password.to_vec()
}

#[test]
fn finds_in_wordlist_scheme_9_and_10() {
    let dir = tempfile::tempdir().unwrap();
    let wl = dir.path().join("words.txt");
    let mut text = String::new();
    for i in 0..300 {
        text.push_str(&format!("candidate{i}\n"));
    }
    text.push_str("Tr0ub4dor&3\n");
    std::fs::write(&wl, text).unwrap();
    for dp in [None, Some(50)] {
        let line = line_for(b"Tr0ub4dor&3", dp, 20);
        let plan = plan_of(vec![Box::new(Wordlist::open(&wl).unwrap())]);
        let t = run_traced(plan, &[line], &cfg());
        assert_eq!(found_password(&t.report), b"Tr0ub4dor&3");
        assert_eq!(t.report.found[0].index, 300);
    }
}

#[test]
fn finds_with_rules_mask_common_pins() {
    // rules: "password" -> "Password1"
    let rules = Rules::parse("l\nc $1\n", "test.rule").unwrap();
    let base = words(5);
    let mut list = base.0.clone();
    list.push(b"password".to_vec());
    let plan = plan_of(vec![Box::new(
        RulesSource::new(Box::new(List(list)), rules).unwrap(),
    )]);
    let t = run_traced(plan, &[line_for(b"Password1", Some(20), 10)], &cfg());
    assert_eq!(found_password(&t.report), b"Password1");

    let mask = Mask::parse("?1?d?d", [Some("xyz"), None, None, None]).unwrap();
    let plan = plan_of(vec![Box::new(MaskSource::new(mask))]);
    let t = run_traced(plan, &[line_for(b"z42", None, 30)], &cfg());
    assert_eq!(found_password(&t.report), b"z42");

    let mask = Mask::parse("?d?d?d", [None; 4]).unwrap();
    let plan = plan_of(vec![Box::new(
        MaskSource::with_increment(mask, Some(1), None)
            .unwrap()
            .plain_order(),
    )]);
    let t = run_traced(plan, &[line_for(b"77", Some(10), 10)], &cfg());
    assert_eq!(found_password(&t.report), b"77");
    assert_eq!(t.report.found[0].index, 10 + 77);

    let common = sesame_guess::common::ranked()[500].as_bytes().to_vec();
    let plan = plan_of(vec![Box::new(CommonSource::top(2000))]);
    let t = run_traced(plan, &[line_for(&common, None, 5)], &cfg());
    assert_eq!(found_password(&t.report), common);
    assert_eq!(t.report.found[0].index, 500);

    let pin = PinSource::new().nth(9_000).unwrap();
    let plan = plan_of(vec![Box::new(PinSource::new())]);
    let t = run_traced(plan, &[line_for(&pin, None, 2)], &cfg());
    assert_eq!(found_password(&t.report), pin);
}

#[test]
fn finds_from_hints() {
    let mut hints = sesame_guess::hints::Hints::default();
    hints
        .add_flags(&["rex".into()], &["1990-05-17".into()], &[], &[])
        .unwrap();
    let plan = Arc::new(sesame_guess::hints::default_plan(Some(&hints)));
    // Some guess the hints model makes from "rex" and the date, early in its stream.
    let target_guess = plan
        .iter_from(0)
        .unwrap()
        .map(|r| r.unwrap().1)
        .find(|g| g.windows(3).any(|w| w.eq_ignore_ascii_case(b"rex")) && g.len() > 4)
        .expect("the hints stream uses the word");
    let t = run_traced(plan, &[line_for(&target_guess, Some(5), 5)], &cfg());
    assert_eq!(found_password(&t.report), target_guess);
}

#[test]
fn exhausted_when_absent_and_checkpoint_at_end() {
    let plan = plan_of(vec![Box::new(words(100))]);
    let t = run_traced(plan, &[line_for(b"nope", Some(10), 10)], &cfg());
    assert_eq!(t.report.outcome, Outcome::Exhausted);
    assert_eq!(t.report.progress.position, 100);
    let set: BTreeSet<u64> = t.tried.iter().copied().collect();
    assert_eq!(set.len(), 100);
    assert_eq!(t.tried.len(), 100, "a guess was tried twice");
}

#[test]
fn several_targets_share_work_and_all_are_found() {
    let a = line_for(b"word3", Some(20), 10);
    // Same KDF parameters as `a`, another password: one group.
    let mut class_key = [7u8; 32];
    class_key[0] = 1;
    let key = kdf::derive(b"word77", &a.kdf_params());
    let b = HashLine {
        wpky: aeskw::wrap(&key, &class_key).try_into().unwrap(),
        ..a.clone()
    };
    let c = line_for(b"word50", None, 10);
    let plan = plan_of(vec![Box::new(words(200))]);
    let t = run_traced(plan, &[a, b, c], &cfg());
    assert_eq!(t.report.outcome, Outcome::Found);
    let mut got: Vec<(usize, Vec<u8>)> = t
        .report
        .found
        .iter()
        .map(|f| (f.target, f.password.to_vec()))
        .collect();
    got.sort();
    assert_eq!(
        got,
        vec![
            (0, b"word3".to_vec()),
            (1, b"word77".to_vec()),
            (2, b"word50".to_vec())
        ]
    );
}

#[test]
fn shards_partition_the_stream_exactly() {
    let target = [line_for(b"absent", None, 1)];
    for n in [1u64, 2, 3, 7] {
        let mut all: Vec<u64> = Vec::new();
        for k in 1..=n {
            let plan = plan_of(vec![Box::new(words(50)), Box::new(words(33))]);
            let c = EngineConfig {
                shard: Shard::new(k, n).unwrap(),
                batch_size: Some(4),
                ..cfg()
            };
            let t = run_traced(plan, &target, &c);
            assert_eq!(t.report.outcome, Outcome::Exhausted);
            assert!(t.tried.iter().all(|&i| i % n == k - 1), "shard {k}/{n}");
            assert_eq!(
                t.report.progress.total,
                Some(Shard::new(k, n).unwrap().count(83))
            );
            all.extend(t.tried);
        }
        all.sort();
        assert_eq!(all, (0..83).collect::<Vec<_>>(), "shards of {n}");
    }
}

#[test]
fn resume_from_a_checkpoint_tries_exactly_the_rest() {
    let target = [line_for(b"absent", None, 1)];
    let plan = plan_of(vec![Box::new(words(120))]);
    let c = EngineConfig {
        start: 45,
        batch_size: Some(8),
        ..cfg()
    };
    let t = run_traced(plan, &target, &c);
    let mut tried = t.tried.clone();
    tried.sort();
    assert_eq!(tried, (45..120).collect::<Vec<_>>());
}

#[test]
fn cancel_checkpoints_below_every_unfinished_guess() {
    let target = [line_for(b"absent", Some(20_000), 10)];
    let n = 100_000;
    let plan = plan_of(vec![Box::new(words(n))]);
    let c = EngineConfig {
        batch_size: Some(4),
        ..cfg()
    };
    let cancel = c.cancel.clone();
    let mut tried: Vec<u64> = Vec::new();
    let mut batches = 0;
    // Cancel from inside, after some batches: as Ctrl-C would, mid-stream.
    let report = run(plan, &target, &c, &mut |e| {
        if let Event::BatchDone { indices, .. } = e {
            tried.extend_from_slice(indices);
            batches += 1;
            if batches == 10 {
                cancel.store(true, Ordering::SeqCst);
            }
        }
    })
    .unwrap();
    assert_eq!(report.outcome, Outcome::Interrupted);
    let pos = report.progress.position;
    // Batches finish out of order: the position is the lowest unfinished one, wherever it is.
    assert!(pos < n as u64 && tried.len() >= 40, "{pos}");
    let set: BTreeSet<u64> = tried.iter().copied().collect();
    assert!((0..pos).all(|i| set.contains(&i)));
}

#[test]
fn a_source_error_mid_stream_is_an_error_with_an_exact_checkpoint() {
    struct Failing;
    impl Source for Failing {
        fn name(&self) -> String {
            "failing".into()
        }
        fn len(&self) -> Option<u64> {
            Some(100)
        }
        fn iter_from(&self, start: u64) -> Result<GuessIter<'_>, GuessError> {
            Ok(Box::new((start..100).map(|i| {
                if i == 30 {
                    Err(GuessError::Unsupported {
                        source_name: "failing".into(),
                        msg: "broken at 30".into(),
                    })
                } else {
                    Ok(format!("w{i}").into_bytes())
                }
            })))
        }
        fn fingerprint(&self) -> String {
            "failing".into()
        }
    }
    let plan = plan_of(vec![Box::new(Failing)]);
    let mut last = None;
    let err = run(
        plan,
        &[line_for(b"absent", None, 1)],
        &EngineConfig {
            batch_size: Some(7),
            ..cfg()
        },
        &mut |e| {
            if let Event::Checkpoint(p) = e {
                last = Some(p.position)
            }
        },
    )
    .unwrap_err();
    assert!(err.to_string().contains("broken at 30"), "{err}");
    assert!(last.unwrap() <= 30);
}

/// GPUs for the tests: with CPU drivers allowed, Mesa's lavapipe (a CPU Vulkan driver) counts,
/// so these run without GPU hardware. Self-checked once per process; `None`, with a visible
/// message, where no adapter exists at all.
fn test_gpus() -> Option<Vec<Arc<sesame_crack::GpuDevice>>> {
    static GPUS: std::sync::OnceLock<Vec<Arc<sesame_crack::GpuDevice>>> =
        std::sync::OnceLock::new();
    let gpus = GPUS.get_or_init(|| {
        let (devices, notes) =
            sesame_crack::gpu::discover_checked_with(sesame_crack::gpu::Discovery {
                allow_cpu_drivers: true,
                ..sesame_crack::gpu::Discovery::from_env()
            });
        if devices.is_empty() {
            // In CI a missing GPU adapter is a failure, never a silent pass.
            assert!(
                std::env::var_os("SESAME_REQUIRE_GPU").is_none(),
                "SESAME_REQUIRE_GPU is set but a GPU adapter (Mesa's lavapipe in CI) is missing"
            );
            eprintln!("SKIPPED: no GPU adapter found ({})", notes.join("; "));
        }
        devices.into_iter().map(Arc::new).collect()
    });
    (!gpus.is_empty()).then(|| gpus.clone())
}

/// Runs and records, per batch, who did it and its indices.
fn run_by_device(
    plan: Arc<Plan>,
    targets: &[HashLine],
    cfg: &EngineConfig,
) -> (Report, Vec<(String, Vec<u64>)>) {
    let mut batches = Vec::new();
    let mut checkpoints = Vec::new();
    let report = run(plan, targets, cfg, &mut |e| match e {
        Event::BatchDone {
            indices, device, ..
        } => batches.push((device.to_string(), indices.to_vec())),
        Event::Checkpoint(p) => checkpoints.push(p.position),
        _ => {}
    })
    .unwrap();
    for w in checkpoints.windows(2) {
        assert!(w[0] <= w[1], "checkpoint went backwards: {checkpoints:?}");
    }
    (report, batches)
}

#[test]
fn gpu_alone_recovers_both_schemes() {
    let Some(gpus) = test_gpus() else { return };
    // Two targets, one per scheme: two groups, each derived on the GPU.
    let targets = [
        line_for(b"word157", Some(3), 4),
        line_for(b"word42", None, 5),
    ];
    let cfg = EngineConfig {
        cpu: false,
        gpus: gpus.clone(),
        gpu_batch_size: Some(16),
        ..cfg()
    };
    let (report, batches) = run_by_device(plan_of(vec![Box::new(words(300))]), &targets, &cfg);
    assert_eq!(report.outcome, Outcome::Found);
    let mut found: Vec<(usize, Vec<u8>, u64)> = report
        .found
        .iter()
        .map(|f| (f.target, f.password.to_vec(), f.index))
        .collect();
    found.sort();
    assert_eq!(
        found,
        vec![(0, b"word157".to_vec(), 157), (1, b"word42".to_vec(), 42)]
    );
    assert!(!batches.is_empty());
    for (device, indices) in &batches {
        assert_ne!(device, "CPU", "a CPU batch in a GPU-only run");
        assert!(indices.len() <= 16);
    }
    // Every GPU appears in the final progress; no CPU entry.
    let names: Vec<&str> = report
        .progress
        .devices
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(names.len(), gpus.len(), "{names:?}");
    assert!(!names.contains(&"CPU"));
    // One run per scheme alone, with a password longer than the 64-byte HMAC block.
    let long = vec![b'L'; 80];
    for dp in [Some(2), None] {
        let mut list = words(40).0;
        list.push(long.clone());
        let cfg = EngineConfig {
            cpu: false,
            gpus: gpus.clone(),
            gpu_batch_size: Some(7),
            ..cfg.clone()
        };
        let t = run_traced(
            plan_of(vec![Box::new(List(list))]),
            &[line_for(&long, dp, 3)],
            &cfg,
        );
        assert_eq!(found_password(&t.report), long);
        assert_eq!(t.report.found[0].index, 40);
    }
}

#[test]
fn cpu_and_gpu_together_try_every_index_exactly_once() {
    let Some(gpus) = test_gpus() else { return };
    let n = 2_000u64;
    for (shard, dp) in [(Shard::ALL, Some(2)), (Shard::new(2, 3).unwrap(), None)] {
        // The CPU waits until a GPU call has begun: otherwise it may finish the short plan
        // before a GPU thread scheduled late takes its first batch (as on a loaded 2-core
        // machine), and the two never run together.
        let gpu_started = Arc::new(AtomicBool::new(false));
        let gate = gpu_started.clone();
        let mut devices: Vec<Arc<dyn Device>> = vec![Hooked::new(
            Arc::new(CpuDevice {
                kernel: cfg().kernel,
                threads: 2,
            }),
            move |stop| wait_for_flag(&gate, stop),
        )];
        for g in &gpus {
            let started = gpu_started.clone();
            devices.push(Hooked::new(g.clone(), move |_| {
                started.store(true, Ordering::SeqCst)
            }));
        }
        let cfg = EngineConfig {
            cpu: false,
            devices,
            batch_size: Some(5),
            gpu_batch_size: Some(64),
            shard,
            ..cfg()
        };
        // Absent from the list: every batch runs to the end.
        let target = line_for(b"not in the list", dp, 3);
        let (report, batches) =
            run_by_device(plan_of(vec![Box::new(words(n as usize))]), &[target], &cfg);
        assert_eq!(report.outcome, Outcome::Exhausted);
        assert_eq!(report.progress.position, n);
        let mut all: Vec<u64> = batches.iter().flat_map(|(_, i)| i.clone()).collect();
        all.sort_unstable();
        let expected: Vec<u64> = (0..n).filter(|&i| shard.owns(i)).collect();
        assert_eq!(all, expected, "some index tried twice or never");
        let devices: BTreeSet<&str> = batches.iter().map(|(d, _)| d.as_str()).collect();
        assert!(devices.contains("CPU"), "the CPU did nothing: {devices:?}");
        assert!(
            devices.iter().any(|d| *d != "CPU"),
            "no GPU did anything: {devices:?}"
        );
        for (device, indices) in &batches {
            let cap = if device == "CPU" { 5 } else { 64 };
            assert!(indices.len() <= cap, "{device}: batch of {}", indices.len());
        }
        // Per-device counts add up to the total.
        let per: u64 = report.progress.devices.iter().map(|d| d.tried).sum();
        assert_eq!(per, expected.len() as u64);
        assert_eq!(report.progress.devices.len(), 1 + gpus.len());
    }
}

#[test]
fn no_cpu_and_no_gpu_is_an_error() {
    let cfg = EngineConfig {
        cpu: false,
        ..cfg()
    };
    let e = run(
        plan_of(vec![Box::new(words(3))]),
        &[line_for(b"x", None, 1)],
        &cfg,
        &mut |_| {},
    )
    .unwrap_err();
    assert!(matches!(e, sesame_crack::CrackError::NoDevice), "{e}");
}
