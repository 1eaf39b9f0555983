//! The CUDA path (feature `cuda`) against the CPU path on seeded random inputs, on a GPU machine:
//! `cargo xtask gpu-check` builds this binary and its script runs it there. Every check prints
//! its max abs error and the tolerance it is held to.
//!
//! References: the CPU ops (`tmu_nn::ops` on CPU f32 tensors, themselves checked against candle
//! and a f64 loop in `ops_vs_candle.rs` and against PyTorch in `ops_reference.rs`) and, for the
//! convolution, candle's own CUDA convolution. Under bf16 the reference gets the same
//! bf16-rounded inputs in f32, so that only the kernel's own rounding is measured.

#[path = "../shared/grad_compare.rs"]
mod grad_compare;
mod gradients;
mod ops;
mod training;

use candle_core::{DType, Device, Tensor};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};

/// The GPU (these tests run only where there is one).
pub fn gpu() -> Device {
    Device::new_cuda(0).expect("the cuda parity tests need a cuda device (run them through cargo xtask gpu-check)")
}

/// A seeded normal f32 tensor `mean + std * N(0, 1)` on the CPU.
pub fn randn(seed: u64, shape: &[usize], mean: f32, std: f32) -> Tensor {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let dist = Normal::new(mean, std).unwrap();
    let n = shape.iter().product();
    Tensor::from_vec((0..n).map(|_| dist.sample(&mut rng)).collect::<Vec<_>>(), shape, &Device::Cpu).unwrap()
}

/// `t` rounded to bf16 and widened back to f32 (on the CPU).
pub fn bf16_rounded(t: &Tensor) -> Tensor {
    t.to_dtype(DType::BF16).unwrap().to_dtype(DType::F32).unwrap()
}

/// The values of `t` as f32 on the host.
pub fn values(t: &Tensor) -> Vec<f32> {
    t.to_device(&Device::Cpu).unwrap().to_dtype(DType::F32).unwrap().flatten_all().unwrap().to_vec1().unwrap()
}

/// Asserts `got` is within `tol * max(1, max |want|)` of `want` everywhere; prints the error.
pub fn check(what: &str, got: &Tensor, want: &Tensor, tol: f32) {
    assert_eq!(got.dims(), want.dims(), "{what}: shape");
    let (got, want) = (values(got), values(want));
    let scale = want.iter().fold(1f32, |m, v| m.max(v.abs()));
    let mut err = 0f32;
    for (g, w) in got.iter().zip(&want) {
        assert!(g.is_finite(), "{what}: non-finite value {g}");
        err = err.max((g - w).abs());
    }
    println!("{what}: max abs error {err:.2e} (magnitude {scale:.2}, tolerance {:.1e})", tol * scale);
    assert!(err <= tol * scale, "{what}: max abs error {err:e} > {:e}", tol * scale);
}
