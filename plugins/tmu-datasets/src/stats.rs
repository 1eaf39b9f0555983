//! Per-channel mean and standard deviation of u8 images, in [0, 1] units.

use rayon::prelude::*;

/// Mean and population standard deviation of each channel over all pixels of all images
/// (`images` is N*C*H*W bytes, NCHW), with pixels scaled to [0, 1]. Sums are exact integers.
/// A channel with no spread (or no images at all) gets std 1.0, so normalising never divides by 0.
pub fn channel_stats(images: &[u8], channels: usize, image_len: usize) -> (Vec<f32>, Vec<f32>) {
    let plane = image_len / channels.max(1);
    let (sum, sq) = images
        .par_chunks(image_len.max(1))
        .fold(
            || (vec![0u64; channels], vec![0u64; channels]),
            |(mut s, mut q), img| {
                for (c, p) in img.chunks(plane.max(1)).enumerate().take(channels) {
                    for &v in p {
                        let v = u64::from(v);
                        s[c] += v;
                        q[c] += v * v;
                    }
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
}
