//! Per-layer gradient comparison shared by the CPU tests (`tests/it/grad_tolerance.rs`, which
//! shows the tolerances see a wrong gradient) and the GPU parity tests
//! (`tests/cuda_parity/gradients.rs`, CUDA against the CPU at batch 128).
//!
//! The error of a layer is `|g - g_ref|_2 / |g_ref|_2`: relative to the layer's own gradient
//! norm, so a layer with small gradients is held to the same standard as a large one, and a
//! wrong term (a transposed kernel, a dropped tap or branch) shows as an O(0.1..1) error
//! whatever the layer's scale.

use candle_core::{DType, Device, Tensor};

/// Tolerances of the per-layer relative error, per precision tier, chosen from the rounding of
/// each tier (not measured): f32 differs from the CPU only in summation order (f32 epsilon
/// 1.2e-7, sums of up to ~10^5 terms); TF32 rounds the convolution inputs to 10 mantissa bits
/// (4.9e-4 per element); bf16 stores activations in 8 mantissa bits (3.9e-3 per element) through
/// 20 layers. `grad_tolerance.rs` checks that wrong gradients (a spatially transposed kernel
/// gradient, one of nine taps dropped) exceed even the bf16 bound in every layer.
#[allow(dead_code)] // the CPU tests use only the bf16 bound
pub const TOL_F32: f64 = 1e-3;
#[allow(dead_code)]
pub const TOL_TF32: f64 = 2e-2;
pub const TOL_BF16: f64 = 1e-1;

/// The values of `t` as f64 on the host.
fn values(t: &Tensor) -> Vec<f64> {
    t.to_device(&Device::Cpu).unwrap().to_dtype(DType::F64).unwrap().flatten_all().unwrap().to_vec1().unwrap()
}

/// `|t|_2`.
pub fn norm(t: &Tensor) -> f64 {
    values(t).iter().map(|v| v * v).sum::<f64>().sqrt()
}

/// `|got - want| / |want|` over all elements (in f64; 0 when both are zero).
pub fn relative_error(got: &Tensor, want: &Tensor) -> f64 {
    let (g, w) = (values(got), values(want));
    assert_eq!(g.len(), w.len(), "gradient sizes differ");
    let diff: f64 = g.iter().zip(&w).map(|(a, b)| (a - b) * (a - b)).sum::<f64>().sqrt();
    let norm: f64 = w.iter().map(|b| b * b).sum::<f64>().sqrt();
    if norm == 0.0 { if diff == 0.0 { 0.0 } else { f64::INFINITY } } else { diff / norm }
}

/// Compares two lists of `(layer, gradient)` in the same order; prints one line per layer in
/// the GPU check's format and returns the layers over `tol` with their errors.
pub fn compare_layers(what: &str, got: &[(String, Tensor)], want: &[(String, Tensor)], tol: f64) -> Vec<(String, f64)> {
    assert_eq!(got.len(), want.len(), "{what}: layer counts differ");
    let mut over = Vec::new();
    for ((n, g), (m, w)) in got.iter().zip(want) {
        assert_eq!(n, m, "{what}: layer order");
        let err = relative_error(g, w);
        let norm = norm(w);
        println!("{what} {n}: relative error {err:.2e} (norm {norm:.2e}, tolerance {tol:.1e})");
        // NaN is over every tolerance.
        if err.is_nan() || err > tol {
            over.push((n.clone(), err));
        }
    }
    over
}

/// The gradient of the mean cross-entropy of one training-mode forward pass of `net` on
/// `(x, y)` with respect to every trainable parameter, before any optimizer step.
pub fn network_grads(net: &tmu_nn::Network, x: &Tensor, y: &Tensor) -> Vec<(String, Tensor)> {
    let logits = net.forward_t(x, true).unwrap();
    let loss = candle_nn::loss::cross_entropy(&logits, y).unwrap();
    let grads = loss.backward().unwrap();
    net.trainable_vars()
        .into_iter()
        .map(|(n, v)| {
            let g = grads.get(v.as_tensor()).unwrap_or_else(|| panic!("{n} has no gradient")).clone();
            (n, g)
        })
        .collect()
}
