//! The unlearning stages on a small blobs problem (tests/common): each moves the forget set the
//! way its method should while keeping the retained samples, writes its wall time into the
//! model, and reproduces its weights from the same seed.
//!
//! The original model classifies every sample correctly (asserted). The blobs' forget samples
//! are typical of their class, so fine-tuning alone keeps them; the configs below give the
//! methods enough steps (batch 16) to act on 160 samples.

use crate::common;

use common::{accuracy, fixture, mean_loss, metrics, run, wall_seconds};

/// Every other forget sample is (predicted) easy.
fn alternate(n: usize) -> Vec<bool> {
    (0..n).map(|i| i % 2 == 0).collect()
}

#[test]
fn tmu_flips_the_hard_samples_and_keeps_the_rest() {
    let f = fixture(16);
    let easy = alternate(16);
    assert_eq!(accuracy(&f.model, &f.forget_data, |_| true), 1.0);
    assert_eq!(accuracy(&f.model, &f.retain_data, |_| true), 1.0);
    let r = run("forget.tmu", f.inputs(Some(&f.labels(&easy))), "epochs = 20\nbatch_size = 16\nlr = 0.05", 1).unwrap();
    let m = r.output("model");
    let (hard_acc, easy_acc) = (accuracy(&m, &f.forget_data, |i| !easy[i]), accuracy(&m, &f.forget_data, |i| easy[i]));
    assert!(hard_acc <= 0.25, "hard accuracy {hard_acc}");
    assert!(easy_acc >= 0.75, "easy accuracy {easy_acc}");
    assert!(accuracy(&m, &f.retain_data, |_| true) >= 0.95);
    assert!(wall_seconds(&m) > 0.0);

    let mx = metrics(&r);
    assert_eq!((mx["easy"].as_u64(), mx["hard"].as_u64()), (Some(8), Some(8)));
    let hard_ids: Vec<u64> = (0..16).filter(|i| !easy[*i]).map(|i| f.forget_data.ids[i]).collect();
    assert_eq!(mx["hard_ids"], serde_json::json!(hard_ids));
    let wrong = mx["wrong_labels"].as_array().unwrap();
    assert_eq!(wrong.len(), 8);
    for w in wrong {
        assert_eq!(w["label"], 0, "the forget set is class 0");
        assert_ne!(w["wrong_label"], w["label"]);
    }
    assert_eq!(mx["accuracy_after"]["hard"].as_f64(), Some(hard_acc));
    assert_eq!(mx["accuracy_after"]["easy"].as_f64(), Some(easy_acc));
    assert_eq!(mx["training"]["epochs"], 20);
    assert_eq!(r.response.summary["hard"], 8);
}

#[test]
fn tmu_bounded_ascent_stops_near_ln_c() {
    let f = fixture(16);
    let easy = alternate(16);
    let cfg = "epochs = 20\nbatch_size = 16\nhard = \"ascent\"\nascent_weight = 20.0";
    let r = run("forget.tmu", f.inputs(Some(&f.labels(&easy))), cfg, 1).unwrap();
    let m = r.output("model");
    // A strong ascent pushes the hard samples below p(y) = 1/4 and then stops: their loss
    // settles near ln 4 = 1.386 instead of growing without bound (NegGrad below reaches 1e4).
    let loss = mean_loss(&m, &f.forget_data, |i| !easy[i]);
    assert!((0.7..2.8).contains(&loss), "hard mean loss {loss}");
    assert!(accuracy(&m, &f.forget_data, |i| !easy[i]) <= 0.25);
    assert_eq!(metrics(&r)["wrong_labels"], serde_json::json!([]));
}

#[test]
fn finetune_keeps_retain_accuracy() {
    let f = fixture(16);
    let inputs = tmu_plugin::Inputs::default().with("model", &f.model, tmu_plugin::ArtifactKind::Model).with(
        "retain",
        &f.retain,
        tmu_plugin::ArtifactKind::Dataset,
    );
    let r = run("forget.finetune", inputs, "", 1).unwrap();
    let m = r.output("model");
    assert!(accuracy(&m, &f.retain_data, |_| true) >= 0.95);
    assert!(wall_seconds(&m) > 0.0);
    assert_eq!(metrics(&r)["training"]["epochs"], 5);
}

#[test]
fn neggrad_overshoots_the_forget_set() {
    let f = fixture(16);
    let r = run("forget.neggrad", f.inputs(None), "epochs = 11\nbatch_size = 16", 1).unwrap();
    let m = r.output("model");
    assert!(accuracy(&m, &f.forget_data, |_| true) <= 0.25);
    // Unbounded: far past chance (ln 4 = 1.39).
    let loss = mean_loss(&m, &f.forget_data, |_| true);
    assert!(loss > 10.0 * 4f64.ln(), "forget mean loss {loss}");
    assert!(wall_seconds(&m) > 0.0);
    assert_eq!(metrics(&r)["accuracy_after"]["forget"].as_f64(), Some(accuracy(&m, &f.forget_data, |_| true)));
}

#[test]
fn neggrad_divergence_keeps_the_last_finite_epoch_or_fails_on_request() {
    let f = fixture(16);
    // A huge ascent weight and step size send the loss to -inf within a few epochs.
    let cfg = "epochs = 30\nbatch_size = 16\nalpha = 50.0\nlr = 0.5";
    let r = run("forget.neggrad", f.inputs(None), cfg, 1).unwrap();
    let d = &metrics(&r)["diverged"];
    let (epoch, kept) = (d["epoch"].as_u64().unwrap(), d["kept_epochs"].as_u64().unwrap());
    assert!(epoch < 30 && kept < epoch.max(1), "diverged at epoch {epoch}, kept {kept}: {d}");
    assert_eq!(r.response.summary["diverged_at_epoch"], epoch);
    // The kept weights are finite: every forget loss is a number.
    assert!(mean_loss(&r.output("model"), &f.forget_data, |_| true).is_finite());

    let e = common::error(run("forget.neggrad", f.inputs(None), &format!("{cfg}\non_divergence = \"fail\""), 1));
    assert!(e.message.contains("training diverged"), "{}", e.message);
}

#[test]
fn random_label_lowers_forget_accuracy() {
    let f = fixture(16);
    let r = run("forget.random-label", f.inputs(None), "epochs = 20\nbatch_size = 16", 1).unwrap();
    let m = r.output("model");
    assert!(accuracy(&m, &f.forget_data, |_| true) <= 0.5);
    assert!(accuracy(&m, &f.retain_data, |_| true) >= 0.9);
    assert!(wall_seconds(&m) > 0.0);
}

#[test]
fn bad_teacher_lowers_forget_accuracy() {
    let f = fixture(16);
    let r = run("forget.bad-teacher", f.inputs(None), "epochs = 10\nbatch_size = 16\nlr = 1e-3", 1).unwrap();
    let m = r.output("model");
    assert!(accuracy(&m, &f.forget_data, |_| true) <= 0.5);
    assert!(accuracy(&m, &f.retain_data, |_| true) >= 0.9);
    assert!(wall_seconds(&m) > 0.0);
    let mx = metrics(&r);
    assert_eq!(mx["retain_used"], 43, "round(0.3 x 144)");
}
