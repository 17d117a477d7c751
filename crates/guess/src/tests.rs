//! Properties of plans and shards, over every kind of source.

use super::*;
use crate::common::CommonSource;
use crate::mask::{Mask, MaskSource};
use crate::pins::PinSource;
use crate::rules::{Rules, RulesSource};
use crate::wordlist::Wordlist;
use proptest::prelude::*;
use std::io::Write;

/// A small in-memory source with a known length.
struct List(Vec<&'static str>);

impl Source for List {
    fn name(&self) -> String {
        format!("list of {}", self.0.len())
    }
    fn len(&self) -> Option<u64> {
        Some(self.0.len() as u64)
    }
    fn iter_from(&self, start: u64) -> Result<GuessIter<'_>, GuessError> {
        let from = start.min(self.0.len() as u64) as usize;
        Ok(Box::new(
            self.0[from..].iter().map(|s| Ok(s.as_bytes().to_vec())),
        ))
    }
    fn fingerprint(&self) -> String {
        format!("list {:?}", self.0)
    }
}

fn collect(plan: &Plan, start: u64) -> Vec<(u64, Guess)> {
    plan.iter_from(start).unwrap().map(Result::unwrap).collect()
}

/// A mask in the plain (odometer) order: these tests are about the plan's numbering, and
/// that order is easy to write down.
fn mask(text: &str) -> Box<dyn Source> {
    Box::new(MaskSource::new(Mask::parse(text, [None; 4]).unwrap()).plain_order())
}

/// A plan with every kind of source, gaps included (rules) and a stream of unknown length.
fn mixed_plan(words: &tempfile::NamedTempFile) -> Plan {
    let mut plan = Plan::new();
    plan.push(Box::new(CommonSource::top(5)));
    plan.push(mask("?d?d"));
    plan.push(Box::new(
        RulesSource::new(
            Box::new(Wordlist::open(words.path()).unwrap()),
            Rules::parse(":\nl\nu\n$1\n<3", "t.rule").unwrap(),
        )
        .unwrap(),
    ));
    plan.push(Box::new(Wordlist::open(words.path()).unwrap()));
    plan.push(Box::new(
        MaskSource::with_increment(
            Mask::parse("?1x", [Some("ab"), None, None, None]).unwrap(),
            None,
            None,
        )
        .unwrap()
        .plain_order(),
    ));
    plan
}

fn words_file() -> tempfile::NamedTempFile {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(b"Alpha\r\nbe\n\nGAMMA\n\xffx\n").unwrap();
    f.flush().unwrap();
    f
}

#[test]
fn plan_concatenates_sources_with_global_indices() {
    let f = words_file();
    let plan = mixed_plan(&f);
    // 5 common + 100 mask + 4 words × 5 rules + 4 words + (2 + 2) increment.
    assert_eq!(plan.len(), Some(5 + 100 + 20 + 4 + 4));
    let all = collect(&plan, 0);
    assert_eq!(all[0], (0, b"123456".to_vec()));
    assert_eq!(all[5], (5, b"00".to_vec()));
    assert_eq!(all[104], (104, b"99".to_vec()));
    // Rules: word "Alpha": ":" Alpha, "l" alpha, "u" ALPHA, "$1" Alpha1, "<3" rejected.
    assert_eq!(all[105], (105, b"Alpha".to_vec()));
    assert_eq!(all[108], (108, b"Alpha1".to_vec()));
    // Slot 109 ("<3" on Alpha) is empty: the next guess is word "be" at slot 110.
    assert_eq!(all[109], (110, b"be".to_vec()));
    let last = all.last().unwrap();
    assert_eq!(last, &(132, b"bx".to_vec()));
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
    assert_eq!(plan.source_at(0), Some((0, 0)));
    assert_eq!(plan.source_at(5), Some((1, 0)));
    assert_eq!(plan.source_at(109), Some((2, 4)));
    assert_eq!(plan.source_at(132), Some((4, 3)));
    assert_eq!(plan.source_at(133), None);
}

#[test]
fn plan_resumes_exactly_at_every_index() {
    let f = words_file();
    let plan = mixed_plan(&f);
    let all = collect(&plan, 0);
    for start in 0..=plan.len().unwrap() + 2 {
        let want: Vec<_> = all.iter().filter(|(i, _)| *i >= start).cloned().collect();
        assert_eq!(collect(&plan, start), want, "start {start}");
    }
}

