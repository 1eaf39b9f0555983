//! The per-layer gradient tolerances of the GPU parity tests (`tests/grad_compare.rs`) can see a
//! wrong gradient: on a CIFAR ResNet-18 (width 8) on the CPU, gradients with a typical kernel
//! bug (a 3x3 kernel gradient transposed in space, or its centre tap dropped) are over even the
//! loosest (bf16) tolerance in every layer, and the exact gradient is at zero.

use candle_core::{Device, Tensor};
use rand::SeedableRng;
use rand_distr::{Distribution, Normal};
use tmu_nn::models::ResNetConfig;
use tmu_nn::{ArchConfig, Network, NetworkSpec};

use crate::grad_compare::{TOL_BF16, compare_layers, network_grads, relative_error};

fn randn(seed: u64, shape: &[usize]) -> Tensor {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let n = shape.iter().product();
    let v = (0..n).map(|_| Normal::new(0f32, 1.0).unwrap().sample(&mut rng)).collect::<Vec<_>>();
    Tensor::from_vec(v, shape, &Device::Cpu).unwrap()
}

fn grads() -> Vec<(String, Tensor)> {
    let spec = NetworkSpec {
        arch: ArchConfig::Resnet18(ResNetConfig { width: 8, ..ResNetConfig::default() }),
        classes: (0..10).map(|c| c.to_string()).collect(),
        input_shape: [3, 16, 16],
        mean: vec![0.5; 3],
        std: vec![0.25; 3],
    };
    let net = Network::new(spec, &Device::Cpu, 0).unwrap();
    let x = randn(5, &[8, 3, 16, 16]);
    let y = Tensor::from_vec((0..8u32).collect::<Vec<_>>(), 8, &Device::Cpu).unwrap();
    network_grads(&net, &x, &y)
}

#[test]
fn wrong_gradients_exceed_the_bf16_tolerance_in_every_layer_they_touch() {
    let g = grads();
    assert!(compare_layers("exact", &g, &g, TOL_BF16).is_empty());
    let convs: Vec<&(String, Tensor)> = g.iter().filter(|(_, t)| t.dims().len() == 4 && t.dims()[2] == 3).collect();
    assert!(convs.len() >= 16, "the 3x3 convolutions of ResNet-18");
    let mut smallest = (f64::INFINITY, f64::INFINITY);
    for (n, t) in &convs {
        let transposed = t.transpose(2, 3).unwrap().contiguous().unwrap();
        let e_t = relative_error(&transposed, t);
        let mask = Tensor::from_vec(vec![1f32, 1., 1., 1., 0., 1., 1., 1., 1.], (1, 1, 3, 3), &Device::Cpu).unwrap();
        let no_centre = t.broadcast_mul(&mask).unwrap();
        let e_c = relative_error(&no_centre, t);
        println!("{n}: transposed {e_t:.3}, centre tap dropped {e_c:.3}");
        assert!(e_t > TOL_BF16, "{n}: a transposed kernel gradient is within tolerance ({e_t})");
        assert!(e_c > TOL_BF16, "{n}: a dropped tap is within tolerance ({e_c})");
        smallest = (smallest.0.min(e_t), smallest.1.min(e_c));
    }
    println!(
        "smallest errors: transposed {:.3}, centre tap dropped {:.3}; bf16 tolerance {TOL_BF16}",
        smallest.0, smallest.1
    );
}
