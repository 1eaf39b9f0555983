//! What every feature stage shares: uploading data, config checks, and writing the one-column
//! features artifact with its summary numbers and the metrics file with the stage's cost.

use anyhow::Context as _;
use tmu_nn::candle::Device;
use tmu_nn::{Cost, DeviceData};
use tmu_plugin::Context;
use tmu_plugin::artifact::{Dataset, Features};

/// Uploads `data` to `device`.
pub fn upload(data: &Dataset, device: &Device, port: &str) -> anyhow::Result<DeviceData> {
    DeviceData::new(data, device).with_context(|| format!("uploading the `{port}` data set"))
}

/// Fails unless `name` is a usable feature column name (non-empty, no spaces).
pub fn check_name(name: &str) -> anyhow::Result<()> {
    if name.is_empty() || name.chars().any(char::is_whitespace) {
        anyhow::bail!("`name` = {name:?} is not a usable feature name: it must be non-empty without spaces");
    }
    Ok(())
}

/// The first position of the largest value (like `torch.argmax`).
pub fn argmax(row: &[f32]) -> u32 {
    let mut best = 0;
    for (k, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = k;
        }
    }
    best as u32
}

/// Mean, minimum and maximum of `values` (all NaN for an empty slice).
pub fn describe(values: &[f64]) -> (f64, f64, f64) {
    if values.is_empty() {
        return (f64::NAN, f64::NAN, f64::NAN);
    }
    let mean = values.iter().sum::<f64>() / values.len() as f64;
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    (mean, min, max)
}

/// Writes the one-column features artifact `name` (rows in the order of `ids`) to output port
/// `features`, and records `samples`, `mean`, `min` and `max` in the stage summary.
pub fn write_feature(ctx: &mut Context, name: &str, ids: &[u64], values: &[f64]) -> anyhow::Result<()> {
    if let Some(i) = values.iter().position(|v| !v.is_finite()) {
        anyhow::bail!("feature `{name}` of sample id {} is {} (not finite)", ids[i], values[i]);
    }
    let features = Features::new(values.iter().map(|&v| v as f32).collect(), ids.to_vec(), vec![name.to_string()])
        .with_context(|| format!("building feature `{name}`"))?;
    let path = ctx.output_path("features");
    features.write(&path).with_context(|| format!("writing output `features` of stage `{}`", ctx.stage_name()))?;
    let (mean, min, max) = describe(values);
    ctx.summary("samples", values.len());
    ctx.summary("mean", mean);
    ctx.summary("min", min);
    ctx.summary("max", max);
    Ok(())
}

/// Writes output `metrics`: the stage's `cost` (see `tmu_nn::Cost`) next to `extra`'s fields.
pub fn write_metrics_with_cost(ctx: &Context, cost: &Cost, extra: serde_json::Value) -> anyhow::Result<()> {
    let mut m = match extra {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    };
    m.insert("wall_seconds".into(), cost.wall_seconds.into());
    m.insert("cost".into(), cost.to_json());
    let path = ctx.output_path("metrics");
    tmu_plugin::artifact::write_metrics(&path, &serde_json::Value::Object(m))
        .with_context(|| format!("writing output `metrics` of stage `{}`", ctx.stage_name()))
}

/// The description of output `metrics` of every feature stage.
pub const METRICS_OUTPUT: &str = "the stage's cost (wall seconds, samples through the network) and its summary numbers";
