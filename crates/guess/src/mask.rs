//! Hashcat-style masks: `?l ?u ?d ?s ?a ?h ?H ?b`, custom charsets `-1 .. -4` used as
//! `?1 .. ?4`, literal bytes, and `??` for a literal `?`.
//!
//! Order: likeliest first by default ([`crate::markov`]: a Markov chain of how people type,
//! guesses in order of their summed -log probabilities), still indexable so that a session
//! resumes anywhere. The plain order ([`MaskSource::plain_order`], hashcat's
//! `--markov-disable`) is an odometer whose last position turns fastest (`?d?d` gives 00, 01,
//! ..., 99): guess `i` is `i` written in mixed radix and [`Mask::nth`] is plain arithmetic.

use crate::{GuessError, GuessIter, Source};
use std::sync::{Arc, OnceLock};

const LOWER: &[u8] = b"abcdefghijklmnopqrstuvwxyz";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGIT: &[u8] = b"0123456789";
const HEX_LOWER: &[u8] = b"0123456789abcdef";
const HEX_UPPER: &[u8] = b"0123456789ABCDEF";
/// Hashcat's ?s: printable ASCII that is neither a letter nor a digit, space first.
const SPECIAL: &[u8] = b" !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// Most positions a mask may have: hashcat's longest password.
pub const MAX_POSITIONS: usize = crate::MAX_LEN;

/// The bytes of a built-in charset `?c`, or `None` when `c` names none.
fn builtin(c: u8) -> Option<Vec<u8>> {
    Some(match c {
        b'l' => LOWER.to_vec(),
        b'u' => UPPER.to_vec(),
        b'd' => DIGIT.to_vec(),
        b'h' => HEX_LOWER.to_vec(),
        b'H' => HEX_UPPER.to_vec(),
        b's' => SPECIAL.to_vec(),
        b'a' => [LOWER, UPPER, DIGIT, SPECIAL].concat(),
        b'b' => (0..=255u8).collect(),
        _ => return None,
    })
}

/// A parsed mask: one charset per position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mask {
    text: String,
    positions: Vec<Vec<u8>>,
    len: u64,
}

impl Mask {
    /// Parse `mask` with the custom charsets given to `-1 .. -4` (index 0 is `-1`). A custom
    /// charset may use the built-in sets, `??`, and custom sets with a lower number.
    pub fn parse(mask: &str, custom_sets: [Option<&str>; 4]) -> Result<Mask, GuessError> {
        let mut sets: [Option<Vec<u8>>; 4] = [None, None, None, None];
        for (i, text) in custom_sets.iter().enumerate() {
            if let Some(text) = text {
                sets[i] = Some(parse_custom(i as u8 + 1, text, &sets)?);
            }
        }
        let err = |column: usize, msg: String| GuessError::Mask {
            mask: mask.to_string(),
            column,
            msg,
        };
        if mask.is_empty() {
            return Err(err(0, "the mask is empty".into()));
        }
        let bytes = mask.as_bytes();
        let mut positions = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if positions.len() == MAX_POSITIONS {
                return Err(err(
                    i + 1,
                    format!("more than {MAX_POSITIONS} positions (the longest password)"),
                ));
            }
            if bytes[i] != b'?' {
                positions.push(vec![bytes[i]]);
                i += 1;
                continue;
            }
            let Some(&c) = bytes.get(i + 1) else {
                return Err(err(
                    i + 1,
                    "'?' at the end names no charset (write ?? for a literal '?')".into(),
                ));
            };
            let set = match c {
                b'?' => vec![b'?'],
                b'1'..=b'4' => {
                    let n = c - b'0';
                    sets[usize::from(n - 1)].clone().ok_or_else(|| {
                        err(
                            i + 1,
                            format!("?{n} is used but no custom charset -{n} was given"),
                        )
                    })?
                }
                _ => builtin(c).ok_or_else(|| err(i + 1, unknown_charset(bytes, i)))?,
            };
            positions.push(set);
            i += 2;
        }
        let len = keyspace(&positions).ok_or_else(|| err(0, "more than 2^64 guesses".into()))?;
        Ok(Mask {
            text: mask.to_string(),
            positions,
            len,
        })
    }

    /// The mask as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// Number of positions (the length of every guess).
    pub fn width(&self) -> usize {
        self.positions.len()
    }

    /// The charset of each position.
    pub fn positions(&self) -> &[Vec<u8>] {
        &self.positions
    }

    /// Number of guesses.
    #[allow(clippy::len_without_is_empty)] // a mask always has at least one guess
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Guess number `i`, or `None` past the end.
    pub fn nth(&self, i: u64) -> Option<Vec<u8>> {
        let digits = self.digits(i)?;
        Some(self.render(&digits))
    }

    /// The first `width` positions, for --increment.
    pub fn prefix(&self, width: usize) -> Option<Mask> {
        if width == 0 || width > self.width() {
            return None;
        }
        let positions = self.positions[..width].to_vec();
        let len = keyspace(&positions)?;
        Some(Mask {
            text: self.text_prefix(width),
            positions,
            len,
        })
    }

    /// The text of the first `width` positions (each is one byte or a two-byte `?x`).
    fn text_prefix(&self, width: usize) -> String {
        let bytes = self.text.as_bytes();
        let mut end = 0;
        for _ in 0..width {
            end += if bytes[end] == b'?' { 2 } else { 1 };
        }
        // A multi-byte UTF-8 literal spans several positions; a cut inside it shows lossily.
        String::from_utf8_lossy(&bytes[..end]).into_owned()
    }

    /// `i` in mixed radix, most significant (first position) first.
    fn digits(&self, mut i: u64) -> Option<Vec<usize>> {
        if i >= self.len {
            return None;
        }
        let mut digits = vec![0usize; self.positions.len()];
        for (d, set) in digits.iter_mut().zip(&self.positions).rev() {
            let radix = set.len() as u64;
            *d = (i % radix) as usize;
            i /= radix;
        }
        Some(digits)
    }

    fn render(&self, digits: &[usize]) -> Vec<u8> {
        digits
            .iter()
            .zip(&self.positions)
            .map(|(&d, set)| set[d])
            .collect()
    }

    /// Guesses from index `start` on.
    pub fn iter_from(&self, start: u64) -> MaskIter<'_> {
        MaskIter {
            mask: self,
            digits: self.digits(start),
        }
    }
}

