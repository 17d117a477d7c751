//! Hashcat rules, and the "words × rules" source.
//!
//! Every function of hashcat's rule language is supported, including the rejection and memory
//! functions hashcat only allows with -j/-k. Semantics follow hashcat's CPU rule engine:
//! positions and counts are `0-9` then `A-Z` (10-35); a position out of range leaves the word
//! as it is; case functions touch ASCII letters only; a result longer than [`MAX_LEN`] bytes
//! rejects the word. Rejected words, empty results and results a word already gave under an
//! earlier rule are skipped (their index slots stay empty), so the slow hash is never run twice
//! on the same guess from the same word.

use std::collections::HashSet;
use std::path::Path;

use crate::{Guess, GuessError, GuessIter, IndexedIter, Source, MAX_LEN};

/// One rule function with its parameters.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    Noop,
    Lower,
    Upper,
    Capitalize,
    InvCapitalize,
    ToggleAll,
    ToggleAt(usize),
    ToggleAfterSep(usize, u8),
    Reverse,
    Duplicate,
    DuplicateTimes(usize),
    Reflect,
    RotateLeft,
    RotateRight,
    Append(u8),
    Prepend(u8),
    DeleteFirst,
    DeleteLast,
    DeleteAt(usize),
    Extract(usize, usize),
    Omit(usize, usize),
    Insert(usize, u8),
    Overwrite(usize, u8),
    Truncate(usize),
    Replace(u8, u8),
    Purge(u8),
    DupeFirst(usize),
    DupeLast(usize),
    DupeAll,
    SwapFront,
    SwapBack,
    Swap(usize, usize),
    ShiftLeft(usize),
    ShiftRight(usize),
    Increment(usize),
    Decrement(usize),
    CopyNext(usize),
    CopyPrev(usize),
    DupeBlockFirst(usize),
    DupeBlockLast(usize),
    Title,
    TitleSep(u8),
    // Memory.
    Memorize,
    AppendMemory,
    PrependMemory,
    InsertMemory(usize, usize, usize),
    // Rejections.
    RejectLonger(usize),
    RejectShorter(usize),
    RejectNotLength(usize),
    RejectContains(u8),
    RejectLacks(u8),
    RejectFirstNot(u8),
    RejectLastNot(u8),
    RejectAtNot(usize, u8),
    RejectFewer(usize, u8),
    RejectUnchanged,
}

/// The parameters a function takes, in order.
#[derive(Clone, Copy)]
enum Param {
    /// A position or count: 0-9, A-Z.
    Num,
    /// Any byte.
    Char,
}

use Param::{Char, Num};

/// The parameter list of function `f`, or `None` if hashcat has no such function.
fn signature(f: u8) -> Option<&'static [Param]> {
    Some(match f {
        b':' | b'l' | b'u' | b'c' | b'C' | b't' | b'r' | b'd' | b'f' | b'{' | b'}' | b'['
        | b']' | b'q' | b'k' | b'K' | b'E' | b'M' | b'4' | b'6' | b'Q' => &[],
        b'T' | b'p' | b'D' | b'\'' | b'z' | b'Z' | b'L' | b'R' | b'+' | b'-' | b'.' | b','
        | b'y' | b'Y' | b'<' | b'>' | b'_' => &[Num],
        b'$' | b'^' | b'@' | b'e' | b'!' | b'/' | b'(' | b')' => &[Char],
        b'x' | b'O' | b'*' => &[Num, Num],
        b'i' | b'o' | b'3' | b'=' | b'%' => &[Num, Char],
        b's' => &[Char, Char],
        b'X' => &[Num, Num, Num],
        _ => return None,
    })
}

/// Hashcat's position digits: 0-9 then A-Z.
fn position(c: u8) -> Option<usize> {
    match c {
        b'0'..=b'9' => Some(usize::from(c - b'0')),
        b'A'..=b'Z' => Some(usize::from(c - b'A') + 10),
        _ => None,
    }
}

