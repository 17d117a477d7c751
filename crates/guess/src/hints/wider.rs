//! The wider search, for when the likeliest guesses did not find it: every word the owner gave
//! with every four digits after it, the digits in the order people choose PINs (1234 and 0000
//! long before 8351). A word with four digits is among the commonest shapes of a password;
//! the ranked hint tier holds the years and dates, this holds the rest of the block.

use super::Hints;
use crate::{pins, GuessError, GuessIter, Plan, Source};

/// Each base word (as given, lower case, capitalised) with each 4-digit suffix.
pub struct WordDigits {
    bases: Vec<String>,
    /// 4-digit suffixes, likeliest first, years that the hint tier already covers left out.
    suffixes: Vec<u32>,
}

/// The years the ranked hint tier already puts after every word.
const YEARS: std::ops::RangeInclusive<u32> = 1940..=2026;

impl WordDigits {
    pub fn new(hints: &Hints) -> WordDigits {
        let mut bases: Vec<String> = Vec::new();
        let mut push = |s: String| {
            if !s.is_empty() && !bases.contains(&s) {
                bases.push(s);
            }
        };
        for w in &hints.words {
            // "Trail Blazers" -> "trailblazers": a password has no spaces, mostly.
            let joined: String = w.split_whitespace().collect();
            push(joined.clone());
            push(joined.to_lowercase());
            let mut c = joined.to_lowercase();
            if let Some(f) = c.get(0..1) {
                let up = f.to_uppercase();
                c.replace_range(0..1, &up);
            }
            push(c);
        }
        let suffixes = pins::ranked_4()
            .iter()
            .copied()
            .filter(|p| !YEARS.contains(p))
            .collect();
        WordDigits { bases, suffixes }
    }
}

impl Source for WordDigits {
    fn name(&self) -> String {
        "every word you gave with every four digits".into()
    }

    fn len(&self) -> Option<u64> {
        Some(self.bases.len() as u64 * self.suffixes.len() as u64)
    }

    fn iter_from(&self, start: u64) -> Result<GuessIter<'_>, GuessError> {
        let n = self.bases.len() as u64;
        let len = self.len().unwrap_or(0);
        // Index i: suffix i / n on base i % n, so the likeliest suffixes go on every word first.
        Ok(Box::new((start.min(len)..len).map(move |i| {
            let base = &self.bases[(i % n) as usize];
            let suffix = self.suffixes[(i / n) as usize];
            let mut g = base.as_bytes().to_vec();
            g.extend_from_slice(pins::format(suffix, 4).as_bytes());
            Ok(g)
        })))
    }

    fn fingerprint(&self) -> String {
        let mut bytes = b"word-digits-1\0".to_vec();
        for b in &self.bases {
            bytes.extend_from_slice(b.as_bytes());
            bytes.push(0);
        }
        format!("word-digits {:016x}", crate::fnv1a(&bytes))
    }
}

/// The stages after [`super::default_plan`]: empty when no word was given.
pub fn wider_plan(hints: &Hints) -> Plan {
    let mut plan = Plan::new();
    let wd = WordDigits::new(hints);
    if wd.len() != Some(0) {
        plan.push(Box::new(wd));
    }
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(p: &Plan) -> Vec<String> {
        p.iter_from(0)
            .unwrap()
            .map(|g| String::from_utf8(g.unwrap().1).unwrap())
            .collect()
    }

    #[test]
    fn every_word_gets_every_four_digits_once_likeliest_first() {
        let mut h = Hints::default();
        h.add_flags(&["Trail Blazers".into()], &[], &[], &[])
            .unwrap();
        let p = wider_plan(&h);
        let g = all(&p);
        // 3 forms x (10,000 - 87 years).
        assert_eq!(g.len(), 3 * (10_000 - 87));
        assert_eq!(p.len(), Some(g.len() as u64));
        let set: std::collections::HashSet<&String> = g.iter().collect();
        assert_eq!(set.len(), g.len(), "no guess twice");
        assert!(g[..3].iter().all(|x| x.ends_with("1234")), "{:?}", &g[..3]);
        assert!(set.contains(&"Trailblazers8351".to_string()));
        assert!(set.contains(&"trailblazers0042".to_string()));
        assert!(
            !set.contains(&"trailblazers1990".to_string()),
            "years are the hint tier's"
        );
        let pos = |s: &str| g.iter().position(|x| x == s).unwrap();
        assert!(pos("trailblazers1111") < pos("trailblazers8351"));
    }

    #[test]
    fn resuming_anywhere_gives_the_rest_in_order() {
        let mut h = Hints::default();
        h.add_flags(&["rex".into(), "luna".into()], &[], &[], &[])
            .unwrap();
        let p = wider_plan(&h);
        let g = all(&p);
        for start in [0u64, 1, 7, 1000, g.len() as u64 - 1, g.len() as u64] {
            let rest: Vec<String> = p
                .iter_from(start)
                .unwrap()
                .map(|x| String::from_utf8(x.unwrap().1).unwrap())
                .collect();
            assert_eq!(rest, g[start as usize..], "start {start}");
        }
        assert!(wider_plan(&Hints::default()).is_empty());
    }
}
