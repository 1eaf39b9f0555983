//! `forget.finetune`: the fine-tune baseline. Starting from the original model, SGD with
//! cross-entropy on the retained samples only, so that the forget set fades by catastrophic
//! forgetting (the "Fine-tune" baseline of Golatkar et al. 2020). Same optimizer and defaults as
//! `forget.tmu` (the literature uses similar short SGD runs), so the two differ only in what
//! TMU does with the forget set.

use std::time::Instant;

use anyhow::Result;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tmu_nn::loss::cross_entropy;
use tmu_nn::{Cost, DeviceData, StepOutput, trained_samples};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::io::write_outputs;
use crate::train::{sgd_config, train, training_json};
use tmu_nn::{data_on_port, model_on_port};

/// Configuration of `forget.finetune`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct FinetuneConfig {
    /// Passes over the retained samples.
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
    /// Samples per step.
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: usize,
}

impl Default for FinetuneConfig {
    fn default() -> Self {
        FinetuneConfig { epochs: 5, lr: 0.01, momentum: 0.9, weight_decay: 5e-4, batch_size: 64 }
    }
}

/// The `forget.finetune` stage.
pub struct ForgetFinetune;

impl Stage for ForgetFinetune {
    const KIND: &'static str = "forget.finetune";
    type Config = FinetuneConfig;

    fn signature() -> Signature {
        Signature::new("fine-tune baseline: continues training the original model on the retained samples only")
            .input("model", ArtifactKind::Model, "the original model M_o")
            .input("retain", ArtifactKind::Dataset, "the retained training samples D_r")
            .output("model", ArtifactKind::Model, "the unlearned model (metadata: tmu.wall_seconds)")
            .output("metrics", ArtifactKind::Metrics, "training statistics")
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("the same optimizer and length as forget.tmu's defaults", "epochs = 5\nlr = 0.01"),
            Example::new("a longer run", "epochs = 20"),
        ]
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: FinetuneConfig) -> Result<()> {
        let device = ctx.candle_device()?;
        let net = model_on_port(inputs, "model", &device)?;
        let retain = data_on_port(inputs, "retain", &net)?;
        let started = Instant::now();
        let data = DeviceData::new(&retain, &device)?;
        let cfg = sgd_config(config.lr, config.momentum, config.weight_decay, config.batch_size, config.epochs);
        let report = train(ctx, &net, &data, &cfg, serde_json::to_string(&config)?, |net, batch| {
            let logits = net.forward_t(batch.x, true)?;
            let loss = cross_entropy(&logits, batch.y, 0.0)?;
            Ok(StepOutput::with_logits(loss, logits))
        })?;
        let seconds = started.elapsed().as_secs_f64();
        let cost = Cost { wall_seconds: seconds, train_samples: trained_samples(&report), forward_samples: 0 };
        write_outputs(
            ctx,
            &net,
            &cost,
            json!({
                "method": "finetune",
                "config": config,
                "retain": retain.len(),
                "training": training_json(&report),
            }),
        )
    }
}
