//! `twin.build` run in-process on a small blobs problem: the twin model reaches its target fit
//! on the twin set and stops there, the labels are the original model's correctness on the twin
//! set (recomputed here with `tmu_nn::predict`), a capped run says it fell short, and a twin set
//! that overlaps the members is refused.

use std::path::{Path, PathBuf};

use tmu_nn::candle::Device;
use tmu_nn::models::MlpConfig;
use tmu_nn::optim::AdamConfig;
use tmu_nn::{
    ArchConfig, DeviceData, Network, NetworkSpec, NoObserver, OptimizerConfig, TrainConfig, TrainOptions, fit, predict,
};
use tmu_plugin::artifact::{Dataset, Labels, read_metrics};
use tmu_plugin::protocol::WireError;
use tmu_plugin::{ArtifactKind, Inputs, LogLevel};
use tmu_test_support::{BlobsSpec, RecordingHost, RunOptions, StageRun, blobs, config, run_stage_with};
use tmu_train::tmu_plugin;
use tmu_train::twin::{TwinBuild, TwinConfig};

struct Fixture {
    dir: tempfile::TempDir,
    model: PathBuf,
    members: PathBuf,
    twin: PathBuf,
    twin_data: Dataset,
}

/// 240 blobs (4 classes): the first 200 are members, on which an MLP is trained (the original
/// model); the last 40 are the held-out twin set, 6 of them relabelled to the next class so that
/// the original model gets them wrong (atypical samples a twin model has to memorise).
fn fixture() -> Fixture {
    let all = blobs(BlobsSpec { n: 240, classes: 4, noise: 90, seed: 21, ..BlobsSpec::default() });
    let members = all.subset(&(0..200).collect::<Vec<_>>());
    let mut twin = all.subset(&(200..240).collect::<Vec<_>>());
    for i in [0, 7, 13, 22, 30, 39] {
        twin.labels[i] = (twin.labels[i] + 1) % 4;
    }
    let dir = tempfile::tempdir().unwrap();
    let arch = ArchConfig::Mlp(MlpConfig { hidden: vec![64], ..MlpConfig::default() });
    let net = Network::new(NetworkSpec::for_dataset(arch, &members), &Device::Cpu, 2).unwrap();
    let cfg = TrainConfig {
        epochs: 3,
        batch_size: 32,
        optimizer: OptimizerConfig::Adam(AdamConfig { lr: 1e-3, ..AdamConfig::default() }),
        ..TrainConfig::default()
    };
    let data = DeviceData::new(&members, &Device::Cpu).unwrap();
    fit(&net, &data, &cfg, &TrainOptions { seed: 1, ..Default::default() }, &mut NoObserver).unwrap();
    let (model, m, t) = (
        dir.path().join("original.safetensors"),
        dir.path().join("members.safetensors"),
        dir.path().join("twin.safetensors"),
    );
    net.save(&model).unwrap();
    members.write(&m).unwrap();
    twin.write(&t).unwrap();
    Fixture { dir, model, members: m, twin: t, twin_data: twin }
}

fn inputs(f: &Fixture, twin: &Path) -> Inputs {
    Inputs::default()
        .with("model", &f.model, ArtifactKind::Model)
        .with("members", &f.members, ArtifactKind::Dataset)
        .with("twin_forget", twin, ArtifactKind::Dataset)
}

fn run(f: &Fixture, toml_body: &str, host: &RecordingHost) -> Result<StageRun, WireError> {
    run_stage_with(tmu_plugin(), "twin.build", inputs(f, &f.twin), config(toml_body), &RunOptions::default(), host)
}

fn correct(model: &Path, data: &Dataset) -> Vec<bool> {
    let net = Network::load(model, &Device::Cpu).unwrap();
    predict(&net, &DeviceData::new(data, &Device::Cpu).unwrap(), 64, false).unwrap().correct()
}

fn accuracy(c: &[bool]) -> f64 {
    c.iter().filter(|x| **x).count() as f64 / c.len() as f64
}

