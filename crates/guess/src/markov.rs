//! Masks likeliest first, still indexable.
//!
//! Each position's characters are ranked by how people type: the first by how often it starts
//! a password, each later one by how often it follows the character before it (byte bigrams
//! of the built-in common-password list, then single-byte frequency, then the charset's own
//! order). A guess is then a tuple of ranks, one per position; guesses are tried in order of
//! the sum of their ranks (a stand-in for the sum of -log probabilities), and within one sum
//! in lexicographic order of the ranks. `?l?l?lter?d` then reaches `hunter2` near guess 1,000
//! instead of 52,653 in odometer order.
//!
//! The order is a bijection from `0..len` to the mask's guesses, computed by counting: the
//! number of rank tuples of each sum (a small dynamic-programming table) says which sum holds
//! index `i` and which tuple within it, so a resumed session starts at any index at once.

use std::sync::OnceLock;

/// Byte statistics of the built-in common passwords.
struct Stats {
    start: Vec<u32>,
    any: Vec<u32>,
    /// follow[a * 256 + b]: how often b follows a.
    follow: Vec<u32>,
}

fn stats() -> &'static Stats {
    static S: OnceLock<Stats> = OnceLock::new();
    S.get_or_init(|| {
        let mut s = Stats {
            start: vec![0; 256],
            any: vec![0; 256],
            follow: vec![0; 256 * 256],
        };
        // Letters counted without their case: most common passwords are lower case, but a
        // capital J starts a password about as often as a small j does.
        for pw in crate::common::ranked() {
            let folded = pw.to_ascii_lowercase();
            let b = folded.as_bytes();
            if let Some(&f) = b.first() {
                s.start[f as usize] += 1;
            }
            for &c in b {
                s.any[c as usize] += 1;
            }
            for w in b.windows(2) {
                s.follow[w[0] as usize * 256 + w[1] as usize] += 1;
            }
        }
        s
    })
}

/// `set` sorted likeliest first by `score` (then by single-byte frequency, then as given).
fn ranked(set: &[u8], score: impl Fn(u8) -> u32) -> Vec<u8> {
    let st = stats();
    let mut v: Vec<(usize, u8)> = set.iter().copied().enumerate().collect();
    v.sort_by_key(|&(i, c)| {
        let c = c.to_ascii_lowercase();
        (
            std::cmp::Reverse(score(c)),
            std::cmp::Reverse(st.any[c as usize]),
            i,
        )
    });
    v.into_iter().map(|(_, c)| c).collect()
}

/// What taking the character of rank `r` costs: about -log of its share, as people's choices
/// fall off like Zipf's law (the first few characters take most of the mass), in small whole
/// steps so that guesses can be counted by total cost.
fn cost(r: usize) -> usize {
    // 6 steps per e-fold: fine enough that few guesses tie, coarse enough for a small table.
    // Measured against the plain rank sum on hunter2 (?l?l?lter?d), love12 (?l?l?l?l?d?d) and
    // monkey (?l?l?l?l?l?l): about as good on the first and third, 4x better on the second.
    (6.0 * ((r + 1) as f64).ln()).round() as usize
}

/// Largest tables this order builds (entries); bigger masks keep the odometer order.
const MAX_TABLE: usize = 1_000_000;

/// The likeliest-first order of one mask.
#[derive(Clone, Debug)]
pub struct Likeliest {
    /// Position 0's characters, likeliest first.
    first: Vec<u8>,
    /// For each later position: its characters ranked after each possible previous
    /// character, indexed by the previous character's byte (None: that byte cannot be there).
    after: Vec<Vec<Option<Vec<u8>>>>,
    sizes: Vec<usize>,
    /// ways[i][s]: rank tuples of positions i.. with sum s (u128: no overflow below 2^64
    /// guesses in all).
    ways: Vec<Vec<u128>>,
    /// before_sum[s]: guesses whose total cost is below s.
    before_sum: Vec<u128>,
    len: u64,
}

