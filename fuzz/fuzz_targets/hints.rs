//! Hints files (TOML) and hint flags. Text that is not a hints file is used as the quick
//! flags instead, one value a line, and as questionnaire answers. Hints read either way must write back (`to_toml`) to the
//! same hints. The guesses ranked from hints have their own, slower target: hints_rank.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sesame_guess::hints::{Answers, Hints, Question};
use sesame_guess::GuessError;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let hints = match Hints::from_toml(&text, "fuzz.toml") {
        Ok(h) => h,
        Err(e) => {
            let _ = GuessError::from(e).to_string();
            // Line i goes to flag i mod 4: --word, --date, --number, --old-password.
            let mut groups: [Vec<String>; 4] = Default::default();
            for (i, line) in text.lines().take(16).enumerate() {
                groups[i % 4].push(line.to_string());
            }
            let mut h = Hints::default();
            // The same lines as questionnaire answers, line i to question i mod 8.
            let mut answers = Answers::default();
            for (i, line) in text.lines().take(16).enumerate() {
                let q = Question::ALL[i % Question::ALL.len()];
                let added = answers.add(q, line);
                // What was kept always reads as hints; each refusal says why.
                answers.to_hints().expect("answers that were kept read as hints");
                for e in &added.refused {
                    assert!(!e.msg.is_empty(), "a refused answer says why");
                }
            }
            if let Err(e) = h.add_flags(&groups[0], &groups[1], &groups[2], &groups[3]) {
                let _ = e.to_string();
                return;
            }
            h
        }
    };
    let back = Hints::from_toml(&hints.to_toml(), "again.toml").expect("to_toml reads back");
    assert_eq!(back, hints, "hints changed in a to_toml round trip");
    let _ = (hints.is_empty(), format!("{hints:?}"));
    let mut merged = hints.clone();
    merged.merge(hints.clone());
    assert_eq!(merged, hints, "merging hints with themselves changed them");
});
