//! One step of PyTorch's `torch.optim.SGD` (momentum, dampening, Nesterov, weight decay) for one
//! parameter: two in-place parallel passes on CPU f32, one fused kernel on cuda f32 (feature
//! `cuda`), candle ops and `Var::set` elsewhere.

use candle_core::{CpuStorage, Layout, Result, Tensor, Var};
use rayon::prelude::*;

use super::cpu::is_cpu_f32;

/// Elements per parallel task.
const CHUNK: usize = 1 << 15;

/// Hyper-parameters of [`sgd_momentum_update`], PyTorch's names and meaning.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SgdCfg {
    /// Learning rate.
    pub lr: f64,
    /// Momentum factor (0 disables the buffer).
    pub momentum: f64,
    /// L2 penalty added to the gradient: `g + weight_decay * p`.
    pub weight_decay: f64,
    /// Dampening of the gradient in the momentum buffer.
    pub dampening: f64,
    /// Nesterov momentum (needs `momentum > 0` and `dampening == 0`, as in PyTorch).
    pub nesterov: bool,
}

/// `torch.optim.SGD.step` for one parameter, in place:
/// `d = g + wd * p`; with momentum `buf = d` on the first step (when `momentum_buf` is `None`,
/// which this sets) and `buf = momentum * buf + (1 - dampening) * d` after; `d = d + momentum *
/// buf` (Nesterov) or `d = buf`; then `p -= lr * d`.
pub fn sgd_momentum_update(param: &Var, grad: &Tensor, momentum_buf: &mut Option<Tensor>, cfg: &SgdCfg) -> Result<()> {
    super::profile::timed("sgd.update", || update(param, grad, momentum_buf, cfg))
}

fn update(param: &Var, grad: &Tensor, momentum_buf: &mut Option<Tensor>, cfg: &SgdCfg) -> Result<()> {
    if cfg.nesterov && (cfg.momentum <= 0.0 || cfg.dampening != 0.0) {
        candle_core::bail!("sgd: nesterov momentum requires a momentum and zero dampening");
    }
    if param.shape() != grad.shape() {
        candle_core::bail!("sgd: gradient shape {:?} differs from the parameter's {:?}", grad.dims(), param.dims());
    }
    let p = param.as_tensor();
    #[cfg(feature = "cuda")]
    if super::cuda::optimizer_applies(p) {
        return super::cuda::sgd_update(param, grad, momentum_buf, cfg);
    }
    let fast = is_cpu_f32(&[p, grad]) && p.is_contiguous() && momentum_buf.as_ref().is_none_or(|b| is_cpu_f32(&[b]));
    if !fast {
        return update_composed(param, grad, momentum_buf, cfg);
    }
    let grad = grad.contiguous()?;
    if cfg.momentum == 0.0 {
        return p.inplace_op2(&grad, &PlainStep { lr: cfg.lr as f32, wd: cfg.weight_decay as f32 });
    }
    let first = momentum_buf.is_none();
    let buf = match momentum_buf.take() {
        Some(b) => b.contiguous()?,
        None => p.zeros_like()?,
    };
    let mom = MomentumStep {
        momentum: cfg.momentum as f32,
        keep: (1.0 - cfg.dampening) as f32,
        wd: cfg.weight_decay as f32,
        first,
    };
    buf.inplace_op3(&grad, p, &mom)?;
    let step = ParamStep {
        lr: cfg.lr as f32,
        momentum: cfg.momentum as f32,
        wd: cfg.weight_decay as f32,
        nesterov: cfg.nesterov,
    };
    let res = p.inplace_op3(&grad, &buf, &step);
    *momentum_buf = Some(buf);
    res
}