fn build(f: u8, n: &[usize], c: &[u8]) -> Op {
    match f {
        b':' => Op::Noop,
        b'l' => Op::Lower,
        b'u' => Op::Upper,
        b'c' => Op::Capitalize,
        b'C' => Op::InvCapitalize,
        b't' => Op::ToggleAll,
        b'T' => Op::ToggleAt(n[0]),
        b'3' => Op::ToggleAfterSep(n[0], c[0]),
        b'r' => Op::Reverse,
        b'd' => Op::Duplicate,
        b'p' => Op::DuplicateTimes(n[0]),
        b'f' => Op::Reflect,
        b'{' => Op::RotateLeft,
        b'}' => Op::RotateRight,
        b'$' => Op::Append(c[0]),
        b'^' => Op::Prepend(c[0]),
        b'[' => Op::DeleteFirst,
        b']' => Op::DeleteLast,
        b'D' => Op::DeleteAt(n[0]),
        b'x' => Op::Extract(n[0], n[1]),
        b'O' => Op::Omit(n[0], n[1]),
        b'i' => Op::Insert(n[0], c[0]),
        b'o' => Op::Overwrite(n[0], c[0]),
        b'\'' => Op::Truncate(n[0]),
        b's' => Op::Replace(c[0], c[1]),
        b'@' => Op::Purge(c[0]),
        b'z' => Op::DupeFirst(n[0]),
        b'Z' => Op::DupeLast(n[0]),
        b'q' => Op::DupeAll,
        b'k' => Op::SwapFront,
        b'K' => Op::SwapBack,
        b'*' => Op::Swap(n[0], n[1]),
        b'L' => Op::ShiftLeft(n[0]),
        b'R' => Op::ShiftRight(n[0]),
        b'+' => Op::Increment(n[0]),
        b'-' => Op::Decrement(n[0]),
        b'.' => Op::CopyNext(n[0]),
        b',' => Op::CopyPrev(n[0]),
        b'y' => Op::DupeBlockFirst(n[0]),
        b'Y' => Op::DupeBlockLast(n[0]),
        b'E' => Op::Title,
        b'e' => Op::TitleSep(c[0]),
        b'M' => Op::Memorize,
        b'4' => Op::AppendMemory,
        b'6' => Op::PrependMemory,
        b'X' => Op::InsertMemory(n[0], n[1], n[2]),
        b'<' => Op::RejectLonger(n[0]),
        b'>' => Op::RejectShorter(n[0]),
        b'_' => Op::RejectNotLength(n[0]),
        b'!' => Op::RejectContains(c[0]),
        b'/' => Op::RejectLacks(c[0]),
        b'(' => Op::RejectFirstNot(c[0]),
        b')' => Op::RejectLastNot(c[0]),
        b'=' => Op::RejectAtNot(n[0], c[0]),
        b'%' => Op::RejectFewer(n[0], c[0]),
        b'Q' => Op::RejectUnchanged,
        // `signature` admits only the bytes above.
        _ => Op::Noop,
    }
}

/// A parse failure inside one line: 1-based column and message.
type LineError = (usize, String);

fn shown(b: u8) -> String {
    if b.is_ascii_graphic() {
        format!("'{}'", b as char)
    } else {
        format!("byte 0x{b:02x}")
    }
}

