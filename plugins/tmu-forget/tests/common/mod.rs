//! Shared fixture of the stage tests: a blobs problem (4 classes, 8x8), an original model
//! trained on all of it, a forget set of class-0 samples, and helpers to run stages and score
//! the models they write.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use tmu_nn::candle::Device;
use tmu_nn::models::MlpConfig;
use tmu_nn::optim::AdamConfig;
use tmu_nn::{
    ArchConfig, DeviceData, Network, NetworkSpec, NoObserver, OptimizerConfig, TrainConfig, TrainOptions, fit, predict,
};
use tmu_plugin::artifact::{Dataset, Labels};
use tmu_plugin::protocol::WireError;
use tmu_plugin::{ArtifactKind, Inputs};
use tmu_test_support::{BlobsSpec, RecordingHost, RunOptions, StageRun, blobs, config, run_stage_with};

/// Files of the fixture, in a temporary folder kept alive with it.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub model: PathBuf,
    pub retain: PathBuf,
    pub forget: PathBuf,
    pub retain_data: Dataset,
    pub forget_data: Dataset,
}

/// 160 blobs samples (40 per class, noise 90); the forget set is the first `forget` samples of
/// class 0, the rest is retained; the original model is an MLP trained on all of them (Adam,
/// 30 epochs: 100% training accuracy).
pub fn fixture(forget: usize) -> Fixture {
    let arch = ArchConfig::Mlp(MlpConfig { hidden: vec![128, 64], ..MlpConfig::default() });
    fixture_with(forget, arch, 30)
}

/// The same problem with a small CNN (conv, batch norm) of width 4 as the original model,
/// trained for 10 epochs.
pub fn conv_fixture(forget: usize) -> Fixture {
    let arch =
        tmu_nn::ArchOptions { width: Some(4), ..Default::default() }.resolve(tmu_nn::ArchName::SmallCnn).unwrap();
    fixture_with(forget, arch, 10)
}

fn fixture_with(forget: usize, arch: ArchConfig, epochs: usize) -> Fixture {
    let all = blobs(BlobsSpec { n: 160, classes: 4, noise: 90, seed: 11, ..BlobsSpec::default() });
    let (f, r): (Vec<usize>, Vec<usize>) = {
        let class0: Vec<usize> = (0..all.len()).filter(|&i| all.labels[i] == 0).take(forget).collect();
        (class0.clone(), (0..all.len()).filter(|i| !class0.contains(i)).collect())
    };
    let dir = tempfile::tempdir().unwrap();
    let net = Network::new(NetworkSpec::for_dataset(arch, &all), &Device::Cpu, 5).unwrap();
    let cfg = TrainConfig {
        epochs,
        batch_size: 32,
        optimizer: OptimizerConfig::Adam(AdamConfig { lr: 1e-3, ..AdamConfig::default() }),
        ..TrainConfig::default()
    };
    let data = DeviceData::new(&all, &Device::Cpu).unwrap();
    fit(&net, &data, &cfg, &TrainOptions { seed: 3, ..Default::default() }, &mut NoObserver).unwrap();
    let model = dir.path().join("original.safetensors");
    net.save(&model).unwrap();
    let (retain_data, forget_data) = (all.subset(&r), all.subset(&f));
    let retain = dir.path().join("retain.safetensors");
    let forget = dir.path().join("forget.safetensors");
    retain_data.write(&retain).unwrap();
    forget_data.write(&forget).unwrap();
    Fixture { dir, model, retain, forget, retain_data, forget_data }
}

impl Fixture {
    /// Writes generalization labels for the forget set (`easy[i]` for its i-th sample).
    pub fn labels(&self, easy: &[bool]) -> PathBuf {
        let path = self
            .dir
            .path()
            .join(format!("labels-{}.safetensors", easy.iter().map(|e| u8::from(*e).to_string()).collect::<String>()));
        Labels::easy_hard(easy, self.forget_data.ids.clone()).unwrap().write(&path).unwrap();
        path
    }

    /// The inputs stage `kind` takes: `model` and `retain`, `forget` unless the method fine-tunes
    /// on D_r only, and `labels` for `forget.tmu`.
    pub fn inputs_for(&self, kind: &str, labels: &Path) -> Inputs {
        let mut i = Inputs::default().with("model", &self.model, ArtifactKind::Model).with(
            "retain",
            &self.retain,
            ArtifactKind::Dataset,
        );
        if !["forget.finetune", "forget.l1-sparse", "forget.ct"].contains(&kind) {
            i = i.with("forget", &self.forget, ArtifactKind::Dataset);
        }
        if kind == "forget.tmu" {
            i = i.with("labels", labels, ArtifactKind::Labels);
        }
        i
    }

