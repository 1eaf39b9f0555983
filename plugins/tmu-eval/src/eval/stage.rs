//! The stage `eval.unlearning`: every model against the gold model on D_f, plus accuracy on
//! retain and test, membership inference and cost; writes `metrics.json` and `report.md`.

use anyhow::Context as _;
use indexmap::IndexMap;
use tmu_plugin::artifact::{write_atomic, write_metrics};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use super::config::EvalConfig;
use super::cost::{check_method_costs, cost_record, read_costs};
use super::model_eval::{ModelRun, record, run_model};
use super::record::{Best, EvalMetrics, ForgetInfo, MiaSettings, SCHEMA, SetSizes, lowest};
use super::report::render;
use super::sets::read_sets;

/// The stage `eval.unlearning`.
#[derive(Debug)]
pub struct EvalUnlearning;

impl Stage for EvalUnlearning {
    const KIND: &'static str = "eval.unlearning";
    type Config = EvalConfig;

    fn signature() -> Signature {
        Signature::new(
            "compares unlearned models with the gold model (retrained on D_r): accuracy on D_r, D_f and test, \
             Delta on D_f, activation distance, loss-threshold membership inference (a population attack), agreement, cost",
        )
        .map_input(
            "models",
            ArtifactKind::Model,
            "the unlearned models by method name, e.g. { tmu = ..., finetune = ... }",
        )
        .input("gold", ArtifactKind::Model, "the gold model M_g, retrained from scratch on D_r")
        .optional_input("original", ArtifactKind::Model, "the original model M_o (shown as the do-nothing row)")
        .input("retain", ArtifactKind::Dataset, "D_r")
        .input("forget", ArtifactKind::Dataset, "D_f")
        .input("test", ArtifactKind::Dataset, "the test set")
        .input("population", ArtifactKind::Dataset, "non-members (never trained on) that calibrate the attack")
        .optional_input(
            "predicted",
            ArtifactKind::Labels,
            "D_f's predicted generalization labels (1 = easy): accuracy on each part",
        )
        .input_port(
            "costs",
            ArtifactKind::Metrics,
            tmu_plugin::Arity::Map,
            false,
            "metrics files with a `cost` object, by name: the stages that `method_costs` lists per method",
        )
        .input_port(
            "forget_metrics",
            ArtifactKind::Metrics,
            tmu_plugin::Arity::Map,
            false,
            "each method's forget-stage metrics, by model name: their `config` is copied into the record",
        )
        .input_port(
            "predictor_metrics",
            ArtifactKind::Metrics,
            tmu_plugin::Arity::Map,
            false,
            "`predictor.apply` metrics (with `truth`) of the labels a method forgot with, by model name: \
             hard-sample recall, precision and AUC and the predicted hard rate go into the record as `predictor`",
        )
        .output("metrics", ArtifactKind::Metrics, "every measure of every model, for machines (see the crate docs)")
        .output("report", ArtifactKind::Report, "the comparison table and notes")
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("MIA at alpha 0.1, 0.05 and 0.01 calibrated on all non-members", ""),
            Example::new("calibrate the attack on non-members of the forget class only", "mia_population = \"class\""),
            Example::new("one attack level, larger inference batches", "mia_alphas = [0.1]\nbatch_size = 1024"),
            Example::new(
                "TMU's whole cost: the stages it needs besides forget.tmu, as keys of input `costs`",
                "method_costs = { tmu = { setup = [\"twin\", \"early\", \"af_twin\", \"cf_twin\"], \
                 request = [\"df_twin\", \"predictor\", \"df_forget\", \"af_forget\", \"cf_forget\", \"twin_rate\", \"predict\"] } }",
            ),
        ]
    }

    fn preflight(config: &EvalConfig) -> anyhow::Result<()> {
        config.check()
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: EvalConfig) -> anyhow::Result<()> {
        config.check()?;
        let models = inputs.map("models")?;
        anyhow::ensure!(!models.is_empty(), "input `models` names no model");
        let costs = read_costs(inputs)?;
        let names: Vec<String> = models.iter().map(|(k, _)| k.to_string()).collect();
        check_method_costs(&config.method_costs, &names, &costs)?;
        let configs = read_keyed(inputs, "forget_metrics", &names, |m| m.get("config").cloned())?;
        let predictors = read_keyed(inputs, "predictor_metrics", &names, |m| Some(predictor_summary(m)))?;
        let sets = read_sets(inputs, config.mia_population)?;
        let device = ctx.candle_device()?;
        let data = sets.upload(&device)?;
        let total = models.len() as u64 + 1 + u64::from(inputs.contains("original"));
        let mut done = 0u64;
        let mut evaluate = |ctx: &Context, label: &str, path: &std::path::Path| -> anyhow::Result<ModelRun> {
            ctx.check_cancelled()?;
            ctx.progress(done, total, format!("evaluating {label}"));
            let run = run_model(label, path, &sets, &data, &device, config.batch_size)?;
            done += 1;
            Ok(run)
        };
        let gold = evaluate(ctx, "gold", inputs.path("gold")?)?;
        let original = match inputs.optional_path("original")? {
            Some(path) => Some(evaluate(ctx, "original", path)?),
            None => None,
        };
        let mut runs = Vec::with_capacity(models.len());
        for (name, artifact) in &models {
            runs.push((name.to_string(), evaluate(ctx, name, &artifact.path)?));
        }
        ctx.progress(total, total, "writing the report");

        let predicted = sets.predicted_easy.as_deref();
        let alphas = &config.mia_alphas;
        let with_cost = |run: &super::model_eval::ModelRun, name: Option<&str>| {
            let mut r = record(run, &gold, predicted, alphas);
            r.cost = cost_record(run.cost, name.and_then(|n| config.method_costs.get(n)), &costs, gold.cost);
            r.config = name.and_then(|n| configs.get(n).cloned());
            r.predictor = name.and_then(|n| predictors.get(n).cloned());
            r
        };
        let records: IndexMap<String, _> =
            runs.iter().map(|(name, run)| (name.clone(), with_cost(run, Some(name)))).collect();
        let best = Best {
            delta: lowest(&records, |r| r.delta),
            activation_distance: lowest(&records, |r| r.activation_distance),
        };
        let n_easy = predicted.map(|p| p.iter().filter(|e| **e).count());
        let metrics = EvalMetrics {
            schema: SCHEMA,
            forget: ForgetInfo {
                n: sets.forget.len(),
                classes: sets.forget_classes.clone(),
                class_names: sets
                    .forget_classes
                    .iter()
                    .map(|&c| sets.forget.meta.classes[c as usize].clone())
                    .collect(),
                predicted_easy: n_easy,
                predicted_hard: n_easy.map(|e| sets.forget.len() - e),
            },
            sets: SetSizes {
                retain: sets.retain.len(),
                test: sets.test.len(),
                population: sets.population_len,
                mia_population: sets.mia_population.len(),
            },
            mia: MiaSettings { alphas: alphas.clone(), population: config.mia_population.as_str() },
            gold: with_cost(&gold, None),
            original: original.as_ref().map(|o| with_cost(o, None)),
            models: records,
            best,
        };
        let path = ctx.output_path("metrics");
        let value = serde_json::to_value(&metrics).context("serialising the metrics")?;
        write_metrics(&path, &value).with_context(|| format!("writing {}", path.display()))?;
        let path = ctx.output_path("report");
        write_atomic(&path, render(&metrics).as_bytes()).with_context(|| format!("writing {}", path.display()))?;
        for (name, r) in &metrics.models {
            ctx.summary(&format!("delta.{name}"), r.delta);
        }
        ctx.summary("gold_acc_forget", metrics.gold.acc.forget);
        Ok(())
    }
}