fn parse_line(line: &[u8]) -> Result<Vec<Op>, LineError> {
    let mut ops = Vec::new();
    let mut i = 0;
    while i < line.len() {
        let f = line[i];
        // A space between functions separates them and does nothing (hashcat's "no-op"); a
        // space as a parameter (`s x`, `$ `) is a real space.
        if f == b' ' || f == b'\t' {
            i += 1;
            continue;
        }
        let sig = signature(f).ok_or_else(|| {
            (
                i + 1,
                format!(
                    "unknown rule function {} (hashcat rule syntax expected)",
                    shown(f)
                ),
            )
        })?;
        let mut nums = Vec::new();
        let mut chars = Vec::new();
        for (k, p) in sig.iter().enumerate() {
            let at = i + 1 + k;
            let Some(&b) = line.get(at) else {
                return Err((
                    i + 1,
                    format!(
                        "rule function {} needs {} parameter{} but the line ends",
                        shown(f),
                        sig.len(),
                        if sig.len() == 1 { "" } else { "s" }
                    ),
                ));
            };
            match p {
                Num => nums.push(position(b).ok_or_else(|| {
                    (
                        at + 1,
                        format!(
                            "rule function {} wants a position or count (0-9, A-Z), found {}",
                            shown(f),
                            shown(b)
                        ),
                    )
                })?),
                Char => chars.push(b),
            }
        }
        ops.push(build(f, &nums, &chars));
        i += 1 + sig.len();
    }
    if ops.is_empty() {
        // A line of only spaces: hashcat treats it as "do nothing".
        ops.push(Op::Noop);
    }
    Ok(ops)
}

/// One parsed rule line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    ops: Vec<Op>,
    text: Vec<u8>,
}

/// Why a rule gave no guess.
struct Rejected;

fn check_len(len: usize) -> Result<(), Rejected> {
    if len > MAX_LEN {
        Err(Rejected)
    } else {
        Ok(())
    }
}

fn toggle(b: &mut u8) {
    if b.is_ascii_alphabetic() {
        *b ^= 0x20;
    }
}

impl Rule {
    /// Parse one rule (a line of a rules file, without its newline).
    pub fn parse(text: &str) -> Result<Rule, GuessError> {
        Self::parse_bytes(text.as_bytes()).map_err(|(column, msg)| GuessError::Rule {
            file: "rule".into(),
            line: 1,
            column,
            msg,
        })
    }

    fn parse_bytes(text: &[u8]) -> Result<Rule, LineError> {
        Ok(Rule {
            ops: parse_line(text)?,
            text: text.to_vec(),
        })
    }

    /// The rule as written.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.text).into_owned()
    }

    /// The word after the rule, or `None` when the rule rejects it.
    pub fn apply(&self, word: &[u8]) -> Option<Guess> {
        self.run(word).ok()
    }

    fn run(&self, word: &[u8]) -> Result<Guess, Rejected> {
        check_len(word.len())?;
        let mut w = word.to_vec();
        // Hashcat's memory starts as the input word; `M` replaces it.
        let mut mem = word.to_vec();
        for op in &self.ops {
            apply_op(op, &mut w, &mut mem)?;
            check_len(w.len())?;
        }
        Ok(w)
    }
}

