//! The stage `membership.signals`: one shadow of a membership-inference ensemble. Every model of
//! the shadow (each method's unlearned model, the shadow's gold retrain, optionally its original)
//! is run on the fixed candidate set (the whole D_f of the base split) and on the population; per
//! candidate it records the logit-scaled confidence and the probability of the true class, and
//! whether this shadow saw (and then unlearned) the candidate; per model, the accuracies, the JS
//! divergence and activation distance to gold and the loss-threshold rate on the shadow's D_f.
//! `report.membership` gathers these files over the shadows and runs the attacks.

use std::collections::HashSet;
use std::path::Path;

use anyhow::Context as _;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use tmu_nn::candle::Device;
use tmu_nn::{DeviceData, Network, Predictions, predict};
use tmu_plugin::artifact::{Dataset, write_metrics};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use crate::measures::{activation_distance, js_divergence, loss_threshold_attack, scaled_confidence, softmax_f64};

/// The `schema` of the metrics file.
pub const SIGNALS_SCHEMA: &str = "tmu.membership.signals/1";

/// Config of `membership.signals`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(default, deny_unknown_fields)]
pub struct SignalsConfig {
    /// Samples per inference batch.
    #[schemars(range(min = 1, max = 65536))]
    pub batch_size: usize,
    /// The level of the loss-threshold attack recorded per model (ToW-MIA's MIA): its threshold
    /// is this quantile of the model's losses on `population`.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub mia_alpha: f64,
}

impl Default for SignalsConfig {
    fn default() -> Self {
        SignalsConfig { batch_size: 512, mia_alpha: 0.1 }
    }
}

/// The stage `membership.signals`.
#[derive(Debug)]
pub struct MembershipSignals;

#[derive(Serialize)]
struct Accuracies {
    forget: f64,
    retain: f64,
    test: f64,
}

#[derive(Serialize)]
struct ModelSignals {
    scaled_confidence: Vec<f64>,
    true_prob: Vec<f64>,
    population_true_prob: Vec<f64>,
    acc: Accuracies,
    js_divergence: f64,
    activation_distance: f64,
    mia_rate: f64,
}

struct Sets {
    candidates: Dataset,
    forget: Dataset,
    retain: Dataset,
    test: Dataset,
    population: Dataset,
}

fn read(inputs: &Inputs, port: &str) -> anyhow::Result<Dataset> {
    let path = inputs.path(port)?;
    let d = Dataset::read(path).with_context(|| format!("reading input `{port}` ({})", path.display()))?;
    anyhow::ensure!(!d.is_empty(), "input `{port}` ({}) holds no samples", path.display());
    Ok(d)
}

/// Per candidate: whether the shadow saw it. Every candidate must be in the shadow's D_f or
/// outside its members (a candidate kept as a retain sample would be neither class).
fn membership(candidates: &Dataset, forget: &Dataset, members: &Dataset) -> anyhow::Result<Vec<bool>> {
    let f: HashSet<u64> = forget.ids.iter().copied().collect();
    let m: HashSet<u64> = members.ids.iter().copied().collect();
    anyhow::ensure!(
        forget.ids.iter().all(|id| m.contains(id)),
        "input `forget` holds samples that are not in input `members`"
    );
    let c: HashSet<u64> = candidates.ids.iter().copied().collect();
    anyhow::ensure!(
        forget.ids.iter().all(|id| c.contains(id)),
        "input `forget` holds samples that are not candidates: connect the base split's D_f to `candidates`"
    );
    let mut member = Vec::with_capacity(candidates.len());
    for id in &candidates.ids {
        let seen = f.contains(id);
        anyhow::ensure!(
            seen || !m.contains(id),
            "candidate {id} is a member of the shadow but not in its D_f: it was neither unlearned nor unseen"
        );
        member.push(seen);
    }
    anyhow::ensure!(member.iter().any(|s| *s), "the shadow saw none of the candidates");
    Ok(member)
}

fn true_probs(p: &Predictions) -> Vec<f64> {
    p.logits.chunks_exact(p.num_classes).zip(&p.labels).map(|(row, &y)| softmax_f64(row)[y as usize]).collect()
}

struct Run {
    candidates: Predictions,
    forget: Predictions,
    retain_acc: f64,
    test_acc: f64,
    population: Predictions,
}

/// The sets in the order [`run_model`] reads them, uploaded once for every model.
fn upload(sets: &Sets, device: &Device) -> anyhow::Result<Vec<(&'static str, DeviceData)>> {
    let parts = [
        ("candidates", &sets.candidates),
        ("forget", &sets.forget),
        ("retain", &sets.retain),
        ("test", &sets.test),
        ("population", &sets.population),
    ];
    parts
        .into_iter()
        .map(|(name, d)| {
            let data = DeviceData::new(d, device);
            Ok((name, data.with_context(|| format!("uploading `{name}` to the device"))?))
        })
        .collect()
}

