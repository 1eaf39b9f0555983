//! Cutting a region out of decoded pixels and resampling it to `size x size`, channel-planar.

use fast_image_resize::images::{CroppedImage, Image, ImageRef};
use fast_image_resize::{FilterType, PixelType, ResizeAlg, ResizeOptions, Resizer};
use image::DynamicImage;

use super::options::{Channels, ResizeFilter};

/// A pixel rectangle inside an image: x, y, width, height.
pub type Region = (u32, u32, u32, u32);

impl ResizeFilter {
    /// The `fast_image_resize` algorithm of this filter. Its convolutions are Pillow's (same
    /// kernels, support scaled by the reduction factor when shrinking, 8-bit fixed-point
    /// weights), computed with SIMD kernels chosen at run time.
    pub fn to_resize_alg(self) -> ResizeAlg {
        match self {
            ResizeFilter::Nearest => ResizeAlg::Nearest,
            ResizeFilter::Triangle => ResizeAlg::Convolution(FilterType::Bilinear),
            ResizeFilter::CatmullRom => ResizeAlg::Convolution(FilterType::CatmullRom),
            ResizeFilter::Gaussian => ResizeAlg::Convolution(FilterType::Gaussian),
            ResizeFilter::Lanczos3 => ResizeAlg::Convolution(FilterType::Lanczos3),
        }
    }
}

/// `region` of `img` resampled to `size x size` with `filter`, as `channels` planes (CHW); the
/// error (a region outside the image, which callers rule out) says what the resizer refused.
///
/// The image is first brought to 8-bit RGB or luma (`image`'s conversions: a no-op for the usual
/// 8-bit RGB JPEG; alpha is dropped; luma uses Rec. 709 weights). The region is resampled in
/// place (a view, not a copy) as an image of its own (its edge pixels repeat past its borders, as
/// when `image` or Pillow crop then resize); a region already of the output size is copied.
pub fn region_to_chw(
    img: DynamicImage,
    region: Region,
    size: u32,
    filter: ResizeFilter,
    channels: Channels,
) -> Result<Vec<u8>, String> {
    let (width, pixels, pixel_type) = match channels {
        Channels::Rgb => {
            let rgb = img.into_rgb8();
            (rgb.width(), rgb.into_raw(), PixelType::U8x3)
        }
        Channels::Grey => {
            let luma = img.into_luma8();
            (luma.width(), luma.into_raw(), PixelType::U8)
        }
    };
    let c = channels.count();
    let (x, y, w, h) = region;
    let hwc = if (w, h) == (size, size) {
        copy_region(&pixels, width as usize, c, region)
    } else {
        let height = (pixels.len() / (width as usize * c)) as u32;
        let src = ImageRef::new(width, height, &pixels, pixel_type).map_err(|e| e.to_string())?;
        // A cropped view, not the `crop` option: that one lets the kernel reach past the region's
        // edges, where `image` and Pillow resample the region as an image of its own.
        let region = CroppedImage::new(&src, x, y, w, h).map_err(|e| e.to_string())?;
        let mut dst = Image::new(size, size, pixel_type);
        Resizer::new()
            .resize(&region, &mut dst, &ResizeOptions::new().resize_alg(filter.to_resize_alg()))
            .map_err(|e| e.to_string())?;
        dst.into_vec()
    };
    Ok(to_planes(&hwc, c))
}

/// The pixels of `region` (interleaved, `c` bytes a pixel) of an image `width` pixels wide.
fn copy_region(pixels: &[u8], width: usize, c: usize, (x, y, w, h): Region) -> Vec<u8> {
    let (x, y, w, h) = (x as usize, y as usize, w as usize, h as usize);
    let mut out = Vec::with_capacity(w * h * c);
    for row in y..y + h {
        let start = (row * width + x) * c;
        out.extend_from_slice(&pixels[start..start + w * c]);
    }
    out
}

