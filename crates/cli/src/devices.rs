//! `--device`, `--threads` and what GPU discovery found, as `recover` and `bench` show them.
//! Discovery and the self-check are the library's; this file only words them.

use anyhow::bail;
use sesame_crack::GpuDevice;
use std::sync::Arc;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Device {
    Cpu,
    Gpu,
    All,
}

impl Device {
    /// The library's GPU choice for this option: `gpu` requires one.
    pub fn gpus(self) -> sesame_crack::GpuChoice {
        match self {
            Device::Cpu => sesame_crack::GpuChoice::None,
            Device::Gpu => sesame_crack::GpuChoice::Discover { required: true },
            Device::All => sesame_crack::GpuChoice::Discover { required: false },
        }
    }
}

/// `--threads`, capped at this computer's core count: thousands of threads stall the machine
/// and finish no batch. Says so when it caps.
pub fn capped_threads(asked: Option<u32>) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    match asked {
        Some(t) if t as usize > cores => {
            eprintln!(
                "sesame: note: --threads {t} is more than this computer's {cores} cores: using {cores}"
            );
            cores
        }
        Some(t) => (t as usize).max(1),
        None => cores,
    }
}

/// What discovery found, on standard error: one line per GPU that passed its self-check, a
/// warning for one that computed a wrong key, why each back end found nothing only with
/// `verbose`, and one quiet line when there is none and the CPU goes on alone.
pub fn report_gpus(devices: &[Arc<GpuDevice>], notes: &[String], verbose: bool, required: bool) {
    for n in notes {
        if n.contains("wrong key") {
            eprintln!("sesame: warning: {n}");
        } else if verbose {
            eprintln!("sesame: note: {n}");
        }
    }
    for d in devices {
        let emulated = if d.kind() == sesame_gpu::DeviceKind::CpuEmulation {
            ", CPU emulation"
        } else {
            ""
        };
        eprintln!(
            "sesame: GPU {} ({}{emulated}): self-check against the CPU reference passed",
            d.name(),
            d.backend()
        );
    }
    if devices.is_empty() && !required && !verbose {
        eprintln!("sesame: no GPU found, using the CPU (--verbose says why)");
    }
}

/// `--device gpu` with no usable GPU: exit 2, saying why and what to do.
pub fn no_gpu_error(why: &str) -> anyhow::Error {
    anyhow::anyhow!("--device gpu: no usable GPU found ({why}); use --device cpu or --device all")
}

/// The GPUs `--device` asks for, each self-checked (for `bench`, which measures them alone).
pub fn select_gpus(device: Device, verbose: bool) -> anyhow::Result<Vec<Arc<GpuDevice>>> {
    if device == Device::Cpu {
        return Ok(Vec::new());
    }
    let (devices, notes) = sesame_gpu::discover_checked();
    let devices: Vec<Arc<GpuDevice>> = devices.into_iter().map(Arc::new).collect();
    report_gpus(&devices, &notes, verbose, device == Device::Gpu);
    if devices.is_empty() && device == Device::Gpu {
        bail!(no_gpu_error(&notes.join("; ")));
    }
    Ok(devices)
}