#[test]
fn reaches_the_target_fit_and_labels_by_the_original_model() {
    let f = fixture();
    let original = correct(&f.model, &f.twin_data);
    let hard = original.iter().filter(|c| !**c).count();
    assert!(hard >= 3, "the fixture needs twin samples the original model gets wrong ({hard})");

    let r = run(&f, "lr = 3e-3", &RecordingHost::default()).unwrap();
    let labels = Labels::read(&r.output("labels")).unwrap();
    assert_eq!(labels.ids, f.twin_data.ids);
    assert_eq!(labels.names, ["hard", "easy"]);
    assert_eq!(labels.labels, original.iter().map(|&c| u32::from(c)).collect::<Vec<_>>());

    let twin_acc = accuracy(&correct(&r.output("model"), &f.twin_data));
    assert!(twin_acc >= 0.99, "twin-set accuracy {twin_acc}");
    let m = read_metrics(&r.output("metrics")).unwrap();
    assert_eq!(m["reached_target"], true);
    assert_eq!(m["twin_accuracy"].as_f64(), Some(twin_acc));
    assert_eq!((m["easy"].as_u64(), m["hard"].as_u64()), (Some(40 - hard as u64), Some(hard as u64)));
    // One entry per epoch; it stopped at the first epoch that reached the target.
    let fits: Vec<f64> = m["fit"].as_array().unwrap().iter().map(|e| e["twin_accuracy"].as_f64().unwrap()).collect();
    assert_eq!(fits.len() as u64, m["epochs"].as_u64().unwrap());
    assert!(fits.len() < 50);
    assert!(fits[..fits.len() - 1].iter().all(|a| *a < 0.99) && *fits.last().unwrap() >= 0.99, "{fits:?}");
    assert!(m["members_accuracy"].as_f64().unwrap() > 0.9);
    let (_, meta) = tmu_plugin::artifact::read_header(&r.output("model")).unwrap();
    assert!(meta[tmu_nn::META_WALL_SECONDS].parse::<f64>().unwrap() > 0.0);
    // Every epoch trains on members + twin set (240) and checks the twin set (40) forward; M_o
    // labels the twin set once and the members (200) are checked at the end.
    let cost = tmu_nn::Cost::from_metadata(&meta).unwrap();
    let epochs = m["epochs"].as_u64().unwrap();
    assert_eq!((cost.train_samples, cost.forward_samples), (240 * epochs, 40 * (1 + epochs) + 200));
    assert_eq!(tmu_nn::Cost::from_metrics(&m), Some(cost));
    assert_eq!(r.response.summary["reached_target"], true);
}

#[test]
fn a_capped_run_reports_the_shortfall() {
    let f = fixture();
    let host = RecordingHost::default();
    let r = run(&f, "lr = 1e-7\nmax_epochs = 2", &host).unwrap();
    let m = read_metrics(&r.output("metrics")).unwrap();
    assert_eq!(m["reached_target"], false);
    assert_eq!(m["epochs"], 2);
    assert!(m["twin_accuracy"].as_f64().unwrap() < 0.99);
    let logs = host.logs.lock().unwrap();
    assert!(
        logs.iter().any(|(level, msg)| *level == LogLevel::Warn && msg.contains("below the target 99.00%")),
        "{logs:?}"
    );
}

#[test]
fn a_twin_set_inside_the_members_is_refused() {
    let f = fixture();
    let e = match run_stage_with(
        tmu_plugin(),
        "twin.build",
        inputs(&f, &f.members),
        config(""),
        &RunOptions::default(),
        &RecordingHost::default(),
    ) {
        Ok(_) => panic!("the stage accepted members as the twin set"),
        Err(e) => e,
    };
    assert!(e.message.starts_with("twin_forget sample id 0 is also in members"), "{}", e.message);
    drop(f.dir);
}

#[test]
fn examples_deserialize_and_defaults_are_the_method_spec() {
    tmu_test_support::check_examples::<TwinBuild>();
    let d: TwinConfig = serde_json::from_value(config("")).unwrap();
    assert_eq!(d, TwinConfig::default());
    assert_eq!((d.lr, d.batch_size, d.target_fit, d.max_epochs), (1e-4, 64, 0.99, 50));
}

#[test]
fn every_example_runs() {
    let f = fixture();
    assert!(tmu_test_support::run_examples(tmu_plugin(), "twin.build", &inputs(&f, &f.twin)) >= 2);
}
