//! What a stage's computation cost, in the form it is recorded next to its outputs: wall
//! seconds, and the training work as samples times passes: through forward and backward (a
//! training step, or a gradient taken for statistics), and through forward alone (a teacher's
//! logits, features, predictions). Model artifacts carry it as metadata (`tmu.wall_seconds`,
//! `tmu.train_samples`, `tmu.forward_samples`), metrics files as a `cost` object, so that an
//! evaluation can put every part of a method's cost next to the gold retrain's.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::model_file::META_WALL_SECONDS;
use crate::train::TrainReport;

/// Metadata: samples x passes through forward and backward of the stage that produced the model.
pub const META_TRAIN_SAMPLES: &str = "tmu.train_samples";
/// Metadata: samples x passes through forward only of the stage that produced the model.
pub const META_FORWARD_SAMPLES: &str = "tmu.forward_samples";

/// The compute of one stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Cost {
    /// Seconds of compute (reading inputs and writing outputs left out).
    pub wall_seconds: f64,
    /// Samples x passes through forward and backward.
    pub train_samples: u64,
    /// Samples x passes through forward only.
    pub forward_samples: u64,
}

impl Cost {
    /// The metadata entries of a model artifact.
    pub fn metadata(&self) -> Vec<(&'static str, String)> {
        vec![
            (META_WALL_SECONDS, self.wall_seconds.to_string()),
            (META_TRAIN_SAMPLES, self.train_samples.to_string()),
            (META_FORWARD_SAMPLES, self.forward_samples.to_string()),
        ]
    }

    /// The cost recorded in a model artifact's metadata; `None` without a finite
    /// `tmu.wall_seconds`. Work counts that are absent (a file written before they were
    /// recorded) read as `None` too, so that no ratio is computed from a missing count.
    pub fn from_metadata(meta: &HashMap<String, String>) -> Option<Cost> {
        let wall_seconds = meta.get(META_WALL_SECONDS)?.parse().ok().filter(|s: &f64| s.is_finite())?;
        let count = |key: &str| meta.get(key).and_then(|v| v.parse::<u64>().ok());
        Some(Cost {
            wall_seconds,
            train_samples: count(META_TRAIN_SAMPLES)?,
            forward_samples: count(META_FORWARD_SAMPLES)?,
        })
    }

    /// The `cost` object of a stage's metrics file.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The `cost` object of a metrics file, if it has a valid one.
    pub fn from_metrics(metrics: &serde_json::Value) -> Option<Cost> {
        serde_json::from_value(metrics.get("cost")?.clone()).ok().filter(|c: &Cost| c.wall_seconds.is_finite())
    }

    /// Component-wise sum.
    pub fn plus(self, other: Cost) -> Cost {
        Cost {
            wall_seconds: self.wall_seconds + other.wall_seconds,
            train_samples: self.train_samples + other.train_samples,
            forward_samples: self.forward_samples + other.forward_samples,
        }
    }
}

/// The forward-and-backward samples of a training run: every sample of every step, the epochs
/// restored from a checkpoint included (they are part of the work that made the model).
pub fn trained_samples(report: &TrainReport) -> u64 {
    report.history.iter().map(|e| e.samples as u64).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_and_metrics_round_trip_and_partial_metadata_reads_as_unknown() {
        let c = Cost { wall_seconds: 1.5, train_samples: 640, forward_samples: 64 };
        let meta: HashMap<String, String> = c.metadata().into_iter().map(|(k, v)| (k.to_string(), v)).collect();
        assert_eq!(Cost::from_metadata(&meta), Some(c));
        assert_eq!(Cost::from_metrics(&serde_json::json!({ "cost": c.to_json() })), Some(c));
        let old: HashMap<String, String> = [(META_WALL_SECONDS.to_string(), "2".to_string())].into();
        assert_eq!(Cost::from_metadata(&old), None);
        assert_eq!(Cost::from_metrics(&serde_json::json!({ "wall_seconds": 2.0 })), None);
        assert_eq!(c.plus(c).train_samples, 1280);
    }
}
