//! What the stages do at the edges: too few or no reference samples, a query inside the
//! reference set, inputs that do not fit the model, empty data, bad configs.

use crate::common;

use common::{chain, column, error, features, inputs, reference_file, run, tiny_model, write_data};
use tmu_plugin::LogLevel;
use tmu_plugin::artifact::Dataset;
use tmu_test_support::{BlobsSpec, RecordingHost, RunOptions, blobs, config, run_stage_with};

const KINDS: [&str; 3] = ["features.distance", "features.adversarial", "features.curriculum"];

fn blob_set(n: usize, classes: usize, size: usize, seed: u64, first_id: u64) -> Dataset {
    blobs(BlobsSpec { n, classes, channels: 1, size, noise: 60, seed, first_id })
}

#[test]
fn a_class_with_fewer_than_k_reference_samples_uses_all_and_warns() {
    // The reference files hold 3 samples of class `c`, one of them (id 105) also a query: with
    // k = 5, DF of class-c queries averages 3 (2 for id 105) distances; the values match
    // PyTorch in tests/it/reference.rs (`df_default`).
    let host = RecordingHost::default();
    let i = inputs(
        &reference_file("mlp.model.safetensors"),
        &reference_file("query.dataset.safetensors"),
        Some(&reference_file("reference.dataset.safetensors")),
    );
    let r =
        run_stage_with(tmu_features::tmu_plugin(), "features.distance", i, config(""), &RunOptions::default(), &host)
            .unwrap();
    assert_eq!(r.response.summary["excluded_self"], 1);
    let logs = host.logs.lock().unwrap();
    let warnings: Vec<&String> = logs.iter().filter(|(l, _)| *l == LogLevel::Warn).map(|(_, m)| m).collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    assert!(warnings[0].starts_with("class `b` has 4 reference samples, fewer than k = 5"), "{}", warnings[0]);
    assert!(warnings[1].starts_with("class `c` has 3 reference samples, fewer than k = 5"), "{}", warnings[1]);
}

#[test]
fn a_query_in_the_reference_set_is_not_its_own_neighbour() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path(), 3, 8);
    let all = blob_set(60, 3, 8, 1, 0);
    let query = all.subset(&(0..12).collect::<Vec<_>>());
    let q = write_data(dir.path(), "query", &query);
    let full = write_data(dir.path(), "all", &all);
    let df = column(&features(&run("features.distance", inputs(&model, &q, Some(&full)), "k = 3").unwrap()));
    assert!(df.iter().all(|&d| d > 0.0), "a sample counted as its own neighbour: {df:?}");
    // Sample i alone against the reference without it gives the same value.
    for i in [0usize, 5, 11] {
        let one = write_data(dir.path(), &format!("one{i}"), &all.subset(&[i]));
        let rest: Vec<usize> = (0..60).filter(|&j| j != i).collect();
        let rest = write_data(dir.path(), &format!("rest{i}"), &all.subset(&rest));
        let alone = column(&features(&run("features.distance", inputs(&model, &one, Some(&rest)), "k = 3").unwrap()));
        assert_eq!(alone[0], df[i], "sample {i}");
    }
}

#[test]
fn a_class_without_reference_samples_is_an_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path(), 3, 8);
    let query = write_data(dir.path(), "query", &blob_set(9, 3, 8, 1, 1000));
    let all = blob_set(30, 3, 8, 2, 0);
    let no_class2: Vec<usize> = (0..30).filter(|&i| all.labels[i] != 2).collect();
    let reference = write_data(dir.path(), "reference", &all.subset(&no_class2));
    let e = error(run("features.distance", inputs(&model, &query, Some(&reference)), ""));
    assert_eq!(
        e.message,
        "class `class2` has no reference samples, but 3 query samples (ids 1002, 1005, 1008) need neighbours of their class"
    );
    // Any class will do once the pool is every reference sample.
    let r = run("features.distance", inputs(&model, &query, Some(&reference)), "neighbours = \"any-class\"");
    assert_eq!(features(&r.unwrap()).rows(), 9);
    // A class that no query needs may be missing.
    let only01: Vec<usize> = (0..9).filter(|&i| i % 3 != 2).collect();
    let query01 = write_data(dir.path(), "query01", &blob_set(9, 3, 8, 1, 1000).subset(&only01));
    assert_eq!(features(&run("features.distance", inputs(&model, &query01, Some(&reference)), "").unwrap()).rows(), 6);
}

