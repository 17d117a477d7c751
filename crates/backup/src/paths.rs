//! Turning untrusted (domain, relativePath) pairs into paths below an output folder, safely.
//!
//! Nothing from a backup may write outside the output folder: `..`, absolute paths, NUL,
//! drive prefixes, symlinked parents and symlinks pointing outside are all refused.

use std::path::{Component, Path, PathBuf};

/// Why a path was refused, in words.
pub type Refusal = String;

fn check_component(c: &str, what: &str) -> Result<(), Refusal> {
    if c.contains('\0') {
        return Err(format!("{what} contains a NUL byte"));
    }
    if c == ".." {
        return Err(format!("{what} climbs out with '..'"));
    }
    if cfg!(windows) && (c.contains('\\') || c.contains(':')) {
        return Err(format!(
            "{what} contains '\\' or ':' (not a plain name on Windows)"
        ));
    }
    // Belt and braces: the component must parse as one normal path component.
    let mut comps = Path::new(c).components();
    match (comps.next(), comps.next()) {
        (Some(Component::Normal(_)), None) => Ok(()),
        _ => Err(format!("{what} {c:?} is not a plain name")),
    }
}

/// `domain/relativePath` as a relative path below the output folder, or why it is refused.
/// Empty and `.` components are dropped; an empty relativePath is the domain folder itself.
pub fn safe_relative(domain: &str, relative_path: &str) -> Result<PathBuf, Refusal> {
    if domain.is_empty() {
        return Err("the domain is empty".into());
    }
    if domain.contains('/') || domain == "." {
        return Err(format!("the domain {domain:?} is not a plain name"));
    }
    check_component(domain, "the domain")?;
    if relative_path.starts_with('/') {
        return Err("the path is absolute".into());
    }
    if relative_path.contains('\0') {
        return Err("the path contains a NUL byte".into());
    }
    let mut out = PathBuf::from(domain);
    for c in relative_path.split('/') {
        if c.is_empty() || c == "." {
            continue;
        }
        check_component(c, "the path")?;
        out.push(c);
    }
    Ok(out)
}

/// May a symlink at `link_rel` (below the output folder) point at `target`? Only relative
/// targets that descend from the link's folder (no `..`, no absolute path, no NUL) are
/// allowed: those stay inside the output folder whatever other links exist.
pub fn symlink_target_ok(target: &str) -> Result<(), Refusal> {
    if target.is_empty() {
        return Err("the symlink target is empty".into());
    }
    if target.contains('\0') {
        return Err("the symlink target contains a NUL byte".into());
    }
    if target.starts_with('/') || Path::new(target).is_absolute() || Path::new(target).has_root() {
        return Err(format!(
            "the symlink points outside the output folder ({target})"
        ));
    }
    for c in target.split('/') {
        if c.is_empty() || c == "." {
            continue;
        }
        if c == ".." {
            return Err(format!(
                "the symlink target climbs out with '..' ({target})"
            ));
        }
        check_component(c, "the symlink target")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_pass() {
        assert_eq!(
            safe_relative("HomeDomain", "Library/SMS/sms.db").unwrap(),
            Path::new("HomeDomain/Library/SMS/sms.db")
        );
        assert_eq!(
            safe_relative("HomeDomain", "").unwrap(),
            Path::new("HomeDomain")
        );
        assert_eq!(safe_relative("D", "a//./b").unwrap(), Path::new("D/a/b"));
        assert_eq!(
            safe_relative("D", "..a/b..").unwrap(),
            Path::new("D/..a/b..")
        );
    }

    #[test]
    fn traversal_is_refused() {
        for (d, p) in [
            ("D", "../evil"),
            ("D", "a/../../evil"),
            ("D", "/etc/passwd"),
            ("D", "a\0b"),
            ("..", "x"),
            ("", "x"),
            (".", "x"),
            ("a/b", "x"),
            ("/abs", "x"),
            ("D\0", "x"),
        ] {
            assert!(safe_relative(d, p).is_err(), "{d:?} {p:?}");
        }
    }

    #[test]
    fn symlink_targets() {
        assert!(symlink_target_ok("b/c").is_ok());
        assert!(symlink_target_ok("/var/mobile").is_err());
        assert!(symlink_target_ok("../x").is_err());
        assert!(symlink_target_ok("a/../../x").is_err());
        assert!(symlink_target_ok("").is_err());
    }

    proptest::proptest! {
        #[test]
        fn accepted_paths_stay_below(d in "[a-zA-Z./\\\\\0-]{0,8}", p in "[a./\\\\\0b]{0,16}") {
            if let Ok(rel) = safe_relative(&d, &p) {
                proptest::prop_assert!(rel.components().all(|c| matches!(c, Component::Normal(_))));
                proptest::prop_assert!(!rel.as_os_str().is_empty());
            }
        }
    }
}
