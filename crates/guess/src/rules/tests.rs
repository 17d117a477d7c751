use super::*;
use proptest::prelude::*;

fn apply(rule: &str, word: &[u8]) -> Option<Vec<u8>> {
    Rule::parse(rule).unwrap().apply(word)
}

/// Known answers: the examples of hashcat's rule documentation (hashcat wiki,
/// "rule_based_attack"), input "p@ssW0rd" unless given.
#[test]
fn hashcat_documented_examples() {
    let cases: &[(&str, &[u8], &[u8])] = &[
        (":", b"p@ssW0rd", b"p@ssW0rd"),
        ("l", b"p@ssW0rd", b"p@ssw0rd"),
        ("u", b"p@ssW0rd", b"P@SSW0RD"),
        ("c", b"p@ssW0rd", b"P@ssw0rd"),
        ("C", b"p@ssW0rd", b"p@SSW0RD"),
        ("t", b"p@ssW0rd", b"P@SSw0RD"),
        ("T3", b"p@ssW0rd", b"p@sSW0rd"),
        ("r", b"p@ssW0rd", b"dr0Wss@p"),
        ("d", b"p@ssW0rd", b"p@ssW0rdp@ssW0rd"),
        ("p2", b"p@ssW0rd", b"p@ssW0rdp@ssW0rdp@ssW0rd"),
        ("f", b"p@ssW0rd", b"p@ssW0rddr0Wss@p"),
        ("{", b"p@ssW0rd", b"@ssW0rdp"),
        ("}", b"p@ssW0rd", b"dp@ssW0r"),
        ("$1", b"p@ssW0rd", b"p@ssW0rd1"),
        ("^1", b"p@ssW0rd", b"1p@ssW0rd"),
        ("[", b"p@ssW0rd", b"@ssW0rd"),
        ("]", b"p@ssW0rd", b"p@ssW0r"),
        ("D3", b"p@ssW0rd", b"p@sW0rd"),
        ("x04", b"p@ssW0rd", b"p@ss"),
        ("O12", b"p@ssW0rd", b"psW0rd"),
        ("i4!", b"p@ssW0rd", b"p@ss!W0rd"),
        ("o3$", b"p@ssW0rd", b"p@s$W0rd"),
        ("'6", b"p@ssW0rd", b"p@ssW0"),
        ("ss$", b"p@ssW0rd", b"p@$$W0rd"),
        ("@s", b"p@ssW0rd", b"p@W0rd"),
        ("z2", b"p@ssW0rd", b"ppp@ssW0rd"),
        ("Z2", b"p@ssW0rd", b"p@ssW0rddd"),
        ("q", b"p@ssW0rd", b"pp@@ssssWW00rrdd"),
        ("k", b"p@ssW0rd", b"@pssW0rd"),
        ("K", b"p@ssW0rd", b"p@ssW0dr"),
        ("*34", b"p@ssW0rd", b"p@sWs0rd"),
        ("L2", b"p@ssW0rd", b"p@\xe6sW0rd"),
        ("R2", b"p@ssW0rd", b"p@9sW0rd"),
        ("+2", b"p@ssW0rd", b"p@tsW0rd"),
        ("-1", b"p@ssW0rd", b"p?ssW0rd"),
        (".1", b"p@ssW0rd", b"psssW0rd"),
        (",1", b"p@ssW0rd", b"ppssW0rd"),
        ("y2", b"p@ssW0rd", b"p@p@ssW0rd"),
        ("Y2", b"p@ssW0rd", b"p@ssW0rdrd"),
        ("E", b"p@ssW0rd w0rld", b"P@ssw0rd W0rld"),
        ("e-", b"p@ssW0rd-w0rld", b"P@ssw0rd-W0rld"),
        ("30;", b"pass;word", b"pass;Word"),
        ("uMl4", b"p@ssW0rd", b"p@ssw0rdP@SSW0RD"),
        ("rMr6", b"p@ssW0rd", b"dr0Wss@pp@ssW0rd"),
        ("lMX428", b"p@ssW0rd", b"p@ssw0rdw0"),
        // Functions chained without spaces, as dive.rule writes them.
        ("rcrT0", b"hello", b"HellO"),
        ("c$1", b"hello", b"Hello1"),
        // A space as the parameter of s: replace ' ' with '_'.
        ("s _", b"a b c", b"a_b_c"),
    ];
    for (rule, word, want) in cases {
        assert_eq!(
            apply(rule, word).as_deref(),
            Some(*want),
            "rule {rule:?} on {:?}",
            String::from_utf8_lossy(word)
        );
    }
}

