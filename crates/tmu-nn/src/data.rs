//! A data set on the device: uploaded once as u8, batches gathered by index there; and the
//! random crop / horizontal flip augmentation, applied to the u8 batch before it becomes a
//! tensor (the cheapest place: a few hundred KB of byte copies per batch).

use candle_core::{DType, Device, Tensor};
use rand::Rng;
use rand_chacha::ChaCha8Rng;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_plugin::artifact::Dataset;

use crate::error::{NnError, Result};

/// Training-time augmentation (torchvision's `RandomCrop(size, padding)` then
/// `RandomHorizontalFlip()`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Augment {
    /// Random crop of the original size after zero padding by this many pixels on each side
    /// (0 = off; 4 is the CIFAR standard).
    #[serde(default)]
    #[schemars(range(min = 0, max = 64))]
    pub crop_padding: usize,
    /// Random horizontal flip with probability 1/2.
    #[serde(default)]
    pub flip: bool,
}

impl Augment {
    pub fn is_off(&self) -> bool {
        self.crop_padding == 0 && !self.flip
    }
}

/// A labelled image set held on a device (u8 images, u32 labels) plus its host copy.
pub struct DeviceData {
    images: Tensor,
    labels: Tensor,
    host_images: Vec<u8>,
    host_labels: Vec<u32>,
    ids: Vec<u64>,
    shape: [usize; 4],
    classes: Vec<String>,
}

impl std::fmt::Debug for DeviceData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceData").field("shape", &self.shape).field("device", self.images.device()).finish()
    }
}

impl DeviceData {
    /// Uploads `data` to `device` (one copy of the u8 images and the labels).
    pub fn new(data: &Dataset, device: &Device) -> Result<Self> {
        let [n, c, h, w] = data.shape;
        if n == 0 {
            return Err(NnError::Data("the data set is empty".into()));
        }
        Ok(DeviceData {
            images: Tensor::from_slice(&data.images, (n, c, h, w), device)?,
            labels: Tensor::from_slice(&data.labels, n, device)?,
            host_images: data.images.clone(),
            host_labels: data.labels.clone(),
            ids: data.ids.clone(),
            shape: data.shape,
            classes: data.meta.classes.clone(),
        })
    }

