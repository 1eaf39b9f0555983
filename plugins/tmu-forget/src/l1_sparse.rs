//! `forget.l1-sparse`: ℓ1-sparse unlearning (Jia, Liu, Ram, Yao, Liu, Liu, Sharma, Liu, "Model
//! Sparsity Can Simplify Machine Unlearning", NeurIPS 2023), as the Unlearn-Sparse repository's
//! `unlearn/FT.py` runs it (`FT_prune`): from the original model, SGD on D_r with loss
//! `CE + α_e · ‖θ‖₁`, the ℓ1 norm over every trainable weight and its weight decaying linearly
//! over the epochs, `α_e = α · (1 − e / E)` for 0-based epoch `e` of `E`. Defaults: the
//! repository's SGD lr 0.01, momentum 0.9, weight decay 5e-4, batch 256, 10 epochs; α = 5e-4,
//! the paper's CIFAR-10 value (the code takes it from the command line).

use std::time::Instant;

use anyhow::Result;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tmu_nn::candle::Tensor;
use tmu_nn::loss::cross_entropy;
use tmu_nn::{Cost, DeviceData, StepOutput};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::gradients::weights;
use crate::io::write_outputs;
use crate::losses::{l1_norm, l1_weight};
use crate::phased::{Phase, StepHooks, train_phases};
use crate::train::sgd_optimizer;
use tmu_nn::{data_on_port, model_on_port};

/// Configuration of `forget.l1-sparse` (defaults: the Unlearn-Sparse repository and paper).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct L1SparseConfig {
    /// Passes over the retained samples.
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
    /// Samples per step.
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: usize,
    /// α, the ℓ1 weight of the first epoch (it decays linearly to α / E in the last).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub alpha: f64,
}

impl Default for L1SparseConfig {
    fn default() -> Self {
        L1SparseConfig { epochs: 10, lr: 0.01, momentum: 0.9, weight_decay: 5e-4, batch_size: 256, alpha: 5e-4 }
    }
}

/// The `forget.l1-sparse` stage.
pub struct ForgetL1Sparse;

impl Stage for ForgetL1Sparse {
    const KIND: &'static str = "forget.l1-sparse";
    type Config = L1SparseConfig;

    fn signature() -> Signature {
        Signature::new(
            "l1-sparse baseline: fine-tunes on the retained samples with an l1 penalty on the weights whose weight \
             decays linearly over the epochs",
        )
        .input("model", ArtifactKind::Model, "the original model M_o")
        .input("retain", ArtifactKind::Dataset, "the retained training samples D_r")
        .output("model", ArtifactKind::Model, "the unlearned model (metadata: its cost)")
        .output("metrics", ArtifactKind::Metrics, "training statistics and cost")
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("the paper's settings", "epochs = 10\nlr = 0.01\nalpha = 5e-4"),
            Example::new("a stronger sparsity push", "alpha = 1e-3"),
        ]
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: L1SparseConfig) -> Result<()> {
        let device = ctx.candle_device()?;
        let net = model_on_port(inputs, "model", &device)?;
        let retain = data_on_port(inputs, "retain", &net)?;
        let started = Instant::now();
        let retain_data = DeviceData::new(&retain, &device)?;
        let params: Vec<Tensor> = weights(&net).into_iter().map(|(_, v)| v.as_tensor().clone()).collect();
        let phases = [Phase { name: "retain", data: &retain_data, batch_size: config.batch_size, epochs: None }];
        let seed = ctx.seed_for("train");
        let report = train_phases(
            ctx,
            &net,
            &phases,
            config.epochs,
            sgd_optimizer(config.lr, config.momentum, config.weight_decay),
            &|_| config.lr,
            seed,
            StepHooks::default(),
            |net, batch| {
                let logits = net.forward_t(batch.x, true)?;
                let weight = l1_weight(config.alpha, batch.epoch, config.epochs);
                let loss = (cross_entropy(&logits, batch.y, 0.0)? + l1_norm(&params)?.affine(weight, 0.0)?)?;
                Ok(StepOutput::with_logits(loss, logits))
            },
        )?;
        let seconds = started.elapsed().as_secs_f64();
        let cost = Cost { wall_seconds: seconds, train_samples: report.train_samples, forward_samples: 0 };
        write_outputs(
            ctx,
            &net,
            &cost,
            json!({
                "method": "l1-sparse",
                "config": config,
                "retain": retain.len(),
                "training": report,
            }),
        )
    }
}