#[test]
fn rejections() {
    assert_eq!(apply("<5", b"abcdef"), None);
    assert_eq!(apply("<6", b"abcdef").as_deref(), Some(&b"abcdef"[..]));
    assert_eq!(apply(">7", b"abcdef"), None);
    assert_eq!(apply("_6", b"abcdef").as_deref(), Some(&b"abcdef"[..]));
    assert_eq!(apply("_5", b"abcdef"), None);
    assert_eq!(apply("!c", b"abcdef"), None);
    assert_eq!(apply("/z", b"abcdef"), None);
    assert_eq!(apply("(b", b"abcdef"), None);
    assert_eq!(apply(")f", b"abcdef").as_deref(), Some(&b"abcdef"[..]));
    assert_eq!(apply("=2d", b"abcdef"), None);
    assert_eq!(apply("=2c", b"abcdef").as_deref(), Some(&b"abcdef"[..]));
    assert_eq!(apply("%2a", b"abca"), Some(b"abca".to_vec()));
    assert_eq!(apply("%3a", b"abca"), None);
    assert_eq!(apply("lQ", b"abc"), None);
    assert_eq!(apply("uQ", b"abc").as_deref(), Some(&b"ABC"[..]));
}

#[test]
fn out_of_range_positions_leave_the_word() {
    for rule in [
        "TA", "DZ", "x35", "O35", "i9x", "o9x", "'9", "*09", "LZ", "RZ", "+Z", "-Z", ".5", ",9",
        ",0", "y9", "Y9",
    ] {
        assert_eq!(apply(rule, b"abc").as_deref(), Some(&b"abc"[..]), "{rule}");
    }
    // Inserting exactly at the end is in range.
    assert_eq!(apply("i3x", b"abc").as_deref(), Some(&b"abcx"[..]));
    // Empty words: nothing to rotate, swap or duplicate.
    for rule in ["{", "}", "k", "K", "z3", "Z3", "[", "]"] {
        assert_eq!(apply(rule, b"").as_deref(), Some(&b""[..]), "{rule}");
    }
}

#[test]
fn results_over_the_length_limit_are_rejected() {
    let word = vec![b'a'; 200];
    assert_eq!(apply("d", &word), None);
    assert_eq!(apply("p9", &[b'a'; 30]), None);
    assert_eq!(
        apply("$x", &[b'a'; MAX_LEN - 1]).map(|w| w.len()),
        Some(MAX_LEN)
    );
    assert_eq!(apply("$x", &[b'a'; MAX_LEN]), None);
}

#[test]
fn errors_name_line_column_and_function() {
    let e = Rules::parse("# comment\n:\n\n$1 $2\nu W0\n", "my.rule").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("my.rule") && msg.contains("line 5") && msg.contains("column 3"),
        "{msg}"
    );
    assert!(msg.contains("'W'"), "{msg}");
    let msg = Rules::parse("$", "r").unwrap_err().to_string();
    assert!(
        msg.contains("line 1") && msg.contains("'$'") && msg.contains("ends"),
        "{msg}"
    );
    let msg = Rules::parse("Ta", "r").unwrap_err().to_string();
    assert!(
        msg.contains("column 2") && msg.contains("position"),
        "{msg}"
    );
}

#[test]
fn comments_blank_lines_and_crlf() {
    let rules = Rules::parse("# c\r\n\r\n:\r\nu\r\n$1 $2\n", "x").unwrap();
    assert_eq!(rules.len(), 3);
    assert_eq!(rules.rules()[2].apply(b"a").as_deref(), Some(&b"a12"[..]));
}

