//! How many guesses each development scenario costs: the rank of the owner's true password in
//! the default stream (`sesame candidates --hints FILE`). Ranks are asserted as upper bounds
//! (a little above what was measured) so a change that makes the order worse shows up here.
//!
//! Print the table: `cargo test -p sesame-guess --test scenarios -- --nocapture`.

use std::path::PathBuf;

use sesame_guess::hints::{default_plan, Hints};

/// Recorded upper bounds on each scenario's rank (1-based): about twice the rank measured
/// (see BENCHMARKS.md), plus 5. `None`: not findable from its hints (a random password).
const BOUNDS: [(&str, Option<u64>); 16] = [
    ("d01.toml", Some(41)),
    ("d02.toml", Some(57)),
    ("d03.toml", Some(13)),
    ("d04.toml", Some(13)),
    ("d05.toml", Some(11)),
    ("d06.toml", Some(15)),
    ("d07.toml", Some(21)),
    ("d08.toml", Some(15)),
    ("d09.toml", Some(37)),
    ("d10.toml", Some(7)),
    ("d11.toml", Some(11)),
    ("d12.toml", Some(17)),
    ("d13.toml", Some(9)),
    ("d14.toml", Some(9)),
    ("d15.toml", Some(19)),
    ("d16.toml", None),
];

/// Guesses walked at most per scenario: the hint tier, the common passwords and all PINs.
const WALK_LIMIT: u64 = 2_000_000;

fn scenario_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/guess-scenarios")
}

/// 1-based rank of `answer` in the default stream for `hints`, if within the walk limit, and
/// the size of the first (ranked) tier.
fn rank_of(hints: &Hints, answer: &str) -> (Option<u64>, u64) {
    let plan = default_plan(Some(hints));
    let tier = plan.sources()[0].len().unwrap_or(0);
    for item in plan.iter_from(0).unwrap() {
        let (i, guess) = item.unwrap();
        if i >= WALK_LIMIT {
            break;
        }
        if guess == answer.as_bytes() {
            return (Some(i + 1), tier);
        }
    }
    (None, tier)
}

#[test]
fn scenario_ranks() {
    let dir = scenario_dir();
    let Ok(answers) = std::fs::read_to_string(dir.join("answers.tsv")) else {
        // In CI a missing fixture is a failure, never a silent pass.
        assert!(
            std::env::var_os("SESAME_REQUIRE_SHARED").is_none(),
            "SESAME_REQUIRE_SHARED is set but ../shared (the fixtures) is missing"
        );
        eprintln!(
            "SKIPPED: no scenarios at {} (the shared guess-scenarios folder is not here)",
            dir.display()
        );
        return;
    };
    let mut ranks = Vec::new();
    println!("| scenario | hints | answer | rank | ranked tier |");
    println!("|---|---|---|---:|---:|");
    for line in answers.lines().filter(|l| !l.trim().is_empty()) {
        let (file, answer) = line
            .split_once('\t')
            .expect("answers.tsv: file<TAB>password");
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        let hints = Hints::from_toml(&text, file).unwrap();
        let (rank, tier) = rank_of(&hints, answer);
        let summary = hints
            .to_toml()
            .lines()
            .skip(1)
            .collect::<Vec<_>>()
            .join("; ");
        let shown = rank.map_or("not found".to_string(), |r| r.to_string());
        println!("| {file} | {summary} | `{answer}` | {shown} | {tier} |");
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
