//! Writes one model artifact per architecture (small configs, seeded init, batch-norm statistics
//! moved by a few train-mode passes) and a probe next to each (`x`: a normalised input batch,
//! `logits`, `features`: the eval-mode outputs computed here), for
//! `crates/tmu-nn/scripts/check_torch_load.py` to load into PyTorch and compare.
//!
//! `cargo run -p tmu-nn --example export_models -- <folder>`

use std::path::PathBuf;

use anyhow::{Context, Result};
use candle_core::{Device, Tensor};
use tmu_nn::models::{AllCnnConfig, MlpConfig, ResNetConfig, SmallCnnConfig, Stem, VitConfig};
use tmu_nn::{ArchConfig, Network, NetworkSpec};
use tmu_plugin::ArtifactKind;
use tmu_plugin::artifact::ContainerWriter;

fn main() -> Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).context("usage: export_models <folder>")?);
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let cases = [
        ("resnet18_cifar", ArchConfig::Resnet18(ResNetConfig { stem: Stem::Cifar, width: 8 }), [3, 32, 32]),
        ("resnet18_imagenet", ArchConfig::Resnet18(ResNetConfig { stem: Stem::Imagenet, width: 4 }), [3, 64, 64]),
        ("allcnn", ArchConfig::AllCnn(AllCnnConfig { width: 12, ..AllCnnConfig::default() }), [3, 32, 32]),
        (
            "vit_tiny",
            ArchConfig::VitTiny(VitConfig { dim: 48, depth: 2, heads: 3, mlp_dim: 96, ..VitConfig::default() }),
            [3, 32, 32],
        ),
        ("small_cnn", ArchConfig::SmallCnn(SmallCnnConfig::default()), [1, 8, 8]),
        ("mlp", ArchConfig::Mlp(MlpConfig::default()), [1, 8, 8]),
    ];
    let dev = Device::Cpu;
    for (i, (name, arch, shape)) in cases.into_iter().enumerate() {
        let spec = NetworkSpec {
            arch,
            classes: (0..10).map(|k| format!("class{k}")).collect(),
            input_shape: shape,
            mean: vec![0.5; shape[0]],
            std: vec![0.25; shape[0]],
        };
        let net = Network::new(spec, &dev, i as u64)?;
        let x = Tensor::randn(0f32, 1.0, (4, shape[0], shape[1], shape[2]), &dev)?;
        for _ in 0..3 {
            net.forward_t(&(&x * 0.5)?, true)?; // moves the running statistics
        }
        let (features, logits) = net.forward_with_features(&x, false)?;
        let model = dir.join(format!("{name}.safetensors"));
        net.save(&model)?;
        let mut probe = ContainerWriter::new(ArtifactKind::Features);
        let flat = |t: &Tensor| -> Result<Vec<f32>> { Ok(t.flatten_all()?.to_vec1::<f32>()?) };
        let (xs, ls, fs) = (flat(&x)?, flat(&logits)?, flat(&features)?);
        probe.f32("x", x.dims().to_vec(), &xs).f32("logits", logits.dims().to_vec(), &ls).f32(
            "features",
            features.dims().to_vec(),
            &fs,
        );
        probe.write(&dir.join(format!("{name}.probe.safetensors")))?;
        println!("wrote {}", model.display());
    }
    Ok(())
}
