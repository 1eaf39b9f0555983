//! The architecture enum saved in model files, the [`Model`] trait every architecture
//! implements, and [`build`].

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AllCnn, AllCnnConfig, Mlp, MlpConfig, ResNet18, ResNetConfig, SmallCnn, SmallCnnConfig, Vit, VitConfig};
use crate::layers::Mode;

/// What every architecture computes.
pub trait Model: Send + Sync {
    /// For a normalised batch `[B, C, H, W]`: the penultimate feature `[B, F]` (after global
    /// pooling; the class token for the ViT) and the logits `[B, classes]`.
    fn forward(&self, x: &Tensor, mode: &mut Mode) -> Result<(Tensor, Tensor)>;

    /// F, the width of the penultimate feature.
    fn feature_dim(&self) -> usize;
}

/// An architecture and its options, as saved in model files (`{"arch": "resnet18", ...}`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "arch", deny_unknown_fields)]
pub enum ArchConfig {
    /// ResNet-18 (torchvision layout; CIFAR or ImageNet stem).
    #[serde(rename = "resnet18")]
    Resnet18(ResNetConfig),
    /// All-CNN (the layout used in the unlearning literature, with batch norm).
    #[serde(rename = "allcnn")]
    AllCnn(AllCnnConfig),
    /// A small vision transformer (timm layout).
    #[serde(rename = "vit-tiny")]
    VitTiny(VitConfig),
    /// Three conv layers for small images (8x8 digits).
    #[serde(rename = "small-cnn")]
    SmallCnn(SmallCnnConfig),
    /// A multi-layer perceptron on the flattened image.
    #[serde(rename = "mlp")]
    Mlp(MlpConfig),
}

impl ArchConfig {
    /// The name used in pipeline files and model metadata.
    pub fn name(&self) -> &'static str {
        match self {
            ArchConfig::Resnet18(_) => "resnet18",
            ArchConfig::AllCnn(_) => "allcnn",
            ArchConfig::VitTiny(_) => "vit-tiny",
            ArchConfig::SmallCnn(_) => "small-cnn",
            ArchConfig::Mlp(_) => "mlp",
        }
    }
}

/// Builds `arch` for inputs of `input` = `[C, H, W]` and `classes` outputs, its parameters taken
/// from `vb`.
pub fn build(arch: &ArchConfig, input: [usize; 3], classes: usize, vb: VarBuilder) -> Result<Box<dyn Model>> {
    if classes < 2 {
        candle_core::bail!("a classifier needs at least 2 classes, got {classes}");
    }
    if input.contains(&0) {
        candle_core::bail!("input shape {input:?} has a zero dimension");
    }
    Ok(match arch {
        ArchConfig::Resnet18(c) => Box::new(ResNet18::new(c, input, classes, vb)?),
        ArchConfig::AllCnn(c) => Box::new(AllCnn::new(c, input, classes, vb)?),
        ArchConfig::VitTiny(c) => Box::new(Vit::new(c, input, classes, vb)?),
        ArchConfig::SmallCnn(c) => Box::new(SmallCnn::new(c, input, classes, vb)?),
        ArchConfig::Mlp(c) => Box::new(Mlp::new(c, input, classes, vb)?),
    })
}
