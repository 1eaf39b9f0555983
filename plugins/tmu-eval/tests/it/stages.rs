//! eval.unlearning and labels.correct run in-process on tiny blob models trained here with
//! tmu-nn's `fit`: the metrics layout, gold against itself, one report row per model, the
//! class-restricted attack population, and clear errors on mismatched inputs.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use tmu_eval::{EvalUnlearning, LabelsCorrect, SCHEMA, tmu_plugin};
use tmu_nn::candle::Device;
use tmu_nn::models::MlpConfig;
use tmu_nn::optim::AdamConfig;
use tmu_nn::{
    ArchConfig, Cost, DeviceData, Network, NetworkSpec, NoObserver, OptimizerConfig, TrainConfig, TrainOptions,
    evaluate, fit, predict,
};
use tmu_plugin::artifact::{Dataset, Labels, read_metrics};
use tmu_plugin::protocol::WireError;
use tmu_plugin::{ArtifactKind, ArtifactRef, Binding, Inputs};
use tmu_test_support::{BlobsSpec, StageRun, blobs, config, run_stage};

struct Setup {
    dir: tempfile::TempDir,
    retain: Dataset,
    forget: Dataset,
    test: Dataset,
    population: Dataset,
    paths: Paths,
}

pub fn write_data(dir: &Path, name: &str, d: &Dataset) -> PathBuf {
    let path = dir.join(format!("{name}.safetensors"));
    d.write(&path).unwrap();
    path
}

/// An MLP trained for a few epochs on `data`, saved with a cost (`wall_seconds` and its 4 epochs'
/// samples) or, when `wall_seconds` is `None`, none.
pub fn train(dir: &Path, name: &str, data: &Dataset, seed: u64, wall_seconds: Option<f64>) -> PathBuf {
    let spec = NetworkSpec::for_dataset(ArchConfig::Mlp(MlpConfig { hidden: vec![16], dropout: 0.0 }), data);
    let net = Network::new(spec, &Device::Cpu, seed).unwrap();
    let cfg = TrainConfig {
        epochs: 4,
        batch_size: 32,
        optimizer: OptimizerConfig::Adam(AdamConfig { lr: 1e-2, ..AdamConfig::default() }),
        ..TrainConfig::default()
    };
    let d = DeviceData::new(data, &Device::Cpu).unwrap();
    fit(&net, &d, &cfg, &TrainOptions { seed, ..TrainOptions::default() }, &mut NoObserver).unwrap();
    let path = dir.join(format!("{name}.safetensors"));
    let cost = wall_seconds.map(|s| Cost { wall_seconds: s, train_samples: 4 * data.len() as u64, forward_samples: 0 });
    net.save_with_metadata(&path, &cost.map(|c| c.metadata()).unwrap_or_default()).unwrap();
    path
}

/// 4 very noisy blob classes of 3x3 images (the models get 35-65% right, so the measures differ
/// between models): 160 training samples (8 of class 0 forgotten), 40 test, 40 non-members.
fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let all = blobs(BlobsSpec { n: 240, classes: 4, channels: 1, size: 3, noise: 250, seed: 3, first_id: 0 });
    let train_idx: Vec<usize> = (0..160).collect();
    let forget_idx: Vec<usize> = train_idx.iter().copied().filter(|&i| all.labels[i] == 0).take(8).collect();
    let retain_idx: Vec<usize> = train_idx.iter().copied().filter(|i| !forget_idx.contains(i)).collect();
    let (retain, forget) = (all.subset(&retain_idx), all.subset(&forget_idx));
    let test = all.subset(&(160..200).collect::<Vec<_>>());
    let population = all.subset(&(200..240).collect::<Vec<_>>());
    let members = all.subset(&train_idx);
    let d = dir.path();
    let mut paths = IndexMap::new();
    paths.insert("retain", write_data(d, "retain", &retain));
    paths.insert("forget", write_data(d, "forget", &forget));
    paths.insert("test", write_data(d, "test", &test));
    paths.insert("population", write_data(d, "population", &population));
    paths.insert("gold", train(d, "gold", &retain, 1, Some(10.0)));
    paths.insert("original", train(d, "original", &members, 2, Some(8.0)));
    paths.insert("other", train(d, "other", &retain, 3, Some(2.5)));
    paths.insert("untimed", train(d, "untimed", &members, 4, None));
    // Predicted labels of D_f: every other sample easy.
    let easy: Vec<bool> = (0..forget.len()).map(|i| i % 2 == 0).collect();
    let predicted = d.join("predicted.safetensors");
    Labels::easy_hard(&easy, forget.ids.clone()).unwrap().write(&predicted).unwrap();
    paths.insert("predicted", predicted);
    Setup { dir, retain, forget, test, population, paths }
}

