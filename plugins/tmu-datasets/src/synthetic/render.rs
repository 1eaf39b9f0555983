//! Drawing one synthetic sample: a coloured shape on a shaded background, jittered and noisy.
//!
//! Class k is a (shape, palette) pair: shape `k % 5` (disc, square, triangle, ring, cross) in
//! colour `k` of a warm (k < 5) or cool (k >= 5) palette, so classes k and k+5 differ only by
//! colour and `overlap` pulls their colours together. Every sample draws its own position,
//! size, rotation, colour shift, background and pixel noise from a generator seeded by
//! (seed, split, index), so generation is parallel and deterministic.

use rayon::prelude::*;
use tmu_plugin::{derive_seed, mix64};

use crate::rng::Rng;

const SHAPES: [&str; 5] = ["disc", "square", "triangle", "ring", "cross"];
/// RGB of each class (0-255): warm palette, then cool palette.
const COLOURS: [[f64; 3]; 10] = [
    [220.0, 50.0, 40.0],
    [240.0, 140.0, 30.0],
    [230.0, 210.0, 40.0],
    [200.0, 40.0, 150.0],
    [150.0, 90.0, 40.0],
    [40.0, 80.0, 220.0],
    [40.0, 190.0, 210.0],
    [50.0, 170.0, 60.0],
    [110.0, 60.0, 200.0],
    [20.0, 120.0, 120.0],
];

/// The difficulty knobs (see `SyntheticConfig` for their meaning and defaults).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Knobs {
    pub classes: usize,
    pub size: usize,
    pub noise: f64,
    pub jitter: f64,
    pub scale_jitter: f64,
    pub colour_jitter: f64,
    pub overlap: f64,
    pub ambiguous: f64,
    pub label_noise: f64,
}

/// What kind of sample it is (the extra label column `difficulty`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Difficulty {
    Clean = 0,
    /// Drawn as a blend of its class and another class.
    Ambiguous = 1,
    /// Drawn as its class but labelled as another one.
    Mislabelled = 2,
}

/// Class names: `<shape>-warm` for 0-4, `<shape>-cool` for 5-9.
pub fn class_names(classes: usize) -> Vec<String> {
    (0..classes).map(|k| format!("{}-{}", SHAPES[k % 5], if k < 5 { "warm" } else { "cool" })).collect()
}

/// The colour of class `k` after `overlap` pulled it towards its twin (same shape, other palette).
fn class_colour(k: usize, classes: usize, overlap: f64) -> [f64; 3] {
    let twin = if k < 5 { k + 5 } else { k - 5 };
    let own = COLOURS[k];
    if twin >= classes {
        return own;
    }
    let other = COLOURS[twin];
    std::array::from_fn(|c| own[c] + overlap / 2.0 * (other[c] - own[c]))
}

/// Signed distance (pixels, negative inside) from point (x, y) relative to the centre, to shape
/// `s` of radius `r` rotated by `angle`.
fn shape_distance(s: usize, x: f64, y: f64, r: f64, angle: f64) -> f64 {
    let (sin, cos) = angle.sin_cos();
    let (u, v) = (cos * x + sin * y, -sin * x + cos * y);
    match s {
        0 => (x * x + y * y).sqrt() - r,
        1 => u.abs().max(v.abs()) - 0.85 * r,
        2 => {
            let h = 3f64.sqrt() / 2.0;
            (-v - r / 2.0).max(h * u + v / 2.0 - r / 2.0).max(-h * u + v / 2.0 - r / 2.0)
        }
        3 => ((x * x + y * y).sqrt() - 0.7 * r).abs() - 0.3 * r,
        _ => (u.abs() - 0.3 * r).max(v.abs() - r).min((u.abs() - r).max(v.abs() - 0.3 * r)),
    }
}

/// The noiseless image of class `k` for one sample's draws, as f64 CHW.
fn draw_class(k: usize, knobs: &Knobs, rng: &mut Rng, background: &[f64]) -> Vec<f64> {
    let n = knobs.size as f64;
    let plane = knobs.size * knobs.size;
    let r = n * 0.28 * rng.range(1.0 - knobs.scale_jitter, 1.0 + knobs.scale_jitter);
    let cx = n / 2.0 + rng.range(-knobs.jitter, knobs.jitter) * n;
    let cy = n / 2.0 + rng.range(-knobs.jitter, knobs.jitter) * n;
    let angle = rng.range(0.0, std::f64::consts::TAU);
    let base = class_colour(k, knobs.classes, knobs.overlap);
    let colour: [f64; 3] = std::array::from_fn(|c| base[c] + 255.0 * knobs.colour_jitter * rng.normal());
    let mut img = background.to_vec();
    for py in 0..knobs.size {
        for px in 0..knobs.size {
            let d = shape_distance(k % 5, px as f64 + 0.5 - cx, py as f64 + 0.5 - cy, r, angle);
            let alpha = (0.5 - d).clamp(0.0, 1.0); // one pixel of anti-aliasing
            if alpha > 0.0 {
                let i = py * knobs.size + px;
                for c in 0..3 {
                    img[c * plane + i] = alpha * colour[c] + (1.0 - alpha) * img[c * plane + i];
                }
            }
        }
    }
    img
}

