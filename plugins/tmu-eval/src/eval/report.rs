//! `report.md` of `eval.unlearning`: the comparison table (one row per method, then original
//! and gold), a legend, short notes on which method comes closest to gold, a table with D_f's
//! predicted subsets and the further MIA levels, and the cost table against gold's retrain.

use super::cost::CostPart;
use super::record::{EvalMetrics, ModelRecord};
use super::table::Table;

fn pct(x: f64) -> String {
    format!("{:.1}", 100.0 * x)
}

fn pct_opt(x: Option<f64>) -> String {
    x.map_or_else(|| "-".to_string(), pct)
}

/// The rows in report order: the methods, then original, then gold.
fn rows(m: &EvalMetrics) -> Vec<(&str, &ModelRecord)> {
    let mut rows: Vec<(&str, &ModelRecord)> = m.models.iter().map(|(n, r)| (n.as_str(), r)).collect();
    if let Some(o) = &m.original {
        rows.push(("original", o));
    }
    rows.push(("gold", &m.gold));
    rows
}

fn main_table(m: &EvalMetrics) -> Table {
    let alpha = m.mia.alphas[0].to_string();
    let gold_rate = m.gold.mia[&alpha].rate;
    let mut t = Table::new(
        [
            "method".to_string(),
            "Acc D_r".into(),
            "Acc D_f".into(),
            "Acc test".into(),
            "Delta".into(),
            "act. dist.".into(),
            format!("MIA@{alpha} (gold {})", pct(gold_rate)),
            "agreement".into(),
        ]
        .to_vec(),
    );
    for (name, r) in rows(m) {
        t.row(vec![
            name.to_string(),
            pct(r.acc.retain),
            pct(r.acc.forget),
            pct(r.acc.test),
            format!("{:.1}", r.delta),
            format!("{:.4}", r.activation_distance),
            pct(r.mia[&alpha].rate),
            pct(r.agreement),
        ]);
    }
    t
}

/// Each method's cost: the forget stage alone, the one-time set-up, every request and the whole,
/// in seconds and as ratios of gold's retrain (time; work = samples through forward+backward).
fn cost_table(m: &EvalMetrics) -> Table {
    let mut t = Table::new(
        [
            "method",
            "forget stage (s)",
            "forget/gold time",
            "forget/gold work",
            "set-up, once (s)",
            "per request (s)",
            "per request/gold time",
            "whole (s)",
            "whole/gold time",
            "whole/gold work",
        ]
        .map(String::from)
        .to_vec(),
    );
    let secs = |p: &Option<CostPart>| p.as_ref().map_or_else(|| "-".to_string(), |p| format!("{:.2}", p.wall_seconds));
    let ratio = |r: Option<f64>| r.map_or_else(|| "-".to_string(), |r| format!("{r:.2}x"));
    let time = |p: &Option<CostPart>| ratio(p.as_ref().and_then(|p| p.wall_ratio));
    let work = |p: &Option<CostPart>| ratio(p.as_ref().and_then(|p| p.work_ratio));
    for (name, r) in rows(m).into_iter().filter(|(n, _)| *n != "original") {
        let c = &r.cost;
        t.row(vec![
            name.to_string(),
            secs(&c.forget),
            time(&c.forget),
            work(&c.forget),
            secs(&c.setup),
            secs(&c.per_request),
            time(&c.per_request),
            secs(&c.whole),
            time(&c.whole),
            work(&c.whole),
        ]);
    }
    t
}

