//! What the engine computes on: one [`Device`] trait behind which the CPU kernels and every GPU
//! back end sit, so that the worker loop, the hit check and the hand-back of a failed batch
//! exist once (in [`crate::engine`]).
//!
//! A device only derives keys. It does not see targets, indices or the stream: the engine cuts
//! batches, calls [`Device::derive`] on chunks of at most [`Device::max_call`] passwords, and
//! checks each key with one AES unwrap per target. A device that returns
//! [`DeviceError::Failed`] drops out of the run; its unfinished batch goes back to the others.

use sesame_backup::KdfParams;
use sesame_gpu::{GpuDevice, GpuError, KdfSpec};
use sesame_kernels::Kernel;
use std::sync::atomic::AtomicBool;
use zeroize::Zeroizing;

/// Which batch-size option of [`crate::EngineConfig`] applies to a device, and how it is shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    /// Many small batches, one per worker thread (`EngineConfig::batch_size`).
    Cpu,
    /// Few large batches (`EngineConfig::gpu_batch_size`).
    Gpu,
}

/// Why a derivation did not complete.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    /// The run's stop flag was seen: the batch is abandoned, not failed.
    #[error("stopped")]
    Stopped,
    /// The device cannot go on (driver error, lost device, wrong results...). The engine hands
    /// the unfinished batch to the other devices and goes on without this one.
    #[error("{0}")]
    Failed(String),
}

/// Something that derives backup keys from passwords.
pub trait Device: Send + Sync {
    /// The name progress shows: "CPU", or the GPU's name.
    fn name(&self) -> String;

    fn kind(&self) -> DeviceKind;

    /// Worker threads that call [`derive`](Self::derive) at the same time (CPU: one per core
    /// in use; a GPU: one, as it is busy with one call).
    fn workers(&self) -> usize {
        1
    }

    /// Guesses per batch when the run does not say: enough to keep the device busy about a
    /// second, or for one call on costly parameters. `params`: every group of the targets.
    fn preferred_batch(&self, params: &[KdfParams]) -> usize;

    /// The most passwords one [`derive`](Self::derive) call takes for these parameters.
    fn max_call(&self, params: &KdfParams) -> usize;

    /// The 32-byte key of each password (PBKDF2-SHA256 stage when `params.dp` is set, then
    /// PBKDF2-SHA1). Long calls check `stop` (then [`DeviceError::Stopped`]) and report the
    /// fraction of the call done through `progress`, for rates inside a batch.
    fn derive(
        &self,
        params: &KdfParams,
        passwords: &[&[u8]],
        stop: &AtomicBool,
        progress: &mut dyn FnMut(f64),
    ) -> Result<Zeroizing<Vec<[u8; 32]>>, DeviceError>;
}

/// The CPU: `threads` workers, each running `kernel` on its lanes.
#[derive(Clone, Copy, Debug)]
pub struct CpuDevice {
    pub kernel: Kernel,
    pub threads: usize,
}

impl Device for CpuDevice {
    fn name(&self) -> String {
        "CPU".into()
    }

    fn kind(&self) -> DeviceKind {
        DeviceKind::Cpu
    }

    fn workers(&self) -> usize {
        self.threads
    }

    fn preferred_batch(&self, params: &[KdfParams]) -> usize {
        let lanes = self
            .kernel
            .lanes_for(params.iter().any(|p| p.dp.is_some()))
            .max(1);
        let compressions: u64 = params
            .iter()
            .map(|p| {
                let (a, b) = p.compressions_per_guess();
                a + b
            })
            .sum::<u64>()
            .max(1);
        // Roughly 10^7 compressions per second per core on any kernel.
        let per_second = (10_000_000 / compressions) as usize;
        (per_second / lanes).clamp(1, 256) * lanes
    }

    fn max_call(&self, params: &KdfParams) -> usize {
        // Old-scheme groups are all SHA-1, which some kernels run on more lanes than SHA-256.
        self.kernel.lanes_for(params.dp.is_some()).max(1)
    }

    fn derive(
        &self,
        params: &KdfParams,
        passwords: &[&[u8]],
        _stop: &AtomicBool,
        _progress: &mut dyn FnMut(f64),
    ) -> Result<Zeroizing<Vec<[u8; 32]>>, DeviceError> {
        // One call is one kernel invocation of at most `lanes` passwords: short enough that
        // the engine's check of `stop` between calls is soon enough.
        let n = passwords.len();
        let mut mid = Zeroizing::new(vec![[0u8; 32]; n]);
        let mut keys = Zeroizing::new(vec![[0u8; 32]; n]);
        crate::engine::derive_many(self.kernel, params, passwords, &mut mid, &mut keys);
        Ok(keys)
    }
}

/// The GPU kernels' form of the KDF parameters.
pub fn kdf_spec(params: &KdfParams) -> KdfSpec {
    KdfSpec {
        salt: params.salt.clone(),
        iterations: params.iterations,
        dp: params.dp.clone(),
    }
}

impl Device for GpuDevice {
    fn name(&self) -> String {
        GpuDevice::name(self).to_string()
    }

    fn kind(&self) -> DeviceKind {
        DeviceKind::Gpu
    }

    fn preferred_batch(&self, _params: &[KdfParams]) -> usize {
        GpuDevice::preferred_batch(self).clamp(1, self.max_batch().max(1))
    }

    fn max_call(&self, _params: &KdfParams) -> usize {
        self.max_batch().max(1)
    }

    fn derive(
        &self,
        params: &KdfParams,
        passwords: &[&[u8]],
        stop: &AtomicBool,
        progress: &mut dyn FnMut(f64),
    ) -> Result<Zeroizing<Vec<[u8; 32]>>, DeviceError> {
        let spec = kdf_spec(params);
        let per = spec.total_iterations().max(1) as f64;
        let keys = GpuDevice::derive(self, passwords, &spec, stop, &mut |it| {
            progress((it as f64 / per).min(1.0))
        })
        .map_err(|e| match e {
            GpuError::Cancelled => DeviceError::Stopped,
            e => DeviceError::Failed(e.to_string()),
        })?;
        Ok(Zeroizing::new(keys))
    }
}
