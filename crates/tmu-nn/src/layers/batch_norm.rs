//! Batch normalisation over `[B, C, H, W]` with PyTorch's `nn.BatchNorm2d` parameters and buffers
//! (`weight`, `bias`, `running_mean`, `running_var`, `num_batches_tracked`).
//!
//! Train mode normalises with the batch statistics (biased variance) and updates the running
//! ones by `running = (1 - momentum) * running + momentum * batch` with the unbiased variance,
//! exactly as PyTorch does; eval mode uses the running statistics. The computation is
//! `crate::ops`' fused batch norm (optionally fused with the following ReLU).

use candle_core::{DType, Result, Tensor, Var};
use candle_nn::{Init, VarBuilder};

use super::Mode;
use crate::ops;

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
        self.forward_maybe_relu(x, mode, false)
    }

    /// `relu(self.forward(x))`, fused in train mode.
    pub fn forward_relu(&self, x: &Tensor, mode: &Mode) -> Result<Tensor> {
        self.forward_maybe_relu(x, mode, true)
    }

    fn forward_maybe_relu(&self, x: &Tensor, mode: &Mode, relu: bool) -> Result<Tensor> {
        if !mode.is_train() {
            let y = ops::batch_norm_eval(
                x,
                &self.weight,
                &self.bias,
                self.running_mean.as_tensor(),
                self.running_var.as_tensor(),
                self.eps,
            )?;
            return if relu { ops::relu(&y) } else { Ok(y) };
        }
        let (y, mean, var_unbiased) = if relu {
            ops::batch_norm_relu_train(x, &self.weight, &self.bias, self.eps)?
        } else {
            ops::batch_norm_train(x, &self.weight, &self.bias, self.eps)?
        };
        ops::update_running_stats(&self.running_mean, &self.running_var, &mean, &var_unbiased, self.momentum)?;
        let count = self.num_batches_tracked.as_tensor().affine(1.0, 1.0)?;
        self.num_batches_tracked.set(&count)?;
        Ok(y)
    }
}
