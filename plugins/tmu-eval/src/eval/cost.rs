//! Each method's cost against gold's retrain. The forget stage alone comes from the unlearned
//! model's metadata; what else a method needs beyond the original model comes from input
//! `costs` (metrics files with a `cost` object, by name), grouped per method by the config's
//! `method_costs` into one-time set-up (reusable for every later deletion request against the
//! same original model: for TMU the twin model and the early model, and whatever of its features
//! and predictor does not depend on the request) and per-request work (for TMU at least D_f's
//! features and the prediction). Times are wall seconds; work is samples x passes through
//! forward and backward (`tmu_nn::Cost`).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context as _, bail};
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_nn::Cost;
use tmu_plugin::Inputs;
use tmu_plugin::artifact::read_metrics;

/// The stages (keys of input `costs`) a method needs besides its forget stage.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct MethodCosts {
    /// Done once per original model and reused by every later deletion request.
    pub setup: Vec<String>,
    /// Done again for every deletion request, besides the forget stage.
    pub request: Vec<String>,
}

/// A cost and its ratios to gold's retrain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CostPart {
    pub wall_seconds: f64,
    /// Samples x passes through forward and backward.
    pub train_samples: u64,
    /// Samples x passes through forward only.
    pub forward_samples: u64,
    /// `wall_seconds / gold's`.
    pub wall_ratio: Option<f64>,
    /// `train_samples / gold's`.
    pub work_ratio: Option<f64>,
}

/// A method's cost, by part.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CostRecord {
    /// The stage that made the model (from its file's metadata); `null` when the file has none.
    pub forget: Option<CostPart>,
    /// One-time set-up; `null` when the method lists none.
    pub setup: Option<CostPart>,
    /// Every deletion request: the listed per-request stages plus the forget stage.
    pub per_request: Option<CostPart>,
    /// Set-up plus per request: everything the method needs beyond the original model.
    pub whole: Option<CostPart>,
}

/// Input `costs`: each entry's `cost`, by name.
pub fn read_costs(inputs: &Inputs) -> anyhow::Result<IndexMap<String, Cost>> {
    if !inputs.contains("costs") {
        return Ok(IndexMap::new());
    }
    let mut out = IndexMap::new();
    for (name, artifact) in inputs.map("costs")? {
        let m = read_metrics(&artifact.path)
            .with_context(|| format!("reading `costs` entry `{name}` ({})", artifact.path.display()))?;
        let Some(c) = Cost::from_metrics(&m) else {
            bail!(
                "`costs` entry `{name}` ({}) has no `cost` object: connect the `metrics` output of a stage that \
                 records its cost",
                artifact.path.display()
            );
        };
        out.insert(name.to_string(), c);
    }
    Ok(out)
}

/// Checks that every method `method_costs` names is a model and every stage it lists is in
/// `costs`.
pub fn check_method_costs(
    method_costs: &BTreeMap<String, MethodCosts>,
    models: &[String],
    costs: &IndexMap<String, Cost>,
) -> anyhow::Result<()> {
    for (method, parts) in method_costs {
        if !models.contains(method) {
            bail!("`method_costs` names `{method}`, which is not a key of input `models` ({})", models.join(", "));
        }
        for (what, names) in [("setup", &parts.setup), ("request", &parts.request)] {
            if let Some(missing) = names.iter().find(|n| !costs.contains_key(*n)) {
                bail!(
                    "`method_costs.{method}.{what}` lists `{missing}`, which is not a key of input `costs` ({})",
                    costs.keys().cloned().collect::<Vec<_>>().join(", ")
                );
            }
        }
    }
    Ok(())
}

/// The cost in a model file's metadata, if it records one.
pub fn model_cost(path: &Path) -> Option<Cost> {
    let (_, meta) = tmu_plugin::artifact::read_header(path).ok()?;
    Cost::from_metadata(&meta)
}

