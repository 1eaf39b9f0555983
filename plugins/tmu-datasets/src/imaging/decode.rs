//! One image file to `C x size x size` bytes: size checks, decoding with limits, the region to keep.

use std::fmt;
use std::io::Cursor;
use std::path::Path;

use image::{DynamicImage, ImageError, ImageReader, Limits};

use super::options::{Fit, Prep};
use super::resize::region_to_chw;

/// A region of an image in pixels (from a bounding-box file), already grown by any margin.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CropBox {
    pub x: f32,
    pub y: f32,
    pub w: f32,
    pub h: f32,
}

impl CropBox {
    /// The box grown by `margin` of its width and height (half on each side), same centre.
    pub fn with_margin(self, margin: f32) -> CropBox {
        let (dw, dh) = (self.w * margin, self.h * margin);
        CropBox { x: self.x - dw / 2.0, y: self.y - dh / 2.0, w: self.w + dw, h: self.h + dh }
    }
}

/// Why an image file could not be turned into pixels. The message names the file.
#[derive(Debug)]
pub enum ImageFailure {
    /// The file could not be read at all (always an error).
    Unreadable(String),
    /// Not a decodable JPEG/PNG, over the limits, or its box lies outside it (may be skipped).
    Corrupt(String),
}

impl fmt::Display for ImageFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ImageFailure::Unreadable(m) | ImageFailure::Corrupt(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ImageFailure {}

/// Reads, decodes (within `prep`'s limits), crops to `crop` (if any), fits and resizes one
/// image; returns its pixels channel-planar (CHW).
pub fn load_image(path: &Path, crop: Option<CropBox>, prep: &Prep) -> Result<Vec<u8>, ImageFailure> {
    let shown = path.display();
    let unreadable = |e: std::io::Error| ImageFailure::Unreadable(format!("cannot read image {shown}: {e}"));
    let len = std::fs::metadata(path).map_err(unreadable)?.len();
    if len > prep.max_bytes {
        return Err(ImageFailure::Corrupt(format!(
            "image {shown} is {len} bytes, over the limit of {} bytes (`max_alloc_mb`)",
            prep.max_bytes
        )));
    }
    let bytes = std::fs::read(path).map_err(unreadable)?;
    let img = decode_bytes(&bytes, prep).map_err(|e| ImageFailure::Corrupt(format!("image {shown}: {e}")))?;
    let (iw, ih) = (img.width(), img.height());
    let (x, y, w, h) = match crop {
        None => (0, 0, iw, ih),
        Some(b) => clamp_box(b, iw, ih).ok_or_else(|| {
            ImageFailure::Corrupt(format!(
                "image {shown}: bounding box x={} y={} w={} h={} lies outside the {iw}x{ih} image",
                b.x, b.y, b.w, b.h
            ))
        })?,
    };
    let (x, y, w, h) = match prep.fit {
        Fit::Stretch => (x, y, w, h),
        Fit::CenterCrop => {
            let side = w.min(h);
            (x + (w - side) / 2, y + (h - side) / 2, side, side)
        }
    };
    region_to_chw(img, (x, y, w, h), prep.size, prep.filter, prep.channels)
        .map_err(|e| ImageFailure::Corrupt(format!("image {shown}: cannot resize: {e}")))
}

fn decode_bytes(bytes: &[u8], prep: &Prep) -> Result<DynamicImage, String> {
    let mut reader = ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| e.to_string())?;
    if reader.format().is_none() {
        return Err("not a JPEG or PNG file (unrecognised signature)".to_string());
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(prep.max_dimension);
    limits.max_image_height = Some(prep.max_dimension);
    limits.max_alloc = Some(prep.max_bytes);
    reader.limits(limits);
    reader.decode().map_err(|e| match e {
        ImageError::Limits(l) => format!(
            "exceeds the decoding limits ({} pixels a side, {} bytes; `max_dimension`, `max_alloc_mb`): {l}",
            prep.max_dimension, prep.max_bytes
        ),
        other => format!("cannot decode: {other}"),
    })
}

/// The box's pixel rectangle inside a `w x h` image, or `None` if nothing of it is inside.
fn clamp_box(b: CropBox, w: u32, h: u32) -> Option<(u32, u32, u32, u32)> {
    if !(b.x.is_finite() && b.y.is_finite() && b.w.is_finite() && b.h.is_finite()) {
        return None;
    }
    let x0 = b.x.floor().max(0.0) as u32;
    let y0 = b.y.floor().max(0.0) as u32;
    let x1 = ((b.x + b.w).ceil().max(0.0) as u32).min(w);
    let y1 = ((b.y + b.h).ceil().max(0.0) as u32).min(h);
    (x1 > x0 && y1 > y0).then(|| (x0, y0, x1 - x0, y1 - y0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn boxes_are_clamped_and_rejected_outside() {
        assert_eq!(clamp_box(CropBox { x: -5.0, y: 2.5, w: 10.0, h: 100.0 }, 20, 30), Some((0, 2, 5, 28)));
        assert_eq!(clamp_box(CropBox { x: 25.0, y: 0.0, w: 10.0, h: 10.0 }, 20, 30), None);
        let m = CropBox { x: 10.0, y: 10.0, w: 20.0, h: 40.0 }.with_margin(0.5);
        assert_eq!(m, CropBox { x: 5.0, y: 0.0, w: 30.0, h: 60.0 });
    }
}
