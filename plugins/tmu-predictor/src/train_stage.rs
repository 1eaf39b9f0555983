//! The stage `predictor.train`: preprocess the twin set's features, train the MLP on the twin
//! generalization labels, write the predictor and its training metrics.

use std::time::Instant;

use anyhow::{Context as _, bail};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tmu_plugin::artifact::write_metrics;
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};
use tmu_stats::auc;

use crate::fit::{FitSettings, class_weights, fit};
use crate::inputs::{read_easy, read_features};
use crate::mlp::{PredictorMlp, layer_sizes, sigmoid};
use crate::model_file::Predictor;
use crate::preprocess::preprocess;
use crate::scores::Confusion;
use crate::threshold::{half, twin_f1_cut};

/// Config of `predictor.train`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PredictorTrainConfig {
    /// Widths of the hidden layers (ReLU after each): the network is F -> hidden... -> 1, with F
    /// the number of feature columns; `[]` is logistic regression on the features.
    #[schemars(inner(range(min = 1)))]
    pub hidden: Vec<usize>,
    /// Passes over the twin set.
    #[schemars(range(min = 1, max = 100000))]
    pub epochs: usize,
    /// Samples per Adam step (the last batch of an epoch may be smaller).
    #[schemars(range(min = 1, max = 1048576))]
    pub batch_size: usize,
    /// Adam learning rate (other Adam settings are PyTorch's defaults).
    #[schemars(range(min = 0.0, max = 10.0))]
    pub lr: f64,
    /// Winsorising factor k: each feature column is clipped to [Q1 - k IQR, Q3 + k IQR]
    /// (quantiles by linear interpolation) before min-max scaling to `[0, 1]`, separately for the
    /// twin set and for D_f. Saved with the predictor, so `predictor.apply` uses the same.
    #[schemars(range(min = 0.0, max = 1000.0))]
    pub iqr_factor: f64,
    /// Re-weight the loss by class (n / (2 n_class), scikit-learn's "balanced"), so that the rare
    /// hard samples weigh as much in total as the easy ones.
    pub balance: bool,
}

impl Default for PredictorTrainConfig {
    fn default() -> Self {
        PredictorTrainConfig {
            hidden: vec![32, 16],
            epochs: 200,
            batch_size: 128,
            lr: 1e-3,
            iqr_factor: 1.5,
            balance: false,
        }
    }
}

impl PredictorTrainConfig {
    fn check(&self) -> anyhow::Result<()> {
        if self.hidden.contains(&0) {
            bail!("`hidden` widths must be positive, got {:?}", self.hidden);
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            bail!("`lr` = {} must be positive", self.lr);
        }
        if !(self.iqr_factor.is_finite() && self.iqr_factor >= 0.0) {
            bail!("`iqr_factor` = {} must be a finite number >= 0", self.iqr_factor);
        }
        if self.epochs == 0 || self.batch_size == 0 {
            bail!("`epochs` and `batch_size` must be at least 1");
        }
        Ok(())
    }
}

/// The stage `predictor.train`.
#[derive(Debug)]
pub struct PredictorTrain;

impl Stage for PredictorTrain {
    const KIND: &'static str = "predictor.train";
    type Config = PredictorTrainConfig;

