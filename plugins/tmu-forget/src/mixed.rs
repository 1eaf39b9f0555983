//! The one batch stream of the unlearning stages: retain and forget samples as one data set
//! (retain first), and per-sample columns (masks, target labels) held on the device that a
//! training step gathers by the batch's index tensor, so that a step runs no per-sample host
//! code.

use anyhow::{Context as _, Result};
use tmu_nn::DeviceData;
use tmu_nn::candle::{Device, Tensor};
use tmu_plugin::artifact::Dataset;

/// Retain ∪ forget on the device; positions `0..retain_len` are retain samples, the rest are
/// forget samples in the forget set's order.
pub struct Mixed {
    pub data: DeviceData,
    pub retain_len: usize,
    pub forget_len: usize,
}

impl Mixed {
    pub fn new(retain: &Dataset, forget: &Dataset, device: &Device) -> Result<Self> {
        let union = Dataset::concat(&[retain, forget]).context("joining the retain and forget sets")?;
        let data = DeviceData::new(&union, device)?;
        Ok(Mixed { data, retain_len: retain.len(), forget_len: forget.len() })
    }

    pub fn len(&self) -> usize {
        self.retain_len + self.forget_len
    }

    /// A 0/1 mask over the union that is 1 at the forget samples where `flags` (one per forget
    /// sample) is true.
    pub fn forget_mask(&self, flags: impl IntoIterator<Item = bool>) -> Vec<f32> {
        let mut mask = vec![0.0; self.retain_len];
        mask.extend(flags.into_iter().map(|f| if f { 1.0 } else { 0.0 }));
        debug_assert_eq!(mask.len(), self.len());
        mask
    }

    /// The union's labels with the forget samples' labels replaced by `forget_targets`.
    pub fn targets(&self, forget_targets: &[u32]) -> Vec<u32> {
        let mut t = self.data.labels()[..self.retain_len].to_vec();
        t.extend_from_slice(forget_targets);
        t
    }
}

/// A per-sample value of every union position, on the device.
pub struct Column(Tensor);

impl Column {
    pub fn f32(values: Vec<f32>, device: &Device) -> Result<Self> {
        let n = values.len();
        Ok(Column(Tensor::from_vec(values, n, device)?))
    }

    pub fn u32(values: Vec<u32>, device: &Device) -> Result<Self> {
        let n = values.len();
        Ok(Column(Tensor::from_vec(values, n, device)?))
    }

    /// The values of a batch (`index`: u32 `[B]` positions on the device), `[B]`.
    pub fn gather(&self, index: &Tensor) -> tmu_nn::candle::Result<Tensor> {
        self.0.index_select(index, 0)
    }
}
