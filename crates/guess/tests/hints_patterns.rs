//! The hint model on patterns of its own (other people, other words than the development
//! scenarios): each row is a hints file, the password its owner set, and an upper bound on its
//! rank in the default stream. The bounds are loose (a few times what was measured): they catch
//! a pattern that stops being generated or falls far down, not small reorderings.
//!
//! Print the ranks: `cargo test -p sesame-guess --test hints_patterns -- --nocapture`.

use sesame_guess::hints::{default_plan, Hints};

const CASES: &[(&str, &str, u64)] = &[
    // A name with a year from a date.
    (
        "words = [\"max\", \"bella\"]\ndates = [\"1987-02-11\"]",
        "Max1987",
        100,
    ),
    (
        "words = [\"max\", \"bella\"]\ndates = [\"1987-02-11\"]",
        "bella87",
        300,
    ),
    (
        "words = [\"max\"]\ndates = [\"1987-02-11\"]",
        "max1102",
        300,
    ),
    (
        "words = [\"max\"]\ndates = [\"1987-02-11\"]",
        "Max110287",
        1000,
    ),
    (
        "words = [\"max\"]\ndates = [\"1987-02-11\"]",
        "MAX1987",
        1000,
    ),
    (
        "words = [\"max\"]\ndates = [\"1987-02-11\"]",
        "mAX1987",
        2000,
    ),
    (
        "words = [\"max\"]\ndates = [\"1987-02-11\"]",
        "Max1987!",
        500,
    ),
    (
        "words = [\"max\"]\ndates = [\"1987-02-11\"]",
        "1987max",
        1000,
    ),
    (
        "words = [\"max\"]\ndates = [\"1987-02-11\"]",
        "max_1987",
        2000,
    ),
    // Dates typed alone.
    ("dates = [\"1979-11-23\"]", "112379", 30),
    ("dates = [\"1979-11-23\"]", "23111979", 30),
    ("dates = [\"1979-11-23\"]", "2311", 30),
    ("dates = [\"1979-11-23\"]", "1979", 30),
    ("dates = [\"11-23\"]", "1123", 10),
    ("dates = [\"1979-11-23\"]", "23.11.1979", 200),
    // Words with numbers and symbols.
    ("words = [\"chelsea\"]\nnumbers = [\"7\"]", "Chelsea7", 30),
    ("words = [\"chelsea\"]\nnumbers = [\"7\"]", "chelsea7!", 100),
    ("words = [\"chelsea\"]", "chelsea123", 30),
    ("words = [\"chelsea\"]", "Chelsea1", 30),
    ("words = [\"chelsea\"]", "chelsea!", 100),
    ("words = [\"chelsea\"]", "chelsea2019", 1000),
    ("words = [\"coco\"]\nnumbers = [\"22\"]", "22coco", 300),
    // Two words.
    ("words = [\"jack\", \"emma\"]", "jackemma", 30),
    ("words = [\"jack\", \"emma\"]", "EmmaJack", 100),
    ("words = [\"jack\", \"emma\"]", "jack&emma", 300),
    (
        "words = [\"jack\", \"emma\"]\ndates = [\"2015-06-20\"]",
        "jackemma2015",
        1000,
    ),
    ("words = [\"red sox\"]", "redsox", 10),
    ("words = [\"red sox\"]", "RedSox1", 300),
    // Letter-for-digit swaps.
    ("words = [\"sophie\"]", "s0ph1e", 3000),
    ("words = [\"sophie\"]", "50ph13", 3000),
    ("words = [\"monkey\"]", "m0nk3y", 1000),
    ("words = [\"bella\"]", "b3ll4", 3000),
    // Old passwords.
    ("passwords = [\"Summer2016\"]", "Summer2017", 10),
    ("passwords = [\"Summer2016\"]", "Summer2019", 100),
    ("passwords = [\"summer16\"]", "summer17", 30),
    ("passwords = [\"sunshine3\"]", "Sunshine3!", 100),
    ("passwords = [\"Dragon12\"]", "dRAGON12", 30),
    ("passwords = [\"dragon12!\"]", "dragon12", 30),
    ("passwords = [\"kitty\"]", "kitty1", 30),
    ("passwords = [\"kitty1\"]", "kitty", 30),
    ("passwords = [\"kitty1\"]", "Kitty2!", 2000),
    ("passwords = [\"Liverpool5\"]", "liverpool5", 30),
    ("passwords = [\"Liverpool5\"]", "LIVERPOOL5", 100),
    ("passwords = [\"1397\"]", "1397", 5),
    // A phone passcode and the hints together.
    ("words = [\"rex\"]\npasswords = [\"2580\"]", "2580", 10),
    // Nothing remembered: the common passwords and PINs.
    ("", "iloveyou", 100),
    ("", "1111", 20_000),
];

fn rank_of(hints: &Hints, answer: &str) -> Option<u64> {
    let plan = default_plan(Some(hints));
    let it = plan.iter_from(0).unwrap();
    for item in it.take(2_000_000) {
        let (i, guess) = item.unwrap();
        if guess == answer.as_bytes() {
            return Some(i + 1);
        }
    }
    None
}

#[test]
fn patterns_rank_early() {
    let mut failures = Vec::new();
    for &(toml, answer, bound) in CASES {
        let hints = Hints::from_toml(toml, "case.toml").unwrap();
        let rank = rank_of(&hints, answer);
        let shown = rank.map_or("not found".into(), |r| r.to_string());
        println!("{:>10}  {answer:<14} {}", shown, toml.replace('\n', "; "));
        if rank.is_none_or(|r| r > bound) {
            failures.push(format!("{answer}: rank {shown}, bound {bound}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
