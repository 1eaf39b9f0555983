//! The model zoo: one file per architecture, each built from a `VarBuilder` and its config,
//! with weights named like the equivalent PyTorch module.

mod allcnn;
mod arch;
mod mlp;
mod options;
mod resnet;
mod small_cnn;
mod vit;

pub use allcnn::{AllCnn, AllCnnConfig};
pub use arch::{ArchConfig, Model, build};
pub use mlp::{Mlp, MlpConfig};
pub use options::{ArchName, ArchOptions};
pub use resnet::{ResNet18, ResNetConfig, Stem};
pub use small_cnn::{SmallCnn, SmallCnnConfig};
pub use vit::{Vit, VitConfig};
