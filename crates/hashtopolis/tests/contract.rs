//! The Hashtopolis generic-cracker contract, line by line, as the agent runs it: `keyspace`
//! (with `-a #HL#` left out, and with a literal `#HL#` left in), a chunk that holds the password,
//! chunks that do not (one of them starts just past the password), and the timed benchmark run
//! (`crack ATTACK -s 0 -l KEYSPACE --timeout=T`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }
    fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
    /// As the agent runs it: in its files folder, no terminal, GPUs off (speed is not tested).
    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_sesame-hashtopolis"))
            .args(args)
            .current_dir(self.dir.path())
            .env("SESAME_HOME", self.dir.path().join("home"))
            .env("SESAME_GPU_DISABLE", "1")
            .env_remove("SESAME_POTFILE")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Parses stdout as the agent does: STATUS lines (exactly three fields, whole numbers), and
/// every other line with a ':' is a crack. Nothing else may be on stdout.
fn agent_reads(out: &Output) -> (Vec<(u64, u64)>, Vec<String>) {
    let mut status = Vec::new();
    let mut cracks = Vec::new();
    for line in text(&out.stdout).lines() {
        let f: Vec<&str> = line.split(' ').collect();
        if f[0] == "STATUS" {
            assert_eq!(f.len(), 3, "bad status line {line:?}");
            status.push((f[1].parse().unwrap(), f[2].parse().unwrap()));
        } else if line.contains(':') {
            cracks.push(line.trim().to_string());
        } else {
            panic!("a line the agent would not understand: {line:?}");
        }
    }
    assert!(status.iter().all(|s| s.0 <= 10000), "{status:?}");
    (status, cracks)
}

fn words(env: &Env, n: usize) -> PathBuf {
    let w: String = (0..n).map(|i| format!("word{i}\n")).collect();
    env.file("words.txt", w.as_bytes())
}

fn hashlist(env: &Env, password: &[u8], dpic: Option<u32>) -> (PathBuf, String) {
    let line = sesame_crack::synthetic_line(password, dpic, 5).to_string();
    // A bad line is skipped with a warning, as hashcat does.
    let p = env.file("hashlist", format!("{line}\nnot a hash\n").as_bytes());
    (p, line)
}

