//! A held-out-style set: scenarios written like the development ones (what an owner still
//! remembers, and the password really set) but with other people and other words than both
//! the development scenarios and `hints_patterns.rs`. It covers the pattern families the
//! scenarios' README names, and checks the generator generalises: each rank is asserted
//! against an upper bound (measured + slack), and the whole set against the targets,
//! scaled to its size (13 of 15 within 10,000 guesses, 10 of 15 within 1,000).
//!
//! Print the table: `cargo test -p sesame-guess --test heldout_like -- --nocapture`.

use sesame_guess::hints::{default_plan, Hints};

/// (family, hints TOML, true password, upper bound on its rank: about twice the rank
/// measured, plus 5, as in `scenarios.rs`).
const CASES: &[(&str, &str, &str, u64)] = &[
    // A known word or name with a year.
    (
        "name+year",
        "words = [\"charlie\"]\ndates = [\"1990-04-12\"]",
        "Charlie1990",
        27,
    ),
    (
        "name+yy",
        "words = [\"tiger\"]\ndates = [\"1984-09-30\"]",
        "tiger84",
        33,
    ),
    (
        "name+year (numbers)",
        "words = [\"nemo\"]\nnumbers = [\"1999\"]",
        "nemo1999",
        13,
    ),
    // A birthday typed as a PIN, in various formats.
    ("pin DDMMYY", "dates = [\"1993-07-25\"]", "250793", 13),
    ("pin MMDDYYYY", "dates = [\"1966-12-04\"]", "12041966", 19),
    ("pin MMDD", "dates = [\"2001-02-14\"]", "0214", 9),
    ("pin DDMMYYYY", "dates = [\"1958-08-19\"]", "19081958", 19),
    // An old password with a changed year or an appended symbol.
    (
        "old: year+2",
        "passwords = [\"Spring2021\"]",
        "Spring2023",
        21,
    ),
    (
        "old: year+1",
        "passwords = [\"bears2015\"]",
        "bears2016",
        13,
    ),
    ("old: +!", "passwords = [\"hockey22\"]", "hockey22!", 19),
    (
        "old: +! (cap)",
        "passwords = [\"Chocolate1\"]",
        "Chocolate1!",
        19,
    ),
    (
        "old: number+1",
        "passwords = [\"cowboys7\"]",
        "cowboys8",
        11,
    ),
    // Caps Lock left on.
    (
        "caps lock (old)",
        "passwords = [\"Mustang69\"]",
        "mUSTANG69",
        13,
    ),
    (
        "caps lock name+year",
        "words = [\"diana\"]\ndates = [\"1975-01-08\"]",
        "dIANA1975",
        141,
    ),
    ("caps lock word", "words = [\"cookie\"]", "COOKIE", 17),
    // Two names run together.
    (
        "two names",
        "words = [\"ella\", \"james\"]",
        "ellajames",
        15,
    ),
    (
        "two names reversed",
        "words = [\"oliver\", \"grace\"]",
        "GraceOliver",
        31,
    ),
    (
        "first+surname+1",
        "words = [\"emily\", \"wilson\"]",
        "EmilyWilson1",
        125,
    ),
    (
        "two names+year",
        "words = [\"mike\", \"jenny\"]\ndates = [\"2010-06-12\"]",
        "mikejenny2010",
        167,
    ),
    // Simple letter-for-digit swaps.
    ("leet o,i", "words = [\"rosie\"]", "r0s1e", 1391),
    ("leet e", "words = [\"hunter\"]", "hunt3r", 55),
    ("leet a->@", "words = [\"marcus\"]", "m@rcus", 317),
    // A common password, whatever the hints.
    ("common (pet known)", "words = [\"mittens\"]", "abc123", 137),
    ("common (nothing)", "", "123123", 27),
    (
        "common (old pw)",
        "passwords = [\"Gandalf77\"]",
        "qwerty",
        47,
    ),
    // Multi-word phrases.
    ("phrase", "words = [\"green day\"]", "greenday", 7),
    ("phrase Cap+1", "words = [\"star wars\"]", "StarWars1", 15),
    (
        "phrase 3 words",
        "words = [\"go spurs go\"]",
        "gospursgo",
        7,
    ),
    // Dates given partially (YYYY or MM-DD).
    (
        "name+YYYY only",
        "words = [\"milo\"]\ndates = [\"2016\"]",
        "milo2016",
        13,
    ),
    ("MM-DD as PIN", "dates = [\"07-04\"]", "0407", 9),
    (
        "name+MMDD",
        "words = [\"ruby\"]\ndates = [\"10-31\"]",
        "ruby1031",
        15,
    ),
    // House/shirt numbers with names.
    (
        "house number",
        "words = [\"maple\"]\nnumbers = [\"42\"]",
        "Maple42",
        13,
    ),
    (
        "shirt number",
        "words = [\"messi\"]\nnumbers = [\"10\"]",
        "messi10",
        9,
    ),
    (
        "shirt number+!",
        "words = [\"jordan\"]\nnumbers = [\"23\"]",
        "Jordan23!",
        49,
    ),
    (
        "lucky number+!",
        "words = [\"gizmo\"]\nnumbers = [\"7\"]",
        "Gizmo7!",
        49,
    ),
    // Names with a capital first letter plus "!" or "123".
    ("Name!", "words = [\"olivia\"]", "Olivia!", 23),
    ("Name123", "words = [\"harry\"]", "Harry123", 25),
    ("Name1", "words = [\"kevin\"]", "Kevin1", 13),
    // Reversed order: year (or number) then name.
    (
        "year then name",
        "words = [\"buddy\"]\ndates = [\"1979-05-20\"]",
        "1979buddy",
        111,
    ),
    (
        "number then name",
        "words = [\"alex\"]\nnumbers = [\"12\"]",
        "12alex",
        33,
    ),
    // A pet + the owner's birth year.
    (
        "pet+owner year",
        "words = [\"buster\"]\ndates = [\"1982-11-03\"]",
        "Buster1982",
        27,
    ),
    (
        "pet+owner yy",
        "words = [\"pepsi\", \"karen\"]\ndates = [\"1971-06-29\"]",
        "pepsi71",
        61,
    ),
    // Separators between two words, or a word and its year.
    ("sep _", "words = [\"anna\", \"peter\"]", "anna_peter", 105),
    ("sep .", "words = [\"tom\", \"lucy\"]", "tom.lucy", 171),
    ("sep -", "words = [\"blue\", \"moon\"]", "blue-moon", 163),
    (
        "name.year",
        "words = [\"nina\"]\ndates = [\"1989-02-17\"]",
        "nina.1989",
        559,
    ),
    // A name with a full birthday.
    (
        "name+DDMM",
        "words = [\"daniel\"]\ndates = [\"1991-03-15\"]",
        "daniel1503",
        55,
    ),
    (
        "Name+year+!",
        "words = [\"lola\"]\ndates = [\"1994-10-05\"]",
        "Lola1994!",
        155,
    ),
    (
        "year then Name",
        "words = [\"rocky\"]\ndates = [\"2005-03-21\"]",
        "2005Rocky",
        115,
    ),
    (
        "yy then name",
        "words = [\"ziggy\"]\ndates = [\"1987-07-07\"]",
        "87ziggy",
        185,
    ),
    (
        "old: year+3 and !",
        "passwords = [\"Autumn2020\"]",
        "Autumn2023!",
        201,
    ),
    ("old: yy+1", "passwords = [\"packers19\"]", "packers20", 11),
    (
        "name+DDMMYYYY",
        "words = [\"anton\"]\ndates = [\"1988-05-13\"]",
        "anton13051988",
        87,
    ),
    (
        "Two Names sep _",
        "words = [\"sara\", \"ben\"]",
        "Sara_Ben",
        141,
    ),
    (
        "child name+child year",
        "words = [\"sofia\", \"lucas\"]\ndates = [\"2014-05-02\", \"2017-09-11\"]",
        "lucas2017",
        59,
    ),
    (
        "car+number",
        "words = [\"porsche\"]\nnumbers = [\"911\"]",
        "porsche911",
        11,
    ),
    ("ilove+name", "words = [\"mike\"]", "ilovemike", 75),
    ("name+1234", "words = [\"simba\"]", "simba1234", 47),
    (
        "leet+year",
        "words = [\"sasha\"]\ndates = [\"1996-08-22\"]",
        "s4sha1996",
        2957,
    ),
    (
        "phrase+year",
        "words = [\"green bay\"]\ndates = [\"1997-01-26\"]",
        "greenbay1997",
        27,
    ),
    (
        "name+number+!",
        "words = [\"willow\"]\nnumbers = [\"18\"]",
        "Willow18!",
        49,
    ),
    (
        "caps lock 2 names",
        "words = [\"adam\", \"eve\"]",
        "aDAMeVE",
        155,
    ),
    (
        "name@yy",
        "words = [\"paula\"]\ndates = [\"1969-04-02\"]",
        "paula@69",
        1047,
    ),
    (
        "old pw new number+!",
        "passwords = [\"tigger4\"]",
        "Tigger5!",
        185,
    ),
    (
        "number doubled",
        "words = [\"kiki\"]\nnumbers = [\"5\"]",
        "kiki55",
        1419,
    ),
    (
        "Name+MM-DD as DDMM",
        "words = [\"lea\"]\ndates = [\"03-12\"]",
        "Lea1203",
        21,
    ),
    ("pin MMDDYY", "dates = [\"1980-10-09\"]", "100980", 13),
    ("pin DMYY", "dates = [\"1985-06-03\"]", "3685", 35),
    (
        "pet+number, date too",
        "words = [\"bruno\"]\nnumbers = [\"9\"]\ndates = [\"1977-02-28\"]",
        "bruno9",
        13,
    ),
    (
        "Name+yy",
        "words = [\"fiona\"]\ndates = [\"1983-12-01\"]",
        "Fiona83",
        39,
    ),
    (
        "surname+first reversed",
        "words = [\"laura\", \"king\"]",
        "kinglaura",
        25,
    ),
    (
        "word+generic year",
        "words = [\"barney\"]",
        "barney2024",
        305,
    ),
    (
        "old pw lowercased+1",
        "passwords = [\"Bulldog\"]",
        "bulldog1",
        23,
    ),
    ("MMYYYY", "dates = [\"1962-04-18\"]", "041962", 53),
];

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
fn heldout_like_ranks() {
    let mut ranks = Vec::new();
    let mut failures = Vec::new();
    println!("| # | family | hints | answer | rank |");
    println!("|---:|---|---|---|---:|");
    for (n, &(family, toml, answer, bound)) in CASES.iter().enumerate() {
        let hints = Hints::from_toml(toml, "case.toml").unwrap();
        let rank = rank_of(&hints, answer);
        let shown = rank.map_or("not found".to_string(), |r| r.to_string());
        let summary = if toml.is_empty() {
            "(nothing)".to_string()
        } else {
            toml.replace('\n', "; ")
        };
        println!(
            "| {} | {family} | {summary} | `{answer}` | {shown} |",
            n + 1
        );
        if rank.is_none_or(|r| r > bound) {
            failures.push(format!("{answer}: rank {shown}, bound {bound}"));
        }
        ranks.push(rank);
    }
    let within = |limit: u64| {
        ranks
            .iter()
            .filter(|r| r.is_some_and(|r| r <= limit))
            .count()
    };
    let (in_1k, in_10k, total) = (within(1_000), within(10_000), ranks.len());
    println!("\nwithin 1,000: {in_1k}; within 10,000: {in_10k}; of {total}");
    // The targets, scaled: 13/15 within 10,000 and 10/15 within 1,000.
    assert!(
        in_10k * 15 >= total * 13,
        "only {in_10k} of {total} within 10,000"
    );
    assert!(
        in_1k * 15 >= total * 10,
        "only {in_1k} of {total} within 1,000"
    );
    assert!(failures.is_empty(), "{failures:#?}");
}
