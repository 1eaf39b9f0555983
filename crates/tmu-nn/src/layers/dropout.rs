//! Dropout whose masks come from the seeded host generator of the forward pass (see [`Mode`]).

use candle_core::{Result, Tensor};
use rand::Rng;

use super::Mode;

/// Zeroes each element with probability `p` in train mode and scales the rest by `1/(1-p)`
/// (PyTorch's `nn.Dropout`); the identity in eval mode.
#[derive(Clone, Copy, Debug)]
pub struct Dropout {
    p: f32,
}

impl Dropout {
    pub fn new(p: f32) -> Self {
        Dropout { p }
    }

    pub fn forward(&self, x: &Tensor, mode: &mut Mode) -> Result<Tensor> {
        let p = self.p;
        let Some(rng) = mode.rng() else { return Ok(x.clone()) };
        if p <= 0.0 {
            return Ok(x.clone());
        }
        if p >= 1.0 {
            return x.zeros_like();
        }
        // 24 random bits per element: exact enough for any p and cheaper than an f32 draw.
        let threshold = (p as f64 * (1u32 << 24) as f64) as u32;
        let keep = 1.0 / (1.0 - p);
        let mask: Vec<f32> =
            (0..x.elem_count()).map(|_| if (rng.random::<u32>() >> 8) < threshold { 0.0 } else { keep }).collect();
        let mask = Tensor::from_vec(mask, x.shape(), x.device())?.to_dtype(x.dtype())?;
        x.mul(&mask)
    }
}