fn run_model(
    label: &str,
    path: &Path,
    sets: &Sets,
    data: &[(&'static str, DeviceData)],
    device: &Device,
    batch: usize,
) -> anyhow::Result<Run> {
    let context = || format!("model `{label}` ({})", path.display());
    let net = Network::load(path, device).with_context(context)?;
    for d in [&sets.candidates, &sets.forget, &sets.retain, &sets.test, &sets.population] {
        net.spec().check_data(d).with_context(context)?;
    }
    let mut out = data
        .iter()
        .map(|(name, d)| predict(&net, d, batch, false).with_context(|| format!("{} on `{name}`", context())));
    let mut next = || out.next().expect("five sets");
    Ok(Run {
        candidates: next()?,
        forget: next()?,
        retain_acc: next()?.accuracy(),
        test_acc: next()?.accuracy(),
        population: next()?,
    })
}

fn signals(run: &Run, gold: &Run, alpha: f64) -> ModelSignals {
    let c = &run.candidates;
    let k = c.num_classes;
    ModelSignals {
        scaled_confidence: c
            .logits
            .chunks_exact(k)
            .zip(&c.labels)
            .map(|(r, &y)| scaled_confidence(r, y as usize))
            .collect(),
        true_prob: true_probs(c),
        population_true_prob: true_probs(&run.population),
        acc: Accuracies { forget: run.forget.accuracy(), retain: run.retain_acc, test: run.test_acc },
        js_divergence: js_divergence(&run.forget.logits, &gold.forget.logits, k),
        activation_distance: activation_distance(&run.forget.logits, &gold.forget.logits, k),
        mia_rate: loss_threshold_attack(&run.population.losses, &run.forget.losses, alpha).rate,
    }
}

impl Stage for MembershipSignals {
    const KIND: &'static str = "membership.signals";
    type Config = SignalsConfig;

    fn signature() -> Signature {
        Signature::new(
            "one shadow of a membership-inference ensemble: every model's logit-scaled confidence and true-class \
             probability on the candidates (the base split's D_f) and the population, which candidates the shadow \
             saw, and per model accuracy, JS divergence to gold and the loss-threshold rate on the shadow's D_f",
        )
        .map_input("models", ArtifactKind::Model, "the shadow's unlearned models by method name")
        .input("gold", ArtifactKind::Model, "the shadow's gold model, retrained on its D_r")
        .optional_input("original", ArtifactKind::Model, "the shadow's original model (no unlearning)")
        .input("candidates", ArtifactKind::Dataset, "the samples attacked: the base split's whole D_f")
        .input("members", ArtifactKind::Dataset, "the shadow's training set (`split.shadow` members)")
        .input("forget", ArtifactKind::Dataset, "the shadow's D_f: the candidates it saw, then unlearned")
        .input("retain", ArtifactKind::Dataset, "the shadow's D_r")
        .input("test", ArtifactKind::Dataset, "the test set")
        .input(
            "population",
            ArtifactKind::Dataset,
            "samples no shadow trains on (RMIA's population, the loss attack's calibration)",
        )
        .output(
            "metrics",
            ArtifactKind::Metrics,
            "per model the signals and measures (`tmu.membership.signals/1`)",
        )
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("the loss-threshold rate at alpha = 0.1", ""),
            Example::new("the loss-threshold rate at alpha = 0.05", "mia_alpha = 0.05"),
        ]
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: SignalsConfig) -> anyhow::Result<()> {
        let models = inputs.map("models")?;
        anyhow::ensure!(!models.is_empty(), "input `models` names no model");
        for reserved in ["gold", "original"] {
            anyhow::ensure!(
                models.iter().all(|(k, _)| *k != reserved),
                "input `models` has a key `{reserved}`, which names the input of that name"
            );
        }
        let members = read(inputs, "members")?;
        let sets = Sets {
            candidates: read(inputs, "candidates")?,
            forget: read(inputs, "forget")?,
            retain: read(inputs, "retain")?,
            test: read(inputs, "test")?,
            population: read(inputs, "population")?,
        };
        let member = membership(&sets.candidates, &sets.forget, &members)?;
        let device = ctx.candle_device()?;
        let data = upload(&sets, &device)?;
        let mut paths: Vec<(String, &Path)> = vec![("gold".into(), inputs.path("gold")?)];
        if let Some(p) = inputs.optional_path("original")? {
            paths.push(("original".into(), p));
        }
        paths.extend(models.iter().map(|(k, a)| (k.to_string(), a.path.as_path())));
        let mut runs = Vec::with_capacity(paths.len());
        for (i, (name, path)) in paths.iter().enumerate() {
            ctx.check_cancelled()?;
            ctx.progress(i as u64, paths.len() as u64, format!("running {name}"));
            runs.push((name.clone(), run_model(name, path, &sets, &data, &device, config.batch_size)?));
        }
        let gold = &runs[0].1;
        let out: IndexMap<&str, ModelSignals> =
            runs.iter().map(|(name, run)| (name.as_str(), signals(run, gold, config.mia_alpha))).collect();
        let value = serde_json::json!({
            "schema": SIGNALS_SCHEMA,
            "candidates": { "ids": sets.candidates.ids, "labels": sets.candidates.labels, "member": member },
            "sets": { "candidates": sets.candidates.len(), "forget": sets.forget.len(), "retain": sets.retain.len(),
                      "test": sets.test.len(), "population": sets.population.len() },
            "mia_alpha": config.mia_alpha,
            "models": out,
        });
        let path = ctx.output_path("metrics");
        write_metrics(&path, &value).with_context(|| format!("writing {}", path.display()))?;
        ctx.summary("forget", sets.forget.len());
        ctx.summary("candidates", sets.candidates.len());
        Ok(())
    }
}
