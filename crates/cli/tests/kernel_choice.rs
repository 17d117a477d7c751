//! The kernel is chosen by measurement (and cached), `--kernel` overrides it, and every
//! command that times or runs guesses says which kernel and why; `--threads` is capped.

mod common;
use common::text;
use std::process::Command;

fn sesame(home: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sesame"))
        .args(args)
        .env("SESAME_HOME", home)
        .env("HOME", home)
        .env("SESAME_GPU_DISABLE", "1")
        .env_remove("SESAME_PASSWORD")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap()
}

#[test]
fn recover_names_the_measured_kernel_caches_it_and_obeys_kernel() {
    let home = tempfile::tempdir().unwrap();
    let line = sesame_crack::synthetic_line(b"42", Some(10), 10).to_string();
    let r = sesame(home.path(), &["recover", &line, "--mask", "?d?d", "--json"]);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    let plan: serde_json::Value = String::from_utf8_lossy(&r.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .find(|v: &serde_json::Value| v["event"] == "plan")
        .expect("a plan event");
    let why = plan["kernel_why"].as_str().unwrap();
    assert!(why.contains("measured just now"), "{why}");
    // The measurement is kept for this CPU: the next run does not measure again.
    let cache: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.path().join("kernels.json")).unwrap()).unwrap();
    assert_eq!(cache["schemes"]["ios10_2"]["kernel"], plan["kernel"]);
    let line2 = sesame_crack::synthetic_line(b"43", Some(10), 10).to_string();
    let r = sesame(home.path(), &["recover", &line2, "--mask", "?d?d"]);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    assert!(
        text(&r).contains("calibrated earlier on this CPU"),
        "{}",
        text(&r)
    );
    // --kernel overrides, and an unknown or unavailable one is an error.
    let line3 = sesame_crack::synthetic_line(b"44", Some(10), 10).to_string();
    let r = sesame(
        home.path(),
        &["recover", &line3, "--mask", "?d?d", "--kernel", "portable"],
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    assert!(
        text(&r).contains("kernel portable: chosen with --kernel"),
        "{}",
        text(&r)
    );
    let line4 = sesame_crack::synthetic_line(b"45", Some(10), 10).to_string();
    let r = sesame(
        home.path(),
        &["recover", &line4, "--mask", "?d", "--kernel", "nope"],
    );
    assert_eq!(r.status.code(), Some(2), "{}", text(&r));
    assert!(text(&r).contains("unknown kernel"), "{}", text(&r));
}

#[test]
fn threads_above_the_core_count_are_capped_with_a_note() {
    let home = tempfile::tempdir().unwrap();
    let line = sesame_crack::synthetic_line(b"7", None, 10).to_string();
    let r = sesame(
        home.path(),
        &[
            "recover",
            &line,
            "--mask",
            "?d",
            "--threads",
            "4096",
            "--kernel",
            "portable",
        ],
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    assert!(
        text(&r).contains("--threads 4096 is more than"),
        "{}",
        text(&r)
    );
}

#[test]
fn bench_says_which_kernel_each_scheme_uses_and_why() {
    let home = tempfile::tempdir().unwrap();
    let r = sesame(
        home.path(),
        &["bench", "--json", "--seconds", "0.05", "--device", "cpu"],
    );
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    let v: serde_json::Value = serde_json::from_slice(&r.stdout).unwrap();
    assert!(v["kernel_why"].as_str().unwrap().contains("fastest"), "{v}");
    assert!(v["kernel_scheme_9"].is_string(), "{v}");
    let r = sesame(home.path(), &["bench", "--self-test"]);
    assert_eq!(r.status.code(), Some(0), "{}", text(&r));
    assert!(
        text(&r).contains("portable   passed its self-test"),
        "{}",
        text(&r)
    );
}
