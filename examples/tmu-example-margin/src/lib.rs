//! tmu-example-margin: an example third-party tmu plugin with one stage, `features.margin`.
//!
//! [`MarginFeature`] writes the per-sample confidence margin of a classifier, the logit of the
//! sample's true class minus the largest other logit ([`margin`] has the numerics), as a
//! one-column `features` artifact keyed by sample id. The predictor of Twin Machine Unlearning
//! takes any number of feature columns, so this column joins DF, AF and CF in `predictor.train`
//! and `predictor.apply` without any other change.
//!
//! Everything a plugin needs is here: a config struct (its doc comments become the schema's
//! descriptions), the [`tmu_plugin::Stage`] implementation, and the `export_plugin!` line that
//! generates the C entry points `tmu` loads. See README.md for building and using it.

pub mod margin;
mod stage;

pub use margin::{Space, margin};
pub use stage::{MarginConfig, MarginFeature};

tmu_plugin::export_plugin!(MarginFeature);
