//! Times CIFAR ResNet-18 training steps (batch of random 3x32x32 images: forward,
//! cross-entropy, backward, SGD with momentum 0.9 and weight decay 5e-4, batch-norm running
//! statistics) on the CPU or a CUDA GPU and prints images per second;
//! `crates/tmu-nn/benches/compare_train_step.py` runs it next to the same step in PyTorch on the
//! CPU, `cargo xtask gpu-check` on a GPU.
//!
//! `cargo run --release -p tmu-nn --example bench_train_step -- [--impl ops|zoo|candle]
//! [--device cpu|cuda] [--precision f32|tf32|bf16] [--batch 128] [--steps 5] [--warmup 2]
//! [--phases] [--profile] [--no-keep-freed-memory]` (`--device cuda` needs `--features cuda`)
//! - `ops` (default): a ResNet-18 written here from `tmu_nn::ops` (fused batch norm + ReLU,
//!   `add_relu`, in-place SGD; cuDNN and tmu-nn's kernels on CUDA);
//! - `zoo`: `tmu_nn::Network` with the model zoo's `resnet18` (whatever layers it uses now) and
//!   `tmu_nn::ops::sgd_momentum_update`;
//! - `candle`: the plain candle 0.11 layers (its conv2d, `candle_nn::BatchNorm`, ReLU, an SGD of
//!   candle ops): the "before" number (f32 and tf32 only).
//!
//! Precision (CUDA): `f32` strict (no TF32 in convolutions), `tf32` (TF32 allowed in convolutions
//! and matmuls), `bf16` (mixed precision: bf16 activations and convolution weights, f32 batch-norm
//! statistics and master weights), the tiers of PyTorch's fp32, tf32 and bf16 numbers. On CUDA the
//! steps run back to back and the device is synchronised only around the timed loop, unless
//! `--phases` (a sync after each phase, for the forward / backward / SGD split). `--profile`
//! prints the time spent in each fast CPU kernel per step. Unless `--no-keep-freed-memory`, the
//! bench calls `tmu_nn::ops::keep_freed_memory` first, as a CPU training program should.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use candle_core::{DType, Device, Module, ModuleT, Tensor, Var};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use tmu_nn::ops::{self, Conv2dCfg, Precision, SgdCfg};
use tmu_nn::{ArchConfig, Network, NetworkSpec};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Impl {
    Ops,
    Zoo,
    Candle,
}

struct Args {
    imp: Impl,
    device: String,
    precision: Precision,
    phases: bool,
    batch: usize,
    steps: usize,
    warmup: usize,
    profile: bool,
    keep_freed_memory: bool,
}

fn parse_args() -> Result<Args> {
    let mut a = Args {
        imp: Impl::Ops,
        device: "cpu".into(),
        precision: Precision::F32,
        phases: false,
        batch: 128,
        steps: 5,
        warmup: 2,
        profile: false,
        keep_freed_memory: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().with_context(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--impl" => {
                a.imp = match value()?.as_str() {
                    "ops" => Impl::Ops,
                    "zoo" => Impl::Zoo,
                    "candle" => Impl::Candle,
                    other => bail!("unknown --impl {other}, expected ops, zoo or candle"),
                }
            }
            "--device" => a.device = value()?,
            "--precision" => a.precision = value()?.parse().map_err(anyhow::Error::msg)?,
            "--phases" => a.phases = true,
            "--batch" => a.batch = value()?.parse().context("--batch")?,
            "--steps" => a.steps = value()?.parse().context("--steps")?,
            "--warmup" => a.warmup = value()?.parse().context("--warmup")?,
            "--profile" => a.profile = true,
            "--no-keep-freed-memory" => a.keep_freed_memory = false,
            other => bail!("unknown argument {other}"),
        }
    }
    if a.imp == Impl::Candle && a.precision == Precision::Bf16 {
        bail!("--impl candle runs in f32 or tf32 only (candle has no mixed precision)");
    }
    if a.device == "cpu" && a.precision != Precision::F32 {
        bail!("--precision {} needs --device cuda", a.precision);
    }
    Ok(a)
}

