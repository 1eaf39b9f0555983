//! Each CUDA op against the CPU op: convolution (strict f32, TF32, bf16), batch norm (+ReLU,
//! f32 and bf16 activations), ReLU and the residual join, the SGD and Adam/AdamW steps.

use candle_core::{DType, Device, Tensor, Var};
use tmu_nn::Optimizer;
use tmu_nn::ops::{self, Conv2dCfg, Precision, SgdCfg};
use tmu_nn::optim::{AdamConfig, OptimizerConfig};

use super::{bf16_rounded, check, gpu, randn};

/// (batch, in channels, height, width, out channels, kernel, stride, padding).
type ConvShape = (usize, usize, usize, usize, usize, usize, usize, usize);

/// ResNet-18's kinds of convolution (stem, 3x3 stride 1 and 2, 1x1 stride-2 shortcut, 7x7/2
/// stem) and odd sizes.
const CONV_SHAPES: &[ConvShape] = &[
    (4, 3, 32, 32, 16, 3, 1, 1),
    (8, 16, 16, 16, 16, 3, 1, 1),
    (8, 16, 16, 16, 32, 3, 2, 1),
    (8, 16, 16, 16, 32, 1, 2, 0),
    (3, 5, 9, 7, 4, 5, 2, 2),
    (2, 3, 28, 28, 8, 7, 2, 3),
    (16, 64, 4, 4, 64, 3, 1, 1),
];

/// `(y, dx, dw)` of `sum(conv(x, w) * r)` through `tmu_nn::ops::conv2d` on `dev`, `x` in `dtype`,
/// `w` in f32, under precision `p`.
fn conv_run(
    x: &Tensor,
    w: &Tensor,
    r: &Tensor,
    cfg: Conv2dCfg,
    dev: &Device,
    dtype: DType,
    p: Precision,
) -> [Tensor; 3] {
    let xv = Var::from_tensor(&x.to_device(dev).unwrap().to_dtype(dtype).unwrap()).unwrap();
    let wv = Var::from_tensor(&w.to_device(dev).unwrap()).unwrap();
    let y = ops::with_precision(p, || ops::conv2d(xv.as_tensor(), wv.as_tensor(), None, cfg)).unwrap();
    let loss = (y.to_dtype(DType::F32).unwrap() * r.to_device(dev).unwrap()).unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();
    [y, grads.get(xv.as_tensor()).unwrap().clone(), grads.get(wv.as_tensor()).unwrap().clone()]
}

#[test]
fn conv2d_matches_the_cpu_path_in_every_precision() {
    let gpu = gpu();
    for (i, &(b, ci, h, w, co, k, s, p)) in CONV_SHAPES.iter().enumerate() {
        let seed = 10 * i as u64;
        let x = randn(seed, &[b, ci, h, w], 0.0, 1.0);
        let wt = randn(seed + 1, &[co, ci, k, k], 0.0, (2.0 / (ci * k * k) as f32).sqrt());
        let cfg = Conv2dCfg { stride: s, padding: p };
        let ho = (h + 2 * p - k) / s + 1;
        let wo = (w + 2 * p - k) / s + 1;
        let r = randn(seed + 2, &[b, co, ho, wo], 0.0, 1.0);
        let name = format!("conv {b}x{ci}x{h}x{w} -> {co} k{k} s{s} p{p}");
        let cpu = conv_run(&x, &wt, &r, cfg, &Device::Cpu, DType::F32, Precision::F32);
        let f32s = conv_run(&x, &wt, &r, cfg, &gpu, DType::F32, Precision::F32);
        for (what, got, want) in [("y", &f32s[0], &cpu[0]), ("dx", &f32s[1], &cpu[1]), ("dw", &f32s[2], &cpu[2])] {
            check(&format!("{name} f32 {what}"), got, want, 1e-4);
        }
        // candle's own cuda convolution (cuDNN with its default math, which may use TF32)
        let candle_y = x.to_device(&gpu).unwrap().conv2d(&wt.to_device(&gpu).unwrap(), p, s, 1, 1).unwrap();
        check(&format!("{name} f32 y vs candle"), &f32s[0], &candle_y, 1e-2);
        let tf32 = conv_run(&x, &wt, &r, cfg, &gpu, DType::F32, Precision::Tf32);
        for (what, got, want) in [("y", &tf32[0], &cpu[0]), ("dx", &tf32[1], &cpu[1]), ("dw", &tf32[2], &cpu[2])] {
            check(&format!("{name} tf32 {what}"), got, want, 1e-2);
        }
        let (xr, wr) = (bf16_rounded(&x), bf16_rounded(&wt));
        let cpu_r = conv_run(&xr, &wr, &r, cfg, &Device::Cpu, DType::F32, Precision::F32);
        let bf = conv_run(&xr, &wr, &r, cfg, &gpu, DType::BF16, Precision::Bf16);
        assert_eq!(bf[0].dtype(), DType::BF16);
        assert_eq!(bf[1].dtype(), DType::BF16);
        assert_eq!(bf[2].dtype(), DType::F32, "the master weights' gradient is f32");
        for (what, got, want) in [("y", &bf[0], &cpu_r[0]), ("dx", &bf[1], &cpu_r[1]), ("dw", &bf[2], &cpu_r[2])] {
            check(&format!("{name} bf16 {what}"), got, want, 3e-2);
        }
    }
}

