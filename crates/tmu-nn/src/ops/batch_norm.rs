//! Batch normalisation over NCHW tensors (PyTorch's `BatchNorm2d`): the training form with a fused
//! CPU forward/backward (optionally fused with the following ReLU), the inference form and the
//! running-statistics update. cuda tensors use `cuda::batch_norm` (feature `cuda`); other devices
//! and dtypes a plain candle composition.
//!
//! Backward of the training form, per channel with `N = b * h * w`, `d` the output gradient
//! (masked by `y > 0` when fused with ReLU), `xc = x - mean`, `is = 1 / sqrt(var + eps)`:
//! `dbeta = sum d`, `dgamma = is * sum d * xc`,
//! `dx = gamma * is * (d - sum d / N - xc * is^2 * sum(d * xc) / N)`.

use std::sync::Arc;

use candle_core::{CpuStorage, D, Layout, Result, Shape, Tensor, Var};

use super::batch_norm_cpu::{self, BnGeom};
use super::cpu::{is_cpu_f32, slice_f32, tensor_from_vec, with_f32};
use super::profile::timed;

/// Training-mode batch norm: normalises `x: [b, c, h, w]` with the statistics of this batch, then
/// `y = gamma * xhat + beta`. Returns `(y, batch_mean, batch_var_unbiased)`, the last two `[c]`
/// and detached, ready for [`update_running_stats`].
pub fn batch_norm_train(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f64) -> Result<(Tensor, Tensor, Tensor)> {
    train(x, gamma, beta, eps, false)
}

/// `relu(batch_norm_train(x, gamma, beta, eps).0)` in one pass forward and backward; same outputs.
pub fn batch_norm_relu_train(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f64) -> Result<(Tensor, Tensor, Tensor)> {
    train(x, gamma, beta, eps, true)
}

/// Inference-mode batch norm with the running statistics:
/// `y = (x - running_mean) / sqrt(running_var + eps) * gamma + beta`.
pub fn batch_norm_eval(
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    running_mean: &Tensor,
    running_var: &Tensor,
    eps: f64,
) -> Result<Tensor> {
    let c = channels(x, gamma, beta)?;
    // per-channel affine map, computed on the [c] vectors then broadcast
    let scale = (gamma * (running_var + eps)?.sqrt()?.recip()?)?;
    let shift = (beta - (running_mean * &scale)?)?;
    x.broadcast_mul(&scale.reshape((1, c, 1, 1))?)?.broadcast_add(&shift.reshape((1, c, 1, 1))?)
}

/// PyTorch's running-statistics update (`momentum` 0.1 there):
/// `running = (1 - momentum) * running + momentum * batch`, with the unbiased batch variance.
pub fn update_running_stats(
    running_mean: &Var,
    running_var: &Var,
    batch_mean: &Tensor,
    batch_var_unbiased: &Tensor,
    momentum: f64,
) -> Result<()> {
    #[cfg(feature = "cuda")]
    if super::cuda::running_stats_apply(running_mean, running_var) {
        return super::cuda::update_running_stats(running_mean, running_var, batch_mean, batch_var_unbiased, momentum);
    }
    let keep = 1.0 - momentum;
    let m = ((running_mean.as_tensor() * keep)? + (batch_mean.detach() * momentum)?)?;
    let v = ((running_var.as_tensor() * keep)? + (batch_var_unbiased.detach() * momentum)?)?;
    running_mean.set(&m)?;
    running_var.set(&v)
}

/// Checks `x: [b, c, h, w]` against `gamma, beta: [c]` and returns `c`.
fn channels(x: &Tensor, gamma: &Tensor, beta: &Tensor) -> Result<usize> {
    let (_, c, _, _) = x.dims4()?;
    for (name, t) in [("gamma", gamma), ("beta", beta)] {
        if t.dims() != [c] {
            candle_core::bail!("batch_norm: {name} has shape {:?}, expected [{c}]", t.dims());
        }
    }
    Ok(c)
}

