//! Fused optimizer steps on CUDA (`kernels/optim.cu`): one kernel per parameter tensor updates
//! the f32 parameter and its state in place (PyTorch's SGD with momentum, dampening, Nesterov and
//! weight decay; Adam and AdamW). candle's composition allocates several temporaries per step.
//!
//! The kernels write the parameter and its state buffers through their device addresses: the
//! optimizer owns the state exclusively, and the parameter's storage is shared only with the
//! model's own handles to it, which is what an in-place update means (as `Var::set` does).

use candle_core::cuda_backend::WrapErr;
use candle_core::cuda_backend::cudarc::driver::PushKernelArg;
use candle_core::{DType, Result, Tensor, Var};

use super::device::{Kernel, Module, addr, alloc_out, cuda_device, grid_1d, tensor_from};
use crate::ops::SgdCfg;

/// True when the fused kernels apply: an f32 contiguous parameter on a cuda device.
pub(crate) fn applies(param: &Tensor) -> bool {
    param.device().is_cuda() && param.dtype() == DType::F32 && param.is_contiguous()
}

/// `grad` as contiguous f32 of the parameter's shape.
fn grad_f32(param: &Tensor, grad: &Tensor) -> Result<Tensor> {
    if grad.shape() != param.shape() {
        candle_core::bail!(
            "optimizer: gradient shape {:?} differs from the parameter's {:?}",
            grad.dims(),
            param.dims()
        );
    }
    if grad.dtype() == DType::F32 { grad.contiguous() } else { grad.to_dtype(DType::F32)?.contiguous() }
}

/// A state buffer usable in place: f32, contiguous, of the parameter's shape.
fn state_f32(param: &Tensor, t: Tensor, what: &str) -> Result<Tensor> {
    if t.shape() != param.shape() {
        candle_core::bail!("optimizer: {what} has shape {:?}, the parameter {:?}", t.dims(), param.dims());
    }
    let t = if t.dtype() == DType::F32 { t } else { t.to_dtype(DType::F32)? };
    // A non-contiguous buffer is replaced by a contiguous copy, which the caller keeps.
    t.contiguous()
}

/// `torch.optim.SGD.step` for one parameter (see `ops::sgd_momentum_update`); the momentum
/// buffer is created on the first step.
pub(crate) fn sgd_update(param: &Var, grad: &Tensor, momentum_buf: &mut Option<Tensor>, cfg: &SgdCfg) -> Result<()> {
    let p = param.as_tensor();
    let dev = cuda_device(p, "sgd")?;
    let stream = dev.cuda_stream();
    let grad = grad_f32(p, grad)?;
    let n = p.elem_count();
    let first = momentum_buf.is_none();
    let buf = if cfg.momentum == 0.0 {
        None
    } else {
        Some(match momentum_buf.take() {
            Some(b) => state_f32(p, b, "the momentum buffer")?,
            // written in full by the first step (buf = d)
            None => tensor_from(alloc_out::<f32>(&dev, n)?, &dev, p.shape().clone()),
        })
    };
    let (pa, ga) = (addr(p, "sgd")?, addr(&grad, "sgd")?);
    let ba = match &buf {
        Some(b) => addr(b, "sgd")?,
        None => 0u64,
    };
    let (n64, lr, momentum, keep, wd) =
        (n as u64, cfg.lr as f32, cfg.momentum as f32, (1.0 - cfg.dampening) as f32, cfg.weight_decay as f32);
    let (first, nesterov) = (i32::from(first), i32::from(cfg.nesterov));
    let k = Kernel::new(&dev, Module::Optim, "sgd_step_f32")?;
    let mut a = k.args(&stream);
    a.arg(&pa).arg(&ga).arg(&ba).arg(&n64).arg(&lr).arg(&momentum).arg(&keep).arg(&wd).arg(&first).arg(&nesterov);
    // SAFETY: p, grad and (with momentum) buf are distinct contiguous f32 buffers of n elements;
    // the kernel reads and writes element i of each only in thread i, and never touches buf
    // without momentum (its address is then 0).
    unsafe { a.launch(grid_1d(n)) }.w()?;
    if let Some(b) = buf {
        *momentum_buf = Some(b);
    }
    Ok(())
}

/// Hyper-parameters of one Adam / AdamW step.
#[derive(Clone, Copy, Debug)]
pub(crate) struct AdamStep {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// AdamW's decoupled decay instead of Adam's L2 term.
    pub decoupled: bool,
    /// 1-based step count.
    pub step: u64,
}

/// One Adam / AdamW step in place on `param` and the moments `m`, `v` (PyTorch's update, as
/// `optim::adam`'s candle composition computes it).
pub(crate) fn adam_update(param: &Var, grad: &Tensor, m: &mut Tensor, v: &mut Tensor, s: &AdamStep) -> Result<()> {
    let p = param.as_tensor();
    let dev = cuda_device(p, "adam")?;
    let stream = dev.cuda_stream();
    let grad = grad_f32(p, grad)?;
    *m = state_f32(p, m.clone(), "exp_avg")?;
    *v = state_f32(p, v.clone(), "exp_avg_sq")?;
    let n = p.elem_count();
    let (pa, ga, ma, va) = (addr(p, "adam")?, addr(&grad, "adam")?, addr(m, "adam")?, addr(v, "adam")?);
    if ma == va || ma == pa || va == pa {
        candle_core::bail!("adam: the parameter and its two moments must be distinct buffers");
    }
    let bc1 = (1.0 - s.beta1.powf(s.step as f64)) as f32;
    let bc2_sqrt = (1.0 - s.beta2.powf(s.step as f64)).sqrt() as f32;
    let (n64, lr, b1, b2, eps, wd) =
        (n as u64, s.lr as f32, s.beta1 as f32, s.beta2 as f32, s.eps as f32, s.weight_decay as f32);
    let decoupled = i32::from(s.decoupled);
    let k = Kernel::new(&dev, Module::Optim, "adam_step_f32")?;
    let mut a = k.args(&stream);
    a.arg(&pa).arg(&ga).arg(&ma).arg(&va).arg(&n64).arg(&lr).arg(&b1).arg(&b2).arg(&eps).arg(&wd);
    a.arg(&decoupled).arg(&bc1).arg(&bc2_sqrt);
    // SAFETY: p, grad, m and v are distinct (checked above for the three written ones)
    // contiguous f32 buffers of n elements; thread i reads and writes element i only.
    unsafe { a.launch(grid_1d(n)) }.w()?;
    Ok(())
}
