//! Mistakes in the inputs are refused with a message that names the input and the problem.

use crate::common;

use common::{error, fixture, full_message, run};
use tmu_plugin::ArtifactKind;
use tmu_plugin::artifact::Labels;
use tmu_test_support::{BlobsSpec, blobs};

#[test]
fn labels_that_miss_a_forget_id_are_named() {
    let f = fixture(4);
    let path = f.dir.path().join("short.safetensors");
    // Labels for the first three forget samples only.
    Labels::easy_hard(&[true, false, true], f.forget_data.ids[..3].to_vec()).unwrap().write(&path).unwrap();
    let e = error(run("forget.tmu", f.inputs(Some(&path)), "", 0));
    let text = full_message(&e);
    assert!(text.contains("do not cover the forget set"), "{text}");
    assert!(text.contains(&format!("sample id {} has no label", f.forget_data.ids[3])), "{text}");
}

#[test]
fn labels_other_than_easy_hard_are_refused() {
    let f = fixture(2);
    let path = f.dir.path().join("classes.safetensors");
    let names = (0..4).map(|k| format!("class{k}")).collect();
    Labels::new(vec![0, 3], f.forget_data.ids.clone(), names).unwrap().write(&path).unwrap();
    let text = full_message(&error(run("forget.tmu", f.inputs(Some(&path)), "", 0)));
    assert!(text.contains(&format!("sample id {} has label 3", f.forget_data.ids[1])), "{text}");
}

#[test]
fn a_forget_set_with_other_classes_is_refused() {
    let f = fixture(2);
    let other = blobs(BlobsSpec { n: 6, classes: 3, first_id: 1000, ..BlobsSpec::default() });
    let path = f.dir.path().join("three-classes.safetensors");
    other.write(&path).unwrap();
    let inputs = tmu_plugin::Inputs::default()
        .with("model", &f.model, ArtifactKind::Model)
        .with("retain", &f.retain, ArtifactKind::Dataset)
        .with("forget", &path, ArtifactKind::Dataset);
    for kind in ["forget.neggrad", "forget.random-label", "forget.bad-teacher"] {
        let text = full_message(&error(run(kind, inputs.clone(), "", 0)));
        assert!(
            text.contains("input `forget`") && text.contains("does not fit the model (4 classes)"),
            "{kind}: {text}"
        );
        assert!(text.contains("class0") && text.contains("class3"), "{kind}: both class lists are shown: {text}");
    }
}

#[test]
fn out_of_range_settings_are_refused() {
    let f = fixture(2);
    let labels = f.labels(&[true, false]);
    // A range the schema states is refused by the schema (as by the host), before the stage runs.
    let text = full_message(&error(run("forget.tmu", f.inputs(Some(&labels)), "noise_std = -0.1", 0)));
    assert_eq!(
        text,
        "invalid config for `forget.tmu`: the schema refuses it: /noise_std: -0.1 is less than the minimum of 0.0"
    );
    let text = full_message(&error(run("forget.tmu", f.inputs(Some(&labels)), "lr = 0.1\nsmoothing = 1", 0)));
    assert!(text.contains("smoothing"), "{text}");
}