fn keyspace(positions: &[Vec<u8>]) -> Option<u64> {
    positions
        .iter()
        .try_fold(1u64, |acc, set| acc.checked_mul(set.len() as u64))
}

fn unknown_charset(bytes: &[u8], i: usize) -> String {
    let shown = String::from_utf8_lossy(&bytes[i..(i + 2).min(bytes.len())]).into_owned();
    format!(
        "unknown charset {shown:?} (known: ?l ?u ?d ?s ?a ?h ?H ?b ?1-?4, and ?? for a literal '?')"
    )
}

/// A custom charset: its bytes with duplicates removed (first occurrence kept), as hashcat does.
fn parse_custom(n: u8, text: &str, earlier: &[Option<Vec<u8>>; 4]) -> Result<Vec<u8>, GuessError> {
    let err = |column: usize, msg: String| GuessError::Charset {
        set: n,
        text: text.to_string(),
        column,
        msg,
    };
    if text.is_empty() {
        return Err(err(0, "the charset is empty".into()));
    }
    let bytes = text.as_bytes();
    let mut seen = [false; 256];
    let mut out = Vec::new();
    let mut add = |bs: &[u8]| {
        for &b in bs {
            if !seen[usize::from(b)] {
                seen[usize::from(b)] = true;
                out.push(b);
            }
        }
    };
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'?' {
            add(&bytes[i..=i]);
            i += 1;
            continue;
        }
        let Some(&c) = bytes.get(i + 1) else {
            return Err(err(
                i + 1,
                "'?' at the end names no charset (write ?? for a literal '?')".into(),
            ));
        };
        match c {
            b'?' => add(b"?"),
            b'1'..=b'4' => {
                let m = c - b'0';
                if m >= n {
                    // Only earlier sets: this rules out cycles (-1 using ?2 using ?1).
                    let allowed = match n {
                        1 => "no custom charset".to_string(),
                        _ => format!("only ?1..?{}", n - 1),
                    };
                    return Err(err(
                        i + 1,
                        format!("?{m} inside -{n}: a custom charset may use {allowed}"),
                    ));
                }
                let set = earlier[usize::from(m - 1)]
                    .as_ref()
                    .ok_or_else(|| err(i + 1, format!("?{m} is used but -{m} was not given")))?;
                add(set);
            }
            _ => add(&builtin(c).ok_or_else(|| err(i + 1, unknown_charset(bytes, i)))?),
        }
        i += 2;
    }
    Ok(out)
}

