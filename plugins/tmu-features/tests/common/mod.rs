//! Shared helpers of the integration tests: the reference files, running a stage, reading its
//! features, comparing with expected values.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tmu_plugin::artifact::Features;
use tmu_plugin::protocol::WireError;
use tmu_plugin::{ArtifactKind, Inputs};
use tmu_test_support::{StageRun, config, run_stage};

/// A file of `tests/reference/` (written by `features_reference.py`).
pub fn reference_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference").join(name)
}

/// `expected.json`: model -> case -> { config, values, ... }.
pub fn expected() -> serde_json::Value {
    let text = std::fs::read_to_string(reference_file("expected.json")).expect("expected.json is present");
    serde_json::from_str(&text).expect("expected.json is JSON")
}

/// A JSON array of numbers as f64.
pub fn numbers(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number")).collect()
}

/// Inputs binding `model` and `data` (and `reference` when given) to files.
pub fn inputs(model: &Path, data: &Path, reference: Option<&Path>) -> Inputs {
    let i = Inputs::default().with("model", model, ArtifactKind::Model).with("data", data, ArtifactKind::Dataset);
    match reference {
        Some(r) => i.with("reference", r, ArtifactKind::Dataset),
        None => i,
    }
}

/// Runs `kind` of this plugin with a TOML config body.
pub fn run(kind: &str, inputs: Inputs, toml_body: &str) -> Result<StageRun, WireError> {
    run_stage(tmu_features::tmu_plugin(), kind, inputs, config(toml_body))
}

/// The `features` output of a finished run.
pub fn features(run: &StageRun) -> Features {
    Features::read(&run.output("features")).expect("output is a valid features artifact")
}

/// The error of a run that must fail.
pub fn error(result: Result<StageRun, WireError>) -> WireError {
    match result {
        Ok(_) => panic!("the stage succeeded, an error was expected"),
        Err(e) => e,
    }
}

/// The message and causes of an error on one line.
pub fn chain(e: &WireError) -> String {
    std::iter::once(e.message.as_str()).chain(e.causes.iter().map(String::as_str)).collect::<Vec<_>>().join(": ")
}

/// Largest |a - b| / max(|b|, floor) over two sequences (and asserts equal lengths).
pub fn max_rel_error(a: &[f64], b: &[f64], floor: f64) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs() / y.abs().max(floor)).fold(0.0, f64::max)
}

/// Largest |a - b|.
pub fn max_abs_error(a: &[f64], b: &[f64]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

/// Column 0 of a features artifact as f64.
pub fn column(f: &Features) -> Vec<f64> {
    f.column(0).iter().map(|&v| f64::from(v)).collect()
}

/// A seeded small-cnn (width 2) for `classes` blob classes of 1 x `size` x `size` images, saved
/// under `dir`.
pub fn tiny_model(dir: &Path, classes: usize, size: usize) -> PathBuf {
    use tmu_nn::models::SmallCnnConfig;
    use tmu_nn::{ArchConfig, Network, NetworkSpec};
    let spec = NetworkSpec {
        arch: ArchConfig::SmallCnn(SmallCnnConfig { width: 2, dropout: 0.0 }),
        classes: (0..classes).map(|k| format!("class{k}")).collect(),
        input_shape: [1, size, size],
        mean: vec![0.5],
        std: vec![0.25],
    };
    let net = Network::new(spec, &tmu_nn::candle::Device::Cpu, 5).unwrap();
    let path = dir.join(format!("model_{classes}_{size}.safetensors"));
    net.save(&path).unwrap();
    path
}

/// Writes a data set under `dir` and returns its path.
pub fn write_data(dir: &Path, name: &str, data: &tmu_plugin::artifact::Dataset) -> PathBuf {
    let path = dir.join(format!("{name}.safetensors"));
    data.write(&path).unwrap();
    path
}
