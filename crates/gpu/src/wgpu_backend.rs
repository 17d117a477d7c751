//! The wgpu back end: Vulkan, Metal, DX12.

use crate::codegen::{self, layout::*, Target, WORKGROUP};
use crate::host::Batch;
use crate::{DeviceKind, Exec, GpuDevice, Kernel};
use std::sync::{Arc, Mutex};

/// Back ends tried, in order of preference for a GPU seen through several.
const BACKENDS: wgpu::Backends = wgpu::Backends::VULKAN
    .union(wgpu::Backends::METAL)
    .union(wgpu::Backends::DX12);

/// Adds every usable wgpu adapter to `devices`.
pub(crate) fn discover(
    devices: &mut Vec<GpuDevice>,
    notes: &mut Vec<String>,
    cuda_in_use: bool,
    allow_cpu_drivers: bool,
) {
    let instance = wgpu::Instance::new(wgpu::InstanceDescriptor {
        backends: BACKENDS,
        ..wgpu::InstanceDescriptor::new_without_display_handle()
    });
    let adapters = pollster::block_on(instance.enumerate_adapters(BACKENDS));
    if adapters.is_empty() {
        notes.push("no Vulkan, Metal or DX12 adapter found".to_string());
    }
    let mut seen: Vec<(u32, u32, String)> = Vec::new();
    for adapter in adapters {
        let info = adapter.get_info();
        let key = (info.vendor, info.device, info.name.clone());
        if seen.contains(&key) {
            continue; // the same GPU through a second API
        }
        seen.push(key);
        let backend = match info.backend {
            wgpu::Backend::Vulkan => "vulkan",
            wgpu::Backend::Metal => "metal",
            wgpu::Backend::Dx12 => "dx12",
            _ => continue,
        };
        let label = format!("{} ({backend})", info.name);
        if cuda_in_use && info.vendor == 0x10de {
            notes.push(format!("{label}: NVIDIA GPU, used through CUDA instead"));
            continue;
        }
        let kind = match info.device_type {
            wgpu::DeviceType::Cpu => DeviceKind::CpuEmulation,
            _ => DeviceKind::Gpu,
        };
        if kind == DeviceKind::CpuEmulation && !allow_cpu_drivers {
            notes.push(format!(
                "{label} is a CPU driver: skipped unless SESAME_GPU_ALLOW_CPU=1 (it would share the cores the CPU kernels already use)"
            ));
            continue;
        }
        match WgpuExec::new(&adapter) {
            Ok((exec, max_batch)) => {
                let preferred = match info.device_type {
                    wgpu::DeviceType::DiscreteGpu => 1 << 17,
                    wgpu::DeviceType::Cpu => {
                        256 * std::thread::available_parallelism().map_or(1, |n| n.get())
                    }
                    _ => 1 << 14,
                };
                devices.push(GpuDevice::new(
                    info.name.clone(),
                    backend,
                    kind,
                    preferred,
                    max_batch,
                    Box::new(exec),
                ));
            }
            Err(e) => notes.push(format!("{label}: not usable: {e}")),
        }
    }
}

struct Buffers {
    st256: wgpu::Buffer,
    st1: wgpu::Buffer,
    msg: wgpu::Buffer,
    readback: wgpu::Buffer,
    bind: wgpu::BindGroup,
    /// Passwords the buffers hold.
    capacity: usize,
}

pub(crate) struct WgpuExec {
    device: wgpu::Device,
    queue: wgpu::Queue,
    layout: wgpu::BindGroupLayout,
    pipelines: Vec<wgpu::ComputePipeline>,
    params: wgpu::Buffer,
    bufs: Option<Buffers>,
    /// Current batch: passwords and message blocks.
    n: u32,
    nb256: u32,
    nb1: u32,
    msg_len: usize,
    /// Errors wgpu reports outside an error scope (instead of its default: a panic).
    uncaptured: Arc<Mutex<Option<String>>>,
}

fn storage_entry(binding: u32, read_only: bool) -> wgpu::BindGroupLayoutEntry {
    wgpu::BindGroupLayoutEntry {
        binding,
        visibility: wgpu::ShaderStages::COMPUTE,
        ty: wgpu::BindingType::Buffer {
            ty: wgpu::BufferBindingType::Storage { read_only },
            has_dynamic_offset: false,
            min_binding_size: None,
        },
        count: None,
    }
}

