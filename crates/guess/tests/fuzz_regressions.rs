//! Inputs the fuzz targets (fuzz/, scripts/fuzz.sh) found to crash, hang or exhaust memory,
//! kept as tests so they stay fixed.

use sesame_guess::hints::{rank, Hints, RankedList};

fn list(top: &[String]) -> RankedList<'_> {
    RankedList {
        top,
        full_len: top.len(),
    }
}

/// The ranked guesses, against one-entry lists: the cases are about the hints, not about the
/// common passwords and PINs.
fn ranked(hints: &Hints) -> Vec<String> {
    let common = ["123456".to_string()];
    let pins = ["1234".to_string()];
    rank(hints, list(&common), list(&pins), list(&pins))
        .into_iter()
        .map(|s| s.guess)
        .collect()
}

/// fuzz target `hints_rank`: an old password ending in a number near i64::MAX panicked with
/// "attempt to add with overflow" while stepping the number up (n + 1, n + 2, ...); release
/// builds wrapped around instead. Steps past the largest number are left out.
#[test]
fn an_old_password_ending_in_a_huge_number_does_not_overflow() {
    let hints = Hints::from_toml(r#"passwords = ["a9223372036854775807"]"#, "hints.toml").unwrap();
    let guesses = ranked(&hints);
    assert!(guesses.iter().any(|g| g == "a9223372036854775807"));
    assert!(guesses.iter().any(|g| g == "a9223372036854775806"));
    // No step wrapped around to a negative number.
    assert!(!guesses.iter().any(|g| g.contains("-922337")));
}
