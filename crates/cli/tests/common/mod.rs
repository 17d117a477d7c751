//! What the CLI integration tests share: running the binary in a clean environment, reading its
//! output, finding the fixtures, and proving a command left a folder unchanged.
#![allow(dead_code)] // each test file uses a different part of this

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// ../shared/fixtures beside the repository, or None (with a visible message) when absent.
pub fn fixtures() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures");
    if dir.is_dir() {
        Some(dir)
    } else {
        // In CI a missing fixture is a failure, never a silent pass.
        assert!(
            std::env::var_os("SESAME_REQUIRE_SHARED").is_none(),
            "SESAME_REQUIRE_SHARED is set but ../shared (the fixtures) is missing"
        );
        eprintln!("SKIPPED: fixtures not found at {}", dir.display());
        None
    }
}

/// Runs `sesame` with a private home, potfile and session folder, no password in the
/// environment unless `env` gives one, and no terminal.
pub fn sesame(args: &[&str], env: &[(&str, &str)]) -> Output {
    let home = tempfile::tempdir().unwrap();
    let mut c = Command::new(env!("CARGO_BIN_EXE_sesame"));
    c.args(args)
        .env_remove("SESAME_PASSWORD")
        .env_remove("SESAME_NEW_PASSWORD")
        .env("SESAME_HOME", home.path())
        .env("SESAME_POTFILE", home.path().join("test.potfile"))
        .env("HOME", home.path())
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().unwrap()
}

/// stdout then stderr, as text.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Every file under `dir` with its bytes, to prove a command changed nothing.
pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if e.file_type().unwrap().is_dir() {
                stack.push(p);
            } else {
                out.push((p.clone(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    out
}
