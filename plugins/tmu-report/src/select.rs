//! Tuning against gold on points the report does not show: the sweep gives every method a few
//! candidate settings under one axis (a `[sweep]` axis whose `bind` table sets each method's
//! fields to its own value per axis value); the points whose `tune_axis` value is one of
//! `tune_values` (other seeds, say) choose, per method, the setting with the lowest mean `metric`
//! (Delta to gold; ties broken by the lower mean `tie_break`, then by axis order); every other
//! point is reported, each method at its chosen setting, the setting axis folded away. So a
//! method's reported numbers never come from the points that chose its setting.

use std::fmt::Write as _;

use anyhow::{bail, ensure};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::inputs::PointResults;
use crate::long::{methods, rows, series};

/// How `report.sweep` picks each method's setting (see the module docs).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Selection {
    /// The axis whose values are the candidate settings.
    #[serde(default = "default_axis")]
    pub axis: String,
    /// The axis that tells tuning points from reported ones.
    #[serde(default = "default_tune_axis")]
    pub tune_axis: String,
    /// The values of `tune_axis` of the tuning points (as the point labels write them, or as
    /// numbers): they choose the settings and are left out of every table.
    pub tune_values: Vec<Value>,
    /// The metric whose mean over the tuning points is minimised.
    #[serde(default = "default_metric")]
    pub metric: String,
    /// The metric that breaks ties (lower mean wins), then the setting axis's order.
    #[serde(default = "default_tie_break")]
    pub tie_break: String,
}

fn default_axis() -> String {
    "setting".into()
}
fn default_tune_axis() -> String {
    "seed".into()
}
fn default_metric() -> String {
    "delta".into()
}
fn default_tie_break() -> String {
    "activation_distance".into()
}

/// One method's candidate setting, scored.
#[derive(Clone, Debug, PartialEq)]
pub struct Candidate {
    pub setting: String,
    /// Mean `metric` and `tie_break` over the tuning points, and how many points measured it.
    pub tune_metric: Option<f64>,
    pub tune_tie: Option<f64>,
    pub tune_points: usize,
    /// Mean `metric` over the reported points (shown, never used to choose).
    pub report_metric: Option<f64>,
    /// The method's config at this setting, when the metrics carry it.
    pub config: Option<Value>,
}

/// One method's choice.
#[derive(Clone, Debug, PartialEq)]
pub struct Choice {
    pub method: String,
    pub chosen: String,
    pub candidates: Vec<Candidate>,
}

/// A label value as the point labels write it (`100`, `0.1`, `small-cnn`).
fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn axis_value<'p>(p: &'p PointResults, axis: &str) -> Option<&'p str> {
    p.axes.iter().find(|(a, _)| a == axis).map(|(_, v)| v.as_str())
}

