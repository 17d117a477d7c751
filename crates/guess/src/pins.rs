//! Numeric PINs, 4 digits then 6 digits, likeliest first, every PIN exactly once.
//!
//! Order within each length: a short head of the most chosen PINs published in studies of
//! real PIN choices, then repeated digits, runs up and down, simple patterns, years 1950-2030
//! (4 digits), dates, and finally every remaining PIN in numeric order. An iPhone backup
//! password is often the device passcode, which is why PINs are worth trying early.

use std::sync::OnceLock;

use crate::{GuessError, GuessIter, Source};

/// The 20 most common 4-digit PINs in DataGenetics' analysis of 3.4 million PINs (Nick Berry,
/// "PIN analysis", 2012), in their published order.
const HEAD_4: [u32; 20] = [
    1234, 1111, 0, 1212, 7777, 1004, 2000, 4444, 2222, 6969, 9999, 3333, 5555, 6666, 1122, 1313,
    8888, 4321, 2001, 1010,
];

/// Frequent 6-digit PINs from Wang et al., "Understanding Human-Chosen PINs" (2017), and the
/// obvious keypad shapes (147258, 159357, 789456 follow rows and columns of a phone keypad).
const HEAD_6: [u32; 20] = [
    123456, 654321, 111111, 0, 123123, 666666, 121212, 112233, 789456, 147258, 159357, 123321,
    101010, 696969, 520520, 131313, 777777, 888888, 999999, 222222,
];

const FIRST_YEAR: u32 = 1950;
const LAST_YEAR: u32 = 2030;

/// Days in each month, counting 29 February (a birthday on it is as good a guess as any).
const DAYS: [u32; 12] = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/// Builds an order: pushes each PIN the first time it is offered.
struct Order {
    seen: Vec<bool>,
    out: Vec<u32>,
}

