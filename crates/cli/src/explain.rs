//! Library errors in plain words, with what to do. The libraries say what went wrong; this
//! is the one place that says it to a person.

use crate::output::quote;
use sesame_backup::BackupError;
use std::io::ErrorKind;
use std::path::Path;

/// How to let the terminal read a folder macOS protects (the first thing a Mac user meets).
pub fn full_disk_access() -> &'static str {
    "On a Mac, the backup folder is protected: open System Settings > Privacy & Security > \
     Full Disk Access, turn it on for your terminal app (Terminal, iTerm), then quit and \
     reopen the terminal and run the command again"
}

/// Is this a place where the macOS hint helps?
fn mac_hint_applies(path: &Path) -> bool {
    cfg!(target_os = "macos") || path.to_string_lossy().contains("MobileSync")
}

/// "permission denied" for `path`, with the macOS hint where it applies.
pub fn permission_denied(path: &Path) -> String {
    let mut s = format!(
        "{}: permission denied: Sesame may not read it",
        path.display()
    );
    if mac_hint_applies(path) {
        s.push_str(". ");
        s.push_str(full_disk_access());
    } else {
        s.push_str(" (check its owner and permissions, or run as the user who owns it)");
    }
    s
}

/// The hint for a path that is not a backup folder.
fn give_the_folder() -> &'static str {
    "give the backup folder, the one named after the device's UDID (`sesame list` shows them)"
}

/// An I/O error in words. `reading`: the error came from reading the backup (so damage
/// means "copy it again") rather than writing the output (so a full disk is likely).
fn io_words(path: &Path, e: &std::io::Error, reading: bool) -> String {
    match e.kind() {
        ErrorKind::PermissionDenied => permission_denied(path),
        ErrorKind::NotFound => format!("{}: no such file or folder", path.display()),
        ErrorKind::StorageFull | ErrorKind::QuotaExceeded => format!(
            "{}: the disk is full; free some space (or choose another --out) and run the command again with --force",
            path.display()
        ),
        ErrorKind::UnexpectedEof | ErrorKind::InvalidData if reading => format!(
            "{}: the file is cut short or damaged; copy the whole backup folder again from where it was made",
            path.display()
        ),
        kind => format!("{}: {}", path.display(), plain_kind(e, kind)),
    }
}

/// The error's own words when it has some, else its kind: never Rust's Debug text.
fn plain_kind(e: &std::io::Error, kind: ErrorKind) -> String {
    let s = e.to_string();
    if s.contains("Error {") || s.contains("kind:") {
        kind.to_string()
    } else {
        s
    }
}

/// A backup-library error about the backup the user named (`given`), in plain words.
pub fn backup_error(e: BackupError, given: &Path) -> anyhow::Error {
    let msg = match &e {
        BackupError::Io { path, source } if source.kind() == ErrorKind::NotFound => {
            if path == given {
                format!(
                    "{}: no such file or folder; {}",
                    path.display(),
                    give_the_folder()
                )
            } else {
                io_words(path, source, true)
            }
        }
        BackupError::Io { path, source } => io_words(path, source, true),
        BackupError::Plist { path, reason } => format!(
            "{} is damaged: {reason}. Copy the whole backup folder again from where it was made",
            path.display()
        ),
        BackupError::NotABackup { path } => format!(
            "{}: not a backup folder: it has no Manifest.plist, Manifest.db or Info.plist; {}",
            path.display(),
            give_the_folder()
        ),
        BackupError::NotABackupFile { path, folder } => {
            // "." says nothing to a person: name the folder it stands for.
            let folder = std::fs::canonicalize(folder).unwrap_or_else(|_| folder.clone());
            format!(
                "{} is a file, not a backup: give the backup folder instead (the one that holds \
                 Manifest.plist; this file is in {})",
                path.display(),
                quote(&folder)
            )
        }
        _ => return output_error(e),
    };
    anyhow::anyhow!(msg)
}

/// An error from writing the output (or anything else), in plain words.
pub fn output_error(e: BackupError) -> anyhow::Error {
    match e {
        BackupError::Io { path, source } => anyhow::anyhow!(io_words(&path, &source, false)),
        BackupError::OutputNotEmpty { path } => anyhow::anyhow!(
            "{}: the output folder is not empty (choose a new folder, or add --force to write into it)",
            path.display()
        ),
        other => anyhow::Error::new(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_debug_text_and_the_right_hint() {
        let p = Path::new("/x/Info.plist");
        let e = backup_error(
            BackupError::Io {
                path: p.into(),
                source: std::io::Error::from(ErrorKind::UnexpectedEof),
            },
            Path::new("/x"),
        )
        .to_string();
        assert!(e.contains("cut short"), "{e}");
        assert!(!e.contains("Error {"), "{e}");
        // The "give the folder" hint only when what the user gave is missing.
        let e = backup_error(
            BackupError::Io {
                path: "/x/Manifest.db".into(),
                source: std::io::Error::from(ErrorKind::NotFound),
            },
            Path::new("/x"),
        )
        .to_string();
        assert!(!e.contains("UDID"), "{e}");
        let e = backup_error(
            BackupError::Io {
                path: "/y".into(),
                source: std::io::Error::from(ErrorKind::NotFound),
            },
            Path::new("/y"),
        )
        .to_string();
        assert!(e.contains("UDID"), "{e}");
        let e = permission_denied(Path::new(
            "/Users/a/Library/Application Support/MobileSync/Backup",
        ));
        assert!(e.contains("Full Disk Access"), "{e}");
    }
}
