//! sesame-crack: the recovery engine.
//!
//! A [`sesame_guess::Plan`] is one ordered, indexable stream of guesses. [`engine::run`] cuts it
//! into batches, hands the batches to the workers of every [`Device`] (CPU threads running the
//! many-lane kernels of `sesame-kernels`, GPUs), checks every derived key with one AES unwrap,
//! and reports through a callback: progress, checkpoints (the first guess index not yet
//! finished), hits. Targets that share their key-derivation parameters share the work.
//!
//! Around the engine: [`Potfile`] (hashcat's `hash:password` file of passwords already found),
//! [`session`] (checkpoint files written atomically, resume, shards), [`bench`] (measured rates,
//! every kernel checked against the reference KDF first), [`choice`] (the kernel by
//! measurement), and [`RecoveryHandle`] (pause, resume, cancel from another thread).
//!
//! Nothing here prints, exits or installs a signal handler: errors are [`CrackError`]s,
//! everything else is an [`Event`].

pub mod bench;
pub mod choice;
pub mod cluster;
pub mod control;
pub mod device;
pub mod engine;
pub mod error;
pub mod estimate;
pub mod found_file;
pub mod macos_keychain;
pub mod paths;
pub mod potfile;
pub mod recovery;
mod replace;
pub mod session;

pub use cluster::{shard_from_env, AutoShard, AutoShardError};
pub use control::RecoveryHandle;
pub use device::{CpuDevice, Device, DeviceError, DeviceKind};
pub use engine::{run, DeviceRate, EngineConfig, Event, Found, Outcome, Progress, Report};
pub use error::CrackError;
pub use estimate::{estimate, Estimate};
pub use found_file::FoundFile;
pub use potfile::Potfile;
pub use recovery::{
    recover, DeviceOptions, FoundPassword, GpuChoice, PlanSummary, RecoveryEvent, RecoveryOutcome,
    RecoveryReport, RecoveryRequest, SessionOptions, Stage, Target, Warning,
};
pub use sesame_gpu::{self as gpu, GpuDevice};
pub use session::{Resume, Session, SessionState};

/// A hash line whose password is `password`, with a fresh random class key, salts, and the
/// given iteration counts (`dpic` = Some for the iOS 10.2+ scheme). For tests, demos and
/// benchmarks: the real thing costs seconds per guess, this can cost microseconds.
pub fn synthetic_line(
    password: &[u8],
    dpic: Option<u32>,
    iterations: u32,
) -> sesame_backup::HashLine {
    use rand::RngCore;
    let mut rng = rand::thread_rng();
    let mut class_key = zeroize::Zeroizing::new([0u8; 32]);
    rng.fill_bytes(class_key.as_mut());
    let mut salt = vec![0u8; 20];
    rng.fill_bytes(&mut salt);
    let mut dpsl = vec![0u8; 20];
    rng.fill_bytes(&mut dpsl);
    let params = sesame_backup::KdfParams {
        salt: salt.clone(),
        iterations,
        dp: dpic.map(|n| (dpsl.clone(), n)),
    };
    let key = sesame_backup::kdf::derive(password, &params);
    let wrapped = sesame_backup::aeskw::wrap(&key, class_key.as_ref());
    let mut wpky = [0u8; 40];
    wpky.copy_from_slice(&wrapped);
    sesame_backup::HashLine {
        version: if dpic.is_some() { 10 } else { 9 },
        wpky,
        iterations,
        salt,
        dp: dpic.map(|n| (n, dpsl)),
    }
}
