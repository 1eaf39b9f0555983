//! A small CNN for small grey images (8x8 digits): `features` = conv-BN-ReLU, conv-BN-ReLU,
//! 2x2 max-pool, conv-BN-ReLU (indices 0, 1, 3, 4, 7, 8 hold parameters), global average
//! pooling, dropout, `classifier`.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Model;
use crate::layers::{
    BatchNorm2d, Conv2d, Conv2dConfig, Dropout, Linear, Mode, batch_norm2d, conv2d, global_avg_pool, linear, max_pool2d,
};

/// Options of the small CNN.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmallCnnConfig {
    /// Channels of the first conv layer; the next two have 2x and 4x as many.
    #[serde(default = "default_width")]
    #[schemars(range(min = 1, max = 1024))]
    pub width: usize,
    /// Dropout probability before the classifier (0 = none).
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 0.95))]
    pub dropout: f32,
}

fn default_width() -> usize {
    32
}

impl Default for SmallCnnConfig {
    fn default() -> Self {
        SmallCnnConfig { width: default_width(), dropout: 0.0 }
    }
}

/// The small CNN; the penultimate feature is the 4*width global average.
pub struct SmallCnn {
    convs: Vec<(Conv2d, BatchNorm2d)>,
    dropout: Dropout,
    classifier: Linear,
    feature_dim: usize,
}

impl SmallCnn {
    pub fn new(cfg: &SmallCnnConfig, input: [usize; 3], classes: usize, vb: VarBuilder) -> Result<Self> {
        if input[1] < 2 || input[2] < 2 {
            candle_core::bail!("small-cnn needs images of at least 2x2 pixels, got {}x{}", input[1], input[2]);
        }
        let w = cfg.width;
        let features = vb.pp("features");
        let conv_cfg = Conv2dConfig { stride: 1, padding: 1, bias: false };
        let mut convs = Vec::with_capacity(3);
        for (i, c_in, c_out) in [(0, input[0], w), (3, w, 2 * w), (7, 2 * w, 4 * w)] {
            let conv = conv2d(c_in, c_out, 3, conv_cfg, features.pp(i))?;
            let bn = batch_norm2d(c_out, features.pp(i + 1))?;
            convs.push((conv, bn));
        }
        let classifier = linear(4 * w, classes, vb.pp("classifier"))?;
        Ok(SmallCnn { convs, dropout: Dropout::new(cfg.dropout), classifier, feature_dim: 4 * w })
    }
}

impl Model for SmallCnn {
    fn forward(&self, x: &Tensor, mode: &mut Mode) -> Result<(Tensor, Tensor)> {
        let mut y = x.clone();
        for (i, (conv, bn)) in self.convs.iter().enumerate() {
            y = bn.forward_relu(&conv.forward(&y)?, mode)?;
            if i == 1 {
                y = max_pool2d(&y, 2)?;
            }
        }
        let features = global_avg_pool(&y)?;
        let logits = self.classifier.forward(&self.dropout.forward(&features, mode)?)?;
        Ok((features, logits))
    }

    fn feature_dim(&self) -> usize {
        self.feature_dim
    }
}
