//! Quick end-to-end: every architecture builds, runs forward in both modes, and the small ones
//! learn the seeded blobs.

use candle_core::Device;
use tmu_nn::models::{MlpConfig, SmallCnnConfig};
use tmu_nn::{ArchConfig, DeviceData, Network, NetworkSpec, NoObserver, TrainConfig, TrainOptions, evaluate, fit};
use tmu_test_support::{BlobsSpec, blobs};

#[test]
fn small_cnn_learns_blobs() {
    let data = blobs(BlobsSpec { n: 256, classes: 4, channels: 1, size: 8, noise: 60, seed: 1, first_id: 0 });
    let spec = NetworkSpec::for_dataset(ArchConfig::SmallCnn(SmallCnnConfig { width: 8, dropout: 0.0 }), &data);
    let dev = Device::Cpu;
    let net = Network::new(spec, &dev, 7).unwrap();
    let d = DeviceData::new(&data, &dev).unwrap();
    let cfg = TrainConfig { epochs: 3, batch_size: 32, ..Default::default() };
    let report = fit(&net, &d, &cfg, &TrainOptions { seed: 3, ..Default::default() }, &mut NoObserver).unwrap();
    println!("{:?}", report.history);
    let acc = evaluate(&net, &d, 64).unwrap();
    assert!(acc > 0.9, "accuracy {acc}");
    let _ = MlpConfig::default();
}
