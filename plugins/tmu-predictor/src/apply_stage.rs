//! The stage `predictor.apply`: preprocess D_f's features as the twin set's were, predict
//! p(easy), threshold it into generalization labels, and (given the true labels) diagnose.

use anyhow::Context as _;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tmu_plugin::artifact::{Features, Labels, write_metrics};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};
use tmu_stats::auc;

use crate::inputs::{read_easy, read_features, select_columns};
use crate::mlp::sigmoid;
use crate::model_file::Predictor;
use crate::preprocess::preprocess;
use crate::scores::Confusion;
use crate::threshold::{half, hard_count, twin_rate};

/// How p(easy) becomes a label.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Threshold {
    /// Easy iff p(easy) > 0.5 (the paper).
    #[default]
    Half,
    /// Call hard the same fraction of D_f as is hard in the twin set, lowest p(easy) first
    /// (equal p(easy) broken by ascending sample id). The twin rate comes from `twin_labels`
    /// when connected, else from the rate recorded in the predictor at training.
    TwinRate,
    /// Easy iff p(easy) is above the cut saved in the predictor at training: among the twin
    /// set's own p(easy) values, the cut "hard iff p(easy) <= c" with the highest F1 of the hard
    /// class against the twin labels (ties: the cut calling fewer samples hard; no hard twin
    /// sample: nothing hard).
    TwinF1,
}

/// Config of `predictor.apply`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct PredictorApplyConfig {
    /// `half` (easy iff p(easy) > 0.5, the paper), `twin-rate` (as many hard samples, in
    /// proportion, as in the twin set) or `twin-f1` (the p(easy) cut with the best F1 of the
    /// hard class on the twin set, saved in the predictor).
    pub threshold: Threshold,
}

/// The stage `predictor.apply`.
#[derive(Debug)]
pub struct PredictorApply;

impl Stage for PredictorApply {
    const KIND: &'static str = "predictor.apply";
    type Config = PredictorApplyConfig;