type Paths = IndexMap<&'static str, PathBuf>;

fn eval_inputs(paths: &Paths, models: &[(&str, &str)], with: &[&str]) -> Inputs {
    let mut map = IndexMap::new();
    for (name, file) in models {
        let path = paths[file].clone();
        map.insert(name.to_string(), ArtifactRef { path, kind: ArtifactKind::Model, source: format!("{file}.model") });
    }
    let mut inputs = Inputs::default();
    inputs.insert("models", Binding::Map(map));
    for port in with {
        let kind = match *port {
            "gold" | "original" => ArtifactKind::Model,
            "predicted" => ArtifactKind::Labels,
            _ => ArtifactKind::Dataset,
        };
        inputs = inputs.with(port, &paths[port], kind);
    }
    inputs
}

const SETS: [&str; 5] = ["gold", "retain", "forget", "test", "population"];

fn run_eval(paths: &Paths, models: &[(&str, &str)], extra: &[&str], toml: &str) -> Result<StageRun, WireError> {
    let with: Vec<&str> = SETS.iter().chain(extra).copied().collect();
    run_stage(tmu_plugin(), "eval.unlearning", eval_inputs(paths, models, &with), config(toml))
}

fn accuracy(model: &Path, data: &Dataset) -> f64 {
    let net = Network::load(model, &Device::Cpu).unwrap();
    evaluate(&net, &DeviceData::new(data, &Device::Cpu).unwrap(), 64).unwrap()
}