    /// Inputs `model`, `retain`, `forget` (+ `labels` when given).
    pub fn inputs(&self, labels: Option<&Path>) -> Inputs {
        let mut i = Inputs::default()
            .with("model", &self.model, ArtifactKind::Model)
            .with("retain", &self.retain, ArtifactKind::Dataset)
            .with("forget", &self.forget, ArtifactKind::Dataset);
        if let Some(l) = labels {
            i = i.with("labels", l, ArtifactKind::Labels);
        }
        i
    }
}

/// Runs `kind` with a TOML config body and seed `seed`.
pub fn run(kind: &str, inputs: Inputs, toml_body: &str, seed: u64) -> Result<StageRun, WireError> {
    let options = RunOptions { seed, ..RunOptions::default() };
    run_stage_with(tmu_forget::tmu_plugin(), kind, inputs, config(toml_body), &options, &RecordingHost::default())
}

/// Whether `model` classifies each sample of `data` correctly.
pub fn correct(model: &Path, data: &Dataset) -> Vec<bool> {
    let net = Network::load(model, &Device::Cpu).unwrap();
    predict(&net, &DeviceData::new(data, &Device::Cpu).unwrap(), 256, false).unwrap().correct()
}

/// Accuracy of `model` on the samples of `data` where `pick` is true.
pub fn accuracy(model: &Path, data: &Dataset, pick: impl Fn(usize) -> bool) -> f64 {
    let c = correct(model, data);
    let picked: Vec<bool> = c.iter().enumerate().filter(|(i, _)| pick(*i)).map(|(_, c)| *c).collect();
    picked.iter().filter(|c| **c).count() as f64 / picked.len() as f64
}

/// The error of a run that must fail.
pub fn error(result: Result<StageRun, WireError>) -> WireError {
    match result {
        Ok(_) => panic!("the stage succeeded, an error was expected"),
        Err(e) => e,
    }
}

/// The error's message and causes on one line.
pub fn full_message(e: &WireError) -> String {
    std::iter::once(e.message.as_str()).chain(e.causes.iter().map(String::as_str)).collect::<Vec<_>>().join(": ")
}

/// Mean cross-entropy of `model` on the samples of `data` where `pick` is true.
pub fn mean_loss(model: &Path, data: &Dataset, pick: impl Fn(usize) -> bool) -> f64 {
    let net = Network::load(model, &Device::Cpu).unwrap();
    let p = predict(&net, &DeviceData::new(data, &Device::Cpu).unwrap(), 256, false).unwrap();
    let picked: Vec<f64> = p.losses.iter().enumerate().filter(|(i, _)| pick(*i)).map(|(_, l)| *l).collect();
    picked.iter().sum::<f64>() / picked.len() as f64
}

/// The `tmu.wall_seconds` metadata of a model file.
pub fn wall_seconds(model: &Path) -> f64 {
    let (_, meta) = tmu_plugin::artifact::read_header(model).unwrap();
    meta.get(tmu_nn::META_WALL_SECONDS).expect("the model carries its wall time").parse().unwrap()
}

/// Every weight of a model file, by name, as f64 values.
pub fn weights(model: &Path) -> Vec<(String, Vec<f64>)> {
    let net = Network::load(model, &Device::Cpu).unwrap();
    net.named_vars()
        .into_iter()
        .map(|(n, v)| {
            let t = v.as_tensor().flatten_all().unwrap().to_dtype(tmu_nn::candle::DType::F64).unwrap();
            (n, t.to_vec1().unwrap())
        })
        .collect()
}

/// The metrics output of a run.
pub fn metrics(run: &StageRun) -> serde_json::Value {
    tmu_plugin::artifact::read_metrics(&run.output("metrics")).unwrap()
}

/// Every stage kind of the plugin, in registration order.
pub const KINDS: [&str; 12] = [
    "forget.tmu",
    "forget.finetune",
    "forget.neggrad",
    "forget.neggrad-plus",
    "forget.random-label",
    "forget.bad-teacher",
    "forget.scrub",
    "forget.salun",
    "forget.l1-sparse",
    "forget.ssd",
    "forget.msg",
    "forget.ct",
];
