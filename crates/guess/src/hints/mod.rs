//! Guesses from what the owner remembers, likeliest first.
//!
//! A hints file ([`Hints::from_toml`]) lists words (names, pets, places, teams, phrases),
//! dates, numbers and old passwords. [`rank`] turns them into guesses the way people build
//! passwords from such things (case and Caps Lock, years and date fragments before or after,
//! symbols, two words together, letter-for-digit swaps, edits of an old password) and orders
//! them by an estimated probability, together with the most common passwords and PINs.
//!
//! [`default_plan`] is the stream `recover` and `candidates` use when the user gives hints or
//! no source at all: that ranked hint tier, then the rest of the common passwords, then the
//! rest of the PINs, with no guess tried twice.

mod answers;
mod dates;
mod generate;
mod model;
mod parse;
mod wider;

use std::collections::{HashMap, HashSet};

use crate::common::{self, CommonSource};
use crate::pins::{self, PinSource};
use crate::{GuessError, GuessIter, Plan, Source};

pub use answers::{split as split_answers, Added, Answers, Question};
pub use dates::HintDate;
pub use generate::{
    rank, RankedList, Scored, COMMON_IN_TIER, MAX_HINT_TIER, PINS_IN_TIER, SCORE_FLOOR,
};
pub use parse::{Hints, HintsError, Origin, FIELDS, MAX_PER_FIELD};
pub use wider::{wider_plan, WordDigits};

/// Bumped when the hint model changes the order of its guesses (also covered by the
/// fingerprint, which digests the guesses themselves).
pub const HINT_MODEL_VERSION: u32 = 3;

/// The ranked hint tier as a [`Source`]: computed once, kept in memory (it is bounded by
/// [`MAX_HINT_TIER`]).
pub struct HintsSource {
    ranked: Vec<Scored>,
    digest: u64,
    /// False for empty hints: then the tier is only common passwords and PINs.
    from_hints: bool,
}

impl HintsSource {
    /// Ranks the hints against the built-in common passwords and PINs. Empty hints give the
    /// likeliest common passwords and PINs, interleaved.
    pub fn new(hints: &Hints) -> HintsSource {
        let common: Vec<String> = common::ranked()
            .iter()
            .take(COMMON_IN_TIER)
            .map(|s| s.to_string())
            .collect();
        let pins = |list: &[u32], digits: usize| -> Vec<String> {
            list.iter()
                .take(PINS_IN_TIER)
                .map(|&p| pins::format(p, digits))
                .collect()
        };
        let (pins_4, pins_6) = (pins(pins::ranked_4(), 4), pins(pins::ranked_6(), 6));
        let ranked = rank(
            hints,
            RankedList {
                top: &common,
                full_len: common::ranked().len(),
            },
            RankedList {
                top: &pins_4,
                full_len: pins::ranked_4().len(),
            },
            RankedList {
                top: &pins_6,
                full_len: pins::ranked_6().len(),
            },
        );
        let mut bytes = Vec::new();
        for s in &ranked {
            bytes.extend_from_slice(s.guess.as_bytes());
            bytes.push(b'\n');
        }
        HintsSource {
            digest: crate::fnv1a(&bytes),
            ranked,
            from_hints: !hints.is_empty(),
        }
    }

    /// The guesses with their scores, likeliest first.
    pub fn scored(&self) -> &[Scored] {
        &self.ranked
    }
}

impl Source for HintsSource {
    fn name(&self) -> String {
        if self.from_hints {
            "hints, with the likeliest common passwords and PINs".to_string()
        } else {
            "the likeliest common passwords and PINs".to_string()
        }
    }

    fn len(&self) -> Option<u64> {
        Some(self.ranked.len() as u64)
    }

    fn iter_from(&self, start: u64) -> Result<GuessIter<'_>, GuessError> {
        let from = start.min(self.ranked.len() as u64) as usize;
        Ok(Box::new(
            self.ranked[from..]
                .iter()
                .map(|s| Ok(s.guess.as_bytes().to_vec())),
        ))
    }

    fn fingerprint(&self) -> String {
        format!(
            "hints v{HINT_MODEL_VERSION} {} {:016x}",
            self.ranked.len(),
            self.digest
        )
    }
}

/// Another source with some of its guesses left out, by index: what a later tier still has to
/// try after the earlier tiers. Indexable like the source it wraps.
pub struct Without {
    inner: Box<dyn Source>,
    /// Indices of `inner` to leave out, ascending, no duplicates.
    skipped: Vec<u64>,
    name: String,
}

