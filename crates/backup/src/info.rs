//! What a backup is: device, iOS version, dates, encryption, completeness — from its plists.

use crate::error::{BackupError, Result};
use plist::{Dictionary, Value};
use std::path::Path;

/// Reads a plist (binary or XML) as a dictionary. Absent file: Ok(None). An empty
/// Status.plist (no bytes, or only white space) is taken as absent too: backups and the
/// tools that copy them leave it so, and it means "unknown", not "damaged".
pub fn read_plist_dict(path: &Path) -> Result<Option<Dictionary>> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(BackupError::io(path, e)),
    };
    if path.file_name().is_some_and(|n| n == "Status.plist")
        && bytes.iter().all(u8::is_ascii_whitespace)
    {
        return Ok(None);
    }
    parse_plist_dict(&bytes, path).map(Some)
}

/// Did the backup finish, by Status.plist? `SnapshotState` "finished": yes; another state:
/// no; no `SnapshotState` (an empty or partial Status.plist): unknown.
pub fn snapshot_complete(status: &Dictionary) -> Option<bool> {
    get_str(status, "SnapshotState").map(|s| s == "finished")
}

/// Parses plist bytes into a dictionary; anything else is an error naming `path`.
pub fn parse_plist_dict(bytes: &[u8], path: &Path) -> Result<Dictionary> {
    let value = crate::plistsafe::parse(bytes).map_err(|reason| BackupError::Plist {
        path: path.to_path_buf(),
        reason,
    })?;
    match value {
        Value::Dictionary(d) => Ok(d),
        _ => Err(BackupError::Plist {
            path: path.to_path_buf(),
            reason: "the top level is not a dictionary".into(),
        }),
    }
}

pub(crate) fn get_str(d: &Dictionary, key: &str) -> Option<String> {
    d.get(key).and_then(|v| v.as_string()).map(str::to_owned)
}

pub(crate) fn get_bool(d: &Dictionary, key: &str) -> Option<bool> {
    d.get(key).and_then(|v| v.as_boolean())
}

pub(crate) fn get_date(d: &Dictionary, key: &str) -> Option<String> {
    match d.get(key)? {
        Value::Date(date) => {
            let t: std::time::SystemTime = (*date).into();
            Some(format_system_time(t))
        }
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

/// `YYYY-MM-DDTHH:MM:SSZ` for a time (UTC).
pub fn format_system_time(t: std::time::SystemTime) -> String {
    let secs = match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs() as i64,
        Err(e) => -(e.duration().as_secs() as i64),
    };
    format_unix(secs)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for seconds since 1970 (UTC), proleptic Gregorian calendar.
pub fn format_unix(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Days to civil date (the well-known era/day-of-era decomposition).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// One backup, as `list` and `info` show it.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct BackupInfo {
    pub path: String,
    pub device_name: Option<String>,
    pub product_type: Option<String>,
    pub ios_version: Option<String>,
    pub build_version: Option<String>,
    pub serial_number: Option<String>,
    pub udid: Option<String>,
    pub last_backup_date: Option<String>,
    /// None when Manifest.plist is missing or unreadable.
    pub encrypted: Option<bool>,
    /// Status.plist SnapshotState == "finished"; None when Status.plist is missing, empty,
    /// or has no SnapshotState (unknown, not "did not finish").
    pub complete: Option<bool>,
    /// Manifest.plist says encrypted, but Manifest.db is already plain: a copy decrypted by
    /// another tool (mvt, iOSbackup); no password is needed to read it.
    pub already_decrypted: bool,
    pub was_passcode_set: Option<bool>,
    pub size_on_disk: u64,
    /// Which file list the backup keeps: "ios10" (Manifest.db: iOS 10 and later) or "mbdb"
    /// (Manifest.mbdb: iOS 4 to 9). None when it has neither.
    pub era: Option<String>,
    /// What the era means, in words.
    pub era_description: Option<String>,
    /// "ios10.2" or "legacy" when encrypted.
    pub key_scheme: Option<String>,
    pub sha1_iterations: Option<u32>,
    pub sha256_iterations: Option<u32>,
    /// Problems found while reading (damaged plists, ...), in words.
    pub warnings: Vec<String>,
}

/// Total size of regular files under `dir` (not following symlinks).
pub fn size_on_disk(dir: &Path) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                total += e.metadata().map(|m| m.len()).unwrap_or(0);
            }
        }
    }
    total
}
