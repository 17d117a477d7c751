//! The generator: every guess the hints suggest, with a probability-like score, in one global
//! order.
//!
//! Each guess is built in steps (which hint, which spelling, what around it) and its score is
//! the product of the steps' prior weights ([`super::model`]); a string made in several ways
//! gets the sum. Common passwords and PINs enter the same ranking with Zipf weights, so the
//! order is by estimated probability across all generators, not generator by generator.
//! Everything below a score floor is cut while generating (the weights are sorted, so whole
//! branches stop at once), which keeps the work bounded whatever the hints file holds.

use std::collections::HashMap;

use super::dates::HintDate;
use super::model::*;
use super::Hints;

/// One guess and its score (an estimate of the probability that it is the password).
#[derive(Clone, Debug, PartialEq)]
pub struct Scored {
    pub guess: String,
    pub score: f64,
}

/// Guesses scoring below this are not generated: past this point a guess is about as likely
/// as a random entry of the later tiers.
pub const SCORE_FLOOR: f64 = 5e-8;

/// Most guesses in the hint tier, whatever the hints; the best ones are kept.
pub const MAX_HINT_TIER: usize = 300_000;

/// How many of the common passwords (all of them) and of the PINs of each length take part in
/// the ranking; the rest follow in their own tiers. With [`SCORE_FLOOR`] these are about where
/// the lists' own weights fall to the floor.
pub const COMMON_IN_TIER: usize = usize::MAX;
pub const PINS_IN_TIER: usize = 10_000;

/// Words that are paired with each other (the first ones listed).
pub const MAX_PAIR_WORDS: usize = 100;

/// Scores summed per distinct guess.
struct Acc {
    map: HashMap<String, f64>,
}

impl Acc {
    fn add(&mut self, guess: String, score: f64) {
        if score < SCORE_FLOOR || guess.is_empty() || guess.len() > crate::MAX_LEN {
            return;
        }
        *self.map.entry(guess).or_insert(0.0) += score;
    }
}

/// Weighted strings with duplicates summed, in first-seen order (deterministic), sorted by
/// weight (highest first, ties by first-seen order) so loops over them can stop at the floor.
#[derive(Default)]
struct Table {
    items: Vec<(String, f64)>,
    index: HashMap<String, usize>,
}

impl Table {
    fn add(&mut self, s: String, w: f64) {
        if w <= 0.0 {
            return;
        }
        match self.index.get(&s) {
            Some(&i) => self.items[i].1 += w,
            None => {
                self.index.insert(s.clone(), self.items.len());
                self.items.push((s, w));
            }
        }
    }

    /// Scales so the weights sum to `total`.
    fn normalised(mut self, total: f64) -> Table {
        let sum: f64 = self.items.iter().map(|(_, w)| w).sum();
        if sum > 0.0 {
            for (_, w) in &mut self.items {
                *w *= total / sum;
            }
        }
        self
    }

    fn sorted(mut self) -> Vec<(String, f64)> {
        // A stable sort keeps first-seen order among equal weights.
        self.items.sort_by(|a, b| b.1.total_cmp(&a.1));
        self.items
    }
}

/// An affix: text before and after a word, with its weight.
struct Affix {
    prefix: String,
    suffix: String,
    weight: f64,
}

/// A ranked list (most likely first) that takes part in the ranking: its first entries, and
/// the length of the whole list (its Zipf weights are normalised over all of it).
#[derive(Clone, Copy, Debug)]
pub struct RankedList<'a> {
    pub top: &'a [String],
    pub full_len: usize,
}

