//! How early held-out common passwords come in their own mask's likeliest-first order: the order
//! learns from the even-numbered entries of the built-in list and is measured on the odd ones,
//! grouped by the mask each one fits (`?l?l?l?l?d?d` for "love12"; every other lower-case word is
//! also tried capitalised, as ?u?l...).
//!
//! `cargo run --release -p sesame-guess --example mask_holdout`
use sesame_guess::markov::{CharModel, Likeliest};
use std::collections::BTreeMap;

fn class(c: u8) -> Option<&'static str> {
    Some(match c {
        b'a'..=b'z' => "?l",
        b'A'..=b'Z' => "?u",
        b'0'..=b'9' => "?d",
        b' '..=b'~' => "?s",
        _ => return None,
    })
}

fn main() {
    let list = sesame_guess::common::ranked();
    let model = CharModel::learn(list.iter().step_by(2).copied());
    let mut by_mask: BTreeMap<String, Vec<Vec<u8>>> = BTreeMap::new();
    for (n, pw) in list.iter().enumerate() {
        if n % 2 == 0 || pw.len() < 5 || pw.len() > 9 {
            continue;
        }
        let mut b = pw.as_bytes().to_vec();
        // Test capitalised forms too: they are what ?u?l... masks are for.
        if n % 4 == 1 && b[0].is_ascii_lowercase() {
            b[0] = b[0].to_ascii_uppercase();
        }
        let Some(m) = b.iter().map(|&c| class(c)).collect::<Option<Vec<_>>>() else {
            continue;
        };
        by_mask.entry(m.concat()).or_default().push(b);
    }
    let mut total = 0usize;
    let mut sum_log = 0.0f64;
    let mut within = [0usize; 4];
    for (mask, words) in &by_mask {
        if words.len() < 20 {
            continue;
        }
        let m = sesame_guess::mask::Mask::parse(mask, [None; 4]).unwrap();
        let Some(order) = Likeliest::with_model(m.positions(), &model) else {
            continue;
        };
        let mut ml = 0.0;
        for w in words {
            let r = order.position_of(w).unwrap() + 1;
            let frac = r as f64 / order.len() as f64;
            ml += frac.log10();
            for (k, t) in [1e-1, 1e-2, 1e-3, 1e-4].iter().enumerate() {
                if frac <= *t {
                    within[k] += 1;
                }
            }
        }
        println!(
            "{mask:24} {:5} words, mean log10(rank/size) {:.2}",
            words.len(),
            ml / words.len() as f64
        );
        total += words.len();
        sum_log += ml;
    }
    println!(
        "all {total}: mean log10(rank/size) {:.3}; within 10% {} 1% {} 0.1% {} 0.01% {}",
        sum_log / total as f64,
        within[0],
        within[1],
        within[2],
        within[3]
    );
}
