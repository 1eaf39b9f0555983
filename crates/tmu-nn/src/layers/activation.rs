//! Activations: ReLU and the residual join `relu(a + b)`, through `crate::ops`' single-pass
//! kernels (candle's ReLU backward is several ops).

use candle_core::{Result, Tensor};

use crate::ops;

/// `max(x, 0)`; gradient where the output is positive.
pub fn relu(x: &Tensor) -> Result<Tensor> {
    ops::relu(x)
}

/// `relu(a + b)` (the end of a residual block).
pub fn add_relu(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    ops::add_relu(a, b)
}