/// D_f's predicted subsets and the MIA levels after the first; `None` when there is neither.
fn second_table(m: &EvalMetrics) -> Option<Table> {
    let subsets = m.forget.predicted_easy.zip(m.forget.predicted_hard);
    let alphas: Vec<String> = m.mia.alphas[1..].iter().map(f64::to_string).collect();
    if subsets.is_none() && alphas.is_empty() {
        return None;
    }
    let mut header = vec!["method".to_string()];
    if let Some((easy, hard)) = subsets {
        header.push(format!("Acc D_f easy (n={easy})"));
        header.push(format!("Acc D_f hard (n={hard})"));
    }
    for a in &alphas {
        header.push(format!("MIA@{a} (gold {})", pct(m.gold.mia[a].rate)));
    }
    let mut t = Table::new(header);
    for (name, r) in rows(m) {
        let mut cells = vec![name.to_string()];
        if subsets.is_some() {
            cells.push(pct_opt(r.acc.forget_easy));
            cells.push(pct_opt(r.acc.forget_hard));
        }
        cells.extend(alphas.iter().map(|a| pct(r.mia[a].rate)));
        t.row(cells);
    }
    Some(t)
}

fn notes(m: &EvalMetrics) -> Vec<String> {
    let mut notes = Vec::new();
    let names = |v: &[String]| v.join(", ");
    if let Some(first) = m.best.delta.first() {
        notes.push(format!("Lowest Delta: {} ({:.1} pp).", names(&m.best.delta), m.models[first].delta));
    }
    if let Some(first) = m.best.activation_distance.first() {
        notes.push(format!(
            "Lowest activation distance: {} ({:.4}).",
            names(&m.best.activation_distance),
            m.models[first].activation_distance
        ));
    }
    if let Some(o) = &m.original {
        notes.push(format!(
            "Doing nothing (original): Delta {:.1} pp, activation distance {:.4}.",
            o.delta, o.activation_distance
        ));
    }
    let untimed: Vec<&str> = rows(m).into_iter().filter(|(_, r)| r.wall_seconds.is_none()).map(|(n, _)| n).collect();
    if !untimed.is_empty() {
        notes.push(format!("No `tmu.wall_seconds` in the model file of: {}.", untimed.join(", ")));
    }
    notes
}

/// The whole report.
pub fn render(m: &EvalMetrics) -> String {
    let f = &m.forget;
    let classes: Vec<String> = f.classes.iter().zip(&f.class_names).map(|(i, n)| format!("`{n}` ({i})")).collect();
    let mut out = String::from("# Unlearning evaluation\n\n");
    out.push_str(&format!(
        "D_f: {} samples of class {}; retain {}, test {}; membership inference calibrated on {} non-members \
         (population `{}`, {} in all).\n\n",
        f.n,
        classes.join(", "),
        m.sets.retain,
        m.sets.test,
        m.sets.mia_population,
        m.mia.population,
        m.sets.population
    ));
    out.push_str(&main_table(m).render());
    out.push_str(
        "\nAccuracies, MIA success and agreement in %. Delta = |Acc(M, D_f) - Acc(gold, D_f)| in percentage \
         points. act. dist. = mean over D_f of ||softmax(M(x)) - softmax(gold(x))||_2. MIA@a = share of D_f \
         flagged as members by a loss threshold at the a-quantile of the model's losses on non-members (gold's \
         rate in the header): a population attack, one threshold for every sample, which overstates privacy next \
         to per-example attacks (U-LiRA, RMIA: report.membership). agreement = share of D_f where the model is right exactly where gold is.\n\n",
    );
    for n in notes(m) {
        out.push_str(&format!("- {n}\n"));
    }
    if let Some(t) = second_table(m) {
        out.push_str("\n## D_f subsets and further MIA levels\n\n");
        out.push_str(&t.render());
    }
    out.push_str("\n## Cost against gold's retrain\n\n");
    out.push_str(&cost_table(m).render());
    out.push_str(
        "\nTime = wall seconds of compute; work = samples x passes through forward and backward. forget stage = \
         the stage that made the model, alone; set-up = what the method does once per original model and reuses \
         for every later deletion request; per request = the forget stage plus what every request needs besides; \
         whole = set-up + per request, everything the method needs beyond the original model (which stages are \
         which: the config's `method_costs`). Ratios are against gold's retrain (the gold row); `-` where a cost \
         was not recorded.\n",
    );
    out
}
