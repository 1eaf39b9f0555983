//! `tmu_nn::ops` (fast CPU f32 kernels) against the plain candle composition on seeded random
//! inputs: forward values and every gradient (of `sum(out * r)`), over shapes that exercise each
//! kernel path (stride 2, padding 0/1, 1x1, batch 1, odd sizes, image groups with a remainder),
//! plus bit-reproducibility and error cases. Every check prints its max abs error.
//!
//! References: for convolutions a direct f64 loop (the definition) and candle's own
//! `Tensor::conv2d` with candle autograd (whose backward errs on some odd stride-2 shapes, then
//! skipped); for batch
//! norm, ReLU and SGD the same public function on f64 inputs, which takes the candle-op path.

use candle_core::{DType, Device, Tensor, Var};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use tmu_nn::ops::{self, Conv2dCfg, SgdCfg};

/// A seeded normal f32 tensor on the CPU.
fn randn(seed: u64, shape: &[usize], std: f32) -> Tensor {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let dist = Normal::new(0f32, std).unwrap();
    let n = shape.iter().product();
    Tensor::from_vec((0..n).map(|_| dist.sample(&mut rng)).collect::<Vec<_>>(), shape, &Device::Cpu).unwrap()
}

fn values(t: &Tensor) -> Vec<f32> {
    t.to_dtype(DType::F32).unwrap().flatten_all().unwrap().to_vec1().unwrap()
}

/// Asserts `got` is within `tol` of `want` (relative to the largest magnitude when above 1).
fn check(what: &str, got: &Tensor, want: &Tensor, tol: f32) {
    assert_eq!(got.dims(), want.dims(), "{what}: shape");
    let (got, want) = (values(got), values(want));
    let scale = want.iter().fold(1f32, |m, v| m.max(v.abs()));
    let err = got.iter().zip(&want).fold(0f32, |m, (g, w)| m.max((g - w).abs()));
    println!("{what}: max abs error {err:.2e} (magnitude {scale:.1})");
    assert!(err <= tol * scale, "{what}: max abs error {err:e} > {:e}", tol * scale);
}

/// (batch, in channels, height, width, out channels, kernel, stride, padding, bias)
type ConvShape = (usize, usize, usize, usize, usize, usize, usize, usize, bool);

const CONV_SHAPES: &[ConvShape] = &[
    (2, 3, 7, 7, 4, 3, 1, 1, true),
    (1, 4, 5, 6, 3, 3, 2, 1, false),
    (3, 5, 8, 8, 6, 1, 1, 0, true),
    (2, 4, 9, 9, 5, 1, 2, 0, false),
    (2, 3, 6, 5, 4, 3, 1, 0, false),
    (1, 2, 4, 4, 3, 3, 2, 0, false),
    (1, 3, 1, 1, 2, 3, 1, 1, false),
    (37, 6, 4, 4, 5, 3, 1, 1, false),
    (37, 6, 5, 5, 7, 3, 2, 1, true),
    (20, 3, 4, 4, 2, 1, 1, 0, false),
    (40, 5, 8, 8, 6, 1, 2, 0, false),
    (33, 4, 7, 6, 5, 5, 1, 2, true),
    (32, 3, 3, 3, 4, 3, 2, 0, false),
    (9, 8, 16, 16, 8, 3, 1, 1, false),
    (5, 3, 11, 9, 4, 5, 2, 2, true),
];

/// Direct-loop f64 convolution (the definition) and its gradients given `r = dL/dy`:
/// returns `(y, dx, dw)` as flat vectors in NCHW / OIHW order.
#[allow(clippy::too_many_arguments)]
fn naive_conv(
    x: &[f32],
    w: &[f32],
    r: &[f32],
    (b, ci, h, wd): (usize, usize, usize, usize),
    (co, k): (usize, usize),
    s: usize,
    p: usize,
) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (ho, wo) = ((h + 2 * p - k) / s + 1, (wd + 2 * p - k) / s + 1);
    let mut y = vec![0f64; b * co * ho * wo];
    let mut dx = vec![0f64; x.len()];
    let mut dw = vec![0f64; w.len()];
    for n in 0..b {
        for o in 0..co {
            for oy in 0..ho {
                for ox in 0..wo {
                    let yi = ((n * co + o) * ho + oy) * wo + ox;
                    for c in 0..ci {
                        for ky in 0..k {
                            for kx in 0..k {
                                let (iy, ix) =
                                    ((oy * s + ky) as isize - p as isize, (ox * s + kx) as isize - p as isize);
                                if iy < 0 || ix < 0 || iy >= h as isize || ix >= wd as isize {
                                    continue;
                                }
                                let xi = ((n * ci + c) * h + iy as usize) * wd + ix as usize;
                                let wi = ((o * ci + c) * k + ky) * k + kx;
                                y[yi] += f64::from(x[xi]) * f64::from(w[wi]);
                                dx[xi] += f64::from(r[yi]) * f64::from(w[wi]);
                                dw[wi] += f64::from(r[yi]) * f64::from(x[xi]);
                            }
                        }
                    }
                }
            }
        }
    }
    (y, dx, dw)
}

