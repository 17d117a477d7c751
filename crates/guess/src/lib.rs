//! Ordered, deterministic, indexable streams of password guesses.
//!
//! A [`Plan`] is a list of [`Source`]s (PINs, common passwords, wordlists, wordlist × rules,
//! masks) that together define one stream of guesses. Guess `i` of a plan is always the same
//! bytes for the same inputs, so the recovery engine can checkpoint "first index not yet
//! finished", resume with [`Plan::iter_from`], and split the work between processes with
//! [`Shard`].
//!
//! Nothing here prints, exits or panics on bad input: every problem is a [`GuessError`] that
//! names the file, line or position at fault.
//!
//! ```
//! use sesame_guess::{mask::{Mask, MaskSource}, pins::PinSource, Plan, Shard};
//!
//! let mut plan = Plan::new();
//! plan.push(Box::new(PinSource::new()));
//! // A mask in the plain order (the default, likeliest first, starts elsewhere).
//! plan.push(Box::new(MaskSource::new(Mask::parse("?u?l?d", [None; 4])?).plain_order()));
//! assert_eq!(plan.len(), Some(1_010_000 + 26 * 26 * 10));
//!
//! // Resume at index 1_010_000 (the first mask guess), as shard 1 of 2.
//! let shard: Shard = "1/2".parse()?;
//! let mut it = plan
//!     .iter_from(1_010_000)?
//!     .filter(|r| r.as_ref().map_or(true, |(i, _)| shard.owns(*i)));
//! assert_eq!(it.next().unwrap()?, (1_010_000, b"Aa0".to_vec()));
//! assert_eq!(it.next().unwrap()?, (1_010_002, b"Aa2".to_vec()));
//! # Ok::<(), sesame_guess::GuessError>(())
//! ```

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

pub mod common;
pub mod hints;
pub mod markov;
pub mod mask;
pub mod pins;
pub mod rules;
pub mod wordlist;

/// One password guess: raw bytes, UTF-8 or not (wordlists may hold any bytes).
pub type Guess = Vec<u8>;

/// The iterator a [`Source`] hands out: guesses in order, or an error where reading failed.
pub type GuessIter<'a> = Box<dyn Iterator<Item = Result<Guess, GuessError>> + Send + 'a>;

/// Guesses with their index inside the source; indices strictly increase but may skip slots
/// that hold no guess (a rule that rejects a word, or repeats an earlier output of it).
pub type IndexedIter<'a> = Box<dyn Iterator<Item = Result<(u64, Guess), GuessError>> + Send + 'a>;

/// Bumped whenever the order or content produced for the same inputs changes, so a session
/// saved by an older build is not resumed at an index that now means something else.
pub const GENERATOR_VERSION: u32 = 1;

/// Hashcat's longest password; rules never produce anything longer (the rule is rejected).
pub const MAX_LEN: usize = 256;

/// Everything that can go wrong while building or walking a stream of guesses.
#[derive(thiserror::Error, Debug)]
pub enum GuessError {
    /// A file could not be opened or read.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A mask is malformed; `column` counts bytes of the mask from 1 (0: the whole mask).
    #[error("mask {}{}: {msg}", quoted(mask), at("column", *column))]
    Mask {
        mask: String,
        column: usize,
        msg: String,
    },
    /// A custom charset (-1 .. -4) is malformed; `column` counts bytes of the set from 1
    /// (0: the whole set).
    #[error("custom charset -{set} {}{}: {msg}", quoted(text), at("column", *column))]
    Charset {
        set: u8,
        text: String,
        column: usize,
        msg: String,
    },
    /// A rule line is malformed; `line` counts from 1, `column` counts bytes of the line from 1
    /// (0: the whole line, or file).
    #[error("{file}{}{}: {msg}", at("line", *line), at("column", *column))]
    Rule {
        file: String,
        line: usize,
        column: usize,
        msg: String,
    },
    /// A `--shard K/N` argument is malformed.
    #[error("shard {text:?}: {msg} (expected K/N with 1 <= K <= N, e.g. 2/4)")]
    Shard { text: String, msg: String },
    /// A source yielded a different number of guesses than it promised, e.g. a wordlist that
    /// was edited while it was being read; indices past this point would be wrong.
    #[error("{source_name} changed while being read: {msg}; start a fresh session")]
    Changed { source_name: String, msg: String },
    /// A source cannot do what was asked (stdin read twice, a keyspace beyond 2^64...).
    #[error("{source_name}: {msg}")]
    Unsupported { source_name: String, msg: String },
}

