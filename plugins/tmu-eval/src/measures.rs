//! The per-sample comparisons of an unlearned model with the gold model on D_f: softmax
//! outputs and their L2 distance, agreement of correctness, Delta, accuracy on a subset, and the
//! loss-threshold membership-inference attack. Everything in f64.

use tmu_stats::{StatsError, quantile};

/// Softmax of one row of logits, in f64 (the maximum is subtracted first).
pub fn softmax_f64(logits: &[f32]) -> Vec<f64> {
    let max = logits.iter().map(|&l| f64::from(l)).fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = logits.iter().map(|&l| (f64::from(l) - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.into_iter().map(|v| v / sum).collect()
}

/// Mean over rows of `||softmax(a_i) - softmax(b_i)||_2`; `a`, `b` row-major `[N, k]`, N >= 1.
pub fn activation_distance(a: &[f32], b: &[f32], k: usize) -> f64 {
    assert_eq!(a.len(), b.len(), "logits of the same samples");
    let n = a.len() / k;
    let total: f64 = a
        .chunks_exact(k)
        .zip(b.chunks_exact(k))
        .map(|(ra, rb)| {
            let (pa, pb) = (softmax_f64(ra), softmax_f64(rb));
            pa.iter().zip(&pb).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
        })
        .sum();
    total / n as f64
}

/// Mean over rows of the Jensen-Shannon divergence (natural log) of `softmax(a_i)` and
/// `softmax(b_i)`: `(KL(p || m) + KL(q || m)) / 2` with `m = (p + q) / 2`, terms with a zero
/// probability counting 0; in `[0, ln 2]`. `a`, `b` row-major `[N, k]`, N >= 1.
pub fn js_divergence(a: &[f32], b: &[f32], k: usize) -> f64 {
    assert_eq!(a.len(), b.len(), "logits of the same samples");
    let n = a.len() / k;
    let kl = |p: &[f64], m: &[f64]| -> f64 {
        p.iter().zip(m).filter(|(x, _)| **x > 0.0).map(|(x, y)| x * (x / y).ln()).sum()
    };
    let total: f64 = a
        .chunks_exact(k)
        .zip(b.chunks_exact(k))
        .map(|(ra, rb)| {
            let (p, q) = (softmax_f64(ra), softmax_f64(rb));
            let m: Vec<f64> = p.iter().zip(&q).map(|(x, y)| (x + y) / 2.0).collect();
            ((kl(&p, &m) + kl(&q, &m)) / 2.0).max(0.0)
        })
        .sum();
    total / n as f64
}

/// The logit-scaled confidence of class `label` (LiRA's statistic): `log(p / (1 - p))` with `p`
/// the softmax probability of `label`, computed without forming `p` as
/// `z_label - logsumexp(z_j, j != label)`, so it stays finite where `p` rounds to 1 in f64.
/// At least two classes.
pub fn scaled_confidence(logits: &[f32], label: usize) -> f64 {
    let others = logits.iter().enumerate().filter(|(j, _)| *j != label).map(|(_, &z)| f64::from(z));
    let max = others.clone().fold(f64::NEG_INFINITY, f64::max);
    let lse = max + others.map(|z| (z - max).exp()).sum::<f64>().ln();
    f64::from(logits[label]) - lse
}

/// Fraction of samples on which two models are both right or both wrong.
pub fn agreement(a_correct: &[bool], b_correct: &[bool]) -> f64 {
    assert_eq!(a_correct.len(), b_correct.len(), "the same samples");
    let same = a_correct.iter().zip(b_correct).filter(|(a, b)| a == b).count();
    same as f64 / a_correct.len() as f64
}

/// Delta: `|acc - gold_acc|` in percentage points (accuracies are fractions).
pub fn delta_pp(acc: f64, gold_acc: f64) -> f64 {
    100.0 * (acc - gold_acc).abs()
}

/// Accuracy over the samples where `mask` is true; `None` for an empty subset.
pub fn subset_accuracy(correct: &[bool], mask: &[bool]) -> Option<f64> {
    let (mut n, mut right) = (0usize, 0usize);
    for (&c, _) in correct.iter().zip(mask).filter(|(_, m)| **m) {
        n += 1;
        right += usize::from(c);
    }
    (n > 0).then(|| right as f64 / n as f64)
}

/// The outcome of the loss-threshold attack at one level.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Attack {
    /// The `alpha`-quantile of the model's losses on non-members.
    pub threshold: f64,
    /// Fraction of the target samples flagged as members (`loss <= threshold`).
    pub rate: f64,
}

/// The population loss-threshold attack (Ye et al., CCS 2022): the threshold is the
/// `alpha`-quantile (linear interpolation) of the per-sample losses on non-members, so that a
/// fraction `alpha` of non-members would be flagged; a target sample is flagged a member when
/// its loss is at most the threshold. Both loss lists non-empty, `alpha` in `[0, 1]` (the stage
/// checks both before it runs). NaN among the population losses (a model that diverged) makes
/// the threshold and the rate NaN, null in `metrics.json`, as NumPy's quantile is NaN there.
pub fn loss_threshold_attack(population_losses: &[f64], target_losses: &[f64], alpha: f64) -> Attack {
    let threshold = match quantile(population_losses, alpha) {
        Ok(threshold) => threshold,
        Err(StatsError::NotANumber { .. }) => return Attack { threshold: f64::NAN, rate: f64::NAN },
        Err(e) => panic!("loss-threshold attack: {e}"),
    };
    let flagged = target_losses.iter().filter(|&&l| l <= threshold).count();
    Attack { threshold, rate: flagged as f64 / target_losses.len() as f64 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_models_are_at_distance_zero_and_agree() {
        let a = [1.0f32, 2.0, 3.0, -1.0, 0.0, 5.0];
        assert_eq!(activation_distance(&a, &a, 3), 0.0);
        assert_eq!(agreement(&[true, false], &[true, false]), 1.0);
        assert_eq!(delta_pp(0.8, 0.75), 100.0 * 0.050000000000000044);
        assert_eq!(subset_accuracy(&[true, false, true], &[true, true, false]), Some(0.5));
        assert_eq!(subset_accuracy(&[true], &[false]), None);
        // Opposite one-hot outputs are sqrt(2) apart.
        let d = activation_distance(&[100.0, 0.0], &[0.0, 100.0], 2);
        assert!((d - 2f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn the_attack_flags_losses_at_or_below_the_quantile() {
        let population = [0.1, 0.2, 0.3, 0.4, 0.5];
        // 0.25-quantile = 0.2 exactly: 0.2 itself is flagged.
        let a = loss_threshold_attack(&population, &[0.05, 0.2, 0.21, 3.0], 0.25);
        assert_eq!(a, Attack { threshold: 0.2, rate: 0.5 });
        // A diverged model: no threshold, no rate.
        let a = loss_threshold_attack(&[0.1, f64::NAN], &[0.05], 0.25);
        assert!(a.threshold.is_nan() && a.rate.is_nan(), "{a:?}");
    }
}
