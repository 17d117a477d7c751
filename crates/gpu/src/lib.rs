//! GPU kernels for Sesame's password recovery: PBKDF2-HMAC-SHA256 (iOS 10.2+) followed by
//! PBKDF2-HMAC-SHA1, on many passwords at once.
//!
//! Two back ends run the same kernels, generated from one Rust description ([`codegen`]):
//! - **CUDA** (feature `cuda`): cudarc with NVRTC; `libcuda` and `libnvrtc` are loaded at run time,
//!   so this builds without the CUDA toolkit and reports "no CUDA driver found" where there is none.
//! - **wgpu** (feature `wgpu`): Vulkan, Metal and DX12, for AMD, Intel and Apple GPUs (and NVIDIA
//!   where CUDA is missing). CPU drivers such as Mesa's lavapipe are skipped unless
//!   [`Discovery::allow_cpu_drivers`] is set (`SESAME_GPU_ALLOW_CPU=1` for the binary), which the
//!   tests use to check the kernels on machines without a GPU.
//!
//! The CPU computes each password's HMAC inner and outer states (hashing passwords longer than
//! 64 bytes, as HMAC requires) and uploads only those. The GPU runs the first PBKDF2 iteration,
//! then the iteration loop in slices of a few hundred milliseconds, with its state kept in GPU
//! memory between slices, so that progress, cancellation and display watchdogs work. For the
//! iOS 10.2+ scheme the SHA-1 stage's HMAC key setup also runs on the GPU, so the only download
//! is the 32-byte keys at the end.
//!
//! ```no_run
//! use std::sync::atomic::AtomicBool;
//! let (devices, notes) = sesame_gpu::discover();
//! for note in &notes {
//!     eprintln!("note: {note}");
//! }
//! for dev in &devices {
//!     dev.self_check().expect("GPU agrees with the CPU reference");
//!     let spec = sesame_gpu::KdfSpec { salt: vec![7; 20], iterations: 10_000, dp: Some((vec![9; 20], 10_000_000)) };
//!     let keys = dev.derive(&[b"1234".as_slice()], &spec, &AtomicBool::new(false), &mut |_| {}).unwrap();
//!     println!("{}: {:02x?}", dev.name(), keys[0]);
//! }
//! ```

// Built with neither back end, the crate only reports that it has none.
#![cfg_attr(
    not(any(feature = "cuda", feature = "wgpu")),
    allow(dead_code, unused_mut)
)]

pub mod codegen;
#[cfg(feature = "cuda")]
mod cuda_backend;
#[cfg(test)]
mod cuda_on_cpu;
mod host;
#[cfg(feature = "wgpu")]
mod wgpu_backend;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Parameters of the key derivation (the same fields as `sesame_backup::kdf::KdfParams`).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KdfSpec {
    /// SALT, for the PBKDF2-HMAC-SHA1 stage.
    pub salt: Vec<u8>,
    /// ITER, for the PBKDF2-HMAC-SHA1 stage.
    pub iterations: u32,
    /// (DPSL, DPIC) for the PBKDF2-HMAC-SHA256 stage of iOS 10.2+ backups.
    pub dp: Option<(Vec<u8>, u32)>,
}

impl KdfSpec {
    /// PBKDF2 iterations per password over both stages: the unit of [`GpuDevice::derive`]'s
    /// progress. An iteration count of 0 counts as 1, as in the `pbkdf2` crate.
    pub fn total_iterations(&self) -> u64 {
        self.dp.as_ref().map_or(0, |(_, n)| u64::from((*n).max(1)))
            + u64::from(self.iterations.max(1))
    }
}

/// What can go wrong on a GPU.
#[derive(Debug, thiserror::Error)]
pub enum GpuError {
    /// `cancel` was set; the batch was abandoned between two slices.
    #[error("cancelled")]
    Cancelled,
    /// The GPU API reported an error.
    #[error("{device}: {message}")]
    Api {
        /// The device's name.
        device: String,
        /// What the API said.
        message: String,
    },
    /// The kernel's results differ from the CPU reference: the device must not be used.
    #[error("{device} computed a wrong key in its self-check ({what}); it will not be used")]
    Mismatch {
        /// The device's name.
        device: String,
        /// Which check failed.
        what: String,
    },
    /// More passwords than the device's buffers hold.
    #[error(
        "{device}: a batch of {got} passwords is more than the {max} this device takes at once"
    )]
    BatchTooLarge {
        /// The device's name.
        device: String,
        /// Passwords given.
        got: usize,
        /// [`GpuDevice::max_batch`].
        max: usize,
    },
}

