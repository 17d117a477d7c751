//! `--wider`: the wider search the web app offers when the likeliest guesses are used up, on the
//! command line too, from the same library plan.

use std::process::Command;

fn candidates(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_sesame"))
        .arg("candidates")
        .args(args)
        .env(
            "SESAME_HOME",
            std::env::temp_dir().join("sesame-wider-test"),
        )
        .output()
        .unwrap()
}

#[test]
fn wider_puts_every_four_digits_after_each_word_likeliest_first() {
    let out = candidates(&["--word", "luna", "--wider"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 2 * (10_000 - 87));
    assert_eq!(&lines[..2], ["luna1234", "Luna1234"]);
    assert!(lines.contains(&"Luna0812"));
    assert!(
        !lines.contains(&"luna1990"),
        "years belong to the first plan"
    );
}

#[test]
fn wider_needs_words_and_stands_alone() {
    let none = candidates(&["--wider"]);
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("--word"));
    let mixed = candidates(&["--word", "luna", "--wider", "--common"]);
    assert_eq!(mixed.status.code(), Some(2));
}
