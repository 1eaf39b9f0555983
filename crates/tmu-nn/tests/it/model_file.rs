//! Model artifacts: save/load round trips exactly, and loading names every mismatch.

use std::borrow::Cow;

use candle_core::{Device, Tensor};
use tmu_nn::models::{ResNetConfig, SmallCnnConfig, Stem, VitConfig};
use tmu_nn::{ArchConfig, ArchName, ArchOptions, DeviceData, Network, NetworkSpec, NnError, predict};
use tmu_plugin::ArtifactKind;
use tmu_plugin::artifact::{Container, ContainerWriter};
use tmu_test_support::{BlobsSpec, blobs};

fn spec(arch: ArchConfig, channels: usize, size: usize) -> NetworkSpec {
    NetworkSpec {
        arch,
        classes: vec!["a".into(), "b".into(), "c".into()],
        input_shape: [channels, size, size],
        mean: vec![0.4; channels],
        std: vec![0.2; channels],
    }
}

#[test]
fn save_then_load_gives_the_same_network() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (ArchConfig::SmallCnn(SmallCnnConfig { width: 4, dropout: 0.0 }), 1, 8),
        (ArchConfig::Resnet18(ResNetConfig { stem: Stem::Imagenet, width: 2 }), 3, 16),
        (ArchConfig::VitTiny(VitConfig { dim: 12, depth: 1, heads: 2, mlp_dim: 8, ..VitConfig::default() }), 3, 8),
    ];
    for (arch, c, size) in cases {
        let net = Network::new(spec(arch.clone(), c, size), &Device::Cpu, 3).unwrap();
        let path = dir.path().join(format!("{}.safetensors", arch.name()));
        net.save(&path).unwrap();
        let back = Network::load(&path, &Device::Cpu).unwrap();
        assert_eq!(back.spec(), net.spec());
        let data = blobs(BlobsSpec { n: 5, classes: 3, channels: c, size, ..BlobsSpec::default() });
        let d = DeviceData::new(&data, &Device::Cpu).unwrap();
        assert_eq!(predict(&net, &d, 4, true).unwrap(), predict(&back, &d, 4, true).unwrap());

        let file = Container::read(&path, ArtifactKind::Model).unwrap();
        assert_eq!(file.meta(tmu_nn::META_ARCH), Some(arch.name()));
        assert_eq!(Network::read_spec(&path).unwrap(), *net.spec());
    }
}

/// Writes a model file whose tensors and metadata are those of `net`, edited.
fn edited(net: &Network, path: &std::path::Path, edit: impl Fn(&mut Vec<(String, Tensor)>, &mut ContainerWriter)) {
    net.save(path).unwrap();
    let original = Container::read(path, ArtifactKind::Model).unwrap();
    let mut tensors: Vec<(String, Tensor)> =
        net.named_vars().into_iter().map(|(n, v)| (n, v.as_tensor().clone())).collect();
    let mut w = ContainerWriter::new(ArtifactKind::Model);
    for (k, v) in original.metadata() {
        w.meta(k, v.clone());
    }
    edit(&mut tensors, &mut w);
    for (name, t) in &tensors {
        let (dtype, bytes) = match t.dtype() {
            candle_core::DType::I64 => (safetensors::Dtype::I64, t.to_scalar::<i64>().unwrap().to_le_bytes().to_vec()),
            _ => (
                safetensors::Dtype::F32,
                t.flatten_all().unwrap().to_vec1::<f32>().unwrap().iter().flat_map(|v| v.to_le_bytes()).collect(),
            ),
        };
        w.raw(name, dtype, t.dims().to_vec(), Cow::Owned(bytes));
    }
    w.write(path).unwrap();
}

fn load_problems(path: &std::path::Path) -> Vec<String> {
    match Network::load(path, &Device::Cpu) {
        Err(NnError::Model { problems, .. }) => problems,
        Err(other) => panic!("unexpected error: {other}"),
        Ok(_) => panic!("loaded a broken file"),
    }
}

#[test]
fn loading_names_missing_extra_and_misshapen_weights() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let net =
        Network::new(spec(ArchConfig::SmallCnn(SmallCnnConfig { width: 2, dropout: 0.0 }), 1, 8), &Device::Cpu, 0)
            .unwrap();
    edited(&net, &path, |tensors, _| {
        tensors.retain(|(n, _)| n != "features.1.running_var");
        tensors.iter_mut().find(|(n, _)| n == "classifier.weight").unwrap().1 =
            Tensor::zeros((4, 8), candle_core::DType::F32, &Device::Cpu).unwrap();
        tensors.push(("extra.weight".into(), Tensor::zeros(2, candle_core::DType::F32, &Device::Cpu).unwrap()));
    });
    let problems = load_problems(&path);
    assert_eq!(
        problems,
        [
            "missing weight `features.1.running_var` (shape [2])",
            "weight `classifier.weight` has shape [4, 8], the architecture needs [3, 8]",
            "unexpected weight `extra.weight`",
        ]
    );
    let message = Network::load(&path, &Device::Cpu).unwrap_err().to_string();
    assert!(message.starts_with(&path.display().to_string()), "{message}");
}

#[test]
fn loading_names_a_wrong_or_unknown_architecture_and_missing_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.safetensors");
    let net =
        Network::new(spec(ArchConfig::SmallCnn(SmallCnnConfig { width: 2, dropout: 0.0 }), 1, 8), &Device::Cpu, 0)
            .unwrap();
    edited(&net, &path, |_, w| {
        w.meta(tmu_nn::META_ARCH, "resnet18");
    });
    assert_eq!(
        load_problems(&path),
        ["metadata `tmu.arch` says `resnet18` but `tmu.arch_config` describes `small-cnn`"]
    );
    edited(&net, &path, |_, w| {
        w.meta(tmu_nn::META_ARCH_CONFIG, r#"{"arch":"vgg16"}"#);
        w.meta(tmu_nn::META_MEAN, "oops");
    });
    let problems = load_problems(&path);
    assert!(
        problems[0].starts_with("metadata `tmu.arch_config` is not valid: unknown variant `vgg16`"),
        "{problems:?}"
    );
    assert!(problems[1].starts_with("metadata `tmu.mean` is not valid"), "{problems:?}");

    // A dataset artifact is refused by kind.
    let data = blobs(BlobsSpec::default());
    data.write(&path).unwrap();
    let err = Network::load(&path, &Device::Cpu).unwrap_err().to_string();
    assert!(err.contains("is a `dataset` artifact, expected `model`"), "{err}");
}

#[test]
fn arch_options_resolve_and_name_what_does_not_apply() {
    let opts = ArchOptions { stem: Some(Stem::Imagenet), ..ArchOptions::default() };
    assert_eq!(
        opts.resolve(ArchName::Resnet18).unwrap(),
        ArchConfig::Resnet18(ResNetConfig { stem: Stem::Imagenet, width: 64 })
    );
    let opts = ArchOptions { stem: Some(Stem::Cifar), hidden: Some(vec![3]), ..ArchOptions::default() };
    assert_eq!(
        opts.resolve(ArchName::SmallCnn).unwrap_err(),
        "arch_options `stem`, `hidden` do not apply to `small-cnn` (it takes: width, dropout)"
    );
}
