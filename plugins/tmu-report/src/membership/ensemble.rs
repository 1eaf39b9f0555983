//! Reading every shadow's `membership.signals` file into one ensemble: per model, matrices over
//! (shadow, candidate) and per-shadow measures, all shadows checked to attack the same
//! candidates with the same models.

use anyhow::Context as _;
use indexmap::IndexMap;
use serde_json::Value;
use tmu_plugin::Inputs;
use tmu_plugin::artifact::read_metrics;

/// The schema `membership.signals` writes.
const SCHEMA: &str = "tmu.membership.signals/1";

/// One model (method, gold or original) across the shadows.
#[derive(Debug, Default)]
pub struct ModelMatrix {
    /// `[shadow][candidate]`: the logit-scaled confidence of the true class.
    pub conf: Vec<Vec<f64>>,
    /// `[shadow][candidate]`: the probability of the true class.
    pub prob: Vec<Vec<f64>>,
    /// `[shadow][population sample]`: the probability of the true class.
    pub population: Vec<Vec<f64>>,
    /// Per shadow: accuracy on its D_f, D_r and the test set.
    pub acc: Vec<[f64; 3]>,
    /// Per shadow: JS divergence and activation distance to the shadow's gold on its D_f.
    pub js: Vec<f64>,
    pub distance: Vec<f64>,
    /// Per shadow: the loss-threshold (population) attack's rate on its D_f.
    pub mia: Vec<f64>,
}

impl ModelMatrix {
    /// Whether any per-example statistic is not a number (a diverged model).
    pub fn has_nan(&self) -> bool {
        [&self.conf, &self.prob, &self.population].iter().any(|m| m.iter().flatten().any(|v| v.is_nan()))
    }
}

/// Every shadow's signals.
#[derive(Debug)]
pub struct Ensemble {
    /// The shadows' point labels, in input order.
    pub shadows: Vec<String>,
    pub candidates: Vec<u64>,
    /// `[shadow][candidate]`: the shadow saw (then unlearned) the candidate.
    pub member: Vec<Vec<bool>>,
    pub population: usize,
    pub mia_alpha: f64,
    /// By model name, in the first file's order (gold first).
    pub models: IndexMap<String, ModelMatrix>,
}

fn numbers(v: &Value, what: &str) -> anyhow::Result<Vec<f64>> {
    let a = v.as_array().with_context(|| format!("`{what}` is not an array"))?;
    // JSON has no NaN: a diverged model's statistics are written as null.
    Ok(a.iter().map(|x| x.as_f64().unwrap_or(f64::NAN)).collect())
}

fn number(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN)
}

/// A label's sort key: runs of digits compare as numbers (`shadow=2` before `shadow=10`).
fn natural_key(label: &str) -> Vec<(String, u128)> {
    let mut key = Vec::new();
    let mut text = String::new();
    let mut chars = label.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            let mut digits = c.to_string();
            while let Some(d) = chars.next_if(char::is_ascii_digit) {
                digits.push(d);
            }
            key.push((std::mem::take(&mut text), digits.parse().unwrap_or(u128::MAX)));
        } else {
            text.push(c);
        }
    }
    key.push((text, 0));
    key
}

/// Reads input `signals` (a map: shadow label -> metrics file), the shadows in the natural order
/// of their labels whatever the map's order, so the report does not depend on it (RMIA's
/// reference models are the first ones by this order).
pub fn read_ensemble(inputs: &Inputs) -> anyhow::Result<Ensemble> {
    let mut map = inputs.map("signals")?;
    anyhow::ensure!(!map.is_empty(), "input `signals` holds no shadow");
    map.sort_by_cached_key(|(label, _)| natural_key(label));
    let mut e = Ensemble {
        shadows: Vec::new(),
        candidates: Vec::new(),
        member: Vec::new(),
        population: 0,
        mia_alpha: f64::NAN,
        models: IndexMap::new(),
    };
    for (label, artifact) in &map {
        let path = &artifact.path;
        let context = || format!("shadow `{label}` ({})", path.display());
        let m = read_metrics(path).with_context(context)?;
        anyhow::ensure!(m["schema"] == SCHEMA, "{}: not a `{SCHEMA}` file", context());
        let ids: Vec<u64> = m["candidates"]["ids"]
            .as_array()
            .with_context(context)?
            .iter()
            .map(|x| x.as_u64().context("a candidate id"))
            .collect::<anyhow::Result<_>>()?;
        let member: Vec<bool> = m["candidates"]["member"]
            .as_array()
            .with_context(context)?
            .iter()
            .map(|b| b.as_bool() == Some(true))
            .collect();
        anyhow::ensure!(
            member.len() == ids.len(),
            "{}: {} membership flags for {} candidates",
            context(),
            member.len(),
            ids.len()
        );
        let models = m["models"].as_object().with_context(context)?;
        let names: Vec<&String> = models.keys().collect();
        if e.shadows.is_empty() {
            e.candidates = ids;
            e.population = m["sets"]["population"].as_u64().unwrap_or(0) as usize;
            e.mia_alpha = number(&m["mia_alpha"]);
            for n in &names {
                e.models.insert((*n).clone(), ModelMatrix::default());
            }
        } else {
            anyhow::ensure!(
                ids == e.candidates,
                "{}: its candidates differ from shadow `{}`'s: every shadow must attack the base split's D_f",
                context(),
                e.shadows[0]
            );
            let have: Vec<&String> = e.models.keys().collect();
            anyhow::ensure!(
                names == have,
                "{}: models {names:?}, but shadow `{}` has {have:?}",
                context(),
                e.shadows[0]
            );
        }
        for (name, v) in models {
            let mm = e.models.get_mut(name).expect("checked above");
            let conf = numbers(&v["scaled_confidence"], "scaled_confidence")?;
            let prob = numbers(&v["true_prob"], "true_prob")?;
            anyhow::ensure!(
                conf.len() == member.len() && prob.len() == member.len(),
                "{}: model `{name}` has a statistic per candidate missing",
                context()
            );
            mm.conf.push(conf);
            mm.prob.push(prob);
            mm.population.push(numbers(&v["population_true_prob"], "population_true_prob")?);
            let acc = &v["acc"];
            mm.acc.push([number(&acc["forget"]), number(&acc["retain"]), number(&acc["test"])]);
            mm.js.push(number(&v["js_divergence"]));
            mm.distance.push(number(&v["activation_distance"]));
            mm.mia.push(number(&v["mia_rate"]));
        }
        e.member.push(member);
        e.shadows.push(label.to_string());
    }
    Ok(e)
}