fn train(x: &Tensor, gamma: &Tensor, beta: &Tensor, eps: f64, relu: bool) -> Result<(Tensor, Tensor, Tensor)> {
    let c = channels(x, gamma, beta)?;
    let (b, _, h, w) = x.dims4()?;
    let g = BnGeom { b, c, hw: h * w };
    if g.count() < 2 {
        candle_core::bail!("batch_norm: training needs more than one value per channel, got {b}x{h}x{w}");
    }
    let unbias = g.count() as f64 / (g.count() - 1) as f64;
    #[cfg(feature = "cuda")]
    if super::cuda::handles(x) {
        return super::cuda::batch_norm_train(x, gamma, beta, eps, relu);
    }
    if !is_cpu_f32(&[x, gamma, beta]) {
        return train_composed(x, gamma, beta, eps, relu, unbias);
    }
    let x = x.contiguous()?;
    let (mean, var) = timed("batch_norm.stats", || with_f32(&x, "batch_norm", |xs| Ok(batch_norm_cpu::stats(&g, xs))))?;
    let invstd: Vec<f32> = var.iter().map(|&v| (1.0 / (f64::from(v) + eps).sqrt()) as f32).collect();
    let var_unbiased: Vec<f32> = var.iter().map(|&v| (f64::from(v) * unbias) as f32).collect();
    let op = BnTrainOp { g, mean: Arc::new(mean), invstd: Arc::new(invstd), relu };
    let mean_t = tensor_from_vec(op.mean.to_vec(), c)?;
    let y = x.apply_op3(&gamma.contiguous()?, &beta.contiguous()?, op)?;
    Ok((y, mean_t, tensor_from_vec(var_unbiased, c)?))
}

/// The same computation from candle ops (any device, any float dtype).
fn train_composed(
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    eps: f64,
    relu: bool,
    unbias: f64,
) -> Result<(Tensor, Tensor, Tensor)> {
    let c = gamma.dim(0)?;
    let (b, _, h, w) = x.dims4()?;
    // [b, c, h, w] -> [c, b * h * w]
    let flat = x.transpose(0, 1)?.reshape((c, b * h * w))?;
    let mean = flat.mean_keepdim(D::Minus1)?;
    let xc = flat.broadcast_sub(&mean)?;
    let var = xc.sqr()?.mean_keepdim(D::Minus1)?;
    let xhat = xc.broadcast_div(&(var.clone() + eps)?.sqrt()?)?;
    let y = xhat.broadcast_mul(&gamma.reshape((c, 1))?)?.broadcast_add(&beta.reshape((c, 1))?)?;
    let y = if relu { y.relu()? } else { y };
    let y = y.reshape((c, b, h, w))?.transpose(0, 1)?.contiguous()?;
    let var_unbiased = (var.detach().squeeze(1)? * unbias)?;
    Ok((y, mean.detach().squeeze(1)?, var_unbiased))
}

/// The candle custom op of the CPU training form; holds the batch statistics for the backward.
struct BnTrainOp {
    g: BnGeom,
    mean: Arc<Vec<f32>>,
    invstd: Arc<Vec<f32>>,
    relu: bool,
}

impl candle_core::CustomOp3 for BnTrainOp {
    fn name(&self) -> &'static str {
        "tmu-batch-norm-train"
    }

    fn cpu_fwd(
        &self,
        s1: &CpuStorage,
        l1: &Layout,
        s2: &CpuStorage,
        l2: &Layout,
        s3: &CpuStorage,
        l3: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let x = slice_f32(s1, l1, "batch_norm")?;
        let gamma = slice_f32(s2, l2, "batch_norm")?;
        let beta = slice_f32(s3, l3, "batch_norm")?;
        let scale: Vec<f32> = gamma.iter().zip(self.invstd.iter()).map(|(g, i)| g * i).collect();
        let shift: Vec<f32> = (0..self.g.c).map(|c| beta[c] - self.mean[c] * scale[c]).collect();
        let y = timed("batch_norm.normalize", || batch_norm_cpu::normalize(&self.g, x, &scale, &shift, self.relu));
        Ok((CpuStorage::F32(y), l1.shape().clone()))
    }

    fn bwd(
        &self,
        x: &Tensor,
        gamma: &Tensor,
        beta: &Tensor,
        y: &Tensor,
        dy: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let (dx, dgamma, dbeta) = timed("batch_norm.backward", || {
            with_f32(x, "batch_norm backward", |xs| {
                with_f32(y, "batch_norm backward", |ys| {
                    with_f32(dy, "batch_norm backward", |ds| {
                        with_f32(gamma, "batch_norm backward", |gs| {
                            Ok(batch_norm_cpu::backward(&self.g, xs, ys, ds, gs, &self.mean, &self.invstd, self.relu))
                        })
                    })
                })
            })
        })?;
        let c = self.g.c;
        let dx = x.track_op().then(|| tensor_from_vec(dx, x.shape().clone())).transpose()?;
        let dgamma = gamma.track_op().then(|| tensor_from_vec(dgamma, c)).transpose()?;
        let dbeta = beta.track_op().then(|| tensor_from_vec(dbeta, c)).transpose()?;
        Ok((dx, dgamma, dbeta))
    }
}
