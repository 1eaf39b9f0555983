//! The training-accuracy stop rule's measurement: the network in eval mode over the training set
//! (or a fixed, seeded sample of it), not the running accuracy of the last train-mode batches
//! (one batch when losses are read every step: a 64-sample window swings by +-6 points at 50%,
//! and train mode adds dropout and batch statistics).

use candle_core::Tensor;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tmu_plugin::derive_seed;

use crate::data::DeviceData;
use crate::error::Result;
use crate::loss::correct_count;
use crate::network::Network;

/// Samples per eval-mode forward pass of the check.
const EVAL_BATCH: usize = 512;

/// The samples the stop rule measures, chosen once per run.
pub(super) struct AccuracyCheck {
    /// Positions in the data set, ascending; `None`: every sample.
    sample: Option<Vec<u32>>,
}

impl AccuracyCheck {
    /// Every sample of `data`, or `samples` of them (when fewer than all) drawn without
    /// replacement by a generator seeded from `seed`.
    pub(super) fn new(data: &DeviceData, samples: Option<usize>, seed: u64) -> Self {
        let n = data.len();
        let sample = samples.filter(|&s| s < n).map(|s| {
            let mut order =
                super::engine::shuffled(n, &mut ChaCha8Rng::seed_from_u64(derive_seed(seed, "stop-accuracy-sample")));
            order.truncate(s);
            order.sort_unstable();
            order
        });
        AccuracyCheck { sample }
    }

    /// How many samples one check measures.
    pub(super) fn len(&self, data: &DeviceData) -> usize {
        self.sample.as_ref().map_or(data.len(), Vec::len)
    }

    /// The fraction of the measured samples `net` classifies correctly in eval mode.
    pub(super) fn accuracy(&self, net: &Network, data: &DeviceData) -> Result<f64> {
        let n = self.len(data);
        let mut counts = Vec::new();
        for start in (0..n).step_by(EVAL_BATCH) {
            let len = EVAL_BATCH.min(n - start);
            let (images, labels) = match &self.sample {
                None => data.range(start, len)?,
                Some(sample) => data.gather(&data.index_tensor(&sample[start..start + len])?)?,
            };
            let logits = net.forward_t(&net.normalise_u8(&images)?, false)?;
            counts.push(correct_count(&logits, &labels)?);
        }
        let correct = f64::from(Tensor::stack(&counts, 0)?.sum_all()?.to_scalar::<f32>()?);
        Ok(correct / n as f64)
    }
}
