//! Running U-LiRA and RMIA on every model of an ensemble and summarising each attack over its
//! (target model, example) pairs: AUC, best balanced accuracy, TPR at fixed FPRs; and the
//! per-shadow agreement with gold (JS, activation distance, ToW, ToW-MIA, the population attack).

use serde::Serialize;
use tmu_stats::{RmiaSettings, Roc, Scored, auc, mean, rmia, roc_curve, sample_std, tow, tow_mia, ulira};

use super::ensemble::{Ensemble, ModelMatrix};

/// One attack on one model's ensemble.
#[derive(Debug, Serialize)]
pub struct AttackSummary {
    /// Scored (target model, example) pairs; positives: the target saw, then unlearned, the example.
    pub pairs: usize,
    pub positives: usize,
    pub auc: Option<f64>,
    pub balanced_accuracy: f64,
    /// `[fpr, tpr]` at each configured level (linear interpolation on the ROC curve).
    pub tpr_at_fpr: Vec<[f64; 2]>,
    #[serde(skip)]
    pub roc: Roc,
}

/// Mean and sample std over the shadows.
#[derive(Debug, Serialize)]
pub struct Spread {
    pub mean: Option<f64>,
    pub std: Option<f64>,
}

fn spread(x: &[f64]) -> Spread {
    Spread { mean: mean(x), std: sample_std(x) }
}

/// One model's results.
#[derive(Debug, Serialize)]
pub struct ModelResult {
    /// Why the attacks did not run (NaN outputs), if they did not.
    pub skipped: Option<String>,
    pub ulira: Option<AttackSummary>,
    pub rmia: Option<AttackSummary>,
    pub js_divergence: Spread,
    pub activation_distance: Spread,
    pub tow: Spread,
    pub tow_mia: Spread,
    /// The loss-threshold (population) attack's rate on each shadow's D_f.
    pub loss_mia_rate: Spread,
}

/// The attacks' settings.
#[derive(Clone, Debug)]
pub struct Settings {
    pub min_std: f64,
    pub rmia: RmiaSettings,
    pub fpr_levels: Vec<f64>,
}

fn summarise(scored: &[Scored], levels: &[f64]) -> anyhow::Result<Option<AttackSummary>> {
    let scores: Vec<f64> = scored.iter().map(|s| s.score).collect();
    let positive: Vec<bool> = scored.iter().map(|s| s.member).collect();
    let Some(roc) = roc_curve(&scores, &positive)? else { return Ok(None) };
    Ok(Some(AttackSummary {
        pairs: scored.len(),
        positives: positive.iter().filter(|p| **p).count(),
        auc: auc(&scores, &positive)?,
        balanced_accuracy: roc.balanced_accuracy(),
        tpr_at_fpr: levels.iter().map(|&f| [f, roc.tpr_at(f)]).collect(),
        roc,
    }))
}

/// Every measure of model `m` (`gold`: the ensemble's gold models).
pub fn model_result(e: &Ensemble, m: &ModelMatrix, gold: &ModelMatrix, s: &Settings) -> anyhow::Result<ModelResult> {
    let n = m.acc.len();
    let tows: Vec<f64> = (0..n).map(|i| tow(m.acc[i], gold.acc[i])).collect();
    let tow_mias: Vec<f64> = (0..n)
        .map(|i| tow_mia(m.mia[i], gold.mia[i], [m.acc[i][1], m.acc[i][2]], [gold.acc[i][1], gold.acc[i][2]]))
        .collect();
    let mut r = ModelResult {
        skipped: None,
        ulira: None,
        rmia: None,
        js_divergence: spread(&m.js),
        activation_distance: spread(&m.distance),
        tow: spread(&tows),
        tow_mia: spread(&tow_mias),
        loss_mia_rate: spread(&m.mia),
    };
    if m.has_nan() {
        r.skipped = Some("the model's outputs are not numbers on some shadow (it diverged)".into());
        return Ok(r);
    }
    r.ulira = summarise(&ulira(&m.conf, &e.member, s.min_std)?, &s.fpr_levels)?;
    r.rmia = summarise(&rmia(&m.prob, &e.member, &m.population, s.rmia)?, &s.fpr_levels)?;
    Ok(r)
}
