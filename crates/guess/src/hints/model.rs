//! The prior weights of the hint model: how likely each way of turning a remembered thing into
//! a password is. A guess's score is the product of the weights of the steps that make it,
//! summed over every way of making it (so two derivations of the same string add up, as
//! probabilities of disjoint events do).
//!
//! The numbers are rough shares taken from published studies of how people build passwords
//! from personal information (names + years, capitalised first letter, "1" and "!" as the
//! favourite endings, birthdays as PINs) and tuned on the patterns, never the words, of the
//! development scenarios. Within a table the weights are relative; tables are normalised
//! where they are used.

/// Share of the whole hint tier for each kind of origin, before normalising over the kinds a
/// hints file actually has. Old passwords are the strongest hint (people reuse and edit them);
/// words next; dates/numbers typed alone (a passcode or a birthday) are common on phones;
/// common passwords and PINs are mixed in at low weight because the owner may not have used
/// anything personal at all.
pub const KIND_WORD: f64 = 0.40;
pub const KIND_PAIR: f64 = 0.10;
pub const KIND_PASSWORD: f64 = 0.45;
pub const KIND_DIGITS: f64 = 0.15;
pub const KIND_COMMON: f64 = 0.07;
pub const KIND_PIN: f64 = 0.05;

/// Of the words, dates and numbers a person lists, each weighs this much of the one before it
/// (down to the floor, as a share of the first): the first things named are the ones that
/// matter most to them, and passwords are made from those (in the studies' targeted guessing,
/// the owner's own name and birthday lead).
pub const LISTED_DECAY: f64 = 0.5;
pub const LISTED_FLOOR: f64 = 0.1;

/// A word typed twice ("lunaluna"), as a share of the word.
pub const WORD_DOUBLED: f64 = 0.01;

/// Of the digits typed alone, the share of two remembered numbers or dates typed one after the
/// other ("0714", "141995"); and of a short number typed twice ("1414").
pub const DIGITS_COMBINED: f64 = 0.08;
pub const NUMBER_DOUBLED: f64 = 0.05;
/// A number of 1 to 3 digits typed alone, against a longer one: such numbers end words.
pub const NUMBER_SHORT_ALONE: f64 = 0.15;

/// Of an old password's share, how much goes to its letters treated as a word (a new ending on
/// the same stem: "rainbow7" -> "Rainbow2024!").
pub const PASSWORD_STEM_SHARE: f64 = 0.15;

/// Order of a pair as listed (first name before surname) against the reverse.
pub const PAIR_GIVEN_ORDER: f64 = 0.6;
pub const PAIR_REVERSED: f64 = 0.4;

/// Case of a word. `as_typed` is added on top when the hint's own spelling differs from all
/// of these (a hint written "McDonald" or "iPhone" says how it is spelled).
pub const CASE_LOWER: f64 = 0.42;
pub const CASE_CAPITAL: f64 = 0.36;
/// A phrase with only its first word capitalised: "Newyork".
pub const CASE_CAPITAL_FIRST_ONLY: f64 = 0.06;
pub const CASE_UPPER: f64 = 0.07;
/// Capitalised while Caps Lock was on: "lUNA".
pub const CASE_INVERTED: f64 = 0.03;
pub const CASE_AS_TYPED: f64 = 0.15;
/// Moved from one of lower case and capitalised to the other when the hint was typed that
/// way ("ingrid" -> "ingrid1963" more often; "Maeve" -> "Maeve2000").
pub const CASE_TYPED_SHIFT: f64 = 0.05;

/// Case of two words run together: lower-lower, Cap-Cap, Cap-lower, UPPER, Caps Lock, camel.
pub const PAIR_CASES: [f64; 6] = [0.45, 0.33, 0.10, 0.06, 0.03, 0.03];

/// What joins the words of a phrase ("new york").
pub const PHRASE_JOINERS: [(&str, f64); 5] = [
    ("", 0.70),
    (" ", 0.10),
    ("_", 0.06),
    ("-", 0.04),
    (".", 0.04),
];

