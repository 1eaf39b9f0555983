//! predictor.train and predictor.apply run in-process on synthetic features: a separable twin
//! set is learned, the twin-rate threshold marks the expected count hard, columns are matched
//! by name, and mismatches are clear errors.

use std::path::{Path, PathBuf};

use tmu_plugin::artifact::{Features, Labels, read_metrics};
use tmu_plugin::{ArtifactKind, Inputs, mix64};
use tmu_predictor::model_file::Predictor;
use tmu_predictor::{PredictorApply, PredictorTrain, tmu_plugin};
use tmu_test_support::{StageRun, config, run_stage};

/// Uniform in [0, 1) from a counter (deterministic).
fn unit(seed: u64, i: u64) -> f32 {
    (mix64(seed ^ mix64(i)) >> 40) as f32 / (1u64 << 24) as f32
}

/// `n` samples with ids from `first_id`; every `hard_every`-th is hard. Column `df` separates
/// the classes (hard in [0.6, 1), easy in [0, 0.4)); column `af` is noise.
fn synthetic(n: usize, first_id: u64, hard_every: usize, seed: u64) -> (Vec<bool>, Vec<u64>, Vec<f32>, Vec<f32>) {
    let easy: Vec<bool> = (0..n).map(|i| i % hard_every != 0).collect();
    let ids: Vec<u64> = (0..n as u64).map(|i| first_id + i).collect();
    let df =
        (0..n).map(|i| if easy[i] { 0.4 * unit(seed, i as u64) } else { 0.6 + 0.4 * unit(seed, i as u64) }).collect();
    let af = (0..n).map(|i| 5.0 * unit(seed + 1, i as u64)).collect();
    (easy, ids, df, af)
}

fn write_column(dir: &Path, name: &str, values: &[f32], ids: &[u64]) -> PathBuf {
    let path = dir.join(format!("{name}-{}.safetensors", ids[0]));
    Features::new(values.to_vec(), ids.to_vec(), vec![name.to_string()]).unwrap().write(&path).unwrap();
    path
}

fn write_labels(dir: &Path, name: &str, easy: &[bool], ids: &[u64]) -> PathBuf {
    let path = dir.join(format!("{name}.safetensors"));
    Labels::easy_hard(easy, ids.to_vec()).unwrap().write(&path).unwrap();
    path
}

fn list(paths: &[&Path], kind: ArtifactKind) -> tmu_plugin::Binding {
    tmu_plugin::Binding::List(
        paths
            .iter()
            .map(|p| tmu_plugin::ArtifactRef { path: p.to_path_buf(), kind, source: format!("file:{}", p.display()) })
            .collect(),
    )
}

struct Setup {
    dir: tempfile::TempDir,
    twin_df: PathBuf,
    twin_af: PathBuf,
    twin_labels: PathBuf,
    forget_df: PathBuf,
    forget_af: PathBuf,
    truth: PathBuf,
}

/// A twin set of 200 (40 hard: every 5th) and a forget set of 45 (9 hard), drawn alike.
fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let (easy, ids, df, af) = synthetic(200, 1000, 5, 1);
    let twin_df = write_column(dir.path(), "df", &df, &ids);
    let twin_af = write_column(dir.path(), "af", &af, &ids);
    let twin_labels = write_labels(dir.path(), "twin", &easy, &ids);
    let (easy, ids, df, af) = synthetic(45, 5000, 5, 2);
    let forget_df = write_column(dir.path(), "df", &df, &ids);
    let forget_af = write_column(dir.path(), "af", &af, &ids);
    let truth = write_labels(dir.path(), "truth", &easy, &ids);
    Setup { dir, twin_df, twin_af, twin_labels, forget_df, forget_af, truth }
}

