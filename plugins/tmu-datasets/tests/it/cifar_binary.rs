//! `dataset.cifar10` / `dataset.cifar100` on the official binary layout: exact read-back and
//! a specific error for each malformed variant.

use crate::common;

use std::fs;

use common::{CIFAR10_NAMES, error, output, run, toml_path, write_cifar10_bin, write_cifar100_bin};

#[test]
fn cifar10_reads_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let (images, labels, test_images, test_labels) = write_cifar10_bin(dir.path(), 7, 4);
    let r = run("dataset.cifar10", &format!("root = {}", toml_path(dir.path()))).unwrap();
    let (train, test) = (output(&r, "train"), output(&r, "test"));
    assert_eq!(train.shape, [35, 3, 32, 32]);
    assert_eq!(train.images, images);
    assert_eq!(train.labels, labels);
    assert_eq!(train.ids, (0..35).collect::<Vec<u64>>());
    assert_eq!(test.images, test_images);
    assert_eq!(test.labels, test_labels);
    assert_eq!(test.ids, (50_000..50_004).collect::<Vec<u64>>());
    assert_eq!(train.meta.classes, CIFAR10_NAMES.map(String::from).to_vec());
    assert_eq!(test.meta.mean, train.meta.mean);
    assert!(train.meta.source.starts_with("cifar10:") && train.meta.source.ends_with("(binary)"));
    assert_eq!(r.response.summary["format"], "binary");

    // The archive folder itself as root, and a limit that ends inside the second file.
    let folder = dir.path().join("cifar-10-batches-bin");
    let r = run("dataset.cifar10", &format!("root = {}\nlimit = 10", toml_path(&folder))).unwrap();
    let (train, test) = (output(&r, "train"), output(&r, "test"));
    assert_eq!(train.labels, labels[..10]);
    assert_eq!(train.images, images[..10 * 3072]);
    assert_eq!(test.len(), 4);
}

#[test]
fn cifar100_label_modes() {
    let dir = tempfile::tempdir().unwrap();
    let [coarse, fine, test_coarse, test_fine] = write_cifar100_bin(dir.path(), 30, 6);
    let root = toml_path(dir.path());

    let r = run("dataset.cifar100", &format!("root = {root}")).unwrap();
    let train = output(&r, "train");
    assert_eq!(train.labels, fine);
    assert_eq!(train.meta.classes.len(), 100);
    assert_eq!(train.extra_labels["coarse"], coarse);
    assert_eq!(train.meta.extra_label_classes["coarse"][3], "super3");

    let r = run("dataset.cifar100", &format!("root = {root}\nlabels = \"super20\"")).unwrap();
    let (train, test) = (output(&r, "train"), output(&r, "test"));
    assert_eq!(train.labels, coarse);
    assert_eq!(train.meta.classes, common::names("super", 20));
    assert_eq!(train.extra_labels["fine"], fine);
    assert_eq!(train.meta.extra_label_classes["fine"], common::names("fine", 100));
    assert_eq!((test.labels.clone(), test.extra_labels["fine"].clone()), (test_coarse.clone(), test_fine));

    let r = run("dataset.cifar100", &format!("root = {root}\nlabels = \"coarse\"")).unwrap();
    let test = output(&r, "test");
    assert_eq!(test.labels, test_coarse);
    assert!(test.extra_labels.is_empty());
    assert_eq!(test.images, (0..6).flat_map(|i| common::cifar_pixels(2, i)).collect::<Vec<u8>>());
}

#[test]
fn missing_data_says_what_to_put_where() {
    let dir = tempfile::tempdir().unwrap();
    let e = error(run("dataset.cifar10", &format!("root = {}", toml_path(dir.path()))));
    assert_eq!(e.message, format!("no CIFAR-10 data found under {}", dir.path().display()));
    let help = e.help.unwrap();
    assert!(help.contains(&format!("{}/cifar-10-batches-bin/ holds data_batch_1.bin", dir.path().display())), "{help}");
    assert!(help.contains("cifar-10-batches-py/ holds data_batch_1 ... data_batch_5, test_batch, batches.meta"));
    assert!(help.contains("resolved against the current directory"));
    assert!(help.contains("never downloads"));

    let e = error(run("dataset.cifar100", &format!("root = {}\nformat = \"python\"", toml_path(dir.path()))));
    assert_eq!(e.message, format!("no CIFAR-100 data (python version) found under {}", dir.path().display()));

    write_cifar10_bin(dir.path(), 2, 2);
    let gone = dir.path().join("cifar-10-batches-bin/data_batch_3.bin");
    fs::remove_file(&gone).unwrap();
    let e = error(run("dataset.cifar10", &format!("root = {}", toml_path(dir.path()))));
    assert!(e.message.ends_with(&format!("is incomplete: missing {}", gone.display())), "{}", e.message);
    assert!(e.help.is_some());
}