/// Seeded normal initialisation (Kaiming-like scale), drawn on the host.
fn randn(rng: &mut rand_chacha::ChaCha8Rng, shape: &[usize], std: f64, dev: &Device) -> Result<Var> {
    let n: usize = shape.iter().product();
    let dist = Normal::new(0.0f32, std as f32)?;
    let v: Vec<f32> = (0..n).map(|_| dist.sample(rng)).collect();
    Ok(Var::from_tensor(&Tensor::from_vec(v, shape, dev)?)?)
}

/// A bias-free convolution followed by batch norm (the unit of ResNet-18).
struct ConvBn {
    w: Var,
    gamma: Var,
    beta: Var,
    running_mean: Var,
    running_var: Var,
    cfg: Conv2dCfg,
    candle_bn: candle_nn::BatchNorm,
}

impl ConvBn {
    fn new(
        rng: &mut rand_chacha::ChaCha8Rng,
        ci: usize,
        co: usize,
        k: usize,
        stride: usize,
        dev: &Device,
    ) -> Result<Self> {
        let w = randn(rng, &[co, ci, k, k], (2.0 / (ci * k * k) as f64).sqrt(), dev)?;
        let gamma = Var::from_tensor(&Tensor::ones(co, DType::F32, dev)?)?;
        let beta = Var::from_tensor(&Tensor::zeros(co, DType::F32, dev)?)?;
        let running_mean = Var::from_tensor(&Tensor::zeros(co, DType::F32, dev)?)?;
        let running_var = Var::from_tensor(&Tensor::ones(co, DType::F32, dev)?)?;
        let candle_bn = candle_nn::BatchNorm::new(
            co,
            running_mean.as_tensor().clone(),
            running_var.as_tensor().clone(),
            gamma.as_tensor().clone(),
            beta.as_tensor().clone(),
            1e-5,
        )?;
        Ok(Self { w, gamma, beta, running_mean, running_var, cfg: Conv2dCfg { stride, padding: k / 2 }, candle_bn })
    }

    fn params(&self) -> Vec<&Var> {
        vec![&self.w, &self.gamma, &self.beta]
    }

    fn forward(&self, imp: Impl, x: &Tensor, relu: bool) -> Result<Tensor> {
        Ok(match imp {
            Impl::Ops | Impl::Zoo => {
                let y = ops::conv2d(x, &self.w, None, self.cfg)?;
                let (y, mean, var) = if relu {
                    ops::batch_norm_relu_train(&y, &self.gamma, &self.beta, 1e-5)?
                } else {
                    ops::batch_norm_train(&y, &self.gamma, &self.beta, 1e-5)?
                };
                ops::update_running_stats(&self.running_mean, &self.running_var, &mean, &var, 0.1)?;
                y
            }
            Impl::Candle => {
                let y = x.conv2d(&self.w, self.cfg.padding, self.cfg.stride, 1, 1)?;
                let y = self.candle_bn.forward_t(&y, true)?;
                if relu { y.relu()? } else { y }
            }
        })
    }
}

struct Block {
    c1: ConvBn,
    c2: ConvBn,
    shortcut: Option<ConvBn>,
}

struct ResNet18 {
    stem: ConvBn,
    blocks: Vec<Block>,
    fc_w: Var,
    fc_b: Var,
}