/// Interleaved pixels (`c` bytes each) to `c` channel planes.
fn to_planes(hwc: &[u8], c: usize) -> Vec<u8> {
    if c == 1 {
        return hwc.to_vec();
    }
    let plane = hwc.len() / c;
    let mut out = vec![0u8; hwc.len()];
    let (r, rest) = out.split_at_mut(plane);
    let (g, b) = rest.split_at_mut(plane);
    for (i, px) in hwc.chunks_exact(3).enumerate() {
        r[i] = px[0];
        g[i] = px[1];
        b[i] = px[2];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 9x7 RGB image: R = (29x + 7y) mod 256, G = 255 - 31y - 3x (clamped), B = (x * y * 37) mod 256.
    fn source() -> image::RgbImage {
        image::RgbImage::from_fn(9, 7, |x, y| {
            image::Rgb([
                (29 * x + 7 * y) as u8,
                255u32.saturating_sub(31 * y + 3 * x) as u8,
                ((x * y * 37) % 256) as u8,
            ])
        })
    }

    /// Bilinear shrinking against Pillow, an independent implementation: the region x=1, y=0,
    /// w=7, h=7 of `source()` resized to 4x4. Reference computed by hand with Pillow 13.0.0:
    ///   from PIL import Image; import numpy as np
    ///   a = np.array([[[ (29*x+7*y)%256, max(0, 255-31*y-3*x), (x*y*37)%256 ] for x in range(9)]
    ///                 for y in range(7)], np.uint8)
    ///   r = Image.fromarray(a).crop((1, 0, 8, 7)).resize((4, 4), Image.BILINEAR)
    ///   np.asarray(r).transpose(2, 0, 1).ravel().tolist()
    /// Both use Pillow's fixed-point convolution; we allow 1 level of rounding difference.
    #[test]
    fn bilinear_matches_pillow() {
        #[rustfmt::skip]
        let pillow: [u8; 48] = [
            48, 93, 147, 192, 59, 104, 158, 203, 71, 116, 170, 215, 82, 127, 181, 226,
            234, 230, 224, 220, 186, 182, 176, 172, 128, 124, 118, 114, 80, 76, 70, 66,
            29, 56, 83, 50, 114, 142, 122, 88, 128, 127, 148, 67, 175, 132, 124, 44,
        ];
        let out =
            region_to_chw(DynamicImage::ImageRgb8(source()), (1, 0, 7, 7), 4, ResizeFilter::Triangle, Channels::Rgb)
                .unwrap();
        let worst = out.iter().zip(&pillow).map(|(a, b)| a.abs_diff(*b)).max().unwrap();
        assert!(worst <= 1, "largest difference to Pillow {worst}: {out:?}");
    }

    /// A region of the output size is cut out exactly, planar, and grey is `image`'s luma.
    #[test]
    fn same_size_regions_are_copied_exactly() {
        let img = source();
        let out =
            region_to_chw(DynamicImage::ImageRgb8(img.clone()), (2, 1, 4, 4), 4, ResizeFilter::Triangle, Channels::Rgb)
                .unwrap();
        let want: Vec<u8> = (0..3)
            .flat_map(|c| (1..5).flat_map(move |y| (2..6).map(move |x| (x, y, c))))
            .map(|(x, y, c)| img.get_pixel(x, y)[c])
            .collect();
        assert_eq!(out, want);
        let grey =
            region_to_chw(DynamicImage::ImageRgb8(img.clone()), (0, 0, 9, 7), 9, ResizeFilter::Nearest, Channels::Grey)
                .unwrap();
        assert_eq!(grey.len(), 81, "a 9x7 region is resampled to 9x9");
        let luma = DynamicImage::ImageRgb8(img).to_luma8();
        let same = region_to_chw(
            DynamicImage::ImageLuma8(luma.clone()),
            (3, 2, 5, 5),
            5,
            ResizeFilter::Nearest,
            Channels::Grey,
        )
        .unwrap();
        let want: Vec<u8> =
            (2..7).flat_map(|y| (3..8).map(move |x| (x, y))).map(|(x, y)| luma.get_pixel(x, y)[0]).collect();
        assert_eq!(same, want);
    }

    #[test]
    fn a_region_outside_the_image_is_an_error() {
        let e =
            region_to_chw(DynamicImage::ImageRgb8(source()), (5, 0, 7, 7), 4, ResizeFilter::Triangle, Channels::Rgb)
                .unwrap_err();
        assert!(e.contains("crop box"), "{e}");
    }
}
