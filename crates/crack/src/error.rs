//! Errors of the recovery engine. Each names the file or input at fault.

use std::path::PathBuf;

#[derive(thiserror::Error, Debug)]
pub enum CrackError {
    /// The stream of guesses failed (a wordlist that cannot be read, a source that changed...).
    #[error(transparent)]
    Guess(#[from] sesame_guess::GuessError),
    /// Reading or writing a file of the engine (potfile, session) failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A session file exists but cannot be used.
    #[error("session file {path}: {msg}")]
    Session { path: PathBuf, msg: String },
    /// The plan could not be built (a front end's source options: a bad mask, a missing file).
    #[error(transparent)]
    Plan(crate::recovery::BoxError),
    /// A session name that cannot be a file name.
    #[error("{0}")]
    SessionName(String),
    /// GPUs were required and none passed its self-check; why, per back end.
    #[error("no usable GPU found ({0})")]
    NoGpu(String),
    /// A CPU kernel asked for by name cannot be used.
    #[error(transparent)]
    Kernel(#[from] crate::choice::KernelChoiceError),
    /// Nothing to search for.
    #[error("no targets: give at least one hash line or backup")]
    NoTargets,
    /// A worker thread died (a bug): the guesses it held are not finished.
    #[error("a worker thread stopped unexpectedly; the last checkpoint is still valid")]
    WorkerDied,
    /// A kernel disagrees with the reference key derivation; it must not be used.
    #[error("kernel {kernel} disagrees with the reference PBKDF2 ({what}); refusing to use it")]
    KernelMismatch { kernel: &'static str, what: String },
    /// A GPU failed during the run (the checkpoint still holds everything finished).
    #[error("GPU error: {0}; the last checkpoint is still valid (run again, or use --device cpu)")]
    Gpu(String),
    /// Neither CPU workers nor GPUs were given.
    #[error("no device to compute on: no CPU threads and no usable GPU")]
    NoDevice,
    /// The last device left failed mid-run (its batch is not lost: the checkpoint is below it).
    #[error("{device} failed: {msg}; no device is left to go on. The last checkpoint is still valid (run again, or use --device cpu)")]
    DeviceFailed { device: String, msg: String },
}

impl CrackError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        CrackError::Io {
            path: path.into(),
            source,
        }
    }
}