/// A map input of metrics files by model name (a key that is no model is an error), each reduced
/// by `pick` (`None`: nothing recorded for that model).
fn read_keyed(
    inputs: &Inputs,
    port: &str,
    models: &[String],
    pick: impl Fn(&serde_json::Value) -> Option<serde_json::Value>,
) -> anyhow::Result<IndexMap<String, serde_json::Value>> {
    let mut out = IndexMap::new();
    if !inputs.contains(port) {
        return Ok(out);
    }
    for (name, artifact) in inputs.map(port)? {
        anyhow::ensure!(
            models.iter().any(|m| m == name),
            "`{port}` has an entry `{name}`, which is not a key of input `models` ({})",
            models.join(", ")
        );
        let m = tmu_plugin::artifact::read_metrics(&artifact.path)
            .with_context(|| format!("reading `{port}` entry `{name}` ({})", artifact.path.display()))?;
        if let Some(v) = pick(&m) {
            out.insert(name.to_string(), v);
        }
    }
    Ok(out)
}

/// What a record keeps of `predictor.apply`'s metrics: the predicted hard rate and, against the
/// true labels, hard-sample recall and precision and the AUC of p(easy) (`null` where the labels
/// were not given or the measure is undefined, e.g. recall on a D_f with no hard sample).
fn predictor_summary(m: &serde_json::Value) -> serde_json::Value {
    let truth = &m["truth"];
    serde_json::json!({
        "hard_recall": truth["hard_recall"],
        "hard_precision": truth["hard_precision"],
        "auc": truth["auc"],
        "predicted_hard_rate": m["predicted"]["hard_rate"],
    })
}