/// What joins the words of a line of three words or more ("go with the flow"), and the
/// share of its sentence case ("Go with the flow"): typed as written more often than a
/// two-word name is.
pub const SENTENCE_JOINERS: [(&str, f64); 5] = [
    ("", 0.55),
    (" ", 0.30),
    ("_", 0.05),
    ("-", 0.05),
    (".", 0.05),
];
pub const CASE_SENTENCE: f64 = 0.20;

/// What joins two separate words ("toby" + "smith").
pub const PAIR_JOINERS: [(&str, f64); 8] = [
    ("", 0.62),
    ("&", 0.06),
    ("_", 0.06),
    (" ", 0.06),
    ("and", 0.05),
    (".", 0.04),
    ("-", 0.04),
    ("+", 0.02),
];

/// Share of letter-for-digit swaps ("p3pp3r") among all spellings of a word.
pub const LEET_SHARE: f64 = 0.06;

/// Given that a word is spelled with swaps, each kind of letter is swapped independently with
/// these chances (the rest of each row: left alone). Several kinds at once ("s0ph1e") are as
/// possible as one; the outcome "nothing swapped" is excluded and the rest renormalised.
pub const LEET_KINDS: [(char, &[(char, f64)]); 9] = [
    ('a', &[('4', 0.25), ('@', 0.30)]),
    ('e', &[('3', 0.55)]),
    ('i', &[('1', 0.45), ('!', 0.08)]),
    ('o', &[('0', 0.55)]),
    ('s', &[('5', 0.25), ('$', 0.25)]),
    ('t', &[('7', 0.30)]),
    ('l', &[('1', 0.25)]),
    ('g', &[('9', 0.15)]),
    ('b', &[('8', 0.10)]),
];

/// Of the swaps of a letter found more than once in the word, the share made at its first
/// occurrence only ("s4sha", "p3pper"); the rest swap it everywhere.
pub const LEET_FIRST_ONLY: f64 = 0.25;

/// Swapped spellings less likely than this (given swaps at all) are not tried.
pub const LEET_MIN: f64 = 0.002;

/// What is put around a word, as shares of all its spellings.
pub const AFFIX_NONE: f64 = 0.28;
/// A number or date fragment from the hints after the word: "luna1995".
pub const AFFIX_HINT_DIGITS: f64 = 0.28;
/// A popular ending not from the hints: "luna1", "luna123", "luna2019".
pub const AFFIX_GENERIC_DIGITS: f64 = 0.20;
pub const AFFIX_SYMBOL: f64 = 0.08;
/// Digits then a symbol: "luna1995!".
pub const AFFIX_DIGITS_SYMBOL: f64 = 0.10;
/// A separator, then digits: "luna_1995", "luna@14".
pub const AFFIX_SEPARATED_DIGITS: f64 = 0.025;
pub const AFFIX_HINT_PREFIX: f64 = 0.03;
pub const AFFIX_GENERIC_PREFIX: f64 = 0.01;
pub const AFFIX_SYMBOL_PREFIX: f64 = 0.005;
/// A few words put before a name: "ilovemike", "mymax".
pub const AFFIX_WORD_PREFIX: f64 = 0.01;

/// Endings more popular than their parts' weights make them, as shares of a word's affixes
/// (on top of the digits-then-symbol endings): "1" then "!" to meet a rule that asks for a
/// digit and a symbol is the habit the studies of password creation see most.
pub const POPULAR_ENDINGS: [(&str, f64); 3] = [("1!", 0.010), ("123!", 0.003), ("!1", 0.001)];

/// The words of [`AFFIX_WORD_PREFIX`], by popularity.
pub const WORD_PREFIXES: [(&str, f64); 3] = [("ilove", 0.75), ("my", 0.20), ("iluv", 0.05)];

/// For two words run together, how much more often they stand with nothing around them.
pub const PAIR_AFFIX_NONE: f64 = 0.50;

/// Of the "digits then symbol" endings, how many use the hints' digits.
pub const DIGITS_SYMBOL_FROM_HINTS: f64 = 0.6;

/// Separators between a word and its digits.
pub const DIGIT_SEPARATORS: [(&str, f64); 6] = [
    ("_", 0.30),
    (".", 0.20),
    ("@", 0.20),
    ("-", 0.15),
    (" ", 0.10),
    ("#", 0.05),
];