fn train(s: &Setup, toml: &str) -> StageRun {
    let mut inputs = Inputs::default().with("labels", &s.twin_labels, ArtifactKind::Labels);
    inputs.insert("features", list(&[&s.twin_df, &s.twin_af], ArtifactKind::Features));
    run_stage(tmu_plugin(), "predictor.train", inputs, config(toml)).unwrap()
}

fn apply(
    model: &Path,
    features: &[&Path],
    extra: &[(&str, &Path)],
    toml: &str,
) -> Result<StageRun, tmu_plugin::protocol::WireError> {
    let mut inputs = Inputs::default().with("predictor", model, ArtifactKind::Model);
    inputs.insert("features", list(features, ArtifactKind::Features));
    for (port, path) in extra {
        inputs = inputs.with(port, *path, ArtifactKind::Labels);
    }
    run_stage(tmu_plugin(), "predictor.apply", inputs, config(toml))
}

#[test]
fn a_separable_twin_set_is_learned_and_transfers_to_the_forget_set() {
    let s = setup();
    let trained = train(&s, "");
    let m = read_metrics(&trained.output("metrics")).unwrap();
    assert_eq!(m["n"], 200);
    assert_eq!(m["hard"], 40);
    assert_eq!(m["twin_hard_rate"], 0.2);
    assert_eq!(m["layers"], serde_json::json!([2, 32, 16, 1]));
    assert_eq!(m["loss_per_epoch"].as_array().unwrap().len(), 200);
    assert!(m["accuracy"].as_f64().unwrap() >= 0.99, "{m:#}");
    assert!(m["auc"].as_f64().unwrap() >= 0.99, "{m:#}");
    assert!(m["loss"].as_f64().unwrap() < m["loss_first_epoch"].as_f64().unwrap());

    let model = trained.output("model");
    let p = Predictor::load(&model).unwrap();
    assert_eq!(p.features, ["df", "af"]);
    assert_eq!(p.mlp.sizes(), [2, 32, 16, 1]);
    assert_eq!((p.iqr_factor, p.twin_hard_rate), (1.5, 0.2));

    let applied = apply(&model, &[&s.forget_df, &s.forget_af], &[("truth", &s.truth)], "").unwrap();
    let m = read_metrics(&applied.output("metrics")).unwrap();
    let truth = &m["truth"];
    assert_eq!(truth["hard"], 9);
    assert!(truth["accuracy"].as_f64().unwrap() >= 0.97, "{m:#}");
    assert_eq!(truth["all_easy_accuracy"], 0.8);
    assert!(truth["auc"].as_f64().unwrap() >= 0.99, "{m:#}");
    assert_eq!(truth["feature_auc"]["df"], 1.0, "df is higher exactly on the hard samples");
    let c = &truth["confusion"];
    let total: u64 = [
        "true_easy_predicted_easy",
        "true_easy_predicted_hard",
        "true_hard_predicted_easy",
        "true_hard_predicted_hard",
    ]
    .iter()
    .map(|k| c[*k].as_u64().unwrap())
    .sum();
    assert_eq!(total, 45);

    let labels = Labels::read(&applied.output("labels")).unwrap();
    assert_eq!(labels.names, ["hard", "easy"]);
    assert_eq!(labels.ids, (5000..5045).collect::<Vec<u64>>());
    let scores = Features::read(&applied.output("scores")).unwrap();
    assert_eq!(scores.names, ["p_easy"]);
    // p(easy) > 0.5 exactly where the label says easy.
    for (p, l) in scores.values.iter().zip(&labels.labels) {
        assert_eq!(*p > 0.5, *l == 1, "p(easy) {p} with label {l}");
    }
}