    fn signature() -> Signature {
        Signature::new(
            "trains the generalization-label predictor on the twin set: features winsorised (IQR) and \
             min-max scaled, an MLP F->32->16->1 with BCE on the twin labels (1 = easy), Adam",
        )
        .list_input(
            "features",
            ArtifactKind::Features,
            "the twin set's per-sample features, joined by sample id (e.g. [df, af, cf]); any number of columns",
        )
        .input("labels", ArtifactKind::Labels, "the twin generalization labels (1 = easy: the original model is right)")
        .output(
            "model",
            ArtifactKind::Model,
            "the predictor (`tmu.arch = predictor-mlp`, its feature names and layer sizes)",
        )
        .output(
            "metrics",
            ArtifactKind::Metrics,
            "training loss, accuracy and AUC on the twin set, twin hard rate",
        )
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("the paper's predictor: MLP 32-16, 200 epochs, Adam 1e-3, batch 128", ""),
            Example::new("re-weight the rare hard class", "balance = true"),
            Example::new("logistic regression on the features", "hidden = []"),
            Example::new("a wider network, fewer epochs", "hidden = [64, 32]\nepochs = 100"),
        ]
    }

    fn preflight(config: &PredictorTrainConfig) -> anyhow::Result<()> {
        config.check()
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: PredictorTrainConfig) -> anyhow::Result<()> {
        config.check()?;
        let start = Instant::now();
        ctx.set_device_used("cpu");
        let features = read_features(inputs, "features")?;
        let (easy, _) = read_easy(inputs, "labels", Some(&features.ids))?;
        let n = features.rows();
        let n_easy = easy.iter().filter(|e| **e).count();
        if n_easy == 0 || n_easy == n {
            ctx.warn(format!(
                "every twin sample is {}: the predictor can only learn to say so",
                if n_easy == 0 { "hard" } else { "easy" }
            ));
        }
        let (x, scaling) = preprocess(&features.values, &features.names, config.iqr_factor);
        let sizes = layer_sizes(features.cols(), &config.hidden)?;
        let mlp = PredictorMlp::new(&sizes, ctx.seed_for("init"))?;
        let settings = FitSettings {
            epochs: config.epochs,
            batch_size: config.batch_size,
            lr: config.lr,
            balance: config.balance,
        };
        let epochs = config.epochs as u64;
        let losses = fit(&mlp, &x, &easy, &settings, ctx.seed_for("shuffle"), |epoch, loss| {
            ctx.check_cancelled()?;
            ctx.progress(epoch as u64 + 1, epochs, format!("epoch {}: loss {loss:.4}", epoch + 1));
            Ok(())
        })?;

        let logits = mlp.logits_of(&x)?;
        let p_easy: Vec<f64> = logits.iter().map(|&z| sigmoid(z)).collect();
        let confusion = Confusion::new(&half(&logits), &easy);
        let bce = logits.iter().zip(&easy).map(|(&z, &e)| bce_f64(z, e)).sum::<f64>() / n as f64;
        let twin_hard_rate = (n - n_easy) as f64 / n as f64;
        let wall_seconds = start.elapsed().as_secs_f64();
        let twin_f1 = twin_f1_cut(&p_easy, &easy);
        let predictor = Predictor {
            mlp,
            features: features.names.clone(),
            iqr_factor: config.iqr_factor,
            twin_hard_rate,
            twin_f1: Some(twin_f1),
        };
        predictor.save(&ctx.output_path("model"), wall_seconds)?;

        let [w_hard, w_easy] = class_weights(&easy, config.balance);
        let auc = auc(&p_easy, &easy).context("the AUC of p(easy) on the twin set")?;
        let metrics = json!({
            "n": n,
            "features": features.names,
            "layers": sizes,
            "easy": n_easy,
            "hard": n - n_easy,
            "twin_hard_rate": twin_hard_rate,
            "loss": losses.last(),
            "loss_first_epoch": losses.first(),
            "loss_per_epoch": losses,
            "bce": bce,
            "accuracy": confusion.accuracy(),
            "all_easy_accuracy": confusion.all_easy_accuracy(),
            "auc": auc,
            "predicted_hard": confusion.true_easy_predicted_hard + confusion.true_hard_predicted_hard,
            // The p(easy) cut `predictor.apply` uses with `threshold = "twin-f1"` (in-sample: the
            // twin set is also what the predictor was trained on).
            "twin_f1": twin_f1,
            "class_weights": { "hard": w_hard, "easy": w_easy },
            "preprocessing": scaling,
            "wall_seconds": wall_seconds,
            // The work counts of `cost` are passes through classifier-sized networks; the
            // predictor's own passes (a small MLP on a few features) count in wall time only.
            "cost": tmu_nn::Cost { wall_seconds, train_samples: 0, forward_samples: 0 }.to_json(),
            "predictor_passes": { "train": config.epochs * n, "forward": n },
        });
        let path = ctx.output_path("metrics");
        write_metrics(&path, &metrics).with_context(|| format!("writing {}", path.display()))?;
        ctx.summary("accuracy", confusion.accuracy());
        ctx.summary("auc", auc);
        ctx.summary("twin_hard_rate", twin_hard_rate);
        ctx.summary("loss", losses.last().copied());
        Ok(())
    }
}

/// Unweighted binary cross-entropy of one logit against its label, in f64.
fn bce_f64(z: f32, easy: bool) -> f64 {
    let z = f64::from(z);
    let y = if easy { 1.0 } else { 0.0 };
    z.max(0.0) - z * y + (-z.abs()).exp().ln_1p()
}