fn apply_op(op: &Op, w: &mut Vec<u8>, mem: &mut Vec<u8>) -> Result<(), Rejected> {
    let len = w.len();
    match *op {
        Op::Noop => {}
        Op::Lower => w.make_ascii_lowercase(),
        Op::Upper => w.make_ascii_uppercase(),
        Op::Capitalize => {
            w.make_ascii_lowercase();
            if let Some(b) = w.first_mut() {
                b.make_ascii_uppercase();
            }
        }
        Op::InvCapitalize => {
            w.make_ascii_uppercase();
            if let Some(b) = w.first_mut() {
                b.make_ascii_lowercase();
            }
        }
        Op::ToggleAll => w.iter_mut().for_each(toggle),
        Op::ToggleAt(n) => {
            if let Some(b) = w.get_mut(n) {
                toggle(b);
            }
        }
        Op::ToggleAfterSep(n, x) => {
            // After the (n+1)-th occurrence of x, toggle the next byte that is not x (as
            // hashcat's mangle_toggle_at_sep walks it).
            let mut seen = 0;
            let mut armed = false;
            for b in w.iter_mut() {
                if *b == x {
                    if seen == n {
                        armed = true;
                    } else {
                        seen += 1;
                    }
                    continue;
                }
                if armed {
                    toggle(b);
                    break;
                }
            }
        }
        Op::Reverse => w.reverse(),
        Op::Duplicate => {
            check_len(len * 2)?;
            w.extend_from_within(..);
        }
        Op::DuplicateTimes(n) => {
            check_len(len * (n + 1))?;
            for _ in 0..n {
                w.extend_from_within(..len);
            }
        }
        Op::Reflect => {
            check_len(len * 2)?;
            let rev: Vec<u8> = w.iter().rev().copied().collect();
            w.extend_from_slice(&rev);
        }
        Op::RotateLeft => {
            if len > 0 {
                w.rotate_left(1);
            }
        }
        Op::RotateRight => {
            if len > 0 {
                w.rotate_right(1);
            }
        }
        Op::Append(c) => {
            check_len(len + 1)?;
            w.push(c);
        }
        Op::Prepend(c) => {
            check_len(len + 1)?;
            w.insert(0, c);
        }
        Op::DeleteFirst => {
            if len > 0 {
                w.remove(0);
            }
        }
        Op::DeleteLast => {
            w.pop();
        }
        Op::DeleteAt(n) => {
            if n < len {
                w.remove(n);
            }
        }
        Op::Extract(n, m) => {
            if n < len && n + m <= len {
                w.truncate(n + m);
                w.drain(..n);
            }
        }
        Op::Omit(n, m) => {
            if n < len && n + m <= len {
                w.drain(n..n + m);
            }
        }
        Op::Insert(n, c) => {
            if n <= len {
                check_len(len + 1)?;
                w.insert(n, c);
            }
        }
        Op::Overwrite(n, c) => {
            if let Some(b) = w.get_mut(n) {
                *b = c;
            }
        }
        Op::Truncate(n) => w.truncate(n),
        Op::Replace(x, y) => w.iter_mut().filter(|b| **b == x).for_each(|b| *b = y),
        Op::Purge(x) => w.retain(|&b| b != x),
        Op::DupeFirst(n) => {
            if let Some(&first) = w.first() {
                check_len(len + n)?;
                w.splice(0..0, vec![first; n]);
            }
        }
        Op::DupeLast(n) => {
            if let Some(&last) = w.last() {
                check_len(len + n)?;
                w.resize(len + n, last);
            }
        }
        Op::DupeAll => {
            check_len(len * 2)?;
            *w = w.iter().flat_map(|&b| [b, b]).collect();
        }
        Op::SwapFront => {
            if len >= 2 {
                w.swap(0, 1);
            }
        }
        Op::SwapBack => {
            if len >= 2 {
                w.swap(len - 2, len - 1);
            }
        }
        Op::Swap(n, m) => {
            if n < len && m < len {
                w.swap(n, m);
            }
        }
        Op::ShiftLeft(n) => {
            if let Some(b) = w.get_mut(n) {
                *b <<= 1;
            }
        }
        Op::ShiftRight(n) => {
            if let Some(b) = w.get_mut(n) {
                *b >>= 1;
            }
        }
        Op::Increment(n) => {
            if let Some(b) = w.get_mut(n) {
                *b = b.wrapping_add(1);
            }
        }
        Op::Decrement(n) => {
            if let Some(b) = w.get_mut(n) {
                *b = b.wrapping_sub(1);
            }
        }
        Op::CopyNext(n) => {
            if n + 1 < len {
                w[n] = w[n + 1];
            }
        }
        Op::CopyPrev(n) => {
            if n >= 1 && n < len {
                w[n] = w[n - 1];
            }
        }
        Op::DupeBlockFirst(n) => {
            if n <= len {
                check_len(len + n)?;
                let block = w[..n].to_vec();
                w.splice(0..0, block);
            }
        }
        Op::DupeBlockLast(n) => {
            if n <= len {
                check_len(len + n)?;
                w.extend_from_within(len - n..);
            }
        }
        Op::Title => title(w, b' '),
        Op::TitleSep(x) => title(w, x),
        Op::Memorize => *mem = w.clone(),
        Op::AppendMemory => {
            check_len(len + mem.len())?;
            w.extend_from_slice(mem);
        }
        Op::PrependMemory => {
            check_len(len + mem.len())?;
            w.splice(0..0, mem.iter().copied());
        }
        Op::InsertMemory(n, m, i) => {
            if n < mem.len() && n + m <= mem.len() && i <= len {
                check_len(len + m)?;
                w.splice(i..i, mem[n..n + m].iter().copied());
            }
        }
        Op::RejectLonger(n) => {
            if len > n {
                return Err(Rejected);
            }
        }
        Op::RejectShorter(n) => {
            if len < n {
                return Err(Rejected);
            }
        }
        Op::RejectNotLength(n) => {
            if len != n {
                return Err(Rejected);
            }
        }
        Op::RejectContains(x) => {
            if w.contains(&x) {
                return Err(Rejected);
            }
        }
        Op::RejectLacks(x) => {
            if !w.contains(&x) {
                return Err(Rejected);
            }
        }
        Op::RejectFirstNot(x) => {
            if w.first() != Some(&x) {
                return Err(Rejected);
            }
        }
        Op::RejectLastNot(x) => {
            if w.last() != Some(&x) {
                return Err(Rejected);
            }
        }
        Op::RejectAtNot(n, x) => {
            if w.get(n) != Some(&x) {
                return Err(Rejected);
            }
        }
        Op::RejectFewer(n, x) => {
            if w.iter().filter(|&&b| b == x).count() < n {
                return Err(Rejected);
            }
        }
        Op::RejectUnchanged => {
            if w == mem {
                return Err(Rejected);
            }
        }
    }
    Ok(())
}

