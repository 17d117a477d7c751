//! One search over a real Slurm cluster (one node, `scripts/slurm-up.sh`): a 4-task
//! `sbatch --array` job runs `sesame recover --shard auto --found-file` on a built backup.
//! Exactly one task finds the password; the others stop through the found-file and report it;
//! the trace files show every index of the stream tried at most once, and every index before
//! the password's tried.
//!
//! Needs `sbatch` and a cluster that answers; without one the test says SKIPPED, unless
//! SESAME_REQUIRE_SLURM is set (CI sets it), when a missing cluster is a failure.

use sesame_backup::builder::BackupBuilder;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const TASKS: u64 = 4;
/// The password's index in the wordlist: shard 3/4 (array task 2) owns it.
const P: u64 = 26;
/// Words in the list: far more than a task can try before the finder's news reaches it, even
/// when Slurm starts one task many seconds after another (a loaded machine).
const WORDS: u64 = 8000;

fn slurm_answers() -> bool {
    let ok = Command::new("sinfo")
        .args(["-h", "-o", "%T"])
        .output()
        .is_ok_and(|o| o.status.success() && !o.stdout.is_empty());
    if !ok {
        assert!(
            std::env::var_os("SESAME_REQUIRE_SLURM").is_none(),
            "SESAME_REQUIRE_SLURM is set but no Slurm cluster answers `sinfo` (scripts/slurm-up.sh starts one)"
        );
        eprintln!("SKIPPED: no Slurm cluster answers `sinfo` (scripts/slurm-up.sh starts one)");
    }
    ok
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn a_slurm_job_array_finds_once_and_stops_everywhere() {
    if !slurm_answers() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let backup = d.join("backup");
    BackupBuilder::new()
        .password("word26")
        .iterations(5, Some(20_000))
        .file("HomeDomain", "Library/Notes/note.txt", b"hello".to_vec())
        .write(&backup)
        .unwrap();
    let words: String = (0..WORDS).map(|i| format!("word{i}\n")).collect();
    std::fs::write(d.join("words.txt"), words).unwrap();
    let finder = P % TASKS;
    let others: Vec<String> = (0..TASKS)
        .filter(|&t| t != finder)
        .map(|t| t.to_string())
        .collect();
    // The task whose shard owns the password starts its search once every other task's trace
    // shows each of its guesses below the password's index finished, so that "every index
    // before the password's was tried" does not hang on which task happens to run faster.
    let script = format!(
        r#"#!/bin/bash
#SBATCH --job-name=sesame-test
#SBATCH --ntasks=1
#SBATCH --cpus-per-task=1
set -u
dir='{dir}'
id=$SLURM_ARRAY_TASK_ID
export SESAME_HOME="$dir/home-$id" SESAME_GPU_DISABLE=1
if [ "$id" = {finder} ]; then
    for t in {others}; do
        for _ in $(seq 1 3000); do
            if [ -f "$dir/trace-$t" ] && awk -v p={p} '$1 ~ /^[0-9]+$/ && $2 >= p {{ok=1}} END {{exit !ok}}' "$dir/trace-$t"; then
                break
            fi
            sleep 0.1
        done
    done
fi
exec '{sesame}' recover "$dir/backup" -w "$dir/words.txt" --shard auto --found-file "$dir/found" \
    --trace-file "$dir/trace-$id" --json --device cpu --threads 1 --kernel portable --batch-size 1 \
    >"$dir/out-$id.json" 2>"$dir/err-$id.txt"
"#,
        dir = d.display(),
        others = others.join(" "),
        p = P,
        sesame = env!("CARGO_BIN_EXE_sesame"),
    );
    let job = d.join("job.sh");
    std::fs::write(&job, script).unwrap();
    let out = Command::new("timeout")
        .arg("600")
        .arg("sbatch")
        .arg("--wait")
        .arg(format!("--array=0-{}", TASKS - 1))
        .arg(format!("--output={}/slurm-%a.out", d.display()))
        .arg(&job)
        .output()
        .unwrap();
    let errs: String = (0..TASKS)
        .map(|t| {
            format!(
                "task {t}: {}",
                std::fs::read_to_string(d.join(format!("err-{t}.txt"))).unwrap_or_default()
            )
        })
        .collect();
    assert!(
        out.status.success(),
        "sbatch: {}{}\n{errs}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let hash = sesame_backup::Backup::open(&backup)
        .unwrap()
        .hash_line()
        .unwrap()
        .to_string();
    let mut tried: Vec<u64> = Vec::new();
    let mut finders = Vec::new();
    for t in 0..TASKS {
        let json: Vec<serde_json::Value> = read(&d.join(format!("out-{t}.json")))
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let event = |name: &str| json.iter().find(|v| v["event"] == name);
        let result = event("result").unwrap_or_else(|| panic!("task {t}: no result; {errs}"));
        assert_eq!(result["status"], "found", "task {t}: {result}");
        // Each task ran the shard its array index gives, and the plan says where it came from.
        let shard = format!("{}/{TASKS}", t + 1);
        if let Some(plan) = event("plan") {
            assert_eq!(plan["shard"], shard.as_str());
            assert!(plan["shard_from"]
                .as_str()
                .unwrap()
                .contains(&format!("SLURM_ARRAY_TASK_ID={t}")));
        }
        let found = event("found").unwrap_or_else(|| panic!("task {t}: no found event"));
        assert_eq!(found["password"], "word26", "task {t}");
        if found["from_found_file"] == true {
            assert_eq!(found["index"], serde_json::Value::Null);
        } else {
            assert_eq!(found["index"], P, "task {t}");
            finders.push(t);
        }
        // The trace: each batch's owned indices, as many as it says it tried.
        let trace = read(&d.join(format!("trace-{t}")));
        assert!(
            trace.contains(&format!("shard {shard} chunk all")),
            "task {t}: {trace}"
        );
        let (k, n) = (t, TASKS);
        let mut mine = 0u64;
        for l in trace
            .lines()
            .filter(|l| l.starts_with(|c: char| c.is_ascii_digit()))
        {
            let v: Vec<u64> = l.split(' ').map(|x| x.parse().unwrap()).collect();
            let owned: Vec<u64> = (v[0]..v[1]).filter(|i| i % n == k).collect();
            assert_eq!(owned.len() as u64, v[2], "task {t}: {l}");
            mine += v[2];
            tried.extend(owned);
        }
        eprintln!(
            "task {t} (shard {shard}): {mine} guesses, {}",
            if found["from_found_file"] == true {
                "stopped by the found-file"
            } else {
                "found it"
            }
        );
        if t != finder {
            assert!(
                mine < WORDS / TASKS,
                "task {t} tried its whole shard: it was not stopped"
            );
        }
    }
    assert_eq!(finders, vec![finder], "exactly one task finds it");
    let unique: BTreeSet<u64> = tried.iter().copied().collect();
    assert_eq!(unique.len(), tried.len(), "an index was tried twice");
    for i in 0..=P {
        assert!(unique.contains(&i), "index {i} was not tried");
    }
    // The finder wrote the found-file and its potfile as one machine would.
    let line = format!("{hash}:word26\n");
    assert_eq!(read(&d.join("found")), line);
    assert_eq!(read(&d.join(format!("home-{finder}/sesame.potfile"))), line);
}