#[test]
fn twin_rate_marks_the_twin_fraction_hard_and_columns_match_by_name() {
    let s = setup();
    let trained = train(&s, "epochs = 20");
    let model = trained.output("model");
    // 20% of 45 = 9 hard, whether the rate comes from the twin labels or from the predictor.
    let with_labels =
        apply(&model, &[&s.forget_df, &s.forget_af], &[("twin_labels", &s.twin_labels)], "threshold = \"twin-rate\"")
            .unwrap();
    let without = apply(&model, &[&s.forget_df, &s.forget_af], &[], "threshold = \"twin-rate\"").unwrap();
    for run in [&with_labels, &without] {
        let labels = Labels::read(&run.output("labels")).unwrap();
        assert_eq!(labels.labels.iter().filter(|l| **l == 0).count(), 9);
        let m = read_metrics(&run.output("metrics")).unwrap();
        assert_eq!(m["threshold"]["hard_count"], 9);
        assert_eq!(m["predicted"]["hard"], 9);
        // The hard ones are those of lowest p(easy).
        let scores = Features::read(&run.output("scores")).unwrap();
        let cut = m["threshold"]["p_easy_cut"].as_f64().unwrap() as f32;
        for (p, l) in scores.values.iter().zip(&labels.labels) {
            assert!(if *l == 0 { *p <= cut } else { *p >= cut }, "p {p}, label {l}, cut {cut}");
        }
    }
    let m = read_metrics(&with_labels.output("metrics")).unwrap();
    assert_eq!(m["threshold"]["twin_hard_rate_from"], "twin_labels");
    assert_eq!(Labels::read(&with_labels.output("labels")).unwrap(), Labels::read(&without.output("labels")).unwrap());

    // Columns given in another order are matched by name: the same predictions.
    let swapped = apply(&model, &[&s.forget_af, &s.forget_df], &[], "threshold = \"twin-rate\"").unwrap();
    assert_eq!(Features::read(&swapped.output("scores")).unwrap(), Features::read(&without.output("scores")).unwrap());
}

#[test]
fn logistic_regression_and_the_twin_f1_cut() {
    let s = setup();
    // `hidden = []`: one linear layer on the features, which separates this twin set.
    let trained = train(&s, "hidden = []\nepochs = 100\nlr = 0.05");
    let m = read_metrics(&trained.output("metrics")).unwrap();
    assert_eq!(m["layers"], serde_json::json!([2, 1]));
    assert!(m["auc"].as_f64().unwrap() >= 0.99, "{m:#}");
    let model = trained.output("model");
    let p = Predictor::load(&model).unwrap();
    assert_eq!(p.mlp.sizes(), [2, 1]);
    // The saved cut is the one the metrics report, and is the best F1 on the twin set: 1 here.
    let cut = p.twin_f1.unwrap();
    assert_eq!(serde_json::to_value(cut).unwrap(), m["twin_f1"]);
    assert_eq!((cut.f1, cut.hard_calls), (1.0, 40));

    let applied =
        apply(&model, &[&s.forget_df, &s.forget_af], &[("truth", &s.truth)], "threshold = \"twin-f1\"").unwrap();
    let m = read_metrics(&applied.output("metrics")).unwrap();
    assert_eq!(m["threshold"]["rule"], "twin-f1");
    assert_eq!(m["threshold"]["p_easy_cut"].as_f64(), cut.cut);
    let labels = Labels::read(&applied.output("labels")).unwrap();
    let scores = Features::read(&applied.output("scores")).unwrap();
    for (p, l) in scores.values.iter().zip(&labels.labels) {
        assert_eq!(f64::from(*p) > cut.cut.unwrap(), *l == 1, "p(easy) {p} with label {l}");
    }
    assert!(m["truth"]["hard_recall"].as_f64().unwrap() >= 0.8, "{m:#}");
}