/// Ranks every guess the hints suggest, mixed with the given common passwords and PINs (4 and
/// 6 digits, sharing the PIN weight equally). Highest score first; equal scores in byte order,
/// so the result is the same on every run. Empty hints give the common passwords and PINs
/// alone, interleaved by likelihood.
pub fn rank(
    hints: &Hints,
    common: RankedList,
    pins_4: RankedList,
    pins_6: RankedList,
) -> Vec<Scored> {
    let words = normalised_words(hints);
    // Pairs among the first MAX_PAIR_WORDS words only: past that, each pair's share is too
    // small to reach the floor anyway, and the number of pairs grows with the square.
    let pair_words = words.len().min(MAX_PAIR_WORDS);
    let n_pairs = pair_words * pair_words.saturating_sub(1);
    let digits_present = !hints.dates.is_empty() || !hints.numbers.is_empty();
    let names = initial_names(&words);

    // An old passcode (digits only) is tried as it is and lengthened, but it is mostly a
    // number that ends words: its share of the old-password kind is smaller.
    let pw_factor = |pw: &str| {
        if !pw.is_empty() && pw.bytes().all(|b| b.is_ascii_digit()) {
            PASSCODE_KIND
        } else {
            1.0
        }
    };
    let pw_kind = KIND_PASSWORD * hints.passwords.iter().map(|p| pw_factor(p)).sum::<f64>()
        / hints.passwords.len().max(1) as f64;
    // Share of each kind of origin, over the kinds this hints file has.
    let kinds = [
        (!words.is_empty(), KIND_WORD),
        (n_pairs > 0, KIND_PAIR),
        (!hints.passwords.is_empty(), pw_kind),
        (digits_present, KIND_DIGITS),
        (names.len() >= 2, KIND_INITIALS),
        (true, KIND_COMMON),
        (true, KIND_PIN),
    ];
    let total: f64 = kinds.iter().filter(|k| k.0).map(|k| k.1).sum();
    let share = |k: f64| k / total;

    let hint_digits = hint_digit_pool(hints);
    let word_affixes = affix_table(&hint_digits, AFFIX_NONE);
    let pair_affixes = affix_table(&hint_digits, PAIR_AFFIX_NONE);
    let initials_affixes = affix_table(&hint_digits, INITIALS_AFFIX_NONE);

    let mut acc = Acc {
        map: HashMap::new(),
    };

    // Single words and phrases, and the letters of each old password taken as a word.
    let mut word_list: Vec<(Vec<String>, String, f64)> = Vec::new();
    // Spellings that are not a word's forms (a mnemonic's letters), decorated the same way.
    let mut extra_forms: Vec<(String, f64)> = Vec::new();
    let word_order = listed_order(words.len());
    for ((tokens, typed), order) in words.iter().zip(&word_order) {
        let each = share(KIND_WORD) * order / words.len() as f64;
        let mut whole = each;
        let mnemonic = mnemonic_forms(typed);
        if !mnemonic.is_empty() {
            // By the words of the line as typed (the letters come from those).
            let m = match typed.split_whitespace().count() {
                2 => MNEMONIC_TWO_WORDS,
                3 => MNEMONIC_THREE_WORDS,
                4 => MNEMONIC_FOUR_WORDS,
                _ => MNEMONIC_MORE_WORDS,
            };
            whole -= each * m;
            for (f, wf) in mnemonic {
                extra_forms.push((f, each * m * wf));
            }
        }
        // A two-word name typed as its first initial and surname ("ibergman").
        if let [first, last] = tokens.as_slice() {
            let letters = |t: &str| t.chars().all(char::is_alphabetic);
            if letters(first) && letters(last) && last.chars().count() >= 3 {
                whole -= each * PHRASE_INITIAL_SURNAME;
                let initial: String = first.chars().take(1).collect();
                let forms = [
                    format!("{initial}{last}"),
                    capitalise(&format!("{initial}{last}")),
                    format!("{}{}", initial.to_uppercase(), capitalise(last)),
                ];
                for (f, wc) in forms.into_iter().zip(PAIR_INITIAL_CASES) {
                    extra_forms.push((f, each * PHRASE_INITIAL_SURNAME * wc));
                }
            }
        }
        let (pieces, piece_share) = phrase_pieces(tokens);
        if !pieces.is_empty() {
            whole -= each * piece_share;
            for (piece, wp) in pieces {
                word_list.push((vec![piece.clone()], piece, each * piece_share * wp));
            }
        }
        if let Some((letters, _)) = username_parts(typed) {
            whole -= each * USERNAME_LETTERS;
            word_list.push((word_tokens(&letters), letters, each * USERNAME_LETTERS));
        }
        word_list.push((tokens.clone(), typed.clone(), whole));
    }
    for pw in &hints.passwords {
        let stem = split_tail(pw).0;
        let tokens = word_tokens(stem);
        if stem.chars().filter(|c| c.is_alphabetic()).count() >= 2 {
            word_list.push((
                tokens,
                stem.to_string(),
                share(KIND_PASSWORD) * PASSWORD_STEM_SHARE / hints.passwords.len() as f64,
            ));
        }
    }
    for (tokens, typed, weight) in &word_list {
        for (form, wf) in word_forms(tokens, typed) {
            decorate(&mut acc, &form, weight * wf, &word_affixes);
        }
    }
    for (form, w) in &extra_forms {
        decorate(&mut acc, form, *w, &word_affixes);
    }
    // Other spellings of one-word hints, far down: one vowel changed, one key's neighbour.
    for (tokens, _, weight) in &word_list {
        let [token] = tokens.as_slice() else {
            continue;
        };
        for (v, wv) in spelling_variants(token, WORD_VOWEL_VARIANT, WORD_KEY_TYPO) {
            let w = weight * wv;
            if w * CASE_LOWER * word_affixes.first().map_or(0.0, |a| a.weight) < SCORE_FLOOR {
                break; // sorted
            }
            for (form, wf) in word_forms(std::slice::from_ref(&v), &v) {
                decorate(&mut acc, &form, w * wf, &word_affixes);
            }
        }
    }

    // Initials of a run of listed names ("whc2002"): a family, in the order given.
    if names.len() >= 2 {
        let runs: Vec<(usize, f64)> = INITIALS_RUNS
            .iter()
            .copied()
            .filter(|&(k, _)| k <= names.len())
            .collect();
        let sum: f64 = runs.iter().map(|r| r.1).sum();
        for (k, wk) in runs {
            let windows = names.len() - k + 1;
            let w = share(KIND_INITIALS) * wk / sum / windows as f64;
            for run in names.windows(k) {
                let lower: String = run.iter().filter_map(|n| n.chars().next()).collect();
                let forms = [lower.clone(), lower.to_uppercase(), capitalise(&lower)];
                for (f, wc) in forms.iter().zip(INITIALS_CASES) {
                    decorate(&mut acc, f, w * wc, &initials_affixes);
                }
            }
        }
    }
    for ((tokens, _), order) in words.iter().zip(&word_order) {
        let w = share(KIND_WORD) * order / words.len() as f64 * WORD_DOUBLED;
        let best_affix = pair_affixes.first().map_or(0.0, |a| a.weight);
        for (form, wf) in pair_forms(tokens, tokens, SCORE_FLOOR / (w * best_affix)) {
            decorate(&mut acc, &form, w * wf, &pair_affixes);
        }
    }

    // Two different words run together, in both orders.
    if n_pairs > 0 {
        // Each unordered pair a share by where its words were listed, split between its two
        // orders.
        let order = &word_order[..pair_words];
        let products: f64 =
            order.iter().sum::<f64>().powi(2) - order.iter().map(|o| o * o).sum::<f64>();
        let per_pair = share(KIND_PAIR) * 2.0 / products;
        let best_case = PAIR_CASES.iter().copied().fold(0.0, f64::max);
        let best_join = PAIR_JOINERS.iter().map(|j| j.1).fold(0.0, f64::max);
        let best_affix = pair_affixes.first().map_or(0.0, |a| a.weight);
        for (i, a) in words[..pair_words].iter().enumerate() {
            for (j, b) in words[..pair_words].iter().enumerate() {
                if i == j {
                    continue;
                }
                let given = if i < j {
                    PAIR_GIVEN_ORDER
                } else {
                    PAIR_REVERSED
                };
                let w = per_pair * order[i] * order[j] * given;
                if w * best_case * best_join * best_affix < SCORE_FLOOR {
                    continue;
                }
                for (form, wf) in pair_forms(&a.0, &b.0, SCORE_FLOOR / (w * best_affix)) {
                    decorate(&mut acc, &form, w * wf, &pair_affixes);
                }
                pair_extras(&mut acc, &a.0, &b.0, w, &hint_digits, &word_affixes);
            }
        }
    }

    // Dates and numbers typed alone: a passcode, a birthday; two of them one after the other.
    if digits_present {
        let items = (hints.dates.len() + hints.numbers.len()) as f64;
        let w = share(KIND_DIGITS) * (1.0 - DIGITS_COMBINED) / items;
        for (d, order) in hints.dates.iter().zip(listed_order(hints.dates.len())) {
            for (s, ws) in date_fragments(d, false).items {
                acc.add(s, w * order * ws);
            }
        }
        for (n, order) in hints.numbers.iter().zip(listed_order(hints.numbers.len())) {
            let w = w * order;
            if n.len() >= 10 {
                for (s, ws) in phone_pieces(n, &PHONE_ALONE) {
                    acc.add(s, w * ws);
                }
                continue;
            }
            if n.len() <= 3 {
                // A lucky number or an area code: an ending, hardly a password on its own.
                let w = w * NUMBER_SHORT_ALONE;
                acc.add(n.clone(), w * (1.0 - NUMBER_DOUBLED));
                acc.add(n.repeat(2), w * NUMBER_DOUBLED);
            } else {
                acc.add(n.clone(), w);
            }
        }
        let items = item_digit_pools(hints);
        if items.len() > 1 {
            // Each ordered pair of items by the product of their weights.
            let total: f64 = items.iter().map(|x| x.1).sum::<f64>().powi(2)
                - items.iter().map(|x| x.1 * x.1).sum::<f64>();
            for (i, (a, wa)) in items.iter().enumerate() {
                for (j, (b, wb)) in items.iter().enumerate() {
                    if i == j {
                        continue;
                    }
                    let w = share(KIND_DIGITS) * DIGITS_COMBINED * wa * wb / total;
                    for (x, wx) in a {
                        if w * wx * b[0].1 < SCORE_FLOOR {
                            break;
                        }
                        for (y, wy) in b {
                            if w * wx * wy < SCORE_FLOOR {
                                break;
                            }
                            acc.add(format!("{x}{y}"), w * wx * wy);
                        }
                    }
                }
            }
        }
    }

    // Old passwords and their edits.
    // Words that may take the place of an old password's letters: the hint words and the
    // other old passwords' words, as (lower case, as typed, weight).
    let mut reuse_words: Vec<(String, String, f64)> = words
        .iter()
        .zip(&word_order)
        .map(|((tokens, typed), order)| {
            (tokens.concat(), typed.split_whitespace().collect(), *order)
        })
        .collect();
    for pw in &hints.passwords {
        let letters = leading_letters(pw);
        if letters.chars().count() >= 3 {
            reuse_words.push((
                letters.to_lowercase(),
                letters.to_string(),
                PW_REUSE_OTHER_PASSWORD,
            ));
        }
    }
    for pw in &hints.passwords {
        let w = share(KIND_PASSWORD) * pw_factor(pw) * (1.0 - PASSWORD_STEM_SHARE)
            / hints.passwords.len() as f64;
        let mut kept = w;
        for (v, f) in symbol_moves(pw) {
            kept -= w * f;
            password_edits(&mut acc, &v, w * f, &hint_digits);
        }
        let others = season_swaps(pw)
            .into_iter()
            .chain(month_swaps(pw))
            .chain(typo_edits(pw))
            .chain(inner_digit_steps(pw));
        for (v, f) in others {
            kept -= w * f;
            password_edits(&mut acc, &v, w * f, &hint_digits);
        }
        // No variant weighs more than an equal share of the words: skip the whole set when
        // that is below the floor (a file with hundreds of words and passwords).
        let reuse = w * PW_STRUCTURE_REUSE;
        let reused = if reuse / (reuse_words.len().max(1) as f64) < SCORE_FLOOR {
            Vec::new()
        } else {
            structure_reuses(pw, &reuse_words)
        };
        if !reused.is_empty() {
            kept -= reuse;
            for (v, f) in reused {
                if reuse * f < SCORE_FLOOR {
                    break; // sorted
                }
                password_edits(&mut acc, &v, reuse * f, &hint_digits);
            }
        }
        password_edits(&mut acc, pw, kept, &hint_digits);
    }

    // The common passwords and PINs, most popular first: Zipf weights normalised over the
    // whole list, so their share matches their kind's prior.
    zipf(&mut acc, common, share(KIND_COMMON));
    // Only for an owner who gave hints: without any, the tier stays the lists themselves
    // (the plan without hints is exactly the common passwords and the PINs).
    if !hints.is_empty() {
        common_edits(&mut acc, common, share(KIND_COMMON), &hint_digits);
    }
    zipf(&mut acc, pins_4, share(KIND_PIN) * PIN_4_SHARE);
    zipf(&mut acc, pins_6, share(KIND_PIN) * (1.0 - PIN_4_SHARE));

    let mut out: Vec<Scored> = acc
        .map
        .into_iter()
        .map(|(guess, score)| Scored { guess, score })
        .collect();
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.guess.as_bytes().cmp(b.guess.as_bytes()))
    });
    out.truncate(MAX_HINT_TIER);
    out
}