/// The kernels of [`codegen::KERNELS`], in that order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kernel {
    Sha256Start = 0,
    Sha256Loop = 1,
    Sha1Keysetup = 2,
    Sha1Start = 3,
    Sha1Loop = 4,
}

impl Kernel {
    /// Threads the kernel runs for a batch of `n` passwords.
    pub(crate) fn lanes(self, n: u32) -> u32 {
        match self {
            Kernel::Sha1Start | Kernel::Sha1Loop => 2 * n,
            _ => n,
        }
    }
}

/// What a back end provides: buffers for one batch at a time, and synchronous kernel launches.
pub(crate) trait Exec: Send {
    /// Allocates (or reuses) device buffers for `batch` and uploads it.
    fn upload(&mut self, batch: &host::Batch) -> Result<(), String>;
    /// Runs `kernel` over the uploaded batch (`count` iterations for the loops) and waits.
    fn run(&mut self, kernel: Kernel, count: u32) -> Result<(), String>;
    /// Downloads the T words of the SHA-1 lanes (`5 * 2n` words, structure of arrays).
    fn read_sha1_t(&mut self) -> Result<Vec<u32>, String>;
}

/// Whether the device is real GPU hardware or a driver that emulates one on the CPU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeviceKind {
    /// A GPU.
    Gpu,
    /// A CPU driver (Mesa's lavapipe, SwiftShader, WARP): correct but slow, useful for tests.
    CpuEmulation,
}

/// One GPU, ready to derive keys.
pub struct GpuDevice {
    name: String,
    backend: &'static str,
    kind: DeviceKind,
    preferred_batch: usize,
    max_batch: usize,
    exec: Mutex<Box<dyn Exec>>,
}

impl std::fmt::Debug for GpuDevice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GpuDevice")
            .field("name", &self.name)
            .field("backend", &self.backend)
            .field("kind", &self.kind)
            .field("preferred_batch", &self.preferred_batch)
            .finish()
    }
}

/// Slices of the iteration loop aim at this duration: long enough that launch and
/// synchronisation overhead is negligible, short enough for progress, cancel and the display
/// watchdog (about 2 s on Windows).
const SLICE_TARGET: Duration = Duration::from_millis(150);
/// The first slice of each stage, before its speed is known.
const FIRST_SLICE: u32 = 32;
/// No dispatch runs more loop iterations than this, however fast the device. Drivers may cut
/// long shader loops short without an error: Mesa's llvmpipe ends every loop after 65,535
/// iterations, so a fast slice of 131,072 left the key wrong and the password unfound. The
/// self-check runs a slice of this length, so a driver with a lower limit fails it.
const MAX_SLICE: u32 = 1 << 15;

/// How the loop is cut into slices.
#[derive(Clone, Copy)]
enum Slicing {
    /// Adapt to [`SLICE_TARGET`].
    Timed,
    /// A fixed count (self-check: exercises many slices cheaply).
    Fixed(u32),
}

impl GpuDevice {
    pub(crate) fn new(
        name: String,
        backend: &'static str,
        kind: DeviceKind,
        preferred_batch: usize,
        max_batch: usize,
        exec: Box<dyn Exec>,
    ) -> Self {
        let preferred_batch = preferred_batch.clamp(1, max_batch.max(1));
        GpuDevice {
            name,
            backend,
            kind,
            preferred_batch,
            max_batch,
            exec: Mutex::new(exec),
        }
    }