#[test]
fn mismatched_feature_names_and_missing_labels_are_errors() {
    let s = setup();
    let trained = train(&s, "epochs = 1");
    let model = trained.output("model");
    let dir = s.dir.path();
    let ids: Vec<u64> = (5000..5045).collect();
    let cf = write_column(dir, "cf", &[1.0; 45], &ids);
    let e = apply(&model, &[&s.forget_df, &cf], &[], "").unwrap_err();
    let text = format!("{} {:?}", e.message, e.causes);
    assert!(text.contains("missing `af`") && text.contains("unexpected `cf`"), "{text}");

    // The same column twice.
    let e = apply(&model, &[&s.forget_df, &s.forget_df], &[], "").unwrap_err();
    assert!(format!("{} {:?}", e.message, e.causes).contains("`df` appears more than once"), "{e:?}");

    // Truth that lacks a sample of D_f.
    let short = write_labels(dir, "short", &[true; 44], &ids[..44]);
    let e = apply(&model, &[&s.forget_df, &s.forget_af], &[("truth", &short)], "").unwrap_err();
    assert!(format!("{} {:?}", e.message, e.causes).contains("sample id 5044 has no label"), "{e:?}");

    // A classifier is not a predictor.
    let not_predictor = dir.join("not-predictor.safetensors");
    let mut w = tmu_plugin::artifact::ContainerWriter::new(ArtifactKind::Model);
    w.meta("tmu.arch", "mlp").f32("x", vec![1], &[0.0]);
    w.write(&not_predictor).unwrap();
    let e = apply(&not_predictor, &[&s.forget_df, &s.forget_af], &[], "").unwrap_err();
    assert!(format!("{} {:?}", e.message, e.causes).contains("is a `mlp` model, not a predictor"), "{e:?}");
}

#[test]
fn training_is_seeded_and_balance_changes_the_weights() {
    let s = setup();
    let weights = |toml: &str| Predictor::load(&train(&s, toml).output("model")).unwrap().mlp.weights().unwrap();
    let a = weights("epochs = 3");
    assert_eq!(a, weights("epochs = 3"));
    assert_ne!(a, weights("epochs = 3\nbalance = true"));
    let m = read_metrics(&train(&s, "epochs = 1\nbalance = true").output("metrics")).unwrap();
    // 200 samples, 40 hard: weights 200 / 80 and 200 / 320.
    assert_eq!(m["class_weights"], serde_json::json!({ "hard": 2.5, "easy": 0.625 }));
}

#[test]
fn examples_deserialize_and_every_field_is_documented() {
    tmu_test_support::check_examples::<PredictorTrain>();
    tmu_test_support::check_examples::<PredictorApply>();
    let d = tmu_test_support::check_stage_configs(tmu_plugin(), &["predictor.train", "predictor.apply"]);
    let train = &d.stages[0].config_schema["properties"];
    assert_eq!(train["hidden"]["default"], serde_json::json!([32, 16]));
    assert_eq!(train["hidden"]["items"]["minimum"], 1);
    assert_eq!(train["epochs"]["default"], 200);
    assert_eq!(train["batch_size"]["default"], 128);
    assert_eq!(train["lr"]["default"], 1e-3);
    assert_eq!(train["iqr_factor"]["default"], 1.5);
    assert_eq!(train["balance"]["default"], false);
    assert_eq!(d.stages[1].config_schema["properties"]["threshold"]["default"], "half");
}

#[test]
fn every_example_runs() {
    let s = setup();
    let mut inputs = Inputs::default().with("labels", &s.twin_labels, ArtifactKind::Labels);
    inputs.insert("features", list(&[&s.twin_df, &s.twin_af], ArtifactKind::Features));
    assert!(tmu_test_support::run_examples(tmu_plugin(), "predictor.train", &inputs) >= 4);
    let trained = train(&s, "epochs = 20");
    let model = trained.output("model");
    let mut inputs = Inputs::default()
        .with("predictor", &model, ArtifactKind::Model)
        .with("twin_labels", &s.twin_labels, ArtifactKind::Labels)
        .with("truth", &s.truth, ArtifactKind::Labels);
    inputs.insert("features", list(&[&s.forget_df, &s.forget_af], ArtifactKind::Features));
    assert!(tmu_test_support::run_examples(tmu_plugin(), "predictor.apply", &inputs) >= 3);
}
