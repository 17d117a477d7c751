//! One search over many machines through the binary: `keyspace`, `recover --skip/--limit`
//! numbered exactly as `candidates`, `--shard auto` from each job engine's variables, the
//! found-file between processes, and hashcat's habits (`-m 14800`, `.hcmask` files, John's
//! `name:hash:::` lines, one bad line of a hash file).

use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

struct Env {
    dir: tempfile::TempDir,
}

/// Job engines' variables removed, so that the machine running the tests does not leak in.
const ENGINE_VARS: [&str; 8] = [
    "SLURM_JOB_ID",
    "SLURM_ARRAY_TASK_ID",
    "SLURM_ARRAY_TASK_MIN",
    "SLURM_ARRAY_TASK_MAX",
    "SLURM_ARRAY_TASK_COUNT",
    "SLURM_ARRAY_TASK_STEP",
    "JOB_COMPLETION_INDEX",
    "SESAME_SHARDS",
];

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
    fn file(&self, name: &str, content: &[u8]) -> String {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        p.to_str().unwrap().to_string()
    }
    /// Runs sesame with its home in `home` (a machine of its own), and these variables.
    fn run_in(&self, home: &str, args: &[&str], vars: &[(&str, &str)]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sesame"));
        c.args(args)
            .env("SESAME_HOME", self.path(home))
            .env("SESAME_GPU_DISABLE", "1")
            .env_remove("SESAME_POTFILE")
            .env_remove("SESAME_PASSWORD")
            .stdin(Stdio::null());
        for v in ENGINE_VARS {
            c.env_remove(v);
        }
        for (k, v) in vars {
            c.env(k, v);
        }
        c.output().unwrap()
    }
    fn run(&self, args: &[&str]) -> Output {
        self.run_in("home", args, &[])
    }
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn json_lines(o: &Output) -> Vec<serde_json::Value> {
    out(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn line_for(password: &[u8], dpic: Option<u32>) -> String {
    sesame_crack::synthetic_line(password, dpic, 5).to_string()
}

/// The (lo, hi, tried) lines of a trace file, after its header lines.
fn trace_batches(path: &std::path::Path) -> Vec<(u64, u64, u64)> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with("start") && !l.starts_with("shard"))
        .map(|l| {
            let v: Vec<u64> = l.split(' ').map(|x| x.parse().unwrap()).collect();
            (v[0], v[1], v[2])
        })
        .collect()
}