impl Order {
    fn new(digits: u32) -> Self {
        let n = 10usize.pow(digits);
        Order {
            seen: vec![false; n],
            out: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, pin: u32) {
        let slot = &mut self.seen[pin as usize];
        if !*slot {
            *slot = true;
            self.out.push(pin);
        }
    }

    /// Everything not yet offered, in numeric order.
    fn finish(mut self) -> Vec<u32> {
        for pin in 0..self.seen.len() as u32 {
            self.push(pin);
        }
        self.out
    }
}

/// `n` digits all equal to `d`: 7 with n = 4 gives 7777.
fn repeat(d: u32, n: u32) -> u32 {
    (0..n).fold(0, |acc, _| acc * 10 + d)
}

/// Digits `first, first+step, ...` (step +1 or -1), `n` of them: 1234, 9876.
fn run(first: i32, step: i32, n: u32) -> Option<u32> {
    let mut v = 0u32;
    for k in 0..n as i32 {
        let d = first + step * k;
        if !(0..=9).contains(&d) {
            return None;
        }
        v = v * 10 + d as u32;
    }
    Some(v)
}

/// Day-month pairs in calendar order.
fn dates() -> impl Iterator<Item = (u32, u32)> {
    (1..=12u32).flat_map(|m| (1..=DAYS[m as usize - 1]).map(move |d| (d, m)))
}

fn build_4() -> Vec<u32> {
    let mut o = Order::new(4);
    HEAD_4.iter().for_each(|&p| o.push(p));
    (0..10).for_each(|d| o.push(repeat(d, 4)));
    for first in 0..10 {
        run(first, 1, 4).into_iter().for_each(|p| o.push(p));
        run(first, -1, 4).into_iter().for_each(|p| o.push(p));
    }
    // abab (1212) and aabb (1122): two-digit patterns people type twice.
    for a in 0..10 {
        for b in 0..10 {
            o.push(a * 1010 + b * 101);
        }
    }
    for a in 0..10 {
        for b in 0..10 {
            o.push(a * 1100 + b * 11);
        }
    }
    // Years, most likely birth years first: recent past back to 1950, then the near future.
    for y in (FIRST_YEAR..=2025).rev() {
        o.push(y);
    }
    for y in 2026..=LAST_YEAR {
        o.push(y);
    }
    // Dates: DDMM (most of the world), then MMDD (US).
    for (d, m) in dates() {
        o.push(d * 100 + m);
    }
    for (d, m) in dates() {
        o.push(m * 100 + d);
    }
    o.finish()
}

fn build_6() -> Vec<u32> {
    let mut o = Order::new(6);
    HEAD_6.iter().for_each(|&p| o.push(p));
    (0..10).for_each(|d| o.push(repeat(d, 6)));
    for first in 0..10 {
        run(first, 1, 6).into_iter().for_each(|p| o.push(p));
        run(first, -1, 6).into_iter().for_each(|p| o.push(p));
    }
    // ababab, abcabc, aabbcc.
    for ab in 0..100 {
        o.push(ab * 10101);
    }
    for abc in 0..1000 {
        o.push(abc * 1001);
    }
    for a in 0..10 {
        for b in 0..10 {
            for c in 0..10 {
                o.push(a * 110000 + b * 1100 + c * 11);
            }
        }
    }
    // Dates with two-digit years, birth years first (recent past back to 1950, then to 2030):
    // DDMMYY, MMDDYY, YYMMDD.
    let years: Vec<u32> = (FIRST_YEAR..=2025)
        .rev()
        .chain(2026..=LAST_YEAR)
        .map(|y| y % 100)
        .collect();
    for &yy in &years {
        for (d, m) in dates() {
            o.push(d * 10000 + m * 100 + yy);
        }
    }
    for &yy in &years {
        for (d, m) in dates() {
            o.push(m * 10000 + d * 100 + yy);
        }
    }
    for &yy in &years {
        for (d, m) in dates() {
            o.push(yy * 10000 + m * 100 + d);
        }
    }
    // Month and four-digit year: MMYYYY.
    for y in (FIRST_YEAR..=2025).rev().chain(2026..=LAST_YEAR) {
        for m in 1..=12 {
            o.push(m * 10000 + y);
        }
    }
    o.finish()
}

/// All 4-digit PINs as numbers (format with 4 digits, leading zeros kept), likeliest first.
pub fn ranked_4() -> &'static [u32] {
    static ORDER: OnceLock<Vec<u32>> = OnceLock::new();
    ORDER.get_or_init(build_4)
}

/// All 6-digit PINs as numbers (format with 6 digits), likeliest first.
pub fn ranked_6() -> &'static [u32] {
    static ORDER: OnceLock<Vec<u32>> = OnceLock::new();
    ORDER.get_or_init(build_6)
}

/// A PIN as text with its leading zeros: `format(42, 4)` is "0042".
pub fn format(pin: u32, digits: usize) -> String {
    format!("{pin:0digits$}")
}

/// Which PIN lengths a [`PinSource`] covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PinLengths {
    Four,
    Six,
    /// 4 digits, then 6 digits.
    Both,
}

/// PINs as a [`Source`]: 10,000 four-digit PINs, then 1,000,000 six-digit PINs.
#[derive(Clone, Debug)]
pub struct PinSource {
    lengths: PinLengths,
}

impl Default for PinSource {
    fn default() -> Self {
        Self::new()
    }
}

impl PinSource {
    /// 4-digit then 6-digit PINs.
    pub fn new() -> Self {
        PinSource {
            lengths: PinLengths::Both,
        }
    }

    pub fn with_lengths(lengths: PinLengths) -> Self {
        PinSource { lengths }
    }

    fn parts(&self) -> Vec<(&'static [u32], usize)> {
        match self.lengths {
            PinLengths::Four => vec![(ranked_4(), 4)],
            PinLengths::Six => vec![(ranked_6(), 6)],
            PinLengths::Both => vec![(ranked_4(), 4), (ranked_6(), 6)],
        }
    }

    /// PIN number `i` of this source.
    pub fn nth(&self, mut i: u64) -> Option<Vec<u8>> {
        for (list, digits) in self.parts() {
            let n = list.len() as u64;
            if i < n {
                return Some(format(list[i as usize], digits).into_bytes());
            }
            i -= n;
        }
        None
    }
}