    /// The GPU's name as its driver reports it.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// "cuda", "vulkan", "metal" or "dx12".
    pub fn backend(&self) -> &'static str {
        self.backend
    }

    /// GPU or CPU emulation.
    pub fn kind(&self) -> DeviceKind {
        self.kind
    }

    /// Passwords per [`derive`](Self::derive) call that keep the whole GPU busy.
    pub fn preferred_batch(&self) -> usize {
        self.preferred_batch
    }

    /// The most passwords one [`derive`](Self::derive) call takes.
    pub fn max_batch(&self) -> usize {
        self.max_batch
    }

    /// Derives the full 32-byte key for each password: PBKDF2-HMAC-SHA256 (DPSL, DPIC) when
    /// `spec.dp` is set, then PBKDF2-HMAC-SHA1 (SALT, ITER).
    ///
    /// The long loops run in slices; between slices `progress` is called with the PBKDF2
    /// iterations completed per password so far (out of [`KdfSpec::total_iterations`]), and
    /// `cancel` is checked: when set, this returns [`GpuError::Cancelled`].
    pub fn derive(
        &self,
        passwords: &[&[u8]],
        spec: &KdfSpec,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(u64),
    ) -> Result<Vec<[u8; 32]>, GpuError> {
        self.derive_sliced(passwords, spec, cancel, progress, Slicing::Timed)
    }

    fn derive_sliced(
        &self,
        passwords: &[&[u8]],
        spec: &KdfSpec,
        cancel: &AtomicBool,
        progress: &mut dyn FnMut(u64),
        slicing: Slicing,
    ) -> Result<Vec<[u8; 32]>, GpuError> {
        if passwords.is_empty() {
            return Ok(Vec::new());
        }
        if passwords.len() > self.max_batch {
            return Err(GpuError::BatchTooLarge {
                device: self.name.clone(),
                got: passwords.len(),
                max: self.max_batch,
            });
        }
        let api = |message: String| GpuError::Api {
            device: self.name.clone(),
            message,
        };
        let batch = host::prepare(passwords, spec);
        let mut exec = self.exec.lock().unwrap_or_else(|e| e.into_inner());
        exec.upload(&batch).map_err(api)?;
        drop(batch);
        let mut done = 0u64;
        if let Some((_, dpic)) = &spec.dp {
            exec.run(Kernel::Sha256Start, 0).map_err(api)?;
            done += 1;
            progress(done);
            run_loop(
                &mut **exec,
                Kernel::Sha256Loop,
                dpic.max(&1) - 1,
                slicing,
                cancel,
                &mut done,
                progress,
            )
            .map_err(|e| e.into_gpu(&self.name))?;
            exec.run(Kernel::Sha1Keysetup, 0).map_err(api)?;
        }
        exec.run(Kernel::Sha1Start, 0).map_err(api)?;
        done += 1;
        progress(done);
        run_loop(
            &mut **exec,
            Kernel::Sha1Loop,
            spec.iterations.max(1) - 1,
            slicing,
            cancel,
            &mut done,
            progress,
        )
        .map_err(|e| e.into_gpu(&self.name))?;
        let t = exec.read_sha1_t().map_err(api)?;
        Ok(host::keys_from_t(&t, passwords.len()))
    }

    /// Checks both key schemes on this device against the CPU reference, on random passwords
    /// (including ones longer than the 64-byte HMAC block), salts (including ones that need two
    /// message blocks) and iteration counts, with the loop cut into many slices. A device that
    /// fails must not be used.
    pub fn self_check(&self) -> Result<(), GpuError> {
        use rand::{Rng, RngCore};
        let mut rng = rand::thread_rng();
        let mut passwords: Vec<Vec<u8>> = Vec::new();
        for len in [0usize, 1, 8, 55, 64, 65, 100] {
            let mut p = vec![0u8; len];
            rng.fill_bytes(&mut p);
            passwords.push(p);
        }
        for _ in 0..57 {
            let mut p = vec![0u8; rng.gen_range(1..24)];
            rng.fill_bytes(&mut p);
            passwords.push(p);
        }
        let refs: Vec<&[u8]> = passwords.iter().map(Vec::as_slice).collect();
        let mut salt = |len: usize| {
            let mut s = vec![0u8; len];
            rng.fill_bytes(&mut s);
            s
        };
        // (spec, passwords, slice length): many short slices, then the longest slice a search
        // runs, on both loops, so that a driver that cuts long loops short is caught here.
        let specs = [
            (
                KdfSpec {
                    salt: salt(20),
                    iterations: 41,
                    dp: Some((salt(20), 203)),
                },
                &refs[..],
                17,
            ),
            (
                KdfSpec {
                    salt: salt(60),
                    iterations: 1,
                    dp: Some((salt(56), 1)),
                },
                &refs[..],
                17,
            ),
            (
                KdfSpec {
                    salt: salt(20),
                    iterations: 157,
                    dp: None,
                },
                &refs[..],
                17,
            ),
            (
                KdfSpec {
                    salt: salt(20),
                    iterations: MAX_SLICE + 1,
                    dp: Some((salt(20), MAX_SLICE + 1)),
                },
                &refs[..2],
                MAX_SLICE,
            ),
        ];
        let never = AtomicBool::new(false);
        for (s, (spec, refs, slice)) in specs.iter().enumerate() {
            let got =
                self.derive_sliced(refs, spec, &never, &mut |_| {}, Slicing::Fixed(*slice))?;
            for (i, pw) in refs.iter().enumerate() {
                if got[i] != reference_key(pw, spec) {
                    let scheme = if spec.dp.is_some() {
                        "iOS 10.2+ scheme"
                    } else {
                        "older scheme"
                    };
                    return Err(GpuError::Mismatch {
                        device: self.name.clone(),
                        what: format!(
                            "{scheme}, check {} of {}, password of {} bytes, slices of {slice} iterations",
                            s + 1,
                            specs.len(),
                            pw.len()
                        ),
                    });
                }
            }
        }
        Ok(())
    }
}

