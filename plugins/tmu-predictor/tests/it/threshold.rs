//! The twin-F1 threshold against tests/reference/twin_f1_reference.json, computed by
//! tests/reference/twin_f1_reference.py: for every candidate cut, scikit-learn's `f1_score` of
//! the hard class, the best one kept (ties: fewer samples called hard).

use serde_json::Value;
use tmu_predictor::threshold::twin_f1_cut;

#[test]
fn twin_f1_cut_matches_a_brute_force_scikit_learn_search() {
    let r: Value = serde_json::from_str(include_str!("../reference/twin_f1_reference.json")).unwrap();
    let cases = r["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 7);
    for (k, case) in cases.iter().enumerate() {
        let p: Vec<f64> = case["p_easy"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
        let easy: Vec<bool> = case["easy"].as_array().unwrap().iter().map(|v| v.as_bool().unwrap()).collect();
        let got = twin_f1_cut(&p, &easy);
        assert_eq!(got.cut, case["cut"].as_f64(), "case {k}");
        assert_eq!(got.hard_calls as u64, case["hard_calls"].as_u64().unwrap(), "case {k}");
        assert!((got.f1 - case["f1"].as_f64().unwrap()).abs() < 1e-12, "case {k}: {} vs {}", got.f1, case["f1"]);
        // The cut depends on the scores and labels, not on the row order.
        let (rp, re): (Vec<f64>, Vec<bool>) = p.iter().zip(&easy).rev().map(|(a, b)| (*a, *b)).unzip();
        assert_eq!(twin_f1_cut(&rp, &re), got, "case {k} reversed");
    }
}