/// Endings made of symbols, by popularity ("!" dominates).
pub const SYMBOLS: [(&str, f64); 18] = [
    ("!", 50.0),
    ("@", 8.0),
    ("#", 7.0),
    (".", 6.0),
    ("?", 5.0),
    ("$", 5.0),
    ("*", 5.0),
    ("!!", 5.0),
    ("_", 2.0),
    ("-", 2.0),
    ("!!!", 2.0),
    ("&", 1.0),
    ("%", 1.0),
    ("+", 1.0),
    ("~", 0.5),
    (")", 0.5),
    ("=", 0.5),
    ("^", 0.5),
];

/// Popular digit endings that do not come from the hints, by popularity. Two-digit numbers
/// and years are added by [`generic_digits`].
const GENERIC_DIGITS: [(&str, f64); 29] = [
    ("1", 30.0),
    ("123", 12.0),
    ("2", 6.0),
    ("12", 5.0),
    ("1234", 4.0),
    ("3", 3.0),
    ("7", 3.0),
    ("11", 2.0),
    ("13", 2.0),
    ("01", 2.0),
    ("12345", 2.0),
    ("22", 1.5),
    ("69", 1.5),
    ("21", 1.5),
    ("23", 1.5),
    ("10", 1.5),
    ("5", 1.5),
    ("4", 1.2),
    ("8", 1.2),
    ("9", 1.2),
    ("0", 1.2),
    ("6", 1.2),
    ("99", 1.2),
    ("00", 1.2),
    ("123456", 1.0),
    ("007", 0.6),
    ("321", 0.6),
    ("111", 0.6),
    ("777", 0.6),
];

/// The year passwords are being guessed in, roughly: recent years weigh more as endings. A
/// constant, not the clock, so the stream is the same on every run and machine.
pub const RECENT_YEAR: i32 = 2025;

/// Generic digit endings with relative weights: the table above, every other two-digit
/// number, and the years people put at the end (birth years and recent years).
pub fn generic_digits() -> Vec<(String, f64)> {
    let mut out: Vec<(String, f64)> = GENERIC_DIGITS
        .iter()
        .map(|&(s, w)| (s.to_string(), w))
        .collect();
    for n in 0..100 {
        let s = format!("{n:02}");
        if !out.iter().any(|(t, _)| *t == s) {
            out.push((s, 0.25));
        }
    }
    for y in 1940..=RECENT_YEAR + 1 {
        let w = if y >= 2000 {
            0.8
        } else if y >= 1960 {
            0.4
        } else {
            0.1
        };
        out.push((y.to_string(), w));
    }
    out
}

/// How a password's digit ending changes between versions, when it is a year: moved forward
/// most often (one or two years later), sometimes back.
pub const YEAR_STEPS: [(i32, f64); 14] = [
    (1, 0.30),
    (2, 0.16),
    (3, 0.09),
    (4, 0.06),
    (5, 0.04),
    (6, 0.03),
    (7, 0.02),
    (8, 0.02),
    (9, 0.015),
    (10, 0.015),
    (-1, 0.10),
    (-2, 0.04),
    (-3, 0.02),
    (-4, 0.01),
];

/// The same for any other number: counted up by one most often.
pub const NUMBER_STEPS: [(i64, f64); 14] = [
    (1, 0.35),
    (-1, 0.12),
    (2, 0.10),
    (3, 0.05),
    (-2, 0.03),
    (4, 0.02),
    (5, 0.02),
    (6, 0.015),
    (7, 0.015),
    (8, 0.01),
    (9, 0.01),
    (10, 0.01),
    (-3, 0.01),
    (100, 0.005),
];

