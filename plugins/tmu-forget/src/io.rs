//! What every unlearning stage shares besides `tmu_nn::{model_on_port, data_on_port}`: reading
//! generalization labels, and writing its outputs (the model with its wall time, the metrics).

use anyhow::{Context as _, Result, bail};
use tmu_nn::{Cost, Network};
use tmu_plugin::artifact::{Dataset, Labels, write_metrics};
use tmu_plugin::{Context, Inputs};

/// Reads the generalization labels on input `port` for the samples of `forget` (in its order):
/// `true` = easy (label 1), `false` = hard (label 0). Every forget id must have a label.
pub fn read_easy(inputs: &Inputs, port: &str, forget: &Dataset) -> Result<Vec<bool>> {
    let path = inputs.path(port)?;
    let labels = Labels::read(path).with_context(|| format!("reading {port} {}", path.display()))?;
    let aligned = labels
        .aligned_to(&forget.ids)
        .with_context(|| format!("the {port} {} do not cover the forget set", path.display()))?;
    if let Some((i, l)) = aligned.iter().enumerate().find(|(_, l)| **l > 1) {
        bail!(
            "the {port} {} are not generalization labels: sample id {} has label {l}, expected 0 (hard) or 1 (easy)",
            path.display(),
            forget.ids[i]
        );
    }
    Ok(aligned.iter().map(|&l| l == 1).collect())
}

/// Writes `net` to the `model` output with the stage's cost (wall time, training work) in its
/// metadata.
pub fn write_model(ctx: &Context, net: &Network, cost: &Cost) -> Result<()> {
    let path = ctx.output_path("model");
    net.save_with_metadata(&path, &cost.metadata()).with_context(|| format!("writing model {}", path.display()))
}

/// Writes what every unlearning stage ends with: `net` to the `model` output with its cost, the
/// wall time to the summary, and `metrics` (an object) to the `metrics` output with the wall time
/// and the cost added.
pub fn write_outputs(ctx: &mut Context, net: &Network, cost: &Cost, mut metrics: serde_json::Value) -> Result<()> {
    write_model(ctx, net, cost)?;
    ctx.summary("wall_seconds", cost.wall_seconds);
    if let Some(m) = metrics.as_object_mut() {
        m.insert("wall_seconds".into(), cost.wall_seconds.into());
        m.insert("cost".into(), cost.to_json());
    }
    write_stage_metrics(ctx, &metrics)
}

/// Writes the `metrics` output.
pub fn write_stage_metrics(ctx: &Context, metrics: &serde_json::Value) -> Result<()> {
    let path = ctx.output_path("metrics");
    write_metrics(&path, metrics).with_context(|| format!("writing metrics {}", path.display()))
}
