//! Paired comparisons of two methods over the same points: wins, ties and losses, the mean
//! difference, the sign test, the paired t-test and the Wilcoxon signed-rank test.
//!
//! Differences are `a - b`, lower is better (Delta, activation distance): `a` wins a point when
//! `a - b < -tie`, loses when `a - b > tie`. The tests follow SciPy (checked against it in
//! `tests/stats.rs`): the sign test is `binomtest(#wins, #wins + #losses, 0.5)` two-sided; the
//! t-test is `ttest_rel(a, b)`; the Wilcoxon test drops the ties (`zero_method="wilcox"`),
//! ranks the absolute differences with average ranks, reports W = min(R+, R-) and takes the
//! exact null distribution when there are at most 50 differences and no tied ranks, else the
//! normal approximation with the tie correction and no continuity correction.

use super::special::{ln_gamma, normal_two_sided, t_two_sided};
use super::summary::{mean, std};

/// The comparison of `a` with `b` over paired values.
#[derive(Clone, Debug, PartialEq, serde::Serialize)]
pub struct Paired {
    /// Pairs compared.
    pub n: usize,
    pub wins: usize,
    pub ties: usize,
    pub losses: usize,
    /// Mean and sample std of `a - b`.
    pub mean_diff: Option<f64>,
    pub std_diff: Option<f64>,
    /// Two-sided p of the sign test; `None` when every pair ties.
    pub sign_p: Option<f64>,
    /// The paired t statistic and its two-sided p; `None` for fewer than two pairs or
    /// differences that do not vary.
    pub t: Option<f64>,
    pub t_p: Option<f64>,
    /// W = min(R+, R-) and its two-sided p; `None` when every pair ties.
    pub wilcoxon_w: Option<f64>,
    pub wilcoxon_p: Option<f64>,
}

/// Compares `a` with `b` (same length, paired by position); see the module docs.
pub fn compare(a: &[f64], b: &[f64], tie: f64) -> Paired {
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let wins = d.iter().filter(|&&x| x < -tie).count();
    let losses = d.iter().filter(|&&x| x > tie).count();
    let (t, t_p) = match (mean(&d), std(&d)) {
        (Some(m), Some(s)) if s > 0.0 => {
            let t = m / (s / (d.len() as f64).sqrt());
            (Some(t), Some(t_two_sided(t, (d.len() - 1) as f64)))
        }
        _ => (None, None),
    };
    let kept: Vec<f64> = d.iter().copied().filter(|x| x.abs() > tie).collect();
    let (wilcoxon_w, wilcoxon_p) = wilcoxon(&kept).unzip();
    Paired {
        n: d.len(),
        wins,
        ties: d.len() - wins - losses,
        losses,
        mean_diff: mean(&d),
        std_diff: std(&d),
        sign_p: sign_test(wins, wins + losses),
        t,
        t_p,
        wilcoxon_w,
        wilcoxon_p,
    }
}

/// Two-sided p of the sign test: `k` successes in `n` fair coin flips, P(X <= min(k, n-k))
/// doubled (capped at 1); `None` for `n = 0`.
pub fn sign_test(k: usize, n: usize) -> Option<f64> {
    if n == 0 {
        return None;
    }
    let m = k.min(n - k);
    let ln_choose = |i: usize| ln_gamma(n as f64 + 1.0) - ln_gamma(i as f64 + 1.0) - ln_gamma((n - i) as f64 + 1.0);
    let tail: f64 = (0..=m).map(|i| (ln_choose(i) - n as f64 * std::f64::consts::LN_2).exp()).sum();
    Some((2.0 * tail).min(1.0))
}

/// Average ranks (1-based) of `x`, ties sharing the mean of their ranks, and the tie group sizes.
fn ranks(x: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
    let mut r = vec![0.0; x.len()];
    let mut groups = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            r[k] = rank;
        }
        groups.push(j - i + 1);
        i = j + 1;
    }
    (r, groups)
}

/// The Wilcoxon signed-rank test of non-zero differences `d`: W = min(R+, R-) and the
/// two-sided p (see the module docs); `None` for no differences.
pub fn wilcoxon(d: &[f64]) -> Option<(f64, f64)> {
    let n = d.len();
    if n == 0 {
        return None;
    }
    let abs: Vec<f64> = d.iter().map(|x| x.abs()).collect();
    let (r, groups) = ranks(&abs);
    let r_plus: f64 = d.iter().zip(&r).filter(|(x, _)| **x > 0.0).map(|(_, r)| r).sum();
    let total = (n * (n + 1)) as f64 / 2.0;
    let w = r_plus.min(total - r_plus);
    let tied = groups.iter().any(|&g| g > 1);
    let p = if n <= 50 && !tied {
        // Exact: the number of sign patterns giving each rank sum R+ (ranks 1..n).
        let max = n * (n + 1) / 2;
        let mut counts = vec![0f64; max + 1];
        counts[0] = 1.0;
        for k in 1..=n {
            for s in (k..=max).rev() {
                counts[s] += counts[s - k];
            }
        }
        let all = 2f64.powi(n as i32);
        let below: f64 = counts[..=(w as usize)].iter().sum();
        (2.0 * below / all).min(1.0)
    } else {
        let nf = n as f64;
        let ties: f64 = groups.iter().map(|&g| (g * g * g - g) as f64).sum();
        let sd = (nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - ties / 48.0).sqrt();
        normal_two_sided((w - total / 2.0) / sd)
    };
    Some((w, p))
}
