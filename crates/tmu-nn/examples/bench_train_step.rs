//! Times CIFAR ResNet-18 training steps on the CPU (batch of random 3x32x32 images: forward,
//! cross-entropy, backward, SGD with momentum 0.9 and weight decay 5e-4, batch-norm running
//! statistics) and prints images per second; `crates/tmu-nn/benches/compare_train_step.py` runs
//! it next to the same step in PyTorch.
//!
//! `cargo run --release -p tmu-nn --example bench_train_step -- [--impl ops|zoo|candle]
//! [--batch 128] [--steps 5] [--warmup 2] [--profile] [--no-keep-freed-memory]`
//! - `ops` (default): a ResNet-18 written here from `tmu_nn::ops` (fused batch norm + ReLU,
//!   `add_relu`, in-place SGD);
//! - `zoo`: `tmu_nn::Network` with the model zoo's `resnet18` (whatever layers it uses now) and
//!   `tmu_nn::ops::sgd_momentum_update`;
//! - `candle`: the plain candle 0.11 layers (its conv2d, `candle_nn::BatchNorm`, ReLU, an SGD of
//!   candle ops): the "before" number.
//!
//! `--profile` prints the time spent in each fast kernel per step. Unless
//! `--no-keep-freed-memory`, the bench calls `tmu_nn::ops::keep_freed_memory` first, as a CPU
//! training program should.

use std::time::Instant;

use anyhow::{Context, Result, bail};
use candle_core::{DType, Device, Module, ModuleT, Tensor, Var};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use tmu_nn::ops::{self, Conv2dCfg, SgdCfg};
use tmu_nn::{ArchConfig, Network, NetworkSpec};

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Impl {
    Ops,
    Zoo,
    Candle,
}

struct Args {
    imp: Impl,
    batch: usize,
    steps: usize,
    warmup: usize,
    profile: bool,
    keep_freed_memory: bool,
}

fn parse_args() -> Result<Args> {
    let mut a = Args { imp: Impl::Ops, batch: 128, steps: 5, warmup: 2, profile: false, keep_freed_memory: true };
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
            "--batch" => a.batch = value()?.parse().context("--batch")?,
            "--steps" => a.steps = value()?.parse().context("--steps")?,
            "--warmup" => a.warmup = value()?.parse().context("--warmup")?,
            "--profile" => a.profile = true,
            "--no-keep-freed-memory" => a.keep_freed_memory = false,
            other => bail!("unknown argument {other}"),
        }
    }
    Ok(a)
}

