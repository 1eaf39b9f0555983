//! tmu-report: stages that read many points' results at once.
//!
//! - `report.sweep` ([`ReportSweep`]): gathers over a sweep's points (map inputs keyed by point
//!   label, which it reads back into axis values) the metrics of `eval.unlearning` (the layout
//!   documented in tmu-eval's crate docs) and, optionally, of `predictor.apply` (`truth.auc`,
//!   `truth.feature_auc.*`) and the features and labels of the twin and real forget sets.
//!   Writes `report.md` (mean ± std per method; Delta by each axis; paired comparisons of the
//!   reference method with each other, over a unit the config chooses, the seed by default
//!   because the points of a seed share models: wins / ties / losses, sign test, paired t-test,
//!   Wilcoxon signed-rank test, and the mean difference with its cluster bootstrap interval;
//!   the predictor's diagnostics) and the folder
//!   `table/`: `sweep.csv` (long: one row per point x method x metric), `paired.csv`, and plots
//!   as PNG and SVG: `methods` (Delta and activation distance per method),
//!   `alignment_vs_size` (the paper's Figure 3), `predictor_auc` (the predictor's and each
//!   feature's AUC) and `features_scatter` (twin against real features, easy and hard). With
//!   `select`, each method's setting is chosen against gold on tuning points and reported on the
//!   others ([`select`]); the cost of every method against gold's retrain gets its own table.
//! - `report.membership` ([`ReportMembership`]): gathers every shadow's `membership.signals`
//!   of an ensemble sweep; per model the per-example attacks U-LiRA and offline RMIA
//!   (leave-one-model-out; AUC, balanced accuracy, TPR at fixed FPRs), gold's line as chance,
//!   JS divergence, activation distance, ToW, ToW-MIA and the population loss attack; ROC
//!   curves on log-log axes (`table/roc_*.png|svg`).
//! - `features.join` ([`FeaturesJoin`]): feature artifacts of the same samples into one.
//!
//! Both report stages also write `html/report.html` ([`html`]): one self-contained page with the
//! markdown's tables and notes, the SVG plots inline, the stage's config and, per input, the
//! producing stage's kind, plugin version, SDK, cache key, seed, device and config, read from the
//! store's `entry.json` beside the input's file.
//!
//! The statistics come from tmu-stats (checked against SciPy, NumPy and scikit-learn there). Plot
//! text uses a font shipped in `fonts/` (DejaVu Sans, cut down), so no system font is needed.
//! Nothing here uses candle.

mod cost;
pub mod html;
mod inputs;
mod join_stage;
pub mod labels;
pub mod long;
mod markdown;
pub mod membership;
mod paired;
pub mod plots;
mod report_stage;
pub mod select;

pub use inputs::{LabelledFeatures, PointResults, read_points};
pub use join_stage::{FeaturesJoin, FeaturesJoinConfig};
pub use membership::{MembershipConfig, ReportMembership, RmiaConfig};
pub use paired::PairedUnit;
pub use report_stage::{ReportSweep, ReportSweepConfig};

tmu_plugin::export_plugin!(ReportSweep, FeaturesJoin, ReportMembership);
