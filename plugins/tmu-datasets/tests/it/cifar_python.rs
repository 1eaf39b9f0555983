//! torchvision's python CIFAR layout: pickles as Python 2 wrote them (made here) and as
//! Python 3 + numpy 2 write them (`tests/data/pickles`, made by `make_pickles.py`).

use crate::common;

use std::fs;
use std::path::Path;

use common::{CIFAR10_NAMES, Py2Pickle, cifar_pixels, error, names, output, run, toml_path, write_cifar10_bin};
use tmu_datasets::cifar::{Value, unpickle};

/// A `cifar-10-batches-py` tree: 5 batches of `per_file` images and a test batch of `test`.
fn write_cifar10_py(root: &Path, per_file: usize, test: usize) -> (Vec<u8>, Vec<u32>) {
    let dir = root.join("cifar-10-batches-py");
    fs::create_dir_all(&dir).unwrap();
    let (mut images, mut labels) = (Vec::new(), Vec::new());
    for f in 1..=6u64 {
        let n = if f == 6 { test } else { per_file };
        let data: Vec<u8> = (0..n).flat_map(|i| cifar_pixels(f, i)).collect();
        let l: Vec<u32> = (0..n).map(|i| ((i as u64 * 3 + f) % 10) as u32).collect();
        let bytes = Py2Pickle::new()
            .string("batch_label", "training batch 1 of 5")
            .ints("labels", &l)
            .array("data", n, 3072, &data)
            .strings("filenames", &names("img", n))
            .finish();
        let name = if f == 6 { "test_batch".to_string() } else { format!("data_batch_{f}") };
        fs::write(dir.join(name), bytes).unwrap();
        if f < 6 {
            images.extend(data);
            labels.extend(l);
        }
    }
    let meta = Py2Pickle::new().strings("label_names", &CIFAR10_NAMES.map(String::from)).finish();
    fs::write(dir.join("batches.meta"), meta).unwrap();
    (images, labels)
}

#[test]
fn cifar10_python_reads_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels) = write_cifar10_py(dir.path(), 3, 2);
    let r = run("dataset.cifar10", &format!("root = {}", toml_path(dir.path()))).unwrap();
    let (train, test) = (output(&r, "train"), output(&r, "test"));
    assert_eq!(r.response.summary["format"], "python");
    assert_eq!(train.images, images);
    assert_eq!(train.labels, labels);
    assert_eq!(train.ids, (0..15).collect::<Vec<u64>>());
    assert_eq!(test.images, (0..2).flat_map(|i| cifar_pixels(6, i)).collect::<Vec<u8>>());
    assert_eq!(train.meta.classes[9], "truck");

    let r = run("dataset.cifar10", &format!("root = {}\nlimit = 4", toml_path(dir.path()))).unwrap();
    assert_eq!(output(&r, "train").labels, labels[..4]);

    // With both versions present, `auto` prefers the binary one; `python` insists.
    write_cifar10_bin(dir.path(), 1, 1);
    let r = run("dataset.cifar10", &format!("root = {}", toml_path(dir.path()))).unwrap();
    assert_eq!(output(&r, "train").len(), 5);
    let r = run("dataset.cifar10", &format!("root = {}\nformat = \"python\"", toml_path(dir.path()))).unwrap();
    assert_eq!(output(&r, "train").len(), 15);
}

#[test]
fn cifar100_python_super20() {
    let dir = tempfile::tempdir().unwrap();
    let py = dir.path().join("cifar-100-python");
    fs::create_dir_all(&py).unwrap();
    let fine: Vec<u32> = vec![0, 99, 42, 7];
    let coarse: Vec<u32> = fine.iter().map(|f| f / 5).collect();
    let data: Vec<u8> = (0..4).flat_map(|i| cifar_pixels(3, i)).collect();
    for file in ["train", "test"] {
        let bytes = Py2Pickle::new()
            .ints("fine_labels", &fine)
            .ints("coarse_labels", &coarse)
            .array("data", 4, 3072, &data)
            .finish();
        fs::write(py.join(file), bytes).unwrap();
    }
    let meta =
        Py2Pickle::new().strings("fine_label_names", &names("f", 100)).strings("coarse_label_names", &names("c", 20));
    fs::write(py.join("meta"), meta.finish()).unwrap();
    let r = run("dataset.cifar100", &format!("root = {}\nlabels = \"super20\"", toml_path(dir.path()))).unwrap();
    let train = output(&r, "train");
    assert_eq!(train.labels, coarse);
    assert_eq!(train.extra_labels["fine"], fine);
    assert_eq!(train.meta.classes, names("c", 20));
    assert_eq!(train.images, data);

    // A fine label out of range, reported by record.
    let bad = Py2Pickle::new()
        .ints("fine_labels", &[1, 100, 2, 3])
        .ints("coarse_labels", &coarse)
        .array("data", 4, 3072, &data)
        .finish();
    fs::write(py.join("test"), bad).unwrap();
    let e = error(run("dataset.cifar100", &format!("root = {}", toml_path(dir.path()))));
    assert_eq!(e.message, format!("{}: record 1: fine label 100 is out of range 0..=99", py.join("test").display()));
}