/// The label without the `axis=...` part (labels escape `,` and `=` inside values, so the parts
/// split cleanly).
fn label_without(label: &str, axis: &str) -> String {
    let prefix = format!("{axis}=");
    label.split(',').filter(|part| !part.starts_with(&prefix)).collect::<Vec<_>>().join(",")
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

/// What [`select`] decided.
#[derive(Clone, Debug, PartialEq)]
pub struct Selected {
    pub choices: Vec<Choice>,
    /// How many points tuned (and are left out of the report).
    pub tune_points: usize,
}

/// Chooses each method's setting on the tuning points and returns the reported points (each
/// method's record taken from the point of its chosen setting, the setting axis removed) with
/// the choices. Methods are the models of `eval.unlearning`; `original` and `gold` do not depend
/// on the setting and are taken from the first setting's point.
pub fn select(points: &[PointResults], sel: &Selection) -> anyhow::Result<(Vec<PointResults>, Selected)> {
    let tune_values: Vec<String> = sel.tune_values.iter().map(value_text).collect();
    ensure!(!tune_values.is_empty(), "`select.tune_values` names no tuning point");
    for p in points {
        if axis_value(p, &sel.axis).is_none() || axis_value(p, &sel.tune_axis).is_none() {
            bail!(
                "point `{}` has no axis `{}` or `{}`: `select` needs the settings axis and the tuning axis on every point",
                p.label,
                sel.axis,
                sel.tune_axis
            );
        }
    }
    let is_tune = |p: &PointResults| axis_value(p, &sel.tune_axis).is_some_and(|v| tune_values.iter().any(|t| t == v));
    let tune: Vec<PointResults> = points.iter().filter(|p| is_tune(p)).cloned().collect();
    let reported: Vec<&PointResults> = points.iter().filter(|p| !is_tune(p)).collect();
    ensure!(
        !tune.is_empty(),
        "no point has `{}` in {:?}: nothing to choose the settings on",
        sel.tune_axis,
        tune_values
    );
    ensure!(!reported.is_empty(), "every point is a tuning point: nothing left to report");

    let mut settings: Vec<String> = Vec::new();
    for p in points {
        let s = axis_value(p, &sel.axis).unwrap_or_default().to_string();
        if !settings.contains(&s) {
            settings.push(s);
        }
    }
    let report_owned: Vec<PointResults> = reported.iter().map(|p| (*p).clone()).collect();
    let (tune_rows, report_rows) = (rows(&tune), rows(&report_owned));
    let model_names: Vec<String> = methods(&tune_rows).into_iter().filter(|m| m != "original" && m != "gold").collect();
    let mut choices = Vec::new();
    for method in &model_names {
        let score = |rows: &[crate::long::Row], pts: &[PointResults], metric: &str, setting: &str| {
            let v: Vec<f64> = series(rows, method, metric)
                .into_iter()
                .filter(|(p, _)| axis_value(&pts[*p], &sel.axis) == Some(setting))
                .map(|(_, v)| v)
                .collect();
            (mean(&v), v.len())
        };
        let candidates: Vec<Candidate> = settings
            .iter()
            .map(|s| {
                let (tune_metric, tune_points) = score(&tune_rows, &tune, &sel.metric, s);
                let config = tune
                    .iter()
                    .filter(|p| axis_value(p, &sel.axis) == Some(s.as_str()))
                    .find_map(|p| p.eval.as_ref()?.get("models")?.get(method)?.get("config").cloned());
                Candidate {
                    setting: s.clone(),
                    tune_metric,
                    tune_tie: score(&tune_rows, &tune, &sel.tie_break, s).0,
                    tune_points,
                    report_metric: score(&report_rows, &report_owned, &sel.metric, s).0,
                    config,
                }
            })
            .collect();
        let key = |c: &Candidate| (c.tune_metric.unwrap_or(f64::INFINITY), c.tune_tie.unwrap_or(f64::INFINITY));
        let Some(best) =
            candidates.iter().min_by(|a, b| key(a).partial_cmp(&key(b)).unwrap_or(std::cmp::Ordering::Equal))
        else {
            continue;
        };
        ensure!(best.tune_metric.is_some(), "method `{method}` has no `{}` on any tuning point", sel.metric);
        choices.push(Choice { method: method.clone(), chosen: best.setting.clone(), candidates });
    }

    // The reported points: one per label without the setting axis, each method's record from
    // the point at its chosen setting.
    let mut out: Vec<PointResults> = Vec::new();
    for p in &reported {
        let label = label_without(&p.label, &sel.axis);
        if out.iter().any(|q| q.label == label) {
            continue;
        }
        let group: Vec<&&PointResults> =
            reported.iter().filter(|q| label_without(&q.label, &sel.axis) == label).collect();
        let mut base = (*group[0]).clone();
        base.label = label;
        base.axes.retain(|(a, _)| *a != sel.axis);
        if let Some(models) = base.eval.as_mut().and_then(|e| e.get_mut("models")).and_then(Value::as_object_mut) {
            models.clear();
            for c in &choices {
                let record = group
                    .iter()
                    .find(|q| axis_value(q, &sel.axis) == Some(c.chosen.as_str()))
                    .and_then(|q| q.eval.as_ref()?.get("models")?.get(&c.method).cloned());
                if let Some(r) = record {
                    models.insert(c.method.clone(), r);
                }
            }
        }
        out.push(base);
    }
    Ok((out, Selected { choices, tune_points: tune.len() }))
}

/// The fields of `configs` (JSON objects, by setting) whose values differ between settings:
/// what the setting axis tuned.
fn tuned_fields(configs: &[&Value]) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    for c in configs {
        for (k, _) in c.as_object().into_iter().flatten() {
            if !fields.contains(k) && configs.iter().any(|o| o.get(k) != c.get(k)) {
                fields.push(k.clone());
            }
        }
    }
    fields
}

