//! The stage `features.margin`: its config, signature, examples, preflight checks and run.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_nn::{DeviceData, Network, NnError};
use tmu_plugin::anyhow::{self, Context as _, bail};
use tmu_plugin::artifact::{Dataset, Features};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, ResultExt, Signature, Stage};

use crate::margin::{Space, margin};

/// Config of `features.margin`. Every field has a default, so `config` may be left out.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarginConfig {
    /// Where the margin is measured: `logit` (the true class's logit minus the largest other
    /// logit) or `probability` (the same difference of softmax probabilities, in [-1, 1]).
    #[serde(default)]
    pub space: Space,
    /// Samples per forward pass.
    #[serde(default = "default_batch_size")]
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: usize,
    /// Name of the output feature column.
    #[serde(default = "default_name")]
    pub name: String,
}

fn default_batch_size() -> usize {
    256
}

fn default_name() -> String {
    "margin".to_string()
}

impl Default for MarginConfig {
    fn default() -> Self {
        MarginConfig { space: Space::default(), batch_size: default_batch_size(), name: default_name() }
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

    /// Runs before any stage of the pipeline does: only checks the config.
    fn preflight(config: &MarginConfig) -> anyhow::Result<()> {
        if !(1..=65536).contains(&config.batch_size) {
            bail!("`batch_size` = {} is out of range: it must lie in [1, 65536]", config.batch_size);
        }
        if config.name.is_empty() || config.name.chars().any(char::is_whitespace) {
            bail!("`name` = {:?} is not a usable feature name: it must be non-empty without spaces", config.name);
        }
        Ok(())
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: MarginConfig) -> anyhow::Result<()> {
        Self::preflight(&config)?;
        let device = ctx.candle_device()?;
        let model_path = inputs.path("model")?;
        let net = Network::load(model_path, &device)
            .map_err(NnError::into_anyhow)
            .with_context(|| format!("reading model {}", model_path.display()))?;
        let data_path = inputs.path("data")?;
        let data = Dataset::read(data_path).with_context(|| format!("reading data set {}", data_path.display()))?;
        check_fits(&net, &data).with_context(|| {
            format!("the model {} cannot score the data set {}", model_path.display(), data_path.display())
        })?;

        let logits = logits(ctx, &net, &data, config.batch_size)?;
        let k = net.num_classes();
        let values: Vec<f64> = data
            .labels
            .iter()
            .enumerate()
            .map(|(i, &y)| margin(&logits[i * k..(i + 1) * k], y as usize, config.space))
            .collect();
        if let Some(i) = values.iter().position(|v| !v.is_finite()) {
            bail!("the margin of sample id {} is {} (the model's logits are not finite)", data.ids[i], values[i]);
        }

        let features =
            Features::new(values.iter().map(|&v| v as f32).collect(), data.ids.clone(), vec![config.name.clone()])
                .map_err(anyhow::Error::msg)?;
        let out = ctx.output_path("features");
        features.write(&out).with_context(|| format!("writing {}", out.display()))?;
        let n = values.len() as f64;
        ctx.summary("samples", values.len());
        ctx.summary("mean", values.iter().sum::<f64>() / n);
        ctx.summary("misclassified", values.iter().filter(|&&v| v < 0.0).count());
        Ok(())
    }
}

/// Fails unless the data set is non-empty, fits the network and the network has two classes or
/// more (a margin needs another class to compare with).
fn check_fits(net: &Network, data: &Dataset) -> anyhow::Result<()> {
    if data.is_empty() {
        bail!("the data set is empty: there is no sample to compute a margin for");
    }
    if net.num_classes() < 2 {
        bail!("the model has {} class: a margin needs two or more", net.num_classes());
    }
    net.spec().check_data(data).map_err(NnError::into_anyhow).help("wire the model trained on this data set")
}

/// The logits of every sample, row-major `[N, K]`, one batch at a time: progress after each batch,
/// and a cancelled run stops between batches.
fn logits(ctx: &mut Context, net: &Network, data: &Dataset, batch_size: usize) -> anyhow::Result<Vec<f32>> {
    let d = DeviceData::new(data, net.device()).map_err(NnError::into_anyhow).context("uploading the data set")?;
    let n = d.len();
    let mut out = Vec::with_capacity(n * net.num_classes());
    for start in (0..n).step_by(batch_size) {
        ctx.check_cancelled()?;
        let len = batch_size.min(n - start);
        let (images, _labels) = d.range(start, len).map_err(NnError::into_anyhow)?;
        let x = net.normalise_u8(&images).map_err(NnError::into_anyhow)?;
        let z = net.forward_t(&x, false).map_err(NnError::into_anyhow)?;
        out.extend(z.flatten_all()?.to_vec1::<f32>()?);
        ctx.progress((start + len) as u64, n as u64, "scoring samples");
    }
    Ok(out)
}
