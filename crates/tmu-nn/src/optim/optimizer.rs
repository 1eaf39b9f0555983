//! [`Optimizer`]: an optimizer config bound to named parameters, with state that checkpoints
//! save and restore by name.

use std::collections::HashMap;

use candle_core::backprop::GradStore;
use candle_core::{Tensor, Var};

use super::OptimizerConfig;
use super::adam::{Moments, adam_update};
use super::sgd::sgd_update;
use crate::error::{NnError, Result};

/// Per-parameter state slots.
enum Slots {
    Sgd { momentum_buffer: Option<Tensor> },
    Adam { exp_avg: Tensor, exp_avg_sq: Tensor },
}

/// An optimizer over named parameters. Parameters without a gradient in a step are left
/// untouched, as in PyTorch.
pub struct Optimizer {
    config: OptimizerConfig,
    params: Vec<(String, Var)>,
    slots: Vec<Slots>,
    steps: u64,
}

impl std::fmt::Debug for Optimizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Optimizer").field("config", &self.config).field("steps", &self.steps).finish_non_exhaustive()
    }
}

impl Optimizer {
    pub fn new(config: OptimizerConfig, params: Vec<(String, Var)>) -> Result<Self> {
        config.validate().map_err(NnError::Config)?;
        let slots = params
            .iter()
            .map(|(_, p)| {
                Ok(match config {
                    OptimizerConfig::Sgd(_) => Slots::Sgd { momentum_buffer: None },
                    OptimizerConfig::Adam(_) | OptimizerConfig::AdamW(_) => {
                        Slots::Adam { exp_avg: p.as_tensor().zeros_like()?, exp_avg_sq: p.as_tensor().zeros_like()? }
                    }
                })
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Optimizer { config, params, slots, steps: 0 })
    }

    pub fn config(&self) -> &OptimizerConfig {
        &self.config
    }

    /// Steps taken so far.
    pub fn steps(&self) -> u64 {
        self.steps
    }

    /// One update with learning rate `lr` from the gradients in `grads`.
    pub fn step(&mut self, grads: &GradStore, lr: f64) -> Result<()> {
        self.steps += 1;
        for ((_, p), slots) in self.params.iter().zip(self.slots.iter_mut()) {
            let Some(g) = grads.get(p.as_tensor()) else { continue };
            match (&self.config, slots) {
                (OptimizerConfig::Sgd(c), Slots::Sgd { momentum_buffer }) => sgd_update(c, lr, p, g, momentum_buffer)?,
                (OptimizerConfig::Adam(c), Slots::Adam { exp_avg, exp_avg_sq }) => {
                    adam_update(c, false, lr, self.steps, p, g, Moments { m: exp_avg, v: exp_avg_sq })?
                }
                (OptimizerConfig::AdamW(c), Slots::Adam { exp_avg, exp_avg_sq }) => {
                    adam_update(c, true, lr, self.steps, p, g, Moments { m: exp_avg, v: exp_avg_sq })?
                }
                _ => unreachable!("slots are created for the config"),
            }
        }
        Ok(())
    }

    /// The state tensors by name (`<param>.momentum_buffer`, `<param>.exp_avg`,
    /// `<param>.exp_avg_sq`, PyTorch's names); absent buffers are left out.
    pub fn state(&self) -> Vec<(String, Tensor)> {
        let mut out = Vec::new();
        for ((name, _), slots) in self.params.iter().zip(&self.slots) {
            match slots {
                Slots::Sgd { momentum_buffer: Some(b) } => out.push((format!("{name}.momentum_buffer"), b.clone())),
                Slots::Sgd { momentum_buffer: None } => {}
                Slots::Adam { exp_avg, exp_avg_sq } => {
                    out.push((format!("{name}.exp_avg"), exp_avg.clone()));
                    out.push((format!("{name}.exp_avg_sq"), exp_avg_sq.clone()));
                }
            }
        }
        out
    }

    /// Restores the state written by [`Optimizer::state`] after `steps` steps.
    pub fn load_state(&mut self, steps: u64, state: &HashMap<String, Tensor>) -> Result<()> {
        let missing = |n: &str| NnError::Config(format!("optimizer state `{n}` is missing"));
        for ((name, p), slots) in self.params.iter().zip(self.slots.iter_mut()) {
            let device = p.device();
            let get = |slot: &str| -> Result<Option<Tensor>> {
                let key = format!("{name}.{slot}");
                match state.get(&key) {
                    None => Ok(None),
                    Some(t) if t.shape() != p.shape() => Err(NnError::Config(format!(
                        "optimizer state `{key}` has shape {:?}, the parameter has {:?}",
                        t.dims(),
                        p.dims()
                    ))),
                    Some(t) => Ok(Some(t.to_device(device)?)),
                }
            };
            match slots {
                Slots::Sgd { momentum_buffer } => *momentum_buffer = get("momentum_buffer")?,
                Slots::Adam { exp_avg, exp_avg_sq } => {
                    *exp_avg = get("exp_avg")?.ok_or_else(|| missing(&format!("{name}.exp_avg")))?;
                    *exp_avg_sq = get("exp_avg_sq")?.ok_or_else(|| missing(&format!("{name}.exp_avg_sq")))?;
                }
            }
        }
        self.steps = steps;
        Ok(())
    }
}
