//! A multi-layer perceptron on the flattened image: `hidden.{i}` Linear + ReLU (+ dropout),
//! then `head`.

use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::Model;
use crate::layers::{Dropout, Linear, Mode, linear, relu};

/// Options of the MLP.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MlpConfig {
    /// Widths of the hidden layers; the penultimate feature is the last one's output.
    #[serde(default = "default_hidden")]
    pub hidden: Vec<usize>,
    /// Dropout probability after each hidden layer (0 = none).
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 0.95))]
    pub dropout: f32,
}

fn default_hidden() -> Vec<usize> {
    vec![256, 128]
}

impl Default for MlpConfig {
    fn default() -> Self {
        MlpConfig { hidden: default_hidden(), dropout: 0.0 }
    }
}

/// The MLP.
pub struct Mlp {
    hidden: Vec<Linear>,
    head: Linear,
    dropout: Dropout,
    feature_dim: usize,
}

impl Mlp {
    pub fn new(cfg: &MlpConfig, input: [usize; 3], classes: usize, vb: VarBuilder) -> Result<Self> {
        if cfg.hidden.contains(&0) {
            candle_core::bail!("mlp: hidden widths must be positive, got {:?}", cfg.hidden);
        }
        let mut d = input.iter().product::<usize>();
        let mut hidden = Vec::with_capacity(cfg.hidden.len());
        for (i, &h) in cfg.hidden.iter().enumerate() {
            hidden.push(linear(d, h, vb.pp("hidden").pp(i))?);
            d = h;
        }
        let head = linear(d, classes, vb.pp("head"))?;
        Ok(Mlp { hidden, head, dropout: Dropout::new(cfg.dropout), feature_dim: d })
    }
}

impl Model for Mlp {
    fn forward(&self, x: &Tensor, mode: &mut Mode) -> Result<(Tensor, Tensor)> {
        let mut y = x.flatten_from(1)?;
        for layer in &self.hidden {
            y = self.dropout.forward(&relu(&layer.forward(&y)?)?, mode)?;
        }
        let logits = self.head.forward(&y)?;
        Ok((y, logits))
    }

    fn feature_dim(&self) -> usize {
        self.feature_dim
    }
}
