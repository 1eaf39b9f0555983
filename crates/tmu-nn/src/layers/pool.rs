//! Pooling: global average pooling, k x k max pooling, and the 3x3/2 max pooling (padding 1)
//! of the ImageNet ResNet stem. Max pooling is built from reshape and max: candle 0.11's own
//! `max_pool2d` backward scales the gradient of a single maximum by 1/k^2, and it has no padding
//! and no backward for overlapping windows.

use candle_core::{DType, Result, Tensor};

/// Mean over the spatial dimensions: `[B, C, H, W]` -> `[B, C]`, in f32 (bf16 activations of mixed
/// precision are widened first, so the features and the classifier head are f32).
pub fn global_avg_pool(x: &Tensor) -> Result<Tensor> {
    x.to_dtype(DType::F32)?.mean((2, 3))
}

/// Non-overlapping `k`x`k` max pooling with stride `k`, trailing rows and columns dropped
/// (PyTorch's `nn.MaxPool2d(k)`). The gradient goes to every maximum of a window (PyTorch picks
/// one); after a ReLU, ties are zeros whose gradient the ReLU stops anyway.
pub fn max_pool2d(x: &Tensor, k: usize) -> Result<Tensor> {
    let (b, c, h, w) = x.dims4()?;
    let (ho, wo) = (h / k, w / k);
    let x = if ho * k != h || wo * k != w { x.narrow(2, 0, ho * k)?.narrow(3, 0, wo * k)? } else { x.clone() };
    x.reshape((b, c, ho, k, wo, k))?.max(5)?.max(3)
}

/// PyTorch's `nn.MaxPool2d(kernel_size=3, stride=2, padding=1)` for inputs that are
/// non-negative (it follows a ReLU in the ResNet stem), so that zero padding equals PyTorch's
/// -inf padding. Differentiable: built from narrow, reshape and elementwise maximum.
pub fn max_pool_3x3_s2_p1(x: &Tensor) -> Result<Tensor> {
    let x = window_max(x, 2)?;
    window_max(&x, 3)
}

/// Max over windows of 3 with stride 2 and padding 1 along dimension `dim` (2 or 3).
fn window_max(x: &Tensor, dim: usize) -> Result<Tensor> {
    let n = x.dim(dim)?;
    let out = (n + 2 - 3) / 2 + 1;
    // Pad so that offsets 0, 1, 2 each have 2 * out entries: position 2i + s for s in 0..3.
    let padded = x.pad_with_zeros(dim, 1, 2 * out + 2 - (n + 1))?;
    let mut result: Option<Tensor> = None;
    for s in 0..3 {
        let mut shape = padded.dims().to_vec();
        shape[dim] = out;
        shape.insert(dim + 1, 2);
        let taken = padded.narrow(dim, s, 2 * out)?.reshape(shape)?.narrow(dim + 1, 0, 1)?.squeeze(dim + 1)?;
        result = Some(match result {
            None => taken,
            Some(r) => r.maximum(&taken)?,
        });
    }
    Ok(result.expect("three offsets"))
}
