//! All-CNN-C as used in the machine-unlearning literature: nine conv layers (`features.{i}.0`
//! conv, `features.{i}.1` batch norm), optional dropout at `features.3` and `features.7`,
//! global average pooling and `classifier.0`.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Model;
use crate::layers::{
    BatchNorm2d, Conv2d, Conv2dConfig, Dropout, Linear, Mode, batch_norm2d, conv2d, global_avg_pool, linear, relu,
};

/// Options of All-CNN.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AllCnnConfig {
    /// Channels of the first three conv layers (96); the others have twice as many.
    #[serde(default = "default_width")]
    #[schemars(range(min = 1, max = 1024))]
    pub width: usize,
    /// Batch norm after every conv (convs then have no bias).
    #[serde(default = "yes")]
    pub batch_norm: bool,
    /// Dropout probability after the two stride-2 convs (0 = none; the original uses 0.5).
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 0.95))]
    pub dropout: f32,
}

fn default_width() -> usize {
    96
}

fn yes() -> bool {
    true
}

impl Default for AllCnnConfig {
    fn default() -> Self {
        AllCnnConfig { width: default_width(), batch_norm: true, dropout: 0.0 }
    }
}

struct ConvUnit {
    conv: Conv2d,
    bn: Option<BatchNorm2d>,
}

impl ConvUnit {
    fn forward(&self, x: &Tensor, mode: &Mode) -> Result<Tensor> {
        let y = self.conv.forward(x)?;
        match &self.bn {
            Some(bn) => bn.forward_relu(&y, mode),
            None => relu(&y),
        }
    }
}

/// All-CNN; the penultimate feature is the 2*width global average.
pub struct AllCnn {
    /// (index in `features`, unit); dropout sits at indices 3 and 7.
    units: Vec<(usize, ConvUnit)>,
    dropout: Dropout,
    classifier: Linear,
    feature_dim: usize,
}

impl AllCnn {
    pub fn new(cfg: &AllCnnConfig, input: [usize; 3], classes: usize, vb: VarBuilder) -> Result<Self> {
        let (w1, w2) = (cfg.width, 2 * cfg.width);
        // (index, c_in, c_out, kernel, stride)
        let plan = [
            (0, input[0], w1, 3, 1),
            (1, w1, w1, 3, 1),
            (2, w1, w2, 3, 2),
            (4, w2, w2, 3, 1),
            (5, w2, w2, 3, 1),
            (6, w2, w2, 3, 2),
            (8, w2, w2, 3, 1),
            (9, w2, w2, 1, 1),
        ];
        let features = vb.pp("features");
        let mut units = Vec::with_capacity(plan.len());
        for (i, c_in, c_out, k, stride) in plan {
            let unit = features.pp(i);
            let conv_cfg = Conv2dConfig { stride, padding: (k - 1) / 2, bias: !cfg.batch_norm };
            let conv = conv2d(c_in, c_out, k, conv_cfg, unit.pp("0"))?;
            let bn = if cfg.batch_norm { Some(batch_norm2d(c_out, unit.pp("1"))?) } else { None };
            units.push((i, ConvUnit { conv, bn }));
        }
        let classifier = linear(w2, classes, vb.pp("classifier").pp("0"))?;
        Ok(AllCnn { units, dropout: Dropout::new(cfg.dropout), classifier, feature_dim: w2 })
    }
}

impl Model for AllCnn {
    fn forward(&self, x: &Tensor, mode: &mut Mode) -> Result<(Tensor, Tensor)> {
        let mut y = x.clone();
        for (i, unit) in &self.units {
            y = unit.forward(&y, mode)?;
            if *i == 2 || *i == 6 {
                y = self.dropout.forward(&y, mode)?;
            }
        }
        let features = global_avg_pool(&y)?;
        let logits = self.classifier.forward(&features)?;
        Ok((features, logits))
    }

    fn feature_dim(&self) -> usize {
        self.feature_dim
    }
}
