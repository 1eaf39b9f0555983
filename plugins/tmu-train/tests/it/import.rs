//! `model.import` against state_dicts written by PyTorch (tests/reference/make_import.py): the
//! imported network computes PyTorch's eval-mode logits, every file form (safetensors, torch.save
//! zip, DataParallel prefix, f16, bf16) imports, every mismatch names its tensor, and the model
//! artifact written is the same state_dict again (names, shapes, dtypes, values), which is what
//! `load_state_dict(strict=True)` checks.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use tmu_nn::Network;
use tmu_nn::candle::{DType, Device, Tensor};
use tmu_plugin::{ArtifactKind, Inputs};
use tmu_test_support::{StageRun, config, run_stage};
use tmu_train::tmu_plugin;

fn reference(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/reference").join(name)
}

/// The config of the reference model: the CIFAR ResNet-18 at width 4, 3 classes, 3x8x8 inputs.
fn import_config(file: &Path) -> String {
    format!(
        "file = {:?}\narch = \"resnet18\"\narch_options = {{ width = 4 }}\nclasses = [\"a\", \"b\", \"c\"]\n\
         input_shape = [3, 8, 8]\nmean = [0.5, 0.5, 0.5]\nstd = [0.25, 0.25, 0.25]",
        file.display().to_string()
    )
}

fn import(file: &Path) -> Result<StageRun, tmu_plugin::protocol::WireError> {
    run_stage(tmu_plugin(), "model.import", Inputs::default(), config(&import_config(file)))
}

/// Max abs difference between the imported model's eval-mode logits and PyTorch's on the probe.
fn logit_error(model: &Path) -> f32 {
    let net = Network::load(model, &Device::Cpu).unwrap();
    let probe = tmu_nn::candle::safetensors::load(reference("resnet18_w4.probe.safetensors"), &Device::Cpu).unwrap();
    let logits = net.forward_t(&probe["x"], false).unwrap();
    let diff = (logits - &probe["logits"]).unwrap().abs().unwrap().flatten_all().unwrap();
    diff.max(0).unwrap().to_scalar::<f32>().unwrap()
}

#[test]
fn pytorch_files_import_and_compute_pytorchs_logits() {
    for (file, tol) in [
        ("resnet18_w4.safetensors", 1e-5),
        ("resnet18_w4.pt", 1e-5),
        ("resnet18_w4_module.pt", 1e-5),
        // Halved weights: the logits move by the rounding of the weights, not by the import.
        ("resnet18_w4_f16.safetensors", 2e-2),
        ("resnet18_w4_bf16.safetensors", 1e-1),
    ] {
        let run = import(&reference(file)).unwrap_or_else(|e| panic!("{file}: {e:?}"));
        let err = logit_error(&run.output("model"));
        assert!(err <= tol, "{file}: max abs logit error {err} > {tol}");
        let metrics: serde_json::Value =
            serde_json::from_slice(&std::fs::read(run.output("metrics")).unwrap()).unwrap();
        assert_eq!(metrics["tensors"], 122, "{file}");
        let notes = metrics["notes"].to_string();
        if file.contains("f16") {
            assert!(notes.contains("were converted to f32"), "{file}: {notes}");
        }
        if file.contains("module") {
            assert!(notes.contains("the prefix `module.` was taken off all 122 tensor names"), "{notes}");
        }
    }
}

/// What strict loading checks: the same names, shapes, dtypes, and here the same values.
#[test]
fn the_model_artifact_is_the_state_dict_again() {
    let original = reference("resnet18_w4.safetensors");
    let run = import(&original).unwrap();
    let read = |p: &Path| tmu_nn::candle::safetensors::load(p, &Device::Cpu).unwrap();
    let (a, b) = (read(&original), read(&run.output("model")));
    let mut names_a: Vec<_> = a.keys().collect();
    let mut names_b: Vec<_> = b.keys().collect();
    names_a.sort();
    names_b.sort();
    assert_eq!(names_a, names_b);
    for (name, t) in &a {
        let u = &b[name];
        assert_eq!((t.dims(), t.dtype()), (u.dims(), u.dtype()), "{name}");
        let (t, u) = (t.to_dtype(DType::F64).unwrap(), u.to_dtype(DType::F64).unwrap());
        let diff = (t - u).unwrap().abs().unwrap().flatten_all().unwrap().max(0).unwrap();
        assert_eq!(diff.to_scalar::<f64>().unwrap(), 0.0, "{name}");
    }
}

