//! What one guess costs on this machine, measured in a fraction of a second (for `info`).

use sesame_backup::KdfParams;
use std::time::Duration;

pub struct Rate {
    pub kernel: &'static str,
    pub kernel_why: String,
    pub threads: usize,
    pub seconds_per_guess_per_core: f64,
    pub guesses_per_second: f64,
}

pub fn measure(params: &KdfParams, forced: Option<&str>) -> anyhow::Result<Rate> {
    let choice = sesame_crack::choice::choose(params, forced)?;
    let kernel = choice.kernel;
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let total = sesame_crack::bench::quick_rate(
        kernel,
        std::slice::from_ref(params),
        threads,
        Duration::from_millis(300),
    );
    Ok(Rate {
        kernel: kernel.name(),
        kernel_why: choice.why,
        threads,
        seconds_per_guess_per_core: threads as f64 / total,
        guesses_per_second: total,
    })
}
