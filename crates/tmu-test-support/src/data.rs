//! Small seeded image data sets for tests ("blobs": a class pattern plus noise).

use tmu_plugin::artifact::{Dataset, DatasetMeta};
use tmu_plugin::mix64;

/// What [`blobs`] makes.
#[derive(Clone, Copy, Debug)]
pub struct BlobsSpec {
    pub n: usize,
    pub classes: usize,
    pub channels: usize,
    pub size: usize,
    /// Noise amplitude in pixel levels (0-255); larger is harder. 60 gives a learnable set.
    pub noise: u8,
    pub seed: u64,
    /// First sample id (ids are consecutive from here).
    pub first_id: u64,
}

impl Default for BlobsSpec {
    fn default() -> Self {
        BlobsSpec { n: 64, classes: 4, channels: 1, size: 8, noise: 60, seed: 0, first_id: 0 }
    }
}

/// A data set whose class `k` images are a fixed random pattern of class `k` plus uniform noise;
/// labels cycle through the classes. Deterministic in `spec`.
pub fn blobs(spec: BlobsSpec) -> Dataset {
    let pixels = spec.channels * spec.size * spec.size;
    let mut state = mix64(spec.seed ^ 0x5eed);
    let mut next = move || {
        state = mix64(state.wrapping_add(0x9e37_79b9_7f4a_7c15));
        state
    };
    let patterns: Vec<Vec<u8>> =
        (0..spec.classes).map(|_| (0..pixels).map(|_| (next() % 2) as u8 * 150 + 50).collect()).collect();
    let mut images = Vec::with_capacity(spec.n * pixels);
    let mut labels = Vec::with_capacity(spec.n);
    for i in 0..spec.n {
        let k = i % spec.classes;
        labels.push(k as u32);
        for &p in &patterns[k] {
            let noise = if spec.noise == 0 {
                0
            } else {
                (next() % (2 * u64::from(spec.noise) + 1)) as i32 - i32::from(spec.noise)
            };
            images.push((i32::from(p) + noise).clamp(0, 255) as u8);
        }
    }
    let meta = DatasetMeta {
        classes: (0..spec.classes).map(|k| format!("class{k}")).collect(),
        mean: vec![0.5; spec.channels],
        std: vec![0.25; spec.channels],
        source: format!("blobs(seed={})", spec.seed),
        ..Default::default()
    };
    let ids = (0..spec.n as u64).map(|i| spec.first_id + i).collect();
    Dataset::new(images, [spec.n, spec.channels, spec.size, spec.size], labels, ids, meta)
        .expect("blobs are consistent")
}
