//! One Adam / AdamW update of one parameter, PyTorch's `torch.optim.Adam` / `AdamW` step
//! (no amsgrad): one fused kernel on cuda f32 parameters (feature `cuda`), candle ops elsewhere.

use candle_core::{Result, Tensor, Var};

use super::AdamConfig;

/// The first and second moment estimates of one parameter.
pub(super) struct Moments<'a> {
    pub m: &'a mut Tensor,
    pub v: &'a mut Tensor,
}

/// Updates `p` in place (`decoupled`: AdamW's weight decay); `step` is the 1-based step count.
pub(super) fn adam_update(
    c: &AdamConfig,
    decoupled: bool,
    lr: f64,
    step: u64,
    p: &Var,
    g: &Tensor,
    Moments { m, v }: Moments,
) -> Result<()> {
    #[cfg(feature = "cuda")]
    if crate::ops::cuda::optimizer_applies(p.as_tensor()) {
        let s = crate::ops::cuda::AdamStep {
            lr,
            beta1: c.beta1,
            beta2: c.beta2,
            eps: c.eps,
            weight_decay: c.weight_decay,
            decoupled,
            step,
        };
        return crate::ops::cuda::adam_update(p, g, m, v, &s);
    }
    let mut pv = p.as_tensor().detach();
    let mut g = g.clone();
    if c.weight_decay != 0.0 {
        if decoupled {
            pv = pv.affine(1.0 - lr * c.weight_decay, 0.0)?;
        } else {
            g = (g + pv.affine(c.weight_decay, 0.0)?)?;
        }
    }
    *m = (m.affine(c.beta1, 0.0)? + g.affine(1.0 - c.beta1, 0.0)?)?;
    *v = (v.affine(c.beta2, 0.0)? + g.sqr()?.affine(1.0 - c.beta2, 0.0)?)?;
    let bc1 = 1.0 - c.beta1.powf(step as f64);
    let bc2 = 1.0 - c.beta2.powf(step as f64);
    let denom = v.sqrt()?.affine(1.0 / bc2.sqrt(), c.eps)?;
    let update = m.div(&denom)?.affine(lr / bc1, 0.0)?;
    p.set(&(pv - update)?)
}