impl Likeliest {
    /// The order for these positions, or `None` when the mask is too large to order (it then
    /// keeps the odometer order).
    pub fn new(positions: &[Vec<u8>]) -> Option<Likeliest> {
        let k = positions.len();
        let sizes: Vec<usize> = positions.iter().map(Vec::len).collect();
        let max_sum: usize = sizes.iter().map(|n| cost(n - 1)).sum();
        let prev_tables: usize = positions.windows(2).map(|w| w[0].len() * w[1].len()).sum();
        if k.checked_mul(max_sum + 1)? > MAX_TABLE || prev_tables > MAX_TABLE {
            return None;
        }
        let st = stats();
        let first = ranked(&positions[0], |c| st.start[c as usize]);
        let mut after = Vec::with_capacity(k.saturating_sub(1));
        for w in positions.windows(2) {
            let mut t: Vec<Option<Vec<u8>>> = vec![None; 256];
            for &p in &w[0] {
                if t[p as usize].is_none() {
                    let f = p.to_ascii_lowercase() as usize;
                    t[p as usize] = Some(ranked(&w[1], |c| st.follow[f * 256 + c as usize]));
                }
            }
            after.push(t);
        }
        let mut ways = vec![vec![0u128; max_sum + 1]; k + 1];
        ways[k][0] = 1;
        for i in (0..k).rev() {
            for r in 0..sizes[i] {
                let c = cost(r);
                for s in c..=max_sum {
                    ways[i][s] += ways[i + 1][s - c];
                }
            }
        }
        let mut before_sum = Vec::with_capacity(max_sum + 2);
        let mut acc = 0u128;
        for w in &ways[0] {
            before_sum.push(acc);
            acc += w;
        }
        before_sum.push(acc);
        let len = u64::try_from(acc).ok()?;
        Some(Likeliest {
            first,
            after,
            sizes,
            ways,
            before_sum,
            len,
        })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Guess number `i` in this order, or `None` past the end.
    pub fn nth(&self, i: u64) -> Option<Vec<u8>> {
        if i >= self.len {
            return None;
        }
        let i = i as u128;
        // The rank sum that holds i: the last s with before_sum[s] <= i.
        let s = self.before_sum.partition_point(|&b| b <= i) - 1;
        let mut offset = i - self.before_sum[s];
        let mut left = s;
        let mut out = Vec::with_capacity(self.sizes.len());
        for (pos, &n) in self.sizes.iter().enumerate() {
            let mut chosen = None;
            for r in 0..n {
                let cr = cost(r);
                if cr > left {
                    continue;
                }
                let c = self.ways[pos + 1][left - cr];
                if offset < c {
                    chosen = Some(r);
                    break;
                }
                offset -= c;
            }
            let r = chosen?;
            left -= cost(r);
            let byte = if pos == 0 {
                self.first[r]
            } else {
                let prev = *out.last()?;
                self.after[pos - 1][prev as usize].as_ref()?[r]
            };
            out.push(byte);
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mask::Mask;

    fn order(mask: &str) -> (Mask, Likeliest) {
        let m = Mask::parse(mask, [None; 4]).unwrap();
        let l = Likeliest::new(m.positions()).unwrap();
        (m, l)
    }

    #[test]
    fn every_guess_once_and_the_same_set_as_the_odometer() {
        for mask in ["?d", "?d?d", "?l?d?d", "a?d?l", "?1?d", "x?dy?d"] {
            let m = Mask::parse(mask, [Some("abc"), None, None, None]).unwrap();
            let l = Likeliest::new(m.positions()).unwrap();
            assert_eq!(l.len(), m.len(), "{mask}");
            let mut ours: Vec<Vec<u8>> = (0..l.len()).map(|i| l.nth(i).unwrap()).collect();
            let mut plain: Vec<Vec<u8>> = m.iter_from(0).collect();
            ours.sort();
            plain.sort();
            assert_eq!(ours, plain, "{mask}");
            assert_eq!(l.nth(l.len()), None);
        }
    }

    #[test]
    fn people_shaped_guesses_come_first() {
        let (m, l) = order("?l?l?lter?d");
        let pos = (0..l.len())
            .position(|i| l.nth(i).unwrap() == b"hunter2")
            .unwrap();
        let plain = m.iter_from(0).position(|g| g == b"hunter2").unwrap();
        assert!(pos < 10_000, "hunter2 at {pos}");
        assert!(pos * 7 < plain, "{pos} vs {plain} in odometer order");
        let (m, l) = order("?l?l?l?l?d?d");
        let love = (0..l.len())
            .position(|i| l.nth(i).unwrap() == b"love12")
            .unwrap();
        let plain = m.iter_from(0).position(|g| g == b"love12").unwrap();
        assert!(
            love * 50 < plain,
            "love12 at {love}, {plain} in odometer order"
        );
        // The likeliest digit after a word comes first: 1.
        let (_, l) = order("love?d");
        assert_eq!(l.nth(0).unwrap(), b"love1");
    }
}