#[test]
fn plan_with_a_stream_of_unknown_length() {
    let mut plan = Plan::new();
    plan.push(mask("?d"));
    plan.push(Box::new(Wordlist::from_reader(
        "stdin",
        Box::new(&b"x\ny\nz\n"[..]),
    )));
    plan.push(mask("a?d"));
    assert_eq!(plan.len(), None);
    assert_eq!(plan.source_at(3), Some((0, 3)));
    assert_eq!(plan.source_at(11), None); // past the stream: unknowable
                                          // The engine opens the stream once to check it, then again to read: stdin must survive.
    drop(plan.iter_from(0).unwrap());
    drop(plan.iter_from(11).unwrap());
    let got = collect(&plan, 11);
    // Indices 10, 11, 12 are x, y, z; then the mask from 13.
    assert_eq!(got[0], (11, b"y".to_vec()));
    assert_eq!(got[1], (12, b"z".to_vec()));
    assert_eq!(got[2], (13, b"a0".to_vec()));
    assert_eq!(got.len(), 2 + 10);
    // The stream is gone now: a second pass says so instead of yielding something else.
    let err = plan
        .iter_from(0)
        .unwrap()
        .find_map(Result::err)
        .expect("second read of stdin");
    assert!(err.to_string().contains("only once"), "{err}");
}

#[test]
fn plan_stops_when_a_wordlist_changes() {
    let mut f = words_file();
    let mut plan = Plan::new();
    plan.push(Box::new(Wordlist::open(f.path()).unwrap()));
    f.write_all(b"more\n").unwrap();
    f.flush().unwrap();
    assert!(matches!(plan.iter_from(0), Err(GuessError::Changed { .. })));
}

#[test]
fn fingerprint_changes_with_the_inputs() {
    let f = words_file();
    let a = mixed_plan(&f).fingerprint();
    assert_eq!(a, mixed_plan(&f).fingerprint());
    let mut p = Plan::new();
    p.push(mask("?d?d"));
    let mut q = Plan::new();
    q.push(mask("?d?l"));
    assert_ne!(p.fingerprint(), q.fingerprint());
    // Same text, other custom charset.
    let one = |set: &str| {
        let mut p = Plan::new();
        p.push(Box::new(MaskSource::new(
            Mask::parse("?1", [Some(set), None, None, None]).unwrap(),
        )));
        p.fingerprint()
    };
    assert_ne!(one("ab"), one("ac"));
    let mut r = Plan::new();
    r.push(Box::new(PinSource::new()));
    assert_ne!(r.fingerprint(), p.fingerprint());
}

#[test]
fn shard_parsing() {
    assert_eq!("2/4".parse::<Shard>().unwrap(), Shard { k: 2, n: 4 });
    assert_eq!(" 1/1 ".parse::<Shard>().unwrap(), Shard::ALL);
    for bad in [
        "",
        "1",
        "0/4",
        "5/4",
        "1/0",
        "a/4",
        "1/b",
        "+1/4",
        "1/4/5",
        "-1/4",
        "99999999999999999999/1",
    ] {
        let e = bad.parse::<Shard>().unwrap_err().to_string();
        assert!(e.contains("shard") && e.contains("K/N"), "{bad}: {e}");
    }
    assert!("0/4"
        .parse::<Shard>()
        .unwrap_err()
        .to_string()
        .contains("from 1"));
    assert!("5/4"
        .parse::<Shard>()
        .unwrap_err()
        .to_string()
        .contains("larger"));
}

