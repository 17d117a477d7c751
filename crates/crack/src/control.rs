//! Pause, resume and cancel a run from another thread: the web app's buttons, the binary's
//! Ctrl-C. The library installs no signal handler; a front end that wants Ctrl-C sets its
//! handler to call [`RecoveryHandle::cancel`] (or builds the handle on its own flag with
//! [`RecoveryHandle::with_cancel_flag`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A remote control for one run (or several in turn). Clones control the same run.
#[derive(Clone, Debug, Default)]
pub struct RecoveryHandle {
    cancel: Arc<AtomicBool>,
    pause: Arc<AtomicBool>,
}

impl RecoveryHandle {
    pub fn new() -> Self {
        Self::default()
    }

    /// A handle whose cancel is `flag`, for a front end that already has one (a signal
    /// handler's flag, shared with other long jobs).
    pub fn with_cancel_flag(flag: Arc<AtomicBool>) -> Self {
        RecoveryHandle {
            cancel: flag,
            pause: Arc::default(),
        }
    }

    /// Stops the run: it checkpoints and ends as interrupted; a later run of the same
    /// session resumes from the checkpoint.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::SeqCst);
    }

    /// Workers take no new batch until [`resume`](Self::resume); the batches they hold wait,
    /// so the checkpoint holds at the first guess not tried.
    pub fn pause(&self) {
        self.pause.store(true, Ordering::SeqCst);
    }

    pub fn resume(&self) {
        self.pause.store(false, Ordering::SeqCst);
    }

    pub fn is_paused(&self) -> bool {
        self.pause.load(Ordering::SeqCst)
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancel.load(Ordering::SeqCst)
    }

    /// The flags the engine polls ([`crate::EngineConfig::cancel`] and `pause`).
    pub fn cancel_flag(&self) -> Arc<AtomicBool> {
        self.cancel.clone()
    }

    pub fn pause_flag(&self) -> Arc<AtomicBool> {
        self.pause.clone()
    }
}