fn f64_tensor(v: Vec<f64>, shape: &[usize]) -> Tensor {
    Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
}

#[test]
fn conv2d_matches_candle_and_the_definition() {
    for (i, &(b, ci, h, w, co, k, s, p, bias)) in CONV_SHAPES.iter().enumerate() {
        let seed = 100 * i as u64;
        let x = Var::from_tensor(&randn(seed, &[b, ci, h, w], 1.0)).unwrap();
        let wt = Var::from_tensor(&randn(seed + 1, &[co, ci, k, k], 0.3)).unwrap();
        let bs = bias.then(|| Var::from_tensor(&randn(seed + 2, &[co], 1.0)).unwrap());
        let cfg = Conv2dCfg { stride: s, padding: p };
        let y = ops::conv2d(&x, &wt, bs.as_ref().map(|b| b.as_tensor()), cfg).unwrap();
        let name = format!("conv {b}x{ci}x{h}x{w} -> {co}, k{k} s{s} p{p}");
        // candle's own convolution (forward; its backward fails on some odd stride-2 shapes)
        let mut want = x.conv2d(&wt, p, s, 1, 1).unwrap();
        if let Some(bs) = &bs {
            want = want.broadcast_add(&bs.reshape((1, co, 1, 1)).unwrap()).unwrap();
        }
        check(&format!("{name}: y vs candle"), &y, &want, 1e-5);
        // the definition, in f64
        let r = randn(seed + 3, y.dims(), 1.0);
        let (ny, ndx, ndw) = naive_conv(&values(&x), &values(&wt), &values(&r), (b, ci, h, w), (co, k), s, p);
        let mut ny = f64_tensor(ny, y.dims());
        if let Some(bs) = &bs {
            ny = ny.broadcast_add(&bs.to_dtype(DType::F64).unwrap().reshape((1, co, 1, 1)).unwrap()).unwrap();
        }
        check(&format!("{name}: y vs definition"), &y, &ny, 1e-5);
        let got = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
        check(&format!("{name}: dx vs definition"), got.get(&x).unwrap(), &f64_tensor(ndx, x.dims()), 1e-5);
        check(&format!("{name}: dw vs definition"), got.get(&wt).unwrap(), &f64_tensor(ndw, wt.dims()), 1e-5);
        if let Some(bs) = &bs {
            let ndb = r.sum((0, 2, 3)).unwrap();
            check(&format!("{name}: db vs definition"), got.get(bs).unwrap(), &ndb, 1e-5);
        }
        // candle's gradients where its backward supports the shape
        if let Ok(exp) = (&want * &r).unwrap().sum_all().unwrap().backward() {
            check(&format!("{name}: dx vs candle"), got.get(&x).unwrap(), exp.get(&x).unwrap(), 1e-5);
            check(&format!("{name}: dw vs candle"), got.get(&wt).unwrap(), exp.get(&wt).unwrap(), 1e-5);
        }
    }
}

#[test]
fn conv2d_gradient_flows_only_to_tracked_inputs() {
    // an input that is data (not a variable) gets no gradient; the weight still does
    let x = randn(1, &[2, 3, 5, 5], 1.0);
    let w = Var::from_tensor(&randn(2, &[4, 3, 3, 3], 0.3)).unwrap();
    let y = ops::conv2d(&x, &w, None, Conv2dCfg { stride: 1, padding: 1 }).unwrap();
    let grads = y.sum_all().unwrap().backward().unwrap();
    assert!(grads.get(&x).is_none());
    let want = x.conv2d(&w, 1, 1, 1, 1).unwrap().sum_all().unwrap().backward().unwrap();
    check("conv data input: dw", grads.get(&w).unwrap(), want.get(&w).unwrap(), 1e-5);
}