/// Writes the reference state_dict after `edit` and returns the import's error message chain.
fn mismatch(dir: &Path, edit: impl FnOnce(&mut HashMap<String, Tensor>)) -> String {
    let mut tensors = tmu_nn::candle::safetensors::load(reference("resnet18_w4.safetensors"), &Device::Cpu).unwrap();
    edit(&mut tensors);
    let path = dir.join("edited.safetensors");
    tmu_nn::candle::safetensors::save(&tensors, &path).unwrap();
    let err = import(&path).map(|_| ()).unwrap_err();
    err.chain_line()
}

#[test]
fn every_mismatch_names_its_tensor() {
    let dir = tempfile::tempdir().unwrap();
    let missing = mismatch(dir.path(), |t| {
        t.remove("fc.bias");
    });
    assert!(missing.contains("missing weight `fc.bias` (shape [3])"), "{missing}");

    let unexpected = mismatch(dir.path(), |t| {
        t.insert("fc2.weight".into(), Tensor::zeros((3, 32), DType::F32, &Device::Cpu).unwrap());
    });
    assert!(unexpected.contains("unexpected weight `fc2.weight`"), "{unexpected}");

    let shape = mismatch(dir.path(), |t| {
        t.insert("fc.weight".into(), Tensor::zeros((10, 32), DType::F32, &Device::Cpu).unwrap());
    });
    assert!(shape.contains("weight `fc.weight` has shape [10, 32], the architecture needs [3, 32]"), "{shape}");

    let dtype = mismatch(dir.path(), |t| {
        let w = t["conv1.weight"].to_dtype(DType::I64).unwrap();
        t.insert("conv1.weight".into(), w);
        let n = t["bn1.num_batches_tracked"].to_dtype(DType::F32).unwrap();
        t.insert("bn1.num_batches_tracked".into(), n);
    });
    assert!(
        dtype.contains("weight `bn1.num_batches_tracked` has dtype F32, the architecture needs an integer"),
        "{dtype}"
    );
    assert!(dtype.contains("weight `conv1.weight` has dtype I64, the architecture needs a float"), "{dtype}");

    // A wrong number of classes shows up as the head's shapes.
    let classes = run_stage(
        tmu_plugin(),
        "model.import",
        Inputs::default(),
        config(&import_config(&reference("resnet18_w4.pt")).replace("\"a\", \"b\", \"c\"", "\"a\", \"b\"")),
    )
    .map(|_| ())
    .unwrap_err()
    .chain_line();
    assert!(classes.contains("weight `fc.weight` has shape [3, 32], the architecture needs [2, 32]"), "{classes}");
}

#[test]
fn unreadable_files_say_how_to_convert() {
    let dir = tempfile::tempdir().unwrap();
    let pt = dir.path().join("broken.pt");
    std::fs::write(&pt, b"not a zip").unwrap();
    let err = import(&pt).map(|_| ()).unwrap_err().chain_line();
    assert!(err.contains("cannot read it as a torch.save zip") && err.contains("save_file("), "{err}");

    let other = dir.path().join("model.ckpt");
    std::fs::write(&other, b"").unwrap();
    let err = import(&other).map(|_| ()).unwrap_err().chain_line();
    assert!(err.contains("unknown extension `.ckpt`"), "{err}");

    let data = tmu_test_support::blobs(tmu_test_support::BlobsSpec {
        n: 12,
        classes: 3,
        channels: 3,
        size: 8,
        noise: 10,
        seed: 1,
        first_id: 0,
    });
    let data_path = dir.path().join("data.safetensors");
    data.write(&data_path).unwrap();
    let cfg = import_config(&reference("resnet18_w4.pt")).replace("input_shape = [3, 8, 8]\n", "");
    let err = run_stage(
        tmu_plugin(),
        "model.import",
        Inputs::default().with("data", &data_path, ArtifactKind::Dataset),
        config(&cfg),
    )
    .map(|_| ())
    .unwrap_err()
    .chain_line();
    assert!(err.contains("the `data` input does not fit the config"), "{err}");
}
