//! `forget.salun`: SalUn (Fan, Liu, Zhang, Wong, Wei, Liu, "SalUn: Empowering Machine Unlearning
//! via Gradient-based Weight Saliency", ICLR 2024), as the Unlearn-Saliency repository runs it
//! (`Classification/generate_mask.py`, then `unlearn/RL.py`'s CIFAR-10 path).
//!
//! The saliency mask: the gradient of `−CE` on D_f, summed over its batches (eval mode), taken
//! in absolute value; the top `mask_fraction` of all trainable weights by that value (ranked
//! globally, over every layer) are salient. Then every epoch makes a pass over D_f with labels
//! drawn uniformly from all classes afresh for each batch, and a pass over D_r with the true
//! labels; every step's gradient is multiplied by the mask and the non-salient weights are put
//! back to their original values after the step, so only salient weights ever change.
//! Defaults: the repository's example for CIFAR-10, SGD lr 0.013, momentum 0.9, weight decay
//! 5e-4, batch 256, 10 epochs, mask fraction 0.5.

use std::time::Instant;

use anyhow::Result;
use rand::Rng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tmu_nn::candle::{DType, Tensor, Var};
use tmu_nn::loss::{cross_entropy, per_sample_cross_entropy};
use tmu_nn::{Cost, DeviceData, Network, StepOutput};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::evaluate::forget_accuracy;
use crate::gradients::{all_positions, summed_gradients, weights};
use crate::io::write_outputs;
use crate::phased::{Phase, StepHooks, train_phases};
use crate::train::sgd_optimizer;
use tmu_nn::{data_on_port, model_on_port};

/// Configuration of `forget.salun` (defaults: the Unlearn-Saliency repository's CIFAR-10 example).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SalunConfig {
    /// Epochs, each a random-label pass over D_f then a pass over D_r.
    #[schemars(range(min = 1, max = 10000))]
    pub epochs: usize,
    /// SGD learning rate, constant.
    #[schemars(range(min = 0.0, max = 10.0))]
    pub lr: f64,
    /// SGD momentum.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub momentum: f64,
    /// L2 weight decay added to the gradient.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub weight_decay: f64,
    /// Samples per step, in both passes and for the saliency gradient.
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: usize,
    /// Fraction of all trainable weights that are salient (updated).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub mask_fraction: f64,
}

impl Default for SalunConfig {
    fn default() -> Self {
        SalunConfig { epochs: 10, lr: 0.013, momentum: 0.9, weight_decay: 5e-4, batch_size: 256, mask_fraction: 0.5 }
    }
}

/// The saliency mask of `net` on `forget`: per trainable weight (in `net.trainable_vars()`
/// order) a 0/1 tensor, 1 on the `floor(fraction · total)` weights with the largest
/// `|Σ_batches ∇(−CE)|` over all layers together (ties: the earlier weight first). Returns the
/// masks and the samples that went through forward and backward.
pub fn saliency_mask(
    net: &Network,
    forget: &DeviceData,
    batch_size: usize,
    fraction: f64,
) -> Result<(Vec<Tensor>, u64)> {
    let loss = |logits: &Tensor, labels: &Tensor| cross_entropy(logits, labels, 0.0)?.neg();
    let (grads, samples) = summed_gradients(net, forget, &all_positions(forget.len()), batch_size, &loss)?;
    let magnitudes: Vec<Vec<f32>> =
        grads.iter().map(|g| g.abs()?.flatten_all()?.to_vec1::<f32>()).collect::<tmu_nn::candle::Result<_>>()?;
    let total: usize = magnitudes.iter().map(Vec::len).sum();
    let keep = (fraction * total as f64).floor() as usize;
    let mut order: Vec<(usize, usize)> =
        magnitudes.iter().enumerate().flat_map(|(l, m)| (0..m.len()).map(move |i| (l, i))).collect();
    order.sort_by(|a, b| magnitudes[b.0][b.1].total_cmp(&magnitudes[a.0][a.1]));
    let mut flags: Vec<Vec<f32>> = magnitudes.iter().map(|m| vec![0.0; m.len()]).collect();
    for &(l, i) in &order[..keep.min(total)] {
        flags[l][i] = 1.0;
    }
    let masks = flags
        .into_iter()
        .zip(&grads)
        .map(|(f, g)| Tensor::from_vec(f, g.dims(), g.device()))
        .collect::<tmu_nn::candle::Result<Vec<_>>>()?;
    Ok((masks, samples))
}

