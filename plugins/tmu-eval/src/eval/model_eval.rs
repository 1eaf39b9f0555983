//! Running one model over the evaluation sets, and comparing its outputs with the gold model's
//! into a [`ModelRecord`].

use std::path::Path;

use anyhow::Context as _;
use indexmap::IndexMap;
use tmu_nn::candle::Device;
use tmu_nn::{Cost, META_WALL_SECONDS, Network, Predictions, predict};

use super::record::{Accuracy, MiaRecord, ModelRecord};
use super::sets::{DeviceSets, Sets};
use crate::measures::{activation_distance, agreement, delta_pp, loss_threshold_attack, subset_accuracy};

/// What one model did on the evaluation sets.
#[derive(Debug)]
pub struct ModelRun {
    pub acc_retain: f64,
    pub acc_test: f64,
    /// Logits, f64 losses and labels on D_f.
    pub forget: Predictions,
    /// Per-sample f64 cross-entropy on the attack's non-members.
    pub population_losses: Vec<f64>,
    pub wall_seconds: Option<f64>,
    /// The cost in the model file's metadata (wall time and work counts), if it has one.
    pub cost: Option<Cost>,
}

/// `tmu.wall_seconds` of a model artifact, if present and a number.
pub fn wall_seconds(path: &Path) -> Option<f64> {
    let (_, meta) = tmu_plugin::artifact::read_header(path).ok()?;
    meta.get(META_WALL_SECONDS)?.parse().ok().filter(|s: &f64| s.is_finite())
}

/// Loads the model `label` from `path` and runs it (eval mode) over every set.
pub fn run_model(
    label: &str,
    path: &Path,
    sets: &Sets,
    data: &DeviceSets,
    device: &Device,
    batch: usize,
) -> anyhow::Result<ModelRun> {
    let context = || format!("model `{label}` ({})", path.display());
    let net = Network::load(path, device).with_context(context)?;
    for (name, d) in [("retain", &sets.retain), ("forget", &sets.forget), ("test", &sets.test)] {
        net.spec().check_data(d).with_context(|| format!("{} does not fit input `{name}`", context()))?;
    }
    let run =
        |d, name: &str| predict(&net, d, batch, false).with_context(|| format!("running {} on `{name}`", context()));
    Ok(ModelRun {
        acc_retain: run(&data.retain, "retain")?.accuracy(),
        acc_test: run(&data.test, "test")?.accuracy(),
        forget: run(&data.forget, "forget")?,
        population_losses: run(&data.mia_population, "population")?.losses,
        wall_seconds: wall_seconds(path),
        cost: super::cost::model_cost(path),
    })
}

/// `m`'s record against `gold` (pass `gold` twice for gold's own row).
pub fn record(m: &ModelRun, gold: &ModelRun, predicted_easy: Option<&[bool]>, alphas: &[f64]) -> ModelRecord {
    let correct = m.forget.correct();
    let gold_correct = gold.forget.correct();
    let acc_forget = m.forget.accuracy();
    let subset = |easy: bool| {
        predicted_easy.and_then(|p| subset_accuracy(&correct, &p.iter().map(|&e| e == easy).collect::<Vec<_>>()))
    };
    let mia: IndexMap<String, MiaRecord> = alphas
        .iter()
        .map(|&alpha| {
            let own = loss_threshold_attack(&m.population_losses, &m.forget.losses, alpha);
            let gold = loss_threshold_attack(&gold.population_losses, &gold.forget.losses, alpha);
            let record = MiaRecord {
                threshold: own.threshold,
                rate: own.rate,
                gold_rate: gold.rate,
                gap: (own.rate - gold.rate).abs(),
            };
            (alpha.to_string(), record)
        })
        .collect();
    ModelRecord {
        acc: Accuracy {
            retain: m.acc_retain,
            forget: acc_forget,
            test: m.acc_test,
            forget_easy: subset(true),
            forget_hard: subset(false),
        },
        delta: delta_pp(acc_forget, gold.forget.accuracy()),
        activation_distance: activation_distance(&m.forget.logits, &gold.forget.logits, m.forget.num_classes),
        mia,
        agreement: agreement(&correct, &gold_correct),
        wall_seconds: m.wall_seconds,
        cost_ratio: match (m.wall_seconds, gold.wall_seconds) {
            (Some(s), Some(g)) if g > 0.0 => Some(s / g),
            _ => None,
        },
        cost: super::cost::CostRecord::default(),
        config: None,
        predictor: None,
    }
}
