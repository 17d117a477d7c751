//! Hashcat masks and custom charsets, and the guesses they give.
//!
//! Input: three bytes (start position, --increment-min, --increment-max), then lines: the
//! mask, then custom charsets -1 to -4 (an empty line: that set is not given). At most a few
//! hundred guesses are generated per input, from a fuzzed start, so every input is quick.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sesame_guess::mask::{Mask, MaskSource};
use sesame_guess::Source;

const TAKE: usize = 200;

/// A start index anywhere in `0..=len`, biased to both ends, where the carries are.
fn start_in(len: u64, b: u8) -> u64 {
    match b {
        0..=63 => u64::from(b).min(len),
        64..=127 => len.saturating_sub(u64::from(b - 63)),
        _ => len / 128 * u64::from(b - 128),
    }
}

fuzz_target!(|data: &[u8]| {
    let [s, min, max, text @ ..] = data else {
        return;
    };
    let text = String::from_utf8_lossy(text);
    // The same lines as .hcmask lines: never a panic, and a line's mask is its last field.
    for line in text.split('\n') {
        if let Some((_, mask)) = sesame_guess::mask::parse_hcmask_line(line) {
            let _ = Mask::parse(&mask, [None; 4]);
        }
    }
    let mut lines = text.split('\n');
    let mask_text = lines.next().unwrap_or("");
    let sets: Vec<Option<&str>> = (0..4)
        .map(|_| lines.next().filter(|l| !l.is_empty()))
        .collect();
    let Ok(mask) = Mask::parse(mask_text, [sets[0], sets[1], sets[2], sets[3]]) else {
        return;
    };
    let width = mask.width();
    assert!(width >= 1 && width <= sesame_guess::mask::MAX_POSITIONS);
    assert!(mask.len() >= 1);
    let product = mask
        .positions()
        .iter()
        .try_fold(1u64, |a, p| a.checked_mul(p.len() as u64));
    assert_eq!(product, Some(mask.len()));

    // The odometer from `start` gives exactly guess `start`, `start + 1`, ... of `nth`.
    let start = start_in(mask.len(), *s);
    let mut n = 0u64;
    for g in mask.iter_from(start).take(TAKE) {
        assert_eq!(g.len(), width);
        assert_eq!(
            Some(&g),
            mask.nth(start + n).as_ref(),
            "iter_from and nth disagree"
        );
        n += 1;
    }
    assert_eq!(n, (mask.len() - start).min(TAKE as u64));
    assert!(mask.nth(mask.len()).is_none());

    // The likeliest-first order, where the mask is small enough to have one: each guess's
    // position is its index, and every guess fits the mask.
    if let Some(order) = sesame_guess::markov::Likeliest::new(mask.positions()) {
        assert_eq!(order.len(), mask.len());
        let start = start_in(order.len(), s.wrapping_mul(3));
        for i in (start..order.len()).take(TAKE) {
            let g = order.nth(i).expect("an index below len has a guess");
            assert_eq!(g.len(), width);
            assert!(g.iter().zip(mask.positions()).all(|(b, set)| set.contains(b)));
            assert_eq!(order.position_of(&g), Some(i), "position_of is not nth's inverse");
        }
        assert!(order.nth(order.len()).is_none());
    }

    // --increment over the prefixes: lengths and order as documented.
    let min = usize::from(*min % 8);
    let max = usize::from(*max % 8).max(min);
    let src = match MaskSource::with_increment(mask.clone(), Some(min), Some(max)) {
        Ok(src) => src,
        Err(_) => return,
    };
    let _ = (src.name(), src.fingerprint());
    let len = src.len().expect("a mask's length is known");
    let start = start_in(len, s.wrapping_mul(7));
    let mut last = 0;
    let mut n = 0u64;
    for g in src.iter_from(start).expect("iter_from").take(TAKE) {
        let g = g.expect("a mask never fails");
        assert!((min..=max).contains(&g.len()), "guess of the wrong length");
        assert!(g.len() >= last, "increment lengths must not go down");
        last = g.len();
        n += 1;
    }
    assert_eq!(n, (len - start).min(TAKE as u64));
});
