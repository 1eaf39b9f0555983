//! One SGD update of one parameter, PyTorch's `torch.optim.SGD` step, through
//! `crate::ops::sgd_momentum_update` (in-place passes on CPU).

use candle_core::{Result, Tensor, Var};

use super::SgdConfig;
use crate::ops::{SgdCfg, sgd_momentum_update};

/// Updates `p` in place from gradient `g`; `buf` is the momentum buffer (created on the first
/// step as a copy of the gradient, as PyTorch does).
pub(super) fn sgd_update(c: &SgdConfig, lr: f64, p: &Var, g: &Tensor, buf: &mut Option<Tensor>) -> Result<()> {
    let cfg =
        SgdCfg { lr, momentum: c.momentum, weight_decay: c.weight_decay, dampening: c.dampening, nesterov: c.nesterov };
    sgd_momentum_update(p, g, buf, &cfg)
}