/// The weight of each of `n` listed items by its place in the list, mean 1: people name first
/// what matters most to them (their own name, their partner, their birthday), and the password
/// is made from those far more often than from the fifth thing they thought of.
fn listed_order(n: usize) -> Vec<f64> {
    let raw: Vec<f64> = (0..n)
        .map(|i| LISTED_DECAY.powi(i.min(64) as i32).max(LISTED_FLOOR))
        .collect();
    let sum: f64 = raw.iter().sum();
    raw.into_iter().map(|w| w * n as f64 / sum).collect()
}

/// Adds the entries of a ranked list with weight `share / r^ZIPF`, normalised over the whole
/// list.
fn zipf(acc: &mut Acc, list: RankedList, share: f64) {
    let len = list.full_len.max(list.top.len());
    let harmonic: f64 = (1..=len).map(|r| (r as f64).powf(-ZIPF)).sum();
    for (r, s) in list.top.iter().enumerate() {
        acc.add(s.clone(), share * ((r + 1) as f64).powf(-ZIPF) / harmonic);
    }
}

/// The lower-case words of a phrase: split at spaces and at the punctuation inside names
/// ("mary-jane", "o'brien"), which passwords often leave out; the spelling as typed is kept
/// as a form of its own.
fn word_tokens(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace() || "-_.,'’&+".contains(c))
        .filter(|t| !t.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Words as lower-case tokens plus the spelling typed, duplicates (ignoring case) dropped.
fn normalised_words(hints: &Hints) -> Vec<(Vec<String>, String)> {
    let mut out: Vec<(Vec<String>, String)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for w in &hints.words {
        let tokens = word_tokens(w);
        if tokens.is_empty() || !seen.insert(tokens.clone()) {
            continue;
        }
        out.push((tokens, w.clone()));
    }
    out
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

/// What Caps Lock does to what was meant: every letter's case swapped.
fn swap_case(s: &str) -> String {
    s.chars()
        .flat_map(|c| -> Vec<char> {
            if c.is_uppercase() {
                c.to_lowercase().collect()
            } else if c.is_lowercase() {
                c.to_uppercase().collect()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Spellings of one word or phrase: case, joiner (for phrases), letter-for-digit swaps.
fn word_forms(tokens: &[String], typed: &str) -> Vec<(String, f64)> {
    let mut cased = Table::default();
    // A line of three words or more is typed as a sentence more often than a name is.
    let (joiners, first_only): (&[(&str, f64)], f64) = match tokens.len() {
        1 => (&[("", 1.0)], 0.0),
        2 => (&PHRASE_JOINERS, CASE_CAPITAL_FIRST_ONLY),
        _ => (&SENTENCE_JOINERS, CASE_SENTENCE),
    };
    // The case the hint was typed in says a little about the case of the password.
    let letters = || typed.chars().filter(|c| c.is_alphabetic());
    let typed_lower = letters().all(char::is_lowercase);
    let typed_capital = typed.chars().next().is_some_and(char::is_uppercase)
        && letters().skip(1).all(char::is_lowercase);
    let (w_lower, w_capital) = if typed_lower {
        (
            CASE_LOWER + CASE_TYPED_SHIFT,
            CASE_CAPITAL - CASE_TYPED_SHIFT,
        )
    } else if typed_capital {
        (
            CASE_LOWER - CASE_TYPED_SHIFT,
            CASE_CAPITAL + CASE_TYPED_SHIFT,
        )
    } else {
        (CASE_LOWER, CASE_CAPITAL)
    };
    for &(j, wj) in joiners {
        let lower = tokens.join(j);
        let capital: String = tokens
            .iter()
            .map(|t| capitalise(t))
            .collect::<Vec<_>>()
            .join(j);
        cased.add(lower.clone(), wj * w_lower);
        cased.add(capital.clone(), wj * w_capital);
        if tokens.len() > 1 {
            cased.add(capitalise(&lower), wj * first_only);
        }
        cased.add(lower.to_uppercase(), wj * CASE_UPPER);
        cased.add(swap_case(&capital), wj * CASE_INVERTED);
        // The hint's own spelling, when it says something the rules above do not.
        let typed_joined = typed.split_whitespace().collect::<Vec<_>>().join(j);
        if typed_joined != lower && typed_joined != capital {
            cased.add(typed_joined, wj * CASE_AS_TYPED);
        }
    }
    let mut forms = Table::default();
    for (form, w) in cased.items {
        for (v, wl) in leet_variants(&form) {
            forms.add(v, w * wl);
        }
    }
    forms.sorted()
}

/// What one kind of letter becomes (`None`: left alone; `true`: only its first occurrence),
/// with its chance.
type LeetOption = (Option<(char, bool)>, f64);

/// `s` and its letter-for-digit spellings, with weights that sum to 1.
fn leet_variants(s: &str) -> Vec<(String, f64)> {
    let lower = s.to_lowercase();
    // The kinds of letter present, each with its options (None: left alone). A letter found
    // more than once may be swapped at its first occurrence only ("s4sha").
    let mut kinds: Vec<(char, Vec<LeetOption>)> = Vec::new();
    for (letter, swaps) in LEET_KINDS {
        let count = lower.chars().filter(|&c| c == letter).count();
        if count > 0 {
            let swapped: f64 = swaps.iter().map(|x| x.1).sum();
            let partial = if count > 1 { LEET_FIRST_ONLY } else { 0.0 };
            let mut options = vec![(None, 1.0 - swapped)];
            for &(to, p) in swaps {
                options.push((Some((to, false)), p * (1.0 - partial)));
                if partial > 0.0 {
                    options.push((Some((to, true)), p * partial));
                }
            }
            kinds.push((letter, options));
        }
    }
    if kinds.is_empty() {
        return vec![(s.to_string(), 1.0)];
    }
    // Every combination of options, most likely first as found; drop the unlikely ones.
    let none: f64 = kinds.iter().map(|(_, o)| o[0].1).product();
    type Swap = (char, char, bool);
    let mut combos: Vec<(Vec<Swap>, f64)> = vec![(Vec::new(), 1.0)];
    for (letter, options) in &kinds {
        let mut next = Vec::new();
        for (swaps, p) in &combos {
            for &(to, q) in options {
                let mut swaps = swaps.clone();
                if let Some((to, first_only)) = to {
                    swaps.push((*letter, to, first_only));
                }
                next.push((swaps, p * q));
            }
        }
        combos = next;
    }
    let mut out = vec![(s.to_string(), 1.0 - LEET_SHARE)];
    for (swaps, p) in combos {
        let p = p / (1.0 - none);
        if swaps.is_empty() || p < LEET_MIN {
            continue;
        }
        let mut done: Vec<char> = Vec::new();
        let v: String = s
            .chars()
            .map(|c| {
                let lc = c.to_lowercase().next().unwrap_or(c);
                match swaps.iter().find(|(from, _, _)| *from == lc) {
                    Some(&(from, to, first_only)) => {
                        if first_only && done.contains(&from) {
                            c
                        } else {
                            done.push(from);
                            to
                        }
                    }
                    None => c,
                }
            })
            .collect();
        out.push((v, LEET_SHARE * p));
    }
    out
}

/// The names whose initials may be strung together: one-word hints made of letters, in the
/// order listed.
fn initial_names(words: &[(Vec<String>, String)]) -> Vec<String> {
    words
        .iter()
        .filter(|(tokens, _)| tokens.len() == 1 && tokens[0].chars().all(char::is_alphabetic))
        .map(|(tokens, _)| tokens[0].clone())
        .collect()
}

/// The first letters of a phrase's words, in three cases, weights summing to 1; a word that
/// is a number is kept whole ("I have 2 dogs" -> "ih2d"). Empty for a single word. Split at
/// spaces only: "can't" is one word of the line.
fn mnemonic_forms(typed: &str) -> Vec<(String, f64)> {
    let words: Vec<&str> = typed.split_whitespace().collect();
    if words.len() < 2 {
        return Vec::new();
    }
    let lower: String = words
        .iter()
        .map(|w| {
            if w.chars().all(|c| c.is_ascii_digit()) {
                w.to_string()
            } else {
                w.chars()
                    .find(|c| c.is_alphanumeric())
                    .map(|c| c.to_lowercase().collect())
                    .unwrap_or_default()
            }
        })
        .collect();
    if lower.chars().count() < 2 {
        return Vec::new();
    }
    let mut t = Table::default();
    let forms = [lower.clone(), capitalise(&lower), lower.to_uppercase()];
    for (f, w) in forms.into_iter().zip(MNEMONIC_CASES) {
        t.add(f, w);
    }
    t.sorted()
}

/// The words of a short phrase (2 or 3 words) that may stand alone, with shares summing to 1:
/// the first and last words weigh most. Small and generic words are left out. With them, the
/// share of the phrase's weight they take: more for a street ("sycamore court"), whose kind
/// of street people leave out.
fn phrase_pieces(tokens: &[String]) -> (Vec<(String, f64)>, f64) {
    if !(2..=3).contains(&tokens.len()) {
        return (Vec::new(), 0.0);
    }
    let last = tokens.len() - 1;
    if STREET_KINDS.contains(&tokens[last].as_str()) {
        let name: String = tokens[..last].concat();
        if name.chars().count() >= 3 && name.chars().all(char::is_alphabetic) {
            return (vec![(name, 1.0)], PHRASE_PIECE_STREET);
        }
    }
    let mut t = Table::default();
    for (i, tok) in tokens.iter().enumerate() {
        if tok.chars().count() < 3
            || !tok.chars().all(char::is_alphabetic)
            || PHRASE_PIECE_SKIP.contains(&tok.as_str())
        {
            continue;
        }
        let w = if i == 0 || i == last { 1.0 } else { 0.4 };
        t.add(tok.clone(), w);
    }
    (t.normalised(1.0).sorted(), PHRASE_PIECE)
}

/// A username or the local part of an e-mail address split into its letters and its digits
/// ("nightowl342" -> ("nightowl", "342"); "kim.lee77@mail.com" -> ("kim.lee", "77")). `None`
/// for a plain word: at least 3 letters, and digits or an '@'.
fn username_parts(typed: &str) -> Option<(String, String)> {
    let (local, email) = match typed.split_once('@') {
        Some((l, domain)) if domain.contains('.') => (l, true),
        _ => (typed, false),
    };
    if local.contains(char::is_whitespace) {
        return None;
    }
    let digits_at = local
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit())
        .last()
        .map_or(local.len(), |(i, _)| i);
    let letters = local[..digits_at].trim_end_matches(['.', '_', '-']);
    let digits = &local[digits_at..];
    if letters.chars().filter(|c| c.is_alphabetic()).count() < 3 || (digits.is_empty() && !email) {
        return None;
    }
    Some((letters.to_string(), digits.to_string()))
}

/// The rarer ways of putting two words together: the first one's initial and the second
/// ("jkowalczyk"), and a year or date between them ("ravi1998anjali").
fn pair_extras(
    acc: &mut Acc,
    a: &[String],
    b: &[String],
    w: f64,
    hint_digits: &[(String, f64)],
    word_affixes: &[Affix],
) {
    let lower_a = a.concat();
    let lower_b = b.concat();
    let cap = |t: &[String]| t.iter().map(|x| capitalise(x)).collect::<String>();
    let (cap_a, cap_b) = (cap(a), cap(b));
    if lower_a.chars().count() >= 2 && lower_b.chars().count() >= 3 {
        let initial: String = lower_a.chars().take(1).collect();
        let forms = [
            format!("{initial}{lower_b}"),
            capitalise(&format!("{initial}{lower_b}")),
            format!("{}{cap_b}", initial.to_uppercase()),
        ];
        for (f, wc) in forms.iter().zip(PAIR_INITIAL_CASES) {
            decorate(acc, f, w * PAIR_INITIAL_SURNAME * wc, word_affixes);
        }
    }
    for (d, wd) in hint_digits {
        let wd = w * PAIR_INFIX_DIGITS * wd;
        if wd * PAIR_INFIX_CASES[0] < SCORE_FLOOR {
            break; // sorted
        }
        let forms = [
            format!("{lower_a}{d}{lower_b}"),
            format!("{cap_a}{d}{cap_b}"),
            format!("{cap_a}{d}{lower_b}"),
        ];
        for (f, wc) in forms.into_iter().zip(PAIR_INFIX_CASES) {
            acc.add(f, wd * wc);
        }
    }
}

/// The letters an old password starts with ("Tucker" of "Tucker$89").
fn leading_letters(pw: &str) -> &str {
    let end = pw
        .char_indices()
        .find(|(_, c)| !c.is_alphabetic())
        .map_or(pw.len(), |(i, _)| i);
    &pw[..end]
}

/// An old password with its symbol moved between the word and the digits and the end, or the
/// symbol inside dropped, as (new password, share of the old one's weight).
fn symbol_moves(pw: &str) -> Vec<(String, f64)> {
    let (stem, digits, symbols) = split_tail(pw);
    if digits.is_empty() {
        return Vec::new();
    }
    let word_end = stem
        .char_indices()
        .rev()
        .take_while(|(_, c)| !c.is_alphanumeric())
        .last()
        .map_or(stem.len(), |(i, _)| i);
    let (word, inner) = stem.split_at(word_end);
    if word.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    if !inner.is_empty() && symbols.is_empty() {
        out.push((format!("{word}{digits}{inner}"), PW_SYMBOL_MOVE));
        out.push((format!("{word}{digits}"), PW_INNER_SYMBOL_DROP));
    } else if inner.is_empty() && !symbols.is_empty() {
        out.push((format!("{word}{symbols}{digits}"), PW_SYMBOL_MOVE));
    } else if inner.is_empty() && digits.len() <= 4 {
        // No symbol at all: one put between the word and a short number or year
        // ("Kodiak!98").
        let sum: f64 = INSERTED_SYMBOLS.iter().map(|x| x.1).sum();
        for (x, w) in INSERTED_SYMBOLS {
            out.push((format!("{word}{x}{digits}"), PW_SYMBOL_INSERT * w / sum));
        }
    }
    out
}

/// An old password with a number inside it counted up or down ("my2dogs" -> "my3dogs",
/// "Summer2019fun" -> "Summer2020fun"), as (new password, share of the old one's weight).
/// Only the first number that has something after it; the number at the end has edits of
/// its own.
fn inner_digit_steps(pw: &str) -> Vec<(String, f64)> {
    let bytes = pw.as_bytes();
    let Some(start) = bytes.iter().position(u8::is_ascii_digit) else {
        return Vec::new();
    };
    let end = start
        + bytes[start..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
    if end == bytes.len() || !pw[end..].chars().any(char::is_alphanumeric) {
        return Vec::new(); // the digits end the password (a symbol after them at most)
    }
    digit_steps(&pw[start..end])
        .into_iter()
        .map(|(d, w)| {
            (
                format!("{}{d}{}", &pw[..start], &pw[end..]),
                PW_INNER_DIGIT_STEP * w,
            )
        })
        .collect()
}

/// Spellings of a word one letter away, as (variant, weight), sorted: each vowel changed to
/// another vowel (sharing `vowel`) and each letter typed as a neighbour on its keyboard row
/// (sharing `typo`). Letters keep their case. Empty for short words.
fn spelling_variants(word: &str, vowel: f64, typo: f64) -> Vec<(String, f64)> {
    const VOWELS: &str = "aeiou";
    let chars: Vec<char> = word.chars().collect();
    if chars.iter().filter(|c| c.is_alphabetic()).count() < VARIANT_MIN_LEN {
        return Vec::new();
    }
    let mut vowels = Vec::new();
    let mut typos = Vec::new();
    for (i, &c) in chars.iter().enumerate() {
        let lc = c.to_ascii_lowercase();
        let with = |to: char| -> String {
            let to = if c.is_uppercase() {
                to.to_ascii_uppercase()
            } else {
                to
            };
            let mut v = chars.clone();
            v[i] = to;
            v.into_iter().collect()
        };
        if VOWELS.contains(lc) {
            for to in VOWELS.chars().filter(|&to| to != lc) {
                vowels.push(with(to));
            }
        }
        for row in KEY_ROWS {
            if let Some(at) = row.find(lc) {
                let row = row.as_bytes();
                if at > 0 {
                    typos.push(with(row[at - 1] as char));
                }
                if at + 1 < row.len() {
                    typos.push(with(row[at + 1] as char));
                }
            }
        }
    }
    let mut t = Table::default();
    for (list, share) in [(vowels, vowel), (typos, typo)] {
        let each = share / list.len().max(1) as f64;
        for v in list {
            if v != word {
                t.add(v, each);
            }
        }
    }
    t.sorted()
}

/// An old password with a typo or another vowel in its word, as (new password, share).
fn typo_edits(pw: &str) -> Vec<(String, f64)> {
    let letters = leading_letters(pw);
    let rest = &pw[letters.len()..];
    spelling_variants(letters, PW_VOWEL_VARIANT, PW_KEY_TYPO)
        .into_iter()
        .map(|(v, w)| (format!("{v}{rest}"), w))
        .collect()
}

/// An old password whose word is a season, with the other seasons of the same language in
/// its place, in its case pattern, as (new password, share summing to [`PW_SEASON_SWAP`]).
fn season_swaps(pw: &str) -> Vec<(String, f64)> {
    let letters = leading_letters(pw);
    let rest = &pw[letters.len()..];
    let lower = letters.to_lowercase();
    let mut t = Table::default();
    for lang in SEASONS.iter().filter(|l| l.contains(&lower.as_str())) {
        let others: Vec<&&str> = lang.iter().filter(|s| **s != lower).collect();
        for s in &others {
            t.add(
                format!("{}{rest}", like_case(letters, s)),
                1.0 / others.len() as f64,
            );
        }
    }
    t.normalised(PW_SEASON_SWAP).sorted()
}

/// An old password that starts with a month's name, renewed with a later month in the same
/// language and form ("March2024" -> "April2024", "jun" -> "jul"): the next month most
/// often (a password changed monthly or quarterly), as (new password, share of the old one's
/// weight).
fn month_swaps(pw: &str) -> Vec<(String, f64)> {
    let letters = leading_letters(pw);
    let rest = &pw[letters.len()..];
    let lower = letters.to_lowercase();
    let mut t = Table::default();
    for months in MONTHS {
        let Some(i) = months.iter().position(|m| *m == lower) else {
            continue;
        };
        for (ahead, w) in MONTH_STEPS {
            let m = months[(i + ahead) % months.len()];
            t.add(format!("{}{rest}", like_case(letters, m)), w);
        }
    }
    t.normalised(PW_MONTH_SWAP).sorted()
}

/// `word` (lower case) in the case pattern of `like`: UPPER, Capitalised or lower.
fn like_case(like: &str, word: &str) -> String {
    let upper = like.chars().all(|c| !c.is_lowercase());
    if upper {
        word.to_uppercase()
    } else if like.chars().next().is_some_and(char::is_uppercase) {
        capitalise(word)
    } else {
        word.to_string()
    }
}

/// An old password's structure with another word in place of its leading letters, as (new
/// password, share, summing to 1 over all): the new word in the old one's case pattern, or as
/// it was typed. Empty when the password does not start with a word followed by something.
fn structure_reuses(pw: &str, words: &[(String, String, f64)]) -> Vec<(String, f64)> {
    let letters = leading_letters(pw);
    let rest = &pw[letters.len()..];
    if letters.chars().count() < 3 || rest.is_empty() {
        return Vec::new();
    }
    let own = letters.to_lowercase();
    let others: Vec<&(String, String, f64)> = words
        .iter()
        .filter(|(lower, _, _)| *lower != own && !lower.is_empty())
        .collect();
    let mut t = Table::default();
    for (lower, typed, w) in others {
        let like_old = like_case(letters, lower);
        t.add(format!("{like_old}{rest}"), w * PW_REUSE_CASE_OLD);
        t.add(format!("{typed}{rest}"), w * (1.0 - PW_REUSE_CASE_OLD));
    }
    t.normalised(1.0).sorted()
}

/// The most common passwords changed as people change them: capitalised, with "!", with the
/// hints' years or numbers; each a share of the listed spelling's weight.
fn common_edits(acc: &mut Acc, list: RankedList, share: f64, hint_digits: &[(String, f64)]) {
    let len = list.full_len.max(list.top.len());
    let harmonic: f64 = (1..=len).map(|r| (r as f64).powf(-ZIPF)).sum();
    for (r, s) in list.top.iter().take(COMMON_DECORATED_TOP).enumerate() {
        if s.chars().count() < 4 || !s.chars().all(|c| c.is_ascii_lowercase()) {
            continue;
        }
        let w = share * ((r + 1) as f64).powf(-ZIPF) / harmonic;
        let cap = capitalise(s);
        acc.add(cap.clone(), w * COMMON_CAPITAL);
        acc.add(format!("{s}!"), w * COMMON_BANG / 2.0);
        acc.add(format!("{cap}!"), w * COMMON_BANG / 2.0);
        for (d, wd) in hint_digits {
            let wd = w * COMMON_HINT_DIGITS * wd / 2.0;
            if wd < SCORE_FLOOR {
                break; // sorted
            }
            acc.add(format!("{s}{d}"), wd);
            acc.add(format!("{cap}{d}"), wd);
        }
    }
}

/// Spellings of two words run together (case pattern × joiner) whose weight is at least
/// `min_weight`; only those strings are built, so a pair with no chance costs nothing.
fn pair_forms(a: &[String], b: &[String], min_weight: f64) -> Vec<(String, f64)> {
    let lower_a = a.concat();
    let lower_b = b.concat();
    let cap = |t: &[String]| t.iter().map(|x| capitalise(x)).collect::<String>();
    let (cap_a, cap_b) = (cap(a), cap(b));
    let mut t = Table::default();
    for &(j, wj) in &PAIR_JOINERS {
        for (case, wc) in PAIR_CASES.into_iter().enumerate() {
            if wj * wc < min_weight {
                continue;
            }
            let s = match case {
                0 => format!("{lower_a}{j}{lower_b}"),
                1 => format!("{cap_a}{j}{cap_b}"),
                2 => format!("{cap_a}{j}{lower_b}"),
                3 => format!("{lower_a}{j}{lower_b}").to_uppercase(),
                4 => swap_case(&format!("{cap_a}{j}{cap_b}")),
                _ => format!("{lower_a}{j}{cap_b}"),
            };
            t.add(s, wj * wc);
        }
    }
    t.sorted()
}

/// Adds `form` with every affix whose weight keeps it above the floor.
fn decorate(acc: &mut Acc, form: &str, weight: f64, affixes: &[Affix]) {
    for a in affixes {
        let w = weight * a.weight;
        if w < SCORE_FLOOR {
            break; // sorted: the rest are smaller
        }
        acc.add(format!("{}{form}{}", a.prefix, a.suffix), w);
    }
}

/// Every affix, with weights summing to 1 and `none` for the bare word; sorted.
fn affix_table(hint_digits: &[(String, f64)], none: f64) -> Vec<Affix> {
    let generic = {
        let mut t = Table::default();
        for (s, w) in generic_digits() {
            t.add(s, w);
        }
        t.normalised(1.0).sorted()
    };
    let symbols = {
        let mut t = Table::default();
        for (s, w) in SYMBOLS {
            t.add(s.to_string(), w);
        }
        t.normalised(1.0).sorted()
    };
    let has_hints = !hint_digits.is_empty();
    // Without digits in the hints their shares go to the generic endings.
    let (hint_suffix, generic_suffix) = if has_hints {
        (AFFIX_HINT_DIGITS, AFFIX_GENERIC_DIGITS)
    } else {
        (0.0, AFFIX_HINT_DIGITS + AFFIX_GENERIC_DIGITS)
    };
    let (hint_prefix, generic_prefix) = if has_hints {
        (AFFIX_HINT_PREFIX, AFFIX_GENERIC_PREFIX)
    } else {
        (0.0, AFFIX_HINT_PREFIX + AFFIX_GENERIC_PREFIX)
    };
    let from_hints = if has_hints {
        DIGITS_SYMBOL_FROM_HINTS
    } else {
        0.0
    };
    let others = 1.0 - AFFIX_NONE;
    let scale = (1.0 - none) / others;

    // (prefix, suffix) -> weight, summed.
    let mut t = Table::default();
    let key = |p: &str, s: &str| format!("{p}\u{0}{s}");
    t.add(key("", ""), none);
    for (pool, share) in [(hint_digits, hint_suffix), (&generic[..], generic_suffix)] {
        for (d, w) in pool {
            t.add(key("", d), scale * share * w);
        }
    }
    for (pool, share) in [(hint_digits, hint_prefix), (&generic[..], generic_prefix)] {
        for (d, w) in pool {
            t.add(key(d, ""), scale * share * w);
        }
    }
    for (p, w) in WORD_PREFIXES {
        t.add(key(p, ""), scale * AFFIX_WORD_PREFIX * w);
    }
    for (e, w) in POPULAR_ENDINGS {
        t.add(key("", e), scale * w);
    }
    for (s, w) in &symbols {
        t.add(key("", s), scale * AFFIX_SYMBOL * w);
        t.add(key(s, ""), scale * AFFIX_SYMBOL_PREFIX * w);
    }
    for (d, w) in four_digit_block() {
        t.add(key("", &d), scale * AFFIX_FOUR_DIGITS * w);
    }
    let walks: f64 = KEYBOARD_WALKS.iter().map(|x| x.1).sum();
    for (s, w) in KEYBOARD_WALKS {
        t.add(key("", s), scale * AFFIX_KEYBOARD_WALK * w / walks);
    }
    // Digits then a symbol ("luna1995!"), and a separator then digits ("luna_1995").
    let sep_from_hints = if has_hints { 0.7 } else { 0.0 };
    let pools = [
        (hint_digits, from_hints, sep_from_hints),
        (&generic[..], 1.0 - from_hints, 1.0 - sep_from_hints),
    ];
    for (pool, sym_share, sep_share) in pools {
        for (d, wd) in pool {
            for (s, ws) in &symbols {
                t.add(
                    key("", &format!("{d}{s}")),
                    scale * AFFIX_DIGITS_SYMBOL * sym_share * wd * ws,
                );
            }
            for &(sep, wsep) in &DIGIT_SEPARATORS {
                t.add(
                    key("", &format!("{sep}{d}")),
                    scale * AFFIX_SEPARATED_DIGITS * sep_share * wd * wsep,
                );
            }
        }
    }
    t.sorted()
        .into_iter()
        .map(|(k, weight)| {
            let (prefix, suffix) = k.split_once('\u{0}').unwrap_or(("", ""));
            Affix {
                prefix: prefix.to_string(),
                suffix: suffix.to_string(),
                weight,
            }
        })
        .collect()
}

/// Every 4-digit ending that is not a year of [`generic_digits`], weights summing to 1: a
/// month and day (either order) weighs [`FOUR_DIGITS_DAY`] times any other.
fn four_digit_block() -> Vec<(String, f64)> {
    let is_day = |a: u32, b: u32| (1..=12).contains(&a) && (1..=31).contains(&b);
    let mut out: Vec<(String, f64)> = (0..10_000u32)
        .filter(|n| !(1940..=RECENT_YEAR as u32 + 1).contains(n))
        .map(|n| {
            let (hi, lo) = (n / 100, n % 100);
            let w = if is_day(hi, lo) || is_day(lo, hi) {
                FOUR_DIGITS_DAY
            } else {
                1.0
            };
            (format!("{n:04}"), w)
        })
        .collect();
    let sum: f64 = out.iter().map(|x| x.1).sum();
    for x in &mut out {
        x.1 /= sum;
    }
    out
}

/// The hints' own digits as word endings (years, date fragments, numbers), weights summing
/// to 1, each date or number an equal share.
fn hint_digit_pool(hints: &Hints) -> Vec<(String, f64)> {
    let items = item_digit_pools(hints);
    let mut t = Table::default();
    let total: f64 = items.iter().map(|x| x.1).sum();
    for (pool, wi) in items {
        for (s, w) in pool {
            t.add(s, wi / total * w);
        }
    }
    t.sorted()
}

/// For each date and each number, its digit forms as a word ending, weights summing to 1,
/// sorted (never empty), with the item's weight: 1 for what the owner gave as a date or
/// number, less for digits found elsewhere (an old passcode, a username's digits).
fn item_digit_pools(hints: &Hints) -> Vec<(Vec<(String, f64)>, f64)> {
    let mut out = Vec::new();
    for (d, order) in hints.dates.iter().zip(listed_order(hints.dates.len())) {
        out.push((date_fragments(d, true).sorted(), order));
    }
    let number_pool = |n: &str| -> Vec<(String, f64)> {
        let year_like = n.len() == 4 && (n.starts_with("19") || n.starts_with("20"));
        if year_like {
            vec![(n.to_string(), 0.7), (n[2..].to_string(), 0.3)]
        } else if n.len() >= 10 {
            phone_pieces(n, &PHONE_AFTER_WORD)
        } else {
            vec![(n.to_string(), 1.0)]
        }
    };
    for (n, order) in hints.numbers.iter().zip(listed_order(hints.numbers.len())) {
        out.push((number_pool(n), order));
    }
    // An old passcode is a number the owner typed for years: it ends words too. So does the
    // number of an old password ("blue42" -> "Sunshine42!").
    for pw in &hints.passwords {
        if (3..=8).contains(&pw.len()) && pw.bytes().all(|b| b.is_ascii_digit()) {
            out.push((number_pool(pw), PASSCODE_ITEM));
        } else {
            let (stem, digits, _) = split_tail(pw);
            if !stem.is_empty() && (1..=8).contains(&digits.len()) {
                out.push((number_pool(digits), PASSWORD_DIGITS_ITEM));
            }
        }
    }
    for w in &hints.words {
        if let Some((_, digits)) = username_parts(w) {
            if !digits.is_empty() {
                out.push((number_pool(&digits), USERNAME_DIGITS_ITEM));
            }
        }
    }
    out
}

/// The pieces of a long number (a phone number) by `table`, as (how many last digits, or 0
/// for all, weight); weights sum to 1, pieces longer than the number left out.
fn phone_pieces(n: &str, table: &[(usize, f64)]) -> Vec<(String, f64)> {
    let mut t = Table::default();
    for &(k, w) in table {
        if k == 0 {
            t.add(n.to_string(), w);
        } else if k < n.len() {
            t.add(n[n.len() - k..].to_string(), w);
        }
    }
    t.normalised(1.0).sorted()
}

/// The fragments of a date in the usual formats, weights summing to 1: as a word ending
/// (`after_word`) or typed alone.
fn date_fragments(d: &HintDate, after_word: bool) -> Table {
    let table: &[(&str, f64, f64)] = match (d.year, d.month, d.day) {
        (Some(_), Some(_), Some(_)) => &DATE_FULL,
        (Some(_), Some(_), None) => &DATE_MONTH,
        (Some(_), _, _) => &DATE_YEAR,
        _ => &DATE_DAY,
    };
    let mut t = Table::default();
    for &(format, w_word, w_alone) in table {
        let w = if after_word { w_word } else { w_alone };
        if let Some(s) = format_date(d, format) {
            t.add(s, w);
        }
    }
    t.normalised(1.0)
}

/// Writes a date in a format made of the tokens YYYY, YY, MM, DD, M, D; anything else is
/// copied as it is. `None` when the date lacks a part the format needs.
fn format_date(d: &HintDate, format: &str) -> Option<String> {
    let mut out = String::new();
    let mut rest = format;
    while let Some(c) = rest.chars().next() {
        let month_name = || {
            let m = usize::from(d.month?);
            super::dates::MONTH_NAMES.get(m.checked_sub(1)?).copied()
        };
        let (piece, len) = if rest.starts_with("MONTH") {
            (month_name()?.to_string(), 5)
        } else if rest.starts_with("Month") {
            (capitalise(month_name()?), 5)
        } else if rest.starts_with("MON") {
            (month_name()?[..3].to_string(), 3)
        } else if rest.starts_with("Mon") {
            (capitalise(&month_name()?[..3]), 3)
        } else if rest.starts_with("YYYY") {
            (format!("{:04}", d.year?), 4)
        } else if rest.starts_with("YY") {
            (format!("{:02}", d.year? % 100), 2)
        } else if rest.starts_with("MM") {
            (format!("{:02}", d.month?), 2)
        } else if rest.starts_with("DD") {
            (format!("{:02}", d.day?), 2)
        } else if c == 'M' {
            (d.month?.to_string(), 1)
        } else if c == 'D' {
            (d.day?.to_string(), 1)
        } else {
            (c.to_string(), c.len_utf8())
        };
        out.push_str(&piece);
        rest = &rest[len..];
    }
    Some(out)
}

/// Splits a password into (stem, trailing digits, trailing symbols): "Rainbow7!" ->
/// ("Rainbow", "7", "!").
fn split_tail(pw: &str) -> (&str, &str, &str) {
    let sym_start = pw
        .char_indices()
        .rev()
        .take_while(|(_, c)| !c.is_alphanumeric())
        .last()
        .map_or(pw.len(), |(i, _)| i);
    let body = &pw[..sym_start];
    let digit_start = body
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_ascii_digit())
        .last()
        .map_or(body.len(), |(i, _)| i);
    (&body[..digit_start], &body[digit_start..], &pw[sym_start..])
}

/// The edits people make to an old password: a new number or year at the end, a symbol added
/// or dropped, a digit added or dropped, another case, Caps Lock; each with its weight, and
/// combined (a new year and a "!" is one guess).
fn password_edits(acc: &mut Acc, pw: &str, weight: f64, hint_digits: &[(String, f64)]) {
    if weight < SCORE_FLOOR {
        return; // every edit weighs less than the password
    }
    let (stem, digits, symbols) = split_tail(pw);
    // A passcode (digits only) is reused or lengthened, seldom counted up or given a symbol.
    let passcode = stem.is_empty() && symbols.is_empty();
    let (step_share, symbol_share) = if passcode {
        (PW_PASSCODE_STEP, PW_PASSCODE_SYMBOL)
    } else {
        (PW_DIGITS_STEP, PW_SYMBOL_APPEND)
    };

    // The digit ending.
    let mut d = Table::default();
    d.add(digits.to_string(), PW_DIGITS_KEEP);
    let append_share;
    if digits.is_empty() {
        append_share = PW_DIGITS_APPEND + step_share;
    } else {
        append_share = PW_DIGITS_APPEND * PW_APPEND_WHEN_DIGITS;
        for (s, w) in digit_steps(digits) {
            d.add(s, step_share * w);
        }
        d.add(digits[..digits.len() - 1].to_string(), PW_DIGITS_DROP_LAST);
        d.add(String::new(), PW_DIGITS_DROP_ALL);
    }
    let plain = 1.0 - PW_APPEND_HINT - PW_APPEND_RECENT_YEAR;
    let sum: f64 = PW_APPEND_DIGITS.iter().map(|a| a.1).sum();
    for (s, w) in PW_APPEND_DIGITS {
        d.add(format!("{digits}{s}"), append_share * plain * w / sum);
    }
    for (s, w) in hint_digits {
        let w = append_share * PW_APPEND_HINT * w;
        if weight * w < SCORE_FLOOR {
            break; // sorted; and no guess from this ending would reach the floor
        }
        d.add(format!("{digits}{s}"), w);
    }
    if !digits.is_empty() && !passcode {
        // The number replaced by another the owner uses (a year, another old password's).
        for (s, w) in hint_digits {
            let w = PW_DIGITS_REPLACE_HINT * w;
            if weight * w < SCORE_FLOOR {
                break; // sorted
            }
            if s != digits {
                d.add(s.clone(), w);
            }
        }
    }
    let recent: Vec<i32> = (RECENT_YEAR - 6..=RECENT_YEAR + 1).collect();
    for y in &recent {
        d.add(
            format!("{digits}{y}"),
            append_share * PW_APPEND_RECENT_YEAR / recent.len() as f64,
        );
    }
    let d = d.sorted();

    // The symbol ending.
    let mut s = Table::default();
    s.add(symbols.to_string(), PW_SYMBOL_KEEP);
    let sym_sum: f64 = SYMBOLS.iter().map(|x| x.1).sum();
    for (x, w) in SYMBOLS {
        s.add(format!("{symbols}{x}"), symbol_share * w / sym_sum);
        if !symbols.is_empty() && x != symbols {
            s.add(x.to_string(), PW_SYMBOL_REPLACE * w / sym_sum);
        }
    }
    if !symbols.is_empty() {
        s.add(String::new(), PW_SYMBOL_DROP);
    }
    let s = s.sorted();

    // The stem, with or without letter-for-digit swaps.
    let stems: Vec<(String, f64)> = leet_variants(stem)
        .into_iter()
        .map(|(v, w)| {
            if v == stem {
                (v, 1.0 - PW_LEET)
            } else {
                (v, PW_LEET * w / LEET_SHARE)
            }
        })
        .collect();

    let best_s = s.first().map_or(0.0, |x| x.1);
    let best_case = PW_CASES.iter().copied().fold(0.0, f64::max);
    for (st, w_st) in &stems {
        for (dg, w_d) in &d {
            let w1 = weight * w_st * w_d;
            if w1 * best_s * best_case < SCORE_FLOOR {
                break;
            }
            for (sy, w_s) in &s {
                let w2 = w1 * w_s;
                if w2 * best_case < SCORE_FLOOR {
                    break;
                }
                let typed = format!("{st}{dg}{sy}");
                let cases = [
                    typed.clone(),
                    typed.to_lowercase(),
                    capitalise(&typed),
                    typed.to_uppercase(),
                    swap_case(&typed),
                    toggle_first(&typed),
                ];
                // The same string from two case rules is one guess with both weights.
                let mut seen: Vec<(String, f64)> = Vec::with_capacity(6);
                for (c, wc) in cases.into_iter().zip(PW_CASES) {
                    match seen.iter_mut().find(|(x, _)| *x == c) {
                        Some(e) => e.1 += wc,
                        None => seen.push((c, wc)),
                    }
                }
                for (c, wc) in seen {
                    acc.add(c, w2 * wc);
                }
            }
        }
    }
}

fn toggle_first(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => swap_case(&first.to_string()) + c.as_str(),
        None => String::new(),
    }
}

/// Next/previous versions of a digit ending: years move by years, other numbers count; the
/// width of a zero-padded number is kept ("07" -> "08").
fn digit_steps(digits: &str) -> Vec<(String, f64)> {
    let mut out = Vec::new();
    if digits.len() == 4 {
        if let Ok(y) = digits.parse::<i32>() {
            if (1900..=2099).contains(&y) {
                let sum: f64 = YEAR_STEPS.iter().map(|s| s.1).sum();
                for (k, w) in YEAR_STEPS {
                    out.push(((y + k).to_string(), w / sum));
                }
                return out;
            }
        }
    }
    let Ok(n) = digits.parse::<i64>() else {
        return out; // too long to count with
    };
    let width = if digits.starts_with('0') {
        digits.len()
    } else {
        0
    };
    let sum: f64 = NUMBER_STEPS.iter().map(|s| s.1).sum();
    for (k, w) in NUMBER_STEPS {
        // Checked: a number near i64::MAX (an old password "...9223372036854775807") has no
        // step up.
        let Some(m) = n.checked_add(k) else {
            continue;
        };
        if m >= 0 {
            out.push((format!("{m:0width$}"), w / sum));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tails() {
        assert_eq!(split_tail("Rainbow7!"), ("Rainbow", "7", "!"));
        assert_eq!(split_tail("Winter2018"), ("Winter", "2018", ""));
        assert_eq!(split_tail("letmein"), ("letmein", "", ""));
        assert_eq!(split_tail("1234"), ("", "1234", ""));
        assert_eq!(split_tail("!!"), ("", "", "!!"));
        assert_eq!(split_tail("é9€"), ("é", "9", "€"));
    }

    #[test]
    fn steps() {
        let s = digit_steps("9");
        assert_eq!(s[0].0, "10");
        let s = digit_steps("07");
        assert_eq!(s[0].0, "08");
        let s = digit_steps("2018");
        assert_eq!(s[0].0, "2019");
        assert!(s.iter().any(|(x, _)| x == "2020"));
    }

    #[test]
    fn date_formats() {
        let d = HintDate::parse("1988-03-09").unwrap();
        assert_eq!(format_date(&d, "DDMMYY").unwrap(), "090388");
        assert_eq!(format_date(&d, "MDYY").unwrap(), "3988");
        assert_eq!(format_date(&d, "YYYYMMDD").unwrap(), "19880309");
        assert_eq!(format_date(&d, "DD.MM.YYYY").unwrap(), "09.03.1988");
        let y = HintDate::parse("2012").unwrap();
        assert_eq!(format_date(&y, "DDMM"), None);
    }

    #[test]
    fn leet() {
        let v = leet_variants("pepper");
        assert!(v.iter().any(|(s, _)| s == "p3pp3r"));
        assert!(v.iter().any(|(s, _)| s == "p3pper"));
        let total: f64 = v.iter().map(|(_, w)| w).sum();
        assert!(total <= 1.0 + 1e-9);
        let v = leet_variants("sophie");
        assert!(v.iter().any(|(s, _)| s == "s0ph1e"));
        assert!(v.iter().any(|(s, _)| s == "$0ph13"));
        assert_eq!(leet_variants("xyz").len(), 1);
    }

    #[test]
    fn caps_lock() {
        assert_eq!(swap_case("Shadow1"), "sHADOW1");
        assert_eq!(toggle_first("shadow"), "Shadow");
    }
}