#[test]
fn conv2d_is_bit_reproducible() {
    let run = || {
        let x = Var::from_tensor(&randn(7, &[33, 8, 6, 6], 1.0)).unwrap();
        let w = Var::from_tensor(&randn(8, &[16, 8, 3, 3], 0.3)).unwrap();
        let y = ops::conv2d(&x, &w, None, Conv2dCfg { stride: 1, padding: 1 }).unwrap();
        let g = (&y * randn(9, y.dims(), 1.0)).unwrap().sum_all().unwrap().backward().unwrap();
        (values(&y), values(g.get(&x).unwrap()), values(g.get(&w).unwrap()))
    };
    let first = run();
    for _ in 0..3 {
        assert!(run() == first, "conv2d results changed between identical runs");
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    // every kernel path (Winograd, channels-last, im2col) and batch norm, in pools of 1 and 3
    // threads: bit-identical
    let run = || {
        let mut out = Vec::new();
        for (shape, k, s, p) in [([40, 16, 8, 8], 3, 1, 1), ([40, 16, 8, 8], 3, 2, 1), ([5, 6, 9, 9], 1, 1, 0)] {
            let x = Var::from_tensor(&randn(1, &shape, 1.0)).unwrap();
            let w = Var::from_tensor(&randn(2, &[12, shape[1], k, k], 0.3)).unwrap();
            let y = ops::conv2d(&x, &w, None, Conv2dCfg { stride: s, padding: p }).unwrap();
            let g = Var::from_tensor(&randn(3, &[12], 1.0)).unwrap();
            let b = Var::from_tensor(&randn(4, &[12], 1.0)).unwrap();
            let (z, m, v) = ops::batch_norm_relu_train(&y, &g, &b, 1e-5).unwrap();
            let grads = (&z * randn(5, z.dims(), 1.0)).unwrap().sum_all().unwrap().backward().unwrap();
            for t in [&y, &z, &m, &v, grads.get(&x).unwrap(), grads.get(&w).unwrap(), grads.get(&g).unwrap()] {
                out.push(values(t));
            }
        }
        out
    };
    let default = run();
    for threads in [1, 3] {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().unwrap();
        assert!(pool.install(run) == default, "results changed with {threads} threads");
    }
}

#[test]
fn conv2d_rejects_bad_shapes() {
    let x = randn(1, &[2, 3, 5, 5], 1.0);
    let err = ops::conv2d(&x, &randn(2, &[4, 2, 3, 3], 1.0), None, Conv2dCfg::default()).unwrap_err();
    assert!(err.to_string().contains("input has 3 channels but the kernel expects 2"), "{err}");
    let err = ops::conv2d(&x, &randn(2, &[4, 3, 7, 7], 1.0), None, Conv2dCfg::default()).unwrap_err();
    assert!(err.to_string().contains("larger than the padded input"), "{err}");
    let err = ops::conv2d(&x, &randn(2, &[4, 3, 3, 3], 1.0), None, Conv2dCfg { stride: 0, padding: 0 }).unwrap_err();
    assert!(err.to_string().contains("stride must be at least 1"), "{err}");
}

#[test]
fn conv2d_other_dtypes_take_the_candle_path() {
    let x = randn(3, &[2, 3, 6, 6], 1.0);
    let w = randn(4, &[5, 3, 3, 3], 0.3);
    let cfg = Conv2dCfg { stride: 2, padding: 1 };
    let fast = ops::conv2d(&x, &w, None, cfg).unwrap();
    let (x64, w64) = (x.to_dtype(DType::F64).unwrap(), w.to_dtype(DType::F64).unwrap());
    let slow = ops::conv2d(&x64, &w64, None, cfg).unwrap();
    assert_eq!(slow.dtype(), DType::F64);
    check("conv f32 vs f64 path: y", &fast, &slow, 1e-5);
}

/// Runs `f` on f32 variables (fast path) and on f64 copies (candle path) and compares the
/// outputs and the gradients of `sum(out * r)` with respect to every input.
fn compare_paths(name: &str, inputs: &[Tensor], f: impl Fn(&[Tensor]) -> Vec<Tensor>, tol: f32) {
    let run = |dtype: DType| {
        let vars: Vec<Var> = inputs.iter().map(|t| Var::from_tensor(&t.to_dtype(dtype).unwrap()).unwrap()).collect();
        let ts: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().clone()).collect();
        let outs = f(&ts);
        let r = randn(99, outs[0].dims(), 1.0).to_dtype(dtype).unwrap();
        let grads = (&outs[0] * r).unwrap().sum_all().unwrap().backward().unwrap();
        let gs: Vec<Tensor> = vars.iter().map(|v| grads.get(v).unwrap().clone()).collect();
        (outs, gs)
    };
    let (fo, fg) = run(DType::F32);
    let (so, sg) = run(DType::F64);
    assert_eq!(fo[0].dtype(), DType::F32);
    for (i, (a, b)) in fo.iter().zip(&so).enumerate() {
        check(&format!("{name}: output {i}"), a, b, tol);
    }
    for (i, (a, b)) in fg.iter().zip(&sg).enumerate() {
        check(&format!("{name}: gradient of input {i}"), a, b, tol);
    }
}

