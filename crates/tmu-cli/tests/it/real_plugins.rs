//! The real plugins through the real loader: the example third-party plugin
//! (`examples/tmu-example-margin`, built out of tree as its author would) is described, passes
//! its own tests and runs in a pipeline next to the first-party stages, its feature joining the
//! predictor's; and `tmu schema` with the first-party plugins is `docs/pipeline.schema.json`.

use crate::real_builds;
use crate::support;

use std::path::Path;
use std::process::Command;

use real_builds::{cargo, example_manifest, example_plugin, first_party_plugins, out_of_tree_dir, root};
use support::{Run, Workspace, read_json};
use tmu_plugin::artifact::{Features, Labels};

/// `tmu --no-default-plugins <args>` in the workspace folder, with `plugins` named by
/// `--plugin-path` in the order given.
fn tmu(ws: &Workspace, plugins: &[&Path], args: &[&str]) -> Run {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tmu"));
    cmd.current_dir(ws.path()).env_remove("TMU_PLUGIN_PATH").arg("--no-default-plugins");
    for p in plugins {
        cmd.arg("--plugin-path").arg(p);
    }
    Run::from(cmd.args(args).output().expect("tmu starts"))
}

#[test]
fn describe_shows_the_example_stage() {
    first_party_plugins(); // the workspace build may relink `tmu`: let it finish first
    let ws = Workspace::new();
    let lib = example_plugin();
    let r = tmu(&ws, &[lib], &["describe", "features.margin"]).ok();
    let text = r.stdout;
    let header = format!("features.margin  (plugin tmu-example-margin 0.1.0, {})\n", lib.display());
    assert!(text.starts_with(&header), "{text}");
    for line in [
        "    model  (model)  the classifier (M_t for the twin set, M_o for D_f)",
        "    features  (features)  one column (`margin` unless renamed) per sample id of `data`",
        "    space  (\"logit\" | \"probability\", default \"logit\")  Where the margin is measured",
        "    batch_size  (integer (1 to 65536), default 256)  Samples per forward pass.",
        "  example: the softmax margin in [-1, 1], larger batches\n    space = \"probability\"\n    batch_size = 1024",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

#[test]
fn the_example_plugins_own_tests_pass() {
    cargo(&["test", "--quiet"], &example_manifest(), &out_of_tree_dir());
}

/// A model of the digits, its per-sample loss (`features.curriculum` of the model itself) and
/// margin (the example plugin, loaded from `[plugins] paths`) on both splits, labels saying
/// where the model is right (`labels.correct`), and a predictor of "right" from loss and margin.
const PIPELINE: &str = r#"
format = 1
name = "margin"
seed = 0
device = "cpu"

[plugins]
paths = ["PLUGIN"]

[stages.data]
kind = "dataset.digits"

[stages.model]
kind = "train.classifier"
inputs = { data = "data.train" }
config = { arch = "mlp", epochs = 2, batch_size = 64, optimizer = { kind = "sgd", lr = 0.05, momentum = 0.9 } }

[stages.right_train]
kind = "labels.correct"
inputs = { model = "model.model", data = "data.train" }

[stages.right_test]
kind = "labels.correct"
inputs = { model = "model.model", data = "data.test" }

[stages.loss_train]
kind = "features.curriculum"
inputs = { model = "model.model", data = "data.train" }
config = { name = "loss" }

[stages.loss_test]
kind = "features.curriculum"
inputs = { model = "model.model", data = "data.test" }
config = { name = "loss" }

[stages.margin_train]
kind = "features.margin"
inputs = { model = "model.model", data = "data.train" }

[stages.margin_test]
kind = "features.margin"
inputs = { model = "model.model", data = "data.test" }

[stages.predictor]
kind = "predictor.train"
inputs = { features = ["loss_train.features", "margin_train.features"], labels = "right_train.labels" }
config = { epochs = 20 }

[stages.predict]
kind = "predictor.apply"
inputs = { predictor = "predictor.model", features = ["loss_test.features", "margin_test.features"], truth = "right_test.labels" }
"#;

#[test]
fn a_pipeline_feeds_the_example_feature_to_the_predictor() {
    let ws = Workspace::new();
    let example = example_plugin();
    let first_party: Vec<&Path> = first_party_plugins().iter().map(|p| p.as_path()).collect();
    let file = ws.write("margin.toml", &PIPELINE.replace("PLUGIN", &example.display().to_string()));
    let first = tmu(&ws, &first_party, &["run", &file]).ok();
    assert!(
        first.stderr.contains(&format!("loaded plugin tmu-example-margin 0.1.0 (1 stage) from {}", example.display())),
        "{}",
        first.stderr
    );
    assert!(
        first.stderr.contains("[margin_test] started: features.margin from plugin tmu-example-margin on cpu"),
        "{}",
        first.stderr
    );
    let stage = |name: &str| ws.runs().join("margin").join(name);

    // The margin is negative exactly where `labels.correct` (another plugin) says the model is wrong.
    let margin = Features::read(&stage("margin_test").join("features.safetensors")).unwrap();
    let right = Labels::read(&stage("right_test").join("labels.safetensors")).unwrap();
    assert_eq!(margin.names, ["margin"]);
    assert_eq!(margin.ids, right.ids);
    let wrong: Vec<bool> = right.labels.iter().map(|&l| l == 0).collect();
    assert!(
        wrong.iter().any(|w| *w) && !wrong.iter().all(|w| *w),
        "the model should be right on most samples, not all"
    );
    for (i, (&m, &w)) in margin.values.iter().zip(&wrong).enumerate() {
        assert_eq!(m < 0.0, w, "sample id {}: margin {m}, wrong = {w}", margin.ids[i]);
    }

    // predictor.apply joined both columns by id and ranks by each: the margin separates the
    // model's mistakes perfectly (AUC 0 for "higher value => hard": hard samples have the lowest).
    let metrics = read_json(&stage("predict").join("metrics.json"));
    assert_eq!(metrics["features"], serde_json::json!(["loss", "margin"]), "{metrics}");
    assert_eq!(metrics["truth"]["feature_auc"]["margin"], 0.0, "{metrics}");
    assert!(metrics["truth"]["feature_auc"]["loss"].as_f64().unwrap() > 0.9, "{metrics}");

    // A rerun takes everything, the third-party stages included, from the cache.
    let second = tmu(&ws, &first_party, &["run", &file]).ok();
    assert!(second.stdout.contains("0 ran, 10 cached"), "{}", second.stdout);
}

#[test]
fn tmu_schema_with_the_first_party_plugins_is_the_generated_one() {
    let ws = Workspace::new();
    let first_party: Vec<&Path> = first_party_plugins().iter().map(|p| p.as_path()).collect();
    let schema = tmu(&ws, &first_party, &["schema"]).ok().stdout;
    let docs =
        std::fs::read_to_string(root().join("docs/pipeline.schema.json")).expect("reading docs/pipeline.schema.json");
    assert!(schema == docs, "`tmu schema` differs from docs/pipeline.schema.json: run `cargo xtask codegen`");
}

/// Every shipped pipeline passes `tmu check` with the first-party plugins, and those that read
/// the user's data (CIFAR, VGGFace2), run where the data is missing, stop before any work with
/// the message saying where to put it.
#[test]
fn the_shipped_pipelines_check_and_stop_cleanly_without_their_data() {
    let first_party: Vec<&Path> = first_party_plugins().iter().map(|p| p.as_path()).collect();
    let mut files: Vec<_> = std::fs::read_dir(root().join("pipelines"))
        .expect("reading pipelines/")
        .map(|e| e.expect("a folder entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    for file in &files {
        let ws = Workspace::new();
        let path = file.display().to_string();
        let check = tmu(&ws, &first_party, &["check", &path]).ok();
        assert!(check.stdout.contains("is valid") || check.stderr.contains("is valid"), "{path}: {}", check.stderr);
        let name = file.file_stem().unwrap().to_string_lossy().into_owned();
        if !["cifar10", "cifar100", "vggface2"].contains(&name.as_str()) {
            continue;
        }
        let run = tmu(&ws, &first_party, &["run", &path]);
        assert_ne!(run.code, Some(0), "{path} ran without its data");
        assert!(run.stderr.contains("not ready to run"), "{path}: {}", run.stderr);
        assert!(run.stderr.contains("help: put "), "{path}: {}", run.stderr);
        assert!(run.stderr.contains("datasets/README.md"), "{path}: {}", run.stderr);
        assert!(!ws.runs().join(&name).exists(), "{path}: a stage ran");
    }
}

#[test]
fn a_new_plugin_builds_out_of_tree_passes_its_test_and_runs_its_pipeline() {
    let first_party: Vec<&Path> = first_party_plugins().iter().map(|p| p.as_path()).collect();
    example_plugin(); // its compiled dependencies are the new plugin's
    let ws = Workspace::new();
    let made =
        tmu(&ws, &[], &["new-plugin", "entropy", "--path", "tmu-entropy", "--tmu", &root().display().to_string()]).ok();
    assert!(made.stdout.starts_with("created tmu-entropy with the stage `features.entropy`"), "{}", made.stdout);
    let project = ws.path().join("tmu-entropy");
    // Offline, the new project resolves to the crates the example's lock file pins (a third
    // party, online, resolves its own).
    std::fs::copy(root().join("examples/tmu-example-margin/Cargo.lock"), project.join("Cargo.lock")).unwrap();
    let manifest = project.join("Cargo.toml");
    cargo(&["test", "--quiet"], &manifest, &out_of_tree_dir());
    let json = cargo(&["build", "--quiet", "--message-format=json"], &manifest, &out_of_tree_dir());
    let lib = json
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|m| m["reason"] == "compiler-artifact" && m["target"]["name"] == "tmu_entropy")
        .flat_map(|m| m["filenames"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| f.as_str().map(std::path::PathBuf::from))
        .find(|f| f.to_string_lossy().ends_with(std::env::consts::DLL_SUFFIX))
        .expect("cargo built the new plugin's library");

    // Its pipeline as generated, with the library where this test built it (not target/release).
    let pipeline = std::fs::read_to_string(project.join("pipeline.toml")).unwrap();
    let pipeline =
        pipeline.replace("paths = [\"target/release\"]", &format!("paths = [{:?}]", lib.display().to_string()));
    assert!(pipeline.contains(&lib.display().to_string()), "the template's plugin path changed:\n{pipeline}");
    std::fs::write(project.join("pipeline.toml"), pipeline).unwrap();
    let run = tmu(&ws, &first_party, &["run", "tmu-entropy/pipeline.toml"]).ok();
    assert!(run.stderr.contains("loaded plugin tmu-entropy 0.1.0 (1 stage)"), "{}", run.stderr);
    let f = Features::read(&ws.runs().join("entropy-demo/entropy/features.safetensors")).unwrap();
    assert_eq!(f.names, ["entropy"]);
    assert!(f.values.iter().all(|&v| (0.0..=10f32.ln() + 1e-5).contains(&v)), "entropies outside [0, ln 10]");
    assert!(f.values.iter().any(|&v| v > 0.01), "a 3-epoch MLP is not certain of every digit");
}
