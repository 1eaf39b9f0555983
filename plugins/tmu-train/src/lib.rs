//! tmu-train: `train.classifier` (an image classifier trained from scratch) and `twin.build`
//! (the twin model of Twin Machine Unlearning and its generalization labels), `model.import` (a
//! PyTorch state_dict trained elsewhere as a model artifact).

mod classifier;
mod import;
mod observer;
pub mod twin;

pub use classifier::{ClassifierConfig, TrainClassifier};
pub use import::{ImportConfig, ModelImport};
pub use twin::{TwinBuild, TwinConfig};

tmu_plugin::export_plugin!(TrainClassifier, TwinBuild, ModelImport);
