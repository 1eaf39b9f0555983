//! The summaries and paired tests against SciPy: means and stds, sign test, paired t-test and
//! Wilcoxon signed-rank test on small samples, and the t and normal tails. The reference values
//! were computed by `tests/reference/paired_reference.py` (SciPy 1.17.1) into
//! `tests/reference/paired_reference.json`.

use tmu_stats::{EXACT_MAX, compare, mean, normal_two_sided, sample_std, t_two_sided};

fn reference() -> serde_json::Value {
    serde_json::from_str(include_str!("../reference/paired_reference.json")).expect("json")
}

fn floats(v: &serde_json::Value) -> Vec<f64> {
    v.as_array().expect("an array").iter().map(|x| x.as_f64().expect("a number")).collect()
}

fn close(what: &str, got: f64, want: f64, rel: f64) {
    assert!((got - want).abs() <= rel * want.abs().max(1e-12), "{what}: got {got}, SciPy says {want}");
}

#[test]
fn paired_tests_match_scipy() {
    let r = reference();
    let cases = r["cases"].as_array().expect("cases");
    assert_eq!(cases.len(), 9);
    for c in cases {
        let name = c["name"].as_str().expect("a name");
        let (a, b) = (floats(&c["a"]), floats(&c["b"]));
        close(&format!("{name} mean"), mean(&a).expect("values"), c["mean_a"].as_f64().expect("f"), 1e-12);
        close(&format!("{name} std"), sample_std(&a).expect("values"), c["std_a"].as_f64().expect("f"), 1e-12);
        let p = compare(&a, &b, 0.0).expect("a comparison");
        assert_eq!(p.n, a.len());
        close(&format!("{name} mean diff"), p.mean_diff.expect("d"), c["mean_diff"].as_f64().expect("f"), 1e-12);
        assert_eq!(p.wins, c["sign_negative"].as_u64().expect("n") as usize, "{name} wins");
        assert_eq!(p.wins + p.losses, c["sign_n"].as_u64().expect("n") as usize, "{name} non-ties");
        close(&format!("{name} sign p"), p.sign_p.expect("p"), c["sign_p"].as_f64().expect("f"), 1e-12);
        close(&format!("{name} t"), p.t.expect("t"), c["t"].as_f64().expect("f"), 1e-10);
        close(&format!("{name} t p"), p.t_p.expect("p"), c["t_p"].as_f64().expect("f"), 1e-9);
        close(&format!("{name} W"), p.wilcoxon_w.expect("w"), c["wilcoxon_w"].as_f64().expect("f"), 1e-12);
        close(&format!("{name} W p"), p.wilcoxon_p.expect("p"), c["wilcoxon_p"].as_f64().expect("f"), 1e-9);
    }
}

#[test]
fn the_reference_covers_both_wilcoxon_methods_and_the_size_limit() {
    let r = reference();
    let cases = r["cases"].as_array().expect("cases");
    let method = |name: &str| {
        let c = cases.iter().find(|c| c["name"] == name).expect("the case");
        (c["wilcoxon_method"].as_str().expect("a method").to_string(), c["sign_n"].as_u64().expect("n") as usize)
    };
    // Zeros dropped, no ties: exact; 51 distinct differences: one past the exact limit.
    assert_eq!(method("zeros_no_ties"), ("exact".to_string(), 6));
    assert_eq!(method("fifty_one"), ("approx".to_string(), EXACT_MAX + 1));
}

#[test]
fn tails_match_scipy() {
    let r = reference();
    for c in r["t_two_sided"].as_array().expect("t cases") {
        let (t, df, p) = (c["t"].as_f64().expect("t"), c["df"].as_f64().expect("df"), c["p"].as_f64().expect("p"));
        close(&format!("t = {t}, df = {df}"), t_two_sided(t, df).expect("a tail"), p, 1e-10);
    }
    for c in r["normal_two_sided"].as_array().expect("normal cases") {
        let (z, p) = (c["z"].as_f64().expect("z"), c["p"].as_f64().expect("p"));
        close(&format!("z = {z}"), normal_two_sided(z).expect("a tail"), p, 1e-10);
    }
}

#[test]
fn degenerate_comparisons_say_so() {
    // Every pair ties: no sign or Wilcoxon test, and the t statistic is undefined.
    let p = compare(&[1.0, 2.0], &[1.0, 2.0], 0.0).expect("a comparison");
    assert_eq!((p.wins, p.ties, p.losses), (0, 2, 0));
    assert_eq!((p.sign_p, p.t, p.wilcoxon_p), (None, None, None));
    // Differences within the tie tolerance count as ties.
    let p = compare(&[1.0, 2.0, 3.0], &[1.0 + 1e-12, 2.5, 2.0], 1e-9).expect("a comparison");
    assert_eq!((p.wins, p.ties, p.losses), (1, 1, 1));
    // One pair: a mean, no spread, no t-test.
    let p = compare(&[1.0], &[3.0], 0.0).expect("a comparison");
    assert_eq!((p.mean_diff, p.std_diff, p.t), (Some(-2.0), None, None));
    assert_eq!(p.sign_p, Some(1.0));
    assert_eq!(mean(&[]), None);
}

#[test]
fn unusable_inputs_are_errors() {
    use tmu_stats::StatsError;
    assert_eq!(
        compare(&[1.0, 2.0], &[1.0], 0.0),
        Err(StatsError::LengthMismatch { what: "paired comparison", left: 2, right: 1 })
    );
    assert_eq!(compare(&[f64::NAN], &[1.0], 0.0), Err(StatsError::NotANumber { what: "paired comparison" }));
    assert_eq!(compare(&[1.0], &[1.0], -1.0), Err(StatsError::InvalidParameter { what: "tie tolerance", value: -1.0 }));
}