#[test]
fn keyspace_and_skip_limit_number_the_stream_as_candidates_does() {
    let env = Env::new();
    let words: String = (0..30).map(|i| format!("w{i}\n")).collect();
    let wl = env.file("w.txt", words.as_bytes());
    // A rule that rejects words of 2 characters or fewer leaves gaps in the numbering.
    let rules = env.file("r.rule", b":\n>2 u\n");
    let src = ["-w", &wl, "-r", &rules, "-m", "?d?d"];
    let mut args = vec!["keyspace"];
    args.extend(src);
    let o = env.run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    // 30 words x 2 rules, and 100 mask guesses.
    assert_eq!(out(&o), "160\n");
    let line = line_for(b"absent", None);
    for (skip, limit, shard) in [
        ("0", "15", "1/1"),
        ("13", "40", "2/3"),
        ("55", "60", "1/2"),
        ("150", "50", "3/4"),
    ] {
        let mut c = vec![
            "candidates",
            "--skip",
            skip,
            "--limit",
            limit,
            "--shard",
            shard,
        ];
        c.extend(src);
        let printed = out(&env.run(&c)).lines().count() as u64;
        let trace = env.path(&format!("trace-{skip}"));
        let mut r = vec![
            "recover",
            &line,
            "--skip",
            skip,
            "--limit",
            limit,
            "--shard",
            shard,
            "--threads",
            "1",
            "--batch-size",
            "3",
            "--trace-file",
            trace.to_str().unwrap(),
        ];
        r.extend(src);
        let o = env.run(&r);
        assert_eq!(o.status.code(), Some(1), "{}", err(&o));
        let (s, l): (u64, u64) = (skip.parse().unwrap(), limit.parse().unwrap());
        let batches = trace_batches(&trace);
        let tried: u64 = batches.iter().map(|b| b.2).sum();
        assert_eq!(
            tried, printed,
            "--skip {skip} --limit {limit} --shard {shard}"
        );
        assert!(
            batches.iter().all(|b| b.0 >= s && b.1 <= s + l),
            "{batches:?}"
        );
        let head = std::fs::read_to_string(&trace).unwrap();
        assert!(
            head.contains(&format!("shard {shard} chunk {skip}+{limit}")),
            "{head}"
        );
    }
    // The password in a chunk is found there, and not in the chunk after it.
    let line = line_for(b"W20", None);
    // Index of "W20": word 20's second rule output, 2*20+1.
    let o = env.run(&[
        "recover", &line, "-w", &wl, "-r", &rules, "--skip", "41", "--limit", "1",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o), "W20\n");
    let o = env.run_in(
        "home2",
        &["recover", &line, "-w", &wl, "-r", &rules, "--skip", "42"],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
}

#[test]
fn shard_auto_from_slurm_and_kubernetes() {
    let env = Env::new();
    let line = line_for(b"absent", None);
    let plan = |o: &Output| {
        json_lines(o)
            .into_iter()
            .find(|v| v["event"] == "plan")
            .unwrap_or_else(|| panic!("no plan: {}", err(o)))
    };
    let slurm = [
        ("SLURM_JOB_ID", "41"),
        ("SLURM_ARRAY_TASK_ID", "7"),
        ("SLURM_ARRAY_TASK_MIN", "5"),
        ("SLURM_ARRAY_TASK_MAX", "8"),
        ("SLURM_ARRAY_TASK_COUNT", "4"),
    ];
    let args = [
        "recover", &line, "--pins", "--limit", "8", "--shard", "auto", "--json",
    ];
    let o = env.run_in("slurm", &args, &slurm);
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    let p = plan(&o);
    assert_eq!(p["shard"], "3/4");
    assert!(p["shard_from"]
        .as_str()
        .unwrap()
        .contains("SLURM_ARRAY_TASK_ID=7"));
    let k8s = [("JOB_COMPLETION_INDEX", "1"), ("SESAME_SHARDS", "3")];
    let o = env.run_in("k8s", &args, &k8s);
    let p = plan(&o);
    assert_eq!(p["shard"], "2/3");
    assert!(p["shard_from"].as_str().unwrap().contains("Kubernetes"));
    // The plain plan says it too.
    let plain = [
        "recover", &line, "--pins", "--limit", "8", "--shard", "auto",
    ];
    let o = env.run_in("k8s2", &plain, &k8s);
    assert!(
        err(&o).contains("Plan for shard 2/3 from Kubernetes Indexed Job pod 1 (JOB_COMPLETION_INDEX=1, SESAME_SHARDS=3), guesses 0 to 7 of the stream:"),
        "{}",
        err(&o)
    );
    // The same pieces as --shard K/N: the same session name.
    let o2 = env.run_in(
        "k8s3",
        &[
            "recover", &line, "--pins", "--limit", "8", "--shard", "2/3", "--json",
        ],
        &[],
    );
    assert_eq!(
        plan(&o2)["session"],
        plan(&env.run_in("k8s4", &args, &k8s))["session"]
    );
    // No engine: exit 2 and what to do.
    let o = env.run(&args);
    assert_eq!(o.status.code(), Some(2));
    let e = err(&o);
    assert!(
        e.contains("--shard auto") && e.contains("--shard K/N"),
        "{e}"
    );
    let o = env.run_in("k", &args, &[("JOB_COMPLETION_INDEX", "0")]);
    assert_eq!(o.status.code(), Some(2));
    assert!(err(&o).contains("SESAME_SHARDS"), "{}", err(&o));
}

#[test]
fn the_found_file_stops_the_others_with_the_checked_password() {
    let env = Env::new();
    let words: String = (0..40).map(|i| format!("w{i}\n")).collect();
    let wl = env.file("w.txt", words.as_bytes());
    let line = line_for(b"w13", Some(5));
    let ff = env.path("shared/found");
    let ff = ff.to_str().unwrap();
    // One machine, no found-file: the reference JSON result and potfile line.
    let one = env.run_in("one", &["recover", &line, "-w", &wl, "--json"], &[]);
    assert_eq!(one.status.code(), Some(0), "{}", err(&one));
    // The finder (shard 2/3 owns index 13), with the found-file.
    let args = |k: &'static str| {
        vec![
            "recover".to_string(),
            line.clone(),
            "-w".into(),
            wl.clone(),
            "--shard".into(),
            k.into(),
            "--found-file".into(),
            ff.into(),
            "--json".into(),
        ]
    };
    let a: Vec<String> = args("2/3");
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let finder = env.run_in("m2", &a, &[]);
    assert_eq!(finder.status.code(), Some(0), "{}", err(&finder));
    let result = |o: &Output| {
        json_lines(o)
            .into_iter()
            .find(|v| v["event"] == "result")
            .unwrap()
    };
    let (r1, r2) = (result(&one), result(&finder));
    assert_eq!(
        r2["found"], r1["found"],
        "the finder's result is the one-machine result"
    );
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    assert_eq!(keys(&r1), keys(&r2));
    let pot = |home: &str| std::fs::read_to_string(env.path(home).join("sesame.potfile")).unwrap();
    assert_eq!(pot("m2"), pot("one"));
    assert_eq!(
        std::fs::read_to_string(ff).unwrap(),
        format!("{line}:w13\n")
    );
    // Another machine (shard 1/3), started after the find: exit 0, the password, tried nothing.
    let a: Vec<String> = args("1/3");
    let mut a: Vec<&str> = a.iter().map(String::as_str).collect();
    a.retain(|x| *x != "--json");
    let other = env.run_in("m1", &a, &[]);
    assert_eq!(other.status.code(), Some(0), "{}", err(&other));
    assert_eq!(out(&other), "w13\n");
    assert!(
        err(&other).contains("found by another process"),
        "{}",
        err(&other)
    );
    // With --json its result carries the password, marked as found elsewhere.
    let a: Vec<String> = args("3/3");
    let a: Vec<&str> = a.iter().map(String::as_str).collect();
    let other = env.run_in("m3", &a, &[]);
    assert_eq!(other.status.code(), Some(0), "{}", err(&other));
    let r = result(&other);
    assert_eq!(r["status"], "found");
    let found = json_lines(&other)
        .into_iter()
        .find(|v| v["event"] == "found")
        .unwrap();
    assert_eq!(found["password"], "w13");
    assert_eq!(found["from_found_file"], true);
    // A found-file whose password does not open the target is not trusted.
    let bad = env.file("bad-found", format!("{line}:nope\n").as_bytes());
    let o = env.run_in(
        "m4",
        &[
            "recover",
            &line,
            "-w",
            &wl,
            "--shard",
            "1/3",
            "--found-file",
            &bad,
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", err(&o));
    assert!(err(&o).contains("does not open it"), "{}", err(&o));
}

#[test]
fn hashcat_habits() {
    let env = Env::new();
    let line = line_for(b"ab7", None);
    // -m 14800 where a mask is expected: a note, not a one-guess literal mask.
    let o = env.run(&[
        "candidates",
        "-m",
        "14800",
        "-m",
        "ab?d",
        "--markov-disable",
        "--limit",
        "3",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o), "ab0\nab1\nab2\n");
    assert!(err(&o).contains("hash mode"), "{}", err(&o));
    let o = env.run(&["keyspace", "-m", "14700", "--pins"]);
    assert_eq!(out(&o), out(&env.run(&["keyspace", "--pins"])));
    // Another number: said plainly.
    let o = env.run(&["recover", &line, "-m", "1000"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("hash mode") && err(&o).contains("--old-password"),
        "{}",
        err(&o)
    );
    // A .hcmask file: custom charsets before the mask, comments, escaped commas.
    let hc = env.file("m.hcmask", b"# two masks\nab,?1?d\n\\,x,?1y\n");
    let o = env.run(&["candidates", "-m", &hc, "--markov-disable"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    let printed = out(&o);
    let got: Vec<&str> = printed.lines().collect();
    assert_eq!(got.len(), 22);
    assert_eq!(
        (got[0], got[19], got[20], got[21]),
        ("a0", "b9", ",y", "xy")
    );
    let o = env.run(&["recover", &line, "-m", &hc, "--threads", "1"]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "ab7 is not in those masks: {}",
        err(&o)
    );
    let hc2 = env.file("n.hcmask", b"?l,?1?1?d\n");
    let o = env.run(&["recover", &line, "-m", &hc2, "--threads", "1"]);
    assert_eq!(out(&o), "ab7\n", "{}", err(&o));
    // John's name:hash::: lines, and one bad line skipped with a warning.
    let hashes = env.file(
        "h.txt",
        format!("alice:{line}:::\n$itunes_backup$*10*broken\n").as_bytes(),
    );
    let o = env.run(&["recover", &hashes, "-m", "ab?d", "--threads", "1"]);
    assert_eq!(o.status.code(), Some(0), "{}", err(&o));
    assert_eq!(out(&o), "ab7\n");
    assert!(
        err(&o).contains("h.txt line 2") && err(&o).contains("skipped"),
        "{}",
        err(&o)
    );
    // No valid line at all: an error.
    let none = env.file("none.txt", b"alice:nothing:::\n");
    let o = env.run(&["recover", &none, "--pins"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        err(&o).contains("no valid $itunes_backup$ hash line"),
        "{}",
        err(&o)
    );
}