/// Iterator over a mask's guesses: an odometer, last position fastest.
pub struct MaskIter<'a> {
    mask: &'a Mask,
    /// Digits of the next guess; `None` once past the end.
    digits: Option<Vec<usize>>,
}

impl Iterator for MaskIter<'_> {
    type Item = Vec<u8>;

    fn next(&mut self) -> Option<Vec<u8>> {
        let digits = self.digits.as_mut()?;
        let out = self.mask.render(digits);
        // Increment, carrying leftwards; a carry out of the first position ends the stream.
        let mut done = true;
        for (d, set) in digits.iter_mut().zip(&self.mask.positions).rev() {
            *d += 1;
            if *d < set.len() {
                done = false;
                break;
            }
            *d = 0;
        }
        if done {
            self.digits = None;
        }
        Some(out)
    }
}

/// A mask as a [`Source`], optionally with --increment: every prefix of the mask from `min` to
/// `max` positions, shortest first.
#[derive(Clone, Debug)]
pub struct MaskSource {
    /// One mask per length, shortest first.
    masks: Vec<Mask>,
    /// The likeliest-first order of each (None: too large to order, so the odometer), built
    /// when that length is first run: a long `.hcmask` file then holds tables only for the
    /// masks it reaches.
    orders: Vec<Arc<OnceLock<Option<crate::markov::Likeliest>>>>,
    /// The plain order was asked for: the orders are never built.
    plain: bool,
    full: Mask,
    increment: Option<(usize, usize)>,
    len: u64,
}

impl MaskSource {
    /// The mask alone, no increment.
    pub fn new(mask: Mask) -> Self {
        let len = mask.len();
        MaskSource {
            orders: vec![Arc::default()],
            masks: vec![mask.clone()],
            plain: false,
            full: mask,
            increment: None,
            len,
        }
    }

    /// The odometer order instead of likeliest first (hashcat's `--markov-disable`).
    pub fn plain_order(mut self) -> Self {
        self.plain = true;
        self
    }

    /// --increment: lengths `min..=max` positions (hashcat's --increment-min/--increment-max;
    /// `None` means 1 and the mask's width).
    pub fn with_increment(
        mask: Mask,
        min: Option<usize>,
        max: Option<usize>,
    ) -> Result<Self, GuessError> {
        let width = mask.width();
        let min = min.unwrap_or(1);
        let max = max.unwrap_or(width);
        let err = |msg: String| GuessError::Mask {
            mask: mask.text().to_string(),
            column: 0,
            msg,
        };
        if min == 0 {
            return Err(err("--increment-min must be at least 1".into()));
        }
        if min > max {
            return Err(err(format!(
                "--increment-min {min} is larger than --increment-max {max}"
            )));
        }
        if max > width {
            return Err(err(format!(
                "--increment-max {max} is longer than the mask ({width} positions)"
            )));
        }
        let masks: Vec<Mask> = (min..=max)
            .map(|w| {
                mask.prefix(w)
                    .ok_or_else(|| err("more than 2^64 guesses".into()))
            })
            .collect::<Result<_, _>>()?;
        let len = masks
            .iter()
            .try_fold(0u64, |acc, m| acc.checked_add(m.len()))
            .ok_or_else(|| err("more than 2^64 guesses in all lengths together".into()))?;
        Ok(MaskSource {
            orders: masks.iter().map(|_| Arc::default()).collect(),
            masks,
            plain: false,
            full: mask,
            increment: Some((min, max)),
            len,
        })
    }

    pub fn mask(&self) -> &Mask {
        &self.full
    }
}

impl Source for MaskSource {
    fn name(&self) -> String {
        match self.increment {
            None => format!("mask {}", self.full.text()),
            Some((min, max)) => {
                format!("mask {} (increment, lengths {min}-{max})", self.full.text())
            }
        }
    }

    fn len(&self) -> Option<u64> {
        Some(self.len)
    }