/// ", line 4" for error messages, or nothing when the place is 0 (unknown or everything).
/// `text` quoted for an error message, cut after 40 characters: a line of a binary file given
/// as a mask file must not fill the screen (the column says where the fault is).
fn quoted(text: &str) -> String {
    const SHOWN: usize = 40;
    match text.char_indices().nth(SHOWN) {
        Some((cut, _)) => format!("{:?}...", &text[..cut]),
        None => format!("{text:?}"),
    }
}

fn at(what: &str, n: usize) -> String {
    if n == 0 {
        String::new()
    } else {
        format!(", {what} {n}")
    }
}

/// A source of guesses in a fixed order.
pub trait Source: Send + Sync {
    /// Human-readable description for the plan, e.g. "mask ?d?d?d?d".
    fn name(&self) -> String;

    /// Exact number of index slots when known (stdin: `None`). Every slot holds one guess,
    /// except in sources that override [`Source::indexed_from`] to leave gaps (wordlist × rules
    /// skips rejected and repeated outputs), where this is an upper bound on the guesses.
    fn len(&self) -> Option<u64>;

    /// True when the source is known to yield nothing.
    fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// Guesses from index `start` on: exactly the suffix of `iter_from(0)`. Cheap to start at a
    /// large index. A `start` at or past the end yields nothing.
    fn iter_from(&self, start: u64) -> Result<GuessIter<'_>, GuessError>;

    /// Guesses from index `start` on, each with its index in the source. The default numbers
    /// the guesses of `iter_from` consecutively; a source with gaps overrides it.
    fn indexed_from(&self, start: u64) -> Result<IndexedIter<'_>, GuessError> {
        let mut next = start;
        Ok(Box::new(self.iter_from(start)?.map(move |g| {
            let i = next;
            // Saturating: a `start..` range would panic in debug builds at u64::MAX.
            next = next.saturating_add(1);
            g.map(|g| (i, g))
        })))
    }

    /// What defines this source (file path + size + mtime, mask text, rules hash...), so a
    /// saved session can tell that its input changed.
    fn fingerprint(&self) -> String;
}

/// Sources in order: the whole stream of guesses of one recovery.
#[derive(Default)]
pub struct Plan {
    sources: Vec<Box<dyn Source>>,
}

impl fmt::Debug for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.sources.iter().map(|s| s.name()))
            .finish()
    }
}

impl Plan {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, s: Box<dyn Source>) {
        self.sources.push(s);
    }

    pub fn sources(&self) -> &[Box<dyn Source>] {
        &self.sources
    }

    /// Total number of index slots (the guesses, plus the empty slots wordlist × rules may
    /// leave); `None` if any source's length is unknown, or the sum would not fit in a u64.
    pub fn len(&self) -> Option<u64> {
        self.sources
            .iter()
            .try_fold(0u64, |acc, s| acc.checked_add(s.len()?))
    }

    pub fn is_empty(&self) -> bool {
        self.len() == Some(0)
    }

    /// Guesses from global index `start` on, each with its global index. Indices strictly
    /// increase; they may skip numbers where a source leaves a slot empty (wordlist × rules), so
    /// count progress by index, not by guesses received. Sources are opened lazily, when the
    /// stream reaches them; sources before `start` are skipped by arithmetic when their length
    /// is known, and read and counted when it is not (stdin).
    pub fn iter_from(&self, start: u64) -> Result<PlanIter<'_>, GuessError> {
        let mut it = PlanIter {
            plan: self,
            next_source: 0,
            current: None,
            offset: 0,
            skip: start,
            failed: false,
        };
        // Open the first source that has anything to give now, so the caller learns about a
        // missing file before the engine starts.
        it.advance_source()?;
        Ok(it)
    }

    /// Identifies the stream: the generator version and each source's fingerprint, in order.
    /// Equal fingerprints mean equal streams.
    pub fn fingerprint(&self) -> String {
        let mut out = format!("sesame-guess v{GENERATOR_VERSION}");
        for (i, s) in self.sources.iter().enumerate() {
            out.push_str(&format!("; [{i}] {}", s.fingerprint()));
        }
        out
    }

    /// Which source holds global index `index`, and the offset inside it. `None` past the end,
    /// or when a source of unknown length (stdin) comes before the index and is not the last
    /// source (then the answer cannot be known without reading it). For a last source of
    /// unknown length the offset is returned even though the source may end before it.
    pub fn source_at(&self, index: u64) -> Option<(usize, u64)> {
        let mut offset = 0u64;
        for (i, s) in self.sources.iter().enumerate() {
            match s.len() {
                Some(len) => {
                    if index - offset < len {
                        return Some((i, index - offset));
                    }
                    offset = offset.checked_add(len)?;
                }
                None => {
                    return (i + 1 == self.sources.len()).then_some((i, index - offset));
                }
            }
        }
        None
    }
}