/// Edits to the digit ending of an old password.
pub const PW_DIGITS_KEEP: f64 = 0.55;
pub const PW_DIGITS_STEP: f64 = 0.25;
pub const PW_DIGITS_APPEND: f64 = 0.12;
pub const PW_DIGITS_DROP_LAST: f64 = 0.03;
/// The digit ending replaced by one of the hints' numbers or years, or by another old
/// password's number ("Sunshine1!" + "blue42" -> "Sunshine42!").
pub const PW_DIGITS_REPLACE_HINT: f64 = 0.06;
/// For an old passcode (digits only), counting it up and adding a symbol are rarer: the
/// shares that replace `PW_DIGITS_STEP` and `PW_SYMBOL_APPEND`.
pub const PW_PASSCODE_STEP: f64 = 0.05;
pub const PW_PASSCODE_SYMBOL: f64 = 0.03;
/// An old passcode's share of the old-password kind, against a password's.
pub const PASSCODE_KIND: f64 = 0.5;
pub const PW_DIGITS_DROP_ALL: f64 = 0.03;
/// When the password has no digit ending, the "step" share goes to appending digits; when it
/// has one, appending more digits to it is rarer by this factor ("rainbow71").
pub const PW_APPEND_WHEN_DIGITS: f64 = 0.3;
/// Digits appended to an old password, besides the hints' own years and numbers.
pub const PW_APPEND_DIGITS: [(&str, f64); 9] = [
    ("1", 0.40),
    ("123", 0.10),
    ("2", 0.08),
    ("12", 0.05),
    ("3", 0.03),
    ("7", 0.03),
    ("0", 0.02),
    ("11", 0.02),
    ("01", 0.02),
];
/// Share of appended digits that are a year or number from the hints, or a recent year.
pub const PW_APPEND_HINT: f64 = 0.15;
pub const PW_APPEND_RECENT_YEAR: f64 = 0.10;

/// Edits to the symbol ending of an old password.
pub const PW_SYMBOL_KEEP: f64 = 0.78;
pub const PW_SYMBOL_APPEND: f64 = 0.14;
pub const PW_SYMBOL_DROP: f64 = 0.06;
pub const PW_SYMBOL_REPLACE: f64 = 0.02;

/// Case of an old password: as typed, lower, first letter capitalised, UPPER, Caps Lock
/// (every letter's case swapped: "Shadow1" typed with Caps Lock is "sHADOW1"), first letter's
/// case toggled.
pub const PW_CASES: [f64; 6] = [0.60, 0.09, 0.10, 0.05, 0.10, 0.04];

/// Letter-for-digit swaps in an old password.
pub const PW_LEET: f64 = 0.06;

/// Date fragments, as `(format, weight after a word, weight alone)`. Alone, a date is most
/// often a phone passcode (4 or 6 digits) or the full date; after a word, the year dominates.
/// Formats: D/M are day/month without a leading zero, DD/MM with, YY/YYYY the year.
/// Formats may hold separators, copied as they are ("DD.MM.YYYY").
pub const DATE_FULL: [(&str, f64, f64); 25] = [
    ("YYYY", 0.38, 0.10),
    ("YY", 0.14, 0.003),
    ("DDMM", 0.07, 0.13),
    ("MMDD", 0.07, 0.13),
    ("DDMMYY", 0.05, 0.11),
    ("MMDDYY", 0.05, 0.11),
    ("DDMMYYYY", 0.05, 0.10),
    ("MMDDYYYY", 0.05, 0.10),
    ("DD", 0.04, 0.0),
    ("YYYYMMDD", 0.01, 0.04),
    ("YYMMDD", 0.01, 0.03),
    ("DM", 0.015, 0.002),
    ("MD", 0.015, 0.002),
    ("DMYY", 0.01, 0.005),
    ("MDYY", 0.01, 0.005),
    ("MMYY", 0.02, 0.005),
    ("MM", 0.01, 0.0),
    ("D", 0.005, 0.0),
    ("DMYYYY", 0.005, 0.004),
    ("MMYYYY", 0.005, 0.004),
    ("DD.MM.YYYY", 0.0, 0.004),
    ("DD/MM/YYYY", 0.0, 0.004),
    ("MM/DD/YYYY", 0.0, 0.004),
    ("DD-MM-YYYY", 0.0, 0.002),
    ("YYYY-MM-DD", 0.0, 0.002),
];

