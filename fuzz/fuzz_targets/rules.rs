//! Hashcat rules files, applied to a few words.
//!
//! Input: the rules text, then a NUL byte, a start byte and the words (one a line). Each
//! guess must be what its rule gives its word at the slot `word * rules + rule`, and a stream
//! resumed at any index must be exactly the tail of the whole stream.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sesame_guess::rules::{Rules, RulesSource};
use sesame_guess::{GuessError, GuessIter, Source, MAX_LEN};

/// Guesses looked at per stream: bounds the work whatever the rules do.
const TAKE: usize = 300;
const MAX_WORDS: usize = 8;

/// A fixed list of words as a source (a wordlist without a file).
struct Words(Vec<Vec<u8>>);

impl Source for Words {
    fn name(&self) -> String {
        "fuzz words".into()
    }
    fn len(&self) -> Option<u64> {
        Some(self.0.len() as u64)
    }
    fn iter_from(&self, start: u64) -> Result<GuessIter<'_>, GuessError> {
        let from = start.min(self.0.len() as u64) as usize;
        Ok(Box::new(self.0[from..].iter().cloned().map(Ok)))
    }
    fn fingerprint(&self) -> String {
        format!("fuzz words {}", self.0.len())
    }
}

fuzz_target!(|data: &[u8]| {
    let (text, tail) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b""[..]),
    };
    let Ok(rules) = Rules::parse_bytes(text, "fuzz.rule") else {
        return;
    };
    let (start_byte, words) = tail.split_first().map_or((0, &b""[..]), |(s, w)| (*s, w));
    let mut words: Vec<Vec<u8>> = words
        .split(|&b| b == b'\n')
        .take(MAX_WORDS)
        .map(<[u8]>::to_vec)
        .collect();
    if words.iter().all(Vec::is_empty) {
        words = vec![b"password".to_vec(), b"Sesame1!".to_vec()];
    }
    for r in rules.rules().iter().take(64) {
        let _ = r.text();
        for w in &words {
            if let Some(g) = r.apply(w) {
                assert!(
                    g.len() <= MAX_LEN,
                    "a rule made a guess longer than MAX_LEN"
                );
            }
        }
    }

    let n_rules = rules.len() as u64;
    let Ok(src) = RulesSource::new(Box::new(Words(words.clone())), rules.clone()) else {
        assert!(rules.is_empty(), "RulesSource refused non-empty rules");
        return;
    };
    let _ = (src.name(), src.fingerprint());
    let len = src.len().expect("known length");
    assert_eq!(len, words.len() as u64 * n_rules);
    let all: Vec<(u64, Vec<u8>)> = src
        .indexed_from(0)
        .expect("open")
        .take(TAKE)
        .map(|r| r.expect("no I/O here"))
        .collect();
    let mut prev = None;
    for (i, g) in &all {
        assert!(prev.is_none_or(|p| p < *i), "indices must increase");
        assert!(*i < len, "index past the length");
        prev = Some(*i);
        assert!(!g.is_empty() && g.len() <= MAX_LEN);
        let (w, r) = ((i / n_rules) as usize, (i % n_rules) as usize);
        assert_eq!(
            rules.rules()[r].apply(&words[w]).as_ref(),
            Some(g),
            "slot {i} does not hold rule {r} applied to word {w}"
        );
    }

    // Resuming at `start` gives the same guesses as the whole stream from there on.
    let start = (len * u64::from(start_byte)) / 255;
    let complete = all.len() < TAKE;
    let last = all.last().map_or(0, |x| x.0);
    let want: Vec<_> = all.iter().filter(|x| x.0 >= start).cloned().collect();
    let got: Vec<_> = src
        .indexed_from(start)
        .expect("open")
        .take(TAKE)
        .map(|r| r.expect("no I/O here"))
        .filter(|x| complete || x.0 <= last)
        .collect();
    assert_eq!(got, want, "resuming at {start} changed the stream");
});