#[test]
fn malformed_pickles_are_named() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar10_py(dir.path(), 2, 2);
    let root = format!("root = {}", toml_path(dir.path()));
    let b3 = dir.path().join("cifar-10-batches-py/data_batch_3");
    let bytes = fs::read(&b3).unwrap();
    fs::write(&b3, &bytes[..bytes.len() / 2]).unwrap();
    let e = error(run("dataset.cifar10", &root));
    assert_eq!(e.message, format!("{} is not a readable CIFAR pickle", b3.display()));
    assert!(e.causes[0].starts_with("pickle byte offset ") && e.causes[0].contains("truncated"), "{:?}", e.causes);

    // Labels that do not match the images.
    let data: Vec<u8> = (0..2).flat_map(|i| cifar_pixels(0, i)).collect();
    fs::write(&b3, Py2Pickle::new().ints("labels", &[1, 2, 3]).array("data", 2, 3072, &data).finish()).unwrap();
    let e = error(run("dataset.cifar10", &root));
    assert_eq!(e.message, format!("{}: `labels` has 3 entries for 2 images", b3.display()));

    // The wrong image size.
    fs::write(&b3, Py2Pickle::new().ints("labels", &[1]).array("data", 1, 3000, &[0; 3000]).finish()).unwrap();
    let e = error(run("dataset.cifar10", &root));
    assert!(e.message.contains("`data` has shape [1, 3000] and dtype u1, expected a C-ordered uint8 array [N, 3072]"));

    // A missing key.
    fs::write(&b3, Py2Pickle::new().array("data", 2, 3072, &data).finish()).unwrap();
    let e = error(run("dataset.cifar10", &root));
    assert_eq!(e.message, format!("{} has no `labels` entry (it has: data)", b3.display()));
}

fn fixture(name: &str) -> Vec<u8> {
    fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/pickles").join(name)).unwrap()
}

fn expected_data() -> Vec<u8> {
    // ((np.arange(2 * 3072) * 7 + 3) % 256).astype(np.uint8), as in make_pickles.py
    (0..2 * 3072).map(|i: usize| ((i * 7 + 3) % 256) as u8).collect()
}

#[test]
fn python3_pickles_of_each_protocol() {
    for name in ["batch_p2.pkl", "batch_p4.pkl", "batch_p5.pkl"] {
        let v = unpickle(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        let Some(Value::Array(a)) = v.get("data") else { panic!("{name}: no data array") };
        assert_eq!(a.shape, vec![2, 3072], "{name}");
        assert_eq!(a.data, expected_data(), "{name}");
        match v.get("labels") {
            Some(Value::List(l)) => assert_eq!(l, &vec![Value::Int(3), Value::Int(7)], "{name}"),
            Some(Value::Array(l)) => {
                assert_eq!((l.dtype.descr.as_str(), l.dtype.order), ("i8", '<'));
                assert_eq!(l.data, [3i64.to_le_bytes(), 7i64.to_le_bytes()].concat());
            }
            other => panic!("{name}: labels {other:?}"),
        }
    }
    let meta = unpickle(&fixture("meta_p2.pkl")).unwrap();
    assert_eq!(
        meta.get("fine_label_names"),
        Some(&Value::List(vec![Value::Str("apple".into()), Value::Str("aquarium_fish".into())]))
    );
}

#[test]
fn a_pickle_that_runs_code_is_refused() {
    let e = unpickle(&fixture("evil.pkl")).unwrap_err();
    assert_eq!(e.offset, 52);
    assert!(e.message.starts_with("the pickle calls `posix.system`, which this reader does not run"), "{e}");
}
