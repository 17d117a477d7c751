//! Ctrl-C and SIGTERM (and SIGHUP) for the binary: the libraries install no signal handler, so
//! the front end owns this. The first signal sets a flag (a recovery's cancel handle, a
//! writer's cancel flag); the run checkpoints and stops. A second signal while the first is
//! being handled exits at once (the checkpoint written before is still valid).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

static FLAG: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// The process-wide interrupt flag; installs the handler on first use.
pub fn flag() -> anyhow::Result<Arc<AtomicBool>> {
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
    .map_err(|e| anyhow::anyhow!("cannot install the Ctrl-C handler: {e}"))?;
    let _ = FLAG.set(f.clone());
    Ok(FLAG.get().cloned().unwrap_or(f))
}