/// hashcat's best64.rule as Debian's hashcat-data 6.2.6 ships it (hashcat is MIT licensed):
/// it must parse, and give the 77 rules it has.
const BEST64: &str = "## nothing, reverse, case... base stuff\n:\nr\nu\nT0\n\n## simple number append\n$0\n$1\n$2\n$3\n$4\n$5\n$6\n$7\n$8\n$9\n\n## special number append\n$0 $0\n$0 $1\n$0 $2\n$1 $1\n$1 $2\n$1 $3\n$2 $1\n$2 $2\n$2 $3\n$6 $9\n$7 $7\n$8 $8\n$9 $9\n$1 $2 $3\n\n## high frequency append\n$e\n$s\n\n## high frequency overwrite at end\n] $a\n] ] $s\n] ] $a\n] ] $e $r\n] ] $i $e\n] ] ] $o\n] ] ] $y\n] ] ] $1 $2 $3\n] ] ] $m $a $n\n] ] ] $d $o $g\n\n## high frequency prepend\n^1\n^e ^h ^t\n\n## high frequency overwrite at start\no0d\no0m o1a\n\n## leetify\nso0\nsi1\nse3\n\n## simple extracts\nD2\nD2 D2\nD3\nD4\n\n## undouble word\n'5 D3\n'5 $1\n\n## removes suffixes from 'strongified' passwords in dict\n]\n] ]\n] ] ]\n] ] ] d\n] ] D1 ]\n\n## rotates\n+5 ] } } } } '4\nO02 { { { { { {\n} ] ] {\n} } -0 O12\n} } }\n} } } } '4\n} } } } } '5\n} } } } } } Y4 '4 d\n\n## unknown\n*04 +0 '4\n*05 O03 d '3 p1\n+0 +0 +0 +0 +0 +0 +0 +0\n+0 +0 +0 O12\nZ4 '8 O42\nZ5 '6 O31 ] p1\nZ5 *75 '5 { O02\nd O28 Y4 '4 d\nf *A5 '8 O14\np2 '7 p1 O58\nO14 d p2 '6\n";

#[test]
fn best64_parses() {
    let rules = Rules::parse(BEST64, "best64.rule").unwrap();
    assert_eq!(rules.len(), 77);
    // "$1 $2 $3" is there and appends 123.
    assert!(rules
        .rules()
        .iter()
        .any(|r| r.apply(b"pw").as_deref() == Some(&b"pw123"[..])));
}

/// With HASHCAT_RULES_DIR set (e.g. /usr/share/hashcat/rules from Debian's hashcat-data),
/// every rules file there must parse: dive.rule, T0XlC.rule... Skipped without it.
#[test]
fn hashcat_rule_files_parse_when_available() {
    let Some(dir) = std::env::var_os("HASHCAT_RULES_DIR") else {
        return;
    };
    let mut n = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        // InsidePro-HashManager.rule has a bare "z" (no count): hashcat skips that line as
        // invalid too.
        let skip = path
            .file_name()
            .is_some_and(|n| n == "InsidePro-HashManager.rule");
        if path.extension().is_some_and(|e| e == "rule") && !skip {
            let rules = Rules::load(&path).unwrap_or_else(|e| panic!("{e}"));
            for r in rules.rules() {
                r.apply(b"p@ssW0rd");
            }
            n += 1;
        }
    }
    assert!(n > 0, "no .rule files in HASHCAT_RULES_DIR");
}

struct Words(Vec<Vec<u8>>);

impl Source for Words {
    fn name(&self) -> String {
        "test words".into()
    }
    fn len(&self) -> Option<u64> {
        Some(self.0.len() as u64)
    }
    fn iter_from(&self, start: u64) -> Result<GuessIter<'_>, GuessError> {
        let from = start.min(self.0.len() as u64) as usize;
        Ok(Box::new(self.0[from..].iter().cloned().map(Ok)))
    }
    fn fingerprint(&self) -> String {
        "test words".into()
    }
}

