//! Whole training steps on the GPU against the CPU: device augmentation against the host's, a
//! full-size CIFAR ResNet-18 step (strict f32), `fit` with augmentation (the device-side batch
//! feed), and bf16 mixed precision against f32.

use candle_core::{DType, Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tmu_nn::models::ResNetConfig;
use tmu_nn::ops::{Precision, SgdCfg};
use tmu_nn::optim::{OptimizerConfig, SgdConfig};
use tmu_nn::{ArchConfig, Augment, DeviceData, Network, NetworkSpec, NoObserver, TrainConfig, TrainOptions, fit};
use tmu_test_support::{BlobsSpec, blobs};

use super::{check, gpu, randn};

fn data() -> tmu_plugin::artifact::Dataset {
    blobs(BlobsSpec { n: 96, classes: 4, channels: 3, size: 16, noise: 60, seed: 3, first_id: 0 })
}

fn resnet(width: usize, data: &tmu_plugin::artifact::Dataset, dev: &Device) -> Network {
    let arch = ArchConfig::Resnet18(ResNetConfig { width, ..ResNetConfig::default() });
    Network::new(NetworkSpec::for_dataset(arch, data), dev, 7).unwrap()
}

#[test]
fn device_augmentation_matches_the_host() {
    let d = data();
    let (cpu, cuda) = (DeviceData::new(&d, &Device::Cpu).unwrap(), DeviceData::new(&d, &gpu()).unwrap());
    let indices: Vec<u32> = vec![5, 0, 95, 17, 17, 42, 3, 88, 60, 1];
    for aug in [
        Augment { crop_padding: 4, flip: true },
        Augment { crop_padding: 2, flip: false },
        Augment { crop_padding: 0, flip: true },
    ] {
        let host = cpu.augmented(&indices, &aug, &mut ChaCha8Rng::seed_from_u64(9)).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(9);
        let draws: Vec<i32> = indices.iter().flat_map(|_| aug.draw(&mut rng)).collect();
        let draws = Tensor::from_vec(draws, (indices.len(), 3), cuda.device()).unwrap();
        let index = cuda.index_tensor(&indices).unwrap();
        let on_device = cuda.augmented_on_device(&index, &draws).unwrap();
        let (h, g): (Vec<u8>, Vec<u8>) = (
            host.flatten_all().unwrap().to_vec1().unwrap(),
            on_device.to_device(&Device::Cpu).unwrap().flatten_all().unwrap().to_vec1().unwrap(),
        );
        assert_eq!(h, g, "{aug:?}: device and host augmentation differ");
        println!("augment {aug:?}: {} bytes identical", h.len());
    }
}

/// Logits, loss and every weight after one SGD step of a full-size CIFAR ResNet-18 on a batch
/// of 8 random 32x32 images.
fn resnet18_step(dev: &Device, precision: Precision) -> (Tensor, f32, Vec<(String, Tensor)>) {
    let spec = NetworkSpec {
        arch: ArchConfig::Resnet18(ResNetConfig::default()),
        classes: (0..10).map(|c| c.to_string()).collect(),
        input_shape: [3, 32, 32],
        mean: vec![0.5; 3],
        std: vec![0.25; 3],
    };
    let net = Network::new(spec, dev, 0).unwrap();
    net.set_precision(precision).unwrap();
    let x = randn(1, &[8, 3, 32, 32], 0.0, 1.0).to_device(dev).unwrap();
    let y = Tensor::from_vec((0..8u32).collect::<Vec<_>>(), 8, dev).unwrap();
    let logits = net.forward_t(&x, true).unwrap();
    assert_eq!(logits.dtype(), DType::F32);
    let loss = candle_nn::loss::cross_entropy(&logits, &y).unwrap();
    let grads = loss.backward().unwrap();
    let cfg = SgdCfg { lr: 0.1, momentum: 0.9, weight_decay: 5e-4, dampening: 0.0, nesterov: false };
    for (_, p) in net.trainable_vars() {
        let g = grads.get(p.as_tensor()).expect("every parameter has a gradient");
        tmu_nn::ops::sgd_momentum_update(&p, g, &mut None, &cfg).unwrap();
    }
    let weights = net.named_vars().into_iter().map(|(n, v)| (n, v.as_tensor().clone())).collect();
    (logits, loss.to_scalar::<f32>().unwrap(), weights)
}

#[test]
fn resnet18_step_matches_the_cpu_in_f32_and_stays_close_in_bf16() {
    let (lc, loss_c, wc) = resnet18_step(&Device::Cpu, Precision::F32);
    let (lg, loss_g, wg) = resnet18_step(&gpu(), Precision::F32);
    check("resnet18 f32 logits", &lg, &lc, 1e-3);
    println!("resnet18 loss: cpu {loss_c}, gpu f32 {loss_g}");
    assert!((loss_c - loss_g).abs() <= 1e-3 * loss_c.abs().max(1.0));
    for ((n, g), (_, c)) in wg.iter().zip(&wc) {
        check(&format!("resnet18 f32 after one step: {n}"), g, c, 1e-4);
    }
    let (lb, loss_b, wb) = resnet18_step(&gpu(), Precision::Bf16);
    check("resnet18 bf16 logits", &lb, &lc, 1e-1);
    println!("resnet18 loss: gpu bf16 {loss_b}");
    assert!((loss_c - loss_b).abs() <= 1e-1 * loss_c.abs().max(1.0));
    for ((n, b), (_, c)) in wb.iter().zip(&wc) {
        assert_eq!(b.dtype(), c.dtype(), "{n}: master weights and buffers keep their dtype");
        check(&format!("resnet18 bf16 after one step: {n}"), b, c, 2e-2);
    }
}

fn fit_losses(dev: &Device, precision: Precision) -> Vec<f64> {
    let d = data();
    let net = resnet(8, &d, dev);
    net.set_precision(precision).unwrap();
    let train = DeviceData::new(&d, dev).unwrap();
    let cfg = TrainConfig {
        epochs: 3,
        batch_size: 16,
        optimizer: OptimizerConfig::Sgd(SgdConfig { lr: 0.05, ..SgdConfig::default() }),
        augment: Augment { crop_padding: 2, flip: true },
        sync_every: 4,
        ..TrainConfig::default()
    };
    let report = fit(&net, &train, &cfg, &TrainOptions { seed: 11, ..Default::default() }, &mut NoObserver).unwrap();
    report.history.iter().map(|e| e.loss).collect()
}

#[test]
fn fit_on_the_gpu_follows_the_cpu_run() {
    let cpu = fit_losses(&Device::Cpu, Precision::F32);
    let f32s = fit_losses(&gpu(), Precision::F32);
    let bf16 = fit_losses(&gpu(), Precision::Bf16);
    println!("epoch losses: cpu {cpu:?}\n              gpu f32 {f32s:?}\n              gpu bf16 {bf16:?}");
    assert!(cpu.last() < cpu.first(), "the CPU run learns");
    for (e, (g, c)) in f32s.iter().zip(&cpu).enumerate() {
        assert!((g - c).abs() <= 1e-3 * c.abs().max(1.0), "epoch {e}: gpu f32 loss {g} vs cpu {c}");
    }
    for (e, (b, c)) in bf16.iter().zip(&cpu).enumerate() {
        assert!((b - c).abs() <= 0.1 * c.abs().max(1.0), "epoch {e}: gpu bf16 loss {b} vs cpu {c}");
    }
}
