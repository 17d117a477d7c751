//! Where Sesame keeps its own files: the potfile and the sessions folder beside it.
//!
//! - `SESAME_HOME`: everything lives under this folder (tests use it).
//! - otherwise `$XDG_DATA_HOME/sesame`, `~/.local/share/sesame`, or `%APPDATA%\sesame` on Windows.
//! - `SESAME_POTFILE` (or `--potfile`) overrides the potfile alone.

use std::path::PathBuf;

/// Sesame's data folder (may not exist yet).
pub fn data_dir() -> PathBuf {
    if let Some(h) = non_empty_env("SESAME_HOME") {
        return PathBuf::from(h);
    }
    if let Some(x) = non_empty_env("XDG_DATA_HOME") {
        return PathBuf::from(x).join("sesame");
    }
    if cfg!(windows) {
        if let Some(a) = non_empty_env("APPDATA") {
            return PathBuf::from(a).join("sesame");
        }
    }
    if let Some(home) = non_empty_env("HOME").or_else(|| non_empty_env("USERPROFILE")) {
        return PathBuf::from(home)
            .join(".local")
            .join("share")
            .join("sesame");
    }
    PathBuf::from(".sesame")
}

/// The folder of session (checkpoint) files.
pub fn sessions_dir() -> PathBuf {
    data_dir().join("sessions")
}

pub(crate) fn non_empty_env(name: &str) -> Option<std::ffi::OsString> {
    std::env::var_os(name).filter(|v| !v.is_empty())
}