/// The markdown section that says which setting each method used and that it was chosen against
/// gold on the tuning points, with every candidate's score.
pub fn section(md: &mut String, sel: &Selection, selected: &Selected) {
    let (choices, tune_points) = (&selected.choices, selected.tune_points);
    let values: Vec<String> = sel.tune_values.iter().map(value_text).collect();
    let _ = writeln!(md, "## Settings, selected against gold on tuning points\n");
    let _ = writeln!(
        md,
        "Every method ran each value of axis `{}`. Its setting was chosen on the {tune_points} tuning points \
         (`{}` = {}), which no table of this report includes: the lowest mean `{}` to gold there, ties broken by \
         the lower mean `{}`. Every other table of this report comes from the other points, each method at its \
         chosen setting. Each candidate's mean `{}` on the reported points is shown for comparison only.\n",
        sel.axis,
        sel.tune_axis,
        values.join(", "),
        sel.metric,
        sel.tie_break,
        sel.metric
    );
    let _ = writeln!(
        md,
        "| method | chosen | tuned fields at the chosen setting | candidates: mean `{}` on tuning points / on reported points |",
        sel.metric
    );
    let _ = writeln!(md, "|---|---|---|---|");
    for c in choices {
        let configs: Vec<&Value> = c.candidates.iter().filter_map(|k| k.config.as_ref()).collect();
        let fields = tuned_fields(&configs);
        let chosen_config = c.candidates.iter().find(|k| k.setting == c.chosen).and_then(|k| k.config.as_ref());
        let tuned = match chosen_config {
            Some(cfg) if !fields.is_empty() => fields
                .iter()
                .map(|f| format!("{f} = {}", cfg.get(f).unwrap_or(&Value::Null)))
                .collect::<Vec<_>>()
                .join(", "),
            Some(_) => "(one setting for every value)".to_string(),
            None => "-".to_string(),
        };
        let num = |v: Option<f64>| v.map_or_else(|| "-".to_string(), |v| format!("{v:.2}"));
        let scores: Vec<String> = c
            .candidates
            .iter()
            .map(|k| {
                let mark = if k.setting == c.chosen { "**" } else { "" };
                format!("{mark}{}: {} / {}{mark}", k.setting, num(k.tune_metric), num(k.report_metric))
            })
            .collect();
        let _ = writeln!(md, "| `{}` | `{}` | {tuned} | {} |", c.method, c.chosen, scores.join("; "));
    }
    md.push('\n');
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn point(seed: u32, class: u32, setting: &str, deltas: &[(&str, f64)]) -> PointResults {
        let label = format!("seed={seed},forget_class={class},setting={setting}");
        let models: serde_json::Map<String, Value> = deltas
            .iter()
            .map(|(m, d)| {
                let config = json!({ "lr": if setting == "a" { 0.01 } else { 0.1 }, "epochs": 10 });
                ((*m).to_string(), json!({ "delta": d, "activation_distance": 0.1, "config": config }))
            })
            .collect();
        PointResults {
            axes: crate::labels::parse_label(&label),
            label,
            eval: Some(json!({ "models": models, "gold": { "delta": 0.0 } })),
            predictor: None,
            twin: None,
            forget: None,
        }
    }

    fn selection() -> Selection {
        Selection {
            axis: "setting".into(),
            tune_axis: "seed".into(),
            tune_values: vec![json!(9)],
            metric: "delta".into(),
            tie_break: "activation_distance".into(),
        }
    }

    #[test]
    fn each_method_takes_its_best_tuning_setting_and_reports_only_the_other_points() {
        // On the tuning seed 9, `x` is better at setting b and `y` at a; on the reported seed 0
        // the opposite holds, which must not matter.
        let points = vec![
            point(9, 1, "a", &[("x", 10.0), ("y", 1.0)]),
            point(9, 1, "b", &[("x", 2.0), ("y", 5.0)]),
            point(0, 1, "a", &[("x", 0.0), ("y", 9.0)]),
            point(0, 1, "b", &[("x", 8.0), ("y", 3.0)]),
            point(0, 2, "a", &[("x", 1.0), ("y", 7.0)]),
            point(0, 2, "b", &[("x", 6.0), ("y", 4.0)]),
        ];
        let (reported, selected) = select(&points, &selection()).unwrap();
        assert_eq!(selected.tune_points, 2);
        let choices = &selected.choices;
        let chosen: Vec<(&str, &str)> = choices.iter().map(|c| (c.method.as_str(), c.chosen.as_str())).collect();
        assert_eq!(chosen, [("x", "b"), ("y", "a")]);
        let labels: Vec<&str> = reported.iter().map(|p| p.label.as_str()).collect();
        assert_eq!(labels, ["seed=0,forget_class=1", "seed=0,forget_class=2"]);
        let delta = |p: &PointResults, m: &str| p.eval.as_ref().unwrap()["models"][m]["delta"].as_f64().unwrap();
        assert_eq!((delta(&reported[0], "x"), delta(&reported[0], "y")), (8.0, 9.0));
        assert_eq!((delta(&reported[1], "x"), delta(&reported[1], "y")), (6.0, 7.0));
        assert!(reported.iter().all(|p| p.axes.iter().all(|(a, _)| a != "setting")));
        // The candidates' scores: tuning means, and reported means for comparison.
        let x = &choices[0].candidates;
        assert_eq!((x[0].tune_metric, x[0].report_metric), (Some(10.0), Some(0.5)));
        assert_eq!(tuned_fields(&x.iter().filter_map(|c| c.config.as_ref()).collect::<Vec<_>>()), ["lr"]);
        let mut md = String::new();
        section(&mut md, &selection(), &selected);
        assert!(md.contains("| `x` | `b` | lr = 0.1 | a: 10.00 / 0.50; **b: 2.00 / 7.00** |"), "{md}");
    }

    #[test]
    fn ties_go_to_the_lower_tie_break_then_to_the_first_setting() {
        let mut points = vec![
            point(9, 1, "a", &[("x", 2.0)]),
            point(9, 1, "b", &[("x", 2.0)]),
            point(0, 1, "a", &[("x", 1.0)]),
            point(0, 1, "b", &[("x", 1.0)]),
        ];
        let (_, s) = select(&points, &selection()).unwrap();
        assert_eq!(s.choices[0].chosen, "a");
        points[1].eval.as_mut().unwrap()["models"]["x"]["activation_distance"] = json!(0.05);
        let (_, s) = select(&points, &selection()).unwrap();
        assert_eq!(s.choices[0].chosen, "b");
    }

    #[test]
    fn missing_axes_or_tuning_points_are_named() {
        let points = vec![point(0, 1, "a", &[("x", 1.0)])];
        let e = select(&points, &selection()).unwrap_err().to_string();
        assert!(e.contains("no point has `seed` in [\"9\"]"), "{e}");
        let mut s = selection();
        s.axis = "lr".into();
        let e = select(&points, &s).unwrap_err().to_string();
        assert!(e.contains("has no axis `lr` or `seed`"), "{e}");
        assert_eq!(label_without("seed=0,setting=a,fraction=0.1", "setting"), "seed=0,fraction=0.1");
    }
}