#[test]
fn a_long_bad_mask_is_quoted_short_and_its_column_given() {
    let long = format!("{}?q", "é".repeat(100));
    let e = Mask::parse(&long, [None; 4]).unwrap_err().to_string();
    assert!(e.contains("...") && e.contains("column 201"), "{e}");
    assert!(
        e.chars().count() < 200,
        "{} characters: {e}",
        e.chars().count()
    );
    let e = Mask::parse("?q", [None; 4]).unwrap_err().to_string();
    assert!(e.starts_with("mask \"?q\", column 1:"), "{e}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Every index is owned by exactly one shard of N; next_owned and count agree with owns.
    #[test]
    fn shards_partition_the_stream(n in 1u64..12, i in 0u64..10_000, len in 0u64..200) {
        let shards: Vec<Shard> = (1..=n).map(|k| Shard::new(k, n).unwrap()).collect();
        prop_assert_eq!(shards.iter().filter(|s| s.owns(i)).count(), 1);
        for s in &shards {
            let next = s.next_owned(i).unwrap();
            prop_assert!(next >= i && s.owns(next) && (i..next).all(|j| !s.owns(j)));
            prop_assert_eq!(s.count(len), (0..len).filter(|&j| s.owns(j)).count() as u64);
        }
        prop_assert_eq!(shards.iter().map(|s| s.count(len)).sum::<u64>(), len);
    }

    /// Shards of a real plan: their guesses together are the whole stream, each once.
    #[test]
    fn shards_of_a_plan_cover_it_once(n in 1u64..7) {
        let f = words_file();
        let plan = mixed_plan(&f);
        let all = collect(&plan, 0);
        let mut merged: Vec<(u64, Guess)> = Vec::new();
        for k in 1..=n {
            let s = Shard::new(k, n).unwrap();
            merged.extend(collect(&plan, 0).into_iter().filter(|(i, _)| s.owns(*i)));
        }
        merged.sort();
        prop_assert_eq!(merged, all);
    }

    /// Any text parses as a shard or gives an error, never a panic; a parsed one round-trips.
    #[test]
    fn shard_parse_never_panics(text in ".{0,12}") {
        if let Ok(s) = text.parse::<Shard>() {
            prop_assert!(1 <= s.k && s.k <= s.n);
            prop_assert_eq!(s.to_string().parse::<Shard>().unwrap(), s);
        }
    }

    /// Hostile masks and custom charsets: an error or a mask, never a panic; a mask's nth
    /// agrees with its iterator and its iterator resumes exactly.
    #[test]
    fn masks_never_panic(text in "[?a-z1-5lLudsahHb ]{0,8}",
                         c1 in proptest::option::of("[?a-z1-4ldu]{0,4}"),
                         c2 in proptest::option::of("[?a-z1-4ldu]{0,4}"),
                         start in 0u64..3000) {
        if let Ok(m) = Mask::parse(&text, [c1.as_deref(), c2.as_deref(), None, None]) {
            prop_assert!(m.width() <= mask::MAX_POSITIONS);
            if m.len() <= 5000 {
                let all: Vec<_> = m.iter_from(0).collect();
                prop_assert_eq!(all.len() as u64, m.len());
                let tail: Vec<_> = m.iter_from(start).collect();
                prop_assert_eq!(&tail[..], &all[(start as usize).min(all.len())..]);
                if let Some(g) = m.nth(start) {
                    prop_assert_eq!(&g, &all[start as usize]);
                }
            } else {
                let tail: Vec<_> = m.iter_from(start).take(3).collect();
                for (k, g) in tail.iter().enumerate() {
                    prop_assert_eq!(Some(g.clone()), m.nth(start + k as u64));
                }
            }
        }
    }

    /// The likeliest-first order of hostile masks: a bijection onto the mask's guesses, and
    /// `position_of` is its inverse, from any index.
    #[test]
    fn likeliest_order_is_exact(text in "[?a-z1-2ldus ]{0,8}",
                                c1 in proptest::option::of("[?a-zA-Z0-9ldu]{0,6}"),
                                c2 in proptest::option::of("[?a-z1ldu]{0,4}"),
                                start in 0u64..3000) {
        if let Ok(m) = Mask::parse(&text, [c1.as_deref(), c2.as_deref(), None, None]) {
            let Some(l) = crate::markov::Likeliest::new(m.positions()) else {
                return Ok(());
            };
            prop_assert_eq!(l.len(), m.len());
            if m.len() <= 3000 {
                let mut ours: Vec<_> = (0..l.len()).map(|i| l.nth(i).unwrap()).collect();
                for (i, g) in ours.iter().enumerate() {
                    prop_assert_eq!(l.position_of(g), Some(i as u64));
                }
                let mut plain: Vec<_> = m.iter_from(0).collect();
                ours.sort();
                plain.sort();
                prop_assert_eq!(ours, plain);
            } else {
                for i in start..start + 20 {
                    let g = l.nth(i % l.len()).unwrap();
                    prop_assert_eq!(l.position_of(&g), Some(i % l.len()));
                }
            }
            prop_assert_eq!(l.nth(l.len()), None);
            prop_assert_eq!(l.position_of(b"\xff"), None);
        }
    }

    /// Masks and charsets of any text at all: an error or a mask, never a panic.
    #[test]
    fn masks_of_any_text(text in any::<String>(), c1 in any::<Option<String>>(),
                         c3 in any::<Option<String>>(), i in any::<u64>()) {
        if let Ok(m) = Mask::parse(&text, [c1.as_deref(), None, c3.as_deref(), None]) {
            let _ = m.nth(i % m.len());
            let _ = MaskSource::with_increment(m, Some(1), None).map(|s| s.iter_from(i).map(|mut it| it.next()));
        }
    }

    /// Increment masks resume exactly too.
    #[test]
    fn increment_masks_resume(min in 1usize..4, extra in 0usize..3, start in 0u64..1200) {
        let m = Mask::parse("?d?h?1?d", [Some("xy"), None, None, None]).unwrap();
        let max = (min + extra).min(4);
        let src = MaskSource::with_increment(m, Some(min), Some(max)).unwrap();
        let all: Vec<_> = src.iter_from(0).unwrap().map(Result::unwrap).collect();
        prop_assert_eq!(all.len() as u64, src.len().unwrap());
        let tail: Vec<_> = src.iter_from(start).unwrap().map(Result::unwrap).collect();
        prop_assert_eq!(&tail[..], &all[(start as usize).min(all.len())..]);
    }

    /// Any bytes as a wordlist: counted length equals what is read, resume is exact, nothing
    /// empty or over-long comes out, and each line loses one '\r' before its '\n'.
    #[test]
    fn wordlists_of_any_bytes(bytes in proptest::collection::vec(
            proptest::sample::select(b"ab\r\n\xff ".to_vec()), 0..400),
                              start in 0u64..100) {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&bytes).unwrap();
        f.flush().unwrap();
        let w = Wordlist::open(f.path()).unwrap();
        let all: Vec<_> = w.iter_from(0).unwrap().map(Result::unwrap).collect();
        prop_assert_eq!(all.len() as u64, w.len().unwrap());
        let tail: Vec<_> = w.iter_from(start).unwrap().map(Result::unwrap).collect();
        prop_assert_eq!(&tail[..], &all[(start as usize).min(all.len())..]);
        for word in &all {
            prop_assert!(!word.is_empty() && word.len() <= MAX_LEN && !word.contains(&b'\n'));
        }
        // The same lines as a plain split, less the empty ones.
        let want: Vec<Vec<u8>> = bytes
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l).to_vec())
            .filter(|l| !l.is_empty() && l.len() <= MAX_LEN)
            .collect();
        prop_assert_eq!(all, want);
    }

    /// Plans of several sources resume exactly at any index.
    #[test]
    fn plans_resume_exactly(picks in proptest::collection::vec(0usize..5, 1..5), start in 0u64..400) {
        let mut plan = Plan::new();
        for p in &picks {
            let s: Box<dyn Source> = match p {
                0 => mask("?d?d"),
                1 => Box::new(CommonSource::top(7)),
                2 => Box::new(List(vec!["one", "two", "three"])),
                3 => Box::new(List(vec![])),
                _ => Box::new(RulesSource::new(
                    Box::new(List(vec!["ab", "AB", "x"])),
                    Rules::parse(":\nu\nl\n<1\n$1", "r").unwrap(),
                ).unwrap()),
            };
            plan.push(s);
        }
        let all = collect(&plan, 0);
        let want: Vec<_> = all.iter().filter(|(i, _)| *i >= start).cloned().collect();
        prop_assert_eq!(collect(&plan, start), want);
        prop_assert!(all.iter().all(|(i, _)| *i < plan.len().unwrap()));
    }
}