#[test]
fn conv2d_gradient_flows_only_to_tracked_inputs_and_bias_is_added() {
    let gpu = gpu();
    let x = randn(1, &[2, 3, 6, 6], 0.0, 1.0).to_device(&gpu).unwrap();
    let w = Var::from_tensor(&randn(2, &[4, 3, 3, 3], 0.0, 0.3).to_device(&gpu).unwrap()).unwrap();
    let bias = randn(3, &[4], 0.0, 1.0);
    let cfg = Conv2dCfg { stride: 1, padding: 1 };
    let y = ops::conv2d(&x, w.as_tensor(), Some(&bias.to_device(&gpu).unwrap()), cfg).unwrap();
    let grads = y.sum_all().unwrap().backward().unwrap();
    assert!(grads.get(&x).is_none(), "the input is not a variable");
    assert!(grads.get(w.as_tensor()).is_some());
    let cpu = ops::conv2d(
        &x.to_device(&Device::Cpu).unwrap(),
        &w.as_tensor().to_device(&Device::Cpu).unwrap(),
        Some(&bias),
        cfg,
    )
    .unwrap();
    check("conv with bias", &y, &cpu, 1e-4);
}

/// (batch, channels, height, width): one block per channel, several (with a chunk that is not a
/// multiple of the plane), 1x1 planes, odd sizes.
const BN_SHAPES: &[(usize, usize, usize, usize)] =
    &[(8, 16, 8, 8), (16, 4, 32, 32), (3, 2, 45, 50), (64, 32, 1, 1), (2, 3, 5, 7)];

/// `(y, mean, var, dx, dgamma, dbeta)` of `sum(bn(x) * r)` on `dev` with `x` in `dtype`.
fn bn_run(
    x: &Tensor,
    gamma: &Tensor,
    beta: &Tensor,
    r: &Tensor,
    relu: bool,
    dev: &Device,
    dtype: DType,
) -> Vec<Tensor> {
    let xv = Var::from_tensor(&x.to_device(dev).unwrap().to_dtype(dtype).unwrap()).unwrap();
    let gv = Var::from_tensor(&gamma.to_device(dev).unwrap()).unwrap();
    let bv = Var::from_tensor(&beta.to_device(dev).unwrap()).unwrap();
    let f = if relu { ops::batch_norm_relu_train } else { ops::batch_norm_train };
    let (y, mean, var) = f(xv.as_tensor(), gv.as_tensor(), bv.as_tensor(), 1e-5).unwrap();
    assert_eq!(y.dtype(), dtype);
    assert_eq!((mean.dtype(), var.dtype()), (DType::F32, DType::F32), "statistics in f32");
    let loss = (y.to_dtype(DType::F32).unwrap() * r.to_device(dev).unwrap()).unwrap().sum_all().unwrap();
    let grads = loss.backward().unwrap();
    let g = |v: &Var| grads.get(v.as_tensor()).unwrap().clone();
    vec![y, mean, var, g(&xv), g(&gv), g(&bv)]
}