#[test]
fn metrics_layout_gold_against_itself_and_one_report_row_per_model() {
    let s = setup();
    let models = [("same", "gold"), ("other", "other"), ("untimed", "untimed")];
    let run = run_eval(&s.paths, &models, &["original", "predicted"], "").unwrap();
    let m = read_metrics(&run.output("metrics")).unwrap();
    assert_eq!(m["schema"], SCHEMA);
    assert_eq!(m["forget"]["n"], 8);
    assert_eq!(m["forget"]["classes"], serde_json::json!([0]));
    assert_eq!(m["forget"]["class_names"], serde_json::json!(["class0"]));
    assert_eq!((m["forget"]["predicted_easy"].as_u64(), m["forget"]["predicted_hard"].as_u64()), (Some(4), Some(4)));
    assert_eq!(m["sets"], serde_json::json!({ "retain": 152, "test": 40, "population": 40, "mia_population": 40 }));
    assert_eq!(m["mia"], serde_json::json!({ "alphas": [0.1, 0.05, 0.01], "population": "all" }));
    let names: Vec<&str> = m["models"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(names, ["same", "other", "untimed"]);

    // Gold against itself, and a map entry that is the gold file, are exactly gold.
    let gold = &m["gold"];
    assert_eq!(m["models"]["same"], *gold);
    assert_eq!(gold["delta"], 0.0);
    assert_eq!(gold["activation_distance"], 0.0);
    assert_eq!(gold["agreement"], 1.0);
    assert_eq!(gold["cost_ratio"], 1.0);
    let alphas: Vec<&str> = gold["mia"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(alphas, ["0.1", "0.05", "0.01"]);
    for (_, a) in gold["mia"].as_object().unwrap() {
        assert_eq!(a["rate"], a["gold_rate"]);
        assert_eq!(a["gap"], 0.0);
    }

    // Another model: accuracies as tmu-nn computes them, Delta from them, cost against gold.
    let other = &m["models"]["other"];
    let acc = |model: &str, d: &Dataset| accuracy(&s.paths[model], d);
    assert_eq!(other["acc"]["retain"].as_f64().unwrap(), acc("other", &s.retain));
    assert_eq!(other["acc"]["test"].as_f64().unwrap(), acc("other", &s.test));
    let (acc_f, gold_f) = (acc("other", &s.forget), acc("gold", &s.forget));
    assert_eq!(other["acc"]["forget"].as_f64().unwrap(), acc_f);
    assert!((other["delta"].as_f64().unwrap() - 100.0 * (acc_f - gold_f).abs()).abs() < 1e-9);
    assert_eq!(other["wall_seconds"], 2.5);
    assert_eq!(other["cost_ratio"], 0.25);
    // Trained on D_r for as many epochs as gold: the same work in a quarter of the time.
    let forget_cost = &other["cost"]["forget"];
    assert_eq!((forget_cost["wall_ratio"].as_f64(), forget_cost["work_ratio"].as_f64()), (Some(0.25), Some(1.0)));
    assert_eq!(other["cost"]["whole"], *forget_cost, "a method that lists nothing else is its forget stage");
    assert!(other["cost"]["setup"].is_null());
    assert!(m["models"]["untimed"]["cost"]["forget"].is_null());
    assert!(other["activation_distance"].as_f64().unwrap() > 0.0);
    let agreement = other["agreement"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&agreement));
    // Accuracy on the predicted parts (even positions easy) from the model's own predictions.
    let net = Network::load(&s.paths["other"], &Device::Cpu).unwrap();
    let correct = predict(&net, &DeviceData::new(&s.forget, &Device::Cpu).unwrap(), 64, false).unwrap().correct();
    let part = |parity: usize| {
        let c: Vec<bool> = correct.iter().enumerate().filter(|(i, _)| i % 2 == parity).map(|(_, c)| *c).collect();
        c.iter().filter(|x| **x).count() as f64 / c.len() as f64
    };
    assert_eq!(other["acc"]["forget_easy"].as_f64().unwrap(), part(0));
    assert_eq!(other["acc"]["forget_hard"].as_f64().unwrap(), part(1));
    let untimed = &m["models"]["untimed"];
    assert!(untimed["wall_seconds"].is_null() && untimed["cost_ratio"].is_null());
    assert_eq!(m["original"]["wall_seconds"], 8.0);
    let best = m["best"]["delta"].as_array().unwrap();
    assert!(best.iter().any(|n| n == "same"), "gold's own file has Delta 0: {best:?}");

    // The report: one row per model in the comparison table (methods, original, gold).
    let report = std::fs::read_to_string(run.output("report")).unwrap();
    let main = report.split("## D_f subsets").next().unwrap();
    let rows: Vec<&str> = main.lines().filter(|l| l.starts_with("| ") && !l.starts_with("| :")).skip(1).collect();
    let row_names: Vec<&str> = rows.iter().map(|r| r.split('|').nth(1).unwrap().trim()).collect();
    assert_eq!(row_names, ["same", "other", "untimed", "original", "gold"], "{report}");
    assert!(main.contains("MIA@0.1 (gold "), "{report}");
    let cost_table = report.split("## Cost against gold's retrain").nth(1).expect("a cost section");
    assert!(cost_table.lines().any(|l| l.starts_with("| other ") && l.contains("0.25x")), "{report}");
    assert!(cost_table.lines().any(|l| l.starts_with("| gold ") && l.contains("1.00x")), "{report}");
    assert!(report.contains("Lowest Delta: same"), "{report}");
    assert!(report.contains("No `tmu.wall_seconds` in the model file of: untimed."), "{report}");
    assert!(report.contains("Acc D_f easy (n=4)") && report.contains("MIA@0.01 (gold "), "{report}");
    // Every line of a table has the same width (it reads as a table in a terminal).
    let widths: Vec<usize> = main.lines().filter(|l| l.starts_with('|')).map(|l| l.chars().count()).collect();
    assert!(widths.windows(2).all(|w| w[0] == w[1]), "{report}");
}

#[test]
fn the_class_population_and_optional_inputs() {
    let s = setup();
    let run = run_eval(&s.paths, &[("other", "other")], &[], "mia_population = \"class\"\nmia_alphas = [0.2]").unwrap();
    let m = read_metrics(&run.output("metrics")).unwrap();
    let class0 = s.population.labels.iter().filter(|l| **l == 0).count();
    assert_eq!(m["sets"]["mia_population"], class0);
    assert_eq!(m["mia"]["population"], "class");
    assert!(m["original"].is_null());
    assert!(m["forget"]["predicted_easy"].is_null());
    assert!(m["models"]["other"]["acc"]["forget_easy"].is_null());
    let keys: Vec<&str> = m["gold"]["mia"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["0.2"]);
    let report = std::fs::read_to_string(run.output("report")).unwrap();
    assert!(!report.contains("## D_f subsets"), "nothing to put in the second table: {report}");
}

#[test]
fn mismatched_inputs_are_clear_errors() {
    let s = setup();
    let d = s.dir.path();
    let three = blobs(BlobsSpec { n: 30, classes: 3, channels: 1, size: 3, noise: 60, seed: 9, first_id: 0 });
    let mut paths = s.paths.clone();
    paths.insert("three", train(d, "three", &three, 5, None));
    let e = run_eval(&paths, &[("three-class", "three")], &[], "").unwrap_err();
    let text = format!("{}: {}", e.message, e.causes.join(": "));
    assert!(text.contains("model `three-class`") && text.contains("classes"), "{text}");

    // Predicted labels that miss a sample of D_f.
    let short = d.join("short.safetensors");
    Labels::easy_hard(&[true; 7], s.forget.ids[..7].to_vec()).unwrap().write(&short).unwrap();
    let mut paths = s.paths.clone();
    paths.insert("predicted", short);
    let e = run_eval(&paths, &[("other", "other")], &["predicted"], "").unwrap_err();
    let text = format!("{}: {}", e.message, e.causes.join(": "));
    assert!(text.contains("has no label"), "{text}");

    let e = run_eval(&s.paths, &[("other", "other")], &[], "mia_alphas = [1.0]").unwrap_err();
    assert!(e.message.contains("mia_alphas"), "{e:?}");
}

#[test]
fn labels_correct_marks_what_the_model_gets_right() {
    let s = setup();
    let inputs = Inputs::default().with("model", &s.paths["gold"], ArtifactKind::Model).with(
        "data",
        &s.paths["test"],
        ArtifactKind::Dataset,
    );
    let run = run_stage(tmu_plugin(), "labels.correct", inputs, config("batch_size = 7")).unwrap();
    let labels = Labels::read(&run.output("labels")).unwrap();
    assert_eq!(labels.names, ["hard", "easy"]);
    assert_eq!(labels.ids, s.test.ids);
    let net = Network::load(&s.paths["gold"], &Device::Cpu).unwrap();
    let correct = predict(&net, &DeviceData::new(&s.test, &Device::Cpu).unwrap(), 64, false).unwrap().correct();
    assert_eq!(labels.labels, correct.iter().map(|&c| u32::from(c)).collect::<Vec<_>>());
    assert!(labels.labels.contains(&0) && labels.labels.contains(&1), "noisy blobs: some right, some wrong");

    let three = blobs(BlobsSpec { n: 12, classes: 3, channels: 1, size: 3, noise: 60, seed: 9, first_id: 0 });
    let path = write_data(s.dir.path(), "three", &three);
    let inputs = Inputs::default().with("model", &s.paths["gold"], ArtifactKind::Model).with(
        "data",
        &path,
        ArtifactKind::Dataset,
    );
    let e = run_stage(tmu_plugin(), "labels.correct", inputs, config("")).unwrap_err();
    assert!(format!("{} {:?}", e.message, e.causes).contains("classes"), "{e:?}");
}

#[test]
fn examples_deserialize_and_every_field_is_documented() {
    tmu_test_support::check_examples::<EvalUnlearning>();
    tmu_test_support::check_examples::<LabelsCorrect>();
    let d = tmu_test_support::check_stage_configs(
        tmu_plugin(),
        &["eval.unlearning", "labels.correct", "membership.signals"],
    );
    let eval = &d.stages[0];
    assert_eq!(eval.config_schema["properties"]["mia_alphas"]["default"], serde_json::json!([0.1, 0.05, 0.01]));
    assert_eq!(eval.config_schema["properties"]["mia_alphas"]["items"]["maximum"], 1.0);
    assert_eq!(eval.config_schema["properties"]["mia_population"]["default"], "all");
    let inputs: Vec<(&str, bool)> = eval.inputs.iter().map(|p| (p.name.as_str(), p.required)).collect();
    assert_eq!(
        inputs,
        [
            ("models", true),
            ("gold", true),
            ("original", false),
            ("retain", true),
            ("forget", true),
            ("test", true),
            ("population", true),
            ("predicted", false),
            ("costs", false),
            ("forget_metrics", false),
            ("predictor_metrics", false)
        ]
    );
}

/// A metrics file with a `cost` object.
fn cost_file(dir: &Path, name: &str, cost: Cost) -> PathBuf {
    let path = dir.join(format!("{name}.json"));
    tmu_plugin::artifact::write_metrics(&path, &serde_json::json!({ "cost": cost.to_json() })).unwrap();
    path
}

#[test]
fn the_whole_cost_adds_set_up_and_per_request_stages_and_configs_and_predictors_come_with_their_metrics() {
    let s = setup();
    let d = s.dir.path();
    let mut inputs = eval_inputs(&s.paths, &[("other", "other"), ("untimed", "untimed")], &SETS);
    let mut costs = IndexMap::new();
    for (name, c) in [
        ("twin", Cost { wall_seconds: 4.0, train_samples: 304, forward_samples: 0 }),
        ("df", Cost { wall_seconds: 1.0, train_samples: 0, forward_samples: 50 }),
    ] {
        let path = cost_file(d, name, c);
        costs.insert(
            name.to_string(),
            ArtifactRef { path, kind: ArtifactKind::Metrics, source: format!("{name}.metrics") },
        );
    }
    inputs.insert("costs", Binding::Map(costs));
    let settings = d.join("other-metrics.json");
    tmu_plugin::artifact::write_metrics(&settings, &serde_json::json!({ "config": { "lr": 0.05 } })).unwrap();
    let mut forget_metrics = IndexMap::new();
    forget_metrics.insert(
        "other".to_string(),
        ArtifactRef { path: settings, kind: ArtifactKind::Metrics, source: "other.metrics".into() },
    );
    inputs.insert("forget_metrics", Binding::Map(forget_metrics));
    let predicted = d.join("predict-metrics.json");
    let predict_metrics = serde_json::json!({
        "predicted": { "easy": 16, "hard": 4, "hard_rate": 0.2 },
        "truth": { "hard_recall": 0.75, "hard_precision": null, "auc": 0.9, "accuracy": 0.8 },
    });
    tmu_plugin::artifact::write_metrics(&predicted, &predict_metrics).unwrap();
    let mut predictor_metrics = IndexMap::new();
    predictor_metrics.insert(
        "untimed".to_string(),
        ArtifactRef { path: predicted, kind: ArtifactKind::Metrics, source: "predict.metrics".into() },
    );
    inputs.insert("predictor_metrics", Binding::Map(predictor_metrics));
    let cfg = "method_costs = { other = { setup = [\"twin\"], request = [\"df\"] } }";
    let run = run_stage(tmu_plugin(), "eval.unlearning", inputs.clone(), config(cfg)).unwrap();
    let m = read_metrics(&run.output("metrics")).unwrap();
    assert_eq!(m["models"]["other"]["config"], serde_json::json!({ "lr": 0.05 }));
    assert!(m["models"]["untimed"].get("config").is_none());
    assert_eq!(
        m["models"]["untimed"]["predictor"],
        serde_json::json!({ "hard_recall": 0.75, "hard_precision": null, "auc": 0.9, "predicted_hard_rate": 0.2 })
    );
    assert!(m["models"]["other"].get("predictor").is_none());
    let c = &m["models"]["other"]["cost"];
    // Gold: 10 s, 608 samples; the forget stage: 2.5 s, 608; twin 4 s, 304; df 1 s, forward only.
    assert_eq!((c["setup"]["wall_seconds"].as_f64(), c["setup"]["work_ratio"].as_f64()), (Some(4.0), Some(0.5)));
    assert_eq!(
        (c["per_request"]["wall_seconds"].as_f64(), c["per_request"]["forward_samples"].as_u64()),
        (Some(3.5), Some(50))
    );
    assert_eq!((c["whole"]["wall_ratio"].as_f64(), c["whole"]["work_ratio"].as_f64()), (Some(0.75), Some(1.5)));
    let report = std::fs::read_to_string(run.output("report")).unwrap();
    assert!(report.contains("| other ") && report.contains("0.75x") && report.contains("1.50x"), "{report}");

    // A listed stage that `costs` does not hold, and a method that is not a model, are named.
    let e = run_stage(
        tmu_plugin(),
        "eval.unlearning",
        inputs.clone(),
        config("method_costs = { other = { setup = [\"early\"] } }"),
    )
    .unwrap_err();
    assert!(e.message.contains("`method_costs.other.setup` lists `early`"), "{}", e.message);
    let e =
        run_stage(tmu_plugin(), "eval.unlearning", inputs, config("method_costs = { tmu = { setup = [\"twin\"] } }"))
            .unwrap_err();
    assert!(e.message.contains("names `tmu`, which is not a key of input `models`"), "{}", e.message);
}

#[test]
fn every_example_runs() {
    let s = setup();
    let models = [("tmu", "other"), ("original", "original")];
    let mut inputs =
        eval_inputs(&s.paths, &models, &["gold", "original", "retain", "forget", "test", "population", "predicted"]);
    // The cost of every stage the cost example names (the pipelines' own list).
    let mut costs = IndexMap::new();
    for name in ["twin", "early", "af_twin", "cf_twin", "df_twin", "predictor", "df_forget", "af_forget", "cf_forget"]
        .into_iter()
        .chain(["twin_rate", "predict"])
    {
        let path = cost_file(s.dir.path(), name, Cost { wall_seconds: 1.0, train_samples: 10, forward_samples: 10 });
        costs.insert(
            name.to_string(),
            ArtifactRef { path, kind: ArtifactKind::Metrics, source: format!("{name}.metrics") },
        );
    }
    inputs.insert("costs", Binding::Map(costs));
    assert!(tmu_test_support::run_examples(tmu_plugin(), "eval.unlearning", &inputs) >= 3);
    let inputs = Inputs::default().with("model", &s.paths["gold"], ArtifactKind::Model).with(
        "data",
        &s.paths["test"],
        ArtifactKind::Dataset,
    );
    assert!(tmu_test_support::run_examples(tmu_plugin(), "labels.correct", &inputs) >= 2);
}
