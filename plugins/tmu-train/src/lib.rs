//! tmu-train: `train.classifier` (an image classifier trained from scratch) and `twin.build`
//! (the twin model of Twin Machine Unlearning and its generalization labels).

mod classifier;
mod observer;
pub mod twin;

pub use classifier::{ClassifierConfig, TrainClassifier};
pub use twin::{TwinBuild, TwinConfig};

tmu_plugin::export_plugin!(TrainClassifier, TwinBuild);
