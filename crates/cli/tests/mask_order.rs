//! Masks run likeliest first by default, and in hashcat's plain order with --markov-disable.

use std::process::Command;

fn rank(args: &[&str], wanted: &str) -> Option<usize> {
    let out = Command::new(env!("CARGO_BIN_EXE_sesame"))
        .arg("candidates")
        .args(args)
        .env(
            "SESAME_HOME",
            std::env::temp_dir().join("sesame-mask-order-test"),
        )
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .position(|l| l == wanted)
        .map(|i| i + 1)
}

#[test]
fn likeliest_first_by_default_plain_order_on_request() {
    let likely = rank(&["-m", "?l?l?lter?d"], "hunter2").unwrap();
    let plain = rank(&["-m", "?l?l?lter?d", "--markov-disable"], "hunter2").unwrap();
    assert_eq!(
        plain, 52_653,
        "the odometer order: h-u-n in base 26, then the digit"
    );
    assert!(likely < 10_000, "hunter2 at {likely}");
    // Both orders are the same guesses.
    let all = |extra: &[&str]| {
        let mut args = vec!["-m", "?d?l?d"];
        args.extend_from_slice(extra);
        let out = Command::new(env!("CARGO_BIN_EXE_sesame"))
            .arg("candidates")
            .args(&args)
            .output()
            .unwrap();
        let mut v: Vec<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        v.sort();
        v
    };
    let a = all(&[]);
    assert_eq!(a.len(), 2600);
    assert_eq!(a, all(&["--markov-disable"]));
}
