//! `train.classifier` run in-process: examples parse, a run learns and reports, reruns are
//! identical, a cancelled run resumes from its checkpoint, bad configs are named.

use std::path::Path;

use tmu_nn::Network;
use tmu_nn::candle::Device;
use tmu_plugin::protocol::{ErrorKind, RunRequest};
use tmu_plugin::{ArtifactKind, Inputs, Stage};
use tmu_test_support::{BlobsSpec, RecordingHost, blobs, config, run_stage};
use tmu_train::{ClassifierConfig, TrainClassifier, tmu_plugin};

#[test]
fn every_example_config_deserializes_and_resolves() {
    for example in TrainClassifier::examples() {
        let cfg: ClassifierConfig = serde_json::from_value(config(&example.config_toml))
            .unwrap_or_else(|e| panic!("example `{}`: {e}", example.title));
        cfg.arch_options.resolve(cfg.arch).unwrap_or_else(|e| panic!("example `{}`: {e}", example.title));
        cfg.train_config().validate().unwrap_or_else(|e| panic!("example `{}`: {e}", example.title));
    }
}

/// 96 blobs (3 classes, 1x8x8): part 0 for training, part 1 a disjoint evaluation set with the
/// same class patterns.
fn write_blobs(dir: &Path, name: &str, part: usize) -> std::path::PathBuf {
    let path = dir.join(format!("{name}.safetensors"));
    let all = blobs(BlobsSpec { n: 192, classes: 3, channels: 1, size: 8, noise: 70, seed: 5, first_id: 0 });
    all.subset(&(part * 96..(part + 1) * 96).collect::<Vec<_>>()).write(&path).unwrap();
    path
}

const SMALL: &str = "arch = \"small-cnn\"\narch_options = { width = 8, dropout = 0.2 }\nepochs = 4\nbatch_size = 16\n\
                     augment = { crop_padding = 1, flip = true }";

fn weights(path: &Path) -> Vec<(String, Vec<f32>)> {
    let net = Network::load(path, &Device::Cpu).unwrap();
    net.named_vars()
        .into_iter()
        .map(|(n, v)| {
            let t = v.as_tensor().flatten_all().unwrap().to_dtype(tmu_nn::candle::DType::F32).unwrap();
            (n, t.to_vec1().unwrap())
        })
        .collect()
}

#[test]
fn trains_reports_and_reruns_identically() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_blobs(dir.path(), "train", 0);
    let eval = write_blobs(dir.path(), "eval", 1);
    let inputs =
        Inputs::default().with("data", &data, ArtifactKind::Dataset).with("eval", &eval, ArtifactKind::Dataset);
    let run = run_stage(tmu_plugin(), "train.classifier", inputs.clone(), config(SMALL)).unwrap();
    let summary = &run.response.summary;
    assert_eq!(summary["epochs"], 4);
    assert_eq!(summary["steps"], 24);
    assert_eq!(summary["stopped_by"], "epochs");
    assert!(summary["eval_accuracy"].as_f64().unwrap() > 0.9, "{summary}");
    assert_eq!(run.response.resolved_config["schedule"]["kind"], "cosine");
    let model = run.output("model");
    let net = Network::load(&model, &Device::Cpu).unwrap();
    assert_eq!(net.spec().arch.name(), "small-cnn");
    assert_eq!(net.spec().classes, ["class0", "class1", "class2"]);
    // The cost: 4 epochs of 96 samples through forward and backward, the eval set's 96 forward
    // after each; the same in the metrics.
    let (_, meta) = tmu_plugin::artifact::read_header(&model).unwrap();
    let cost = tmu_nn::Cost::from_metadata(&meta).expect("the model records its cost");
    assert_eq!((cost.train_samples, cost.forward_samples), (4 * 96, 4 * 96));
    assert!(cost.wall_seconds > 0.0);
    let m = tmu_plugin::artifact::read_metrics(&run.output("metrics")).unwrap();
    assert_eq!(tmu_nn::Cost::from_metrics(&m), Some(cost));
    assert_eq!((m["epochs"].as_u64(), m["steps"].as_u64()), (Some(4), Some(24)));

    let again = run_stage(tmu_plugin(), "train.classifier", inputs.clone(), config(SMALL)).unwrap();
    assert_eq!(weights(&model), weights(&again.output("model")));

    // Ensemble members: each `replicate` its own initialisation and batch order, reproducibly.
    let member = |n: u32| {
        let run =
            run_stage(tmu_plugin(), "train.classifier", inputs.clone(), config(&format!("{SMALL}\nreplicate = {n}")));
        weights(&run.unwrap().output("model"))
    };
    let (zero, one) = (member(0), member(1));
    assert_ne!(zero, weights(&model));
    assert_ne!(zero, one);
    assert_eq!(zero, member(0));
}

