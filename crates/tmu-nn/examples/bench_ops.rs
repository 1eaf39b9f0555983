//! Times single ops on the CPU, candle 0.11's own against `tmu_nn::ops`, on the reference case of
//! a ResNet-18 stage on CIFAR: a 3x3 stride-1 convolution, batch 128, 64 -> 64 channels, 32x32 (forward,
//! input gradient, weight gradient) and batch norm on its output (forward, backward). Best of
//! several runs each.
//!
//! `cargo run --release -p tmu-nn --example bench_ops [-- --reps 5]`

use std::time::Instant;

use anyhow::{Context, Result};
use candle_core::{DType, Device, ModuleT, Tensor, Var};
use tmu_nn::ops::{self, Conv2dCfg};

/// Discards an op's result (the benches only time it).
fn done<T>(_: T) -> Result<()> {
    Ok(())
}

/// Best wall-clock seconds of `reps` runs of `f` (after one warm-up run).
fn best(reps: usize, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    f()?;
    let mut best = f64::MAX;
    for _ in 0..reps {
        let t = Instant::now();
        f()?;
        best = best.min(t.elapsed().as_secs_f64());
    }
    Ok(best)
}

/// Best seconds spent inside the fast kernel `name` over `reps` runs of `f`.
fn best_kernel(reps: usize, name: &str, mut f: impl FnMut() -> Result<()>) -> Result<f64> {
    f()?;
    let mut best = f64::MAX;
    for _ in 0..reps {
        ops::reset_profile();
        ops::set_profiling(true);
        f()?;
        ops::set_profiling(false);
        let k = ops::profile_report().into_iter().find(|k| k.name == name).context("kernel not run")?;
        best = best.min(k.seconds);
    }
    Ok(best)
}

fn row(what: &str, candle: Option<f64>, ours: f64) {
    match candle {
        Some(c) => println!("{what:50} candle {:8.1} ms   tmu ops {:7.1} ms   {:5.1}x", c * 1e3, ours * 1e3, c / ours),
        None => println!("{what:50} candle {:>8}      tmu ops {:7.1} ms", "-", ours * 1e3),
    }
}

fn main() -> Result<()> {
    let reps = match std::env::args().nth(1).as_deref() {
        Some("--reps") => std::env::args().nth(2).context("--reps needs a value")?.parse()?,
        _ => 5,
    };
    ops::keep_freed_memory();
    let dev = Device::Cpu;
    let x = Tensor::randn(0f32, 1.0, (128, 64, 32, 32), &dev)?;
    let w = (Tensor::randn(0f32, 1.0, (64, 64, 3, 3), &dev)? * 0.05)?;
    let dy = Tensor::randn(0f32, 1.0, (128, 64, 32, 32), &dev)?;
    let (xv, wv) = (Var::from_tensor(&x)?, Var::from_tensor(&w)?);
    let cfg = Conv2dCfg { stride: 1, padding: 1 };
    println!("conv 3x3 stride 1, batch 128, 64 -> 64 channels, 32x32, f32, {} threads", rayon::current_num_threads());

    // candle: forward; input gradient by its conv_transpose2d (what its autograd does) and as a
    // conv2d of the flipped, transposed kernel; weight gradient as its autograd computes it
    let c_fwd = best(reps.min(3), || done(x.conv2d(&w, 1, 1, 1, 1)?))?;
    let c_dx = best(reps.min(3), || done(dy.conv_transpose2d(&w, 1, 0, 1, 1)?))?;
    let w_flip = w.flip(&[2, 3])?.transpose(0, 1)?.contiguous()?;
    let c_dx_conv = best(reps.min(3), || done(dy.conv2d(&w_flip, 1, 1, 1, 1)?))?;
    let c_dw =
        best(reps.min(3), || done(x.transpose(0, 1)?.conv2d(&dy.transpose(0, 1)?, 1, 1, 1, 1)?.transpose(0, 1)?))?;

    let o_fwd = best_kernel(reps, "conv2d.forward", || done(ops::conv2d(&xv, &wv, None, cfg)?))?;
    let o_dx = best_kernel(reps, "conv2d.backward", || {
        done((ops::conv2d(&xv, &w, None, cfg)? * &dy)?.sum_all()?.backward()?)
    })?;
    let o_dw = best_kernel(reps, "conv2d.backward", || {
        done((ops::conv2d(&x, &wv, None, cfg)? * &dy)?.sum_all()?.backward()?)
    })?;
    let o_both = best_kernel(reps, "conv2d.backward", || {
        done((ops::conv2d(&xv, &wv, None, cfg)? * &dy)?.sum_all()?.backward()?)
    })?;
    row("conv forward", Some(c_fwd), o_fwd);
    row("conv input gradient (candle conv_transpose2d)", Some(c_dx), o_dx);
    row("conv input gradient (candle flipped conv2d)", Some(c_dx_conv), o_dx);
    row("conv weight gradient", Some(c_dw), o_dw);
    row("conv both gradients (one pass)", Some(c_dx + c_dw), o_both);

    // batch norm in train mode on the conv output
    let gamma = Var::from_tensor(&Tensor::ones(64, DType::F32, &dev)?)?;
    let beta = Var::from_tensor(&Tensor::zeros(64, DType::F32, &dev)?)?;
    let bn = candle_nn::BatchNorm::new(
        64,
        Tensor::zeros(64, DType::F32, &dev)?,
        Tensor::ones(64, DType::F32, &dev)?,
        gamma.as_tensor().clone(),
        beta.as_tensor().clone(),
        1e-5,
    )?;
    let c_bn = best(reps.min(3), || done(bn.forward_t(&xv, true)?))?;
    let c_bn_bwd = best(reps.min(3), || done((bn.forward_t(&xv, true)? * &dy)?.sum_all()?.backward()?))? - c_bn;
    let o_bn = best(reps, || done(ops::batch_norm_train(&xv, &gamma, &beta, 1e-5)?))?;
    let o_bn_bwd = best_kernel(reps, "batch_norm.backward", || {
        done((ops::batch_norm_train(&xv, &gamma, &beta, 1e-5)?.0 * &dy)?.sum_all()?.backward()?)
    })?;
    row("batch norm forward (train mode)", Some(c_bn), o_bn);
    row("batch norm backward (candle: autograd of its ops)", Some(c_bn_bwd), o_bn_bwd);
    Ok(())
}