    pub fn len(&self) -> usize {
        self.shape[0]
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `[N, C, H, W]`.
    pub fn shape(&self) -> [usize; 4] {
        self.shape
    }

    pub fn device(&self) -> &Device {
        self.images.device()
    }

    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// Labels on the host.
    pub fn labels(&self) -> &[u32] {
        &self.host_labels
    }

    /// Sample ids on the host.
    pub fn ids(&self) -> &[u64] {
        &self.ids
    }

    /// All images, u8 `[N, C, H, W]` on the device.
    pub fn images_tensor(&self) -> &Tensor {
        &self.images
    }

    /// All labels, u32 `[N]` on the device.
    pub fn labels_tensor(&self) -> &Tensor {
        &self.labels
    }

    /// Uploads positions as a u32 index tensor.
    pub fn index_tensor(&self, indices: &[u32]) -> Result<Tensor> {
        if let Some(&bad) = indices.iter().find(|&&i| i as usize >= self.len()) {
            return Err(NnError::Data(format!("sample position {bad} is out of range for {} samples", self.len())));
        }
        Ok(Tensor::from_slice(indices, indices.len(), self.device())?)
    }

    /// (u8 images `[B, C, H, W]`, u32 labels `[B]`) at device positions `index` (u32 `[B]`).
    pub fn gather(&self, index: &Tensor) -> Result<(Tensor, Tensor)> {
        Ok((self.images.index_select(index, 0)?, self.labels.index_select(index, 0)?))
    }

    /// (u8 images, u32 labels) of the contiguous positions `start..start + len`.
    pub fn range(&self, start: usize, len: usize) -> Result<(Tensor, Tensor)> {
        Ok((self.images.narrow(0, start, len)?, self.labels.narrow(0, start, len)?))
    }

    /// Pixels in `[0, 1]` (f32 `[B, C, H, W]`) of the contiguous positions `start..start + len`.
    pub fn pixels(&self, start: usize, len: usize) -> Result<Tensor> {
        Ok((self.images.narrow(0, start, len)?.to_dtype(DType::F32)? / 255.0)?)
    }

    /// Augmented u8 images `[B, C, H, W]` of the samples at `indices`, built on the host from
    /// draws of `rng` (per sample: crop offsets, then flip, see [`Augment::draw`]) and uploaded.
    pub fn augmented(&self, indices: &[u32], aug: &Augment, rng: &mut ChaCha8Rng) -> Result<Tensor> {
        let [_, c, h, w] = self.shape;
        let len = c * h * w;
        let mut out = vec![0u8; indices.len() * len];
        for (dst, &i) in out.chunks_exact_mut(len).zip(indices) {
            let src = &self.host_images[i as usize * len..(i as usize + 1) * len];
            let [dy, dx, flip] = aug.draw(rng);
            crop_flip(src, dst, [c, h, w], dy as isize, dx as isize, flip != 0);
        }
        Ok(Tensor::from_vec(out, (indices.len(), c, h, w), self.device())?)
    }

    /// Augmented u8 images `[B, C, H, W]` built on the device (feature `cuda`, cuda data only):
    /// the images at positions `index` (u32 `[B]` on the device, checked by
    /// [`DeviceData::index_tensor`]) shifted and flipped by `draws` (i32 `[B, 3]` of
    /// [`Augment::draw`] results), the same pixels as [`DeviceData::augmented`].
    #[cfg(feature = "cuda")]
    pub fn augmented_on_device(&self, index: &Tensor, draws: &Tensor) -> Result<Tensor> {
        Ok(crate::ops::cuda::crop_flip(&self.images, index, draws)?)
    }
}

impl Augment {
    /// One sample's augmentation drawn from `rng`: `[dy, dx, flip]`, the crop offsets in
    /// `-crop_padding..=crop_padding` (two draws when padding is on) then the flip (one draw when
    /// flipping is on; 1 = flipped).
    pub fn draw(&self, rng: &mut ChaCha8Rng) -> [i32; 3] {
        let p = self.crop_padding as i64;
        let (dy, dx) = if p > 0 {
            ((rng.random_range(0..=2 * p) - p) as i32, (rng.random_range(0..=2 * p) - p) as i32)
        } else {
            (0, 0)
        };
        let flip = self.flip && rng.random_bool(0.5);
        [dy, dx, i32::from(flip)]
    }
}

/// `dst[c][y][x] = src[c][y + dy][x' + dx]` (zero outside), `x' = w - 1 - x` when flipped.
fn crop_flip(src: &[u8], dst: &mut [u8], [c, h, w]: [usize; 3], dy: isize, dx: isize, flip: bool) {
    for ch in 0..c {
        for y in 0..h {
            let sy = y as isize + dy;
            let row = &mut dst[(ch * h + y) * w..(ch * h + y + 1) * w];
            if sy < 0 || sy >= h as isize {
                row.fill(0);
                continue;
            }
            let src_row = &src[(ch * h + sy as usize) * w..(ch * h + sy as usize + 1) * w];
            for (x, out) in row.iter_mut().enumerate() {
                let xc = if flip { w - 1 - x } else { x };
                let sx = xc as isize + dx;
                *out = if sx < 0 || sx >= w as isize { 0 } else { src_row[sx as usize] };
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::crop_flip;

    #[test]
    fn crop_shifts_and_pads_with_zeros() {
        // 1 channel, 2x3: rows [1 2 3], [4 5 6]
        let src = [1, 2, 3, 4, 5, 6];
        let mut dst = [0u8; 6];
        crop_flip(&src, &mut dst, [1, 2, 3], 1, -1, false);
        assert_eq!(dst, [0, 4, 5, 0, 0, 0]);
        crop_flip(&src, &mut dst, [1, 2, 3], 0, 0, true);
        assert_eq!(dst, [3, 2, 1, 6, 5, 4]);
        // torchvision crops, then flips: the flip mirrors the cropped window
        crop_flip(&src, &mut dst, [1, 2, 3], 0, 1, true);
        assert_eq!(dst, [0, 3, 2, 0, 6, 5]);
    }
}