impl ResNet18 {
    fn new(seed: u64, dev: &Device) -> Result<Self> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let stem = ConvBn::new(&mut rng, 3, 64, 3, 1, dev)?;
        let mut blocks = Vec::new();
        let mut ci = 64;
        for (co, stride) in [(64, 1), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1)] {
            let shortcut =
                (stride != 1 || ci != co).then(|| ConvBn::new(&mut rng, ci, co, 1, stride, dev)).transpose()?;
            blocks.push(Block {
                c1: ConvBn::new(&mut rng, ci, co, 3, stride, dev)?,
                c2: ConvBn::new(&mut rng, co, co, 3, 1, dev)?,
                shortcut,
            });
            ci = co;
        }
        let fc_w = randn(&mut rng, &[10, 512], (1.0 / 512f64).sqrt(), dev)?;
        let fc_b = Var::from_tensor(&Tensor::zeros(10, DType::F32, dev)?)?;
        Ok(Self { stem, blocks, fc_w, fc_b })
    }

    fn params(&self) -> Vec<&Var> {
        let mut p = self.stem.params();
        for b in &self.blocks {
            p.extend(b.c1.params());
            p.extend(b.c2.params());
            if let Some(s) = &b.shortcut {
                p.extend(s.params());
            }
        }
        p.push(&self.fc_w);
        p.push(&self.fc_b);
        p
    }

    fn forward(&self, imp: Impl, x: &Tensor) -> Result<Tensor> {
        let mut x = self.stem.forward(imp, x, true)?;
        for b in &self.blocks {
            let y = b.c1.forward(imp, &x, true)?;
            let y = b.c2.forward(imp, &y, false)?;
            let s = match &b.shortcut {
                Some(sc) => sc.forward(imp, &x, false)?,
                None => x.clone(),
            };
            x = match imp {
                Impl::Ops | Impl::Zoo => ops::add_relu(&y, &s)?,
                Impl::Candle => (y + s)?.relu()?,
            };
        }
        // the head in f32 (bf16 activations widened), as the model zoo's global pooling does
        let pooled = x.to_dtype(DType::F32)?.mean((2, 3))?;
        let fc = candle_nn::Linear::new(self.fc_w.as_tensor().clone(), Some(self.fc_b.as_tensor().clone()));
        Ok(fc.forward(&pooled)?)
    }
}

/// SGD with momentum 0.9 and weight decay 5e-4 as plain candle ops (the "before" optimiser).
fn candle_sgd(p: &Var, g: &Tensor, buf: &mut Option<Tensor>, cfg: &SgdCfg) -> Result<()> {
    let d = (g + (p.as_tensor() * cfg.weight_decay)?)?;
    let b = match buf.take() {
        None => d,
        Some(b) => ((b * cfg.momentum)? + d)?,
    };
    p.set(&(p.as_tensor() - (&b * cfg.lr)?)?)?;
    *buf = Some(b);
    Ok(())
}

/// The network under test: its forward pass and its trainable parameters.
enum Net {
    Own(ResNet18, Impl, Precision),
    Zoo(Network),
}

impl Net {
    fn new(imp: Impl, dev: &Device, precision: Precision) -> Result<Self> {
        Ok(match imp {
            Impl::Zoo => {
                let spec = NetworkSpec {
                    arch: ArchConfig::Resnet18(Default::default()),
                    classes: (0..10).map(|c| c.to_string()).collect(),
                    input_shape: [3, 32, 32],
                    mean: vec![0.5; 3],
                    std: vec![0.25; 3],
                };
                let net = Network::new(spec, dev, 0)?;
                net.set_precision(precision)?;
                Net::Zoo(net)
            }
            own => Net::Own(ResNet18::new(0, dev)?, own, precision),
        })
    }

