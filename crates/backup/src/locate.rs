//! Where iTunes and Finder keep backups, and which folders under them are backups.

use std::path::{Path, PathBuf};

/// The default backup folders for this user on macOS and both Windows iTunes flavours.
/// Folders that do not exist are left out; one that cannot even be looked at (macOS protects
/// the MobileSync folder) is kept, so that `scan` can say it could not be read.
pub fn default_roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Some(home) = std::env::var_os("HOME") {
        roots.push(PathBuf::from(&home).join("Library/Application Support/MobileSync/Backup"));
    }
    if let Some(appdata) = std::env::var_os("APPDATA") {
        roots.push(
            PathBuf::from(appdata)
                .join("Apple Computer")
                .join("MobileSync")
                .join("Backup"),
        );
    }
    if let Some(profile) = std::env::var_os("USERPROFILE") {
        roots.push(
            PathBuf::from(&profile)
                .join("Apple")
                .join("MobileSync")
                .join("Backup"),
        );
        roots.push(PathBuf::from(profile).join("AppData/Roaming/Apple Computer/MobileSync/Backup"));
    }
    roots.sort();
    roots.dedup();
    roots
        .into_iter()
        .filter(|r| match std::fs::metadata(r) {
            Ok(m) => m.is_dir(),
            Err(e) => e.kind() != std::io::ErrorKind::NotFound,
        })
        .collect()
}

/// What a look into one folder found: the backups, and the folders that could not be read
/// (with why), which must be named, never taken for "no backups".
#[derive(Debug, Default)]
pub struct Scan {
    pub backups: Vec<PathBuf>,
    pub unreadable: Vec<(PathBuf, std::io::Error)>,
}

/// Backups under `root`: the root itself if it is one, else its direct subfolders that are.
pub fn scan(root: &Path) -> Scan {
    let mut scan = Scan::default();
    if is_backup_dir(root) {
        scan.backups.push(root.to_path_buf());
        return scan;
    }
    let rd = match std::fs::read_dir(root) {
        Ok(rd) => rd,
        Err(e) => {
            scan.unreadable.push((root.to_path_buf(), e));
            return scan;
        }
    };
    for ent in rd {
        let ent = match ent {
            Ok(e) => e,
            Err(e) => {
                scan.unreadable.push((root.to_path_buf(), e));
                continue;
            }
        };
        let p = ent.path();
        if !p.is_dir() {
            continue;
        }
        if is_backup_dir(&p) {
            scan.backups.push(p);
        } else if let Err(e) = std::fs::read_dir(&p) {
            // A folder we may not look into could be a backup: say so.
            scan.unreadable.push((p, e));
        }
    }
    scan.backups.sort();
    scan
}

/// Does this folder look like one backup?
pub fn is_backup_dir(dir: &Path) -> bool {
    [
        "Manifest.plist",
        "Manifest.db",
        "Info.plist",
        "Manifest.mbdb",
    ]
    .iter()
    .any(|f| dir.join(f).is_file())
}

/// The backups under `root` (see `scan`, which also says what could not be read).
pub fn find_backups(root: &Path) -> Vec<PathBuf> {
    scan(root).backups
}
