//! What the training loop tells its caller (steps, epochs) and how the caller steers it
//! (cancel, stop); implemented for `tmu_plugin::Context` so stages get progress bars, logs and
//! cancellation for free.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::network::Network;

/// The state before one optimizer step.
#[derive(Clone, Copy, Debug)]
pub struct StepProgress {
    /// 0-based epoch.
    pub epoch: usize,
    pub epochs: usize,
    /// Steps taken so far in the whole run.
    pub global_step: u64,
    /// Planned steps of the whole run.
    pub total_steps: u64,
}

/// Summary of one epoch.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Optimizer steps in this epoch.
    pub steps: usize,
    /// Samples seen in this epoch.
    pub samples: usize,
    /// Mean of the per-step losses.
    pub loss: f64,
    /// Training accuracy over the epoch's batches (train mode, augmented), when the loss
    /// function returned logits.
    pub accuracy: Option<f64>,
    /// Learning rate of the epoch's last step.
    pub lr: f64,
    /// Wall time of the epoch.
    pub seconds: f64,
}

impl std::fmt::Display for EpochStats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "epoch {}: loss {:.4}", self.epoch, self.loss)?;
        if let Some(a) = self.accuracy {
            write!(f, ", train accuracy {:.2}%", 100.0 * a)?;
        }
        write!(f, ", lr {:.3e}, {} steps, {:.1} s", self.lr, self.steps, self.seconds)
    }
}

/// Whether training goes on after an epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Control {
    Continue,
    Stop,
}

/// Receives progress; returning an error (e.g. [`crate::NnError::Cancelled`]) ends training.
pub trait TrainObserver {
    /// Called before every optimizer step; check for cancellation here.
    fn on_step(&mut self, _progress: &StepProgress) -> Result<()> {
        Ok(())
    }

    /// Called after every epoch, before its checkpoint is written; `Control::Stop` ends
    /// training (e.g. once a held-out accuracy is reached).
    fn on_epoch(&mut self, _net: &Network, _stats: &EpochStats) -> Result<Control> {
        Ok(Control::Continue)
    }

    /// A message for the user (resuming, stop rule reached).
    fn log(&mut self, _message: &str) {}
}

/// Observes nothing.
#[derive(Debug, Default)]
pub struct NoObserver;

impl TrainObserver for NoObserver {}

impl TrainObserver for tmu_plugin::Context<'_> {
    fn on_step(&mut self, p: &StepProgress) -> Result<()> {
        self.check_cancelled()?;
        self.progress(p.global_step, p.total_steps, format!("epoch {}/{}", p.epoch + 1, p.epochs));
        Ok(())
    }

    fn on_epoch(&mut self, _net: &Network, stats: &EpochStats) -> Result<Control> {
        self.info(stats.to_string());
        self.check_cancelled()?;
        Ok(Control::Continue)
    }

    fn log(&mut self, message: &str) {
        self.info(message);
    }
}
