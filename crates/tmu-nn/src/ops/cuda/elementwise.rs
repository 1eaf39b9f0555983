//! `relu` and `add_relu` on CUDA (f32 or bf16): one kernel forward, one backward (candle's ReLU
//! backward is a comparison, a cast and a product; its residual join an add and a ReLU).

use candle_core::backend::BackendStorage;
use candle_core::cuda_backend::cudarc::driver::PushKernelArg;
use candle_core::cuda_backend::{CudaDevice, CudaStorage, WrapErr};
use candle_core::{CpuStorage, DType, Layout, Result, Shape, Tensor};

use super::device::{
    Kernel, Module, addr, alloc_out, cuda_device, grid_1d, slice_addr, storage_addr, storage_from, suffix,
};

/// `max(x, 0)`.
pub(crate) fn relu(x: &Tensor) -> Result<Tensor> {
    suffix(x.dtype(), "relu")?;
    x.contiguous()?.apply_op1(Relu)
}

/// `max(a + b, 0)` (same shapes and dtypes).
pub(crate) fn add_relu(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    suffix(a.dtype(), "add_relu")?;
    if a.dtype() != b.dtype() {
        candle_core::bail!("add_relu: dtypes differ, {:?} and {:?}", a.dtype(), b.dtype());
    }
    a.contiguous()?.apply_op2(&b.contiguous()?, AddRelu)
}

/// A new buffer of `n` elements of `dtype`, written by `launch` given its address.
fn output(dev: &CudaDevice, dtype: DType, n: usize, launch: impl FnOnce(u64) -> Result<()>) -> Result<CudaStorage> {
    Ok(match dtype {
        DType::BF16 => {
            let y = alloc_out::<half::bf16>(dev, n)?;
            launch(slice_addr(&y, dev))?;
            storage_from(y, dev)
        }
        _ => {
            let y = alloc_out::<f32>(dev, n)?;
            launch(slice_addr(&y, dev))?;
            storage_from(y, dev)
        }
    })
}

/// Runs element-wise kernel `name_<dtype>` over `n` elements with `addrs` then `n` as arguments.
fn run(dev: &CudaDevice, name: &str, dtype: DType, addrs: &[u64], n: usize) -> Result<()> {
    let stream = dev.cuda_stream();
    let k = Kernel::new(dev, Module::Elementwise, &format!("{name}_{}", suffix(dtype, name)?))?;
    let mut a = k.args(&stream);
    for p in addrs {
        a.arg(p);
    }
    let n64 = n as u64;
    a.arg(&n64);
    // SAFETY: every address points at `n` contiguous elements of the kernel's type (inputs read,
    // the last one written once per element).
    unsafe { a.launch(grid_1d(n)) }.w()?;
    Ok(())
}

/// `dy` where `y > 0`, else 0 (the backward of both ops).
fn masked_grad(y: &Tensor, dy: &Tensor) -> Result<Tensor> {
    let dev = cuda_device(y, "relu backward")?;
    let dy = dy.contiguous()?;
    if dy.dtype() != y.dtype() {
        candle_core::bail!("relu backward: gradient dtype {:?} differs from the output's {:?}", dy.dtype(), y.dtype());
    }
    let n = y.elem_count();
    let (ya, da) = (addr(y, "relu backward")?, addr(&dy, "relu backward")?);
    let out = output(&dev, y.dtype(), n, |oa| run(&dev, "relu_bwd", y.dtype(), &[ya, da, oa], n))?;
    Ok(Tensor::from_storage(
        candle_core::Storage::Cuda(out),
        y.shape().clone(),
        candle_core::op::BackpropOp::none(),
        false,
    ))
}

struct Relu;

impl candle_core::CustomOp1 for Relu {
    fn name(&self) -> &'static str {
        "tmu-relu-cuda"
    }

    fn cpu_fwd(&self, _: &CpuStorage, _: &Layout) -> Result<(CpuStorage, Shape)> {
        candle_core::bail!("tmu-relu-cuda runs on cuda tensors only")
    }

    fn cuda_fwd(&self, s: &CudaStorage, l: &Layout) -> Result<(CudaStorage, Shape)> {
        let n = l.shape().elem_count();
        let xa = storage_addr(s, l, "relu")?;
        let y = output(&s.device, s.dtype(), n, |ya| run(&s.device, "relu_fwd", s.dtype(), &[xa, ya], n))?;
        Ok((y, l.shape().clone()))
    }

    fn bwd(&self, _x: &Tensor, y: &Tensor, dy: &Tensor) -> Result<Option<Tensor>> {
        masked_grad(y, dy).map(Some)
    }
}

struct AddRelu;

impl candle_core::CustomOp2 for AddRelu {
    fn name(&self) -> &'static str {
        "tmu-add-relu-cuda"
    }

    fn cpu_fwd(&self, _: &CpuStorage, _: &Layout, _: &CpuStorage, _: &Layout) -> Result<(CpuStorage, Shape)> {
        candle_core::bail!("tmu-add-relu-cuda runs on cuda tensors only")
    }

    fn cuda_fwd(&self, s1: &CudaStorage, l1: &Layout, s2: &CudaStorage, l2: &Layout) -> Result<(CudaStorage, Shape)> {
        let n = l1.shape().elem_count();
        let (aa, ba) = (storage_addr(s1, l1, "add_relu")?, storage_addr(s2, l2, "add_relu")?);
        let y = output(&s1.device, s1.dtype(), n, |ya| run(&s1.device, "add_relu_fwd", s1.dtype(), &[aa, ba, ya], n))?;
        Ok((y, l1.shape().clone()))
    }

    fn bwd(&self, a: &Tensor, b: &Tensor, y: &Tensor, dy: &Tensor) -> Result<(Option<Tensor>, Option<Tensor>)> {
        let d = masked_grad(y, dy)?;
        Ok((a.track_op().then(|| d.clone()), b.track_op().then_some(d)))
    }
}