/// Iterator over a [`Plan`]: `(global index, guess)`.
pub struct PlanIter<'a> {
    plan: &'a Plan,
    /// Index of the source to open after `current` ends.
    next_source: usize,
    /// The open source: its iterator, its position in the plan, its length if known, and (for
    /// unknown length) how many slots it has shown so far.
    current: Option<Current<'a>>,
    /// Global index of the open source's first slot.
    offset: u64,
    /// Local indices below this are skipped (only for a source of unknown length that holds
    /// the start; known lengths are skipped by arithmetic).
    skip: u64,
    /// After an error the stream stops: indices after it could not be trusted.
    failed: bool,
}

struct Current<'a> {
    iter: IndexedIter<'a>,
    source: usize,
    len: Option<u64>,
    /// One past the highest local index seen (for sources of unknown length).
    seen: u64,
}

impl PlanIter<'_> {
    /// Open the next source that is not skipped over entirely.
    fn advance_source(&mut self) -> Result<(), GuessError> {
        if let Some(cur) = self.current.take() {
            let used = cur.len.unwrap_or(cur.seen);
            self.offset = self
                .offset
                .checked_add(used)
                .ok_or_else(|| too_many(self.plan, cur.source))?;
            self.skip = self.skip.saturating_sub(used);
        }
        while let Some(s) = self.plan.sources.get(self.next_source) {
            let source = self.next_source;
            self.next_source += 1;
            match s.len() {
                Some(len) if self.skip >= len => {
                    self.skip -= len;
                    self.offset = self
                        .offset
                        .checked_add(len)
                        .ok_or_else(|| too_many(self.plan, source))?;
                }
                len => {
                    // Known length: start inside it. Unknown: read from its start and drop
                    // what comes before `skip` (its length is learnt by reading it).
                    let local = if len.is_some() { self.skip } else { 0 };
                    self.current = Some(Current {
                        iter: s.indexed_from(local)?,
                        source,
                        len,
                        seen: 0,
                    });
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

fn too_many(plan: &Plan, source: usize) -> GuessError {
    GuessError::Unsupported {
        source_name: plan.sources[source].name(),
        msg: "the plan has more than 2^64 guesses".into(),
    }
}

impl Iterator for PlanIter<'_> {
    type Item = Result<(u64, Guess), GuessError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed {
            return None;
        }
        loop {
            let cur = self.current.as_mut()?;
            match cur.iter.next() {
                Some(Ok((local, guess))) => {
                    if let Some(len) = cur.len {
                        if local >= len {
                            let source_name = self.plan.sources[cur.source].name();
                            self.failed = true;
                            return Some(Err(GuessError::Changed {
                                source_name,
                                msg: format!("it yields guess {local}, past its length {len}"),
                            }));
                        }
                    } else {
                        cur.seen = cur.seen.max(local.saturating_add(1));
                    }
                    if local < self.skip {
                        continue;
                    }
                    let Some(global) = self.offset.checked_add(local) else {
                        self.failed = true;
                        return Some(Err(too_many(self.plan, cur.source)));
                    };
                    return Some(Ok((global, guess)));
                }
                Some(Err(e)) => {
                    self.failed = true;
                    return Some(Err(e));
                }
                None => {
                    if let Err(e) = self.advance_source() {
                        self.failed = true;
                        return Some(Err(e));
                    }
                }
            }
        }
    }
}

/// `--shard K/N`: this process tries guess `i` when `i mod N == K - 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Shard {
    pub k: u64,
    pub n: u64,
}

impl Shard {
    /// The whole stream (1/1).
    pub const ALL: Shard = Shard { k: 1, n: 1 };

    /// Checked constructor: 1 <= k <= n.
    pub fn new(k: u64, n: u64) -> Result<Self, GuessError> {
        let s = Shard { k, n };
        s.check(&format!("{k}/{n}"))?;
        Ok(s)
    }

    fn check(&self, text: &str) -> Result<(), GuessError> {
        let err = |msg: &str| {
            Err(GuessError::Shard {
                text: text.to_string(),
                msg: msg.to_string(),
            })
        };
        if self.n == 0 {
            return err("N must be at least 1");
        }
        if self.k == 0 {
            return err("K counts from 1");
        }
        if self.k > self.n {
            return err("K must not be larger than N");
        }
        Ok(())
    }

    /// Whether this shard tries global index `i`.
    pub fn owns(&self, i: u64) -> bool {
        i % self.n == self.k - 1
    }

    /// The first index at or after `i` that this shard owns (`None` on u64 overflow).
    pub fn next_owned(&self, i: u64) -> Option<u64> {
        let want = self.k - 1;
        let have = i % self.n;
        let step = (want + self.n - have) % self.n;
        i.checked_add(step)
    }

    /// How many of the indices `0..len` this shard owns.
    pub fn count(&self, len: u64) -> u64 {
        let base = len / self.n;
        base + u64::from(len % self.n > self.k - 1)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.k, self.n)
    }
}

