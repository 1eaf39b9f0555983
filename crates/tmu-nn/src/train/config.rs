//! What a training run does: epochs, batches, optimizer, schedule, augmentation, stop rules.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::data::Augment;
use crate::error::{NnError, Result};
use crate::optim::{OptimizerConfig, Schedule};

/// Rules that end training before the last epoch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StopRules {
    /// Stop once the training accuracy reaches this fraction, e.g. 0.5 for the curriculum model.
    /// It is measured at every loss read-out (every `sync_every` steps and at the end of each
    /// epoch) by a pass of the network in eval mode over the training set, or over
    /// `accuracy_samples` of its samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub train_accuracy: Option<f64>,
    /// Measure `train_accuracy` on this many training samples (a fixed sample drawn once from
    /// the run's seed) instead of all of them, to make each check cheaper on a large training
    /// set; the accuracy's standard error is at most 1 / (2 sqrt(N)): 1.6 points for 1,000.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 100))]
    pub accuracy_samples: Option<usize>,
    /// Stop after this many optimizer steps in total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_steps: Option<u64>,
}

/// A training run's settings (the seed and checkpoint folder come with [`crate::TrainOptions`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    /// Passes over the data.
    #[serde(default = "epochs")]
    #[schemars(range(min = 1, max = 100000))]
    pub epochs: usize,
    /// Samples per optimizer step.
    #[serde(default = "batch_size")]
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: usize,
    /// The optimizer and its learning rate.
    #[serde(default)]
    pub optimizer: OptimizerConfig,
    /// The learning-rate schedule.
    #[serde(default)]
    pub schedule: Schedule,
    /// Random crop and flip of training images.
    #[serde(default)]
    pub augment: Augment,
    /// Label smoothing of the cross-entropy (used by `fit`).
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub label_smoothing: f64,
    /// Early stop rules.
    #[serde(default)]
    pub stop: StopRules,
    /// Drop the last incomplete batch of every epoch (a last batch of one sample is always
    /// dropped: batch norm cannot train on it).
    #[serde(default)]
    pub drop_last: bool,
    /// Optimizer steps between two reads of the loss from the device (NaN check, accuracy stop
    /// rule); reading forces a device sync.
    #[serde(default = "sync_every")]
    #[schemars(range(min = 1, max = 100000))]
    pub sync_every: usize,
}

fn epochs() -> usize {
    10
}
fn batch_size() -> usize {
    128
}
fn sync_every() -> usize {
    25
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: epochs(),
            batch_size: batch_size(),
            optimizer: OptimizerConfig::default(),
            schedule: Schedule::default(),
            augment: Augment::default(),
            label_smoothing: 0.0,
            stop: StopRules::default(),
            drop_last: false,
            sync_every: sync_every(),
        }
    }
}

impl TrainConfig {
    /// Checks value ranges; the message names the field.
    pub fn validate(&self) -> Result<()> {
        let err = |m: String| Err(NnError::Config(m));
        if self.epochs == 0 {
            return err("epochs must be at least 1".into());
        }
        if self.batch_size == 0 {
            return err("batch_size must be at least 1".into());
        }
        if self.sync_every == 0 {
            return err("sync_every must be at least 1".into());
        }
        if !(0.0..1.0).contains(&self.label_smoothing) {
            return err(format!("label_smoothing = {} is outside [0, 1)", self.label_smoothing));
        }
        if let Some(a) = self.stop.train_accuracy
            && !(0.0..=1.0).contains(&a)
        {
            return err(format!("stop.train_accuracy = {a} is outside [0, 1]"));
        }
        if let Some(n) = self.stop.accuracy_samples
            && n < 100
        {
            return err(format!("stop.accuracy_samples = {n}: at least 100 samples, or leave it out for all"));
        }
        if self.stop.max_steps == Some(0) {
            return err("stop.max_steps must be at least 1".into());
        }
        self.optimizer.validate().map_err(NnError::Config)?;
        self.schedule.validate().map_err(NnError::Config)?;
        Ok(())
    }
}
