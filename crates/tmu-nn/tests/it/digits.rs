//! What the quickstart pipeline relies on: the small CNN and the MLP reach 95%+ test accuracy
//! on the embedded 8x8 digits in seconds on CPU, identically on every run.

use std::time::Instant;

use candle_core::Device;
use tmu_nn::models::{MlpConfig, SmallCnnConfig};
use tmu_nn::optim::{AdamConfig, OptimizerConfig, Schedule, SgdConfig};
use tmu_nn::{ArchConfig, DeviceData, Network, NetworkSpec, NoObserver, TrainConfig, TrainOptions, fit, predict};
use tmu_plugin::artifact::{Dataset, DatasetMeta};

/// `datasets/digits/digits.bin` (65-byte records: label, 64 pixels 0..16), split 3:1 by
/// position (every 4th sample is a test sample).
fn digits() -> (Dataset, Dataset) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../datasets/digits/digits.bin");
    let bytes = std::fs::read(path).expect("the embedded digits");
    let mut images = Vec::new();
    let mut labels = Vec::new();
    for r in bytes.chunks_exact(65) {
        labels.push(u32::from(r[0]));
        images.extend(r[1..].iter().map(|&v| ((u32::from(v) * 255 + 8) / 16) as u8));
    }
    let n = labels.len();
    let meta = DatasetMeta {
        classes: (0..10).map(|d| d.to_string()).collect(),
        mean: vec![0.3],
        std: vec![0.37],
        source: "digits".into(),
        ..DatasetMeta::default()
    };
    let all = Dataset::new(images, [n, 1, 8, 8], labels, (0..n as u64).collect(), meta).unwrap();
    let (test, train): (Vec<usize>, Vec<usize>) = (0..n).partition(|i| i % 4 == 0);
    (all.subset(&train), all.subset(&test))
}

fn train_and_test(arch: ArchConfig, cfg: &TrainConfig) -> (f64, Vec<u32>, f64) {
    let (train, test) = digits();
    let dev = Device::Cpu;
    let net = Network::new(NetworkSpec::for_dataset(arch, &train), &dev, 0).unwrap();
    let started = Instant::now();
    let train_d = DeviceData::new(&train, &dev).unwrap();
    fit(&net, &train_d, cfg, &TrainOptions { seed: 1, ..Default::default() }, &mut NoObserver).unwrap();
    let seconds = started.elapsed().as_secs_f64();
    let p = predict(&net, &DeviceData::new(&test, &dev).unwrap(), 256, false).unwrap();
    (p.accuracy(), p.predicted(), seconds)
}

#[test]
fn small_cnn_reaches_95_percent_twice_identically() {
    let cfg = TrainConfig {
        epochs: 8,
        batch_size: 64,
        optimizer: OptimizerConfig::Sgd(SgdConfig { lr: 0.05, ..SgdConfig::default() }),
        schedule: Schedule::Cosine { min_lr: 0.0 },
        ..TrainConfig::default()
    };
    let arch = ArchConfig::SmallCnn(SmallCnnConfig { width: 16, dropout: 0.0 });
    let (acc, pred, seconds) = train_and_test(arch.clone(), &cfg);
    println!("small-cnn: test accuracy {:.2}% in {seconds:.1} s", 100.0 * acc);
    assert!(acc >= 0.95, "test accuracy {acc}");
    let (acc2, pred2, _) = train_and_test(arch, &cfg);
    assert_eq!((acc, pred), (acc2, pred2));
}

#[test]
fn mlp_reaches_95_percent() {
    let cfg = TrainConfig {
        epochs: 20,
        batch_size: 64,
        optimizer: OptimizerConfig::Adam(AdamConfig { lr: 1e-3, ..AdamConfig::default() }),
        ..TrainConfig::default()
    };
    let (acc, _, seconds) = train_and_test(ArchConfig::Mlp(MlpConfig::default()), &cfg);
    println!("mlp: test accuracy {:.2}% in {seconds:.1} s", 100.0 * acc);
    assert!(acc >= 0.95, "test accuracy {acc}");
}
