//! The markdown report of `report.membership`.

use std::fmt::Write as _;

use indexmap::IndexMap;

use super::attacks::{AttackSummary, ModelResult, Settings, Spread};
use super::ensemble::Ensemble;

/// Ensembles smaller than this are labelled reduced-N (the per-example attacks of the
/// literature calibrate on 64 or more models).
pub const FULL_ENSEMBLE: usize = 64;

fn f(v: Option<f64>, digits: usize) -> String {
    v.filter(|x| x.is_finite()).map_or("–".into(), |x| format!("{x:.digits$}"))
}

fn pm(s: &Spread, digits: usize) -> String {
    match (s.mean, s.std) {
        (Some(m), Some(sd)) if m.is_finite() => format!("{m:.digits$} ± {sd:.digits$}"),
        (Some(m), _) => f(Some(m), digits),
        _ => "–".into(),
    }
}

fn label(name: &str) -> String {
    match name {
        "gold" => "gold (retrained: chance reference)".into(),
        "original" => "original (no unlearning)".into(),
        _ => name.to_string(),
    }
}

fn attack_table(
    md: &mut String,
    results: &IndexMap<String, ModelResult>,
    pick: fn(&ModelResult) -> Option<&AttackSummary>,
    levels: &[f64],
) {
    let cols: Vec<String> = levels.iter().map(|l| format!("TPR @ {}% FPR", l * 100.0)).collect();
    let _ = writeln!(md, "| model | pairs (positives) | AUC | balanced accuracy | {} |", cols.join(" | "));
    let _ = writeln!(md, "|---|---|---|---|{}", "---|".repeat(cols.len()));
    for (name, r) in results {
        match pick(r) {
            Some(a) => {
                let tprs: Vec<String> = a.tpr_at_fpr.iter().map(|[_, t]| format!("{t:.4}")).collect();
                let _ = writeln!(
                    md,
                    "| {} | {} ({}) | {} | {:.4} | {} |",
                    label(name),
                    a.pairs,
                    a.positives,
                    f(a.auc, 4),
                    a.balanced_accuracy,
                    tprs.join(" | ")
                );
            }
            None => {
                let why = r.skipped.as_deref().unwrap_or("no pair with both classes");
                let _ = writeln!(md, "| {} | not measured: {why} |{}", label(name), " |".repeat(3 + levels.len()));
            }
        }
    }
    md.push('\n');
}

/// The whole report.
pub fn render(e: &Ensemble, results: &IndexMap<String, ModelResult>, s: &Settings, files: &[String]) -> String {
    let mut md = String::new();
    let n = e.shadows.len();
    let _ = writeln!(md, "# Membership inference over a model ensemble\n");
    let reduced = if n < FULL_ENSEMBLE {
        format!(
            " — **reduced-N** (fewer than {FULL_ENSEMBLE} models: the per-example Gaussians and the low-FPR rates are noisier than the literature's)"
        )
    } else {
        String::new()
    };
    let _ = writeln!(md, "N = {n} shadow models{reduced}.");
    let seen: Vec<usize> = (0..e.candidates.len()).map(|c| e.member.iter().filter(|m| m[c]).count()).collect();
    let _ = writeln!(
        md,
        "{} candidates (the base split's D_f), each seen then unlearned by {}-{} shadows and never seen by the others; \
         {} population samples (never trained on) for RMIA.\n",
        e.candidates.len(),
        seen.iter().min().unwrap_or(&0),
        seen.iter().max().unwrap_or(&0),
        e.population
    );
    let _ = writeln!(
        md,
        "Every shadow model is the target in turn, and each attack is calibrated on the *other* shadows only \
         (leave-one-model-out). Positives: (model, candidate) pairs where the model saw the candidate and then \
         unlearned it; negatives: pairs where it never saw it. Each method's attack uses that method's models; \
         gold's line (models retrained without the shadow's D_f) is the ideal: an attack at chance (AUC 0.5, \
         TPR = FPR). TPR at a fixed FPR is read off the ROC curve by linear interpolation between its points.\n"
    );
    let _ = writeln!(md, "## U-LiRA (per-example likelihood ratio)\n");
    let _ = writeln!(
        md,
        "Statistic: the logit-scaled confidence of the true class, log(p / (1 - p)); per example a Gaussian \
         (mean, sample std floored at {}) over the other models that unlearned it and one over those that never saw it; \
         score = log-likelihood ratio.\n",
        s.min_std
    );
    attack_table(&mut md, results, |r| r.ulira.as_ref(), &s.fpr_levels);
    let _ = writeln!(md, "## RMIA (offline, {} reference model(s), a = {})\n", s.rmia.reference_models, s.rmia.a);
    let _ = writeln!(
        md,
        "Statistic: the probability of the true class; per example the first {} other models that never saw it are \
         the references, Pr(x) = (1 + a)/2 · mean + (1 - a)/2; score = fraction of population samples z with \
         (p(x)/Pr(x)) / (p(z)/Pr(z)) > {}.\n",
        s.rmia.reference_models, s.rmia.gamma
    );
    attack_table(&mut md, results, |r| r.rmia.as_ref(), &s.fpr_levels);
    let _ = writeln!(md, "## Agreement with gold (mean ± std over the shadows)\n");
    let _ = writeln!(
        md,
        "On each shadow's D_f against the shadow's gold model: JS divergence of the softmax outputs (nats) and the \
         activation distance; ToW = Π over forget, retain, test of (1 - |acc - acc_gold|); ToW-MIA replaces the \
         forget term by 1 - |MIA - MIA_gold| with MIA the loss-threshold attack's rate. That attack (one threshold, \
         the {}-quantile of the model's losses on the population) is a **population attack**: it overstates privacy \
         next to the per-example attacks above.\n",
        e.mia_alpha
    );
    let _ = writeln!(
        md,
        "| model | JS to gold | activation distance | ToW | ToW-MIA | loss-threshold rate (population attack) |"
    );
    let _ = writeln!(md, "|---|---|---|---|---|---|");
    for (name, r) in results {
        let _ = writeln!(
            md,
            "| {} | {} | {} | {} | {} | {} |",
            label(name),
            pm(&r.js_divergence, 4),
            pm(&r.activation_distance, 4),
            pm(&r.tow, 4),
            pm(&r.tow_mia, 4),
            pm(&r.loss_mia_rate, 4)
        );
    }
    md.push('\n');
    let _ = writeln!(md, "## Files\n");
    let _ = writeln!(md, "In `table/`: `membership.csv` and the ROC curves on log-log axes:\n");
    for f in files {
        let _ = writeln!(md, "- `{f}`");
    }
    md
}