#[test]
fn pins_and_common_resume_exactly() {
    for src in [
        Box::new(PinSource::new()) as Box<dyn Source>,
        Box::new(CommonSource::new()),
    ] {
        let all: Vec<_> = src.iter_from(0).unwrap().map(Result::unwrap).collect();
        assert_eq!(all.len() as u64, src.len().unwrap());
        let n = all.len() as u64;
        for start in [1, 7, n / 3, n / 2 + 1, n - 1, n, n + 5] {
            let tail: Vec<_> = src
                .iter_from(start)
                .unwrap()
                .take(50)
                .map(Result::unwrap)
                .collect();
            let from = (start as usize).min(all.len());
            assert_eq!(
                tail[..],
                all[from..(from + 50).min(all.len())],
                "{} {start}",
                src.name()
            );
        }
    }
}

#[test]
fn chunks_count_with_shards_and_clip_to_the_stream() {
    let all = Chunk::ALL;
    assert_eq!(all.total(Shard::ALL, Some(10)), Some(10));
    assert_eq!(all.total(Shard::ALL, None), None);
    let c = Chunk::new(5, Some(10));
    assert_eq!(c.end(), Some(15));
    assert_eq!(c.end_in(Some(12)), Some(12));
    assert_eq!(c.end_in(None), Some(15));
    assert!(c.contains(5) && c.contains(14) && !c.contains(4) && !c.contains(15));
    // Shard 2/3 owns 1, 4, 7, 10, 13, 16: in [5, 15) that is 7, 10, 13.
    let s = Shard::new(2, 3).unwrap();
    assert_eq!(c.total(s, Some(100)), Some(3));
    assert_eq!(c.owned(s, 0, 11), 2);
    // Every shard's share of a chunk adds up to the chunk.
    for n in 1..5 {
        let sum: u64 = (1..=n)
            .map(|k| c.total(Shard::new(k, n).unwrap(), Some(100)).unwrap())
            .sum();
        assert_eq!(sum, 10);
    }
    assert_eq!(Chunk::new(3, Some(u64::MAX)).end(), Some(u64::MAX));
    assert_eq!(
        (
            all.to_string(),
            c.to_string(),
            Chunk::new(7, None).to_string()
        ),
        ("all".into(), "5+10".into(), "7..".into())
    );
}