#[test]
fn batch_norm_matches_the_cpu_path() {
    let gpu = gpu();
    let names = ["y", "mean", "var_unbiased", "dx", "dgamma", "dbeta"];
    for (i, &(b, c, h, w)) in BN_SHAPES.iter().enumerate() {
        let seed = 100 + 10 * i as u64;
        // a mean well away from zero, as after a convolution with a bias
        let x = randn(seed, &[b, c, h, w], 3.0, 2.0);
        let gamma = randn(seed + 1, &[c], 1.0, 0.5);
        let beta = randn(seed + 2, &[c], 0.0, 1.0);
        let r = randn(seed + 3, &[b, c, h, w], 0.0, 1.0);
        for relu in [false, true] {
            let name = format!("bn{} {b}x{c}x{h}x{w}", if relu { "+relu" } else { "" });
            let cpu = bn_run(&x, &gamma, &beta, &r, relu, &Device::Cpu, DType::F32);
            let got = bn_run(&x, &gamma, &beta, &r, relu, &gpu, DType::F32);
            for ((what, g), want) in names.iter().zip(&got).zip(&cpu) {
                check(&format!("{name} f32 {what}"), g, want, 1e-4);
            }
            let xr = bf16_rounded(&x);
            let cpu = bn_run(&xr, &gamma, &beta, &r, relu, &Device::Cpu, DType::F32);
            let got = bn_run(&xr, &gamma, &beta, &r, relu, &gpu, DType::BF16);
            for ((what, g), want) in names.iter().zip(&got).zip(&cpu) {
                check(&format!("{name} bf16 {what}"), g, want, 2e-2);
            }
        }
    }
}

#[test]
fn running_statistics_update_matches_the_cpu_path() {
    let gpu = gpu();
    let run = |dev: &Device| {
        let rm = Var::from_tensor(&randn(150, &[37], 0.0, 1.0).to_device(dev).unwrap()).unwrap();
        let rv = Var::from_tensor(&randn(151, &[37], 1.0, 0.1).to_device(dev).unwrap()).unwrap();
        for step in 0..3u64 {
            let m = randn(160 + step, &[37], 0.5, 1.0).to_device(dev).unwrap();
            let v = randn(170 + step, &[37], 2.0, 0.5).to_device(dev).unwrap();
            ops::update_running_stats(&rm, &rv, &m, &v, 0.1).unwrap();
        }
        (rm.as_tensor().clone(), rv.as_tensor().clone())
    };
    let (mc, vc) = run(&Device::Cpu);
    let (mg, vg) = run(&gpu);
    check("running_mean after 3 updates", &mg, &mc, 1e-6);
    check("running_var after 3 updates", &vg, &vc, 1e-6);
}

#[test]
fn relu_and_add_relu_match_the_cpu_path_exactly() {
    let gpu = gpu();
    for dtype in [DType::F32, DType::BF16] {
        let a = bf16_rounded(&randn(7, &[3, 5, 7, 11], 0.0, 1.0));
        let b = bf16_rounded(&randn(8, &[3, 5, 7, 11], 0.0, 1.0));
        let r = randn(9, &[3, 5, 7, 11], 0.0, 1.0);
        let run = |dev: &Device, dt: DType| {
            let av = Var::from_tensor(&a.to_device(dev).unwrap().to_dtype(dt).unwrap()).unwrap();
            let bv = Var::from_tensor(&b.to_device(dev).unwrap().to_dtype(dt).unwrap()).unwrap();
            let y1 = ops::relu(av.as_tensor()).unwrap();
            let y2 = ops::add_relu(av.as_tensor(), bv.as_tensor()).unwrap();
            let rr = r.to_device(dev).unwrap();
            let loss = ((y1.to_dtype(DType::F32).unwrap() * &rr).unwrap().sum_all().unwrap()
                + (y2.to_dtype(DType::F32).unwrap() * &rr).unwrap().sum_all().unwrap())
            .unwrap();
            let grads = loss.backward().unwrap();
            let g = |v: &Var| grads.get(v.as_tensor()).unwrap().clone();
            [y1, y2, g(&av), g(&bv)]
        };
        let cpu = run(&Device::Cpu, DType::F32);
        let got = run(&gpu, dtype);
        // bf16: the inputs are bf16 values and a sum of two of them rounds once
        let tol = if dtype == DType::F32 { 0.0 } else { 8e-3 };
        for ((what, g), want) in ["relu", "add_relu", "da", "db"].iter().zip(&got).zip(&cpu) {
            check(&format!("{what} {dtype:?}"), g, want, tol);
        }
    }
}

