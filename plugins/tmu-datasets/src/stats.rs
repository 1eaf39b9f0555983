//! Per-channel mean and standard deviation of u8 images, in `[0, 1]` units.

use rayon::prelude::*;

/// Mean and population standard deviation of each channel over all pixels of all images
/// (`images` is N*C*H*W bytes, NCHW), with pixels scaled to `[0, 1]`. Sums are exact integers.
/// A channel with no spread (or no images at all) gets std 1.0, so normalising never divides by 0.
pub fn channel_stats(images: &[u8], channels: usize, image_len: usize) -> (Vec<f32>, Vec<f32>) {
    let plane = image_len / channels.max(1);
    let (sum, sq) = images
        .par_chunks(image_len.max(1))
        .fold(
            || (vec![0u64; channels], vec![0u64; channels]),
            |(mut s, mut q), img| {
                for (c, p) in img.chunks(plane.max(1)).enumerate().take(channels) {
                    let (ps, pq) = plane_sums(p);
                    s[c] += ps;
                    q[c] += pq;
                }
                (s, q)
            },
        )
        .reduce(
            || (vec![0u64; channels], vec![0u64; channels]),
            |(mut s, mut q), (s2, q2)| {
                for c in 0..channels {
                    s[c] += s2[c];
                    q[c] += q2[c];
                }
                (s, q)
            },
        );
    let count = (images.len() / channels.max(1)) as f64;
    let mut mean = Vec::with_capacity(channels);
    let mut std = Vec::with_capacity(channels);
    for c in 0..channels {
        if count == 0.0 {
            mean.push(0.0);
            std.push(1.0);
            continue;
        }
        let m = sum[c] as f64 / count;
        let var = (sq[c] as f64 / count - m * m).max(0.0);
        let s = var.sqrt() / 255.0;
        mean.push((m / 255.0) as f32);
        std.push(if s > 1e-6 { s as f32 } else { 1.0 });
    }
    (mean, std)
}

/// Pixels summed in u32 lanes before widening: 16,384 x 255^2 < 2^32, so block sums are exact.
const BLOCK: usize = 16_384;

/// Sum and sum of squares of `pixels`, exact: with AVX2 where the CPU has it (the same code,
/// compiled for 32-byte vectors), else with the baseline instructions.
fn plane_sums(pixels: &[u8]) -> (u64, u64) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the CPU supports AVX2, checked just above.
        return unsafe { plane_sums_avx2(pixels) };
    }
    plane_sums_portable(pixels)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn plane_sums_avx2(pixels: &[u8]) -> (u64, u64) {
    plane_sums_portable(pixels)
}

/// Blocks accumulate in u32 (squares as u16 products, 255^2 < 2^16), which the compiler
/// vectorises; the block totals are widened to u64.
#[inline(always)]
fn plane_sums_portable(pixels: &[u8]) -> (u64, u64) {
    let (mut sum, mut sq) = (0u64, 0u64);
    for block in pixels.chunks(BLOCK) {
        let (mut s, mut q) = (0u32, 0u32);
        for &v in block {
            let v = u16::from(v);
            s += u32::from(v);
            q += u32::from(v * v);
        }
        sum += u64::from(s);
        sq += u64::from(q);
    }
    (sum, sq)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_numpy() {
        // Two 2-channel 1x2 images. Reference:
        // x = np.array([[[0, 255], [10, 20]], [[255, 255], [30, 40]]], float) / 255
        // x.transpose(1, 0, 2).reshape(2, -1).mean(1), .std(1)  (population std)
        let images = [0u8, 255, 10, 20, 255, 255, 30, 40];
        let (mean, std) = channel_stats(&images, 2, 4);
        let close = |a: f32, b: f64| (f64::from(a) - b).abs() < 1e-6;
        assert!(close(mean[0], 0.75), "{mean:?}");
        assert!(close(mean[1], 0.09803921568627451), "{mean:?}");
        assert!(close(std[0], 0.4330127018922193), "{std:?}");
        assert!(close(std[1], 0.0438444701470547), "{std:?}");
        let (_, flat) = channel_stats(&[7u8; 8], 1, 8);
        assert_eq!(flat, vec![1.0]);
    }

    #[test]
    fn block_sums_are_exact_past_one_block() {
        // 3 blocks and a tail of 255s: the u32 block sums must not overflow or drop the tail.
        let n = 3 * BLOCK + 5;
        let (s, q) = plane_sums(&vec![255u8; n]);
        assert_eq!((s, q), (255 * n as u64, 255 * 255 * n as u64));
        let ramp: Vec<u8> = (0..n).map(|i| (i % 251) as u8).collect();
        let want = ramp.iter().fold((0u64, 0u64), |(s, q), &v| (s + u64::from(v), q + u64::from(v) * u64::from(v)));
        assert_eq!(plane_sums(&ramp), want);
        assert_eq!(plane_sums_portable(&ramp), want, "the baseline path as well");
        let (_, flat) = channel_stats(&[7u8; 8], 1, 8);
        assert_eq!(flat, vec![1.0]);
    }
}