#[test]
fn word_major_and_repeats_skipped() {
    let rules = Rules::parse(":\nl\nu\n$1\n<2", "r").unwrap();
    let src =
        RulesSource::new(Box::new(Words(vec![b"abc".to_vec(), b"X".to_vec()])), rules).unwrap();
    assert_eq!(src.len(), Some(10));
    let got: Vec<(u64, Vec<u8>)> = src.indexed_from(0).unwrap().map(Result::unwrap).collect();
    let want: Vec<(u64, Vec<u8>)> = vec![
        (0, b"abc".to_vec()),
        // 1: "l" gives "abc" again, skipped.
        (2, b"ABC".to_vec()),
        (3, b"abc1".to_vec()),
        // 4: "<2" rejects "abc" (longer than 2).
        (5, b"X".to_vec()),
        (6, b"x".to_vec()),
        // 7: "u" gives "X" again, skipped.
        (8, b"X1".to_vec()),
        // 9: "<2" gives "X" again, skipped.
    ];
    assert_eq!(got, want);
    // Starting at slot 7 replays rules 0..7 of "X" so "X" is still a repeat.
    let tail: Vec<_> = src.indexed_from(7).unwrap().map(Result::unwrap).collect();
    assert_eq!(tail, want[5..]);
    assert!(RulesSource::new(
        Box::new(Words(vec![])),
        Rules::parse("# none\n", "e").unwrap()
    )
    .is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any bytes as a rules file: an error or rules, never a panic; rules applied to any word
    /// give nothing longer than MAX_LEN.
    #[test]
    fn hostile_rules_never_panic(text in proptest::collection::vec(any::<u8>(), 0..64),
                                 word in proptest::collection::vec(any::<u8>(), 0..40)) {
        if let Ok(rules) = Rules::parse_bytes(&text, "fuzz") {
            for r in rules.rules() {
                if let Some(out) = r.apply(&word) {
                    prop_assert!(out.len() <= MAX_LEN);
                }
            }
        }
    }

    /// Rules made of valid functions: every line parses and applies without panic.
    #[test]
    fn valid_rules_apply(funcs in proptest::collection::vec(
            (proptest::sample::select(b":lucCtTrdpf{}$^[]DxOio'sz@ZqkK*LR+-.,yYEe3MX46<>_!/()=%Q".to_vec()),
             proptest::collection::vec(proptest::sample::select(b"0123456789ABCZab$ ".to_vec()), 3)), 1..8),
            word in proptest::collection::vec(any::<u8>(), 0..300)) {
        let mut line = Vec::new();
        for (f, params) in &funcs {
            line.push(*f);
            let n = signature(*f).unwrap().len();
            for (k, p) in signature(*f).unwrap().iter().enumerate() {
                line.push(match p { Num => b"0123456789ABCZ"[usize::from(params[k]) % 14], Char => params[k] });
            }
            let _ = n;
        }
        let rule = Rule::parse_bytes(&line).map_err(|e| TestCaseError::fail(format!("{e:?} {:?}", String::from_utf8_lossy(&line))))?;
        if let Some(out) = rule.apply(&word) {
            prop_assert!(out.len() <= MAX_LEN);
        } else if word.len() <= MAX_LEN {
            // Only rejections and length limits reject.
        }
    }

    /// iter_from(i) of words × rules is exactly the suffix of iter_from(0) from slot i.
    #[test]
    fn rules_source_resumes_exactly(words in proptest::collection::vec(proptest::collection::vec(b'a'..=b'd', 0..5), 0..6),
                                    start in 0u64..80) {
        let rules = Rules::parse(":\nl\nu\nc\nr\n$1\n]\n[\n<3\nd\n'2\nsab", "r").unwrap();
        let src = RulesSource::new(Box::new(Words(words)), rules).unwrap();
        let all: Vec<_> = src.indexed_from(0).unwrap().map(Result::unwrap).collect();
        let tail: Vec<_> = src.indexed_from(start).unwrap().map(Result::unwrap).collect();
        let want: Vec<_> = all.iter().filter(|(i, _)| *i >= start).cloned().collect();
        prop_assert_eq!(tail, want);
        prop_assert!(all.windows(2).all(|w| w[0].0 < w[1].0));
        prop_assert!(all.iter().all(|(i, _)| *i < src.len().unwrap()));
        let plain: Vec<_> = src.iter_from(start).unwrap().map(Result::unwrap).collect();
        prop_assert_eq!(plain, all.iter().filter(|(i, _)| *i >= start).map(|(_, g)| g.clone()).collect::<Vec<_>>());
    }
}
