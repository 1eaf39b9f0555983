//! One SGD update of one parameter, PyTorch's `torch.optim.SGD` step.

use candle_core::{Result, Tensor};

use super::SgdConfig;

/// Updates `p` in place from gradient `g`; `buf` is the momentum buffer (created on the first
/// step as a copy of the gradient, as PyTorch does).
pub(super) fn sgd_update(
    c: &SgdConfig,
    lr: f64,
    p: &candle_core::Var,
    g: &Tensor,
    buf: &mut Option<Tensor>,
) -> Result<()> {
    let pv = p.as_tensor().detach();
    let mut d = if c.weight_decay != 0.0 { (g + pv.affine(c.weight_decay, 0.0)?)? } else { g.clone() };
    if c.momentum != 0.0 {
        let b = match buf.take() {
            None => d.copy()?,
            Some(b) => (b.affine(c.momentum, 0.0)? + d.affine(1.0 - c.dampening, 0.0)?)?,
        };
        d = if c.nesterov { (d + b.affine(c.momentum, 0.0)?)? } else { b.clone() };
        *buf = Some(b);
    }
    p.set(&(pv - d.affine(lr, 0.0)?)?)
}
