//! What every feature stage shares: reading the model and a data set that must fit it, config
//! checks, and writing the one-column features artifact with its summary numbers and the
//! metrics file with the stage's cost.

use std::path::Path;

use anyhow::Context as _;
use tmu_nn::candle::Device;
use tmu_nn::{Cost, DeviceData, Network, NnError};
use tmu_plugin::artifact::{Dataset, Features};
use tmu_plugin::{Context, Inputs};

/// Default batch size of the feature stages (inference and attack batches).
pub fn default_batch_size() -> usize {
    256
}

/// Reads the model bound to port `model` onto `device`.
pub fn load_model(inputs: &Inputs, device: &Device) -> anyhow::Result<Network> {
    let path = inputs.path("model")?;
    Network::load(path, device)
        .map_err(NnError::into_anyhow)
        .with_context(|| format!("reading model {}", path.display()))
}

/// Reads the data set bound to `port` and checks that `net` can take it (image shape, classes);
/// an empty set is an error (there is nothing to compute a feature for).
pub fn load_data(inputs: &Inputs, port: &str, net: &Network) -> anyhow::Result<Dataset> {
    let path = inputs.path(port)?;
    let data = Dataset::read(path).with_context(|| format!("reading `{port}` data set {}", path.display()))?;
    check_fits(net, &data, port, path)?;
    Ok(data)
}

/// Fails unless `data` (read from `path` for port `port`) is non-empty and fits `net`.
pub fn check_fits(net: &Network, data: &Dataset, port: &str, path: &Path) -> anyhow::Result<()> {
    if data.is_empty() {
        anyhow::bail!("the `{port}` data set {} is empty: there is no sample to compute a feature for", path.display());
    }
    net.spec().check_data(data).map_err(NnError::into_anyhow).with_context(|| {
        format!("the model does not fit the `{port}` data set {} (is it the model of this data?)", path.display())
    })
}

/// Uploads `data` to `device`.
pub fn upload(data: &Dataset, device: &Device, port: &str) -> anyhow::Result<DeviceData> {
    DeviceData::new(data, device)
        .map_err(NnError::into_anyhow)
        .with_context(|| format!("uploading the `{port}` data set"))
}

/// Fails with a message naming `field` unless `min <= value <= max`.
pub fn check_range(field: &str, value: f64, min: f64, max: f64) -> anyhow::Result<()> {
    if value.is_finite() && value >= min && value <= max {
        Ok(())
    } else {
        anyhow::bail!("`{field}` = {value} is out of range: it must lie in [{min}, {max}]")
    }
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
        .map_err(anyhow::Error::msg)
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
