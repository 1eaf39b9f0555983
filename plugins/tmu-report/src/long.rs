//! The long format: one row per point x method x metric, from `eval.unlearning`'s and
//! `predictor.apply`'s metrics, and its CSV.
//!
//! Methods: each model of `eval.unlearning`'s `models` map by its name, then `original` and
//! `gold`; `predictor` for `predictor.apply`'s numbers; `point` for facts of the point itself
//! (`forget.n`, `forget.predicted_hard`). Metrics are the dotted paths of the numeric leaves of
//! each record (`delta`, `acc.test`, `mia.0.1.rate`, `truth.auc`, `truth.feature_auc.df`);
//! `null` (not measurable) is an empty value. The predictor's `preprocessing` is left out.

use std::io::Write;
use std::path::Path;

use anyhow::Context as _;
use serde_json::Value;

use crate::inputs::PointResults;

/// One value.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Index into the points.
    pub point: usize,
    pub method: String,
    pub metric: String,
    pub value: Option<f64>,
}

/// Every numeric (or null) leaf of `v` under `prefix`, depth first, keys in order.
fn flatten(v: &Value, prefix: &str, skip: &[&str], out: &mut Vec<(String, Option<f64>)>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                if skip.contains(&k.as_str()) {
                    continue;
                }
                let path = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten(child, &path, skip, out);
            }
        }
        Value::Number(n) => out.push((prefix.to_string(), n.as_f64())),
        Value::Null if !prefix.is_empty() => out.push((prefix.to_string(), None)),
        _ => {}
    }
}

/// The rows of every point, in point order, then method, then metric order.
pub fn rows(points: &[PointResults]) -> Vec<Row> {
    let mut out = Vec::new();
    for (p, point) in points.iter().enumerate() {
        let mut push = |method: &str, leaves: Vec<(String, Option<f64>)>| {
            out.extend(leaves.into_iter().map(|(metric, value)| Row {
                point: p,
                method: method.to_string(),
                metric,
                value,
            }));
        };
        if let Some(eval) = &point.eval {
            let mut records: Vec<(String, &Value)> = Vec::new();
            if let Some(models) = eval.get("models").and_then(Value::as_object) {
                records.extend(models.iter().map(|(k, v)| (k.clone(), v)));
            }
            for fixed in ["original", "gold"] {
                if let Some(v) = eval.get(fixed).filter(|v| v.is_object()) {
                    records.push((fixed.to_string(), v));
                }
            }
            for (method, record) in records {
                let mut leaves = Vec::new();
                // A record's `config` (the method's settings) is not a measurement.
                flatten(record, "", &["config"], &mut leaves);
                push(&method, leaves);
            }
            let mut facts = Vec::new();
            if let Some(forget) = eval.get("forget") {
                for key in ["n", "predicted_easy", "predicted_hard"] {
                    if let Some(v) = forget.get(key) {
                        flatten(v, &format!("forget.{key}"), &[], &mut facts);
                    }
                }
            }
            push("point", facts);
        }
        if let Some(pred) = &point.predictor {
            let mut leaves = Vec::new();
            flatten(pred, "", &["preprocessing", "confusion"], &mut leaves);
            push("predictor", leaves);
        }
    }
    out
}

/// The axes of the points, in the order first met.
pub fn axis_names(points: &[PointResults]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for p in points {
        for (a, _) in &p.axes {
            if !names.contains(a) {
                names.push(a.clone());
            }
        }
    }
    names
}

/// Writes the rows as CSV: `point`, one column per axis, `method`, `metric`, `value`.
pub fn write_csv(path: &Path, points: &[PointResults], rows: &[Row]) -> anyhow::Result<()> {
    let axes = axis_names(points);
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut w = csv::Writer::from_writer(std::io::BufWriter::new(file));
    let mut header = vec!["point".to_string()];
    header.extend(axes.iter().cloned());
    header.extend(["method", "metric", "value"].map(String::from));
    w.write_record(&header)?;
    for r in rows {
        let point = &points[r.point];
        let mut record = vec![point.label.clone()];
        for a in &axes {
            record.push(point.axes.iter().find(|(x, _)| x == a).map_or(String::new(), |(_, v)| v.clone()));
        }
        record.push(r.method.clone());
        record.push(r.metric.clone());
        record.push(r.value.map_or(String::new(), |v| v.to_string()));
        w.write_record(&record)?;
    }
    w.into_inner().map_err(|e| anyhow::anyhow!("{e}"))?.flush().with_context(|| format!("writing {}", path.display()))
}

/// The methods in the order first met (`point` and `predictor` left out).
pub fn methods(rows: &[Row]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in rows {
        if r.method != "point" && r.method != "predictor" && !out.contains(&r.method) {
            out.push(r.method.clone());
        }
    }
    out
}

/// `(point, value)` of one method's metric, measured values only.
pub fn series(rows: &[Row], method: &str, metric: &str) -> Vec<(usize, f64)> {
    rows.iter()
        .filter(|r| r.method == method && r.metric == metric)
        .filter_map(|r| r.value.map(|v| (r.point, v)))
        .collect()
}
