//! Learning-rate schedules, evaluated per optimizer step (PyTorch's StepLR stepped per epoch,
//! CosineAnnealingLR over all steps, OneCycleLR with cosine annealing).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// How the learning rate changes: `{ kind = "constant" | "step" | "cosine" | "one-cycle", ... }`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Schedule {
    /// The optimizer's learning rate throughout.
    #[default]
    Constant,
    /// Multiply by `gamma` every `every` epochs (PyTorch's StepLR).
    Step {
        /// Epochs between two decays.
        #[serde(default = "thirty")]
        #[schemars(range(min = 1))]
        every: usize,
        /// Factor applied at each decay.
        #[serde(default = "tenth")]
        #[schemars(range(min = 0.0, max = 1.0))]
        gamma: f64,
    },
    /// Cosine from the learning rate down to `min_lr` over all steps (PyTorch's
    /// CosineAnnealingLR with T_max = total steps, stepped every batch).
    Cosine {
        /// Final learning rate.
        #[serde(default)]
        #[schemars(range(min = 0.0))]
        min_lr: f64,
    },
    /// Warm up from lr/div_factor to lr over `pct_start` of the steps, then anneal to
    /// lr/(div_factor*final_div_factor) (PyTorch's OneCycleLR, cosine, no momentum cycling).
    OneCycle {
        /// Fraction of the steps spent warming up.
        #[serde(default = "pct_start")]
        #[schemars(range(min = 0.0, max = 1.0))]
        pct_start: f64,
        /// Initial learning rate = lr / div_factor.
        #[serde(default = "div_factor")]
        #[schemars(range(min = 1.0))]
        div_factor: f64,
        /// Final learning rate = initial / final_div_factor.
        #[serde(default = "final_div_factor")]
        #[schemars(range(min = 1.0))]
        final_div_factor: f64,
    },
}

fn thirty() -> usize {
    30
}
fn tenth() -> f64 {
    0.1
}
fn pct_start() -> f64 {
    0.3
}
fn div_factor() -> f64 {
    25.0
}
fn final_div_factor() -> f64 {
    1e4
}

fn cos_anneal(start: f64, end: f64, pct: f64) -> f64 {
    end + (start - end) / 2.0 * ((std::f64::consts::PI * pct).cos() + 1.0)
}

impl Schedule {
    /// The learning rate of optimizer step `step` (0-based) out of `total_steps`, with
    /// `steps_per_epoch` steps per epoch and peak/base rate `lr`.
    pub fn lr(&self, lr: f64, step: u64, steps_per_epoch: u64, total_steps: u64) -> f64 {
        let t = step as f64;
        match *self {
            Schedule::Constant => lr,
            Schedule::Step { every, gamma } => {
                let epoch = step / steps_per_epoch.max(1);
                lr * gamma.powf((epoch / every.max(1) as u64) as f64)
            }
            Schedule::Cosine { min_lr } => {
                let total = total_steps.max(1) as f64;
                min_lr + (lr - min_lr) * (1.0 + (std::f64::consts::PI * t.min(total) / total).cos()) / 2.0
            }
            Schedule::OneCycle { pct_start, div_factor, final_div_factor } => {
                let initial = lr / div_factor;
                let min = initial / final_div_factor;
                let end1 = pct_start * total_steps as f64 - 1.0;
                let end2 = total_steps as f64 - 1.0;
                if t <= end1 {
                    cos_anneal(initial, lr, if end1 > 0.0 { t / end1 } else { 1.0 })
                } else {
                    cos_anneal(lr, min, ((t - end1) / (end2 - end1)).min(1.0))
                }
            }
        }
    }

    /// Checks value ranges.
    pub fn validate(&self) -> Result<(), String> {
        match *self {
            Schedule::Step { every, gamma } if every == 0 || !(0.0..=1.0).contains(&gamma) => {
                Err(format!("step schedule needs every >= 1 and gamma in [0, 1], got every = {every}, gamma = {gamma}"))
            }
            Schedule::OneCycle { pct_start, div_factor, final_div_factor }
                if !(pct_start > 0.0 && pct_start < 1.0) || div_factor < 1.0 || final_div_factor < 1.0 =>
            {
                Err("one-cycle schedule needs 0 < pct_start < 1, div_factor >= 1 and final_div_factor >= 1".into())
            }
            _ => Ok(()),
        }
    }
}
