//! Masks likeliest first, still indexable.
//!
//! A first-order Markov chain over bytes, learnt from the built-in common-password list: the
//! first position's characters weigh by how often each starts a password, each later one by how
//! often it follows the character before it (bigram counts, smoothed towards each byte's overall
//! frequency so that an unseen pair is unlikely, not impossible). Within one position only the
//! mask's own characters compete: `?d` after a word is "1" first because 1 follows letters most
//! often among digits. A guess costs the sum of its steps' -log probabilities, in small whole
//! steps, and guesses are tried cheapest first; within one total cost, each position's
//! characters in their order of likelihood after the one before.
//!
//! The order is a bijection from `0..len` to the mask's guesses, computed by counting: for each
//! position and character, how many completions of the positions after it have each total cost
//! (a dynamic-programming table), so that guess `i` is found without the `i` before it and a
//! resumed session starts at any index at once.

use std::sync::OnceLock;

/// Byte statistics of a list of passwords, letters folded to lower case: what the order
/// learns from.
#[derive(Clone, Debug)]
pub struct CharModel {
    start: Vec<f64>,
    start_total: f64,
    /// Each byte's share of all bytes (with one added to every count: no byte is impossible).
    share: Vec<f64>,
    /// follow[a * 256 + b]: how often b follows a.
    follow: Vec<f64>,
    /// follow_total[a]: how often anything follows a.
    follow_total: Vec<f64>,
}

impl CharModel {
    /// The statistics of these passwords.
    pub fn learn<'a>(passwords: impl IntoIterator<Item = &'a str>) -> CharModel {
        let mut start = vec![0.0; 256];
        let mut any = vec![1.0f64; 256];
        let mut follow = vec![0.0; 256 * 256];
        let mut follow_total = vec![0.0; 256];
        // Letters counted without their case: most listed passwords are lower case, and the
        // case a mask allows is the mask's choice ([`case_weight`] weighs it where both are).
        for pw in passwords {
            let b = pw.to_ascii_lowercase().into_bytes();
            if let Some(&f) = b.first() {
                start[f as usize] += 1.0;
            }
            for &c in &b {
                any[c as usize] += 1.0;
            }
            for w in b.windows(2) {
                follow[w[0] as usize * 256 + w[1] as usize] += 1.0;
                follow_total[w[0] as usize] += 1.0;
            }
        }
        let total: f64 = any.iter().sum();
        CharModel {
            start_total: start.iter().sum(),
            start,
            share: any.iter().map(|a| a / total).collect(),
            follow,
            follow_total,
        }
    }

    /// The statistics of the built-in common passwords.
    pub fn built_in() -> &'static CharModel {
        static M: OnceLock<CharModel> = OnceLock::new();
        M.get_or_init(|| CharModel::learn(crate::common::ranked().iter().copied()))
    }
}

/// How many made-up observations of the overall byte frequency each count is blended with.
/// Measured on held-out common passwords (`mask_holdout` example): anything from 2 to 32 orders
/// them within 0.5% of each other; 8 keeps a pair seen once or twice from outranking the usual
/// characters.
const SMOOTHING: f64 = 8.0;

/// Where a position allows a letter in both cases, the capital's share of the lower-case
/// letter's weight: people capitalise the first letter now and then, later ones seldom.
fn case_weight(first: bool, c: u8, set: &[u8]) -> f64 {
    if c.is_ascii_uppercase() && set.contains(&c.to_ascii_lowercase()) {
        if first {
            0.25
        } else {
            0.03
        }
    } else {
        1.0
    }
}

/// Cost steps per e-fold of probability: fine enough that guesses of clearly different
/// likelihood seldom tie, coarse enough for a small table.
const STEPS_PER_E: f64 = 8.0;

/// The costliest single step (a probability of about e^-14): rarer characters all cost this,
/// which keeps the table small.
const MAX_STEP: usize = 112;

