//! `forget.random-label`: the random-label baseline (relabelling as in Graves et al. 2021,
//! "Amnesiac Machine Learning"): from the original model, SGD with cross-entropy on one shuffled
//! stream of retain ∪ forget where every forget sample carries a uniformly random wrong label,
//! redrawn at every epoch from a seeded generator. Optimizer settings are `forget.tmu`'s
//! defaults (SGD 0.01, momentum 0.9, wd 5e-4, batch 64, 5 epochs), so that the two differ only
//! in how the forget set is treated.

use std::time::Instant;

use anyhow::Result;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tmu_nn::loss::cross_entropy;
use tmu_nn::{Cost, DeviceData, StepOutput, trained_samples};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::evaluate::forget_accuracy;
use crate::io::write_outputs;
use crate::mixed::{Column, Mixed};
use crate::relabel::random_wrong_labels;
use crate::train::{sgd_config, train, training_json};
use tmu_nn::{data_on_port, model_on_port};

/// Configuration of `forget.random-label`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct RandomLabelConfig {
    /// Passes over retain ∪ forget (the wrong labels are redrawn at each).
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
}

impl Default for RandomLabelConfig {
    fn default() -> Self {
        RandomLabelConfig { epochs: 5, lr: 0.01, momentum: 0.9, weight_decay: 5e-4, batch_size: 64 }
    }
}

/// The `forget.random-label` stage.
pub struct ForgetRandomLabel;

impl Stage for ForgetRandomLabel {
    const KIND: &'static str = "forget.random-label";
    type Config = RandomLabelConfig;

    fn signature() -> Signature {
        Signature::new(
            "random-label baseline: fine-tunes on the retained samples and the forget set relabelled with random \
             wrong labels, redrawn every epoch",
        )
        .input("model", ArtifactKind::Model, "the original model M_o")
        .input("retain", ArtifactKind::Dataset, "the retained training samples D_r")
        .input("forget", ArtifactKind::Dataset, "the forget set D_f")
        .output("model", ArtifactKind::Model, "the unlearned model (metadata: tmu.wall_seconds)")
        .output(
            "metrics",
            ArtifactKind::Metrics,
            "training statistics and forget-set accuracy after unlearning",
        )
    }

    fn examples() -> Vec<Example> {
        vec![Example::new("the same optimizer and length as forget.tmu's defaults", "epochs = 5\nlr = 0.01")]
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: RandomLabelConfig) -> Result<()> {
        let device = ctx.candle_device()?;
        let net = model_on_port(inputs, "model", &device)?;
        let retain = data_on_port(inputs, "retain", &net)?;
        let forget = data_on_port(inputs, "forget", &net)?;
        let started = Instant::now();
        let mixed = Mixed::new(&retain, &forget, &device)?;
        let k = net.num_classes();
        let wrong_seed = ctx.seed_for("wrong-labels");
        let epoch_targets = |epoch: usize| {
            let wrong = random_wrong_labels(&forget.labels, k, tmu_plugin::derive_seed(wrong_seed, &epoch.to_string()));
            Column::u32(mixed.targets(&wrong), &device)
        };
        let mut targets = (0, epoch_targets(0)?);
        let cfg = sgd_config(config.lr, config.momentum, config.weight_decay, config.batch_size, config.epochs);
        let report = train(ctx, &net, &mixed.data, &cfg, serde_json::to_string(&config)?, |net, batch| {
            if targets.0 != batch.epoch {
                let column = epoch_targets(batch.epoch).map_err(|e| tmu_nn::NnError::Data(format!("{e:#}")))?;
                targets = (batch.epoch, column);
            }
            let logits = net.forward_t(batch.x, true)?;
            let loss = cross_entropy(&logits, &targets.1.gather(batch.index)?, 0.0)?;
            Ok(StepOutput::with_logits(loss, logits))
        })?;
        let seconds = started.elapsed().as_secs_f64();
        let cost = Cost { wall_seconds: seconds, train_samples: trained_samples(&report), forward_samples: 0 };
        let forget_data = DeviceData::new(&forget, &device)?;
        let accuracy = forget_accuracy(&net, &forget_data, &[])?;
        ctx.summary("forget_accuracy", accuracy["forget"].clone());
        write_outputs(
            ctx,
            &net,
            &cost,
            json!({
                "method": "random-label",
                "config": config,
                "retain": retain.len(),
                "forget": forget.len(),
                "training": training_json(&report),
                "accuracy_after": accuracy,
            }),
        )
    }
}
