//! The stage `labels.correct`: whether a model classifies each sample correctly, as labels
//! (1 = right). With the gold model and D_f these are the true generalization labels (1 = easy).

use anyhow::Context as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_nn::{Cost, DeviceData, Network, predict};
use tmu_plugin::artifact::{Dataset, Labels};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

/// Config of `labels.correct`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CorrectConfig {
    /// Samples per inference batch.
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: usize,
}

impl Default for CorrectConfig {
    fn default() -> Self {
        CorrectConfig { batch_size: 256 }
    }
}

/// The stage `labels.correct`.
#[derive(Debug)]
pub struct LabelsCorrect;

impl Stage for LabelsCorrect {
    const KIND: &'static str = "labels.correct";
    type Config = CorrectConfig;

    fn signature() -> Signature {
        Signature::new(
            "labels each sample 1 when the model's argmax is its label, else 0: with the gold model on D_f, \
             the true generalization labels (1 = easy, 0 = hard)",
        )
        .input("model", ArtifactKind::Model, "the classifier (the gold model for true generalization labels)")
        .input("data", ArtifactKind::Dataset, "the samples to label")
        .output("labels", ArtifactKind::Labels, "1 = classified correctly (easy), 0 = not (hard), by sample id")
        .output("metrics", ArtifactKind::Metrics, "the accuracy, the hard count and the stage's cost")
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("the true generalization labels of D_f (wire gold.model and split.forget)", ""),
            Example::new("larger inference batches", "batch_size = 1024"),
        ]
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: CorrectConfig) -> anyhow::Result<()> {
        anyhow::ensure!(config.batch_size > 0, "`batch_size` must be at least 1");
        let device = ctx.candle_device()?;
        let model_path = inputs.path("model")?;
        let net = Network::load(model_path, &device)
            .with_context(|| format!("reading input `model` ({})", model_path.display()))?;
        let data_path = inputs.path("data")?;
        let data =
            Dataset::read(data_path).with_context(|| format!("reading input `data` ({})", data_path.display()))?;
        anyhow::ensure!(!data.is_empty(), "input `data` ({}) holds no samples", data_path.display());
        net.spec()
            .check_data(&data)
            .with_context(|| format!("model {} does not fit data {}", model_path.display(), data_path.display()))?;
        ctx.check_cancelled()?;
        let started = std::time::Instant::now();
        let on_device = DeviceData::new(&data, &device)?;
        let correct = predict(&net, &on_device, config.batch_size, false)?.correct();
        let labels = Labels::easy_hard(&correct, data.ids.clone())?;
        let out = ctx.output_path("labels");
        labels.write(&out).with_context(|| format!("writing {}", out.display()))?;
        let right = correct.iter().filter(|c| **c).count();
        let cost = Cost {
            wall_seconds: started.elapsed().as_secs_f64(),
            train_samples: 0,
            forward_samples: data.len() as u64,
        };
        let metrics = serde_json::json!({
            "samples": data.len(),
            "accuracy": right as f64 / correct.len() as f64,
            "hard": correct.len() - right,
            "wall_seconds": cost.wall_seconds,
            "cost": cost.to_json(),
        });
        let out = ctx.output_path("metrics");
        tmu_plugin::artifact::write_metrics(&out, &metrics).with_context(|| format!("writing {}", out.display()))?;
        ctx.summary("accuracy", right as f64 / correct.len() as f64);
        ctx.summary("hard", correct.len() - right);
        Ok(())
    }
}