#[test]
fn batch_norm_train_matches_candle_composition() {
    for (i, &(b, c, h, w)) in
        [(4, 3, 5, 5), (1, 2, 3, 1), (7, 5, 1, 3), (2, 4, 9, 11), (33, 6, 2, 2)].iter().enumerate()
    {
        let seed = 1000 + 10 * i as u64;
        let x = (randn(seed, &[b, c, h, w], 2.0) + 3.0).unwrap();
        let gamma = (randn(seed + 1, &[c], 0.5) + 1.0).unwrap();
        let beta = randn(seed + 2, &[c], 1.0);
        for relu in [false, true] {
            let f = if relu { ops::batch_norm_relu_train } else { ops::batch_norm_train };
            compare_paths(
                &format!("batch norm {b}x{c}x{h}x{w} relu={relu}"),
                &[x.clone(), gamma.clone(), beta.clone()],
                |t| {
                    let (y, m, v) = f(&t[0], &t[1], &t[2], 1e-5).unwrap();
                    vec![y, m, v]
                },
                2e-5,
            );
        }
    }
}

#[test]
fn batch_norm_needs_two_values_per_channel() {
    let err = ops::batch_norm_train(&randn(1, &[1, 3, 1, 1], 1.0), &randn(2, &[3], 1.0), &randn(3, &[3], 1.0), 1e-5)
        .unwrap_err();
    assert!(err.to_string().contains("more than one value per channel"), "{err}");
    let err = ops::batch_norm_train(&randn(1, &[2, 3, 2, 2], 1.0), &randn(2, &[4], 1.0), &randn(3, &[3], 1.0), 1e-5)
        .unwrap_err();
    assert!(err.to_string().contains("gamma has shape [4], expected [3]"), "{err}");
}

#[test]
fn batch_norm_is_bit_reproducible() {
    let run = || {
        let x = Var::from_tensor(&randn(5, &[17, 6, 7, 7], 1.0)).unwrap();
        let g = Var::from_tensor(&randn(6, &[6], 1.0)).unwrap();
        let b = Var::from_tensor(&randn(7, &[6], 1.0)).unwrap();
        let (y, m, v) = ops::batch_norm_relu_train(&x, &g, &b, 1e-5).unwrap();
        let grads = (&y * randn(8, y.dims(), 1.0)).unwrap().sum_all().unwrap().backward().unwrap();
        [values(&y), values(&m), values(&v), values(grads.get(&x).unwrap()), values(grads.get(&g).unwrap())]
    };
    let first = run();
    assert!(run() == first, "batch norm results changed between identical runs");
}

#[test]
fn relu_and_add_relu_match_candle_composition() {
    let x = randn(11, &[3, 4, 5, 6], 1.0);
    compare_paths("relu", std::slice::from_ref(&x), |t| vec![ops::relu(&t[0]).unwrap()], 1e-6);
    let y = randn(12, &[3, 4, 5, 6], 1.0);
    compare_paths("add_relu", &[x, y], |t| vec![ops::add_relu(&t[0], &t[1]).unwrap()], 1e-6);
    let err = ops::add_relu(&randn(1, &[2, 3], 1.0), &randn(1, &[3, 2], 1.0)).unwrap_err();
    assert!(err.to_string().contains("shapes differ"), "{err}");
}