/// The same update from candle ops (any device, any float dtype).
fn update_composed(param: &Var, grad: &Tensor, momentum_buf: &mut Option<Tensor>, cfg: &SgdCfg) -> Result<()> {
    let p = param.as_tensor().detach();
    let mut d = grad.detach();
    if cfg.weight_decay != 0.0 {
        d = (d + (&p * cfg.weight_decay)?)?;
    }
    if cfg.momentum != 0.0 {
        let buf = match momentum_buf.take() {
            None => d.copy()?,
            Some(b) => ((b * cfg.momentum)? + (&d * (1.0 - cfg.dampening))?)?,
        };
        d = if cfg.nesterov { (d + (&buf * cfg.momentum)?)? } else { buf.clone() };
        *momentum_buf = Some(buf);
    }
    param.set(&(p - (d * cfg.lr)?)?)
}

/// Mutable contiguous f32 data of an in-place destination.
fn dst_f32<'a>(s: &'a mut CpuStorage, l: &Layout, op: &str) -> Result<&'a mut [f32]> {
    let Some((start, end)) = l.contiguous_offsets() else {
        candle_core::bail!("{op}: expected a contiguous destination");
    };
    match s {
        CpuStorage::F32(v) => Ok(&mut v[start..end]),
        _ => candle_core::bail!("{op}: expected f32 storage"),
    }
}

/// `p -= lr * (g + wd * p)`.
struct PlainStep {
    lr: f32,
    wd: f32,
}

impl candle_core::InplaceOp2 for PlainStep {
    fn name(&self) -> &'static str {
        "tmu-sgd-step"
    }

    fn cpu_fwd(&self, s1: &mut CpuStorage, l1: &Layout, s2: &CpuStorage, l2: &Layout) -> Result<()> {
        let g = super::cpu::slice_f32(s2, l2, "sgd")?;
        let p = dst_f32(s1, l1, "sgd")?;
        p.par_chunks_mut(CHUNK).zip(g.par_chunks(CHUNK)).for_each(|(pc, gc)| {
            for (p, &g) in pc.iter_mut().zip(gc) {
                let d = g + self.wd * *p;
                *p -= self.lr * d;
            }
        });
        Ok(())
    }
}

/// `buf = first ? d : momentum * buf + keep * d` with `d = g + wd * p`.
struct MomentumStep {
    momentum: f32,
    keep: f32,
    wd: f32,
    first: bool,
}

impl candle_core::InplaceOp3 for MomentumStep {
    fn name(&self) -> &'static str {
        "tmu-sgd-momentum"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<()> {
        let g = super::cpu::slice_f32(s2, l2, "sgd")?;
        let p = super::cpu::slice_f32(s3, l3, "sgd")?;
        let buf = dst_f32(s1, l1, "sgd")?;
        buf.par_chunks_mut(CHUNK).zip(g.par_chunks(CHUNK)).zip(p.par_chunks(CHUNK)).for_each(|((bc, gc), pc)| {
            for ((b, &g), &p) in bc.iter_mut().zip(gc).zip(pc) {
                let d = g + self.wd * p;
                *b = if self.first { d } else { self.momentum * *b + self.keep * d };
            }
        });
        Ok(())
    }
}

/// `p -= lr * (nesterov ? d + momentum * buf : buf)` with `d = g + wd * p`.
struct ParamStep {
    lr: f32,
    momentum: f32,
    wd: f32,
    nesterov: bool,
}

impl candle_core::InplaceOp3 for ParamStep {
    fn name(&self) -> &'static str {
        "tmu-sgd-param"
    }

    fn cpu_fwd(
        &self,
        s1: &mut CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<()> {
        let g = super::cpu::slice_f32(s2, l2, "sgd")?;
        let buf = super::cpu::slice_f32(s3, l3, "sgd")?;
        let p = dst_f32(s1, l1, "sgd")?;
        p.par_chunks_mut(CHUNK).zip(g.par_chunks(CHUNK)).zip(buf.par_chunks(CHUNK)).for_each(|((pc, gc), bc)| {
            for ((p, &g), &b) in pc.iter_mut().zip(gc).zip(bc) {
                let step = if self.nesterov { g + self.wd * *p + self.momentum * b } else { b };
                *p -= self.lr * step;
            }
        });
        Ok(())
    }
}
