//! Whole-network gradients at a real size: a full-size CIFAR ResNet-18 at batch 128, one
//! training-mode forward and backward pass on the GPU against the CPU from the same weights and
//! inputs, every layer's gradient compared before any optimizer step, relative to that layer's
//! gradient norm (`tests/shared/grad_compare.rs`: tolerances per tier, and why they can see a
//! wrong gradient). One test per tier, so that each runs in its own process under the GPU check.

use candle_core::{Device, Tensor};
use tmu_nn::models::ResNetConfig;
use tmu_nn::ops::Precision;
use tmu_nn::{ArchConfig, Network, NetworkSpec};

use super::grad_compare::{TOL_BF16, TOL_F32, TOL_TF32, compare_layers, network_grads};
use super::{gpu, randn};

const BATCH: usize = 128;

fn resnet18(dev: &Device) -> Network {
    let spec = NetworkSpec {
        arch: ArchConfig::Resnet18(ResNetConfig::default()),
        classes: (0..10).map(|c| c.to_string()).collect(),
        input_shape: [3, 32, 32],
        mean: vec![0.5; 3],
        std: vec![0.25; 3],
    };
    Network::new(spec, dev, 0).unwrap()
}

fn batch(dev: &Device) -> (Tensor, Tensor) {
    let x = randn(21, &[BATCH, 3, 32, 32], 0.5, 0.25).to_device(dev).unwrap();
    let y = Tensor::from_vec((0..BATCH as u32).map(|i| i % 10).collect::<Vec<_>>(), BATCH, dev).unwrap();
    (x, y)
}

fn grads(dev: &Device, precision: Precision) -> Vec<(String, Tensor)> {
    let net = resnet18(dev);
    net.set_precision(precision).unwrap();
    let (x, y) = batch(dev);
    network_grads(&net, &x, &y)
}

fn tier(precision: Precision, tol: f64) {
    let cpu = grads(&Device::Cpu, Precision::F32);
    let cuda = grads(&gpu(), precision);
    let over = compare_layers(&format!("resnet18 b{BATCH} {precision} grad"), &cuda, &cpu, tol);
    assert!(over.is_empty(), "{} of {} layers over {tol:e}: {over:?}", over.len(), cpu.len());
}

#[test]
fn resnet18_b128_gradients_f32() {
    tier(Precision::F32, TOL_F32);
}

#[test]
fn resnet18_b128_gradients_tf32() {
    tier(Precision::Tf32, TOL_TF32);
}

#[test]
fn resnet18_b128_gradients_bf16() {
    tier(Precision::Bf16, TOL_BF16);
}