    fn iter_from(&self, start: u64) -> Result<GuessIter<'_>, GuessError> {
        // Find the length that holds `start`; later lengths start at 0.
        let mut skip = start;
        let mut first = self.masks.len();
        for (i, m) in self.masks.iter().enumerate() {
            if skip < m.len() {
                first = i;
                break;
            }
            skip -= m.len();
        }
        let from = first.min(self.masks.len());
        let iter = self.masks[from..]
            .iter()
            .zip(&self.orders[from..])
            .enumerate()
            .flat_map(move |(j, (m, order))| {
                let start = if j == 0 { skip } else { 0 };
                let order = if self.plain {
                    &None
                } else {
                    order.get_or_init(|| crate::markov::Likeliest::new(m.positions()))
                };
                let one: Box<dyn Iterator<Item = Vec<u8>> + Send + '_> = match order {
                    Some(o) => Box::new((start..o.len()).filter_map(move |i| o.nth(i))),
                    None => Box::new(m.iter_from(start)),
                };
                one
            })
            .map(Ok);
        Ok(Box::new(iter))
    }

    fn fingerprint(&self) -> String {
        // The charsets themselves, not only the text: custom sets are part of the definition.
        let sets: Vec<Vec<u8>> = self.full.positions().to_vec();
        let digest = crate::fnv1a(&sets.concat())
            ^ crate::fnv1a(&sets.iter().map(|s| s.len() as u8).collect::<Vec<_>>());
        // The order is part of the stream: a session of one never resumes the other.
        let order = if self.plain {
            String::new()
        } else {
            " order likeliest-2".to_string()
        };
        format!(
            "mask {:?} increment {:?} charsets {digest:016x}{order}",
            self.full.text(),
            self.increment
        )
    }
}

/// One line of a hashcat `.hcmask` file: the custom charsets it defines (`?1`, `?2`, ... in
/// order) and its mask. Fields are separated by commas, `\,` is a comma inside a field, and
/// `\#` a `#`; the last field is the mask, the ones before it (up to four) the charsets.
/// `None` for an empty line or a comment (a line starting with `#`).
pub fn parse_hcmask_line(line: &str) -> Option<(Vec<String>, String)> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.is_empty() || line.starts_with('#') {
        return None;
    }
    let mut fields = vec![String::new()];
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some(',') | Some('#')) => {
                let next = chars.next().unwrap_or(',');
                if let Some(f) = fields.last_mut() {
                    f.push(next);
                }
            }
            ',' => fields.push(String::new()),
            c => {
                if let Some(f) = fields.last_mut() {
                    f.push(c);
                }
            }
        }
    }
    let mask = fields.pop().unwrap_or_default();
    Some((fields, mask))
}

