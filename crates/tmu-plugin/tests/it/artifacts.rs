//! Round trips and validation errors of the artifact files.

use std::path::Path;

use tmu_plugin::ArtifactKind;
use tmu_plugin::artifact::{
    ArtifactError, Dataset, DatasetMeta, Features, Labels, read_header, read_metrics, write_metrics,
};

fn tiny_dataset() -> Dataset {
    let meta = DatasetMeta {
        classes: vec!["a".into(), "b".into()],
        mean: vec![0.5],
        std: vec![0.25],
        source: "test".into(),
        ..Default::default()
    };
    Dataset::new((0..3 * 4).map(|v| v as u8).collect(), [3, 1, 2, 2], vec![0, 1, 1], vec![10, 11, 12], meta).unwrap()
}

#[test]
fn dataset_round_trip_and_subset() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("d.safetensors");
    let mut d = tiny_dataset();
    d.meta.extra_label_classes.insert("fine".into(), vec!["x".into(), "y".into(), "z".into()]);
    d.extra_labels.insert("fine".into(), vec![2, 0, 1]);
    d.write(&path).unwrap();
    let back = Dataset::read(&path).unwrap();
    assert_eq!(back, d);
    let (kind, _) = read_header(&path).unwrap();
    assert_eq!(kind, Some(ArtifactKind::Dataset));

    let s = d.subset(&[2, 0]);
    assert_eq!(s.ids, vec![12, 10]);
    assert_eq!(s.image(0), &[8, 9, 10, 11]);
    assert_eq!(s.extra_labels["fine"], vec![1, 2]);
    let c = Dataset::concat(&[&s, &d.subset(&[1])]).unwrap();
    assert_eq!(c.ids, vec![12, 10, 11]);
    assert_eq!(c.class_counts(), vec![1, 2]);
}

#[test]
fn dataset_validation_names_the_problem() {
    let d = tiny_dataset();
    let mut bad = d.clone();
    bad.labels[1] = 7;
    assert_eq!(
        bad.validate().unwrap_err().to_string(),
        "label 7 of sample 1 (id 11) is out of range: there are 2 classes"
    );
    let mut dup = d.clone();
    dup.ids[2] = 10;
    assert_eq!(dup.validate().unwrap_err().to_string(), "sample id 10 appears more than once");
    assert!(Dataset::concat(&[&d, &d]).unwrap_err().to_string().contains("appears more than once"));
}

fn expect_err(path: &Path) -> String {
    match Dataset::read(path) {
        Ok(_) => panic!("{} should not parse", path.display()),
        Err(e) => e.to_string(),
    }
}

#[test]
fn truncated_wrong_kind_and_garbage_files_are_rejected_with_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.safetensors");
    tiny_dataset().write(&good).unwrap();
    let bytes = std::fs::read(&good).unwrap();

    let truncated = dir.path().join("truncated.safetensors");
    std::fs::write(&truncated, &bytes[..bytes.len() - 3]).unwrap();
    let msg = expect_err(&truncated);
    assert!(msg.starts_with(&format!("{} is not a valid safetensors file", truncated.display())), "{msg}");

    let garbage = dir.path().join("garbage.safetensors");
    std::fs::write(&garbage, b"hello").unwrap();
    assert!(expect_err(&garbage).contains("garbage.safetensors is not a valid safetensors file"));

    let labels = dir.path().join("labels.safetensors");
    Labels::easy_hard(&[true, false], vec![1, 2]).unwrap().write(&labels).unwrap();
    let msg = expect_err(&labels);
    assert!(msg.ends_with("is a `labels` artifact, expected `dataset`"), "{msg}");

    let missing = dir.path().join("missing.safetensors");
    match Dataset::read(&missing) {
        Err(ArtifactError::Io { action: "read", .. }) => {}
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn features_join_by_id_and_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let a = Features::new(vec![1.0, 2.0, 3.0], vec![7, 8, 9], vec!["df".into()]).unwrap();
    let b = Features::new(vec![30.0, 10.0, 20.0], vec![9, 7, 8], vec!["af".into()]).unwrap();
    let j = Features::join(&[&a, &b]).unwrap();
    assert_eq!(j.names, vec!["df", "af"]);
    assert_eq!(j.values, vec![1.0, 10.0, 2.0, 20.0, 3.0, 30.0]);
    assert_eq!(j.column(1), vec![10.0, 20.0, 30.0]);
    let p = dir.path().join("f.safetensors");
    j.write(&p).unwrap();
    assert_eq!(Features::read(&p).unwrap(), j);

    let c = Features::new(vec![1.0, 2.0, 3.0], vec![7, 8, 100], vec!["cf".into()]).unwrap();
    assert_eq!(Features::join(&[&a, &c]).unwrap_err().to_string(), "sample id 9 missing from features [\"cf\"]");
}

#[test]
fn labels_align_and_metrics_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let l = Labels::easy_hard(&[true, false, true], vec![5, 6, 7]).unwrap();
    assert_eq!(l.aligned_to(&[7, 5]).unwrap(), vec![1, 1]);
    assert_eq!(l.aligned_to(&[8]).unwrap_err().to_string(), "sample id 8 has no label");
    let p = dir.path().join("l.safetensors");
    l.write(&p).unwrap();
    assert_eq!(Labels::read(&p).unwrap(), l);

    let m = dir.path().join("m.json");
    let v = serde_json::json!({"accuracy": 0.5});
    write_metrics(&m, &v).unwrap();
    assert_eq!(read_metrics(&m).unwrap(), v);
    std::fs::write(&m, "[1]").unwrap();
    assert!(read_metrics(&m).unwrap_err().to_string().ends_with("metrics must be a JSON object"));
}

#[test]
fn equal_artifacts_are_equal_bytes() {
    // The metadata map must not be written in hash order: the host's cache compares hashes.
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str| {
        let path = dir.path().join(name);
        tiny_dataset().write(&path).unwrap();
        std::fs::read(path).unwrap()
    };
    let first = write("a.safetensors");
    for i in 0..8 {
        assert_eq!(write(&format!("b{i}.safetensors")), first, "write {i} differs");
    }
}