/// The key by the CPU reference implementation (`sesame-kernels`).
pub fn reference_key(password: &[u8], spec: &KdfSpec) -> [u8; 32] {
    use sesame_kernels::reference::{pbkdf2_hmac_sha1, pbkdf2_hmac_sha256};
    let mut out = [0u8; 32];
    match &spec.dp {
        Some((dpsl, dpic)) => {
            let mut inner = [0u8; 32];
            pbkdf2_hmac_sha256(password, dpsl, *dpic, &mut inner);
            pbkdf2_hmac_sha1(&inner, &spec.salt, spec.iterations, &mut out);
        }
        None => pbkdf2_hmac_sha1(password, &spec.salt, spec.iterations, &mut out),
    }
    out
}

enum LoopError {
    Cancelled,
    Api(String),
}

impl LoopError {
    fn into_gpu(self, device: &str) -> GpuError {
        match self {
            LoopError::Cancelled => GpuError::Cancelled,
            LoopError::Api(message) => GpuError::Api {
                device: device.to_string(),
                message,
            },
        }
    }
}

/// Runs `total` iterations of a loop kernel in slices.
fn run_loop(
    exec: &mut dyn Exec,
    kernel: Kernel,
    total: u32,
    slicing: Slicing,
    cancel: &AtomicBool,
    done: &mut u64,
    progress: &mut dyn FnMut(u64),
) -> Result<(), LoopError> {
    let mut left = total;
    let mut count = match slicing {
        Slicing::Timed => FIRST_SLICE,
        Slicing::Fixed(c) => c.clamp(1, MAX_SLICE),
    };
    while left > 0 {
        if cancel.load(Ordering::Relaxed) {
            return Err(LoopError::Cancelled);
        }
        let this = count.min(left);
        let t0 = Instant::now();
        exec.run(kernel, this).map_err(LoopError::Api)?;
        let took = t0.elapsed();
        left -= this;
        *done += u64::from(this);
        progress(*done);
        if let Slicing::Timed = slicing {
            // Scale toward the target duration, at most 4x up or 2x down per slice.
            let ratio = SLICE_TARGET.as_secs_f64() / took.as_secs_f64().max(1e-6);
            let next = f64::from(this) * ratio.clamp(0.5, 4.0);
            count = next.clamp(1.0, f64::from(MAX_SLICE)) as u32;
        }
    }
    Ok(())
}

/// What GPU discovery may use. [`Discovery::from_env`] reads it from the environment, as the
/// binary does; tests and embedders set it directly (changing the environment of a running,
/// multi-threaded process is a data race with every other thread that reads it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Discovery {
    /// Use no GPU at all; nothing is probed.
    pub disabled: bool,
    /// Also use CPU drivers such as Mesa's lavapipe. Off by default: they would share the cores
    /// the CPU kernels already use.
    pub allow_cpu_drivers: bool,
    /// Threads per CUDA block, a multiple of 32 from 32 to 1024; `None`: [`codegen::WORKGROUP`].
    /// For measuring which size fills a GPU best (`gpu_bench`).
    pub cuda_block: Option<u32>,
}

