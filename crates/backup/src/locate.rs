//! Where iTunes and Finder keep backups, and which folders under them are backups.

use std::path::{Path, PathBuf};

/// The default backup folders for this user on macOS and both Windows iTunes flavours.
/// Only folders that exist are returned.
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
    roots.into_iter().filter(|r| r.is_dir()).collect()
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

/// Backups under `root`: the root itself if it is one, else its direct subfolders that are.
pub fn find_backups(root: &Path) -> Vec<PathBuf> {
    if is_backup_dir(root) {
        return vec![root.to_path_buf()];
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir(root)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && is_backup_dir(p))
        .collect();
    found.sort();
    found
}