/// A background: a linear gradient between two random greyish colours in a random direction.
fn draw_background(knobs: &Knobs, rng: &mut Rng) -> Vec<f64> {
    let n = knobs.size;
    let grey0 = rng.range(40.0, 215.0);
    let grey1 = rng.range(40.0, 215.0);
    let tint: [f64; 3] = std::array::from_fn(|_| rng.range(-25.0, 25.0));
    let angle = rng.range(0.0, std::f64::consts::TAU);
    let (sin, cos) = angle.sin_cos();
    let mut img = vec![0.0; 3 * n * n];
    for y in 0..n {
        for x in 0..n {
            let t = ((x as f64 / n as f64 - 0.5) * cos + (y as f64 / n as f64 - 0.5) * sin + 0.71) / 1.42;
            let g = grey0 + (grey1 - grey0) * t;
            for c in 0..3 {
                img[c * n * n + y * n + x] = g + tint[c];
            }
        }
    }
    img
}

/// One sample: (pixels CHW, label, difficulty).
fn sample(knobs: &Knobs, seed: u64, index: u64, label_noise: f64) -> (Vec<u8>, u32, Difficulty) {
    let mut rng = Rng::new(mix64(seed ^ mix64(index)));
    let k = index as usize % knobs.classes;
    let background = draw_background(knobs, &mut rng);
    let mut img = draw_class(k, knobs, &mut rng, &background);
    let mut difficulty = Difficulty::Clean;
    if rng.unit() < knobs.ambiguous {
        // Blend in another class drawn on the same background: weight in [0.3, 0.5).
        let other = (k + 1 + rng.below(knobs.classes - 1)) % knobs.classes;
        let w = rng.range(0.3, 0.5);
        let second = draw_class(other, knobs, &mut rng, &background);
        for (a, b) in img.iter_mut().zip(&second) {
            *a = (1.0 - w) * *a + w * b;
        }
        difficulty = Difficulty::Ambiguous;
    }
    let mut label = k as u32;
    if rng.unit() < label_noise {
        label = ((k + 1 + rng.below(knobs.classes - 1)) % knobs.classes) as u32;
        difficulty = Difficulty::Mislabelled;
    }
    let pixels = img.iter().map(|v| (v + knobs.noise * rng.normal()).round().clamp(0.0, 255.0) as u8).collect();
    (pixels, label, difficulty)
}

/// `n` samples of split `split` (`"train"`, `"test"`): pixels (NCHW), labels, difficulty column.
/// Classes cycle with the index, so every class has n/classes samples (+1 for the first ones).
/// Label noise applies only where `label_noise` is true (the train split).
pub fn generate(knobs: &Knobs, seed: u64, split: &str, n: usize, label_noise: bool) -> (Vec<u8>, Vec<u32>, Vec<u32>) {
    let seed = derive_seed(seed, split);
    let noise = if label_noise { knobs.label_noise } else { 0.0 };
    let samples: Vec<(Vec<u8>, u32, Difficulty)> =
        (0..n as u64).into_par_iter().map(|i| sample(knobs, seed, i, noise)).collect();
    let mut pixels = Vec::with_capacity(n * 3 * knobs.size * knobs.size);
    let mut labels = Vec::with_capacity(n);
    let mut difficulty = Vec::with_capacity(n);
    for (p, l, d) in samples {
        pixels.extend_from_slice(&p);
        labels.push(l);
        difficulty.push(d as u32);
    }
    (pixels, labels, difficulty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlap_pulls_twin_colours_together() {
        assert_eq!(class_colour(0, 10, 0.0), COLOURS[0]);
        assert_eq!(class_colour(0, 10, 1.0), class_colour(5, 10, 1.0), "overlap 1: the same colour");
        let half = class_colour(0, 10, 0.5);
        assert_eq!(half, [175.0, 57.5, 85.0], "a quarter of the way to class 5's colour");
        assert_eq!(class_colour(2, 5, 1.0), COLOURS[2], "no twin among 5 classes");
    }

    #[test]
    fn shapes_contain_their_centre_and_not_the_corners() {
        for s in 0..5 {
            let inside =
                if s == 3 { shape_distance(s, 7.0, 0.0, 10.0, 0.3) } else { shape_distance(s, 0.0, 0.0, 10.0, 0.3) };
            assert!(inside < 0.0, "shape {s}");
            assert!(shape_distance(s, 15.0, 15.0, 10.0, 0.3) > 0.0, "shape {s}");
        }
        assert!(shape_distance(3, 0.0, 0.0, 10.0, 0.0) > 0.0, "the ring is hollow");
    }
}
