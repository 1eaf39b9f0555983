//! The flat form of an architecture choice used in stage configs: `arch = "resnet18"` plus an
//! `arch_options` table whose fields each apply to some architectures.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AllCnnConfig, ArchConfig, MlpConfig, ResNetConfig, SmallCnnConfig, Stem, VitConfig};

/// An architecture name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum ArchName {
    /// ResNet-18 (options: `stem`, `width`).
    #[serde(rename = "resnet18")]
    Resnet18,
    /// All-CNN (options: `width`, `batch_norm`, `dropout`).
    #[serde(rename = "allcnn")]
    AllCnn,
    /// ViT-Tiny, 4x4 patches (options: `patch`, `dim`, `depth`, `heads`, `mlp_dim`, `dropout`).
    #[serde(rename = "vit-tiny")]
    VitTiny,
    /// Small CNN for 8x8 digits (options: `width`, `dropout`).
    #[serde(rename = "small-cnn")]
    SmallCnn,
    /// MLP on the flattened image (options: `hidden`, `dropout`).
    #[serde(rename = "mlp")]
    Mlp,
}

/// Architecture options; each applies to the architectures named in its description, and
/// every one left out takes the architecture's default.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArchOptions {
    /// resnet18: `cifar` (3x3 stem, no max-pool) or `imagenet` (7x7/2 + max-pool). Default cifar.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stem: Option<Stem>,
    /// resnet18 (64), allcnn (96), small-cnn (32): channels of the first layers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1024))]
    pub width: Option<usize>,
    /// allcnn: batch norm after every conv. Default true.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_norm: Option<bool>,
    /// allcnn, vit-tiny, small-cnn, mlp: dropout probability. Default 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 0.95))]
    pub dropout: Option<f32>,
    /// mlp: hidden layer widths. Default `[256, 128]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hidden: Option<Vec<usize>>,
    /// vit-tiny: patch side in pixels. Default 4.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 64))]
    pub patch: Option<usize>,
    /// vit-tiny: embedding width. Default 192.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 4096))]
    pub dim: Option<usize>,
    /// vit-tiny: number of blocks. Default 12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 64))]
    pub depth: Option<usize>,
    /// vit-tiny: attention heads. Default 3.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 64))]
    pub heads: Option<usize>,
    /// vit-tiny: hidden width of the block MLPs. Default 768.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 16384))]
    pub mlp_dim: Option<usize>,
}

impl ArchName {
    pub fn as_str(self) -> &'static str {
        match self {
            ArchName::Resnet18 => "resnet18",
            ArchName::AllCnn => "allcnn",
            ArchName::VitTiny => "vit-tiny",
            ArchName::SmallCnn => "small-cnn",
            ArchName::Mlp => "mlp",
        }
    }

    fn accepts(self) -> &'static [&'static str] {
        match self {
            ArchName::Resnet18 => &["stem", "width"],
            ArchName::AllCnn => &["width", "batch_norm", "dropout"],
            ArchName::VitTiny => &["patch", "dim", "depth", "heads", "mlp_dim", "dropout"],
            ArchName::SmallCnn => &["width", "dropout"],
            ArchName::Mlp => &["hidden", "dropout"],
        }
    }
}

impl ArchOptions {
    fn given(&self) -> Vec<&'static str> {
        let mut v = Vec::new();
        let mut note = |set: bool, name| {
            if set {
                v.push(name)
            }
        };
        note(self.stem.is_some(), "stem");
        note(self.width.is_some(), "width");
        note(self.batch_norm.is_some(), "batch_norm");
        note(self.dropout.is_some(), "dropout");
        note(self.hidden.is_some(), "hidden");
        note(self.patch.is_some(), "patch");
        note(self.dim.is_some(), "dim");
        note(self.depth.is_some(), "depth");
        note(self.heads.is_some(), "heads");
        note(self.mlp_dim.is_some(), "mlp_dim");
        v
    }

    /// The architecture config, or a message naming every option that does not apply.
    pub fn resolve(&self, arch: ArchName) -> Result<ArchConfig, String> {
        let accepts = arch.accepts();
        let wrong: Vec<&str> = self.given().into_iter().filter(|o| !accepts.contains(o)).collect();
        if !wrong.is_empty() {
            return Err(format!(
                "arch_options {} do not apply to `{}` (it takes: {})",
                wrong.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", "),
                arch.as_str(),
                accepts.join(", ")
            ));
        }
        let o = self.clone();
        Ok(match arch {
            ArchName::Resnet18 => {
                let d = ResNetConfig::default();
                ArchConfig::Resnet18(ResNetConfig { stem: o.stem.unwrap_or(d.stem), width: o.width.unwrap_or(d.width) })
            }
            ArchName::AllCnn => {
                let d = AllCnnConfig::default();
                ArchConfig::AllCnn(AllCnnConfig {
                    width: o.width.unwrap_or(d.width),
                    batch_norm: o.batch_norm.unwrap_or(d.batch_norm),
                    dropout: o.dropout.unwrap_or(d.dropout),
                })
            }
            ArchName::VitTiny => {
                let d = VitConfig::default();
                ArchConfig::VitTiny(VitConfig {
                    patch: o.patch.unwrap_or(d.patch),
                    dim: o.dim.unwrap_or(d.dim),
                    depth: o.depth.unwrap_or(d.depth),
                    heads: o.heads.unwrap_or(d.heads),
                    mlp_dim: o.mlp_dim.unwrap_or(d.mlp_dim),
                    dropout: o.dropout.unwrap_or(d.dropout),
                })
            }
            ArchName::SmallCnn => {
                let d = SmallCnnConfig::default();
                ArchConfig::SmallCnn(SmallCnnConfig {
                    width: o.width.unwrap_or(d.width),
                    dropout: o.dropout.unwrap_or(d.dropout),
                })
            }
            ArchName::Mlp => {
                let d = MlpConfig::default();
                ArchConfig::Mlp(MlpConfig {
                    hidden: o.hidden.unwrap_or(d.hidden),
                    dropout: o.dropout.unwrap_or(d.dropout),
                })
            }
        })
    }
}
