//! The ROC curve, TPR at a fixed FPR, balanced accuracy, U-LiRA, offline RMIA, ToW and ToW-MIA
//! against `tests/reference/membership_reference.json`, computed by
//! `tests/reference/membership_reference.py` with scikit-learn's `roc_curve`, SciPy's
//! `norm.logpdf` and NumPy (RMIA's formula as in privacytrustlab/ml_privacy_meter,
//! `modules/mia/attacks/rmia.py`, reference models chosen as the script says).

use serde_json::Value;
use tmu_stats::{RmiaSettings, Scored, rmia, roc_curve, tow, tow_mia, ulira};

fn reference() -> Value {
    serde_json::from_str(include_str!("../reference/membership_reference.json")).expect("json")
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(|x| x.as_f64().expect("a number")).collect()
}

fn matrix(v: &Value) -> Vec<Vec<f64>> {
    v.as_array().expect("rows").iter().map(floats).collect()
}

fn bools(v: &Value) -> Vec<Vec<bool>> {
    v.as_array()
        .expect("rows")
        .iter()
        .map(|r| r.as_array().expect("row").iter().map(|b| b.as_bool().expect("bool")).collect())
        .collect()
}

/// Max abs difference of two scored lists, which must hold the same pairs in the same order.
fn compare(got: &[Scored], expected: &Value) -> f64 {
    let expected = expected.as_array().expect("scored");
    assert_eq!(got.len(), expected.len(), "the same pairs are scored");
    let mut worst = 0.0f64;
    for (g, e) in got.iter().zip(expected) {
        let e = e.as_array().expect("a pair");
        assert_eq!(g.model as u64, e[0].as_u64().unwrap());
        assert_eq!(g.example as u64, e[1].as_u64().unwrap());
        assert_eq!(g.member, e[2].as_bool().unwrap());
        worst = worst.max((g.score - e[3].as_f64().unwrap()).abs());
    }
    worst
}

#[test]
fn roc_tpr_at_fpr_and_balanced_accuracy_match_scikit_learn() {
    let r = reference();
    let mut worst = 0.0f64;
    for case in r["roc"].as_array().expect("cases") {
        let scores = floats(&case["scores"]);
        let positive: Vec<bool> = floats(&case["labels"]).iter().map(|&l| l == 1.0).collect();
        let roc = roc_curve(&scores, &positive).expect("valid").expect("both classes");
        assert_eq!(roc.fpr, floats(&case["fpr"]), "FPR points");
        assert_eq!(roc.tpr, floats(&case["tpr"]), "TPR points");
        for pair in case["tpr_at"].as_array().expect("levels") {
            let p = floats(pair);
            worst = worst.max((roc.tpr_at(p[0]) - p[1]).abs());
        }
        worst = worst.max((roc.balanced_accuracy() - case["balanced_accuracy"].as_f64().unwrap()).abs());
    }
    // Max abs error seen: 0.
    assert!(worst < 1e-12, "TPR at FPR / balanced accuracy differ by {worst}");
}

#[test]
fn ulira_matches_scipy_leave_one_model_out() {
    let r = reference();
    let e = &r["ensemble"];
    let got = ulira(&matrix(&e["values"]), &bools(&e["member"]), r["ulira"]["min_std"].as_f64().unwrap()).unwrap();
    let worst = compare(&got, &r["ulira"]["scored"]);
    // Max abs error seen: 3.6e-15.
    assert!(worst < 1e-10, "U-LiRA log-likelihood ratios differ by {worst}");
}

#[test]
fn rmia_matches_numpy() {
    let r = reference();
    let e = &r["ensemble"];
    let (probs, member, population) = (matrix(&e["probs"]), bools(&e["member"]), matrix(&e["population"]));
    for case in r["rmia"].as_array().expect("cases") {
        let s = RmiaSettings {
            reference_models: case["k"].as_u64().unwrap() as usize,
            a: case["a"].as_f64().unwrap(),
            gamma: case["gamma"].as_f64().unwrap(),
        };
        let got = rmia(&probs, &member, &population, s).unwrap();
        let worst = compare(&got, &case["scored"]);
        // The scores are fractions of 7 population samples: equal exactly.
        assert!(worst == 0.0, "RMIA {s:?} differs by {worst}");
    }
}

#[test]
fn tow_matches_numpy() {
    let r = reference();
    let c = &r["tow"][0];
    let (a, g) = (floats(&c["acc"]), floats(&c["gold"]));
    let got = tow([a[0], a[1], a[2]], [g[0], g[1], g[2]]);
    assert!((got - c["expected"].as_f64().unwrap()).abs() < 1e-15, "ToW {got}");
    let c = &r["tow_mia"][0];
    let (a, g) = (floats(&c["acc"]), floats(&c["gold"]));
    let got = tow_mia(c["mia"].as_f64().unwrap(), c["mia_gold"].as_f64().unwrap(), [a[0], a[1]], [g[0], g[1]]);
    assert!((got - c["expected"].as_f64().unwrap()).abs() < 1e-15, "ToW-MIA {got}");
}
