//! The stage `eval.unlearning`: every model against the gold model on D_f, plus accuracy on
//! retain and test, membership inference and cost; writes `metrics.json` and `report.md`.

use anyhow::Context as _;
use indexmap::IndexMap;
use tmu_plugin::artifact::{write_atomic, write_metrics};
use tmu_plugin::{ArtifactKind, Context, Example, Inputs, Signature, Stage};

use super::config::EvalConfig;
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
             Delta on D_f, activation distance, loss-threshold membership inference, agreement, cost",
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
        .output("metrics", ArtifactKind::Metrics, "every measure of every model, for machines (see the crate docs)")
        .output("report", ArtifactKind::Report, "the comparison table and notes")
    }

    fn examples() -> Vec<Example> {
        vec![
            Example::new("MIA at alpha 0.1, 0.05 and 0.01 calibrated on all non-members", ""),
            Example::new("calibrate the attack on non-members of the forget class only", "mia_population = \"class\""),
            Example::new("one attack level, larger inference batches", "mia_alphas = [0.1]\nbatch_size = 1024"),
        ]
    }

    fn preflight(config: &EvalConfig) -> anyhow::Result<()> {
        config.check()
    }

    fn run(ctx: &mut Context, inputs: &Inputs, config: EvalConfig) -> anyhow::Result<()> {
        config.check()?;
        let models = inputs.map("models")?;
        anyhow::ensure!(!models.is_empty(), "input `models` names no model");
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
        let records: IndexMap<String, _> =
            runs.iter().map(|(name, run)| (name.clone(), record(run, &gold, predicted, alphas))).collect();
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
            gold: record(&gold, &gold, predicted, alphas),
            original: original.as_ref().map(|o| record(o, &gold, predicted, alphas)),
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