/// Seeded normal initialisation (Kaiming-like scale).
fn randn(rng: &mut rand_chacha::ChaCha8Rng, shape: &[usize], std: f64) -> Result<Var> {
    let n: usize = shape.iter().product();
    let dist = Normal::new(0.0f32, std as f32)?;
    let v: Vec<f32> = (0..n).map(|_| dist.sample(rng)).collect();
    Ok(Var::from_tensor(&Tensor::from_vec(v, shape, &Device::Cpu)?)?)
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
    fn new(rng: &mut rand_chacha::ChaCha8Rng, ci: usize, co: usize, k: usize, stride: usize) -> Result<Self> {
        let w = randn(rng, &[co, ci, k, k], (2.0 / (ci * k * k) as f64).sqrt())?;
        let gamma = Var::from_tensor(&Tensor::ones(co, DType::F32, &Device::Cpu)?)?;
        let beta = Var::from_tensor(&Tensor::zeros(co, DType::F32, &Device::Cpu)?)?;
        let running_mean = Var::from_tensor(&Tensor::zeros(co, DType::F32, &Device::Cpu)?)?;
        let running_var = Var::from_tensor(&Tensor::ones(co, DType::F32, &Device::Cpu)?)?;
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
    fn new(seed: u64) -> Result<Self> {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let stem = ConvBn::new(&mut rng, 3, 64, 3, 1)?;
        let mut blocks = Vec::new();
        let mut ci = 64;
        for (co, stride) in [(64, 1), (64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2), (512, 1)] {
            let shortcut = (stride != 1 || ci != co).then(|| ConvBn::new(&mut rng, ci, co, 1, stride)).transpose()?;
            blocks.push(Block {
                c1: ConvBn::new(&mut rng, ci, co, 3, stride)?,
                c2: ConvBn::new(&mut rng, co, co, 3, 1)?,
                shortcut,
            });
            ci = co;
        }
        let fc_w = randn(&mut rng, &[10, 512], (1.0 / 512f64).sqrt())?;
        let fc_b = Var::from_tensor(&Tensor::zeros(10, DType::F32, &Device::Cpu)?)?;
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
        let pooled = x.mean((2, 3))?;
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
    Own(ResNet18, Impl),
    Zoo(Network),
}

impl Net {
    fn new(imp: Impl) -> Result<Self> {
        Ok(match imp {
            Impl::Zoo => {
                let spec = NetworkSpec {
                    arch: ArchConfig::Resnet18(Default::default()),
                    classes: (0..10).map(|c| c.to_string()).collect(),
                    input_shape: [3, 32, 32],
                    mean: vec![0.5; 3],
                    std: vec![0.25; 3],
                };
                Net::Zoo(Network::new(spec, &Device::Cpu, 0)?)
            }
            own => Net::Own(ResNet18::new(0)?, own),
        })
    }

    fn params(&self) -> Vec<Var> {
        match self {
            Net::Own(m, _) => m.params().into_iter().cloned().collect(),
            Net::Zoo(n) => n.trainable_vars().into_iter().map(|(_, v)| v).collect(),
        }
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        match self {
            Net::Own(m, imp) => m.forward(*imp, x),
            Net::Zoo(n) => Ok(n.forward_t(x, true)?),
        }
    }
}

fn main() -> Result<()> {
    let args = parse_args()?;
    let kept = args.keep_freed_memory && ops::keep_freed_memory();
    let net = Net::new(args.imp)?;
    let params = net.params();
    let mut bufs: Vec<Option<Tensor>> = vec![None; params.len()];
    let cfg = SgdCfg { lr: 0.1, momentum: 0.9, weight_decay: 5e-4, dampening: 0.0, nesterov: false };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
    let normal = Normal::new(0f32, 1.0)?;
    let xs: Vec<f32> = (0..args.batch * 3 * 32 * 32).map(|_| normal.sample(&mut rng)).collect();
    let x = Tensor::from_vec(xs, (args.batch, 3, 32, 32), &Device::Cpu)?;
    let ys: Vec<u32> = (0..args.batch as u32).map(|i| i % 10).collect();
    let y = Tensor::from_vec(ys, args.batch, &Device::Cpu)?;
    let (mut t_fwd, mut t_bwd, mut t_opt, mut t_total) = (0.0, 0.0, 0.0, 0.0);
    for step in 0..args.warmup + args.steps {
        if step == args.warmup {
            ops::reset_profile();
            ops::set_profiling(args.profile);
        }
        let t0 = Instant::now();
        let logits = net.forward(&x)?;
        let loss = candle_nn::loss::cross_entropy(&logits, &y)?;
        let t1 = Instant::now();
        let grads = loss.backward()?;
        let t2 = Instant::now();
        for (p, buf) in params.iter().zip(bufs.iter_mut()) {
            let g = grads.get(p.as_tensor()).context("a parameter has no gradient")?;
            match args.imp {
                Impl::Candle => candle_sgd(p, g, buf, &cfg)?,
                _ => ops::sgd_momentum_update(p, g, buf, &cfg)?,
            }
        }
        drop(grads);
        let t3 = Instant::now();
        let loss = loss.to_scalar::<f32>()?;
        if step >= args.warmup {
            t_fwd += (t1 - t0).as_secs_f64();
            t_bwd += (t2 - t1).as_secs_f64();
            t_opt += (t3 - t2).as_secs_f64();
            t_total += (t3 - t0).as_secs_f64();
        }
        eprintln!("step {step}: loss {loss:.4}, {:.0} ms", (t3 - t0).as_secs_f64() * 1e3);
    }
    let n = args.steps as f64;
    let name = match args.imp {
        Impl::Ops => "ops",
        Impl::Zoo => "zoo",
        Impl::Candle => "candle",
    };
    println!(
        "candle-{name} cpu fp32 batch={} threads={} keep_freed_memory={kept} {:.1} img/s ({:.1} ms/step: forward {:.0}, backward {:.0}, sgd {:.0})",
        args.batch,
        rayon::current_num_threads(),
        args.batch as f64 * n / t_total,
        t_total / n * 1e3,
        t_fwd / n * 1e3,
        t_bwd / n * 1e3,
        t_opt / n * 1e3
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
