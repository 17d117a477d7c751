//! Typed errors of the backup library. The CLI turns them into messages with hints.

use std::path::PathBuf;

pub type Result<T, E = BackupError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a readable property list ({reason})")]
    Plist { path: PathBuf, reason: String },
    #[error("{path}: {what}")]
    Malformed { path: PathBuf, what: String },
    #[error("keybag: {0}")]
    Keybag(#[from] KeybagError),
    #[error("hash line: {0}")]
    HashLine(#[from] HashLineError),
    #[error("the backup is not encrypted")]
    NotEncrypted,
    #[error("the password is wrong")]
    WrongPassword,
    #[error("this backup is encrypted: its password is needed to read it")]
    PasswordNeeded,
    #[error("{path}: not a backup folder (no Manifest.plist, Manifest.db or Info.plist)")]
    NotABackup { path: PathBuf },
    #[error("Manifest.db: {0}")]
    Manifest(String),
    #[error("{0}")]
    Crypto(String),
    #[error("{path}: the output folder is not empty (use --force to write into it anyway)")]
    OutputNotEmpty { path: PathBuf },
    #[error("{path}: the output folder is inside the backup; choose a folder outside it (the backup is never modified)")]
    OutputInsideSource { path: PathBuf },
    #[error("{path}: the backup is inside this output folder, where a file of the backup could be written over; choose a folder outside it (the backup is never modified)")]
    OutputHoldsSource { path: PathBuf },
    #[error("{path}: an earlier run into this folder did not finish (run the same command with --force to redo it)")]
    OutputUnfinished { path: PathBuf },
    #[error("{path} is a link: refusing to write through it (remove it, or choose another output folder)")]
    LinkInOutput { path: PathBuf },
    #[error("{path}: this copy was already decrypted by another tool (its Manifest.db is plain \
             although Manifest.plist says encrypted): a new password would protect nothing. Change \
             the password of the original backup instead, or make a plain copy with `sesame decrypt`")]
    AlreadyDecrypted { path: PathBuf },
    #[error("interrupted")]
    Cancelled,
    #[error("{path}: cannot tell whether this backup is encrypted: {reason}. Copy the whole backup folder again from where it was made")]
    EncryptionUnknown { path: PathBuf, reason: String },
    #[error("{path}: this file is not a backup; give the backup folder instead: {folder}")]
    NotABackupFile { path: PathBuf, folder: PathBuf },
    #[error("refused unsafe path {domain}/{path}: {reason}")]
    UnsafePath {
        domain: String,
        path: String,
        reason: String,
    },
}

impl BackupError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        BackupError::Io {
            path: path.into(),
            source,
        }
    }
    pub fn malformed(path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        BackupError::Malformed {
            path: path.into(),
            what: what.into(),
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum KeybagError {
    #[error("record at byte {offset} is truncated (needs {needed} bytes, {available} left)")]
    Truncated {
        offset: usize,
        needed: usize,
        available: usize,
    },
    #[error("missing {0} record")]
    Missing(&'static str),
    #[error("{tag} record has length {len}, expected {expected}")]
    BadLength {
        tag: String,
        len: usize,
        expected: usize,
    },
    #[error("no class key wrapped with the password")]
    NoPasswordWrappedKey,
    #[error("iteration count {0} is not usable")]
    BadIterations(u64),
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HashLineError {
    #[error("does not start with $itunes_backup$")]
    Prefix,
    #[error("expected 7 fields separated by '*', found {0}")]
    FieldCount(usize),
    #[error("version {0:?} is not 9 or 10")]
    Version(String),
    #[error("field {field} is not valid: {reason}")]
    Field { field: &'static str, reason: String },
}