#[test]
fn malformed_files_name_file_and_place() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar10_bin(dir.path(), 7, 4);
    let root = format!("root = {}", toml_path(dir.path()));
    let bin = dir.path().join("cifar-10-batches-bin");

    // A truncated file: 7 records less 100 bytes.
    let f2 = bin.join("data_batch_2.bin");
    let bytes = fs::read(&f2).unwrap();
    fs::write(&f2, &bytes[..bytes.len() - 100]).unwrap();
    let e = error(run("dataset.cifar10", &root));
    assert_eq!(
        e.message,
        format!(
            "{} is truncated or not a CIFAR batch: its 21411 bytes are not a whole number of 3073-byte records; \
             record 6 at byte offset 18438 has only 2973 bytes",
            f2.display()
        )
    );
    fs::write(&f2, &bytes).unwrap();

    // An empty file.
    let f4 = bin.join("data_batch_4.bin");
    let saved = fs::read(&f4).unwrap();
    fs::write(&f4, b"").unwrap();
    let e = error(run("dataset.cifar10", &root));
    assert_eq!(e.message, format!("{} is empty: a CIFAR batch holds 3073-byte records", f4.display()));
    fs::write(&f4, saved).unwrap();

    // A label out of range in record 2 of the first file.
    let f1 = bin.join("data_batch_1.bin");
    let mut bytes = fs::read(&f1).unwrap();
    bytes[2 * 3073] = 12;
    fs::write(&f1, &bytes).unwrap();
    let e = error(run("dataset.cifar10", &root));
    assert_eq!(e.message, format!("{}: record 2 (byte offset 6146): label 12 is out of range 0..=9", f1.display()));
    bytes[2 * 3073] = 1;
    fs::write(&f1, &bytes).unwrap();

    // A class-name file with a name missing.
    let meta = bin.join("batches.meta.txt");
    fs::write(&meta, CIFAR10_NAMES[..9].join("\n")).unwrap();
    let e = error(run("dataset.cifar10", &root));
    assert_eq!(e.message, format!("{} lists 9 class names, expected 10 (one per line)", meta.display()));
    fs::write(&meta, CIFAR10_NAMES.join("\n")).unwrap();

    let e = error(run("dataset.cifar10", &format!("{root}\nlimit = 0")));
    // The schema refuses it (minimum 1), as the host does before anything runs.
    assert_eq!((e.kind, e.causes.len()), (tmu_plugin::protocol::ErrorKind::Config, 1), "{e:?}");
    assert!(e.causes[0].starts_with("/limit: ") && e.causes[0].contains("minimum"), "{e:?}");
    assert!(run("dataset.cifar10", &root).is_ok(), "the repaired files read again");
}

#[test]
fn cifar100_record_length_and_fine_range() {
    let dir = tempfile::tempdir().unwrap();
    write_cifar100_bin(dir.path(), 5, 3);
    let root = format!("root = {}", toml_path(dir.path()));
    let train = dir.path().join("cifar-100-binary/train.bin");
    let mut bytes = fs::read(&train).unwrap();
    bytes[3074 + 1] = 150; // record 1, fine byte
    fs::write(&train, &bytes).unwrap();
    let e = error(run("dataset.cifar100", &root));
    assert_eq!(
        e.message,
        format!("{}: record 1 (byte offset 3075): fine label 150 is out of range 0..=99", train.display())
    );

    // CIFAR-10 records (3,073 bytes) where CIFAR-100 records (3,074) belong.
    let test = dir.path().join("cifar-100-binary/test.bin");
    fs::write(&test, vec![0u8; 3 * 3073]).unwrap();
    bytes[3074 + 1] = 10;
    fs::write(&train, &bytes).unwrap();
    let e = error(run("dataset.cifar100", &root));
    assert!(
        e.message.contains("not a whole number of 3074-byte records; record 2 at byte offset 6148"),
        "{}",
        e.message
    );
}
