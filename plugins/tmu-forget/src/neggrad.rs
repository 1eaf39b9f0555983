//! `forget.neggrad`: the negative-gradient baseline with retain descent: from the original
//! model, SGD on one shuffled stream of retain ∪ forget with loss `mean CE(retain rows) − α ·
//! mean CE(forget rows)` per mixed batch. The ascent is unbounded by default, as in the baseline:
//! it drives the forget loss to infinity and collapses the model (test accuracy near chance on
//! the quickstart). `bound = "ln-c"` is the method spec's bounded form `−α · min(CE, ln C)`.
//! NegGrad+ with separate retain and forget batches weighted `α` and `1 − α` is
//! `forget.neggrad-plus`. Optimizer settings are `forget.tmu`'s defaults (SGD 0.01, momentum
//! 0.9, wd 5e-4, batch 64, 5 epochs); α = 1 weighs ascent and descent equally. Long runs or a
//! large α diverge (the loss runs to −∞): by default the stage then keeps the weights of the
//! last finite epoch and records where it diverged (`on_divergence = "fail"` stops the stage
//! instead), so one exploding baseline does not stop a whole comparison.

use std::time::Instant;

use anyhow::Result;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tmu_nn::{Cost, DeviceData, StepOutput};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::diverge::{OnDivergence, train_allowing_divergence};
use crate::evaluate::forget_accuracy;
use crate::io::write_outputs;
use crate::losses::{AscentBound, neggrad_loss};
use crate::mixed::{Column, Mixed};
use crate::train::{sgd_config, train_options, training_json};
use tmu_nn::{data_on_port, model_on_port};

/// Configuration of `forget.neggrad`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct NegGradConfig {
    /// Passes over retain ∪ forget.
    #[schemars(range(min = 1, max = 10000))]
    pub epochs: usize,
    /// SGD learning rate (constant).
    #[schemars(range(min = 0.0, max = 10.0))]
    pub lr: f64,
    /// SGD momentum.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub momentum: f64,
    /// L2 weight decay added to the gradient.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub weight_decay: f64,
    /// Samples per step, drawn from the shuffled union of retain and forget samples.
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: usize,
    /// α, the weight of the (unbounded) ascent on the forget samples' cross-entropy.
    #[schemars(range(min = 0.0, max = 100.0))]
    pub alpha: f64,
    /// `none`: the unbounded ascent of the baseline, which drives the forget loss to infinity and
    /// collapses the model; `ln-c`: the method spec's bounded ascent `−α · min(CE, ln C)`.
    pub bound: AscentBound,
    /// When the loss becomes NaN or infinite: `keep-last-epoch` (the weights after the last
    /// finite epoch, with a warning and `diverged` in the metrics) or `fail`.
    pub on_divergence: OnDivergence,
}

impl Default for NegGradConfig {
    fn default() -> Self {
        NegGradConfig {
            epochs: 5,
            lr: 0.01,
            momentum: 0.9,
            weight_decay: 5e-4,
            batch_size: 64,
            alpha: 1.0,
            bound: AscentBound::default(),
            on_divergence: OnDivergence::default(),
        }
    }
}

/// The `forget.neggrad` stage.
pub struct ForgetNegGrad;

impl Stage for ForgetNegGrad {
    const KIND: &'static str = "forget.neggrad";
    type Config = NegGradConfig;

    fn signature() -> Signature {
        Signature::new(
            "negative-gradient baseline: gradient ascent on the forget set jointly with descent on the retained samples; \
             the default ascent is unbounded and collapses the model, `bound = \"ln-c\"` bounds it at ln C",
        )
        .input("model", ArtifactKind::Model, "the original model M_o")
        .input("retain", ArtifactKind::Dataset, "the retained training samples D_r")
        .input("forget", ArtifactKind::Dataset, "the forget set D_f")
        .output("model", ArtifactKind::Model, "the unlearned model (metadata: tmu.wall_seconds)")
        .output("metrics", ArtifactKind::Metrics, "training statistics and forget-set accuracy after unlearning")
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("descent on retain, ascent on forget with equal weight", "alpha = 1.0"),
            Example::new("a gentler ascent", "alpha = 0.5\nepochs = 5"),
            Example::new("the method spec's bounded ascent, which stops once p(y) < 1/C", "bound = \"ln-c\""),
        ]
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: NegGradConfig) -> Result<()> {
        let device = ctx.candle_device()?;
        let net = model_on_port(inputs, "model", &device)?;
        let retain = data_on_port(inputs, "retain", &net)?;
        let forget = data_on_port(inputs, "forget", &net)?;
        let started = Instant::now();
        let mixed = Mixed::new(&retain, &forget, &device)?;
        let forget_rows = Column::f32(mixed.forget_mask(std::iter::repeat_n(true, forget.len())), &device)?;
        let cfg = sgd_config(config.lr, config.momentum, config.weight_decay, config.batch_size, config.epochs);
        let work_dir = ctx.work_dir().to_path_buf();
        let opts = train_options(ctx, &work_dir, &serde_json::to_string(&config)?);
        let mut trained = 0u64;
        let (report, diverged) =
            train_allowing_divergence(ctx, &net, &mixed.data, &cfg, &opts, config.on_divergence, |net, batch| {
                trained += batch.indices.len() as u64;
                let logits = net.forward_t(batch.x, true)?;
                let f = forget_rows.gather(batch.index)?;
                let loss = neggrad_loss(&logits, batch.y, &f, config.alpha, config.bound)?;
                Ok(StepOutput::with_logits(loss, logits))
            })?;
        if let Some(d) = &diverged {
            ctx.summary("diverged_at_epoch", d.epoch);
        }
        let seconds = started.elapsed().as_secs_f64();
        let cost = Cost { wall_seconds: seconds, train_samples: trained, forward_samples: 0 };
        let forget_data = DeviceData::new(&forget, &device)?;
        let accuracy = forget_accuracy(&net, &forget_data, &[])?;
        ctx.summary("forget_accuracy", accuracy["forget"].clone());
        write_outputs(
            ctx,
            &net,
            &cost,
            json!({
                "method": "neggrad",
                "config": config,
                "retain": retain.len(),
                "forget": forget.len(),
                "training": report.as_ref().map(training_json),
                "diverged": diverged,
                "accuracy_after": accuracy,
            }),
        )
    }
}