/// The masks of a hashcat `.hcmask` file, in order, with their line numbers (from 1). Custom
/// charsets a line does not define are taken from `custom_sets` (the `-1 .. -4` options).
pub fn read_hcmask(
    path: &std::path::Path,
    custom_sets: [Option<&str>; 4],
) -> Result<Vec<(usize, Mask)>, GuessError> {
    let bytes = std::fs::read(path).map_err(|source| GuessError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let file = path.display().to_string();
    let mut out = Vec::new();
    for (n, line) in text.split('\n').enumerate() {
        let Some((sets, mask)) = parse_hcmask_line(line) else {
            continue;
        };
        let bad = |msg: String| GuessError::Rule {
            file: file.clone(),
            line: n + 1,
            column: 0,
            msg,
        };
        if sets.len() > 4 {
            return Err(bad(format!(
                "{} custom charsets before the mask; hashcat allows at most 4",
                sets.len()
            )));
        }
        let mut all = custom_sets;
        for (i, s) in sets.iter().enumerate() {
            all[i] = Some(s.as_str());
        }
        let m = Mask::parse(&mask, all).map_err(|e| bad(e.to_string()))?;
        out.push((n + 1, m));
    }
    if out.is_empty() {
        return Err(GuessError::Rule {
            file,
            line: 0,
            column: 0,
            msg: "no mask in this file (every line is empty or a # comment)".into(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hcmask_lines_as_hashcat_reads_them() {
        assert_eq!(parse_hcmask_line(""), None);
        assert_eq!(parse_hcmask_line("# a comment"), None);
        assert_eq!(
            parse_hcmask_line("?d?d"),
            Some((vec![], "?d?d".to_string()))
        );
        assert_eq!(
            parse_hcmask_line("?l?d,?u,?1?2?2"),
            Some((
                vec!["?l?d".to_string(), "?u".to_string()],
                "?1?2?2".to_string()
            ))
        );
        assert_eq!(
            parse_hcmask_line("\\,.,?1x\\,y"),
            Some((vec![",.".to_string()], "?1x,y".to_string()))
        );
        assert_eq!(
            parse_hcmask_line("\\#?d\r"),
            Some((vec![], "#?d".to_string()))
        );
        let dir = std::env::temp_dir().join(format!("hcmask-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("m.hcmask");
        std::fs::write(&path, "# masks\n?d\nab,?1?1\n\n").unwrap();
        let masks = read_hcmask(&path, [None; 4]).unwrap();
        assert_eq!(masks.len(), 2);
        assert_eq!((masks[0].0, masks[0].1.len()), (2, 10));
        assert_eq!((masks[1].0, masks[1].1.nth(3)), (3, Some(b"bb".to_vec())));
        std::fs::write(&path, "?d\n?x\n").unwrap();
        let e = read_hcmask(&path, [None; 4]).unwrap_err().to_string();
        assert!(e.contains("m.hcmask") && e.contains("line 2"), "{e}");
        std::fs::write(&path, "# nothing\n").unwrap();
        assert!(read_hcmask(&path, [None; 4]).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn m(s: &str) -> Mask {
        Mask::parse(s, [None; 4]).unwrap()
    }

    #[test]
    fn digits_count_up_last_position_fastest() {
        let mask = m("?d?d");
        let all: Vec<_> = mask.iter_from(0).collect();
        assert_eq!(all.len(), 100);
        assert_eq!(all[0], b"00");
        assert_eq!(all[1], b"01");
        assert_eq!(all[10], b"10");
        assert_eq!(all[99], b"99");
        assert_eq!(mask.nth(42).unwrap(), b"42");
        assert_eq!(mask.nth(100), None);
    }

    #[test]
    fn builtin_sizes_match_hashcat() {
        // Known sizes from hashcat's documentation: ?l 26, ?u 26, ?d 10, ?h 16, ?H 16, ?s 33,
        // ?a 95, ?b 256.
        for (s, n) in [
            ("?l", 26),
            ("?u", 26),
            ("?d", 10),
            ("?h", 16),
            ("?H", 16),
            ("?s", 33),
            ("?a", 95),
            ("?b", 256),
        ] {
            assert_eq!(m(s).len(), n, "{s}");
        }
    }

    #[test]
    fn literals_and_escaped_question_mark() {
        let mask = m("a??b?d");
        assert_eq!(mask.width(), 4);
        assert_eq!(mask.nth(7).unwrap(), b"a?b7");
    }

    #[test]
    fn custom_sets_dedupe_and_nest() {
        let mask = Mask::parse("?1?2", [Some("?dabc?d"), Some("?1x"), None, None]).unwrap();
        assert_eq!(mask.positions()[0].len(), 13);
        assert_eq!(mask.positions()[1].len(), 14);
        assert_eq!(mask.nth(0).unwrap(), b"00");
        assert_eq!(mask.nth(13).unwrap(), b"0x");
    }

    #[test]
    fn errors_say_what_and_where() {
        let e = Mask::parse("ab?x", [None; 4]).unwrap_err().to_string();
        assert!(e.contains("column 3") && e.contains("?x"), "{e}");
        let e = Mask::parse("ab?", [None; 4]).unwrap_err().to_string();
        assert!(e.contains("column 3") && e.contains("end"), "{e}");
        let e = Mask::parse("", [None; 4]).unwrap_err().to_string();
        assert!(e.contains("empty"), "{e}");
        let e = Mask::parse("?3", [None; 4]).unwrap_err().to_string();
        assert!(e.contains("-3"), "{e}");
        let e = Mask::parse("?1", [Some("?1"), None, None, None])
            .unwrap_err()
            .to_string();
        assert!(e.contains("-1") && e.contains("column 1"), "{e}");
        let e = Mask::parse("?1", [Some(""), None, None, None])
            .unwrap_err()
            .to_string();
        assert!(e.contains("empty"), "{e}");
        let e = Mask::parse(&"?b".repeat(9), [None; 4])
            .unwrap_err()
            .to_string();
        assert!(e.contains("2^64"), "{e}");
    }

    #[test]
    fn increment_runs_shortest_first() {
        let src = MaskSource::with_increment(m("?d?d?d"), Some(2), None)
            .unwrap()
            .plain_order();
        assert_eq!(src.len(), Some(1100));
        let all: Vec<_> = src.iter_from(0).unwrap().map(Result::unwrap).collect();
        assert_eq!(all.len(), 1100);
        assert_eq!(all[0], b"00");
        assert_eq!(all[99], b"99");
        assert_eq!(all[100], b"000");
        assert!(MaskSource::with_increment(m("?d"), Some(2), None).is_err());
        assert!(MaskSource::with_increment(m("?d?d"), Some(0), None).is_err());
        assert!(MaskSource::with_increment(m("?d?d"), Some(2), Some(1)).is_err());
    }
}
