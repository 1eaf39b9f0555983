//! The stage `dataset.synthetic` and its config.

use anyhow::bail;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_plugin::artifact::{Dataset, DatasetMeta};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use super::render::{Knobs, class_names, generate};
use crate::output::{set_train_stats, write_output};

/// Config of `dataset.synthetic`. With the defaults a small ResNet reaches roughly 80-90% test
/// accuracy (ResNet-8, 15 epochs with crops and flips: about 85%, see
/// `scripts/synthetic_accuracy.py`), with a minority of genuinely hard training samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SyntheticConfig {
    /// Number of training images (classes cycle, so classes are balanced).
    #[schemars(range(min = 10, max = 1000000))]
    pub train: usize,
    /// Number of test images.
    #[schemars(range(min = 10, max = 1000000))]
    pub test: usize,
    /// Number of classes (shape x palette pairs; classes k and k+5 share a shape).
    #[schemars(range(min = 2, max = 10))]
    pub classes: usize,
    /// Image side in pixels (3 channels).
    #[schemars(range(min = 16, max = 128))]
    pub size: usize,
    /// Standard deviation of the Gaussian pixel noise, in pixel levels (0-255).
    #[schemars(range(min = 0.0, max = 128.0))]
    pub noise: f64,
    /// Largest shift of the shape's centre, as a fraction of the image side.
    #[schemars(range(min = 0.0, max = 0.3))]
    pub jitter: f64,
    /// Relative spread of the shape's size: radius x U[1 - s, 1 + s].
    #[schemars(range(min = 0.0, max = 0.6))]
    pub scale_jitter: f64,
    /// Standard deviation of each sample's colour shift, as a fraction of 255 (with `overlap`, it
    /// sets how often the two classes that share a shape are confused: 0.08 makes the data set
    /// about 5 points easier than the default 0.1, 0.12 about 5 points harder).
    #[schemars(range(min = 0.0, max = 0.5))]
    pub colour_jitter: f64,
    /// Class overlap: how far the colours of two classes with the same shape move towards each
    /// other (0 = the palette colours, 1 = the same colour: only noise tells them apart).
    #[schemars(range(min = 0.0, max = 1.0))]
    pub overlap: f64,
    /// Fraction of samples (train and test) drawn as a blend of their class and another class,
    /// the other weighing 30-50%: hard, but learnable.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub ambiguous: f64,
    /// Fraction of training samples whose label is replaced by another class (test labels stay
    /// clean): only memorisation fits these.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub label_noise: f64,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            train: 5000,
            test: 1000,
            classes: 10,
            size: 32,
            noise: 24.0,
            jitter: 0.15,
            scale_jitter: 0.3,
            colour_jitter: 0.1,
            overlap: 0.5,
            ambiguous: 0.1,
            label_noise: 0.03,
        }
    }
}

impl SyntheticConfig {
    /// The generator's knobs (the config's schema states and checks every range).
    pub fn knobs(&self) -> anyhow::Result<Knobs> {
        Ok(Knobs {
            classes: self.classes,
            size: self.size,
            noise: self.noise,
            jitter: self.jitter,
            scale_jitter: self.scale_jitter,
            colour_jitter: self.colour_jitter,
            overlap: self.overlap,
            ambiguous: self.ambiguous,
            label_noise: self.label_noise,
        })
    }
}

/// Builds one split as a data set (the `difficulty` column says which samples were made hard).
pub fn synthetic_split(knobs: &Knobs, seed: u64, split: &str, n: usize, first_id: u64) -> anyhow::Result<Dataset> {
    let (pixels, labels, difficulty) = generate(knobs, seed, split, n, split == "train");
    let mut meta = DatasetMeta {
        classes: class_names(knobs.classes),
        mean: vec![0.0; 3],
        std: vec![1.0; 3],
        source: format!("synthetic(seed={seed})"),
        ..DatasetMeta::default()
    };
    meta.extra_label_classes
        .insert("difficulty".into(), vec!["clean".into(), "ambiguous".into(), "mislabelled".into()]);
    let mut d =
        Dataset::new(pixels, [n, 3, knobs.size, knobs.size], labels, (first_id..first_id + n as u64).collect(), meta)?;
    d.extra_labels.insert("difficulty".into(), difficulty);
    if let Err(e) = d.validate() {
        bail!("synthetic data set is inconsistent: {e}");
    }
    Ok(d)
}

/// The stage `dataset.synthetic`.
#[derive(Debug)]
pub struct Synthetic;

impl Stage for Synthetic {
    const KIND: &'static str = "dataset.synthetic";
    type Config = SyntheticConfig;

    fn signature() -> Signature {
        Signature::new(
            "procedurally generated CIFAR-shaped data (3x32x32, 10 classes of coloured shapes), seeded, \
             with knobs for noise, class overlap, ambiguous samples and label noise; designed so that a \
             small ResNet reaches roughly 80-90% test accuracy",
        )
        .output("train", ArtifactKind::Dataset, "training images; extra label column `difficulty`")
        .output("test", ArtifactKind::Dataset, "test images (clean labels); mean/std of the train split")
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("5,000 / 1,000 images with the default difficulty", ""),
            Example::new("a small, quick set", "train = 1000\ntest = 200"),
            Example::new(
                "harder: more noise and overlap, 10% label noise",
                "noise = 40.0\noverlap = 0.7\nlabel_noise = 0.1\nambiguous = 0.2",
            ),
        ]
    }

    fn preflight(config: &SyntheticConfig) -> anyhow::Result<()> {
        config.knobs().map(drop)
    }

    fn run(ctx: &mut Context, _inputs: &Inputs, config: SyntheticConfig) -> anyhow::Result<()> {
        let knobs = config.knobs()?;
        let seed = ctx.seed_for("generate");
        ctx.progress(0, 2, "generating the train split");
        let mut train = synthetic_split(&knobs, seed, "train", config.train, 0)?;
        ctx.check_cancelled()?;
        ctx.progress(1, 2, "generating the test split");
        let mut test = synthetic_split(&knobs, seed, "test", config.test, config.train as u64)?;
        ctx.progress(2, 2, "generated");
        set_train_stats(&mut train, &mut test);
        write_output(ctx, "train", &train)?;
        write_output(ctx, "test", &test)?;
        let count = |d: &Dataset, v: u32| d.extra_labels["difficulty"].iter().filter(|&&x| x == v).count();
        ctx.summary("train_ambiguous", count(&train, 1));
        ctx.summary("train_mislabelled", count(&train, 2));
        ctx.summary("test_ambiguous", count(&test, 1));
        Ok(())
    }
}
