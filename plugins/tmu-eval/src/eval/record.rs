//! The metrics JSON of `eval.unlearning`, as types (the layout is documented in the crate doc):
//! one [`ModelRecord`] per model, gold and original included, so an aggregator reads them alike.

use indexmap::IndexMap;
use serde::Serialize;

use super::cost::CostRecord;

/// Schema tag of the metrics file; bump on an incompatible change.
pub const SCHEMA: &str = "tmu.eval.unlearning/1";

/// Accuracies (fractions in `[0, 1]`).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Accuracy {
    pub retain: f64,
    pub forget: f64,
    pub test: f64,
    /// On D_f's predicted-easy samples; `null` without `predicted` or when there are none.
    pub forget_easy: Option<f64>,
    /// On D_f's predicted-hard samples; `null` without `predicted` or when there are none.
    pub forget_hard: Option<f64>,
}

/// The loss-threshold attack at one level alpha.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MiaRecord {
    /// The alpha-quantile of this model's losses on the non-members.
    pub threshold: f64,
    /// Fraction of D_f flagged as members.
    pub rate: f64,
    /// The gold model's rate at the same level.
    pub gold_rate: f64,
    /// `|rate - gold_rate|`.
    pub gap: f64,
}

/// Everything measured for one model, relative to the gold model.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModelRecord {
    pub acc: Accuracy,
    /// `|Acc(M, D_f) - Acc(gold, D_f)|` in percentage points.
    pub delta: f64,
    /// Mean over D_f of `||softmax(M(x)) - softmax(gold(x))||_2`.
    pub activation_distance: f64,
    /// By alpha as written by Rust's `{}` (`"0.1"`, `"0.05"`, `"0.01"`).
    pub mia: IndexMap<String, MiaRecord>,
    /// Fraction of D_f where M is right exactly where gold is right.
    pub agreement: f64,
    /// `tmu.wall_seconds` of the model artifact (the compute time of the stage that made it).
    pub wall_seconds: Option<f64>,
    /// `wall_seconds / gold's wall_seconds`.
    pub cost_ratio: Option<f64>,
    /// The forget stage's cost and everything else the method needs, against gold's retrain.
    pub cost: CostRecord,
    /// The method's config, from its forget stage's metrics (input `forget_metrics`); absent
    /// without them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub config: Option<serde_json::Value>,
    /// The predictor behind the labels the method forgot with (input `predictor_metrics`):
    /// `hard_recall`, `hard_precision`, `auc`, `predicted_hard_rate`; absent without them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predictor: Option<serde_json::Value>,
}

/// What was forgotten.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ForgetInfo {
    pub n: usize,
    /// Class indices present in D_f, ascending.
    pub classes: Vec<u32>,
    pub class_names: Vec<String>,
    /// Counts of D_f's predicted labels (`null` without `predicted`).
    pub predicted_easy: Option<usize>,
    pub predicted_hard: Option<usize>,
}

/// Sizes of the evaluation sets.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SetSizes {
    pub retain: usize,
    pub test: usize,
    pub population: usize,
    /// The non-members that calibrate the attack (all of `population`, or its D_f classes).
    pub mia_population: usize,
}

/// How the attack was run.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct MiaSettings {
    pub alphas: Vec<f64>,
    pub population: &'static str,
}

/// The methods (among `models`) with the lowest Delta and activation distance (ties: all).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Best {
    pub delta: Vec<String>,
    pub activation_distance: Vec<String>,
}

/// The whole metrics file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EvalMetrics {
    pub schema: &'static str,
    pub forget: ForgetInfo,
    pub sets: SetSizes,
    pub mia: MiaSettings,
    pub gold: ModelRecord,
    /// `null` when `original` is not connected.
    pub original: Option<ModelRecord>,
    /// By the names of the `models` map, in its order.
    pub models: IndexMap<String, ModelRecord>,
    pub best: Best,
}

/// The names whose `key` is lowest (within 1e-12), in map order.
pub fn lowest(models: &IndexMap<String, ModelRecord>, key: impl Fn(&ModelRecord) -> f64) -> Vec<String> {
    let min = models.values().map(&key).fold(f64::INFINITY, f64::min);
    models.iter().filter(|(_, r)| key(r) <= min + 1e-12).map(|(n, _)| n.clone()).collect()
}
