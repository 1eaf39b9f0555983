//! tmu-predictor: the generalization-label predictor of Twin Machine Unlearning as two stages.
//!
//! - `predictor.train` ([`PredictorTrain`]): the twin set's features (a list of feature
//!   artifacts joined by sample id, any number of columns) and twin labels (1 = easy) ->
//!   a predictor (a `model` artifact with `tmu.arch = "predictor-mlp"`) and metrics.
//! - `predictor.apply` ([`PredictorApply`]): a predictor and D_f's features (same column
//!   names) -> predicted labels (1 = easy), p(easy) per sample, and metrics (diagnostics
//!   against the true labels when given).
//!
//! Preprocessing ([`preprocess`]) is per set: winsorise each column to
//! [Q1 - k IQR, Q3 + k IQR] (NumPy's linear-interpolation quantiles, from tmu-stats), then min-max to `[0, 1]`
//! (a constant column scales to 0). The MLP ([`mlp`]) is F -> 32 -> 16 -> 1 with ReLU (`hidden = []`:
//! logistic regression), trained with BCE with logits by Adam ([`fit`]); it runs on the CPU.
//!
//! The predictor file holds `layers.{i}.weight` `[out, in]` and `layers.{i}.bias` `[out]` (f32) and
//! the metadata `tmu.predictor.layers`, `tmu.predictor.features`, `tmu.predictor.iqr_factor`,
//! `tmu.predictor.twin_hard_rate`, `tmu.predictor.twin_f1_cut` and `tmu.wall_seconds` ([`model_file`]).

mod apply_stage;
pub mod fit;
mod inputs;
pub mod mlp;
pub mod model_file;
pub mod preprocess;
pub mod scores;
pub mod threshold;
mod train_stage;

pub use apply_stage::{PredictorApply, PredictorApplyConfig, Threshold};
pub use train_stage::{PredictorTrain, PredictorTrainConfig};

tmu_plugin::export_plugin!(PredictorTrain, PredictorApply);
