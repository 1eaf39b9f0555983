//! `Network::set_precision` on the CPU (the tiers themselves run on a GPU, see `cuda_parity`)
//! and the augmentation draws that the host and the device share.

use candle_core::{DType, Device, Tensor};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tmu_nn::models::SmallCnnConfig;
use tmu_nn::{ArchConfig, Augment, DeviceData, Network, NetworkSpec, Precision};
use tmu_test_support::{BlobsSpec, blobs};

fn data() -> tmu_plugin::artifact::Dataset {
    blobs(BlobsSpec { n: 12, classes: 3, channels: 2, size: 6, noise: 60, seed: 1, first_id: 0 })
}

#[test]
fn tiers_other_than_f32_need_a_cuda_device() {
    let arch = ArchConfig::SmallCnn(SmallCnnConfig { width: 4, dropout: 0.0 });
    let net = Network::new(NetworkSpec::for_dataset(arch, &data()), &Device::Cpu, 0).unwrap();
    assert_eq!(net.precision(), Precision::F32);
    for p in [Precision::Tf32, Precision::Bf16] {
        let err = net.set_precision(p).unwrap_err().to_string();
        assert!(err.contains(p.as_str()) && err.contains("cuda"), "{err}");
        assert_eq!(net.precision(), Precision::F32, "a refused tier is not kept");
    }
    net.set_precision(Precision::F32).unwrap();
    let x = Tensor::zeros((2, 2, 6, 6), DType::F32, &Device::Cpu).unwrap();
    let (features, logits) = net.forward_with_features(&x, true).unwrap();
    assert_eq!((features.dtype(), logits.dtype()), (DType::F32, DType::F32));
}

#[test]
fn host_augmentation_is_the_crop_and_flip_of_its_draws() {
    let d = data();
    let dd = DeviceData::new(&d, &Device::Cpu).unwrap();
    let aug = Augment { crop_padding: 2, flip: true };
    let indices = [4u32, 0, 11, 4];
    let out: Vec<u8> = dd
        .augmented(&indices, &aug, &mut ChaCha8Rng::seed_from_u64(5))
        .unwrap()
        .flatten_all()
        .unwrap()
        .to_vec1()
        .unwrap();
    // the same draws, applied by hand: out[c][y][x] = img[c][y + dy][x' + dx], x' flipped
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    let (c, h, w) = (2usize, 6usize, 6usize);
    let mut seen_flip = false;
    for (k, &i) in indices.iter().enumerate() {
        let [dy, dx, flip] = aug.draw(&mut rng);
        assert!((-2..=2).contains(&dy) && (-2..=2).contains(&dx) && (flip == 0 || flip == 1));
        seen_flip |= flip == 1;
        for ch in 0..c {
            for y in 0..h {
                for x in 0..w {
                    let xc = if flip == 1 { w - 1 - x } else { x } as i32;
                    let (sy, sx) = (y as i32 + dy, xc + dx);
                    let want = if (0..h as i32).contains(&sy) && (0..w as i32).contains(&sx) {
                        d.images[((i as usize * c + ch) * h + sy as usize) * w + sx as usize]
                    } else {
                        0
                    };
                    assert_eq!(out[((k * c + ch) * h + y) * w + x], want, "sample {k} c{ch} y{y} x{x}");
                }
            }
        }
    }
    assert!(seen_flip, "the seed should flip at least one of four images");
}
