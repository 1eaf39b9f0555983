//! The markdown report: mean +- std per method, Delta by each axis, and the predictor's
//! diagnostics; the number formats the paired comparisons (`paired`) share.

use std::fmt::Write;

use crate::inputs::PointResults;
use crate::long::{Row, series};
use tmu_stats::{mean, sample_std};

/// A metric's value as the tables show it: fractions (accuracies, agreement, MIA rates) in
/// percent, Delta in percentage points, the rest with four significant digits.
fn is_fraction(metric: &str) -> bool {
    metric.starts_with("acc.")
        || metric == "agreement"
        || (metric.starts_with("mia.") && !metric.ends_with("threshold"))
}

/// A value as the tables show it (see [`is_fraction`]).
pub fn number(metric: &str, v: f64) -> String {
    if is_fraction(metric) {
        format!("{:.1}", 100.0 * v)
    } else if metric == "delta" {
        format!("{v:.2}")
    } else if v != 0.0 && (v.abs() >= 1e4 || v.abs() < 1e-3) {
        format!("{v:.3e}")
    } else {
        format!("{v:.4}")
    }
}

/// `mean ± std` of the values (`mean` alone for one, `-` for none).
pub fn mean_std(metric: &str, values: &[f64]) -> String {
    match (mean(values), sample_std(values)) {
        (Some(m), Some(s)) => format!("{} ± {}", number(metric, m), number(metric, s)),
        (Some(m), None) => number(metric, m),
        _ => "-".to_string(),
    }
}

/// A column title: the metric and its unit.
pub fn title(metric: &str) -> String {
    match metric {
        "delta" => "Δ (pp)".to_string(),
        "activation_distance" => "activation distance".to_string(),
        m if is_fraction(m) => format!("{m} (%)"),
        m => m.to_string(),
    }
}

/// A markdown table.
pub fn table(out: &mut String, header: &[String], rows: &[Vec<String>]) {
    let _ = writeln!(out, "| {} |", header.join(" | "));
    let _ = writeln!(out, "|{}", header.iter().map(|_| "---|").collect::<String>());
    for r in rows {
        let _ = writeln!(out, "| {} |", r.join(" | "));
    }
    out.push('\n');
}

/// Mean ± std over the points of each method (rows) and metric (columns), with the number of
/// points that measured the first metric.
pub fn summary(out: &mut String, rows: &[Row], methods: &[String], metrics: &[String]) {
    let mut header = vec!["method".to_string(), "points".to_string()];
    header.extend(metrics.iter().map(|m| title(m)));
    let body: Vec<Vec<String>> = methods
        .iter()
        .map(|method| {
            let n = metrics.first().map_or(0, |m| series(rows, method, m).len());
            let mut r = vec![format!("`{method}`"), n.to_string()];
            for m in metrics {
                let v: Vec<f64> = series(rows, method, m).into_iter().map(|(_, v)| v).collect();
                r.push(mean_std(m, &v));
            }
            r
        })
        .collect();
    table(out, &header, &body);
}

/// Mean ± std of one metric per method (rows) and value of `axis` (columns); `false` when the
/// axis has fewer than two values.
pub fn by_axis(
    out: &mut String,
    points: &[PointResults],
    rows: &[Row],
    methods: &[String],
    metric: &str,
    axis: &str,
) -> bool {
    let mut values: Vec<&str> = Vec::new();
    for p in points {
        if let Some((_, v)) = p.axes.iter().find(|(a, _)| a == axis)
            && !values.contains(&v.as_str())
        {
            values.push(v);
        }
    }
    if values.len() < 2 {
        return false;
    }
    let _ = writeln!(out, "### {} by `{axis}`\n", title(metric));
    let _ = writeln!(out, "Mean ± std over the points at each value of `{axis}`, one row per method.\n");
    let mut header = vec!["method".to_string()];
    header.extend(values.iter().map(|v| format!("{axis} = {v}")));
    let body: Vec<Vec<String>> = methods
        .iter()
        .map(|method| {
            let all = series(rows, method, metric);
            let mut r = vec![format!("`{method}`")];
            for value in &values {
                let v: Vec<f64> = all
                    .iter()
                    .filter(|(p, _)| points[*p].axes.iter().any(|(a, x)| a == axis && x == value))
                    .map(|(_, v)| *v)
                    .collect();
                r.push(mean_std(metric, &v));
            }
            r
        })
        .collect();
    table(out, &header, &body);
    true
}

/// A p-value: four decimals, or scientific below 1e-4; `-` when there is none.
pub fn p_value(p: Option<f64>) -> String {
    match p {
        Some(p) if p < 1e-4 => format!("{p:.1e}"),
        Some(p) => format!("{p:.4}"),
        None => "-".to_string(),
    }
}

/// A value with its sign (`+` for positive ones).
pub fn signed(metric: &str, v: f64) -> String {
    let s = number(metric, v);
    if v > 0.0 { format!("+{s}") } else { s }
}

/// The predictor's diagnostics against the true labels, mean ± std over the points.
pub fn predictor(out: &mut String, rows: &[Row]) {
    let metrics: Vec<String> = {
        let mut m: Vec<String> = Vec::new();
        for r in rows.iter().filter(|r| r.method == "predictor") {
            if !m.contains(&r.metric) {
                m.push(r.metric.clone());
            }
        }
        m
    };
    let wanted = |m: &str| {
        matches!(
            m,
            "truth.auc"
                | "truth.accuracy"
                | "truth.all_easy_accuracy"
                | "truth.hard_precision"
                | "truth.hard_recall"
                | "truth.hard_rate"
                | "predicted.hard_rate"
        ) || m.starts_with("truth.feature_auc.")
    };
    let body: Vec<Vec<String>> = metrics
        .iter()
        .filter(|m| wanted(m))
        .map(|m| {
            let v: Vec<f64> = series(rows, "predictor", m).into_iter().map(|(_, v)| v).collect();
            vec![format!("`{m}`"), v.len().to_string(), mean_std("", &v)]
        })
        .collect();
    if body.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "## The generalization-label predictor\n\nAgainst the true labels (the gold model's correctness on D_f). \
         `truth.auc` ranks p(easy) for easy samples; `truth.feature_auc.*` rank each raw feature for hard \
         samples (0.5 is chance).\n"
    );
    table(out, &["metric", "points", "mean ± std"].map(String::from), &body);
}
