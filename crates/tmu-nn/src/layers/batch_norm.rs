//! Batch normalisation over [B, C, H, W] with PyTorch's `nn.BatchNorm2d` parameters and buffers
//! (`weight`, `bias`, `running_mean`, `running_var`, `num_batches_tracked`).
//!
//! Train mode normalises with the batch statistics (biased variance) and updates the running
//! ones by `running = (1 - momentum) * running + momentum * batch` with the unbiased variance,
//! exactly as PyTorch does; eval mode uses the running statistics.

use candle_core::{DType, Result, Tensor, Var};
use candle_nn::{Init, VarBuilder};

use super::Mode;

#[derive(Clone, Debug)]
pub struct BatchNorm2d {
    weight: Tensor,
    bias: Tensor,
    running_mean: Var,
    running_var: Var,
    num_batches_tracked: Var,
    eps: f64,
    momentum: f64,
}

/// `nn.BatchNorm2d(channels)` under `vb` (eps 1e-5, momentum 0.1, weight 1, bias 0).
pub fn batch_norm2d(channels: usize, vb: VarBuilder) -> Result<BatchNorm2d> {
    let weight = vb.get_with_hints(channels, "weight", Init::Const(1.0))?;
    let bias = vb.get_with_hints(channels, "bias", Init::Const(0.0))?;
    let running_mean = Var::from_tensor(&vb.get_with_hints(channels, "running_mean", Init::Const(0.0))?)?;
    let running_var = Var::from_tensor(&vb.get_with_hints(channels, "running_var", Init::Const(1.0))?)?;
    let num_batches_tracked =
        Var::from_tensor(&vb.get_with_hints_dtype((), "num_batches_tracked", Init::Const(0.0), DType::I64)?)?;
    Ok(BatchNorm2d { weight, bias, running_mean, running_var, num_batches_tracked, eps: 1e-5, momentum: 0.1 })
}

impl BatchNorm2d {
    pub fn forward(&self, x: &Tensor, mode: &Mode) -> Result<Tensor> {
        let c = self.weight.dim(0)?;
        if mode.is_train() {
            let (b, _, h, w) = x.dims4()?;
            let n = (b * h * w) as f64;
            if n < 2.0 {
                candle_core::bail!("batch norm in train mode needs more than one value per channel, got {n}");
            }
            let mean = (x.sum_keepdim((0, 2, 3))? / n)?;
            let xc = x.broadcast_sub(&mean)?;
            let var = (xc.sqr()?.sum_keepdim((0, 2, 3))? / n)?;
            let scale = (var.affine(1.0, self.eps)?.sqrt()?.recip()?.reshape(c)? * &self.weight)?;
            let y =
                xc.broadcast_mul(&scale.reshape((1, c, 1, 1))?)?.broadcast_add(&self.bias.reshape((1, c, 1, 1))?)?;
            self.update_running(&mean.detach().reshape(c)?, &var.detach().reshape(c)?, n)?;
            Ok(y)
        } else {
            let scale = (self.running_var.as_tensor().affine(1.0, self.eps)?.sqrt()?.recip()? * &self.weight)?;
            let shift = (&self.bias - (self.running_mean.as_tensor() * &scale)?)?;
            x.broadcast_mul(&scale.reshape((1, c, 1, 1))?)?.broadcast_add(&shift.reshape((1, c, 1, 1))?)
        }
    }

    fn update_running(&self, mean: &Tensor, var: &Tensor, n: f64) -> Result<()> {
        let m = self.momentum;
        let rm = (self.running_mean.as_tensor().affine(1.0 - m, 0.0)? + mean.affine(m, 0.0)?)?;
        let rv = (self.running_var.as_tensor().affine(1.0 - m, 0.0)? + var.affine(m * n / (n - 1.0), 0.0)?)?;
        self.running_mean.set(&rm)?;
        self.running_var.set(&rv)?;
        let count = self.num_batches_tracked.as_tensor().affine(1.0, 1.0)?;
        self.num_batches_tracked.set(&count)
    }
}
