//! What `report.sweep` reads: for every point (a key of its map inputs), the metrics of
//! `eval.unlearning` and `predictor.apply`, and the features and labels of the twin and real
//! forget sets.

use anyhow::Context as _;
use indexmap::IndexMap;
use tmu_plugin::Inputs;
use tmu_plugin::artifact::{Features, Labels, read_metrics};

use crate::labels::parse_label;

/// Per-sample features with their easy (1) / hard (0) labels, aligned by sample id.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelledFeatures {
    pub names: Vec<String>,
    /// Row-major, `names.len()` columns.
    pub values: Vec<f32>,
    pub easy: Vec<bool>,
}

impl LabelledFeatures {
    pub fn rows(&self) -> usize {
        self.easy.len()
    }

    pub fn column(&self, j: usize) -> Vec<f64> {
        let f = self.names.len();
        (0..self.rows()).map(|i| f64::from(self.values[i * f + j])).collect()
    }
}

/// One point's results; what an input does not hold for the point is `None`.
#[derive(Clone, Debug, PartialEq)]
pub struct PointResults {
    /// The map key: the point label.
    pub label: String,
    /// The label read back: `(axis, value)`.
    pub axes: Vec<(String, String)>,
    pub eval: Option<serde_json::Value>,
    pub predictor: Option<serde_json::Value>,
    pub twin: Option<LabelledFeatures>,
    pub forget: Option<LabelledFeatures>,
}

/// The points of the `metrics` map (in its order) with what the other maps hold for them.
pub fn read_points(inputs: &Inputs) -> anyhow::Result<Vec<PointResults>> {
    let metrics = inputs.map("metrics")?;
    let optional = |port: &str| -> anyhow::Result<IndexMap<String, std::path::PathBuf>> {
        if !inputs.contains(port) {
            return Ok(IndexMap::new());
        }
        Ok(inputs.map(port)?.into_iter().map(|(k, a)| (k.to_string(), a.path.clone())).collect())
    };
    let predictor = optional("predictor")?;
    let (twin_f, twin_l) = (optional("twin_features")?, optional("twin_labels")?);
    let (forget_f, forget_l) = (optional("forget_features")?, optional("forget_labels")?);
    let mut points = Vec::with_capacity(metrics.len());
    for (label, artifact) in metrics {
        let axes = parse_label(label);
        let key = |map: &IndexMap<String, std::path::PathBuf>| for_point(map, label, &axes);
        let get = |map: &IndexMap<String, std::path::PathBuf>| key(map).and_then(|k| map.get(&k).cloned());
        let eval = read_metrics(&artifact.path)
            .with_context(|| format!("reading `metrics` of point {label} ({})", artifact.path.display()))?;
        let predictor = match get(&predictor) {
            Some(p) => Some(
                read_metrics(&p).with_context(|| format!("reading `predictor` of point {label} ({})", p.display()))?,
            ),
            None => None,
        };
        let twin = labelled(label, "twin", get(&twin_f).as_ref(), get(&twin_l).as_ref())?;
        let forget = labelled(label, "forget", get(&forget_f).as_ref(), get(&forget_l).as_ref())?;
        points.push(PointResults { label: label.to_string(), axes, eval: Some(eval), predictor, twin, forget });
    }
    Ok(points)
}

/// Features joined with labels by sample id, when the point has both.
fn labelled(
    label: &str,
    set: &str,
    features: Option<&std::path::PathBuf>,
    labels: Option<&std::path::PathBuf>,
) -> anyhow::Result<Option<LabelledFeatures>> {
    let (Some(f), Some(l)) = (features, labels) else { return Ok(None) };
    let features = Features::read(f).with_context(|| format!("reading `{set}_features` of point {label}"))?;
    let labels = Labels::read(l).with_context(|| format!("reading `{set}_labels` of point {label}"))?;
    let easy = labels
        .aligned_to(&features.ids)
        .with_context(|| format!("matching `{set}_labels` to `{set}_features` of point {label} by sample id"))?;
    Ok(Some(LabelledFeatures {
        names: features.names.clone(),
        values: features.values.clone(),
        easy: easy.iter().map(|&e| e == 1).collect(),
    }))
}

/// The key of `map` that holds point `label`'s value: the label itself, or else the most specific
/// key whose every `axis=value` is one of the point's. A stage that depends on fewer axes than
/// the evaluation (the predictor does not depend on a `setting` axis that only the forget
/// stages read) is gathered under its own, shorter label.
fn for_point(map: &IndexMap<String, std::path::PathBuf>, label: &str, axes: &[(String, String)]) -> Option<String> {
    if map.contains_key(label) {
        return Some(label.to_string());
    }
    map.keys()
        .map(|k| (k, parse_label(k)))
        .filter(|(_, pairs)| pairs.iter().all(|p| axes.contains(p)))
        .max_by_key(|(_, pairs)| pairs.len())
        .map(|(k, _)| k.clone())
}