    fn params(&self) -> Vec<Var> {
        match self {
            Net::Own(m, ..) => m.params().into_iter().cloned().collect(),
            Net::Zoo(n) => n.trainable_vars().into_iter().map(|(_, v)| v).collect(),
        }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Net::Own(m, imp, p) => {
                // as `Network` does: bf16 input under mixed precision, the tier in scope for the ops
                let x = x.to_dtype(p.activation_dtype())?;
                ops::with_precision(*p, || m.forward(*imp, &x))
            }
            Net::Zoo(n) => Ok(n.forward_t(x, true)?),
        }
    }
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let dev = match args.device.as_str() {
        "cpu" => Device::Cpu,
        "cuda" => Device::new_cuda(0).context("cannot open cuda:0 (was the bench built with --features cuda?)")?,
        other => bail!("unknown --device {other}, expected cpu or cuda"),
    };
    set_tf32(args.precision == Precision::Tf32);
    let kept = dev.is_cpu() && args.keep_freed_memory && ops::keep_freed_memory();
    let net = Net::new(args.imp, &dev, args.precision)?;
    let params = net.params();
    let mut bufs: Vec<Option<Tensor>> = vec![None; params.len()];
    let cfg = SgdCfg { lr: 0.1, momentum: 0.9, weight_decay: 5e-4, dampening: 0.0, nesterov: false };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let normal = Normal::new(0f32, 1.0)?;
    let xs: Vec<f32> = (0..args.batch * 3 * 32 * 32).map(|_| normal.sample(&mut rng)).collect();
    let x = Tensor::from_vec(xs, (args.batch, 3, 32, 32), &dev)?;
    let ys: Vec<u32> = (0..args.batch as u32).map(|i| i % 10).collect();
    let y = Tensor::from_vec(ys, args.batch, &dev)?;
    // On CUDA, phases are timed only with --phases (a sync after each); on the CPU always.
    let phases = dev.is_cpu() || args.phases;
    let sync = || -> Result<()> { if phases { Ok(dev.synchronize()?) } else { Ok(()) } };
    let (mut t_fwd, mut t_bwd, mut t_opt) = (0.0, 0.0, 0.0);
    let mut losses = Vec::new();
    let mut timed_start = Instant::now();
    for step in 0..args.warmup + args.steps {
        if step == args.warmup {
            dev.synchronize()?;
            ops::reset_profile();
            ops::set_profiling(args.profile);
            timed_start = Instant::now();
        }
        let t0 = Instant::now();
        let logits = net.forward(&x)?;
        let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
        sync()?;
        let t1 = Instant::now();
        let grads = loss.backward()?;
        sync()?;
        let t2 = Instant::now();
        for (p, buf) in params.iter().zip(bufs.iter_mut()) {
            let g = grads.get(p.as_tensor()).context("a parameter has no gradient")?;
            match args.imp {
                Impl::Candle => candle_sgd(p, g, buf, &cfg)?,
                _ => ops::sgd_momentum_update(p, g, buf, &cfg)?,
            }
        }
        drop(grads);
        sync()?;
        let t3 = Instant::now();
        if step >= args.warmup {
            t_fwd += (t1 - t0).as_secs_f64();
            t_bwd += (t2 - t1).as_secs_f64();
            t_opt += (t3 - t2).as_secs_f64();
        }
        if dev.is_cpu() {
            let l = loss.to_scalar::<f32>()?;
            eprintln!("step {step}: loss {l:.4}, {:.0} ms", (t3 - t0).as_secs_f64() * 1e3);
        }
        losses.push(loss.detach());
    }
    dev.synchronize()?;
    let t_total = timed_start.elapsed().as_secs_f64();
    let losses = Tensor::stack(&losses, 0)?.to_vec1::<f32>()?;
    if let Some(bad) = losses.iter().find(|l| !l.is_finite()) {
        bail!("the loss is {bad}: the training step is broken");
    }
    let n = args.steps as f64;
    let name = match args.imp {
        Impl::Ops => "ops",
        Impl::Zoo => "zoo",
        Impl::Candle => "candle",
    };
    let split = if phases {
        format!(": forward {:.1}, backward {:.1}, sgd {:.1}", t_fwd / n * 1e3, t_bwd / n * 1e3, t_opt / n * 1e3)
    } else {
        String::new()
    };
    println!(
        "candle-{name} {} {} batch={} threads={} keep_freed_memory={kept} {:.1} img/s ({:.1} ms/step{split}) loss {:.4} -> {:.4}",
        args.device,
        args.precision,
        args.batch,
        rayon::current_num_threads(),
        args.batch as f64 * n / t_total,
        t_total / n * 1e3,
        losses.first().copied().unwrap_or(f32::NAN),
        losses.last().copied().unwrap_or(f32::NAN),
    );
    if args.profile {
        let mut kernels = 0.0;
        for k in ops::profile_report() {
            kernels += k.seconds;
            println!(
                "  {:24} {:4} calls/step {:8.1} ms/step",
                k.name,
                k.calls / args.steps as u64,
                k.seconds / n * 1e3
            );
        }
        println!("  {:24} {:>15} {:8.1} ms/step", "(outside the kernels)", "", (t_total - kernels) / n * 1e3);
    }
    Ok(())
}

/// TF32 for candle's f32 matmuls (the classifier head) under `--precision tf32` (the
/// convolutions take the tier from `ops::with_precision`).
fn set_tf32(on: bool) {
    #[cfg(feature = "cuda")]
    candle_core::cuda_backend::set_gemm_reduced_precision_f32(on);
    #[cfg(not(feature = "cuda"))]
    let _ = on;
}