/// A month of a year (a wedding in June 1995): the year most often, the month and year as
/// digits as a passcode, the month's name with the year typed alone ("december1990").
/// MONTH/Month is the month's English name (lower case, capitalised), MON/Mon its first three
/// letters.
pub const DATE_MONTH: [(&str, f64, f64); 12] = [
    ("YYYY", 0.45, 0.15),
    ("YY", 0.18, 0.02),
    ("MMYYYY", 0.10, 0.22),
    ("MMYY", 0.12, 0.22),
    ("MYYYY", 0.03, 0.04),
    ("MYY", 0.03, 0.04),
    ("YYYYMM", 0.02, 0.06),
    ("MONTHYYYY", 0.01, 0.10),
    ("MonthYYYY", 0.01, 0.08),
    ("MONYYYY", 0.01, 0.03),
    ("MONTHYY", 0.005, 0.02),
    ("MM", 0.02, 0.0),
];

/// A year alone.
pub const DATE_YEAR: [(&str, f64, f64); 2] = [("YYYY", 0.65, 0.9), ("YY", 0.35, 0.1)];

/// A day without a year (a birthday).
pub const DATE_DAY: [(&str, f64, f64); 7] = [
    ("DDMM", 0.30, 0.45),
    ("MMDD", 0.30, 0.45),
    ("DM", 0.10, 0.05),
    ("MD", 0.10, 0.05),
    ("DD", 0.10, 0.0),
    ("MM", 0.05, 0.0),
    ("D", 0.05, 0.0),
];

/// Of the PIN weight, the share of 4-digit PINs (6 digits is the iPhone's default passcode
/// length since iOS 9, but 4-digit choices are older habits and more concentrated).
pub const PIN_4_SHARE: f64 = 0.5;

/// Zipf exponent for ranked lists (common passwords, PINs): the r-th entry weighs 1/r^s.
pub const ZIPF: f64 = 1.0;

// ---- Behaviours beyond a word and its ending (issue 13). Each is a modest share next to the
// forms above: they are real but rarer habits, and must not push the common forms down. ----

/// Of a phrase's share ("sycamore court", "trail blazers"), how much goes to one of its words
/// typed alone (a street without "court", a team by its nickname). Split over the words:
/// the first and the last are the ones people keep.
pub const PHRASE_PIECE: f64 = 0.15;
/// Of a street's share ("sycamore court", "elm street"), its name without the kind of street.
pub const PHRASE_PIECE_STREET: f64 = 0.40;
/// The kinds of street, as the last word of a hint.
pub const STREET_KINDS: [&str; 22] = [
    "street",
    "st",
    "road",
    "rd",
    "avenue",
    "ave",
    "lane",
    "ln",
    "drive",
    "dr",
    "court",
    "ct",
    "way",
    "place",
    "pl",
    "boulevard",
    "blvd",
    "terrace",
    "close",
    "crescent",
    "circle",
    "grove",
];
/// Words too small or too generic to stand alone as a password's word.
pub const PHRASE_PIECE_SKIP: [&str; 20] = [
    "the", "of", "and", "a", "an", "in", "on", "at", "to", "for", "with", "from", "st", "rd",
    "ave", "my", "de", "la", "le", "el",
];

/// Of a phrase's share, the first letters of its words (a mnemonic of a quoted line: "you can
/// always get what you want" -> "Ycagwyw"), by the number of words: long lines are remembered
/// this way more often than typed out in full.
pub const MNEMONIC_TWO_WORDS: f64 = 0.05;
pub const MNEMONIC_THREE_WORDS: f64 = 0.04;
pub const MNEMONIC_FOUR_WORDS: f64 = 0.10;
pub const MNEMONIC_MORE_WORDS: f64 = 0.30;
/// Case of a mnemonic: lower, first capital, UPPER.
pub const MNEMONIC_CASES: [f64; 3] = [0.40, 0.45, 0.15];

/// Of a word that is a username or an e-mail address ("nightowl342", "kim.lee@mail.com"), the
/// share of its letter part used as a word ("Nightowl1973"), and how much a number part
/// weighs as one of the hints' digit items against a date or number the owner gave.
pub const USERNAME_LETTERS: f64 = 0.5;
pub const USERNAME_DIGITS_ITEM: f64 = 0.3;

/// An old digit-only passcode ("3907") as a digit item for word endings and for digit
/// combinations ("3907" + "84"), against a date or number the owner gave.
pub const PASSCODE_ITEM: f64 = 0.5;
/// The number at the end of an old password ("blue42"), as a digit item the same way.
pub const PASSWORD_DIGITS_ITEM: f64 = 0.3;

