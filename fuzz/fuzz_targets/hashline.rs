//! Any text as a `$itunes_backup$` hash line; an accepted line prints back to the same line.
//! The same text as a hash file (John's `name:hash:::` lines, bad lines skipped): every line
//! kept parses again from its hash text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sesame_backup::HashLine;

fuzz_target!(|data: &[u8]| {
    // Hash lines come from files the user gives; read them as UTF-8 the way the CLI does.
    let text = String::from_utf8_lossy(data);
    for line in text.lines() {
        let Ok(h) = line.parse::<HashLine>() else {
            continue;
        };
        let shown = h.to_string();
        let back: HashLine = shown.parse().expect("a printed hash line parses");
        assert_eq!(back, h, "hash line changed in a round trip");
        assert!(matches!(h.hashcat_mode(), 14700 | 14800));
        let kdf = h.kdf_params();
        assert_eq!(kdf.dp.is_some(), h.version == 10);
    }
    let file = sesame_backup::hashline::parse_hash_file(&text);
    let mut last = 0;
    for l in &file.lines {
        assert!(l.number > last, "line numbers go up");
        last = l.number;
        assert_eq!(l.text.parse::<HashLine>().ok().as_ref(), Some(&l.hash));
    }
});