#[test]
fn sgd_matches_the_cpu_path() {
    let gpu = gpu();
    let cfgs = [
        SgdCfg { lr: 0.1, momentum: 0.9, weight_decay: 5e-4, dampening: 0.0, nesterov: false },
        SgdCfg { lr: 0.05, momentum: 0.9, weight_decay: 1e-3, dampening: 0.0, nesterov: true },
        SgdCfg { lr: 0.2, momentum: 0.5, weight_decay: 0.0, dampening: 0.3, nesterov: false },
        SgdCfg { lr: 0.1, momentum: 0.0, weight_decay: 1e-2, dampening: 0.0, nesterov: false },
    ];
    for (i, cfg) in cfgs.iter().enumerate() {
        let p0 = randn(200 + i as u64, &[7, 33], 0.0, 1.0);
        let run = |dev: &Device| {
            let p = Var::from_tensor(&p0.to_device(dev).unwrap()).unwrap();
            let mut buf = None;
            for step in 0..3u64 {
                let g = randn(300 + step, &[7, 33], 0.0, 1.0).to_device(dev).unwrap();
                ops::sgd_momentum_update(&p, &g, &mut buf, cfg).unwrap();
            }
            (p.as_tensor().clone(), buf)
        };
        let (pc, bc) = run(&Device::Cpu);
        let (pg, bg) = run(&gpu);
        check(&format!("sgd {cfg:?} param"), &pg, &pc, 1e-6);
        assert_eq!(bc.is_some(), bg.is_some(), "momentum buffer kept on both or neither");
        if let (Some(bc), Some(bg)) = (bc, bg) {
            check(&format!("sgd {cfg:?} momentum buffer"), &bg, &bc, 1e-6);
        }
    }
}

#[test]
fn adam_and_adamw_match_the_cpu_path() {
    let gpu = gpu();
    let c = AdamConfig { lr: 1e-2, beta1: 0.9, beta2: 0.99, eps: 1e-8, weight_decay: 0.05 };
    for config in [OptimizerConfig::Adam(c.clone()), OptimizerConfig::AdamW(c.clone())] {
        let run = |dev: &Device| {
            let p = Var::from_tensor(&randn(400, &[5, 19], 0.0, 1.0).to_device(dev).unwrap()).unwrap();
            let mut opt = Optimizer::new(config.clone(), vec![("p".into(), p.clone())]).unwrap();
            for step in 0..4u64 {
                let r = randn(500 + step, &[5, 19], 0.0, 1.0).to_device(dev).unwrap();
                // the gradient of sum(p^2 * r / 2) is p * r
                let loss = (p.as_tensor().sqr().unwrap() * r).unwrap().sum_all().unwrap().affine(0.5, 0.0).unwrap();
                opt.step(&loss.backward().unwrap(), 1e-2).unwrap();
            }
            let state = opt.state();
            (p.as_tensor().clone(), state)
        };
        let (pc, sc) = run(&Device::Cpu);
        let (pg, sg) = run(&gpu);
        check(&format!("{config:?} param"), &pg, &pc, 1e-5);
        for ((n, g), (_, c)) in sg.iter().zip(&sc) {
            check(&format!("{config:?} {n}"), g, c, 1e-5);
        }
    }
}

#[test]
fn batch_norm_checks_shapes_on_the_gpu_too() {
    let gpu = gpu();
    let x = randn(1, &[2, 3, 2, 2], 0.0, 1.0).to_device(&gpu).unwrap();
    let (g4, b3) =
        (randn(2, &[4], 1.0, 0.1).to_device(&gpu).unwrap(), randn(3, &[3], 0.0, 1.0).to_device(&gpu).unwrap());
    let err = ops::batch_norm_train(&x, &g4, &b3, 1e-5).unwrap_err().to_string();
    assert!(err.contains("gamma"), "{err}");
    let one = randn(4, &[1, 3, 1, 1], 0.0, 1.0).to_device(&gpu).unwrap();
    let err = ops::batch_norm_train(&one, &b3, &b3, 1e-5).unwrap_err().to_string();
    assert!(err.contains("more than one value"), "{err}");
}