/// Pieces of a long number (a phone number, 10 digits or more): as a word ending, then typed
/// alone. Last 4 digits (the personal part), last 7 (a landline without its area code), the
/// last 10 (without the country code), the whole number.
pub const PHONE_AFTER_WORD: [(usize, f64); 4] = [(4, 0.45), (7, 0.20), (10, 0.10), (0, 0.25)];
pub const PHONE_ALONE: [(usize, f64); 4] = [(4, 0.15), (7, 0.30), (10, 0.10), (0, 0.45)];

/// Initials of the listed names ("w", "h", "c" -> "whc"), a kind of its own: a run of 2 to 4
/// names in the order listed (a family), with a year or date after them most often.
pub const KIND_INITIALS: f64 = 0.03;
/// Share of each run length (2, 3, 4 names).
pub const INITIALS_RUNS: [(usize, f64); 3] = [(2, 0.40), (3, 0.40), (4, 0.20)];
/// Case of initials: lower, UPPER, first capital.
pub const INITIALS_CASES: [f64; 3] = [0.60, 0.30, 0.10];
/// Initials stand alone rarely; a year or date follows them.
pub const INITIALS_AFFIX_NONE: f64 = 0.08;

/// Of a pair (first name, surname in the listed order), the share typed as the first initial
/// and the surname ("jkowalczyk"), by case: lower, first capital, both initials capital. It is
/// one person's name, so it takes a single word's endings, not a pair's.
pub const PAIR_INITIAL_SURNAME: f64 = 0.08;
pub const PAIR_INITIAL_CASES: [f64; 3] = [0.55, 0.30, 0.15];
/// The same for a two-word hint (a person's full name in one answer: "Ingrid Bergman" ->
/// "ibergman"), as a share of the hint's weight.
pub const PHRASE_INITIAL_SURNAME: f64 = 0.04;

/// Of a pair, the share with a year or date between the two words ("ravi1998anjali"), by
/// case: lower-lower, Cap-Cap, Cap-lower.
pub const PAIR_INFIX_DIGITS: f64 = 0.04;
pub const PAIR_INFIX_CASES: [f64; 3] = [0.55, 0.35, 0.10];

/// Of an old password's share, a symbol moved between the word and the digits and the end
/// ("Kodiak!98" <-> "Kodiak98!"), and a symbol inside dropped ("Kodiak98").
pub const PW_SYMBOL_MOVE: f64 = 0.05;
pub const PW_INNER_SYMBOL_DROP: f64 = 0.02;
/// Of an old password made of a word and digits only, a symbol put between them
/// ("Kodiak98" -> "Kodiak!98"), and the symbols people put there, by popularity.
pub const PW_SYMBOL_INSERT: f64 = 0.03;
pub const INSERTED_SYMBOLS: [(&str, f64); 7] = [
    ("!", 0.30),
    ("@", 0.20),
    ("_", 0.15),
    (".", 0.12),
    ("#", 0.10),
    ("$", 0.07),
    ("-", 0.06),
];
/// Of an old password with a number inside ("my2dogs"), that number counted up or down.
pub const PW_INNER_DIGIT_STEP: f64 = 0.06;
/// Of an old password's share, its structure kept with another hint word or another old
/// password's word in place of its letters ("Tucker$89" -> "Winnie$89"; "Saguaro86!" +
/// "hummingbird2002" -> "Saguaro2002"), split over the words.
pub const PW_STRUCTURE_REUSE: f64 = 0.08;
/// Case of the new word: the old password's pattern, or as the word was typed.
pub const PW_REUSE_CASE_OLD: f64 = 0.6;
/// How much more a word of another old password weighs in that place than a hint word (parts
/// of two old passwords combined: the owner reuses what they typed before).
pub const PW_REUSE_OTHER_PASSWORD: f64 = 3.0;

/// Common passwords (lower case in the list) changed the way people change them: of the
/// weight of the listed spelling, capitalised ("Princess"), with "!", with one of the hints'
/// years or numbers ("baseball1998"). Only the most common few hundred words.
pub const COMMON_DECORATED_TOP: usize = 1000;
pub const COMMON_CAPITAL: f64 = 0.25;
pub const COMMON_BANG: f64 = 0.04;
pub const COMMON_HINT_DIGITS: f64 = 0.12;

