//! The three CPU convolution paths of `tmu_nn::ops::conv2d` (im2col + gemm; channels-last per
//! pixel for small images; Winograd F(2x2, 3x3) for 3x3 stride-1 padding-1) against each other
//! on shapes every path accepts. The path switches are process-wide, hence this test binary of
//! its own with a single test.

use candle_core::{DType, Device, Tensor, Var};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use tmu_nn::ops::{self, Conv2dCfg};

fn randn(seed: u64, shape: &[usize], std: f32) -> Tensor {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let dist = Normal::new(0f32, std).unwrap();
    let n = shape.iter().product();
    Tensor::from_vec((0..n).map(|_| dist.sample(&mut rng)).collect::<Vec<_>>(), shape, &Device::Cpu).unwrap()
}

fn values(t: &Tensor) -> Vec<f32> {
    t.to_dtype(DType::F32).unwrap().flatten_all().unwrap().to_vec1().unwrap()
}

/// Output, input gradient and weight gradient of `sum(conv(x, w) * r)`.
fn run(x: &Tensor, w: &Tensor, r: &Tensor) -> [Vec<f32>; 3] {
    let (xv, wv) = (Var::from_tensor(x).unwrap(), Var::from_tensor(w).unwrap());
    let y = ops::conv2d(&xv, &wv, None, Conv2dCfg { stride: 1, padding: 1 }).unwrap();
    let g = (&y * r).unwrap().sum_all().unwrap().backward().unwrap();
    [values(&y), values(g.get(&xv).unwrap()), values(g.get(&wv).unwrap())]
}

#[test]
fn the_three_convolution_paths_agree() {
    // (batch, in channels, size, out channels): 4x4 and 5x5 images (every path), odd sizes
    for (i, &(b, ci, hw, co)) in [(33, 16, 4, 24), (40, 5, 5, 7), (32, 20, 8, 3)].iter().enumerate() {
        let seed = 10 * i as u64;
        let x = randn(seed, &[b, ci, hw, hw], 1.0);
        let w = randn(seed + 1, &[co, ci, 3, 3], 0.3);
        let r = randn(seed + 2, &[b, co, hw, hw], 1.0);
        let mut results = Vec::new();
        for (winograd, channels_last) in [(false, false), (false, true), (true, false)] {
            ops::set_winograd_enabled(winograd);
            ops::set_channels_last_enabled(channels_last);
            results.push(run(&x, &w, &r));
        }
        ops::set_winograd_enabled(true);
        ops::set_channels_last_enabled(true);
        for (path, res) in ["channels-last", "winograd"].iter().zip(&results[1..]) {
            for (what, (got, want)) in ["y", "dx", "dw"].iter().zip(res.iter().zip(&results[0])) {
                let scale = want.iter().fold(1f32, |m, v| m.max(v.abs()));
                let err = got.iter().zip(want).fold(0f32, |m, (g, w)| m.max((g - w).abs()));
                println!(
                    "{b}x{ci}x{hw}x{hw} -> {co}: {path} {what} vs im2col: max abs error {err:.2e} (magnitude {scale:.1})"
                );
                assert!(err <= 2e-6 * scale, "{path} {what}: {err:e}");
            }
        }
    }
}
