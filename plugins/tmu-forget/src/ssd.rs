//! `forget.ssd`: Selective Synaptic Dampening (Foster, Schoepf, Brintrup, "Fast Machine
//! Unlearning Without Retraining Through Selective Synaptic Dampening", AAAI 2024), as the
//! selective-synaptic-dampening repository's `src/ssd.py` computes it. No training: the diagonal
//! Fisher information of every trainable weight, `I = mean over batches of (∇ CE of the batch)²`
//! (eval mode, batches in order, not shuffled), on the whole training set `D = D_r ∪ D_f` (`I_D`)
//! and on D_f (`I_f`); wherever `I_f > alpha · I_D` the weight is multiplied by
//! `min(lambda · I_D / I_f, 1)`. Defaults: the repository's lambda 1, alpha 10, batch 64.

use std::time::Instant;

use anyhow::{Context as _, Result};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tmu_nn::candle::{DType, Tensor, Var};
use tmu_nn::loss::cross_entropy;
use tmu_nn::{Cost, DeviceData, Network};
use tmu_plugin::artifact::Dataset;
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::evaluate::forget_accuracy;
use crate::gradients::{all_positions, batch_gradients, weights};
use crate::io::write_outputs;
use tmu_nn::{data_on_port, model_on_port};

/// Configuration of `forget.ssd` (defaults: the SSD repository).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SsdConfig {
    /// λ, the dampening constant: a selected weight is multiplied by `min(λ · I_D / I_f, 1)`.
    #[schemars(range(min = 0.0, max = 1000.0))]
    pub lambda: f64,
    /// α, the selection weighting: weights with `I_f > α · I_D` are dampened.
    #[schemars(range(min = 0.0, max = 1000000.0))]
    pub alpha: f64,
    /// Samples per batch of the Fisher information.
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: usize,
}

impl Default for SsdConfig {
    fn default() -> Self {
        SsdConfig { lambda: 1.0, alpha: 10.0, batch_size: 64 }
    }
}

/// The diagonal Fisher information of every trainable weight of `net` on `data`: the mean over
/// batches (`batch_size`, in data order) of the squared gradient of the batch's mean
/// cross-entropy, in `net.trainable_vars()` order; and the samples that went through forward and
/// backward.
pub fn importance(net: &Network, data: &DeviceData, batch_size: usize) -> Result<(Vec<Tensor>, u64)> {
    let loss = |logits: &Tensor, labels: &Tensor| cross_entropy(logits, labels, 0.0);
    let mut sum: Vec<Tensor> =
        weights(net).iter().map(|(_, v)| v.as_tensor().zeros_like()).collect::<tmu_nn::candle::Result<_>>()?;
    let mut batches = 0usize;
    let samples = batch_gradients(net, data, &all_positions(data.len()), batch_size, &loss, &mut |grads| {
        for (s, g) in sum.iter_mut().zip(grads) {
            *s = (&*s + g.sqr()?)?;
        }
        batches += 1;
        Ok(())
    })?;
    let mean = sum.iter().map(|s| s.affine(1.0 / batches.max(1) as f64, 0.0)).collect::<tmu_nn::candle::Result<_>>()?;
    Ok((mean, samples))
}

/// Dampens the weights `vars` in place: where `forget > alpha · full`, `w *= min(lambda · full /
/// forget, 1)`. Returns how many weights were dampened.
pub fn dampen(vars: &[Var], full: &[Tensor], forget: &[Tensor], lambda: f64, alpha: f64) -> Result<u64> {
    let mut selected = 0u64;
    for ((v, d), f) in vars.iter().zip(full).zip(forget) {
        let chosen = f.gt(&d.affine(alpha, 0.0)?)?;
        // Where `chosen` is 0 the ratio is not used (and `forget` may be 0 there).
        let safe = chosen.where_cond(f, &f.ones_like()?)?;
        let factor = d.affine(lambda, 0.0)?.div(&safe)?.minimum(1.0)?;
        let scale = chosen.where_cond(&factor, &factor.ones_like()?)?;
        v.set(&(v.as_tensor() * scale)?)?;
        selected += chosen.to_dtype(DType::F64)?.sum_all()?.to_scalar::<f64>()? as u64;
    }
    Ok(selected)
}

/// The `forget.ssd` stage.
pub struct ForgetSsd;

impl Stage for ForgetSsd {
    const KIND: &'static str = "forget.ssd";
    type Config = SsdConfig;

    fn signature() -> Signature {
        Signature::new(
            "Selective Synaptic Dampening baseline: no training; dampens the weights whose Fisher information on the \
             forget set exceeds alpha times that on the whole training set",
        )
        .input("model", ArtifactKind::Model, "the original model M_o")
        .input("retain", ArtifactKind::Dataset, "the retained training samples D_r")
        .input("forget", ArtifactKind::Dataset, "the forget set D_f")
        .output("model", ArtifactKind::Model, "the unlearned model (metadata: its cost)")
        .output(
            "metrics",
            ArtifactKind::Metrics,
            "how many weights were dampened, cost and forget-set accuracy",
        )
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("the repository's settings", "lambda = 1.0\nalpha = 10.0"),
            Example::new("dampen more weights", "alpha = 3.0"),
        ]
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: SsdConfig) -> Result<()> {
        let device = ctx.candle_device()?;
        let net = model_on_port(inputs, "model", &device)?;
        let retain = data_on_port(inputs, "retain", &net)?;
        let forget = data_on_port(inputs, "forget", &net)?;
        let started = Instant::now();
        let full = Dataset::concat(&[&retain, &forget]).context("joining D_r and D_f")?;
        let full_data = DeviceData::new(&full, &device)?;
        let forget_data = DeviceData::new(&forget, &device)?;
        ctx.progress(0, 2, "Fisher information on D_f");
        let (forget_imp, forget_samples) = importance(&net, &forget_data, config.batch_size)?;
        ctx.check_cancelled()?;
        ctx.progress(1, 2, "Fisher information on D");
        let (full_imp, full_samples) = importance(&net, &full_data, config.batch_size)?;
        let vars: Vec<Var> = weights(&net).into_iter().map(|(_, v)| v).collect();
        let dampened = dampen(&vars, &full_imp, &forget_imp, config.lambda, config.alpha)?;
        let seconds = started.elapsed().as_secs_f64();
        let cost = Cost { wall_seconds: seconds, train_samples: forget_samples + full_samples, forward_samples: 0 };
        let accuracy = forget_accuracy(&net, &forget_data, &[])?;
        let total: usize = vars.iter().map(|v| v.elem_count()).sum();
        ctx.summary("dampened", dampened);
        ctx.summary("forget_accuracy", accuracy["forget"].clone());
        write_outputs(
            ctx,
            &net,
            &cost,
            json!({
                "method": "ssd",
                "config": config,
                "retain": retain.len(),
                "forget": forget.len(),
                "dampened_weights": dampened,
                "weights": total,
                "accuracy_after": accuracy,
            }),
        )
    }
}