fn request(dir: &Path, data: &Path) -> RunRequest {
    let out = dir.join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::create_dir_all(dir.join("work")).unwrap();
    RunRequest {
        stage: "original".into(),
        kind: "train.classifier".into(),
        // A checkpoint after every epoch (the default is at most one per 30 s).
        config: config(&format!("{SMALL}\ncheckpoint_interval = 0")),
        inputs: Inputs::default().with("data", data, ArtifactKind::Dataset),
        output_dir: out,
        work_dir: dir.join("work"),
        seed: 4,
        device: "cpu".into(),
        preflight: false,
    }
}

#[test]
fn a_cancelled_run_resumes_from_its_last_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_blobs(dir.path(), "train", 0);
    let straight_dir = dir.path().join("straight");
    tmu_plugin().run(&request(&straight_dir, &data), &RecordingHost::default()).unwrap();

    // 6 steps per epoch: cancelled during the third epoch, after two checkpoints.
    let resumed_dir = dir.path().join("resumed");
    let host = RecordingHost { cancel_after: Some(14), ..RecordingHost::default() };
    let err = tmu_plugin().run(&request(&resumed_dir, &data), &host).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Cancelled, "{err:?}");
    let response = tmu_plugin().run(&request(&resumed_dir, &data), &RecordingHost::default()).unwrap();
    assert_eq!(response.summary["resumed_epochs"], 2);
    let model = |d: &Path| d.join("out").join("model.safetensors");
    assert_eq!(weights(&model(&resumed_dir)), weights(&model(&straight_dir)));
}

#[test]
fn bad_configs_are_named() {
    let dir = tempfile::tempdir().unwrap();
    let data = write_blobs(dir.path(), "train", 0);
    let inputs = Inputs::default().with("data", &data, ArtifactKind::Dataset);
    let err =
        run_stage(tmu_plugin(), "train.classifier", inputs.clone(), config("arch = \"mlp\"\nepoch = 3")).unwrap_err();
    assert_eq!(err.kind, ErrorKind::Config);
    assert_eq!(err.causes, ["config: Additional properties are not allowed ('epoch' was unexpected)"]);

    let cfg = config("arch = \"mlp\"\narch_options = { stem = \"imagenet\" }");
    let err = run_stage(tmu_plugin(), "train.classifier", inputs.clone(), cfg).unwrap_err();
    assert_eq!(err.message, "arch_options `stem` do not apply to `mlp` (it takes: hidden, dropout)");

    let cfg = config("arch = \"small-cnn\"\noptimizer = { kind = \"sgd\", nesterov = true, momentum = 0.0 }");
    assert!(TrainClassifier::preflight(&serde_json::from_value(cfg).unwrap()).is_err());

    let cfg = config("arch = \"vit-tiny\"\narch_options = { patch = 3 }");
    let err = run_stage(tmu_plugin(), "train.classifier", inputs, cfg).unwrap_err();
    assert!(err.chain_line().contains("image size 8x8 is not a multiple of the patch size 3"), "{err:?}");
}

#[test]
fn every_cheap_example_runs() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("train.safetensors");
    blobs(BlobsSpec { n: 24, classes: 3, channels: 3, size: 16, noise: 70, seed: 5, first_id: 0 })
        .write(&path)
        .unwrap();
    let inputs = Inputs::default().with("data", &path, ArtifactKind::Dataset);
    // Hundreds of epochs of ResNet-18 or ViT-Tiny are minutes even on this data; they still
    // deserialize and pass preflight (`every_example_config_deserializes_and_resolves`).
    let too_costly = [
        "ResNet-18 on CIFAR-10 with the standard recipe",
        "ResNet-18 with the ImageNet stem for 112x112 faces",
        "ViT-Tiny (4x4 patches) with AdamW, one-cycle and label smoothing",
    ];
    assert!(tmu_test_support::run_examples_except(tmu_plugin(), "train.classifier", &inputs, &too_costly) >= 2);
}
