//! Predictions over a data set and gradients with respect to input pixels.

use candle_core::{DType, Device, Tensor};
use tmu_nn::loss::per_sample_cross_entropy;
use tmu_nn::models::{MlpConfig, SmallCnnConfig};
use tmu_nn::{ArchConfig, DeviceData, Network, NetworkSpec, input_gradient, predict};
use tmu_test_support::{BlobsSpec, blobs};

fn setup(arch: ArchConfig) -> (tmu_plugin::artifact::Dataset, Network) {
    let data = blobs(BlobsSpec { n: 10, classes: 3, channels: 2, size: 4, noise: 40, seed: 2, first_id: 100 });
    let mut spec = NetworkSpec::for_dataset(arch, &data);
    spec.mean = vec![0.3, 0.6];
    spec.std = vec![0.2, 0.4];
    (data.clone(), Network::new(spec, &Device::Cpu, 11).unwrap())
}

#[test]
fn predictions_match_a_direct_forward_pass() {
    let (data, net) = setup(ArchConfig::SmallCnn(SmallCnnConfig { width: 3, dropout: 0.5 }));
    let d = DeviceData::new(&data, &Device::Cpu).unwrap();
    let p = predict(&net, &d, 3, true).unwrap();
    assert_eq!((p.len(), p.num_classes, p.feature_dim, p.features.len()), (10, 3, 12, 120));
    assert_eq!(p.labels, data.labels);

    // Normalisation by hand: (x / 255 - mean) / std per channel.
    let x: Vec<f32> = data
        .images
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let c = (i / 16) % 2;
            (f32::from(v) / 255.0 - [0.3, 0.6][c]) / [0.2, 0.4][c]
        })
        .collect();
    let x = Tensor::from_vec(x, (10, 2, 4, 4), &Device::Cpu).unwrap();
    let (f, logits) = net.forward_with_features(&x, false).unwrap();
    let max_diff = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(a, b)| (a - b).abs()).fold(0.0f32, f32::max);
    assert!(max_diff(&p.logits, &logits.flatten_all().unwrap().to_vec1::<f32>().unwrap()) < 1e-5);
    assert!(max_diff(&p.features, &f.flatten_all().unwrap().to_vec1::<f32>().unwrap()) < 1e-5);
    let labels = Tensor::new(data.labels.as_slice(), &Device::Cpu).unwrap();
    let ce = per_sample_cross_entropy(&logits, &labels).unwrap().to_vec1::<f32>().unwrap();
    for (a, b) in p.losses.iter().zip(&ce) {
        assert!((a - f64::from(*b)).abs() < 1e-5, "{a} vs {b}");
    }
    // Eval mode ignores dropout: predictions are repeatable.
    assert_eq!(p, predict(&net, &d, 4, true).unwrap());
}

#[test]
fn input_gradient_matches_finite_differences_in_pixel_space() {
    let (data, net) = setup(ArchConfig::Mlp(MlpConfig { hidden: vec![8], dropout: 0.0 }));
    let d = DeviceData::new(&data, &Device::Cpu).unwrap();
    let pixels = d.pixels(0, 4).unwrap().to_dtype(DType::F32).unwrap();
    let labels = d.labels_tensor().narrow(0, 0, 4).unwrap();
    let (grad, logits) = input_gradient(&net, &pixels, &labels).unwrap();
    assert_eq!(grad.dims(), &[4, 2, 4, 4]);
    assert_eq!(logits.dims(), &[4, 3]);

    let loss = |p: &Tensor| -> f64 {
        let logits = net.forward_t(&net.normalise(p).unwrap(), false).unwrap();
        f64::from(per_sample_cross_entropy(&logits, &labels).unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap())
    };
    let flat = pixels.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let g = grad.flatten_all().unwrap().to_vec1::<f32>().unwrap();
    let h = 1e-2f32;
    for i in [0, 17, 40, 77, 127] {
        let mut plus = flat.clone();
        plus[i] += h;
        let mut minus = flat.clone();
        minus[i] -= h;
        let t = |v: Vec<f32>| Tensor::from_vec(v, (4, 2, 4, 4), &Device::Cpu).unwrap();
        let numeric = (loss(&t(plus)) - loss(&t(minus))) / (2.0 * f64::from(h));
        let analytic = f64::from(g[i]);
        assert!((numeric - analytic).abs() < 2e-3 * analytic.abs().max(1.0), "pixel {i}: {numeric} vs {analytic}");
    }
}
