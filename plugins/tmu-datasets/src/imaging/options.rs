//! Image preprocessing options shared by the image-file stages.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Resampling filter of the resize (fast_image_resize's convolutions, Pillow's kernels).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ResizeFilter {
    /// Nearest neighbour (fastest, blocky).
    Nearest,
    /// Bilinear.
    #[default]
    Triangle,
    /// Bicubic (Catmull-Rom).
    CatmullRom,
    /// Gaussian.
    Gaussian,
    /// Lanczos with a window of 3 (sharpest, slowest).
    Lanczos3,
}

/// How a (possibly non-square) region becomes a `size` x `size` image.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Fit {
    /// Cut the largest square centred in the region, then resize (keeps the aspect ratio).
    #[default]
    CenterCrop,
    /// Resize the whole region to a square (distorts non-square regions).
    Stretch,
}

/// What to do with an image that cannot be decoded or exceeds the decoding limits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OnCorrupt {
    /// Stop with an error naming the file.
    #[default]
    Error,
    /// Leave the image out, count it in the stage summary (`skipped_images`) and log its name.
    Skip,
}

/// Colour channels of the output images.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Channels {
    /// Three channels, red, green, blue.
    Rgb,
    /// One channel of luma (`image`'s Rec. 709 weights).
    Grey,
}

impl Channels {
    pub fn count(self) -> usize {
        match self {
            Channels::Rgb => 3,
            Channels::Grey => 1,
        }
    }
}

/// Everything that turns one image file into `channels x size x size` bytes.
#[derive(Clone, Copy, Debug)]
pub struct Prep {
    pub size: u32,
    pub channels: Channels,
    pub fit: Fit,
    pub filter: ResizeFilter,
    /// Largest accepted width or height, in pixels.
    pub max_dimension: u32,
    /// Largest accepted decoded image (and file), in bytes.
    pub max_bytes: u64,
}

impl Prep {
    /// Bytes of one output image.
    pub fn image_len(&self) -> usize {
        self.channels.count() * self.size as usize * self.size as usize
    }
}

/// Default of the image-file stages' `max_dimension`: the largest accepted side, in pixels.
pub const MAX_DIMENSION: u32 = 8192;
/// Default of the image-file stages' `max_alloc_mb`: the largest accepted file or decoded image.
pub const MAX_ALLOC_MB: u64 = 256;

/// Checks the shared image options and builds the preprocessing.
pub fn image_prep(
    size: u32,
    channels: Channels,
    fit: Fit,
    filter: ResizeFilter,
    max_dimension: u32,
    max_alloc_mb: u64,
) -> anyhow::Result<Prep> {
    Ok(Prep { size, channels, fit, filter, max_dimension, max_bytes: max_alloc_mb << 20 })
}
