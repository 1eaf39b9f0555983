//! `forget.ct`: "conv transpose", the other of the two methods that won most consistently in the
//! DeepUnlearn benchmark (Cadet et al. 2024) of the NeurIPS 2023 unlearning challenge's entries,
//! as its `munl/unlearning/kgltop5.py` runs it: every conv kernel's two spatial axes are swapped
//! (`W[o, i, y, x] -> W[o, i, x, y]`), then the model is fine-tuned on D_r with SGD and a cosine
//! learning rate set per epoch (`lr · (1 + cos(π e / E)) / 2` for 0-based epoch `e` of `E`, the
//! code's `CosineAnnealingLR(T_max = epochs)` stepped per epoch). Defaults: the code's lr 0.001,
//! momentum 0.9, weight decay 5e-4, batch 64, 3 epochs. A network without conv layers (an MLP)
//! has nothing to transpose: there the method is cosine fine-tuning, and the stage says so.

use std::time::Instant;

use anyhow::Result;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tmu_nn::loss::cross_entropy;
use tmu_nn::{Cost, DeviceData, Network, StepOutput};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::gradients::weights;
use crate::io::write_outputs;
use crate::phased::{Phase, StepHooks, train_phases};
use crate::train::sgd_optimizer;
use tmu_nn::{data_on_port, model_on_port};

/// Configuration of `forget.ct` (defaults: DeepUnlearn's `kgltop5`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CtConfig {
    /// Passes over D_r after the transposition.
    #[schemars(range(min = 1, max = 10000))]
    pub epochs: usize,
    /// Initial SGD learning rate (cosine-annealed per epoch).
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

impl Default for CtConfig {
    fn default() -> Self {
        CtConfig { epochs: 3, lr: 0.001, momentum: 0.9, weight_decay: 5e-4, batch_size: 64 }
    }
}

/// The cosine factor of 0-based `epoch` of `epochs`: `(1 + cos(π · epoch / epochs)) / 2`.
pub fn cosine_factor(epoch: usize, epochs: usize) -> f64 {
    (1.0 + (std::f64::consts::PI * epoch as f64 / epochs.max(1) as f64).cos()) / 2.0
}

/// Swaps the two spatial axes of every conv kernel (4-d weight) of `net` larger than 1x1;
/// returns how many kernels it changed. A kernel that is not square cannot be transposed in place: refused.
pub fn transpose_conv_kernels(net: &Network) -> Result<usize> {
    let mut done = 0;
    for (name, v) in weights(net) {
        let dims = v.dims().to_vec();
        if dims.len() != 4 || !name.ends_with("weight") {
            continue;
        }
        anyhow::ensure!(
            dims[2] == dims[3],
            "conv kernel `{name}` is {}x{}: only square kernels transpose",
            dims[2],
            dims[3]
        );
        if dims[2] == 1 {
            // A 1x1 kernel (a ResNet's projection shortcut) is its own transpose; candle also
            // refuses to set a variable to a view of its own storage, which this would be.
            continue;
        }
        v.set(&v.as_tensor().transpose(2, 3)?.contiguous()?)?;
        done += 1;
    }
    Ok(done)
}

/// The `forget.ct` stage.
pub struct ForgetCt;

impl Stage for ForgetCt {
    const KIND: &'static str = "forget.ct";
    type Config = CtConfig;

    fn signature() -> Signature {
        Signature::new(
            "CT baseline (DeepUnlearn's kgltop5): transposes every conv kernel's spatial axes, then fine-tunes on the \
             retained samples with a cosine learning rate",
        )
        .input("model", ArtifactKind::Model, "the original model M_o")
        .input("retain", ArtifactKind::Dataset, "the retained training samples D_r")
        .output("model", ArtifactKind::Model, "the unlearned model (metadata: its cost)")
        .output("metrics", ArtifactKind::Metrics, "transposed kernels, training statistics and cost")
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("the authors' settings", "epochs = 3\nlr = 0.001"),
            Example::new("a longer fine-tuning", "epochs = 10\nlr = 0.01"),
        ]
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: CtConfig) -> Result<()> {
        let device = ctx.candle_device()?;
        let net = model_on_port(inputs, "model", &device)?;
        let retain = data_on_port(inputs, "retain", &net)?;
        let started = Instant::now();
        let transposed = transpose_conv_kernels(&net)?;
        if transposed == 0 {
            ctx.warn("the network has no conv kernel to transpose: this is fine-tuning with a cosine learning rate");
        }
        let retain_data = DeviceData::new(&retain, &device)?;
        let phases = [Phase { name: "retain", data: &retain_data, batch_size: config.batch_size, epochs: None }];
        let lr_at = |epoch| config.lr * cosine_factor(epoch, config.epochs);
        let seed = ctx.seed_for("train");
        let report = train_phases(
            ctx,
            &net,
            &phases,
            config.epochs,
            sgd_optimizer(config.lr, config.momentum, config.weight_decay),
            &lr_at,
            seed,
            StepHooks::default(),
            |net, batch| {
                let logits = net.forward_t(batch.x, true)?;
                let loss = cross_entropy(&logits, batch.y, 0.0)?;
                Ok(StepOutput::with_logits(loss, logits))
            },
        )?;
        let seconds = started.elapsed().as_secs_f64();
        let cost = Cost { wall_seconds: seconds, train_samples: report.train_samples, forward_samples: 0 };
        ctx.summary("transposed", transposed);
        write_outputs(
            ctx,
            &net,
            &cost,
            json!({
                "method": "ct",
                "config": config,
                "retain": retain.len(),
                "transposed_kernels": transposed,
                "training": report,
            }),
        )
    }
}