impl Source for PinSource {
    fn name(&self) -> String {
        match self.lengths {
            PinLengths::Four => "4-digit PINs".into(),
            PinLengths::Six => "6-digit PINs".into(),
            PinLengths::Both => "4- and 6-digit PINs".into(),
        }
    }

    fn len(&self) -> Option<u64> {
        Some(self.parts().iter().map(|(l, _)| l.len() as u64).sum())
    }

    fn iter_from(&self, start: u64) -> Result<GuessIter<'_>, GuessError> {
        let mut skip = start;
        let mut iters: Vec<Box<dyn Iterator<Item = Vec<u8>> + Send>> = Vec::new();
        for (list, digits) in self.parts() {
            let n = list.len() as u64;
            let from = skip.min(n) as usize;
            skip -= from as u64;
            iters.push(Box::new(
                list[from..]
                    .iter()
                    .map(move |&p| format(p, digits).into_bytes()),
            ));
        }
        Ok(Box::new(iters.into_iter().flatten().map(Ok)))
    }

    fn fingerprint(&self) -> String {
        // The order is built by code, so the generator version (in the plan fingerprint) and a
        // digest of the order itself define it.
        let mut bytes = Vec::new();
        for (list, _) in self.parts() {
            for p in list {
                bytes.extend_from_slice(&p.to_le_bytes());
            }
        }
        format!("pins {:?} {:016x}", self.lengths, crate::fnv1a(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_pin_exactly_once() {
        for (list, n) in [(ranked_4(), 10_000), (ranked_6(), 1_000_000)] {
            assert_eq!(list.len(), n);
            let set: HashSet<_> = list.iter().collect();
            assert_eq!(set.len(), n);
            assert!(list.iter().all(|&p| (p as usize) < n));
        }
    }

    #[test]
    fn likeliest_come_first() {
        let s = |i: usize| format(ranked_4()[i], 4);
        assert_eq!(s(0), "1234");
        assert_eq!(s(2), "0000");
        let pos = |pin: u32| ranked_4().iter().position(|&p| p == pin).unwrap();
        // Repeats and runs before years, years before dates, dates before the rest.
        assert!(pos(8888) < pos(1987));
        assert!(pos(6789) < pos(1987));
        assert!(pos(1987) < pos(2512));
        // 25 December: DDMM 2512 comes before MMDD 1225; 3712 is a date neither way.
        assert!(pos(2512) < pos(1225));
        assert!(pos(1225) < pos(3712));
        let pos6 = |pin: u32| ranked_6().iter().position(|&p| p == pin).unwrap();
        assert_eq!(pos6(123456), 0);
        assert!(pos6(654321) < 5);
        assert!(pos6(251287) < pos6(999998));
    }

    #[test]
    fn source_formats_with_leading_zeros() {
        let src = PinSource::new();
        assert_eq!(src.len(), Some(1_010_000));
        let all: Vec<_> = src.iter_from(0).unwrap().map(Result::unwrap).collect();
        assert_eq!(all.len(), 1_010_000);
        assert_eq!(all[2], b"0000");
        assert_eq!(all[10_000], b"123456");
        assert!(all[..10_000].iter().all(|p| p.len() == 4));
        assert!(all[10_000..].iter().all(|p| p.len() == 6));
        for i in [0u64, 1, 9_999, 10_000, 10_001, 1_009_999] {
            assert_eq!(src.nth(i).unwrap(), all[i as usize]);
            let tail: Vec<_> = src
                .iter_from(i)
                .unwrap()
                .take(3)
                .map(Result::unwrap)
                .collect();
            assert_eq!(tail[..], all[i as usize..(i as usize + 3).min(all.len())]);
        }
        assert_eq!(src.iter_from(1_010_000).unwrap().count(), 0);
        assert_eq!(src.iter_from(u64::MAX).unwrap().count(), 0);
    }
}