/// The costs of taking each of `set`'s characters at a position, after `prev` (None: the
/// first position).
fn step_costs(model: &CharModel, set: &[u8], prev: Option<u8>) -> Vec<usize> {
    let weights: Vec<f64> = set
        .iter()
        .map(|&c| {
            let f = c.to_ascii_lowercase() as usize;
            let (count, total) = match prev {
                None => (model.start[f], model.start_total),
                Some(p) => {
                    let p = p.to_ascii_lowercase() as usize;
                    (model.follow[p * 256 + f], model.follow_total[p])
                }
            };
            // The count blended with the byte's overall share, as a probability.
            let p = (count + SMOOTHING * model.share[f]) / (total + SMOOTHING);
            p * case_weight(prev.is_none(), c, set)
        })
        .collect();
    let sum: f64 = weights.iter().sum();
    weights
        .iter()
        .map(|w| {
            let c = -STEPS_PER_E * (w / sum).ln();
            (c.round().max(0.0) as usize).min(MAX_STEP)
        })
        .collect()
}

/// Largest tables this order builds (counts held); bigger masks keep the odometer order.
const MAX_TABLE: usize = 4_000_000;

/// Most work (table cells times characters) spent building one order.
const MAX_WORK: usize = 400_000_000;

/// One position's choices after one previous character: (cost, index into the position's
/// characters), cheapest first.
type Choices = Vec<(usize, usize)>;

/// The likeliest-first order of one mask.
#[derive(Clone, Debug)]
pub struct Likeliest {
    positions: Vec<Vec<u8>>,
    /// choices[0][0]: the first position's; choices[i][j]: position i's after character j of
    /// position i - 1.
    choices: Vec<Vec<Choices>>,
    /// ways[i][j][s]: completions of the positions after i, given character j at position i,
    /// whose steps cost s in all.
    ways: Vec<Vec<Vec<u64>>>,
    /// before_sum[s]: guesses whose total cost is below s.
    before_sum: Vec<u64>,
    len: u64,
}

fn sorted_choices(costs: Vec<usize>) -> Choices {
    let mut v: Choices = costs.into_iter().enumerate().map(|(j, c)| (c, j)).collect();
    v.sort_unstable();
    v
}

impl Likeliest {
    /// The order for these positions, learnt from the built-in common passwords, or `None`
    /// when the mask is too large to order (it then keeps the odometer order).
    pub fn new(positions: &[Vec<u8>]) -> Option<Likeliest> {
        Self::with_model(positions, CharModel::built_in())
    }

    /// The order for these positions, learnt from `model`.
    pub fn with_model(positions: &[Vec<u8>], model: &CharModel) -> Option<Likeliest> {
        let k = positions.len();
        if k == 0 || positions.iter().any(Vec::is_empty) {
            return None;
        }
        // Tables are sized before the costs are known: at most MAX_STEP a position.
        let bound = k.checked_mul(MAX_STEP + 1)?;
        let cells: usize = positions
            .iter()
            .try_fold(0usize, |a, p| a.checked_add(p.len().checked_mul(bound)?))?;
        let work: usize = positions.windows(2).try_fold(0usize, |a, w| {
            a.checked_add(w[0].len().checked_mul(w[1].len())?.checked_mul(bound)?)
        })?;
        if cells > MAX_TABLE || work > MAX_WORK {
            return None;
        }
        let mut choices = Vec::with_capacity(k);
        choices.push(vec![sorted_choices(step_costs(model, &positions[0], None))]);
        for w in positions.windows(2) {
            choices.push(
                w[0].iter()
                    .map(|&p| sorted_choices(step_costs(model, &w[1], Some(p))))
                    .collect(),
            );
        }
        // The dearest guess: each position's dearest step (the last of each sorted list).
        let max_sum: usize = choices
            .iter()
            .map(|rows| {
                rows.iter()
                    .filter_map(|r| r.last())
                    .map(|&(c, _)| c)
                    .max()
                    .unwrap_or(0)
            })
            .sum();
        // Built from the last position back: the last one has one (empty) completion.
        let mut ways: Vec<Vec<Vec<u64>>> = vec![Vec::new(); k];
        let mut last = vec![vec![0u64; max_sum + 1]; positions[k - 1].len()];
        for row in &mut last {
            row[0] = 1;
        }
        ways[k - 1] = last;
        for i in (0..k - 1).rev() {
            let mut here = vec![vec![0u64; max_sum + 1]; positions[i].len()];
            for (j, row) in here.iter_mut().enumerate() {
                for &(c, next) in &choices[i + 1][j] {
                    let after = &ways[i + 1][next];
                    for s in c..=max_sum {
                        row[s] = row[s].checked_add(after[s - c])?;
                    }
                }
            }
            ways[i] = here;
        }
        let mut before_sum = Vec::with_capacity(max_sum + 2);
        let mut by_sum = vec![0u64; max_sum + 1];
        for &(c, j) in &choices[0][0] {
            for s in c..=max_sum {
                by_sum[s] = by_sum[s].checked_add(ways[0][j][s - c])?;
            }
        }
        let mut acc = 0u64;
        for w in &by_sum {
            before_sum.push(acc);
            acc = acc.checked_add(*w)?;
        }
        before_sum.push(acc);
        Some(Likeliest {
            positions: positions.to_vec(),
            choices,
            ways,
            before_sum,
            len: acc,
        })
    }

