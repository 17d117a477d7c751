//! What the crack integration tests share.

// Each test file uses a part of this module.
#![allow(dead_code)]

use sesame_backup::KdfParams;
use sesame_crack::{Device, DeviceError, DeviceKind};
use sesame_guess::{GuessError, GuessIter, Source};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use zeroize::Zeroizing;

/// A source of `n` guesses "word0", "word1", ...: indexable, so tests can see which indices ran.
pub struct Words(pub usize);
impl Source for Words {
    fn name(&self) -> String {
        format!("{} test words", self.0)
    }
    fn len(&self) -> Option<u64> {
        Some(self.0 as u64)
    }
    fn iter_from(&self, start: u64) -> Result<GuessIter<'_>, GuessError> {
        Ok(Box::new(
            (start as usize..self.0).map(|i| Ok(format!("word{i}").into_bytes())),
        ))
    }
    fn fingerprint(&self) -> String {
        format!("words {}", self.0)
    }
}

/// A device passed through, with `before` run at the start of each derive call (given the
/// run's stop flag): a gate that holds the device back until another has done something, or a
/// counter of the calls it begins. Tests use it to take thread scheduling out of their outcome.
pub struct Hooked {
    pub inner: Arc<dyn Device>,
    pub before: Box<dyn Fn(&AtomicBool) + Send + Sync>,
}

impl Hooked {
    pub fn new(
        inner: Arc<dyn Device>,
        before: impl Fn(&AtomicBool) + Send + Sync + 'static,
    ) -> Arc<Hooked> {
        Arc::new(Hooked {
            inner,
            before: Box::new(before),
        })
    }
}

impl Device for Hooked {
    fn name(&self) -> String {
        self.inner.name()
    }
    fn kind(&self) -> DeviceKind {
        self.inner.kind()
    }
    fn workers(&self) -> usize {
        self.inner.workers()
    }
    fn preferred_batch(&self, params: &[KdfParams]) -> usize {
        self.inner.preferred_batch(params)
    }
    fn max_call(&self, params: &KdfParams) -> usize {
        self.inner.max_call(params)
    }
    fn derive(
        &self,
        params: &KdfParams,
        passwords: &[&[u8]],
        stop: &AtomicBool,
        progress: &mut dyn FnMut(f64),
    ) -> Result<Zeroizing<Vec<[u8; 32]>>, DeviceError> {
        (self.before)(stop);
        self.inner.derive(params, passwords, stop, progress)
    }
}

/// Waits until `flag` is raised or the run stops; after a minute it goes on, and the test's
/// own assertions say what never happened.
pub fn wait_for_flag(flag: &AtomicBool, stop: &AtomicBool) {
    let t0 = Instant::now();
    while !flag.load(Ordering::SeqCst)
        && !stop.load(Ordering::SeqCst)
        && t0.elapsed() < Duration::from_secs(60)
    {
        std::thread::sleep(Duration::from_millis(1));
    }
}
