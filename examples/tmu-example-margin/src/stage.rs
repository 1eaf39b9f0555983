//! The stage `features.margin`: its config, signature, examples, preflight checks and run.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_nn::{DeviceData, data_on_port, model_on_port, predict_reporting};
use tmu_plugin::anyhow::{self, Context as _, bail};
use tmu_plugin::artifact::Features;
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::margin::{Space, margin};

/// Config of `features.margin`. Every field has a default (`MarginConfig::default()`, which the
/// container-level `#[serde(default)]` fills in and the schema shows), so `config` may be left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MarginConfig {
    /// Where the margin is measured: `logit` (the true class's logit minus the largest other
    /// logit) or `probability` (the same difference of softmax probabilities, in [-1, 1]).
    pub space: Space,
    /// Samples per forward pass.
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: usize,
    /// Name of the output feature column.
    pub name: String,
}

impl Default for MarginConfig {
    fn default() -> Self {
        MarginConfig { space: Space::Logit, batch_size: 256, name: "margin".to_string() }
    }
}

/// The stage `features.margin`.
#[derive(Debug)]
pub struct MarginFeature;

impl Stage for MarginFeature {
    const KIND: &'static str = "features.margin";
    type Config = MarginConfig;

    fn signature() -> Signature {
        Signature::new(
            "the confidence margin of a model on each sample: the logit of its true class minus the \
             largest other logit (eval mode; `space = \"probability\"` takes softmax probabilities \
             instead); negative exactly when the model misclassifies the sample, small for the \
             borderline samples a retrained model is likely to get wrong. An example third-party \
             plugin (examples/tmu-example-margin)",
        )
        .input("model", ArtifactKind::Model, "the classifier (M_t for the twin set, M_o for D_f)")
        .input("data", ArtifactKind::Dataset, "the samples to compute the margin for")
        .output(
            "features",
            ArtifactKind::Features,
            "one column (`margin` unless renamed) per sample id of `data`",
        )
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("the logit margin, column `margin`", ""),
            Example::new("the softmax margin in [-1, 1], larger batches", "space = \"probability\"\nbatch_size = 1024"),
        ]
    }

    /// Checks what the schema cannot say; the SDK runs it before any stage runs and before `run`.
    fn preflight(config: &MarginConfig) -> anyhow::Result<()> {
        if config.name.is_empty() || config.name.chars().any(char::is_whitespace) {
            bail!("`name` = {:?} is not a usable feature name: it must be non-empty without spaces", config.name);
        }
        Ok(())
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: MarginConfig) -> anyhow::Result<()> {
        let device = ctx.candle_device()?;
        let net = model_on_port(inputs, "model", &device)?;
        let data = data_on_port(inputs, "data", &net)?;
        if net.num_classes() < 2 {
            bail!("the model has {} class: a margin needs two or more", net.num_classes());
        }
        let p = predict_reporting(ctx, &net, &DeviceData::new(&data, &device)?, config.batch_size, false)?;
        let values: Vec<f64> =
            data.labels.iter().enumerate().map(|(i, &y)| margin(p.logits_row(i), y as usize, config.space)).collect();
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            bail!("the margin of sample id {} is {} (the model's logits are not finite)", data.ids[i], values[i]);
        }

        let features = Features::new(values.iter().map(|&v| v as f32).collect(), data.ids.clone(), vec![config.name])?;
        let out = ctx.output_path("features");
        features.write(&out).with_context(|| format!("writing {}", out.display()))?;
        ctx.summary("samples", values.len());
        ctx.summary("mean", values.iter().sum::<f64>() / values.len() as f64);
        ctx.summary("misclassified", values.iter().filter(|&&v| v < 0.0).count());
        Ok(())
    }
}