/// Keyboard walks after a word ("gunnar!@#", "maria qwerty"), as a share of a word's affixes,
/// and the walks by popularity (the shifted top row first).
pub const AFFIX_KEYBOARD_WALK: f64 = 0.006;
pub const KEYBOARD_WALKS: [(&str, f64); 8] = [
    ("!@#", 0.30),
    ("!@#$", 0.16),
    ("qwerty", 0.14),
    ("!@#$%", 0.08),
    ("qwe", 0.08),
    ("asdf", 0.08),
    ("1qaz", 0.06),
    ("!@", 0.10),
];

/// A word spelled otherwise than in the hint, late in the order: one vowel changed (a name's
/// other spelling, a belief about a hard word: "Aidan" for "Aiden"), or one letter typed as
/// its neighbour on the keyboard row (a typo made while setting the password). Shares of a
/// word's weight, split evenly over the variants; words shorter than this are left alone.
pub const WORD_VOWEL_VARIANT: f64 = 0.010;
pub const WORD_KEY_TYPO: f64 = 0.004;
pub const VARIANT_MIN_LEN: usize = 4;
/// The same for the word of an old password (a typo made while setting the new one).
pub const PW_VOWEL_VARIANT: f64 = 0.005;
pub const PW_KEY_TYPO: f64 = 0.015;

/// The rows of a QWERTY keyboard, for the neighbours of a key.
pub const KEY_ROWS: [&str; 3] = ["qwertyuiop", "asdfghjkl", "zxcvbnm"];

/// Season words by language (accents left out, as passwords do): an old password made of a
/// season and a year is renewed with the next season in the same language
/// ("Verano2025!" -> "Invierno2026!"). Of an old password's share, the season swapped.
pub const PW_SEASON_SWAP: f64 = 0.08;
pub const SEASONS: [&[&str]; 8] = [
    &["spring", "summer", "autumn", "fall", "winter"],
    &["primavera", "verano", "otono", "invierno"],
    &["printemps", "ete", "automne", "hiver"],
    &["fruhling", "fruehling", "sommer", "herbst", "winter"],
    &["primavera", "estate", "autunno", "inverno"],
    &["primavera", "verao", "outono", "inverno"],
    &["lente", "zomer", "herfst", "winter"],
    &["wiosna", "lato", "jesien", "zima"],
];

/// Month names by language and form (accents left out), January first: an old password that
/// starts with a month is renewed with a later one ("March2024!" -> "April2024!"). Of an old
/// password's share, the month swapped; by how many months ahead (the next one most often:
/// monthly or quarterly changes).
pub const PW_MONTH_SWAP: f64 = 0.08;
pub const MONTHS: [[&str; 12]; 7] = [
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    ],
    [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ],
    [
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ],
    [
        "janvier",
        "fevrier",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "aout",
        "septembre",
        "octobre",
        "novembre",
        "decembre",
    ],
    [
        "januar",
        "februar",
        "marz",
        "april",
        "mai",
        "juni",
        "juli",
        "august",
        "september",
        "oktober",
        "november",
        "dezember",
    ],
    [
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ],
    [
        "janeiro",
        "fevereiro",
        "marco",
        "abril",
        "maio",
        "junho",
        "julho",
        "agosto",
        "setembro",
        "outubro",
        "novembro",
        "dezembro",
    ],
];
pub const MONTH_STEPS: [(usize, f64); 11] = [
    (1, 0.40),
    (2, 0.12),
    (3, 0.15),
    (4, 0.05),
    (5, 0.03),
    (6, 0.08),
    (7, 0.02),
    (8, 0.02),
    (9, 0.04),
    (10, 0.03),
    (11, 0.06),
];

/// Four digits after a word that the hints do not explain (a birthday not given, a PIN): the
/// whole 0000-9999 block, late, as a share of a word's affixes; a month and day (MMDD or
/// DDMM) weighs this many times an arbitrary block. Years are among the generic endings.
pub const AFFIX_FOUR_DIGITS: f64 = 0.03;
pub const FOUR_DIGITS_DAY: f64 = 4.0;
