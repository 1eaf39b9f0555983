//! The batches of one epoch as the training step sees them: sample positions, u8 inputs
//! (gathered and augmented) and labels. On a cuda device (feature `cuda`) the epoch's order and
//! augmentation draws are uploaded once, and each batch is sliced, gathered and augmented on the
//! device: no upload and no host synchronisation inside a step. Elsewhere each batch is built as
//! before (host augmentation, then one upload). Both draw the same augmentation from the same
//! generator, in batch order.

use candle_core::Tensor;
use rand_chacha::ChaCha8Rng;

use crate::data::{Augment, DeviceData};
use crate::error::Result;

/// One batch: positions u32 `[B]` on the device, u8 images `[B, C, H, W]`, u32 labels `[B]`.
pub(super) struct FedBatch {
    pub index: Tensor,
    pub images: Tensor,
    pub labels: Tensor,
}

/// The epoch's order and draws on the device.
#[cfg(feature = "cuda")]
struct OnDevice {
    /// Every batch's positions, concatenated, u32 on the device.
    order: Tensor,
    /// `Augment::draw` per position of `order`, i32 `[n, 3]` (None when augmentation is off).
    draws: Option<Tensor>,
    /// Offset of each batch in `order`.
    starts: Vec<usize>,
}

/// Builds the batches of one epoch.
pub(super) struct EpochFeed<'a> {
    data: &'a DeviceData,
    augment: &'a Augment,
    rng: ChaCha8Rng,
    #[cfg(feature = "cuda")]
    on_device: Option<OnDevice>,
}

impl<'a> EpochFeed<'a> {
    /// A feed for `batches` (positions in the order they will be asked for) that draws the
    /// augmentation from `rng`.
    pub(super) fn new(data: &'a DeviceData, batches: &[&[u32]], augment: &'a Augment, rng: ChaCha8Rng) -> Result<Self> {
        #[cfg(feature = "cuda")]
        {
            let mut rng = rng;
            let on_device =
                if data.device().is_cuda() { Some(upload(data, batches, augment, &mut rng)?) } else { None };
            Ok(EpochFeed { data, augment, rng, on_device })
        }
        #[cfg(not(feature = "cuda"))]
        {
            let _ = batches;
            Ok(EpochFeed { data, augment, rng })
        }
    }

    /// Batch `step`, whose positions are `indices` (the `step`-th of the batches given to `new`).
    pub(super) fn batch(&mut self, step: usize, indices: &[u32]) -> Result<FedBatch> {
        #[cfg(feature = "cuda")]
        if let Some(dev) = &self.on_device {
            let index = dev.order.narrow(0, dev.starts[step], indices.len())?;
            let labels = self.data.labels_tensor().index_select(&index, 0)?;
            let images = match &dev.draws {
                None => self.data.images_tensor().index_select(&index, 0)?,
                Some(d) => self.data.augmented_on_device(&index, &d.narrow(0, dev.starts[step], indices.len())?)?,
            };
            return Ok(FedBatch { index, images, labels });
        }
        let _ = step;
        let index = self.data.index_tensor(indices)?;
        let (images, labels) = if self.augment.is_off() {
            self.data.gather(&index)?
        } else {
            (
                self.data.augmented(indices, self.augment, &mut self.rng)?,
                self.data.labels_tensor().index_select(&index, 0)?,
            )
        };
        Ok(FedBatch { index, images, labels })
    }
}

/// Uploads the epoch's positions and augmentation draws (one copy each).
#[cfg(feature = "cuda")]
fn upload(data: &DeviceData, batches: &[&[u32]], augment: &Augment, rng: &mut ChaCha8Rng) -> Result<OnDevice> {
    let order: Vec<u32> = batches.concat();
    let mut starts = Vec::with_capacity(batches.len());
    let mut at = 0;
    for b in batches {
        starts.push(at);
        at += b.len();
    }
    let draws = if augment.is_off() {
        None
    } else {
        let flat: Vec<i32> = order.iter().flat_map(|_| augment.draw(rng)).collect();
        Some(Tensor::from_vec(flat, (order.len(), 3), data.device())?)
    };
    Ok(OnDevice { order: data.index_tensor(&order)?, draws, starts })
}
