//! ROC AUC with ties against scikit-learn: `tests/reference/auc_reference.json`, computed by
//! `tests/reference/auc_reference.py` with `roc_auc_score`.

use tmu_stats::auc;

#[test]
fn auc_with_ties_matches_scikit_learn() {
    let r: serde_json::Value = serde_json::from_str(include_str!("../reference/auc_reference.json")).expect("json");
    let cases = r["auc"].as_array().expect("cases");
    assert_eq!(cases.len(), 6);
    let mut worst = 0.0f64;
    for case in cases {
        let scores: Vec<f64> =
            case["scores"].as_array().expect("scores").iter().map(|s| s.as_f64().expect("a score")).collect();
        let positive: Vec<bool> =
            case["labels"].as_array().expect("labels").iter().map(|l| l.as_u64() == Some(1)).collect();
        let expected = case["expected"].as_f64().expect("an AUC");
        let got = auc(&scores, &positive).expect("valid inputs").expect("both classes");
        worst = worst.max((got - expected).abs());
    }
    // Max abs error seen: 1.1e-16.
    assert!(worst < 1e-12, "AUC differs from scikit-learn by up to {worst}");
}
