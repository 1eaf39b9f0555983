//! ResNet-18 in torchvision's layout (`conv1`, `bn1`, `layer{1..4}.{0,1}.{conv,bn}{1,2}`,
//! `downsample.{0,1}`, `fc`): the CIFAR form (3x3 stem, no max-pool) or the ImageNet stem
//! (7x7/2 conv + 3x3/2 max-pool) for 112/224-pixel faces.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Model;
use crate::layers::{
    BatchNorm2d, Conv2d, Conv2dConfig, Linear, Mode, add_relu, batch_norm2d, conv2d, global_avg_pool, linear,
    max_pool_3x3_s2_p1,
};

/// The first layers of the network.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Stem {
    /// 3x3 conv, stride 1, no max-pool (32x32 inputs).
    #[default]
    Cifar,
    /// 7x7 conv, stride 2, then 3x3/2 max-pool (112x112 or 224x224 inputs).
    Imagenet,
}

/// Options of ResNet-18.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ResNetConfig {
    /// The stem: `cifar` or `imagenet`.
    #[serde(default)]
    pub stem: Stem,
    /// Channels of the first stage (64 in ResNet-18; the stages have 1, 2, 4, 8 times this).
    #[serde(default = "default_width")]
    #[schemars(range(min = 1, max = 1024))]
    pub width: usize,
}

fn default_width() -> usize {
    64
}

impl Default for ResNetConfig {
    fn default() -> Self {
        ResNetConfig { stem: Stem::Cifar, width: default_width() }
    }
}

struct BasicBlock {
    conv1: Conv2d,
    bn1: BatchNorm2d,
    conv2: Conv2d,
    bn2: BatchNorm2d,
    downsample: Option<(Conv2d, BatchNorm2d)>,
}

impl BasicBlock {
    fn new(c_in: usize, c_out: usize, stride: usize, vb: VarBuilder) -> Result<Self> {
        let conv = |stride, padding| Conv2dConfig { stride, padding, bias: false };
        let conv1 = conv2d(c_in, c_out, 3, conv(stride, 1), vb.pp("conv1"))?;
        let bn1 = batch_norm2d(c_out, vb.pp("bn1"))?;
        let conv2 = conv2d(c_out, c_out, 3, conv(1, 1), vb.pp("conv2"))?;
        let bn2 = batch_norm2d(c_out, vb.pp("bn2"))?;
        let downsample = if stride != 1 || c_in != c_out {
            let ds = vb.pp("downsample");
            Some((conv2d(c_in, c_out, 1, conv(stride, 0), ds.pp("0"))?, batch_norm2d(c_out, ds.pp("1"))?))
        } else {
            None
        };
        Ok(BasicBlock { conv1, bn1, conv2, bn2, downsample })
    }

    fn forward(&self, x: &Tensor, mode: &Mode) -> Result<Tensor> {
        let y = self.bn1.forward_relu(&self.conv1.forward(x)?, mode)?;
        let y = self.bn2.forward(&self.conv2.forward(&y)?, mode)?;
        let shortcut = match &self.downsample {
            Some((conv, bn)) => bn.forward(&conv.forward(x)?, mode)?,
            None => x.clone(),
        };
        add_relu(&y, &shortcut)
    }
}

/// ResNet-18; the penultimate feature is the 8*width global average.
pub struct ResNet18 {
    stem: Stem,
    conv1: Conv2d,
    bn1: BatchNorm2d,
    blocks: Vec<BasicBlock>,
    fc: Linear,
    feature_dim: usize,
}

impl ResNet18 {
    pub fn new(cfg: &ResNetConfig, input: [usize; 3], classes: usize, vb: VarBuilder) -> Result<Self> {
        let w = cfg.width;
        let (k, stride, padding) = match cfg.stem {
            Stem::Cifar => (3, 1, 1),
            Stem::Imagenet => (7, 2, 3),
        };
        let conv1 = conv2d(input[0], w, k, Conv2dConfig { stride, padding, bias: false }, vb.pp("conv1"))?;
        let bn1 = batch_norm2d(w, vb.pp("bn1"))?;
        let mut blocks = Vec::with_capacity(8);
        let mut c_in = w;
        for (stage, mult) in [1, 2, 4, 8].into_iter().enumerate() {
            let c_out = w * mult;
            let layer = vb.pp(format!("layer{}", stage + 1));
            let stride = if stage == 0 { 1 } else { 2 };
            blocks.push(BasicBlock::new(c_in, c_out, stride, layer.pp("0"))?);
            blocks.push(BasicBlock::new(c_out, c_out, 1, layer.pp("1"))?);
            c_in = c_out;
        }
        let fc = linear(8 * w, classes, vb.pp("fc"))?;
        Ok(ResNet18 { stem: cfg.stem, conv1, bn1, blocks, fc, feature_dim: 8 * w })
    }
}

impl Model for ResNet18 {
    fn forward(&self, x: &Tensor, mode: &mut Mode) -> Result<(Tensor, Tensor)> {
        let mut y = self.bn1.forward_relu(&self.conv1.forward(x)?, mode)?;
        if self.stem == Stem::Imagenet {
            y = max_pool_3x3_s2_p1(&y)?;
        }
        for block in &self.blocks {
            y = block.forward(&y, mode)?;
        }
        let features = global_avg_pool(&y)?;
        let logits = self.fc.forward(&features)?;
        Ok((features, logits))
    }

    fn feature_dim(&self) -> usize {
        self.feature_dim
    }
}
