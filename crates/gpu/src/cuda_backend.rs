//! The CUDA back end: cudarc over the driver API, kernels compiled at run time by NVRTC from the
//! same generated source as the WGSL ones. `libcuda` and `libnvrtc` are loaded at run time.
//!
//! UNVERIFIED: written and built on a machine without an NVIDIA GPU; its self-check (run before
//! every use) is the only test it has had. See BENCHMARKS.md.

use crate::codegen::{self, layout::*};
use crate::host::Batch;
use crate::{DeviceKind, Exec, GpuDevice, Kernel};
use cudarc::driver::{
    sys, CudaContext, CudaFunction, CudaSlice, CudaStream, LaunchConfig, PushKernelArg,
};
use std::sync::Arc;

/// Adds every CUDA GPU to `devices`, or explains in `notes` why there is none.
pub(crate) fn discover(devices: &mut Vec<GpuDevice>, notes: &mut Vec<String>, block: u32) {
    // SAFETY: only tries to dlopen the CUDA driver library under its usual names; loading a
    // shared library runs its initialisers, which for the vendor's libcuda is what it is for.
    if !unsafe { sys::is_culib_present() } {
        notes.push("no CUDA driver found (libcuda): no CUDA GPU used".to_string());
        return;
    }
    if let Err(e) = cudarc::driver::result::init() {
        notes.push(format!(
            "CUDA driver found but it did not start ({e}): no CUDA GPU used"
        ));
        return;
    }
    let count = match CudaContext::device_count() {
        Ok(c) => c,
        Err(e) => {
            notes.push(format!("CUDA driver could not count GPUs ({e})"));
            return;
        }
    };
    if count <= 0 {
        notes.push("no CUDA GPU found".to_string());
        return;
    }
    // SAFETY: as above, for the NVRTC library.
    if !unsafe { cudarc::nvrtc::sys::is_culib_present() } {
        notes.push(format!(
            "{count} CUDA GPU(s) found but NVRTC (libnvrtc, the CUDA runtime compiler) is missing: \
             install the CUDA toolkit's nvrtc package to use them"
        ));
        return;
    }
    for ordinal in 0..count as usize {
        match CudaExec::new(ordinal, block) {
            Ok((exec, name, preferred)) => devices.push(GpuDevice::new(
                name,
                "cuda",
                DeviceKind::Gpu,
                preferred,
                1 << 22,
                Box::new(exec),
            )),
            Err(e) => notes.push(format!("CUDA GPU {ordinal}: not usable: {e}")),
        }
    }
}

struct Buffers {
    st256: CudaSlice<u32>,
    st1: CudaSlice<u32>,
    msg: CudaSlice<u32>,
}

pub(crate) struct CudaExec {
    stream: Arc<CudaStream>,
    funcs: Vec<CudaFunction>,
    bufs: Option<Buffers>,
    n: u32,
    nb256: u32,
    nb1: u32,
    /// Threads per block.
    block: u32,
}

impl CudaExec {
    fn new(ordinal: usize, block: u32) -> Result<(Self, String, usize), String> {
        let ctx = CudaContext::new(ordinal).map_err(|e| e.to_string())?;
        let name = ctx.name().map_err(|e| e.to_string())?;
        let (major, minor) = ctx.compute_capability().map_err(|e| e.to_string())?;
        let attr = |a| ctx.attribute(a).map_err(|e| e.to_string());
        let sms = attr(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT)?;
        let threads =
            attr(sys::CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR)?;
        let opts = cudarc::nvrtc::CompileOptions {
            options: vec![format!("--gpu-architecture=compute_{major}{minor}")],
            ..Default::default()
        };
        let ptx = cudarc::nvrtc::compile_ptx_with_opts(codegen::cuda_kernels(block), opts)
            .map_err(|e| format!("NVRTC could not compile the kernels: {e:?}"))?;
        let module = ctx.load_module(ptx).map_err(|e| e.to_string())?;
        let funcs = codegen::KERNELS
            .iter()
            .map(|k| module.load_function(k).map_err(|e| e.to_string()))
            .collect::<Result<Vec<_>, _>>()?;
        // Enough passwords for every thread slot on every SM, twice over (SHA-1 lanes are two per
        // password, SHA-256 ones one).
        let preferred = (sms.max(1) as usize) * (threads.max(64) as usize) * 2;
        let exec = CudaExec {
            stream: ctx.default_stream(),
            funcs,
            bufs: None,
            n: 0,
            nb256: 0,
            nb1: 0,
            block,
        };
        Ok((exec, name, preferred))
    }
}

impl Exec for CudaExec {
    fn upload(&mut self, batch: &Batch) -> Result<(), String> {
        let e = |e: cudarc::driver::DriverError| e.to_string();
        let n = batch.n;
        let st256 = if batch.st256.is_empty() {
            self.stream.alloc_zeros::<u32>(4).map_err(e)?
        } else {
            self.stream.clone_htod(&batch.st256).map_err(e)?
        };
        let st1 = if batch.st256.is_empty() {
            self.stream.clone_htod(&batch.st1).map_err(e)?
        } else {
            self.stream
                .alloc_zeros::<u32>(ST1_WORDS * 2 * n)
                .map_err(e)?
        };
        let msg = self.stream.clone_htod(&batch.msg).map_err(e)?;
        self.bufs = Some(Buffers { st256, st1, msg });
        self.n = n as u32;
        self.nb256 = batch.nb256;
        self.nb1 = batch.nb1;
        Ok(())
    }

    fn run(&mut self, kernel: Kernel, count: u32) -> Result<(), String> {
        let b = self.bufs.as_mut().ok_or("no batch uploaded")?;
        let cfg = LaunchConfig {
            grid_dim: (kernel.lanes(self.n).div_ceil(self.block), 1, 1),
            block_dim: (self.block, 1, 1),
            shared_mem_bytes: 0,
        };
        let (n, nb256, nb1) = (self.n, self.nb256, self.nb1);
        let mut launch = self.stream.launch_builder(&self.funcs[kernel as usize]);
        launch
            .arg(&n)
            .arg(&count)
            .arg(&nb256)
            .arg(&nb1)
            .arg(&mut b.st256)
            .arg(&mut b.st1)
            .arg(&b.msg);
        // SAFETY: the arguments match the generated signature (four `uint32_t`, then the two state
        // buffers and the message buffer as `uint32_t*`), and the buffers were sized in `upload`
        // for `n` passwords: threads past the kernel's lane count return at once.
        unsafe { launch.launch(cfg) }.map_err(|e| e.to_string())?;
        self.stream.synchronize().map_err(|e| e.to_string())
    }

    fn read_sha1_t(&mut self) -> Result<Vec<u32>, String> {
        let b = self.bufs.as_ref().ok_or("no batch uploaded")?;
        let lanes = 2 * self.n as usize;
        let t = b.st1.slice(S1_T * lanes..(S1_T + 5) * lanes);
        self.stream.clone_dtoh(&t).map_err(|e| e.to_string())
    }
}