impl Discovery {
    /// `SESAME_GPU_DISABLE=1` sets [`Discovery::disabled`], `SESAME_GPU_ALLOW_CPU=1`
    /// [`Discovery::allow_cpu_drivers`].
    pub fn from_env() -> Discovery {
        let on = |name: &str| std::env::var(name).is_ok_and(|v| v == "1");
        Discovery {
            disabled: on("SESAME_GPU_DISABLE"),
            allow_cpu_drivers: on("SESAME_GPU_ALLOW_CPU"),
            cuda_block: None,
        }
    }
}

/// The CUDA block size to use for `asked`; a size CUDA cannot launch falls back to the default,
/// with a note.
#[cfg_attr(not(feature = "cuda"), allow(dead_code))]
fn cuda_block(asked: Option<u32>, notes: &mut Vec<String>) -> u32 {
    match asked {
        None => codegen::WORKGROUP,
        Some(b) if b % 32 == 0 && (32..=1024).contains(&b) => b,
        Some(b) => {
            notes.push(format!(
                "CUDA block size {b} is not a multiple of 32 from 32 to 1024: using {}",
                codegen::WORKGROUP
            ));
            codegen::WORKGROUP
        }
    }
}

/// Every usable GPU, and notes for people about what was not used and why, as the environment
/// says ([`Discovery::from_env`]); see [`discover_with`].
pub fn discover() -> (Vec<GpuDevice>, Vec<String>) {
    discover_with(Discovery::from_env())
}

/// Every usable GPU under `opts`, and notes for people about what was not used and why.
///
/// NVIDIA GPUs are used through CUDA where its driver is present, and then not again through
/// Vulkan. The devices are not yet self-checked: call [`GpuDevice::self_check`] before use (see
/// [`discover_checked`]).
pub fn discover_with(opts: Discovery) -> (Vec<GpuDevice>, Vec<String>) {
    let mut devices: Vec<GpuDevice> = Vec::new();
    let mut notes = Vec::new();
    if opts.disabled {
        notes.push("GPUs turned off by SESAME_GPU_DISABLE=1".to_string());
        notes.push("no GPU found: using the CPU only".to_string());
        return (devices, notes);
    }
    #[cfg(feature = "cuda")]
    {
        let block = cuda_block(opts.cuda_block, &mut notes);
        cuda_backend::discover(&mut devices, &mut notes, block);
    }
    #[cfg(not(feature = "cuda"))]
    notes.push("built without CUDA support (feature `cuda`)".to_string());
    #[cfg(feature = "wgpu")]
    {
        let cuda_in_use = devices.iter().any(|d| d.backend == "cuda");
        wgpu_backend::discover(
            &mut devices,
            &mut notes,
            cuda_in_use,
            opts.allow_cpu_drivers,
        );
    }
    #[cfg(not(feature = "wgpu"))]
    notes.push("built without wgpu support (feature `wgpu`)".to_string());
    if devices.is_empty() {
        notes.push("no GPU found: using the CPU only".to_string());
    }
    (devices, notes)
}

/// [`discover`], keeping only the devices that pass [`GpuDevice::self_check`]; each failure
/// becomes a note.
pub fn discover_checked() -> (Vec<GpuDevice>, Vec<String>) {
    discover_checked_with(Discovery::from_env())
}

/// [`discover_with`], keeping only the devices that pass [`GpuDevice::self_check`].
pub fn discover_checked_with(opts: Discovery) -> (Vec<GpuDevice>, Vec<String>) {
    let (devices, mut notes) = discover_with(opts);
    let mut ok = Vec::new();
    for d in devices {
        match d.self_check() {
            Ok(()) => ok.push(d),
            Err(e) => notes.push(e.to_string()),
        }
    }
    (ok, notes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cuda_block_size_cuda_cannot_launch_falls_back_with_a_note() {
        let mut notes = Vec::new();
        assert_eq!(cuda_block(None, &mut notes), codegen::WORKGROUP);
        assert_eq!(cuda_block(Some(256), &mut notes), 256);
        assert!(notes.is_empty());
        for bad in [0, 48, 2048] {
            assert_eq!(cuda_block(Some(bad), &mut notes), codegen::WORKGROUP);
        }
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(codegen::cuda_kernels(256).contains("__launch_bounds__(256)"));
        assert!(!codegen::cuda_kernels(256).contains("__launch_bounds__(64)"));
    }
}
