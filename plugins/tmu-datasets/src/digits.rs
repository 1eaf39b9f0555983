//! `dataset.digits`: the UCI optical digits (scikit-learn's copy), compiled into the plugin.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_plugin::artifact::{Dataset, DatasetMeta};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::output::{set_train_stats, write_train_test};
use crate::rng::Rng;
use crate::split::stratified;

/// `datasets/digits/digits.bin`: 1,797 records of 65 bytes, the label (0-9) then the 8x8
/// pixels row-major (0-16). See `datasets/digits/README.md`.
const DIGITS_BIN: &[u8] = include_bytes!("../../../datasets/digits/digits.bin");
const RECORD: usize = 65;
/// Number of images in the embedded file.
pub const DIGITS_COUNT: usize = 1797;

/// A pixel count 0..=16 scaled to 0..=255: `round(v * 255 / 16)`, halves up.
pub fn scale_pixel(v: u8) -> u8 {
    ((u32::from(v) * 255 + 8) / 16) as u8
}

/// All 1,797 images, `[N, 1, 8, 8]`, pixels scaled to 0..=255, ids 0..1796 in file order,
/// classes "0" to "9", mean/std of the whole set.
pub fn load() -> Dataset {
    assert_eq!(DIGITS_BIN.len(), DIGITS_COUNT * RECORD, "embedded digits.bin has the wrong size");
    let mut images = Vec::with_capacity(DIGITS_COUNT * 64);
    let mut labels = Vec::with_capacity(DIGITS_COUNT);
    for record in DIGITS_BIN.chunks_exact(RECORD) {
        labels.push(u32::from(record[0]));
        images.extend(record[1..].iter().map(|&v| scale_pixel(v)));
    }
    let (mean, std) = crate::stats::channel_stats(&images, 1, 64);
    let meta = DatasetMeta {
        classes: (0..10).map(|d: u32| d.to_string()).collect(),
        mean,
        std,
        source: "digits (embedded: UCI optical recognition of handwritten digits, scikit-learn's copy)".into(),
        ..DatasetMeta::default()
    };
    Dataset::new(images, [DIGITS_COUNT, 1, 8, 8], labels, (0..DIGITS_COUNT as u64).collect(), meta)
        .expect("the embedded digits are consistent")
}

/// Config of `dataset.digits`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct DigitsConfig {
    /// Fraction of each class that goes to `test` (seeded, stratified: round(n_class * fraction)).
    #[schemars(range(min = 0.01, max = 0.99))]
    pub test_fraction: f64,
}

impl Default for DigitsConfig {
    fn default() -> Self {
        DigitsConfig { test_fraction: 0.25 }
    }
}

/// The stage `dataset.digits`.
#[derive(Debug)]
pub struct Digits;

impl Stage for Digits {
    const KIND: &'static str = "dataset.digits";
    type Config = DigitsConfig;

    fn signature() -> Signature {
        Signature::new(
            "the embedded UCI optical digits (1,797 8x8 grey images, 10 classes, CC BY 4.0): \
             no files needed; a seeded stratified train/test split",
        )
        .output("train", ArtifactKind::Dataset, "training images [N,1,8,8], pixels 0..255")
        .output("test", ArtifactKind::Dataset, "test images, same shape; mean/std of the train split")
    }

    fn examples() -> Vec<Example> {
        vec![Example::new("the default 75/25 split", ""), Example::new("a larger test split", "test_fraction = 0.4")]
    }

    fn run(ctx: &mut Context, _inputs: &Inputs, config: DigitsConfig) -> anyhow::Result<()> {
        let all = load();
        let (train_idx, test_idx) = stratified(&all.labels, config.test_fraction, &mut Rng::new(ctx.seed_for("split")));
        let mut train = all.subset(&train_idx);
        let mut test = all.subset(&test_idx);
        set_train_stats(&mut train, &mut test);
        write_train_test(ctx, &train, &test)?;
        Ok(())
    }
}