    pub fn len(&self) -> u64 {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Where `guess` comes in this order (the inverse of [`Likeliest::nth`]), or `None` when
    /// the mask cannot make it.
    pub fn position_of(&self, guess: &[u8]) -> Option<u64> {
        if guess.len() != self.positions.len() {
            return None;
        }
        let picks: Vec<usize> = guess
            .iter()
            .zip(&self.positions)
            .map(|(b, set)| set.iter().position(|c| c == b))
            .collect::<Option<_>>()?;
        let cost_of = |pos: usize, prev: usize, j: usize| {
            self.choices[pos][prev]
                .iter()
                .find(|&&(_, x)| x == j)
                .map(|&(c, _)| c)
        };
        let mut total = 0;
        let mut prev = 0;
        for (pos, &j) in picks.iter().enumerate() {
            total += cost_of(pos, prev, j)?;
            prev = j;
        }
        let mut at = self.before_sum[total];
        let mut left = total;
        prev = 0;
        for (pos, &j) in picks.iter().enumerate() {
            for &(c, x) in &self.choices[pos][prev] {
                if x == j {
                    left -= c;
                    break;
                }
                if c <= left {
                    at += self.ways[pos][x][left - c];
                }
            }
            prev = j;
        }
        Some(at)
    }

    /// Guess number `i` in this order, or `None` past the end.
    pub fn nth(&self, i: u64) -> Option<Vec<u8>> {
        if i >= self.len {
            return None;
        }
        // The total cost that holds i: the last s with before_sum[s] <= i.
        let s = self.before_sum.partition_point(|&b| b <= i) - 1;
        let mut offset = i - self.before_sum[s];
        let mut left = s;
        let mut out = Vec::with_capacity(self.positions.len());
        let mut prev = 0usize;
        for pos in 0..self.positions.len() {
            let mut chosen = None;
            for &(c, j) in &self.choices[pos][prev] {
                if c > left {
                    continue;
                }
                let n = self.ways[pos][j][left - c];
                if offset < n {
                    chosen = Some((c, j));
                    break;
                }
                offset -= n;
            }
            let (c, j) = chosen?;
            left -= c;
            out.push(self.positions[pos][j]);
            prev = j;
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
            for (i, g) in ours.iter().enumerate() {
                assert_eq!(l.position_of(g), Some(i as u64), "{mask}");
            }
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
        // A capitalised name: the first position's capital weighs as its small letter starts
        // passwords, and each later letter as it follows the one before.
        let (m, l) = order("?u?l?l?l?l?d?d");
        let jenny = l.position_of(b"Jenny12").unwrap();
        assert!(jenny < 2_000_000, "Jenny12 at {jenny} of {}", m.len());
        // Where both cases are allowed, the small letter comes first.
        let (_, l) = order("?a?a?a?a");
        assert!(l.position_of(b"love").unwrap() < l.position_of(b"LOVE").unwrap());
        assert!(l.position_of(b"Love").unwrap() < l.position_of(b"lOve").unwrap());
        // The likeliest digit after a word comes first: 1.
        let (_, l) = order("love?d");
        assert_eq!(l.nth(0).unwrap(), b"love1");
    }
}