impl WgpuExec {
    /// Opens the adapter and compiles the kernels; returns the executor and the largest batch.
    fn new(adapter: &wgpu::Adapter) -> Result<(Self, usize), String> {
        let limits = adapter.limits();
        let (device, queue) = pollster::block_on(adapter.request_device(&wgpu::DeviceDescriptor {
            label: Some("sesame"),
            required_limits: limits.clone(),
            ..Default::default()
        }))
        .map_err(|e| e.to_string())?;
        let uncaptured = Arc::new(Mutex::new(None));
        let slot = uncaptured.clone();
        device.on_uncaptured_error(Arc::new(move |e: wgpu::Error| {
            let mut s = slot.lock().unwrap_or_else(|p| p.into_inner());
            s.get_or_insert_with(|| e.to_string());
        }));
        let scope = device.push_error_scope(wgpu::ErrorFilter::Validation);
        let module = device.create_shader_module(wgpu::ShaderModuleDescriptor {
            label: Some("sesame pbkdf2"),
            source: wgpu::ShaderSource::Wgsl(codegen::kernels(Target::Wgsl).into()),
        });
        let layout = device.create_bind_group_layout(&wgpu::BindGroupLayoutDescriptor {
            label: Some("sesame pbkdf2"),
            entries: &[
                wgpu::BindGroupLayoutEntry {
                    binding: 0,
                    visibility: wgpu::ShaderStages::COMPUTE,
                    ty: wgpu::BindingType::Buffer {
                        ty: wgpu::BufferBindingType::Uniform,
                        has_dynamic_offset: false,
                        min_binding_size: None,
                    },
                    count: None,
                },
                storage_entry(1, false),
                storage_entry(2, false),
                storage_entry(3, true),
            ],
        });
        let pl = device.create_pipeline_layout(&wgpu::PipelineLayoutDescriptor {
            label: Some("sesame pbkdf2"),
            bind_group_layouts: &[Some(&layout)],
            immediate_size: 0,
        });
        let pipelines = codegen::KERNELS
            .iter()
            .map(|name| {
                device.create_compute_pipeline(&wgpu::ComputePipelineDescriptor {
                    label: Some(name),
                    layout: Some(&pl),
                    module: &module,
                    entry_point: Some(name),
                    compilation_options: Default::default(),
                    cache: None,
                })
            })
            .collect();
        if let Some(e) = pollster::block_on(scope.pop()) {
            return Err(format!("kernel compilation failed: {e}"));
        }
        let params = device.create_buffer(&wgpu::BufferDescriptor {
            label: Some("params"),
            size: 16,
            usage: wgpu::BufferUsages::UNIFORM | wgpu::BufferUsages::COPY_DST,
            mapped_at_creation: false,
        });
        // SHA-1 state is the largest buffer: 20 words for each of 2 lanes per password. One
        // dispatch dimension holds at most 65535 workgroups.
        let per_binding = limits
            .max_storage_buffer_binding_size
            .min(limits.max_buffer_size);
        let by_memory = per_binding / (ST1_WORDS as u64 * 2 * 4);
        let by_dispatch =
            u64::from(limits.max_compute_workgroups_per_dimension) * u64::from(WORKGROUP) / 2;
        let max_batch = by_memory.min(by_dispatch).min(1 << 22) as usize;
        let exec = WgpuExec {
            device,
            queue,
            layout,
            pipelines,
            params,
            bufs: None,
            n: 0,
            nb256: 0,
            nb1: 0,
            msg_len: 0,
            uncaptured,
        };
        Ok((exec, max_batch))
    }