/// Lowercase everything, then uppercase the first byte and every byte after a `sep`.
fn title(w: &mut [u8], sep: u8) {
    w.make_ascii_lowercase();
    let mut up = true;
    for b in w.iter_mut() {
        if up {
            b.make_ascii_uppercase();
        }
        up = *b == sep;
    }
}

/// A rules file: rules in file order.
#[derive(Clone, Debug)]
pub struct Rules {
    rules: Vec<Rule>,
    file_name: String,
    digest: u64,
}

impl Rules {
    /// Parse rules text; `file_name` names it in errors and in the plan. Blank lines and lines
    /// starting with `#` are skipped; `\r\n` line ends are tolerated.
    pub fn parse(text: &str, file_name: &str) -> Result<Rules, GuessError> {
        Self::parse_bytes(text.as_bytes(), file_name)
    }

    /// Like [`Rules::parse`] for text that need not be UTF-8 (`$\xe9` appends byte 0xe9).
    pub fn parse_bytes(text: &[u8], file_name: &str) -> Result<Rules, GuessError> {
        let mut rules = Vec::new();
        for (n, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            let rule = Rule::parse_bytes(line).map_err(|(column, msg)| GuessError::Rule {
                file: file_name.to_string(),
                line: n + 1,
                column,
                msg,
            })?;
            rules.push(rule);
        }
        Ok(Rules {
            rules,
            file_name: file_name.to_string(),
            digest: crate::fnv1a(text),
        })
    }