/// Puts every weight outside `masks` back to its value in `original`: `w = m · w + (1 − m) · w0`.
pub fn restore_outside(vars: &[Var], masks: &[Tensor], original: &[Tensor]) -> tmu_nn::candle::Result<()> {
    for ((v, m), w0) in vars.iter().zip(masks).zip(original) {
        let kept = ((v.as_tensor() * m)? + (w0 * (1.0 - m)?)?)?;
        v.set(&kept)?;
    }
    Ok(())
}

/// Labels drawn uniformly from `0..classes` (the true one included), one per sample.
pub fn uniform_labels(n: usize, classes: usize, rng: &mut impl Rng) -> Vec<u32> {
    (0..n).map(|_| rng.random_range(0..classes as u32)).collect()
}

/// The `forget.salun` stage.
pub struct ForgetSalun;

impl Stage for ForgetSalun {
    const KIND: &'static str = "forget.salun";
    type Config = SalunConfig;

    fn signature() -> Signature {
        Signature::new(
            "SalUn baseline: random labels on the forget set and cross-entropy on the retained samples, updating only \
             the weights most salient to the forget loss",
        )
        .input("model", ArtifactKind::Model, "the original model M_o")
        .input("retain", ArtifactKind::Dataset, "the retained training samples D_r")
        .input("forget", ArtifactKind::Dataset, "the forget set D_f")
        .output("model", ArtifactKind::Model, "the unlearned model (metadata: its cost)")
        .output(
            "metrics",
            ArtifactKind::Metrics,
            "the mask's size, training statistics, cost and forget-set accuracy",
        )
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("the repository's CIFAR-10 example", "epochs = 10\nlr = 0.013\nmask_fraction = 0.5"),
            Example::new("a sparser mask", "mask_fraction = 0.2"),
        ]
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: SalunConfig) -> Result<()> {
        let device = ctx.candle_device()?;
        let net = model_on_port(inputs, "model", &device)?;
        let retain = data_on_port(inputs, "retain", &net)?;
        let forget = data_on_port(inputs, "forget", &net)?;
        let started = Instant::now();
        let retain_data = DeviceData::new(&retain, &device)?;
        let forget_data = DeviceData::new(&forget, &device)?;
        let (masks, mask_samples) = saliency_mask(&net, &forget_data, config.batch_size, config.mask_fraction)?;
        let salient: f64 = masks
            .iter()
            .map(|m| m.sum_all()?.to_dtype(DType::F64)?.to_scalar::<f64>())
            .sum::<tmu_nn::candle::Result<f64>>()?;
        let vars: Vec<Var> = weights(&net).into_iter().map(|(_, v)| v).collect();
        let original: Vec<Tensor> = vars.iter().map(|v| v.as_tensor().copy()).collect::<tmu_nn::candle::Result<_>>()?;
        let hooks = StepHooks {
            grad_scale: vars.iter().cloned().zip(masks.iter().cloned()).collect(),
            after_step: Some(Box::new(|| Ok(restore_outside(&vars, &masks, &original)?))),
        };
        let classes = net.num_classes();
        let phases = [
            Phase { name: "forget", data: &forget_data, batch_size: config.batch_size, epochs: None },
            Phase { name: "retain", data: &retain_data, batch_size: config.batch_size, epochs: None },
        ];
        let seed = ctx.seed_for("train");
        let report = train_phases(
            ctx,
            &net,
            &phases,
            config.epochs,
            sgd_optimizer(config.lr, config.momentum, config.weight_decay),
            &|_| config.lr,
            seed,
            hooks,
            |net, batch| {
                let logits = net.forward_t(batch.x, true)?;
                let labels = if batch.phase == 0 {
                    let n = batch.y.dim(0)?;
                    Tensor::from_vec(uniform_labels(n, classes, batch.rng), n, batch.y.device())?
                } else {
                    batch.y.clone()
                };
                let loss = per_sample_cross_entropy(&logits, &labels)?.mean_all()?;
                Ok(StepOutput::new(loss))
            },
        )?;
        let seconds = started.elapsed().as_secs_f64();
        let cost =
            Cost { wall_seconds: seconds, train_samples: report.train_samples + mask_samples, forward_samples: 0 };
        let accuracy = forget_accuracy(&net, &forget_data, &[])?;
        let total: usize = vars.iter().map(|v| v.elem_count()).sum();
        ctx.summary("forget_accuracy", accuracy["forget"].clone());
        ctx.summary("salient", salient);
        write_outputs(
            ctx,
            &net,
            &cost,
            json!({
                "method": "salun",
                "config": config,
                "retain": retain.len(),
                "forget": forget.len(),
                "salient_weights": salient,
                "weights": total,
                "training": report,
                "accuracy_after": accuracy,
            }),
        )
    }
}
