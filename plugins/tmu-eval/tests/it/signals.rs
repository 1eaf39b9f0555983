//! membership.signals on tiny blob models: which candidates the shadow saw, one statistic per
//! candidate and model, gold at zero divergence from itself, the logit-scaled confidence as the
//! log-odds of the recorded true-class probability, and an error for a candidate the shadow kept
//! as a retain sample.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use tmu_eval::{SIGNALS_SCHEMA, tmu_plugin};
use tmu_plugin::artifact::{Dataset, read_metrics};
use tmu_plugin::{ArtifactKind, ArtifactRef, Binding, Inputs};
use tmu_test_support::{BlobsSpec, blobs, config, run_stage};

use crate::stages::{train, write_data};

struct Shadow {
    _dir: tempfile::TempDir,
    paths: IndexMap<&'static str, PathBuf>,
}

/// 160 members (8 of class 0 forgotten), 40 test, 40 population; the candidates are D_f and 4
/// test samples (never seen).
fn shadow(candidates_extra: &[usize]) -> Shadow {
    let dir = tempfile::tempdir().unwrap();
    let all = blobs(BlobsSpec { n: 240, classes: 4, channels: 1, size: 3, noise: 250, seed: 3, first_id: 0 });
    let forget_idx: Vec<usize> = (0..160).filter(|&i| all.labels[i] == 0).take(8).collect();
    let retain_idx: Vec<usize> = (0..160).filter(|i| !forget_idx.contains(i)).collect();
    let candidates: Vec<usize> = forget_idx.iter().chain(candidates_extra).copied().collect();
    let d = dir.path();
    let sub = |idx: &[usize]| -> Dataset { all.subset(idx) };
    let mut paths = IndexMap::new();
    paths.insert("members", write_data(d, "members", &sub(&(0..160).collect::<Vec<_>>())));
    paths.insert("retain", write_data(d, "retain", &sub(&retain_idx)));
    paths.insert("forget", write_data(d, "forget", &sub(&forget_idx)));
    paths.insert("candidates", write_data(d, "candidates", &sub(&candidates)));
    paths.insert("test", write_data(d, "test", &sub(&(160..200).collect::<Vec<_>>())));
    paths.insert("population", write_data(d, "population", &sub(&(200..240).collect::<Vec<_>>())));
    paths.insert("gold", train(d, "gold", &sub(&retain_idx), 1, None));
    paths.insert("other", train(d, "other", &sub(&(0..160).collect::<Vec<_>>()), 2, None));
    Shadow { _dir: dir, paths }
}

fn inputs(paths: &IndexMap<&'static str, PathBuf>) -> Inputs {
    let mut map = IndexMap::new();
    let model = |p: &Path| ArtifactRef { path: p.to_path_buf(), kind: ArtifactKind::Model, source: "x.model".into() };
    map.insert("other".to_string(), model(&paths["other"]));
    let mut inputs = Inputs::default();
    inputs.insert("models", Binding::Map(map));
    inputs = inputs.with("gold", &paths["gold"], ArtifactKind::Model);
    for port in ["candidates", "members", "forget", "retain", "test", "population"] {
        inputs = inputs.with(port, &paths[port], ArtifactKind::Dataset);
    }
    inputs
}

#[test]
fn one_statistic_per_candidate_and_model() {
    let s = shadow(&[160, 161, 162, 163]);
    let run = run_stage(tmu_plugin(), "membership.signals", inputs(&s.paths), config("")).unwrap();
    let m = read_metrics(&run.output("metrics")).unwrap();
    assert_eq!(m["schema"], SIGNALS_SCHEMA);
    let member: Vec<bool> =
        m["candidates"]["member"].as_array().unwrap().iter().map(|b| b.as_bool().unwrap()).collect();
    assert_eq!(member, [vec![true; 8], vec![false; 4]].concat());
    let names: Vec<&String> = m["models"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["gold", "other"]);
    assert_eq!(m["models"]["gold"]["js_divergence"], 0.0);
    assert_eq!(m["models"]["gold"]["activation_distance"], 0.0);
    let other = &m["models"]["other"];
    assert!(other["js_divergence"].as_f64().unwrap() > 0.0);
    assert_eq!(other["population_true_prob"].as_array().unwrap().len(), 40);
    let conf = other["scaled_confidence"].as_array().unwrap();
    let prob = other["true_prob"].as_array().unwrap();
    assert_eq!((conf.len(), prob.len()), (12, 12));
    for (c, p) in conf.iter().zip(prob) {
        let (c, p) = (c.as_f64().unwrap(), p.as_f64().unwrap());
        assert!((c - (p / (1.0 - p)).ln()).abs() < 1e-9, "log-odds {c} of p = {p}");
    }
}

#[test]
fn a_candidate_kept_for_retain_is_an_error() {
    // Sample 1 is a member but not in D_f (class 0's first 8 members are the forget set).
    let s = shadow(&[160, 199, 150]);
    let e = run_stage(tmu_plugin(), "membership.signals", inputs(&s.paths), config("")).unwrap_err();
    assert!(e.to_string().contains("is a member of the shadow but not in its D_f"), "{e}");
}

#[test]
fn every_example_runs() {
    let s = shadow(&[160, 161]);
    assert!(tmu_test_support::run_examples(tmu_plugin(), "membership.signals", &inputs(&s.paths)) >= 2);
}