    /// Read and parse a rules file.
    pub fn load(path: impl AsRef<Path>) -> Result<Rules, GuessError> {
        let path = path.as_ref();
        let text = std::fs::read(path).map_err(|source| GuessError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| path.display().to_string());
        Self::parse_bytes(&text, &name)
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    pub fn file_name(&self) -> &str {
        &self.file_name
    }

    /// Digest of the text the rules were parsed from.
    pub fn digest(&self) -> u64 {
        self.digest
    }
}

/// Words from a base source (a wordlist, the common passwords...), each put through every
/// rule: word-major, so guess slot `w * rules + r` is rule `r` applied to word `w`.
pub struct RulesSource {
    base: Box<dyn Source>,
    rules: Rules,
    len: Option<u64>,
}

impl RulesSource {
    /// Fails when there are no rules (the source would be empty: surely a mistake) or the slot
    /// count passes 2^64.
    pub fn new(base: Box<dyn Source>, rules: Rules) -> Result<Self, GuessError> {
        if rules.is_empty() {
            return Err(GuessError::Rule {
                file: rules.file_name.clone(),
                line: 0,
                column: 0,
                msg: "the file holds no rules (only comments or blank lines)".into(),
            });
        }
        let len = match base.len() {
            None => None,
            Some(words) => Some(words.checked_mul(rules.len() as u64).ok_or_else(|| {
                GuessError::Unsupported {
                    source_name: base.name(),
                    msg: format!("× {} rules is more than 2^64 guesses", rules.len()),
                }
            })?),
        };
        Ok(RulesSource { base, rules, len })
    }
}

impl Source for RulesSource {
    fn name(&self) -> String {
        format!(
            "{} × {} rules ({})",
            self.base.name(),
            self.rules.len(),
            self.rules.file_name
        )
    }

    fn len(&self) -> Option<u64> {
        self.len
    }

    fn iter_from(&self, start: u64) -> Result<GuessIter<'_>, GuessError> {
        Ok(Box::new(
            self.indexed_from(start)?.map(|r| r.map(|(_, g)| g)),
        ))
    }

    fn indexed_from(&self, start: u64) -> Result<IndexedIter<'_>, GuessError> {
        let r = self.rules.len() as u64;
        let word = start / r;
        let rule = (start % r) as usize;
        Ok(Box::new(RulesIter {
            rules: &self.rules.rules,
            words: self.base.iter_from(word)?,
            word_index: word,
            next_word: word,
            word: None,
            next_rule: 0,
            replay: rule,
            seen: HashSet::new(),
            name: self.name(),
        }))
    }

    fn fingerprint(&self) -> String {
        format!(
            "({}) × rules {:?} count {} digest {:016x}",
            self.base.fingerprint(),
            self.rules.file_name,
            self.rules.len(),
            self.rules.digest
        )
    }
}

struct RulesIter<'a> {
    rules: &'a [Rule],
    words: GuessIter<'a>,
    /// Index of `word` in the base source.
    word_index: u64,
    /// Index of the next word `words` will give.
    next_word: u64,
    word: Option<Vec<u8>>,
    next_rule: usize,
    /// Starting inside a word: the first word starts at this rule, after replaying the rules
    /// before it so their outputs count as repeats just as from the word's start. Done on the
    /// first `next`, so opening the iterator reads nothing.
    replay: usize,
    /// Outputs the current word already gave.
    seen: HashSet<Vec<u8>>,
    name: String,
}

impl Iterator for RulesIter<'_> {
    type Item = Result<(u64, Guess), GuessError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.word.is_none() {
                match self.words.next()? {
                    Ok(w) => {
                        self.word_index = self.next_word;
                        self.next_word += 1;
                        self.seen.clear();
                        self.next_rule = std::mem::take(&mut self.replay);
                        for earlier in &self.rules[..self.next_rule] {
                            if let Ok(g) = earlier.run(&w) {
                                self.seen.insert(g);
                            }
                        }
                        self.word = Some(w);
                    }
                    Err(e) => return Some(Err(e)),
                }
            }
            let word = self.word.as_ref()?;
            if self.next_rule == self.rules.len() {
                self.word = None;
                continue;
            }
            let r = self.next_rule;
            self.next_rule += 1;
            let Ok(guess) = self.rules[r].run(word) else {
                continue;
            };
            if guess.is_empty() || !self.seen.insert(guess.clone()) {
                continue;
            }
            let Some(slot) = self
                .word_index
                .checked_mul(self.rules.len() as u64)
                .and_then(|s| s.checked_add(r as u64))
            else {
                return Some(Err(GuessError::Unsupported {
                    source_name: self.name.clone(),
                    msg: "more than 2^64 guesses".into(),
                }));
            };
            return Some(Ok((slot, guess)));
        }
    }
}

#[cfg(test)]
mod tests;
