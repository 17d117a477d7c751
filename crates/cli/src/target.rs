//! TARGET: a backup folder, a Manifest.plist, a hash line, or a file of hash lines.

use anyhow::{bail, Context};
use sesame_backup::{Backup, HashLine};
use std::path::Path;

/// One thing whose password is checked or searched for.
pub struct Target {
    /// Where it came from, for messages: a path, or "line 3 of hashes.txt".
    pub label: String,
    pub line: HashLine,
}

/// Resolves TARGET into one or more hash lines.
pub fn resolve(target: &str) -> anyhow::Result<Vec<Target>> {
    if target.starts_with("$itunes_backup$") {
        let line = target
            .parse::<HashLine>()
            .with_context(|| "the hash line on the command line is not valid".to_string())?;
        return Ok(vec![Target {
            label: "hash line".into(),
            line,
        }]);
    }
    let path = Path::new(target);
    match std::fs::metadata(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            bail!("{target}: no such file or folder (expected a backup folder, a Manifest.plist, or a $itunes_backup$ hash line)")
        }
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            bail!(crate::explain::permission_denied(path))
        }
        Err(e) => bail!("{target}: {e}"),
    }
    if path.is_dir() || path.file_name().is_some_and(|n| n == "Manifest.plist") {
        let backup = Backup::open(path).map_err(|e| crate::explain::backup_error(e, path))?;
        backup
            .require_known_encryption()
            .map_err(|e| crate::explain::backup_error(e, path))?;
        if !backup.encrypted {
            bail!("{target}: this backup is not encrypted, so it has no password to check or find");
        }
        return Ok(vec![Target {
            label: path.display().to_string(),
            line: backup.hash_line()?,
        }]);
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {target}"))?;
    if bytes.starts_with(b"bplist") || bytes.starts_with(b"<?xml") {
        // Another plist (Info.plist, Status.plist) is not a backup: name the folder to give.
        let e = Backup::open(path)
            .err()
            .unwrap_or(sesame_backup::BackupError::NotABackup { path: path.into() });
        return Err(crate::explain::backup_error(e, path));
    }
    let text = String::from_utf8_lossy(&bytes);
    // As hashcat and John read hash files: `hash`, `name:hash` or `name:hash:::`; a bad line
    // is skipped with a warning, a file with no good line is an error.
    let file = sesame_backup::hashline::parse_hash_file(&text);
    if file.lines.is_empty() {
        match file.skipped.first() {
            Some((n, e)) => bail!(
                "{target}: no valid $itunes_backup$ hash line in this file (line {n}: {e}); give the file `sesame hash BACKUP` writes, or the backup folder"
            ),
            None => bail!("{target}: no $itunes_backup$ hash lines in this file"),
        }
    }
    const SHOWN: usize = 10;
    for (n, e) in file.skipped.iter().take(SHOWN) {
        eprintln!("sesame: warning: {target} line {n}: not a valid $itunes_backup$ hash line ({e}); skipped");
    }
    if file.skipped.len() > SHOWN {
        eprintln!(
            "sesame: warning: {target}: {} more lines skipped",
            file.skipped.len() - SHOWN
        );
    }
    Ok(file
        .lines
        .into_iter()
        .map(|l| Target {
            label: format!("{target} line {}", l.number),
            line: l.hash,
        })
        .collect())
}
