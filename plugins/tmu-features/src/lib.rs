//! tmu-features: the three per-sample features of Twin Machine Unlearning, one stage each.
//!
//! - [`DistanceFeature`] (`features.distance`, DF): mean distance to the k nearest reference
//!   samples of the same class in the model's normalised penultimate feature space.
//! - [`AdversarialFeature`] (`features.adversarial`, AF): KL between the prediction before and
//!   after a small L∞ PGD attack.
//! - [`CurriculumFeature`] (`features.curriculum`, CF): the per-sample loss of an early model.
//!
//! Each writes a one-column `features` artifact keyed by sample id; the predictor joins any
//! number of them by id. The numerics are public ([`knn`], [`pgd`]) so tests can reach them.

pub mod adversarial;
mod common;
pub mod curriculum;
pub mod distance;
pub mod knn;
pub mod pgd;

pub use adversarial::{AdversarialConfig, AdversarialFeature};
pub use curriculum::{CurriculumConfig, CurriculumFeature};
pub use distance::{DistanceConfig, DistanceFeature, Neighbours};

tmu_plugin::export_plugin!(DistanceFeature, AdversarialFeature, CurriculumFeature);
