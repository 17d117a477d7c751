//! The guesses ranked from hints (`hints::rank`), on hints read as in the hints target.
//!
//! `rank` is not lazy: it builds every guess above the score floor, tens of thousands for one
//! word. To keep an input in the milliseconds, only the first value of each field is ranked,
//! against 20 common passwords and PINs (lists of 20, so the Zipf sums stay short). The
//! output must be sorted, unique, within the length limits and above the floor.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sesame_guess::hints::{rank, Hints, RankedList, MAX_HINT_TIER, SCORE_FLOOR};
use sesame_guess::{common, pins, MAX_LEN};

const LIST_TOP: usize = 20;

fn list(top: &[String]) -> RankedList<'_> {
    RankedList {
        top,
        full_len: top.len(),
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut hints = match Hints::from_toml(&text, "fuzz.toml") {
        Ok(h) => h,
        Err(_) => {
            let lines: Vec<String> = text.lines().take(4).map(str::to_string).collect();
            let one = |i: usize| lines.get(i).cloned().into_iter().collect::<Vec<_>>();
            let mut h = Hints::default();
            if h.add_flags(&one(0), &one(1), &one(2), &one(3)).is_err() {
                return;
            }
            h
        }
    };
    hints.words.truncate(1);
    hints.dates.truncate(1);
    hints.numbers.truncate(1);
    hints.passwords.truncate(1);

    let common: Vec<String> = common::ranked()
        .iter()
        .take(LIST_TOP)
        .map(|s| s.to_string())
        .collect();
    let pins_4: Vec<String> = pins::ranked_4()
        .iter()
        .take(LIST_TOP)
        .map(|&p| pins::format(p, 4))
        .collect();
    let pins_6: Vec<String> = pins::ranked_6()
        .iter()
        .take(LIST_TOP)
        .map(|&p| pins::format(p, 6))
        .collect();
    let ranked = rank(&hints, list(&common), list(&pins_4), list(&pins_6));

    assert!(ranked.len() <= MAX_HINT_TIER);
    let mut seen = std::collections::HashSet::new();
    for (i, s) in ranked.iter().enumerate() {
        assert!(!s.guess.is_empty() && s.guess.len() <= MAX_LEN);
        assert!(
            s.score.is_finite() && s.score >= SCORE_FLOOR,
            "score {}",
            s.score
        );
        assert!(seen.insert(&s.guess), "guess {:?} ranked twice", s.guess);
        if let Some(next) = ranked.get(i + 1) {
            assert!(
                s.score > next.score || (s.score == next.score && s.guess < next.guess),
                "ranking out of order"
            );
        }
    }
});