impl Without {
    /// `skipped` may be in any order and hold duplicates; indices past the end are ignored.
    pub fn new(inner: Box<dyn Source>, mut skipped: Vec<u64>, name: String) -> Without {
        let len = inner.len().unwrap_or(u64::MAX);
        skipped.retain(|&i| i < len);
        skipped.sort_unstable();
        skipped.dedup();
        Without {
            inner,
            skipped,
            name,
        }
    }
}

impl Source for Without {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn len(&self) -> Option<u64> {
        Some(self.inner.len()? - self.skipped.len() as u64)
    }

    fn iter_from(&self, start: u64) -> Result<GuessIter<'_>, GuessError> {
        // The inner index of kept guess `start`: step over every skipped index at or before
        // it.
        let mut at = start;
        let mut next_skip = 0;
        while next_skip < self.skipped.len() && self.skipped[next_skip] <= at {
            at += 1;
            next_skip += 1;
        }
        let skipped = &self.skipped[next_skip..];
        let mut k = 0;
        let iter = self
            .inner
            .iter_from(at)?
            .enumerate()
            .filter_map(move |(i, g)| {
                let i = at + i as u64;
                if k < skipped.len() && skipped[k] == i {
                    k += 1;
                    None
                } else {
                    Some(g)
                }
            });
        Ok(Box::new(iter))
    }

    fn fingerprint(&self) -> String {
        let bytes: Vec<u8> = self.skipped.iter().flat_map(|i| i.to_le_bytes()).collect();
        format!(
            "{} without {} {:016x}",
            self.inner.fingerprint(),
            self.skipped.len(),
            crate::fnv1a(&bytes)
        )
    }
}

/// The index of a PIN in [`PinSource::new`]'s order, if `guess` is a 4- or 6-digit PIN.
fn pin_index(guess: &str, inverse: &PinInverse) -> Option<u64> {
    if !guess.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let n: usize = guess.parse().ok()?;
    match guess.len() {
        4 => Some(u64::from(inverse.four[n])),
        6 => Some(pins::ranked_4().len() as u64 + u64::from(inverse.six[n])),
        _ => None,
    }
}

/// Position of every PIN in the ranked orders.
struct PinInverse {
    four: Vec<u32>,
    six: Vec<u32>,
}

impl PinInverse {
    fn new() -> PinInverse {
        let invert = |list: &[u32]| {
            let mut inv = vec![0u32; list.len()];
            for (i, &p) in list.iter().enumerate() {
                inv[p as usize] = i as u32;
            }
            inv
        };
        PinInverse {
            four: invert(pins::ranked_4()),
            six: invert(pins::ranked_6()),
        }
    }
}

/// The whole default stream: the ranked hint tier, then the common passwords not yet tried
/// (none with the current weights: they all rank above the floor), then the PINs not yet
/// tried; tiers with nothing left are left out. Without hints (or with an empty hints file) the first tier is
/// the likeliest common passwords and PINs, interleaved by likelihood.
pub fn default_plan(hints: Option<&Hints>) -> Plan {
    let empty = Hints::default();
    let source = HintsSource::new(hints.unwrap_or(&empty));
    let tried: HashSet<String> = source.scored().iter().map(|s| s.guess.clone()).collect();
    let mut plan = Plan::new();
    plan.push(Box::new(source));

    let common_list = common::ranked();
    let common_index: HashMap<&str, u64> = common_list
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, i as u64))
        .collect();
    let skipped: Vec<u64> = tried
        .iter()
        .filter_map(|g| common_index.get(g.as_str()).copied())
        .collect();
    let common = Without::new(Box::new(CommonSource::new()), skipped, String::new());
    let common_len = common.len().unwrap_or(0);
    if common_len > 0 {
        let name = "the other common passwords".to_string();
        plan.push(Box::new(Without { name, ..common }));
    }

    let inverse = PinInverse::new();
    let skipped: Vec<u64> = tried
        .iter()
        .map(String::as_str)
        .chain(common_list.iter().copied())
        .filter_map(|g| pin_index(g, &inverse))
        .collect();
    let pins = Without::new(Box::new(PinSource::new()), skipped, String::new());
    let pins_len = pins.len().unwrap_or(0);
    if pins_len > 0 {
        let name = "the other 4- and 6-digit PINs".to_string();
        plan.push(Box::new(Without { name, ..pins }));
    }
    plan
}