#[test]
fn a_query_that_is_its_class_only_reference_sample_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path(), 3, 8);
    let all = blob_set(30, 3, 8, 2, 0);
    let keep: Vec<usize> = (0..30).filter(|&i| all.labels[i] != 1 || i == 1).collect();
    let reference = write_data(dir.path(), "reference", &all.subset(&keep));
    let query = write_data(dir.path(), "query", &all.subset(&[0, 1]));
    let e = error(run("features.distance", inputs(&model, &query, Some(&reference)), ""));
    assert!(chain(&e).contains("sample id 1 is the only reference sample of its pool"), "{}", chain(&e));
}

#[test]
fn data_that_does_not_fit_the_model_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path(), 3, 8);
    let good = write_data(dir.path(), "good", &blob_set(12, 3, 8, 1, 0));
    let four_classes = write_data(dir.path(), "four", &blob_set(12, 4, 8, 1, 0));
    let bigger = write_data(dir.path(), "bigger", &blob_set(12, 3, 12, 1, 0));
    for kind in KINDS {
        let reference = (kind == "features.distance").then_some(good.as_path());
        let e = error(run(kind, inputs(&model, &four_classes, reference), ""));
        assert!(
            e.message.starts_with("input `data` (") && e.message.contains("does not fit the model"),
            "{kind}: {}",
            e.message
        );
        assert!(e.causes[0].contains("classes [\"class0\", \"class1\", \"class2\", \"class3\"]"), "{:?}", e.causes);
        let e = error(run(kind, inputs(&model, &bigger, reference), ""));
        assert_eq!(e.causes[0], "images are [1, 12, 12] (C, H, W) but the network takes [1, 8, 8]", "{kind}");
    }
    let e = error(run("features.distance", inputs(&model, &good, Some(&four_classes)), ""));
    assert!(
        e.message.starts_with("input `reference` (") && e.message.contains("does not fit the model"),
        "{}",
        e.message
    );
}

#[test]
fn empty_data_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path(), 3, 8);
    let empty = blob_set(6, 3, 8, 1, 0).subset(&[]);
    let empty = write_data(dir.path(), "empty", &empty);
    let good = write_data(dir.path(), "good", &blob_set(12, 3, 8, 1, 0));
    for kind in KINDS {
        let reference = (kind == "features.distance").then_some(good.as_path());
        let e = error(run(kind, inputs(&model, &empty, reference), ""));
        assert!(e.message.starts_with("input `data` (") && e.message.ends_with(") is empty"), "{kind}: {}", e.message);
    }
    let e = error(run("features.distance", inputs(&model, &good, Some(&empty)), ""));
    assert!(e.message.starts_with("input `reference` (") && e.message.ends_with(") is empty"), "{}", e.message);
}

#[test]
fn bad_configs_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path(), 3, 8);
    let data = write_data(dir.path(), "data", &blob_set(6, 3, 8, 1, 0));
    // Ranges are the schema's: refused before the stage runs, naming the field.
    for (kind, body, cause) in [
        ("features.distance", "k = 0", "/k: 0 is less than the minimum of 1"),
        ("features.adversarial", "epsilon = 1.5", "/epsilon: 1.5 is greater than the maximum of 1.0"),
        ("features.adversarial", "step = -0.1", "/step: -0.1 is less than the minimum of 0.0"),
        ("features.adversarial", "steps = 0", "/steps: 0 is less than the minimum of 1"),
    ] {
        let e = error(run(kind, inputs(&model, &data, Some(&data)), body));
        assert_eq!(e.causes, [cause], "{kind} {body}");
    }
    let cases = [(
        "features.curriculum",
        "name = \"\"",
        "`name` = \"\" is not a usable feature name: it must be non-empty without spaces",
    )];
    for (kind, body, message) in cases {
        let e = error(run(kind, inputs(&model, &data, Some(&data)), body));
        assert_eq!(e.message, message, "{kind} {body}");
    }
    let e = error(run("features.distance", inputs(&model, &data, Some(&data)), "same_class = true"));
    assert!(e.causes[0].contains("'same_class' was unexpected"), "{:?}", e.causes);
}

#[test]
fn the_column_can_be_renamed() {
    let dir = tempfile::tempdir().unwrap();
    let model = tiny_model(dir.path(), 3, 8);
    let data = write_data(dir.path(), "data", &blob_set(6, 3, 8, 1, 0));
    let f = features(&run("features.curriculum", inputs(&model, &data, None), "name = \"loss\"").unwrap());
    assert_eq!(f.names, ["loss"]);
}
