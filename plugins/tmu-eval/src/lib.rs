//! tmu-eval: evaluation stages of Twin Machine Unlearning.
//!
//! - `eval.unlearning` ([`EvalUnlearning`]): every unlearned model (a named map), the original
//!   and the gold model on D_r, D_f, the test set and non-members; writes `metrics.json` and
//!   `report.md`.
//! - `membership.signals` ([`MembershipSignals`]): one shadow of a membership-inference
//!   ensemble; per model the per-candidate statistics that `report.membership` attacks with.
//! - `labels.correct` ([`LabelsCorrect`]): 1 where a model classifies a sample correctly; with
//!   the gold model on D_f, the true generalization labels (1 = easy).
//!
//! Measures ([`measures`]), all in f64: accuracy; Delta = |Acc(M, D_f) - Acc(M_g, D_f)| in
//! percentage points; activation distance = mean over D_f of ||softmax M(x) - softmax M_g(x)||_2;
//! the loss-threshold membership attack (Ye et al., CCS 2022; a population attack: one threshold
//! for every sample, see `report.membership` for the per-example ones) at levels alpha, its threshold the
//! alpha-quantile (NumPy's linear interpolation, `tmu_stats::quantile`) of the model's cross-entropy on
//! non-members and its success the fraction of D_f at or below it; agreement = fraction of D_f
//! where M is right exactly where M_g is; cost = the model file's recorded cost (`tmu_nn::Cost`:
//! wall seconds, samples through forward+backward and forward only) and, per method, what else
//! it needs (input `costs`, grouped by `method_costs` into one-time set-up and per-request work),
//! each against gold's retrain.
//!
//! # The metrics file of `eval.unlearning`
//!
//! One JSON object (`schema` = `"tmu.eval.unlearning/1"`); accuracies and rates are fractions in
//! `[0, 1]`, `delta` is in percentage points, `null` marks what could not be measured:
//!
//! ```text
//! {
//!   "schema": "tmu.eval.unlearning/1",
//!   "forget": { "n": 18, "classes": `[3]`, "class_names": ["3"],
//!               "predicted_easy": 16, "predicted_hard": 2 },          // null without `predicted`
//!   "sets": { "retain": 1212, "test": 450, "population": 449, "mia_population": 449 },
//!   "mia": { "alphas": [0.1, 0.05, 0.01], "population": "all" },      // or "class"
//!   "gold": RECORD,                     // gold against itself: delta 0, distance 0, agreement 1
//!   "original": RECORD,                 // null when `original` is not connected
//!   "models": { "tmu": RECORD, "finetune": RECORD, ... },            // the map's order
//!   "best": { "delta": ["tmu"], "activation_distance": ["tmu"] }     // among `models`; ties: all
//! }
//! RECORD = {
//!   "acc": { "retain": .., "forget": .., "test": ..,
//!            "forget_easy": .., "forget_hard": .. },  // on D_f's predicted parts; null if none
//!   "delta": ..,                    // percentage points
//!   "activation_distance": ..,
//!   "mia": { "0.1":  { "threshold": .., "rate": .., "gold_rate": .., "gap": .. },
//!            "0.05": { ... }, "0.01": { ... } },      // keys: the alphas as Rust prints them
//!   "agreement": ..,
//!   "wall_seconds": ..,             // the model file's tmu.wall_seconds; null if absent
//!   "cost_ratio": ..,               // wall_seconds / gold's; null if either is absent
//!   "config": {..},                 // the method's config (input `forget_metrics`); absent without
//!   "predictor": { "hard_recall": .., "hard_precision": .., "auc": .., "predicted_hard_rate": .. },
//!                                   // input `predictor_metrics`; absent without
//!   "cost": { "forget": PART,       // the forget stage alone; null without a recorded cost
//!             "setup": PART,        // once per original model; null when the method lists none
//!             "per_request": PART,  // the forget stage + the method's per-request stages
//!             "whole": PART }       // setup + per_request
//! }
//! PART = { "wall_seconds": .., "train_samples": .., "forward_samples": ..,
//!          "wall_ratio": .., "work_ratio": .. }   // ratios to gold's retrain (work: train_samples)
//! ```

mod correct;
mod eval;
pub mod measures;
mod signals;

pub use correct::{CorrectConfig, LabelsCorrect};
pub use eval::{EvalConfig, EvalUnlearning, MethodCosts, MiaPopulation, SCHEMA};
pub use signals::{MembershipSignals, SIGNALS_SCHEMA, SignalsConfig};

tmu_plugin::export_plugin!(EvalUnlearning, LabelsCorrect, MembershipSignals);