impl FromStr for Shard {
    type Err = GuessError;

    fn from_str(text: &str) -> Result<Self, GuessError> {
        let err = |msg: String| GuessError::Shard {
            text: text.to_string(),
            msg,
        };
        let (k, n) = text
            .trim()
            .split_once('/')
            .ok_or_else(|| err("no '/'".into()))?;
        let num = |part: &str, what: &str| -> Result<u64, GuessError> {
            let part = part.trim();
            // u64::from_str accepts a leading '+'; a shard number is plain digits.
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(err(format!("{what} {part:?} is not a whole number")));
            }
            part.parse()
                .map_err(|_| err(format!("{what} {part:?} is too large")))
        };
        let s = Shard {
            k: num(k, "K")?,
            n: num(n, "N")?,
        };
        s.check(text)?;
        Ok(s)
    }
}

/// `--skip S --limit L`: the part `[S, S+L)` of the stream's global indices one process works
/// on, as hashcat's `--skip`/`--limit` (and Hashtopolis's chunks) cut a keyspace. It composes
/// with a [`Shard`]: the process tries the indices of the chunk that its shard owns.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Chunk {
    /// First global index of the chunk.
    pub skip: u64,
    /// Index slots in the chunk; `None`: to the end of the stream.
    pub limit: Option<u64>,
}

impl Chunk {
    /// The whole stream.
    pub const ALL: Chunk = Chunk {
        skip: 0,
        limit: None,
    };

    pub fn new(skip: u64, limit: Option<u64>) -> Chunk {
        Chunk { skip, limit }
    }

    /// One past the chunk's last index (`None`: the stream's end; saturates at u64::MAX).
    pub fn end(&self) -> Option<u64> {
        self.limit.map(|l| self.skip.saturating_add(l))
    }

    /// The chunk's end in a stream of `len` slots (`None` when neither is known).
    pub fn end_in(&self, len: Option<u64>) -> Option<u64> {
        match (self.end(), len) {
            (Some(e), Some(n)) => Some(e.min(n)),
            (e, n) => e.or(n),
        }
    }

    /// Whether global index `i` is inside the chunk.
    pub fn contains(&self, i: u64) -> bool {
        i >= self.skip && self.end().is_none_or(|e| i < e)
    }

    /// How many indices of `[from, to)` (clipped to the chunk) `shard` owns.
    pub fn owned(&self, shard: Shard, from: u64, to: u64) -> u64 {
        let lo = from.max(self.skip);
        let hi = self.end().map_or(to, |e| to.min(e));
        if hi <= lo {
            0
        } else {
            shard.count(hi) - shard.count(lo)
        }
    }

    /// Guesses `shard` owns in this chunk of a stream of `len` slots; `None` when the chunk
    /// runs to an end that is not known.
    pub fn total(&self, shard: Shard, len: Option<u64>) -> Option<u64> {
        self.end_in(len).map(|e| self.owned(shard, self.skip, e))
    }
}

impl fmt::Display for Chunk {
    /// `all`, `S..` or `S+L` (skip S, limit L).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.skip, self.limit) {
            (0, None) => write!(f, "all"),
            (s, None) => write!(f, "{s}.."),
            (s, Some(l)) => write!(f, "{s}+{l}"),
        }
    }
}

/// FNV-1a, 64 bits: a stable, dependency-free digest for fingerprints (change detection only,
/// not security).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests;
