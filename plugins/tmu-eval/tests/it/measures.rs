//! tmu-eval's measures against tests/reference/metrics_reference.json, computed by
//! tests/reference/metrics_reference.py: softmax with PyTorch in float64, per-sample
//! cross-entropy exactly with mpmath (50 digits), the attack's threshold (`np.quantile`, linear)
//! and rate, activation distance, Delta, agreement and subset accuracies with NumPy. (The
//! quantiles themselves are checked bit for bit in tmu-stats.) The privacy measures (JS
//! divergence, logit-scaled confidence) against tests/reference/privacy_reference.json.

use serde_json::Value;
use tmu_eval::measures::{
    activation_distance, agreement, delta_pp, js_divergence, loss_threshold_attack, scaled_confidence, subset_accuracy,
};
use tmu_nn::loss::cross_entropy_f64;

fn reference() -> Value {
    serde_json::from_str(include_str!("../reference/metrics_reference.json")).unwrap()
}

fn f64s(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn f32s(v: &Value) -> Vec<f32> {
    f64s(v).into_iter().map(|x| x as f32).collect()
}

fn u32s(v: &Value) -> Vec<u32> {
    v.as_array().unwrap().iter().map(|x| x.as_u64().unwrap() as u32).collect()
}

fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / b.abs().max(f64::MIN_POSITIVE)
}

fn losses(logits: &[f32], labels: &[u32], k: usize) -> Vec<f64> {
    logits.chunks_exact(k).zip(labels).map(|(row, &y)| cross_entropy_f64(row, y as usize)).collect()
}

fn correct(logits: &[f32], labels: &[u32], k: usize) -> Vec<bool> {
    logits
        .chunks_exact(k)
        .zip(labels)
        .map(|(row, &y)| {
            let best = (0..k).fold(0, |b, j| if row[j] > row[b] { j } else { b });
            best == y as usize
        })
        .collect()
}

#[test]
fn comparison_with_gold_matches_numpy_and_pytorch() {
    let r = reference();
    let c = &r["compare"];
    let e = &c["expected"];
    let k = c["k"].as_u64().unwrap() as usize;
    let (y_f, y_p) = (u32s(&c["y_forget"]), u32s(&c["y_population"]));
    let (model_f, model_p) = (f32s(&c["model_forget"]), f32s(&c["model_population"]));
    let (gold_f, gold_p) = (f32s(&c["gold_forget"]), f32s(&c["gold_population"]));

    // Losses of a memorising model (1e-7 .. 1e-3) in f64: relative error 1e-12 at most (the
    // reference is exact; observed max 2.2e-16).
    let lf = losses(&model_f, &y_f, k);
    for (got, expected) in lf.iter().zip(f64s(&e["model_forget_losses"])) {
        assert!(rel(*got, expected) < 1e-12, "loss {got} vs {expected}");
    }

    // Activation distance: softmax in f64 on both sides (observed error 0).
    let d = activation_distance(&model_f, &gold_f, k);
    assert!((d - e["activation_distance"].as_f64().unwrap()).abs() < 1e-12, "{d}");

    let (cm, cg) = (correct(&model_f, &y_f, k), correct(&gold_f, &y_f, k));
    let acc = |c: &[bool]| c.iter().filter(|x| **x).count() as f64 / c.len() as f64;
    assert!((delta_pp(acc(&cm), acc(&cg)) - e["delta"].as_f64().unwrap()).abs() < 1e-9);
    assert_eq!(agreement(&cm, &cg), e["agreement"].as_f64().unwrap());
    let easy: Vec<bool> = c["predicted_easy"].as_array().unwrap().iter().map(|v| v.as_bool().unwrap()).collect();
    let hard: Vec<bool> = easy.iter().map(|e| !e).collect();
    assert_eq!(subset_accuracy(&cm, &easy), e["acc_forget_easy"].as_f64());
    assert_eq!(subset_accuracy(&cm, &hard), e["acc_forget_hard"].as_f64());

    // The attack: thresholds to 1e-12 relative (they interpolate losses near 1e-6; observed
    // 2.2e-16), rates exact,
    // including D_f losses tied with population losses at the threshold.
    let (lp, gf, gp) = (losses(&model_p, &y_p, k), losses(&gold_f, &y_f, k), losses(&gold_p, &y_p, k));
    for m in e["mia"].as_array().unwrap() {
        let alpha = m["alpha"].as_f64().unwrap();
        let own = loss_threshold_attack(&lp, &lf, alpha);
        let gold = loss_threshold_attack(&gp, &gf, alpha);
        assert!(rel(own.threshold, m["threshold"].as_f64().unwrap()) < 1e-12, "alpha {alpha}: {own:?}");
        assert!(rel(gold.threshold, m["gold_threshold"].as_f64().unwrap()) < 1e-12, "alpha {alpha}: {gold:?}");
        assert_eq!(own.rate, m["rate"].as_f64().unwrap(), "alpha {alpha}");
        assert_eq!(gold.rate, m["gold_rate"].as_f64().unwrap(), "alpha {alpha}");
    }
}

/// `tests/reference/privacy_reference.json` (tests/reference/privacy_reference.py): the
/// Jensen-Shannon divergence with SciPy and the logit-scaled confidence with mpmath.
#[test]
fn js_divergence_and_scaled_confidence_match_scipy_and_mpmath() {
    let r: Value = serde_json::from_str(include_str!("../reference/privacy_reference.json")).unwrap();
    let k = r["k"].as_u64().unwrap() as usize;
    let (a, b, labels) = (f32s(&r["a"]), f32s(&r["b"]), u32s(&r["labels"]));
    let rows = f64s(&r["js_rows"]);
    let mut worst_js = 0.0f64;
    for (i, want) in rows.iter().enumerate() {
        let got = js_divergence(&a[i * k..(i + 1) * k], &b[i * k..(i + 1) * k], k);
        worst_js = worst_js.max((got - want).abs());
    }
    worst_js = worst_js.max((js_divergence(&a, &b, k) - r["js_mean"].as_f64().unwrap()).abs());
    // Max abs error seen: 1.4e-16.
    assert!(worst_js < 1e-13, "JS divergence differs from SciPy by {worst_js}");
    let mut worst = 0.0f64;
    for (i, want) in f64s(&r["scaled_confidence"]).iter().enumerate() {
        let got = scaled_confidence(&a[i * k..(i + 1) * k], labels[i] as usize);
        worst = worst.max((got - want).abs());
    }
    // Max abs error seen: 8.9e-16.
    assert!(worst < 1e-12, "scaled confidence differs from mpmath by {worst}");
}
