//! `features.curriculum` (CF): the per-sample cross-entropy of an early model (one trained
//! briefly from scratch), computed in f64 from its logits.

use std::time::Instant;

use anyhow::Context as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_nn::predict;
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::common::{METRICS_OUTPUT, check_name, upload, write_feature, write_metrics_with_cost};
use tmu_nn::Cost;
use tmu_nn::{data_on_port, model_on_port};

/// Config of `features.curriculum`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct CurriculumConfig {
    /// Samples per forward pass.
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: usize,
    /// Name of the output feature column.
    pub name: String,
}

impl Default for CurriculumConfig {
    fn default() -> Self {
        CurriculumConfig { batch_size: 256, name: "cf".to_string() }
    }
}

/// The stage `features.curriculum`.
#[derive(Debug)]
pub struct CurriculumFeature;

impl Stage for CurriculumFeature {
    const KIND: &'static str = "features.curriculum";
    type Config = CurriculumConfig;

    fn signature() -> Signature {
        Signature::new(
            "CF, the curriculum-learning-loss feature: the per-sample cross-entropy (f64, from the \
             logits, eval mode) of an early model, one trained briefly from scratch on D_train \
             (`train.classifier` with `stop = { train_accuracy = 0.5 }`); easy samples are learned \
             first, so a high early loss marks a hard sample",
        )
        .input("model", ArtifactKind::Model, "the early model (one serves both the twin set and D_f)")
        .input("data", ArtifactKind::Dataset, "the samples to compute CF for")
        .output("features", ArtifactKind::Features, "one column (`cf` unless renamed) per sample id of `data`")
        .output("metrics", ArtifactKind::Metrics, METRICS_OUTPUT)
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("the method", ""),
            Example::new("renamed column (e.g. the original model's own loss as an extra feature)", "name = \"loss\""),
        ]
    }

    fn preflight(config: &CurriculumConfig) -> anyhow::Result<()> {
        check_name(&config.name)
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: CurriculumConfig) -> anyhow::Result<()> {
        let device = ctx.candle_device()?;
        let net = model_on_port(inputs, "model", &device)?;
        let data = data_on_port(inputs, "data", &net)?;
        let d = upload(&data, &device, "data")?;
        let start = Instant::now();
        let p = predict(&net, &d, config.batch_size, false).context("running the model over the `data` set")?;
        let seconds = start.elapsed().as_secs_f64();
        write_feature(ctx, &config.name, &data.ids, &p.losses)?;
        ctx.summary("accuracy", p.accuracy());
        ctx.summary("seconds", seconds);
        let cost = Cost { wall_seconds: seconds, train_samples: 0, forward_samples: data.len() as u64 };
        write_metrics_with_cost(ctx, &cost, serde_json::json!({ "samples": data.len(), "accuracy": p.accuracy() }))?;
        Ok(())
    }
}
