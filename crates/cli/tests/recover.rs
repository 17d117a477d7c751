//! `sesame recover` and `sesame candidates` end to end, through the built binary: every source,
//! both key schemes, the potfile, sessions that survive SIGKILL without skipping a guess,
//! shards, the real 10,000,000-iteration fixture line, and clear errors for bad input.

use sesame_backup::HashLine;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A hash line for `password` (random class key wrapped with the reference-derived key).
fn line_for(password: &[u8], dpic: Option<u32>, iterations: u32) -> HashLine {
    let line = sesame_crack::synthetic_line(password, dpic, iterations);
    assert!(line.verify(password));
    line
}

/// A private Sesame home (potfile, sessions) for one test.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }
    fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sesame"));
        c.args(args)
            .env("SESAME_HOME", self.home())
            .env_remove("SESAME_POTFILE")
            .env_remove("SESAME_PASSWORD")
            .stdin(Stdio::null());
        c
    }
    fn run(&self, args: &[&str]) -> Output {
        self.cmd(args).output().unwrap()
    }
    fn potfile(&self) -> String {
        std::fs::read_to_string(self.home().join("sesame.potfile")).unwrap_or_default()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Asserts exit 0 and that stdout is the password.
fn assert_found(out: &Output, password: &str) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "stdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    assert_eq!(
        text(&out.stdout),
        format!("{password}\n"),
        "stderr: {}",
        text(&out.stderr)
    );
}

fn assert_error(out: &Output, needles: &[&str]) {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "stderr: {err}");
    for n in needles {
        assert!(err.contains(n), "{n:?} not in: {err}");
    }
    assert!(!err.contains("panicked"), "{err}");
}

#[test]
fn wordlist_both_schemes_and_the_potfile() {
    let env = Env::new();
    let mut words = String::new();
    for i in 0..150 {
        words.push_str(&format!("guess{i}\n"));
    }
    words.push_str("s3cret!\n");
    let wl = env.file("words.txt", words.as_bytes());
    for dpic in [None, Some(100)] {
        let line = line_for(b"s3cret!", dpic, 50).to_string();
        let out = env.run(&["recover", &line, "--wordlist", wl.to_str().unwrap()]);
        assert_found(&out, "s3cret!");
        let err = text(&out.stderr);
        assert!(
            err.contains("guesses") && err.contains("about"),
            "plan not printed: {err}"
        );
        assert!(env.potfile().contains(&format!("{line}:s3cret!\n")));
        // Again: the potfile answers at once.
        let out = env.run(&["recover", &line, "--wordlist", wl.to_str().unwrap()]);
        assert_found(&out, "s3cret!");
        assert!(text(&out.stderr).contains("potfile"));
    }
}

#[test]
fn rules_mask_common_pins_and_hints() {
    let env = Env::new();
    let wl = env.file("w.txt", b"alpha\nsummer\nbravo\n");
    let rules = env.file("r.rule", b":\nc $2 $0 $2 $4\n");
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "Summer2024",
            vec![
                "--wordlist".into(),
                wl.display().to_string(),
                "--rules".into(),
                rules.display().to_string(),
            ],
        ),
        (
            "ab7",
            vec!["--mask".into(), "?1?1?d".into(), "-1".into(), "ab".into()],
        ),
        (
            "x9",
            vec!["--mask".into(), "?l?d?d".into(), "--increment".into()],
        ),
        ("qwerty", vec!["--common".into()]),
        ("1313", vec!["--pins".into()]),
        (
            "rex1990",
            vec![
                "--word".into(),
                "rex".into(),
                "--date".into(),
                "1990-05-17".into(),
            ],
        ),
    ];
    for (i, (pw, args)) in cases.iter().enumerate() {
        let dpic = (i % 2 == 0).then_some(20);
        let line = line_for(pw.as_bytes(), dpic, 10).to_string();
        let mut a: Vec<&str> = vec!["recover", &line];
        a.extend(args.iter().map(String::as_str));
        let out = env.run(&a);
        assert_found(&out, pw);
    }
}

