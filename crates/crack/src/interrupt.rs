//! Ctrl-C and SIGTERM (and SIGHUP) set a flag that the engine polls; it then checkpoints and
//! returns [`crate::Outcome::Interrupted`]. A second Ctrl-C while the first is being handled
//! exits at once (the checkpoint written before is still valid).

use crate::error::CrackError;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// The process-wide interrupt flag; installs the handler on first use.
pub fn flag() -> Result<Arc<AtomicBool>, CrackError> {
    if let Some(f) = FLAG.get() {
        return Ok(f.clone());
    }
    let f = Arc::new(AtomicBool::new(false));
    let g = f.clone();
    ctrlc::set_handler(move || {
        if g.swap(true, Ordering::SeqCst) {
            // Second signal: the user insists.
            std::process::exit(130);
        }
    })
    .map_err(|e| CrackError::Signal(e.to_string()))?;
    let _ = FLAG.set(f.clone());
    Ok(FLAG.get().cloned().unwrap_or(f))
}
