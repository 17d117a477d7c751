//! Behaviours the hint model covers beyond a word and its ending (issue 13): a date between
//! two names, an old passcode after a name, pieces of a phone number, a street without its
//! suffix, initials, usernames, mnemonics, old-password edits (a symbol moved, another word in
//! the same structure, two combined, a typo, the next season), decorated common passwords,
//! keyboard walks, other spellings, the 4-digit block after a word.
//!
//! Each row is a hints file with invented people (none of the development scenarios' words),
//! the password its owner set, and an upper bound on its rank in the default stream: about
//! twice the rank measured when the behaviour was added, plus 10, so a behaviour that stops
//! being generated or falls far down shows up here.
//!
//! Print the ranks: `cargo test -p sesame-guess --test behaviours -- --nocapture`.

use sesame_guess::hints::{default_plan, Hints};

/// (behaviour, hints TOML, true password, upper bound on its rank).
const CASES: &[(&str, &str, &str, u64)] = &[
    (
        "year between two names",
        "words = [\"Tomas\", \"Irena\", \"Brno\"]\ndates = [\"2004-05-15\"]",
        "tomas2004irena",
        880,
    ),
    (
        "old passcode after a name",
        "words = [\"Gwendolyn\", \"Leeds\"]\npasswords = [\"5821\"]",
        "Gwendolyn5821",
        30,
    ),
    (
        "old passcode before a name",
        "words = [\"Gwendolyn\", \"Leeds\"]\npasswords = [\"5821\"]",
        "5821gwendolyn",
        100,
    ),
    (
        "passcode extended with the year",
        "dates = [\"1984-02-09\"]\npasswords = [\"0209\"]",
        "020984",
        20,
    ),
    (
        "last 4 digits of a phone number",
        "words = [\"Priya\", \"Dallas\"]\nnumbers = [\"2145550188\"]",
        "Priya0188",
        40,
    ),
    (
        "phone number without its area code",
        "words = [\"Otto\"]\nnumbers = [\"3125550147\"]",
        "5550147",
        15,
    ),
    (
        "street without 'lane' + house number",
        "words = [\"Juniper Lane\", \"Hugo\"]\nnumbers = [\"418\"]",
        "juniper418",
        100,
    ),
    (
        "one word of a team's name",
        "words = [\"Trail Blazers\", \"Ines\"]",
        "blazers",
        75,
    ),
    (
        "children's initials + year",
        "words = [\"Ada\", \"Basil\", \"Cora\", \"Denver\"]\ndates = [\"2009\"]",
        "abc2009",
        250,
    ),
    (
        "first initial + surname + yy",
        "words = [\"Marek\", \"Nowicki\", \"Tampa\"]\ndates = [\"1977-03-02\"]",
        "mnowicki77",
        3300,
    ),
    (
        "username's letters + birth year",
        "words = [\"skyrunner88\", \"Oslo\"]\ndates = [\"1990-01-01\"]",
        "Skyrunner1990",
        90,
    ),
    (
        "e-mail address's name",
        "words = [\"tina.baker@mail.com\", \"Rome\"]",
        "tinabaker",
        20,
    ),
    (
        "mnemonic of a quoted line",
        "words = [\"Here comes the sun little darling\", \"Ringo\"]",
        "Hctsld!",
        120,
    ),
    (
        "old: symbol moved to the end",
        "passwords = [\"Marlin#42\"]",
        "Marlin42#",
        40,
    ),
    (
        "old: symbol moved inside",
        "passwords = [\"Marlin42!\"]",
        "Marlin!42",
        40,
    ),
    (
        "old: structure with another hint word",
        "words = [\"Pepper\", \"Nantes\"]\npasswords = [\"Biscuit%12\"]",
        "Pepper%12",
        70,
    ),
    (
        "old: two old passwords combined",
        "passwords = [\"Falcon77?\", \"otter1999\"]",
        "Falcon1999",
        75,
    ),
    (
        "common password capitalised",
        "words = [\"Gertrude\"]",
        "Sunshine",
        2000,
    ),
    (
        "common password + hint year",
        "words = [\"Gertrude\"]\ndates = [\"1991-07-07\"]",
        "football1991",
        5300,
    ),
    (
        "keyboard walk after a name",
        "words = [\"ingmar\", \"Bergen\"]",
        "ingmar!@#",
        1030,
    ),
    (
        "old: adjacent-key typo",
        "passwords = [\"Marigold47\"]",
        "Marigolf47",
        560,
    ),
    (
        "name's other spelling + year",
        "words = [\"Jaxon\", \"Reno\"]\ndates = [\"2011-04-02\"]",
        "Jaxen2011",
        12500,
    ),
    (
        "old: next season, same language",
        "passwords = [\"Sommer2023\"]",
        "Herbst2024",
        240,
    ),
    (
        "word + a month-day not given",
        "words = [\"Waffles\", \"Tulsa\"]\ndates = [\"1999\"]",
        "waffles0317",
        70000,
    ),
    (
        "word + any 4 digits",
        "words = [\"Waffles\", \"Tulsa\"]\ndates = [\"1999\"]",
        "Waffles8642",
        280000,
    ),
    (
        "a date written day/month/year",
        "words = [\"Lena\", \"Graz\"]\ndates = [\"21/03/1988\"]",
        "lena2103",
        120,
    ),
    (
        "first-listed name with the first-listed date",
        "words = [\"Zeno\", \"Benedetta\", \"Aurelio\", \"Lucca\"]\ndates = [\"1971-06-02\", \"1999-10-20\", \"2003-01-08\"]",
        "Zeno1971",
        BOUND_FIRST_LISTED,
    ),
    (
        "a line of words in sentence case, spaces kept",
        "words = [\"all you need is love\", \"Marta\", \"Leeds\"]",
        "All you need is love",
        BOUND_SENTENCE,
    ),
    (
        "a street's name without its kind, with the house number",
        "words = [\"Juniper Lane\", \"Oswald\", \"Fergus\"]\nnumbers = [\"4417\"]",
        "Juniper4417",
        25,
    ),
    (
        "old: a symbol put between the word and the digits",
        "words = [\"Hector\"]\npasswords = [\"Marlin84\", \"my2cats\"]",
        "Marlin!84",
        380,
    ),
    (
        "old: a number inside counted up",
        "words = [\"Hector\"]\npasswords = [\"Marlin84\", \"my2cats\"]",
        "my3cats",
        110,
    ),
    (
        "old: the next month, same language",
        "words = [\"Greta\"]\npasswords = [\"Oktober2023\"]",
        "November2023",
        BOUND_NEXT_MONTH,
    ),
    (
        "the initials of a two-word name with its year",
        "words = [\"Mary Jane\", \"Leeds\", \"Bolton\"]\ndates = [\"1988-05-02\"]",
        "mj1988",
        360,
    ),
    (
        "a full name in one answer as first initial and surname",
        "words = [\"Ingrid Bergman\", \"Stockholm\"]",
        "ibergman",
        80,
    ),
    (
        "old: one old password's number in another",
        "passwords = [\"Sunshine1!\", \"blue42\"]",
        "Sunshine42!",
        70,
    ),
    (
        "a name with 1 and !",
        "words = [\"Odette\", \"Bram\", \"Utrecht\"]\ndates = [\"1979-03-14\"]",
        "Odette1!",
        140,
    ),
    (
        "a month of a year, written in words, as digits",
        "words = [\"Casimir\", \"Lisbon\"]\ndates = [\"October 2009\"]",
        "102009",
        10,
    ),
    (
        "a month of a year, written in words, by its name",
        "words = [\"Casimir\", \"Lisbon\"]\ndates = [\"October 2009\"]",
        "october2009",
        20,
    ),
    (
        "a month of a year after a name: its year",
        "words = [\"Casimir\", \"Lisbon\"]\ndates = [\"October 2009\"]",
        "Casimir2009",
        20,
    ),
];

