//! Optimizer configs as they appear in stage configs (`optimizer = { kind = "sgd", lr = 0.1 }`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// SGD (PyTorch's `torch.optim.SGD`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SgdConfig {
    /// Learning rate (the peak for the one-cycle schedule).
    #[serde(default = "sgd_lr")]
    #[schemars(range(min = 0.0, max = 100.0))]
    pub lr: f64,
    /// Momentum factor (0 = plain SGD).
    #[serde(default = "momentum")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub momentum: f64,
    /// Dampening of the momentum.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub dampening: f64,
    /// Nesterov momentum (needs momentum > 0 and dampening 0).
    #[serde(default)]
    pub nesterov: bool,
    /// L2 penalty added to the gradient (PyTorch's `weight_decay`).
    #[serde(default = "sgd_wd")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub weight_decay: f64,
}

/// Adam or AdamW (PyTorch's `torch.optim.Adam` / `AdamW`, without amsgrad).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdamConfig {
    /// Learning rate (the peak for the one-cycle schedule).
    #[serde(default = "adam_lr")]
    #[schemars(range(min = 0.0, max = 100.0))]
    pub lr: f64,
    /// Decay of the first moment.
    #[serde(default = "beta1")]
    #[schemars(range(min = 0.0, max = 0.999999))]
    pub beta1: f64,
    /// Decay of the second moment.
    #[serde(default = "beta2")]
    #[schemars(range(min = 0.0, max = 0.999999))]
    pub beta2: f64,
    /// Added to the denominator.
    #[serde(default = "eps")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub eps: f64,
    /// Adam: L2 penalty added to the gradient; AdamW: decoupled decay `p *= 1 - lr * wd`.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub weight_decay: f64,
}

fn sgd_lr() -> f64 {
    0.1
}
fn momentum() -> f64 {
    0.9
}
fn sgd_wd() -> f64 {
    5e-4
}
fn adam_lr() -> f64 {
    1e-3
}
fn beta1() -> f64 {
    0.9
}
fn beta2() -> f64 {
    0.999
}
fn eps() -> f64 {
    1e-8
}

impl Default for SgdConfig {
    fn default() -> Self {
        SgdConfig { lr: sgd_lr(), momentum: momentum(), dampening: 0.0, nesterov: false, weight_decay: sgd_wd() }
    }
}

impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig { lr: adam_lr(), beta1: beta1(), beta2: beta2(), eps: eps(), weight_decay: 0.0 }
    }
}

/// The optimizer: `{ kind = "sgd" | "adam" | "adamw", ... }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum OptimizerConfig {
    /// SGD with momentum, dampening, Nesterov and L2 weight decay.
    Sgd(SgdConfig),
    /// Adam (weight decay as an L2 term in the gradient).
    Adam(AdamConfig),
    /// AdamW (decoupled weight decay).
    #[serde(rename = "adamw")]
    AdamW(AdamConfig),
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig::Sgd(SgdConfig::default())
    }
}

impl OptimizerConfig {
    /// The base learning rate.
    pub fn lr(&self) -> f64 {
        match self {
            OptimizerConfig::Sgd(c) => c.lr,
            OptimizerConfig::Adam(c) | OptimizerConfig::AdamW(c) => c.lr,
        }
    }

    /// Checks value ranges; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        let check = |name: &str, v: f64, lo: f64, hi: f64| {
            if v.is_finite() && v >= lo && v <= hi {
                Ok(())
            } else {
                Err(format!("optimizer `{name}` = {v} is outside [{lo}, {hi}]"))
            }
        };
        match self {
            OptimizerConfig::Sgd(c) => {
                check("lr", c.lr, 0.0, 100.0)?;
                check("momentum", c.momentum, 0.0, 1.0)?;
                check("dampening", c.dampening, 0.0, 1.0)?;
                check("weight_decay", c.weight_decay, 0.0, 1.0)?;
                if c.nesterov && (c.momentum <= 0.0 || c.dampening != 0.0) {
                    return Err("nesterov momentum needs momentum > 0 and dampening = 0".into());
                }
                Ok(())
            }
            OptimizerConfig::Adam(c) | OptimizerConfig::AdamW(c) => {
                check("lr", c.lr, 0.0, 100.0)?;
                check("beta1", c.beta1, 0.0, 0.999999)?;
                check("beta2", c.beta2, 0.0, 0.999999)?;
                check("eps", c.eps, 0.0, 1.0)?;
                check("weight_decay", c.weight_decay, 0.0, 1.0)
            }
        }
    }
}
