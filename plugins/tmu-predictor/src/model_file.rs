//! The predictor's model artifact: a safetensors file of kind `model` whose tensors are the
//! layers (`layers.{i}.weight` `[out, in]`, `layers.{i}.bias` `[out]`, f32: PyTorch can load them
//! into `nn.Linear`s) and whose metadata say what it is (`tmu.arch = "predictor-mlp"`), its
//! layer sizes, the feature columns it takes by name and the preprocessing it was trained with.

use std::path::Path;

use anyhow::{Context as _, bail};
use tmu_plugin::ArtifactKind;
use tmu_plugin::artifact::{Container, ContainerWriter};

use crate::mlp::PredictorMlp;
use crate::threshold::F1Cut;

/// `tmu.arch` of a predictor.
pub const ARCH: &str = "predictor-mlp";
/// Metadata: layer widths `[F, hidden..., 1]`, JSON.
pub const META_LAYERS: &str = "tmu.predictor.layers";
/// Metadata: the feature column names, in input order, JSON.
pub const META_FEATURES: &str = "tmu.predictor.features";
/// Metadata: the IQR factor of the winsorising (applied per set, here and in `apply`).
pub const META_IQR_FACTOR: &str = "tmu.predictor.iqr_factor";
/// Metadata: the fraction of hard samples in the twin set it was trained on.
pub const META_TWIN_HARD_RATE: &str = "tmu.predictor.twin_hard_rate";
/// Metadata: the p(easy) cut with the best F1 of the hard class on the twin set, JSON
/// ([`F1Cut`]); absent in predictors written before it existed.
pub const META_TWIN_F1_CUT: &str = "tmu.predictor.twin_f1_cut";

/// A trained predictor and what it needs to be applied.
#[derive(Debug)]
pub struct Predictor {
    pub mlp: PredictorMlp,
    /// Feature column names, one per input.
    pub features: Vec<String>,
    pub iqr_factor: f64,
    pub twin_hard_rate: f64,
    /// The twin-F1 cut (`None` for a predictor file without one).
    pub twin_f1: Option<F1Cut>,
}

impl Predictor {
    /// Writes the model artifact atomically; `wall_seconds` is the training time.
    pub fn save(&self, path: &Path, wall_seconds: f64) -> anyhow::Result<()> {
        let mut w = ContainerWriter::new(ArtifactKind::Model);
        w.meta(tmu_nn::META_ARCH, ARCH)
            .meta_json(META_LAYERS, self.mlp.sizes())
            .meta_json(META_FEATURES, &self.features)
            .meta(META_IQR_FACTOR, self.iqr_factor.to_string())
            .meta(META_TWIN_HARD_RATE, self.twin_hard_rate.to_string())
            .meta(tmu_nn::META_WALL_SECONDS, wall_seconds.to_string());
        if let Some(cut) = &self.twin_f1 {
            w.meta_json(META_TWIN_F1_CUT, cut);
        }
        for (i, (weight, bias)) in self.mlp.weights()?.iter().enumerate() {
            let (d_in, d_out) = (self.mlp.sizes()[i], self.mlp.sizes()[i + 1]);
            w.f32(&format!("layers.{i}.weight"), vec![d_out, d_in], weight);
            w.f32(&format!("layers.{i}.bias"), vec![d_out], bias);
        }
        w.write(path).with_context(|| format!("writing the predictor to {}", path.display()))
    }

    /// Reads a predictor artifact; errors name the file and what is wrong with it.
    pub fn load(path: &Path) -> anyhow::Result<Predictor> {
        let c = Container::read(path, ArtifactKind::Model)?;
        let arch = c.meta(tmu_nn::META_ARCH).unwrap_or("(none)");
        if arch != ARCH {
            bail!("{} is a `{arch}` model, not a predictor (`{ARCH}`)", path.display());
        }
        let sizes: Vec<usize> = c
            .meta_json(META_LAYERS)?
            .with_context(|| format!("{}: metadata `{META_LAYERS}` is missing", path.display()))?;
        let features: Vec<String> = c
            .meta_json(META_FEATURES)?
            .with_context(|| format!("{}: metadata `{META_FEATURES}` is missing", path.display()))?;
        let number = |key: &str| -> anyhow::Result<f64> {
            c.require_meta(key)?
                .parse()
                .with_context(|| format!("{}: metadata `{key}` is not a number", path.display()))
        };
        let iqr_factor = number(META_IQR_FACTOR)?;
        let twin_hard_rate = number(META_TWIN_HARD_RATE)?;
        let twin_f1: Option<F1Cut> = c.meta_json(META_TWIN_F1_CUT)?;
        if sizes.first() != Some(&features.len()) {
            bail!("{}: {} feature names for layer sizes {sizes:?}", path.display(), features.len());
        }
        let mut weights = Vec::with_capacity(sizes.len().saturating_sub(1));
        for i in 0..sizes.len().saturating_sub(1) {
            let (ws, w) = c.f32_tensor(&format!("layers.{i}.weight"), 2)?;
            let (bs, b) = c.f32_tensor(&format!("layers.{i}.bias"), 1)?;
            if ws != [sizes[i + 1], sizes[i]] || bs != [sizes[i + 1]] {
                bail!(
                    "{}: layer {i} has weight {ws:?} and bias {bs:?}, layer sizes {sizes:?} need [{}, {}] and [{}]",
                    path.display(),
                    sizes[i + 1],
                    sizes[i],
                    sizes[i + 1]
                );
            }
            weights.push((w, b));
        }
        let mlp = PredictorMlp::from_weights(&sizes, weights).with_context(|| format!("reading {}", path.display()))?;
        Ok(Predictor { mlp, features, iqr_factor, twin_hard_rate, twin_f1 })
    }
}