    fn signature() -> Signature {
        Signature::new(
            "predicts the generalization labels of D_f (1 = easy, 0 = hard) with a trained predictor; \
             given the true labels, reports accuracy, AUC, precision and recall on hard, and each feature's AUC",
        )
        .input("predictor", ArtifactKind::Model, "the predictor from `predictor.train`")
        .list_input(
            "features",
            ArtifactKind::Features,
            "D_f's per-sample features, joined by sample id: the same column names as the twin set's",
        )
        .optional_input(
            "twin_labels",
            ArtifactKind::Labels,
            "the twin generalization labels, for `threshold = \"twin-rate\"` (else the rate saved in the predictor)",
        )
        .optional_input(
            "truth",
            ArtifactKind::Labels,
            "the true generalization labels of D_f (`labels.correct` of the gold model): diagnostics only",
        )
        .output("labels", ArtifactKind::Labels, "predicted generalization labels of D_f (1 = easy, 0 = hard)")
        .output("scores", ArtifactKind::Features, "p(easy) of every D_f sample (column `p_easy`)")
        .output("metrics", ArtifactKind::Metrics, "the split, the threshold, and with `truth` the diagnostics")
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("the paper's threshold: easy iff p(easy) > 0.5", ""),
            Example::new("as many hard samples, in proportion, as in the twin set", "threshold = \"twin-rate\""),
            Example::new(
                "the p(easy) cut with the best F1 of the hard class on the twin set",
                "threshold = \"twin-f1\"",
            ),
        ]
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: PredictorApplyConfig) -> anyhow::Result<()> {
        ctx.set_device_used("cpu");
        let started = std::time::Instant::now();
        let path = inputs.path("predictor")?;
        let predictor =
            Predictor::load(path).with_context(|| format!("reading input `predictor` ({})", path.display()))?;
        let features = read_features(inputs, "features")?;
        let raw = select_columns(&features, &predictor.features).context("checking input `features`")?;
        let (x, scaling) = preprocess(&raw, &predictor.features, predictor.iqr_factor);
        let logits = predictor.mlp.logits_of(&x)?;
        let p_easy: Vec<f64> = logits.iter().map(|&z| sigmoid(z)).collect();
        let ids = &features.ids;
        let n = ids.len();

        let (easy, threshold) = match config.threshold {
            Threshold::Half => (half(&logits), json!({ "rule": "half", "p_easy_cut": 0.5 })),
            Threshold::TwinRate => {
                let (rate, source) = if inputs.contains("twin_labels") {
                    let (twin, _) = read_easy(inputs, "twin_labels", None)?;
                    anyhow::ensure!(!twin.is_empty(), "input `twin_labels` holds no samples");
                    (twin.iter().filter(|e| !**e).count() as f64 / twin.len() as f64, "twin_labels")
                } else {
                    ctx.info("no `twin_labels` connected: using the twin hard rate saved in the predictor");
                    (predictor.twin_hard_rate, "predictor")
                };
                let easy = twin_rate(&p_easy, ids, rate);
                let cut = p_easy.iter().zip(&easy).filter(|(_, e)| !**e).map(|(p, _)| *p).fold(None, max_opt);
                let info = json!({
                    "rule": "twin-rate",
                    "twin_hard_rate": rate,
                    "twin_hard_rate_from": source,
                    "hard_count": hard_count(rate, n),
                    "p_easy_cut": cut,
                });
                (easy, info)
            }
            Threshold::TwinF1 => {
                let cut = predictor.twin_f1.with_context(|| {
                    format!(
                        "{} holds no twin-F1 cut (trained before `twin-f1` existed): train it again",
                        path.display()
                    )
                })?;
                let info = json!({ "rule": "twin-f1", "p_easy_cut": cut.cut, "twin_f1": cut.f1, "twin_hard_calls": cut.hard_calls });
                (cut.apply(&p_easy), info)
            }
        };

        let labels = Labels::easy_hard(&easy, ids.clone())?;
        let out = ctx.output_path("labels");
        labels.write(&out).with_context(|| format!("writing {}", out.display()))?;
        let scores = Features::new(p_easy.iter().map(|&p| p as f32).collect(), ids.clone(), vec!["p_easy".into()])?;
        let out = ctx.output_path("scores");
        scores.write(&out).with_context(|| format!("writing {}", out.display()))?;
        // The prediction's cost (the diagnostics against `truth` are not part of the method).
        let wall_seconds = started.elapsed().as_secs_f64();

        let n_hard = easy.iter().filter(|e| !**e).count();
        let truth = if inputs.contains("truth") {
            let (true_easy, _) = read_easy(inputs, "truth", Some(ids))?;
            let diagnostics = diagnose(&easy, &true_easy, &p_easy, &raw, &predictor.features)?;
            ctx.summary("accuracy", diagnostics["accuracy"].clone());
            ctx.summary("auc", diagnostics["auc"].clone());
            diagnostics
        } else {
            Value::Null
        };
        let metrics = json!({
            "n": n,
            "features": predictor.features,
            "threshold": threshold,
            "predicted": { "easy": n - n_hard, "hard": n_hard, "hard_rate": n_hard as f64 / n as f64 },
            "p_easy": {
                "min": p_easy.iter().copied().fold(f64::INFINITY, f64::min),
                "mean": p_easy.iter().sum::<f64>() / n as f64,
                "max": p_easy.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            },
            "preprocessing": scaling,
            "truth": truth,
            "wall_seconds": wall_seconds,
            // Predictor passes (a small MLP) count in wall time only, see `predictor.train`.
            "cost": tmu_nn::Cost { wall_seconds, train_samples: 0, forward_samples: 0 }.to_json(),
        });
        let out = ctx.output_path("metrics");
        write_metrics(&out, &metrics).with_context(|| format!("writing {}", out.display()))?;
        ctx.summary("predicted_hard", n_hard);
        Ok(())
    }
}

fn max_opt(acc: Option<f64>, p: f64) -> Option<f64> {
    Some(acc.map_or(p, |a| a.max(p)))
}

/// Diagnostics against the true labels: accuracy next to the all-easy rule, AUC of p(easy) for
/// easy, precision and recall on hard, the confusion counts, and each raw feature's AUC for
/// *hard* when ranked by value (higher value => hard; 0.5 is chance, below 0.5 the feature
/// points the other way).
fn diagnose(easy: &[bool], true_easy: &[bool], p_easy: &[f64], raw: &[f32], names: &[String]) -> anyhow::Result<Value> {
    let confusion = Confusion::new(easy, true_easy);
    let n = true_easy.len();
    let n_true_hard = true_easy.iter().filter(|e| !**e).count();
    let true_hard: Vec<bool> = true_easy.iter().map(|e| !e).collect();
    let f = names.len();
    let feature_auc: serde_json::Map<String, Value> = names
        .iter()
        .enumerate()
        .map(|(j, name)| {
            let column: Vec<f64> = (0..n).map(|i| f64::from(raw[i * f + j])).collect();
            let auc = auc(&column, &true_hard).with_context(|| format!("the AUC of feature `{name}`"))?;
            Ok((name.clone(), json!(auc)))
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(json!({
        "easy": n - n_true_hard,
        "hard": n_true_hard,
        "hard_rate": n_true_hard as f64 / n as f64,
        "accuracy": confusion.accuracy(),
        "all_easy_accuracy": confusion.all_easy_accuracy(),
        "auc": auc(p_easy, true_easy).context("the AUC of p(easy)")?,
        "hard_precision": confusion.hard_precision(),
        "hard_recall": confusion.hard_recall(),
        "confusion": confusion,
        "feature_auc": feature_auc,
        "feature_auc_orientation": "AUC of the raw feature value as a score for hard (higher value => hard)",
    }))
}