/// Bounds of the cases above, for the comparisons below.
const BOUND_FIRST_LISTED: u64 = 40;
const BOUND_SENTENCE: u64 = 40;
const BOUND_NEXT_MONTH: u64 = 60;

/// Guesses walked at most per case: the hint tier, the common passwords and all PINs.
const WALK_LIMIT: u64 = 2_000_000;

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
fn behaviour_ranks() {
    let mut failures = Vec::new();
    for &(behaviour, toml, answer, bound) in CASES {
        let hints = Hints::from_toml(toml, "case.toml").unwrap();
        let rank = rank_of(&hints, answer);
        let shown = rank.map_or("not found".to_string(), |r| r.to_string());
        println!("{behaviour}: `{answer}` at {shown} (bound {bound})");
        if rank.is_none_or(|r| r > bound) {
            failures.push(format!("{behaviour}: {answer} at {shown}, bound {bound}"));
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

/// Pairs of guesses from one hints file: the first must come before the second. They pin the
/// order of behaviours against each other, which bounds alone do not.
const BEFORE: &[(&str, &str, &str, &str)] = &[
    (
        // Listed last, first in byte order, with the more popular year: only the list's order
        // puts it behind.
        "the first things listed before the last",
        "words = [\"Zeno\", \"Benedetta\", \"Aurelio\", \"Lucca\"]\ndates = [\"1971-06-02\", \"1999-10-20\", \"2003-01-08\"]",
        "Zeno1971",
        "Aurelio2003",
    ),
    (
        // Ur15's "1" then "!" for a rule that wants a digit and a symbol.
        "a name with 1! before a name with 123!",
        "words = [\"Odette\", \"Bram\", \"Utrecht\"]\ndates = [\"1979-03-14\"]",
        "Odette1!",
        "Odette123!",
    ),
    (
        "old: the next month before one three months on",
        "words = [\"Greta\"]\npasswords = [\"Oktober2023\"]",
        "November2023",
        "Januar2024",
    ),
    (
        "an old passcode after a name before the passcode counted up",
        "words = [\"Hector\", \"Cadiz\"]\npasswords = [\"7319\"]",
        "hector7319",
        "7320",
    ),
    (
        "a short number after a name before the number alone",
        "words = [\"Ottilie\", \"Bremen\"]\nnumbers = [\"47\"]",
        "ottilie47",
        "47",
    ),
    (
        "a long line with its spaces before a two-word name with spaces",
        "words = [\"all you need is love\", \"santa fe\"]",
        "All you need is love",
        "Santa fe",
    ),
];

#[test]
fn behaviours_in_order() {
    let mut failures = Vec::new();
    for &(what, toml, first, second) in BEFORE {
        let hints = Hints::from_toml(toml, "case.toml").unwrap();
        let (a, b) = (rank_of(&hints, first), rank_of(&hints, second));
        println!("{what}: `{first}` at {a:?}, `{second}` at {b:?}");
        match (a, b) {
            (Some(a), Some(b)) if a < b => {}
            (Some(_), None) => {}
            _ => failures.push(format!("{what}: {first} at {a:?}, {second} at {b:?}")),
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}