#[test]
fn keyspace_prints_the_count_alone() {
    let env = Env::new();
    words(&env, 70);
    // The agent leaves "-a #HL# " out of the keyspace call.
    let out = env.run(&["keyspace", "-w", "words.txt"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "70\n");
    // A task written without -a keeps a literal #HL#: still the count.
    let out = env.run(&["keyspace", "#HL#", "-w", "words.txt", "-m", "?d?d"]);
    assert_eq!(text(&out.stdout), "170\n", "{}", text(&out.stderr));
    // The same number as `sesame keyspace` would print, and an error is on stderr, exit 2.
    let out = env.run(&["keyspace", "-w", "missing.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("missing.txt"),
        "{}",
        text(&out.stderr)
    );
}

fn crack(env: &Env, hl: &Path, skip: u64, len: u64) -> Output {
    env.run(&[
        "crack",
        "-s",
        &skip.to_string(),
        "-l",
        &len.to_string(),
        "-a",
        hl.to_str().unwrap(),
        "-w",
        "words.txt",
        "--threads",
        "1",
    ])
}

#[test]
fn a_chunk_tries_exactly_its_range() {
    let env = Env::new();
    words(&env, 100);
    let (hl, line) = hashlist(&env, b"word45", Some(5));
    // The chunk that holds index 45: the crack, then a final status of 10000.
    for (skip, len) in [(40, 20), (45, 1), (0, 100)] {
        let out = crack(&env, &hl, skip, len);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let (status, cracks) = agent_reads(&out);
        assert_eq!(cracks, vec![format!("{line}:word45")], "chunk {skip}+{len}");
        assert_eq!(status.last().unwrap().0, 10000);
        // The crack comes before the last status (the agent sends it with that one).
        let lines: Vec<String> = text(&out.stdout).lines().map(String::from).collect();
        assert!(lines.last().unwrap().starts_with("STATUS 10000 "));
        let err = text(&out.stderr);
        assert!(
            err.contains("hashlist line 2") && err.contains("skipped"),
            "{err}"
        );
    }
    // Chunks that do not hold it, one ending just before it and one starting just after.
    for (skip, len) in [(0, 45), (46, 54), (90, 50)] {
        let out = crack(&env, &hl, skip, len);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let (status, cracks) = agent_reads(&out);
        assert!(cracks.is_empty(), "chunk {skip}+{len}: {cracks:?}");
        assert_eq!(status.last().unwrap().0, 10000, "the chunk is finished");
    }
}

#[test]
fn the_benchmark_run_stops_at_its_timeout_with_a_status() {
    let env = Env::new();
    words(&env, 5000);
    // Expensive enough that 5000 guesses take far longer than the benchmark's second.
    let (hl, _) = hashlist(&env, b"absent", Some(400_000));
    let out = env.run(&[
        "crack",
        "-a",
        hl.to_str().unwrap(),
        "-w",
        "words.txt",
        "-s",
        "0",
        "-l",
        "5000",
        "--timeout=1",
        "--threads",
        "1",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let (status, cracks) = agent_reads(&out);
    assert!(cracks.is_empty());
    let last = status
        .last()
        .expect("a valid STATUS line for the benchmark");
    assert!(
        last.0 < 10000,
        "the benchmark did not finish the keyspace: {last:?}"
    );
}

#[test]
fn errors_are_on_stderr_with_status_2() {
    let env = Env::new();
    words(&env, 10);
    let bad = env.file("bad", b"junk\n");
    let out = crack(&env, &bad, 0, 10);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    assert!(text(&out.stderr).contains("no valid $itunes_backup$ hash line"));
    let out = env.run(&["crack", "-s", "0", "-l", "10", "-w", "words.txt"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("-a FILE"));
}

/// The command lines exactly as the agent builds them (htpclient's generic cracker: a shell
/// line, the hash list's path in single quotes where the task says #HL#, "-a #HL# " removed for
/// the keyspace, the benchmark's options after the attack).
#[test]
fn the_agents_own_command_lines() {
    let env = Env::new();
    words(&env, 60);
    let (hl, line) = hashlist(&env, b"word33", Some(5));
    let exe = env!("CARGO_BIN_EXE_sesame-hashtopolis");
    let attack = "-a #HL# -w words.txt --threads 1";
    let shell = |cmd: String| {
        Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(env.dir.path())
            .env("SESAME_HOME", env.dir.path().join("home"))
            .env("SESAME_GPU_DISABLE", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let keyspace = shell(format!("{exe} keyspace {}", attack.replace("-a #HL# ", "")));
    assert_eq!(text(&keyspace.stdout), "60\n", "{}", text(&keyspace.stderr));
    let quoted = format!("'{}'", hl.display());
    let chunk = shell(format!(
        "'{exe}' crack -s 30 -l 10 {}",
        attack.replace("#HL#", &quoted)
    ));
    let (status, cracks) = agent_reads(&chunk);
    assert_eq!(
        cracks,
        vec![format!("{line}:word33")],
        "{}",
        text(&chunk.stderr)
    );
    assert_eq!(status.last().unwrap().0, 10000);
    let bench = shell(format!(
        "{exe} crack {} -s 0 -l 60 --timeout=30",
        attack.replace("#HL#", &quoted)
    ));
    assert_eq!(bench.status.code(), Some(0), "{}", text(&bench.stderr));
    let (status, _) = agent_reads(&bench);
    // Finished well inside its time: the whole keyspace, as a benchmark of 1.0.
    assert_eq!(status.last().unwrap().0, 10000);
}