    fn take_error(&self) -> Result<(), String> {
        match self
            .uncaptured
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take()
        {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn wait(&self) -> Result<(), String> {
        self.device
            .poll(wgpu::PollType::wait_indefinitely())
            .map_err(|e| e.to_string())?;
        self.take_error()
    }
}

fn bytes(words: &[u32]) -> Vec<u8> {
    words.iter().flat_map(|w| w.to_le_bytes()).collect()
}

impl Exec for WgpuExec {
    fn upload(&mut self, batch: &Batch) -> Result<(), String> {
        let n = batch.n;
        let msg_len = batch.msg.len().max(16);
        let fits = self
            .bufs
            .as_ref()
            .is_some_and(|b| b.capacity >= n && self.msg_len >= msg_len);
        if !fits {
            let storage = wgpu::BufferUsages::STORAGE
                | wgpu::BufferUsages::COPY_DST
                | wgpu::BufferUsages::COPY_SRC;
            let buf = |label: &str, words: usize, usage: wgpu::BufferUsages| {
                self.device.create_buffer(&wgpu::BufferDescriptor {
                    label: Some(label),
                    size: (words.max(4) * 4) as u64,
                    usage,
                    mapped_at_creation: false,
                })
            };
            let st256 = buf("st256", ST256_WORDS * n, storage);
            let st1 = buf("st1", ST1_WORDS * 2 * n, storage);
            let msg = buf(
                "msg",
                msg_len,
                wgpu::BufferUsages::STORAGE | wgpu::BufferUsages::COPY_DST,
            );
            let readback = buf(
                "readback",
                5 * 2 * n,
                wgpu::BufferUsages::MAP_READ | wgpu::BufferUsages::COPY_DST,
            );
            let bind = self.device.create_bind_group(&wgpu::BindGroupDescriptor {
                label: Some("sesame pbkdf2"),
                layout: &self.layout,
                entries: &[
                    wgpu::BindGroupEntry {
                        binding: 0,
                        resource: self.params.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 1,
                        resource: st256.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 2,
                        resource: st1.as_entire_binding(),
                    },
                    wgpu::BindGroupEntry {
                        binding: 3,
                        resource: msg.as_entire_binding(),
                    },
                ],
            });
            self.bufs = Some(Buffers {
                st256,
                st1,
                msg,
                readback,
                bind,
                capacity: n,
            });
            self.msg_len = msg_len;
        }
        let b = self.bufs.as_ref().expect("buffers just made");
        if !batch.st256.is_empty() {
            self.queue.write_buffer(&b.st256, 0, &bytes(&batch.st256));
        }
        if batch.st256.is_empty() {
            // Old scheme: the SHA-1 pad states come from the CPU.
            self.queue.write_buffer(&b.st1, 0, &bytes(&batch.st1));
        }
        self.queue.write_buffer(&b.msg, 0, &bytes(&batch.msg));
        self.n = n as u32;
        self.nb256 = batch.nb256;
        self.nb1 = batch.nb1;
        Ok(())
    }

    fn run(&mut self, kernel: Kernel, count: u32) -> Result<(), String> {
        let b = self.bufs.as_ref().ok_or("no batch uploaded")?;
        self.queue.write_buffer(
            &self.params,
            0,
            &bytes(&[self.n, count, self.nb256, self.nb1]),
        );
        let mut enc = self.device.create_command_encoder(&Default::default());
        {
            let mut pass = enc.begin_compute_pass(&Default::default());
            pass.set_pipeline(&self.pipelines[kernel as usize]);
            pass.set_bind_group(0, &b.bind, &[]);
            pass.dispatch_workgroups(kernel.lanes(self.n).div_ceil(WORKGROUP), 1, 1);
        }
        self.queue.submit([enc.finish()]);
        self.wait()
    }

    fn read_sha1_t(&mut self) -> Result<Vec<u32>, String> {
        let b = self.bufs.as_ref().ok_or("no batch uploaded")?;
        let lanes = 2 * self.n as u64;
        let size = 5 * lanes * 4;
        let mut enc = self.device.create_command_encoder(&Default::default());
        enc.copy_buffer_to_buffer(&b.st1, S1_T as u64 * lanes * 4, &b.readback, 0, size);
        self.queue.submit([enc.finish()]);
        let (tx, rx) = std::sync::mpsc::channel();
        b.readback
            .map_async(wgpu::MapMode::Read, 0..size, move |r| {
                let _ = tx.send(r);
            });
        self.wait()?;
        rx.recv()
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let words = {
            let view = b
                .readback
                .get_mapped_range(0..size)
                .map_err(|e| e.to_string())?;
            view.chunks_exact(4)
                .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect()
        };
        b.readback.unmap();
        Ok(words)
    }
}