#[test]
fn default_plan_is_printed_and_finds_a_common_password() {
    let env = Env::new();
    let line = line_for(b"letmein", None, 10).to_string();
    let out = env.run(&["recover", &line]);
    assert_found(&out, "letmein");
    assert!(
        text(&out.stderr).contains("Default plan"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn exhausted_exits_1_and_json_reports_it() {
    let env = Env::new();
    let wl = env.file("w.txt", b"one\ntwo\nthree\n");
    let line = line_for(b"four", Some(10), 10).to_string();
    let out = env.run(&[
        "recover",
        &line,
        "--wordlist",
        wl.to_str().unwrap(),
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines[0]["event"], "plan");
    assert_eq!(lines[0]["total"], 3);
    let last = lines.last().unwrap();
    assert_eq!(last["event"], "result");
    assert_eq!(last["status"], "exhausted");
    assert_eq!(last["done"], 3);
    // The same command again knows the session is exhausted.
    let out = env.run(&["recover", &line, "--wordlist", wl.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--fresh"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn json_found_object() {
    let env = Env::new();
    let line = line_for(b"42", None, 10).to_string();
    let out = env.run(&[
        "recover",
        &line,
        "--mask",
        "?d?d",
        "--markov-disable",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0));
    let last: serde_json::Value =
        serde_json::from_str(text(&out.stdout).lines().last().unwrap()).unwrap();
    assert_eq!(last["status"], "found");
    assert_eq!(last["found"][0]["password"], "42");
    assert_eq!(last["found"][0]["index"], 42);
}

#[test]
fn shards_split_the_work_between_processes() {
    let env = Env::new();
    let words: String = (0..40).map(|i| format!("w{i}\n")).collect();
    let wl = env.file("w.txt", words.as_bytes());
    // Index 13: 13 mod 3 = 1, so shard 2/3 owns it.
    let line = line_for(b"w13", None, 10).to_string();
    for (k, code) in [("1/3", 1), ("2/3", 0), ("3/3", 1)] {
        // As on separate machines: each with its own potfile.
        let pot = env.dir.path().join(format!("pot{}", &k[..1]));
        let out = env.run(&[
            "recover",
            &line,
            "-w",
            wl.to_str().unwrap(),
            "--shard",
            k,
            "--potfile",
            pot.to_str().unwrap(),
        ]);
        assert_eq!(
            out.status.code(),
            Some(code),
            "shard {k}: {}",
            text(&out.stderr)
        );
    }
    // candidates prints exactly the shard's guesses.
    let mut all = Vec::new();
    for k in ["1/3", "2/3", "3/3"] {
        let out = env.run(&["candidates", "-w", wl.to_str().unwrap(), "--shard", k]);
        all.extend(text(&out.stdout).lines().map(String::from));
    }
    all.sort();
    let mut want: Vec<String> = (0..40).map(|i| format!("w{i}")).collect();
    want.sort();
    assert_eq!(all, want);
}

#[test]
fn candidates_prints_the_stream() {
    let env = Env::new();
    let plain = ["candidates", "--mask", "?d?d", "--markov-disable"];
    let out = env.run(&[&plain[..], &["--limit", "3"]].concat());
    assert_eq!(text(&out.stdout), "00\n01\n02\n");
    let out = env.run(&[&plain[..], &["--skip", "98"]].concat());
    assert_eq!(text(&out.stdout), "98\n99\n");
    // Likeliest first (the default): the same 100 guesses, and --skip resumes inside that order.
    let all = text(&env.run(&["candidates", "--mask", "?d?d"]).stdout).to_string();
    let lines: Vec<&str> = all.lines().collect();
    assert_eq!(lines.len(), 100);
    let tail = text(
        &env.run(&["candidates", "--mask", "?d?d", "--skip", "98"])
            .stdout,
    )
    .to_string();
    assert_eq!(tail.lines().collect::<Vec<_>>(), lines[98..]);
    let wl = env.file("w.txt", b"ab\ncd\n");
    let rules = env.file("r.rule", b":\nu\n");
    let out = env.run(&[
        "candidates",
        "-w",
        wl.to_str().unwrap(),
        "-r",
        rules.to_str().unwrap(),
    ]);
    assert_eq!(text(&out.stdout), "ab\nAB\ncd\nCD\n");
    // The default plan is the one recover runs without sources.
    let out = env.run(&["candidates", "--limit", "2"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout).lines().count(), 2);
}

#[test]
fn bad_input_gives_clear_errors() {
    let env = Env::new();
    let line = line_for(b"x", None, 10).to_string();
    let bad_rule = env.file("bad.rule", b":\nc $1\nZZZ?\n");
    let wl = env.file("w.txt", b"a\n");
    let missing = env.dir.path().join("nope.txt");
    assert_error(
        &env.run(&["recover", &line, "--mask", "?d?x"]),
        &["mask", "?d?x"],
    );
    assert_error(
        &env.run(&["recover", &line, "--mask", "?1?d"]),
        &["mask", "?1"],
    );
    assert_error(
        &env.run(&[
            "recover",
            &line,
            "-w",
            wl.to_str().unwrap(),
            "-r",
            bad_rule.to_str().unwrap(),
        ]),
        &["bad.rule", "line 3"],
    );
    assert_error(
        &env.run(&["recover", &line, "-w", missing.to_str().unwrap()]),
        &["nope.txt"],
    );
    assert_error(&env.run(&["candidates", "--mask", "?"]), &["mask"]);
    // No usable GPU (turned off, so this holds on machines with one too): exit 2, clear message.
    assert_error(
        &env.cmd(&["recover", &line, "--pins", "--device", "gpu"])
            .env("SESAME_GPU_DISABLE", "1")
            .output()
            .unwrap(),
        &["--device gpu", "no usable GPU found", "--device cpu"],
    );
    assert_error(
        &env.run(&["recover", &line, "--shard", "4/3", "--pins"]),
        &["shard", "4/3"],
    );
    assert_error(
        &env.run(&["recover", "$itunes_backup$*9*zz", "--pins"]),
        &["hash line"],
    );
}

/// Session checkpoints, SIGKILL, resume: the resumed run starts at the saved position, the
/// first run had finished every guess below it, and the two runs together tried every index
/// up to the password.
#[test]
fn resume_after_sigkill_skips_nothing() {
    let env = Env::new();
    let n = 400;
    let words: String = (0..n).map(|i| format!("word{i}\n")).collect();
    let wl = env.file("w.txt", words.as_bytes());
    let target = n - 20;
    // Slow enough per guess that the run lasts seconds on one thread.
    let line = line_for(format!("word{target}").as_bytes(), Some(200_000), 10).to_string();
    let trace = env.dir.path().join("trace.txt");
    let args = [
        "recover",
        &line,
        "-w",
        wl.to_str().unwrap(),
        "--threads",
        "1",
        // One CPU thread: slow enough to be killed midway (a GPU, even lavapipe, is not).
        "--device",
        "cpu",
        "--batch-size",
        "4",
        "--checkpoint-interval",
        "0.2",
        "--trace-file",
        trace.to_str().unwrap(),
    ];
    let mut child = env
        .cmd(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let sessions = env.home().join("sessions");
    let t0 = Instant::now();
    let saved = loop {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "no checkpoint written"
        );
        if let Some(pos) = session_position(&sessions) {
            if pos >= 40 {
                break pos;
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            panic!("finished before it could be killed ({status}); make the target slower");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let at_kill = session_position(&sessions).unwrap();
    assert!(at_kill >= saved);
    assert!(at_kill < target as u64, "killed too late");

    let out = env.run(&args);
    assert_found(&out, &format!("word{target}"));
    let err = text(&out.stderr);
    assert!(
        err.contains("Resuming session") && err.contains(&format!("from guess {at_kill}")),
        "{err}"
    );

    // Run 1 finished every index below the checkpoint; run 2 started there and went on.
    let trace = std::fs::read_to_string(&trace).unwrap();
    let runs: Vec<&str> = trace.split("start ").filter(|s| !s.is_empty()).collect();
    assert_eq!(runs.len(), 2, "{trace}");
    let ranges = |run: &str| -> (u64, Vec<(u64, u64)>) {
        let mut lines = run.lines();
        let start: u64 = lines.next().unwrap().trim().parse().unwrap();
        let r = lines
            .map(|l| {
                let v: Vec<u64> = l.split(' ').map(|x| x.parse().unwrap()).collect();
                (v[0], v[1])
            })
            .collect();
        (start, r)
    };
    let (s1, r1) = ranges(runs[0]);
    let (s2, r2) = ranges(runs[1]);
    assert_eq!(s1, 0);
    assert_eq!(s2, at_kill);
    let covered = |r: &[(u64, u64)], i: u64| r.iter().any(|&(lo, hi)| lo <= i && i < hi);
    for i in 0..at_kill {
        assert!(
            covered(&r1, i),
            "index {i} below the checkpoint was not finished by run 1"
        );
    }
    for i in at_kill..=target as u64 {
        assert!(covered(&r2, i), "index {i} was skipped by the resumed run");
    }
}

fn session_position(dir: &Path) -> Option<u64> {
    let entry = std::fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .find(|e| e.path().extension().is_some_and(|x| x == "json"))?;
    let text = std::fs::read_to_string(entry.path()).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["position"].as_u64()
}

/// The password and real iOS 10.2+ line (DPIC 10,000,000) of the shared fixtures; `None`, with
/// a visible message, where they are absent (a failure in CI).
fn real_ten_million_line() -> Option<(String, String)> {
    let tsv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/hashlines.tsv");
    let Ok(tsv) = std::fs::read_to_string(&tsv) else {
        // In CI a missing fixture is a failure, never a silent pass.
        assert!(
            std::env::var_os("SESAME_REQUIRE_SHARED").is_none(),
            "SESAME_REQUIRE_SHARED is set but ../shared (the fixtures) is missing"
        );
        eprintln!("SKIPPED: {} is absent", tsv.display());
        return None;
    };
    let (password, line) = tsv
        .lines()
        .filter_map(|l| l.split_once('\t'))
        .find(|(_, h)| h.contains("*10000000*"))
        .expect("a DPIC 10000000 line in hashlines.tsv");
    Some((password.to_string(), line.to_string()))
}

/// The real iOS 10.2+ line (DPIC 10,000,000) from the shared fixtures, from a short wordlist.
#[test]
fn real_ten_million_iteration_line() {
    let Some((password, line)) = real_ten_million_line() else {
        return;
    };
    let env = Env::new();
    let wl = env.file(
        "w.txt",
        format!("123456\npassword\n{password}\n").as_bytes(),
    );
    let out = env.run(&["recover", &line, "-w", wl.to_str().unwrap()]);
    assert_found(&out, &password);
}

/// The same on the GPU alone: all 10,000,000 iterations, in many slices. With few passwords a
/// slice grew past 65,535 iterations, which Mesa's llvmpipe silently cuts short: the password
/// was missed.
#[test]
fn real_ten_million_iteration_line_on_the_gpu() {
    let Some((password, line)) = real_ten_million_line() else {
        return;
    };
    if !gpu_available() {
        return;
    }
    let env = Env::new();
    let wl = env.file("w.txt", format!("123456\n{password}\n").as_bytes());
    let out = env
        .cmd(&[
            "recover",
            &line,
            "-w",
            wl.to_str().unwrap(),
            "--device",
            "gpu",
        ])
        .env("SESAME_GPU_ALLOW_CPU", "1")
        .output()
        .unwrap();
    assert_found(&out, &password);
    assert!(
        text(&out.stderr).contains("no CPU threads"),
        "{}",
        text(&out.stderr)
    );
}

/// SIGTERM (as Ctrl-C): the run checkpoints, says how to resume, and exits 1 (not found).
#[cfg(unix)]
#[test]
fn sigterm_checkpoints_and_says_how_to_resume() {
    let env = Env::new();
    let line = line_for(b"not-a-pin", Some(100_000), 10).to_string();
    let child = env
        .cmd(&[
            "recover",
            &line,
            "--pins",
            "--threads",
            "1",
            "--checkpoint-interval",
            "0.2",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let sessions = env.home().join("sessions");
    let t0 = Instant::now();
    while session_position(&sessions).unwrap_or(0) == 0 {
        assert!(
            t0.elapsed() < Duration::from_secs(120),
            "no checkpoint written"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("run the same command again to resume"),
        "{err}"
    );
    let pos = session_position(&sessions).unwrap();
    assert!(
        err.contains(&format!("stopped at guess {pos}")) || pos >= 1000,
        "{err}"
    );
    assert!(out.stdout.is_empty());
}

/// Whether a GPU adapter is usable here with CPU drivers allowed (lavapipe counts); prints a
/// visible SKIPPED line when not.
fn gpu_available() -> bool {
    static OK: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *OK.get_or_init(|| {
        let out = Command::new(env!("CARGO_BIN_EXE_sesame"))
            .args(["bench", "--device", "gpu", "--json", "--seconds", "0.01"])
            .env("SESAME_GPU_ALLOW_CPU", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        if out.status.success() {
            let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let gpus = v["gpus"].as_array().unwrap();
            assert!(!gpus.is_empty(), "{v}");
            for g in gpus {
                assert!(g["scheme_9"].as_f64().unwrap() > 0.0, "{g}");
                assert!(g["scheme_10_2"].as_f64().unwrap() > 0.0, "{g}");
            }
            return true;
        }
        // In CI a missing GPU adapter is a failure, never a silent pass.
        assert!(
            std::env::var_os("SESAME_REQUIRE_GPU").is_none(),
            "SESAME_REQUIRE_GPU is set but a GPU adapter (Mesa's lavapipe in CI) is missing"
        );
        eprintln!(
            "SKIPPED: no GPU adapter found (install mesa-vulkan-drivers for lavapipe): {}",
            text(&out.stderr)
        );
        false
    })
}

#[test]
fn no_gpu_is_a_note_for_all_and_an_error_for_gpu() {
    let env = Env::new();
    let line = line_for(b"1234", None, 10).to_string();
    let out = env
        .cmd(&["recover", &line, "--pins"])
        .env("SESAME_GPU_DISABLE", "1")
        .output()
        .unwrap();
    assert_found(&out, "1234");
    let err = text(&out.stderr);
    // One quiet line, no notes, nothing that looks like an error.
    assert!(err.contains("no GPU found, using the CPU"), "{err}");
    assert!(!err.contains("note:") && !err.contains("error"), "{err}");
    let fresh = line_for(b"1111", None, 10).to_string();
    let out = env
        .cmd(&["recover", &fresh, "--pins", "--verbose"])
        .env("SESAME_GPU_DISABLE", "1")
        .output()
        .unwrap();
    assert!(
        text(&out.stderr).contains("note: no GPU found"),
        "{}",
        text(&out.stderr)
    );
    let out = env
        .cmd(&["recover", &line, "--pins", "--device", "gpu", "--fresh"])
        .env("SESAME_GPU_DISABLE", "1")
        .output()
        .unwrap();
    // The potfile answers before any device is needed.
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let other = line_for(b"4321", None, 10).to_string();
    assert_error(
        &env.cmd(&["recover", &other, "--pins", "--device", "gpu"])
            .env("SESAME_GPU_DISABLE", "1")
            .output()
            .unwrap(),
        &["no usable GPU found"],
    );
}

#[test]
fn recover_on_the_gpu_alone_both_schemes() {
    if !gpu_available() {
        return;
    }
    let env = Env::new();
    let mut words = String::new();
    for i in 0..120 {
        words.push_str(&format!("guess{i}\n"));
    }
    words.push_str("gpu-pass\n");
    let wl = env.file("words.txt", words.as_bytes());
    for dpic in [Some(3), None] {
        let line = line_for(b"gpu-pass", dpic, 4).to_string();
        let trace = env.dir.path().join(format!("trace-{}", dpic.is_some()));
        let out = env
            .cmd(&[
                "recover",
                &line,
                "--wordlist",
                wl.to_str().unwrap(),
                "--device",
                "gpu",
                "--trace-file",
                trace.to_str().unwrap(),
            ])
            .env("SESAME_GPU_ALLOW_CPU", "1")
            .output()
            .unwrap();
        assert_found(&out, "gpu-pass");
        let err = text(&out.stderr);
        assert!(
            err.contains("self-check against the CPU reference passed"),
            "{err}"
        );
        assert!(err.contains("no CPU threads"), "{err}");
        assert!(env.potfile().contains(&format!("{line}:gpu-pass\n")));
    }
}

#[test]
fn cpu_and_gpu_together_json_reports_each_device() {
    if !gpu_available() {
        return;
    }
    let env = Env::new();
    let mut words = String::new();
    // Guesses costly enough (2,000 iterations) that the CPU threads cannot finish all of them
    // before the GPU's thread, started after theirs, takes its first batch.
    for i in 0..600 {
        words.push_str(&format!("w{i}\n"));
    }
    let wl = env.file("words.txt", words.as_bytes());
    let line = line_for(b"absent", Some(2_000), 2).to_string();
    let trace = env.dir.path().join("trace");
    let out = env
        .cmd(&[
            "recover",
            &line,
            "--wordlist",
            wl.to_str().unwrap(),
            "--json",
            "--threads",
            "2",
            "--batch-size",
            "4",
            "--status-interval",
            "0.001",
            "--trace-file",
            trace.to_str().unwrap(),
        ])
        .env("SESAME_GPU_ALLOW_CPU", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(
        lines[0]["gpus"].as_array().is_some_and(|g| !g.is_empty()),
        "{:?}",
        lines[0]
    );
    for p in lines.iter().filter(|l| l["event"] == "progress") {
        assert!(p["devices"].is_array(), "{p}");
    }
    let last = lines.last().unwrap();
    assert_eq!(last["status"], "exhausted");
    let devices = last["devices"].as_array().unwrap();
    assert_eq!(devices[0]["name"], "CPU");
    assert!(devices.len() >= 2, "{devices:?}");
    let tried: u64 = devices.iter().map(|d| d["tried"].as_u64().unwrap()).sum();
    assert_eq!(tried, 600);
    assert!(
        devices.iter().all(|d| d["tried"].as_u64().unwrap() > 0),
        "{devices:?}"
    );
    // The batches cover every index once.
    let mut covered = vec![0u32; 600];
    for l in std::fs::read_to_string(&trace).unwrap().lines().skip(1) {
        let f: Vec<u64> = l.split(' ').map(|x| x.parse().unwrap()).collect();
        for i in f[0]..f[1] {
            covered[i as usize] += 1;
        }
    }
    assert!(covered.iter().all(|&c| c == 1), "{covered:?}");
}

#[test]
fn bench_json_keeps_its_keys_and_lists_gpus() {
    let env = Env::new();
    let out = env
        .cmd(&["bench", "--json", "--seconds", "0.02", "--threads", "1"])
        .env("SESAME_GPU_DISABLE", "1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["kernel"].is_string(), "{v}");
    assert_eq!(v["threads"], 1);
    for scheme in ["scheme_10_2", "scheme_9"] {
        assert!(v[scheme]["per_core"].as_f64().unwrap() > 0.0, "{v}");
        assert!(v[scheme]["total"].as_f64().unwrap() > 0.0, "{v}");
    }
    assert_eq!(v["gpus"], serde_json::json!([]));
    assert!(
        text(&out.stderr).contains("no GPU found"),
        "{}",
        text(&out.stderr)
    );
    if gpu_available() {
        let out = env
            .cmd(&["bench", "--device", "gpu", "--seconds", "0.01"])
            .env("SESAME_GPU_ALLOW_CPU", "1")
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let t = text(&out.stdout);
        assert!(t.contains("guesses/s") && t.contains("GPU "), "{t}");
    }
}
