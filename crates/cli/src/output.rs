//! Shared printing helpers: error chains, sizes, JSON.

/// Standard output failed. Closed early by the reader (`| head`): stop quietly, the reader
/// has what it wanted. Any other failure (a full disk behind `>`): say so, exit 2.
pub fn stdout_failed(e: std::io::Error) -> ! {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        std::process::exit(0);
    }
    eprintln!("sesame: error: cannot write to standard output: {e}");
    std::process::exit(2);
}

/// One line: the error and its causes, joined with ": ".
pub fn error_chain(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let s = cause.to_string();
        if !parts.iter().any(|p| p.contains(&s)) {
            parts.push(s);
        }
    }
    parts.join(": ")
}

/// Human-readable byte count (base 1000, like Finder).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u + 1 < UNITS.len() {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Human-readable duration, e.g. "36 min", "2.5 h", "14 days".
pub fn human_duration(secs: f64) -> String {
    if !secs.is_finite() {
        return "forever".into();
    }
    if secs < 1.0 {
        format!("{:.0} ms", secs * 1000.0)
    } else if secs < 90.0 {
        format!("{secs:.0} s")
    } else if secs < 90.0 * 60.0 {
        format!("{:.0} min", secs / 60.0)
    } else if secs < 48.0 * 3600.0 {
        format!("{:.1} h", secs / 3600.0)
    } else if secs < 3.0 * 365.0 * 86400.0 {
        format!("{:.0} days", secs / 86400.0)
    } else {
        format!("{:.0} years", secs / (365.0 * 86400.0))
    }
}

/// Thousands separators: 10000 -> "10,000".
pub fn group(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A path as it must be typed in a shell: quoted when it holds spaces or other characters
/// the shell would take apart (the default macOS backup folder has a space).
pub fn quote(p: impl AsRef<std::ffi::OsStr>) -> String {
    let s = p.as_ref().to_string_lossy();
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c));
    if plain {
        s.into_owned()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn quoting() {
        assert_eq!(super::quote("/a/b"), "/a/b");
        assert_eq!(
            super::quote("/Users/x/Library/Application Support/MobileSync/Backup/00"),
            "'/Users/x/Library/Application Support/MobileSync/Backup/00'"
        );
        assert_eq!(super::quote("it's"), "'it'\\''s'");
    }
}
