//! 2-d convolution with PyTorch's `nn.Conv2d` parameters (`weight` `[out, in, k, k]`, `bias`) and
//! default initialisation; the computation goes through `crate::ops::conv2d`.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

use crate::init::{fan_in_bound, uniform};
use crate::ops::{Conv2dCfg, conv2d as conv2d_op};

/// Stride, zero padding and whether there is a bias (PyTorch's `bias=True` default).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Conv2dConfig {
    pub stride: usize,
    pub padding: usize,
    pub bias: bool,
}

impl Default for Conv2dConfig {
    fn default() -> Self {
        Conv2dConfig { stride: 1, padding: 0, bias: true }
    }
}

/// A square-kernel convolution.
#[derive(Clone, Debug)]
pub struct Conv2d {
    weight: Tensor,
    bias: Option<Tensor>,
    cfg: Conv2dConfig,
}

/// `nn.Conv2d(c_in, c_out, k, stride, padding, bias)` under `vb`; weights and bias drawn from
/// U(-1/sqrt(fan_in), 1/sqrt(fan_in)) with fan_in = c_in * k * k.
pub fn conv2d(c_in: usize, c_out: usize, k: usize, cfg: Conv2dConfig, vb: VarBuilder) -> Result<Conv2d> {
    let bound = fan_in_bound(c_in * k * k);
    let weight = vb.get_with_hints((c_out, c_in, k, k), "weight", uniform(bound))?;
    let bias = if cfg.bias { Some(vb.get_with_hints(c_out, "bias", uniform(bound))?) } else { None };
    Ok(Conv2d { weight, bias, cfg })
}

impl Conv2d {
    pub fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let cfg = Conv2dCfg { stride: self.cfg.stride, padding: self.cfg.padding };
        conv2d_op(x, &self.weight, self.bias.as_ref(), cfg)
    }

    pub fn weight(&self) -> &Tensor {
        &self.weight
    }
}
