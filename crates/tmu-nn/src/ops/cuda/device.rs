//! Plumbing of the CUDA ops: device addresses of candle tensors, new device buffers as tensors,
//! tmu-nn's PTX modules (built by `build.rs`) and launch sizes.
//!
//! Every kernel here runs on the stream of the tensors' candle device, the stream that candle's
//! own kernels and frees use: stream order alone keeps a kernel's reads and writes before any
//! later use or free of the same memory, so kernels take plain device addresses (`u64`) taken
//! from tensors that the caller keeps alive until the launch has been queued.

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::{
    CudaFunction, CudaSlice, CudaStream, DevicePtr, DeviceRepr, LaunchArgs, LaunchConfig,
};
use candle_core::cuda_backend::{CudaDType, CudaDevice, CudaStorage, CudaStorageSlice};
use candle_core::op::BackpropOp;
use candle_core::{DType, Layout, Result, Shape, Storage, Tensor};

/// Threads per block of every tmu-nn kernel (`THREADS` in `kernels/common.cuh`).
pub(crate) const THREADS: u32 = 256;
/// Most blocks of a grid-stride kernel (a few per streaming multiprocessor of an H100 is enough).
const MAX_BLOCKS: usize = 8192;

/// The PTX modules compiled from `kernels/*.cu`.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Module {
    BatchNorm,
    Elementwise,
    Optim,
    Augment,
}

impl Module {
    fn name(self) -> &'static str {
        match self {
            Module::BatchNorm => "tmu_batch_norm",
            Module::Elementwise => "tmu_elementwise",
            Module::Optim => "tmu_optim",
            Module::Augment => "tmu_augment",
        }
    }

    fn ptx(self) -> &'static str {
        match self {
            Module::BatchNorm => include_str!(concat!(env!("OUT_DIR"), "/batch_norm.ptx")),
            Module::Elementwise => include_str!(concat!(env!("OUT_DIR"), "/elementwise.ptx")),
            Module::Optim => include_str!(concat!(env!("OUT_DIR"), "/optim.ptx")),
            Module::Augment => include_str!(concat!(env!("OUT_DIR"), "/augment.ptx")),
        }
    }
}

/// A kernel, ready for its arguments: `Kernel::new(..)?`, then `k.args(&stream)`.
pub(crate) struct Kernel {
    func: CudaFunction,
}

impl Kernel {
    /// Kernel `name` of module `m` (the module is loaded on first use and kept by the device).
    pub(crate) fn new(dev: &CudaDevice, m: Module, name: &str) -> Result<Self> {
        Ok(Kernel { func: dev.get_or_load_custom_func(name, m.name(), m.ptx())?.into_cuda_function() })
    }

    /// A launch builder on `stream` (the device's stream).
    pub(crate) fn args<'a>(&'a self, stream: &'a CudaStream) -> LaunchArgs<'a> {
        stream.launch_builder(&self.func)
    }
}

/// The suffix of a kernel's element type: `f32` or `bf16`.
pub(crate) fn suffix(dtype: DType, op: &str) -> Result<&'static str> {
    match dtype {
        DType::F32 => Ok("f32"),
        DType::BF16 => Ok("bf16"),
        other => candle_core::bail!("{op}: the cuda kernels take f32 or bf16 tensors, got {other:?}"),
    }
}

/// A grid-stride launch over `n` elements.
pub(crate) fn grid_1d(n: usize) -> LaunchConfig {
    let blocks = n.div_ceil(THREADS as usize).clamp(1, MAX_BLOCKS) as u32;
    LaunchConfig { grid_dim: (blocks, 1, 1), block_dim: (THREADS, 1, 1), shared_mem_bytes: 0 }
}

/// `n` as a kernel's 32-bit size argument.
pub(crate) fn u32_arg(n: usize, what: &str) -> Result<u32> {
    u32::try_from(n).map_err(|_| candle_core::Error::Msg(format!("{what} = {n} does not fit the cuda kernels' u32")))
}

/// The candle cuda device of `t`.
pub(crate) fn cuda_device(t: &Tensor, op: &str) -> Result<CudaDevice> {
    match t.device() {
        candle_core::Device::Cuda(d) => Ok(d.clone()),
        other => candle_core::bail!("{op}: expected a cuda tensor, got one on {other:?}"),
    }
}

/// The device address of element `layout.start_offset()` of a contiguous cuda storage.
pub(crate) fn storage_addr(s: &CudaStorage, layout: &Layout, op: &str) -> Result<u64> {
    if !layout.is_contiguous() {
        candle_core::bail!("{op}: expected a contiguous tensor, got strides {:?}", layout.stride());
    }
    let stream = s.device.cuda_stream();
    let off = layout.start_offset();
    fn at<T>(slice: &CudaSlice<T>, stream: &CudaStream, off: usize) -> u64 {
        let (base, _record) = slice.device_ptr(stream);
        base + (off * std::mem::size_of::<T>()) as u64
    }
    Ok(match &s.slice {
        CudaStorageSlice::F32(v) => at(v, &stream, off),
        CudaStorageSlice::BF16(v) => at(v, &stream, off),
        CudaStorageSlice::U8(v) => at(v, &stream, off),
        CudaStorageSlice::U32(v) => at(v, &stream, off),
        CudaStorageSlice::I32(v) => at(v, &stream, off),
        _ => candle_core::bail!("{op}: unsupported dtype {:?}", s.dtype()),
    })
}

/// The device address of the first element of the contiguous cuda tensor `t` (which must stay
/// alive until the kernel using it has been queued).
pub(crate) fn addr(t: &Tensor, op: &str) -> Result<u64> {
    let (storage, layout) = t.storage_and_layout();
    match &*storage {
        Storage::Cuda(s) => storage_addr(s, layout, op),
        _ => candle_core::bail!("{op}: expected a cuda tensor"),
    }
}

/// The device address of a fresh buffer.
pub(crate) fn slice_addr<T>(s: &CudaSlice<T>, dev: &CudaDevice) -> u64 {
    let stream = dev.cuda_stream();
    let (base, _record) = s.device_ptr(&stream);
    base
}

/// A buffer of `n` elements that the next kernel writes in full before anything reads it.
pub(crate) fn alloc_out<T: DeviceRepr>(dev: &CudaDevice, n: usize) -> Result<CudaSlice<T>> {
    // SAFETY: the memory is uninitialised; every caller launches a kernel that writes all `n`
    // elements before the buffer is read or wrapped into a tensor that others can read (kernels
    // on one stream run in order).
    unsafe { dev.alloc::<T>(n.max(1)) }
}

/// A tensor (no autograd history) owning `slice`, of `shape` (whose size is the slice length).
pub(crate) fn tensor_from<T: CudaDType + DeviceRepr>(
    slice: CudaSlice<T>,
    dev: &CudaDevice,
    shape: impl Into<Shape>,
) -> Tensor {
    let shape = shape.into();
    debug_assert!(slice.len() >= shape.elem_count());
    Tensor::from_storage(
        Storage::Cuda(CudaStorage::wrap_cuda_slice(slice, dev.clone())),
        shape,
        BackpropOp::none(),
        false,
    )
}

/// A cuda storage owning `slice` (for a custom op's forward output).
pub(crate) fn storage_from<T: CudaDType + DeviceRepr>(slice: CudaSlice<T>, dev: &CudaDevice) -> CudaStorage {
    CudaStorage::wrap_cuda_slice(slice, dev.clone())
}