fn part(c: Cost, gold: Option<Cost>) -> CostPart {
    let ratio = |a: f64, b: f64| (b > 0.0).then(|| a / b);
    CostPart {
        wall_seconds: c.wall_seconds,
        train_samples: c.train_samples,
        forward_samples: c.forward_samples,
        wall_ratio: gold.and_then(|g| ratio(c.wall_seconds, g.wall_seconds)),
        work_ratio: gold.and_then(|g| ratio(c.train_samples as f64, g.train_samples as f64)),
    }
}

fn sum(names: &[String], costs: &IndexMap<String, Cost>) -> Cost {
    names.iter().filter_map(|n| costs.get(n)).fold(Cost::default(), |a, &b| a.plus(b))
}

/// A method's cost record: its forget stage's `forget`, plus its `needs` (none for a method that
/// needs nothing but its forget stage).
pub fn cost_record(
    forget: Option<Cost>,
    needs: Option<&MethodCosts>,
    costs: &IndexMap<String, Cost>,
    gold: Option<Cost>,
) -> CostRecord {
    let setup = needs.filter(|n| !n.setup.is_empty()).map(|n| sum(&n.setup, costs));
    let request = needs.map_or(Cost::default(), |n| sum(&n.request, costs));
    let per_request = forget.map(|f| f.plus(request));
    CostRecord {
        forget: forget.map(|c| part(c, gold)),
        setup: setup.map(|c| part(c, gold)),
        per_request: per_request.map(|c| part(c, gold)),
        whole: per_request.map(|r| part(r.plus(setup.unwrap_or_default()), gold)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_add_up_and_ratios_are_against_gold() {
        let c = |w: f64, t: u64, f: u64| Cost { wall_seconds: w, train_samples: t, forward_samples: f };
        let costs: IndexMap<String, Cost> =
            [("twin", c(2.0, 100, 10)), ("early", c(1.0, 50, 0)), ("df", c(0.5, 0, 40))]
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect();
        let needs = MethodCosts { setup: vec!["twin".into(), "early".into()], request: vec!["df".into()] };
        let gold = Some(c(10.0, 1000, 0));
        let r = cost_record(Some(c(1.5, 200, 0)), Some(&needs), &costs, gold);
        let f = r.forget.as_ref().unwrap();
        assert_eq!((f.wall_ratio, f.work_ratio), (Some(0.15), Some(0.2)));
        let s = r.setup.as_ref().unwrap();
        assert_eq!((s.wall_seconds, s.train_samples, s.forward_samples), (3.0, 150, 10));
        let p = r.per_request.as_ref().unwrap();
        assert_eq!((p.wall_seconds, p.train_samples, p.forward_samples), (2.0, 200, 40));
        let w = r.whole.as_ref().unwrap();
        assert_eq!((w.wall_seconds, w.train_samples, w.wall_ratio, w.work_ratio), (5.0, 350, Some(0.5), Some(0.35)));
        // A method that needs nothing else: per request and whole are its forget stage.
        let plain = cost_record(Some(c(1.0, 10, 0)), None, &costs, gold);
        assert_eq!((plain.setup, plain.per_request.clone()), (None, plain.forget.clone()));
        assert_eq!(plain.whole, plain.forget);
        // Without gold's cost there are no ratios; without the model's, no record.
        assert_eq!(cost_record(Some(c(1.0, 10, 0)), None, &costs, None).forget.unwrap().wall_ratio, None);
        assert_eq!(cost_record(None, Some(&needs), &costs, gold).whole, None);
    }

    #[test]
    fn unknown_methods_and_stages_are_named() {
        let costs: IndexMap<String, Cost> = [("twin".to_string(), Cost::default())].into_iter().collect();
        let mut mc = BTreeMap::new();
        mc.insert("tmu".to_string(), MethodCosts { setup: vec!["twin".into(), "early".into()], request: vec![] });
        let e = check_method_costs(&mc, &["tmu".into()], &costs).unwrap_err().to_string();
        assert!(e.contains("`method_costs.tmu.setup` lists `early`"), "{e}");
        let e = check_method_costs(&mc, &["finetune".into()], &costs).unwrap_err().to_string();
        assert!(e.contains("names `tmu`, which is not a key of input `models` (finetune)"), "{e}");
    }
}
