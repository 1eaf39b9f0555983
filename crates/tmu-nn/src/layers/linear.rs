//! Fully connected layer with PyTorch's `nn.Linear` parameters (`weight` `[out, in]`, `bias`) and
//! default initialisation.

use candle_core::{D, Result, Tensor};
use candle_nn::VarBuilder;

use crate::init::{fan_in_bound, uniform};

#[derive(Clone, Debug)]
pub struct Linear {
    weight: Tensor,
    bias: Tensor,
}

/// `nn.Linear(d_in, d_out)` under `vb`; weight and bias from U(-1/sqrt(d_in), 1/sqrt(d_in)).
pub fn linear(d_in: usize, d_out: usize, vb: VarBuilder) -> Result<Linear> {
    let bound = fan_in_bound(d_in);
    let weight = vb.get_with_hints((d_out, d_in), "weight", uniform(bound))?;
    let bias = vb.get_with_hints(d_out, "bias", uniform(bound))?;
    Ok(Linear { weight, bias })
}

impl Linear {
    /// `x @ weight^T + bias` over the last dimension of `x` (any rank >= 2).
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let dims = x.dims().to_vec();
        let d_in = *dims.last().expect("rank >= 1");
        let rows = x.elem_count() / d_in.max(1);
        // Under mixed precision the input may be bf16: the weights are cast to it (differentiably;
        // a no-op for f32).
        let (w, b) = (self.weight.to_dtype(x.dtype())?, self.bias.to_dtype(x.dtype())?);
        let y = crate::ops::linear(&x.reshape((rows, d_in))?, &w, &b)?;
        let mut out = dims;
        *out.last_mut().expect("rank >= 1") = y.dim(D::Minus1)?;
        y.reshape(out)
    }
}