#[test]
fn sgd_matches_candle_composition() {
    let configs = [
        SgdCfg { lr: 0.1, momentum: 0.9, weight_decay: 5e-4, dampening: 0.0, nesterov: false },
        SgdCfg { lr: 0.05, momentum: 0.9, weight_decay: 1e-2, dampening: 0.0, nesterov: true },
        SgdCfg { lr: 0.2, momentum: 0.5, weight_decay: 0.0, dampening: 0.25, nesterov: false },
        SgdCfg { lr: 0.1, momentum: 0.0, weight_decay: 1e-3, dampening: 0.0, nesterov: false },
    ];
    for (i, cfg) in configs.iter().enumerate() {
        let p0 = randn(200 + i as u64, &[70_001], 1.0);
        let run = |dtype: DType| {
            let p = Var::from_tensor(&p0.to_dtype(dtype).unwrap()).unwrap();
            let mut buf = None;
            for step in 0..3 {
                let g = randn(300 + step, &[70_001], 1.0).to_dtype(dtype).unwrap();
                ops::sgd_momentum_update(&p, &g, &mut buf, cfg).unwrap();
            }
            p.as_tensor().clone()
        };
        check(&format!("sgd {cfg:?}"), &run(DType::F32), &run(DType::F64), 1e-6);
    }
    let p = Var::from_tensor(&randn(1, &[3], 1.0)).unwrap();
    let bad = SgdCfg { lr: 0.1, momentum: 0.0, weight_decay: 0.0, dampening: 0.0, nesterov: true };
    let err = ops::sgd_momentum_update(&p, &randn(2, &[3], 1.0), &mut None, &bad).unwrap_err();
    assert!(err.to_string().contains("nesterov"), "{err}");
    let ok = SgdCfg { nesterov: false, ..bad };
    let err = ops::sgd_momentum_update(&p, &randn(2, &[4], 1.0), &mut None, &ok).unwrap_err();
    assert!(err.to_string().contains("gradient shape"), "{err}");
}

/// `ops::linear` against candle's `x.matmul(&w.t())?.broadcast_add(&b)`: the same gemm calls,
/// so forward values and all three gradients agree bit for bit, on the serial path and on the
/// parallel one (at least `PARALLEL_MIN` multiply-adds).
#[test]
fn linear_matches_candle_bit_for_bit() {
    for (seed, &(n, i, o)) in [(3, 5, 4), (64, 64, 256), (64, 256, 128), (1, 7, 3), (300, 100, 300)].iter().enumerate()
    {
        let seed = seed as u64 * 10;
        let (x, w, b) = (randn(seed, &[n, i], 1.0), randn(seed + 1, &[o, i], 0.3), randn(seed + 2, &[o], 0.3));
        let r = randn(seed + 3, &[n, o], 1.0);
        let run = |fast: bool| {
            let (xv, wv, bv) =
                (Var::from_tensor(&x).unwrap(), Var::from_tensor(&w).unwrap(), Var::from_tensor(&b).unwrap());
            let y = if fast {
                ops::linear(xv.as_tensor(), wv.as_tensor(), bv.as_tensor()).unwrap()
            } else {
                xv.as_tensor().matmul(&wv.as_tensor().t().unwrap()).unwrap().broadcast_add(bv.as_tensor()).unwrap()
            };
            let grads = (&y * &r).unwrap().sum_all().unwrap().backward().unwrap();
            let g = |v: &Var| values(grads.get(v.as_tensor()).expect("a gradient"));
            (values(&y), g(&xv), g(&wv), g(&bv))
        };
        let (fast, slow) = (run(true), run(false));
        let bits = |v: &[f32]| v.iter().map(|f| f.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&fast.0), bits(&slow.0), "forward, {n}x{i}x{o}");
        assert_eq!(bits(&fast.1), bits(&slow.1), "input gradient, {n}x{i}x{o}");
        assert_eq!(bits(&fast.2), bits(&slow.2), "weight gradient, {n}x{i}x{o}");
        assert_eq!(bits(&fast.3), bits(&slow.3), "bias gradient, {n}x{i}x{o}");
    }
    const { assert!(300 * 100 * 300 >= ops::LINEAR_PARALLEL_MIN, "the last shape takes the parallel path") };
}

#[test]
fn linear_skips_untracked_inputs_and_hands_other_dtypes_to_candle() {
    let (x, w, b) = (randn(1, &[4, 3], 1.0), Var::from_tensor(&randn(2, &[2, 3], 1.0)).unwrap(), randn(3, &[2], 1.0));
    let grads = ops::linear(&x, w.as_tensor(), &b).unwrap().sum_all().unwrap().backward().unwrap();
    assert!(grads.get(&x).is_none() && grads.get(&b).is_none() && grads.get(w.as_tensor()).is_some());
    let f64s = |t: &Tensor| t.to_dtype(DType::F64).unwrap();
    let y = ops::linear(&f64s(&x), &f64s(w.as_tensor()), &f64s(&b)).unwrap();
    assert_eq!(y.dtype(), DType::F64);
    check("f64 path", &y, &ops::linear(&x, w.as_tensor(), &b).unwrap(), 1e-6);
    assert!(
        ops::linear(&x, w.as_tensor(), &randn(4, &[3], 1.0)).unwrap_err().to_string().contains("linear: input [4, 3]")
    );
}
