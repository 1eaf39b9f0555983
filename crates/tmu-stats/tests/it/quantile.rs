//! Quantiles against NumPy, bit for bit: `tests/reference/quantile_reference.json`, computed by
//! `tests/reference/quantile_reference.py` with `np.quantile` (method "linear", float64), on
//! the cases tmu-eval and tmu-predictor checked before the quantiles moved here.

use tmu_stats::{quantile, quantile_sorted};

fn f64s(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number")).collect()
}

#[test]
fn quantiles_match_numpy_exactly() {
    let r: serde_json::Value =
        serde_json::from_str(include_str!("../reference/quantile_reference.json")).expect("json");
    let cases = r["quantile"].as_array().expect("cases");
    assert_eq!(cases.len(), 14);
    for case in cases {
        let values = f64s(&case["values"]);
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        for (q, expected) in f64s(&case["q"]).into_iter().zip(f64s(&case["expected"])) {
            // Bit for bit: the same virtual index and the same two-branch interpolation as NumPy.
            assert_eq!(quantile(&values, q), Ok(expected), "q = {q} of {values:?}");
            assert_eq!(quantile_sorted(&sorted, q), Ok(expected), "q = {q} of {sorted:?}");
        }
    }
}
