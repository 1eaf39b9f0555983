//! The Wilcoxon signed-rank test as SciPy's `wilcoxon(d, zero_method="wilcox",
//! correction=False)`: exact null distribution for small samples without ties, else the normal
//! approximation with the tie correction.

use crate::rank::average_ranks;
use crate::{StatsError, TestOutcome, normal_two_sided};

/// Up to this many non-zero differences without ties, the p-value is exact.
pub const EXACT_MAX: usize = 50;

/// The Wilcoxon signed-rank test of the differences `d`: zero differences are dropped
/// (`zero_method="wilcox"`), the rest ranked by absolute value with average ranks, and the
/// statistic is W = min(R+, R-). The two-sided p comes from the exact distribution of R+ when
/// at most [`EXACT_MAX`] differences remain and no two tie in absolute value (SciPy's
/// `method="exact"`), else from the normal approximation with the tie correction and no
/// continuity correction (`method="approx"`). `Ok(None)` when no difference is non-zero;
/// errors for NaN.
pub fn wilcoxon(differences: &[f64]) -> Result<Option<TestOutcome>, StatsError> {
    if differences.iter().any(|d| d.is_nan()) {
        return Err(StatsError::NotANumber { what: "wilcoxon" });
    }
    let d: Vec<f64> = differences.iter().copied().filter(|&x| x != 0.0).collect();
    let n = d.len();
    if n == 0 {
        return Ok(None);
    }
    let abs: Vec<f64> = d.iter().map(|x| x.abs()).collect();
    let (r, groups) = average_ranks(&abs);
    // `+ 0.0`: an empty f64 sum is -0.0, which a CSV would print as `-0`.
    let r_plus: f64 = d.iter().zip(&r).filter(|(x, _)| **x > 0.0).map(|(_, r)| r).sum::<f64>() + 0.0;
    let total = (n * (n + 1)) as f64 / 2.0;
    let w = r_plus.min(total - r_plus);
    let tied = groups.iter().any(|&g| g > 1);
    let p = if n <= EXACT_MAX && !tied {
        exact_p(n, w)
    } else {
        let nf = n as f64;
        let ties: f64 = groups.iter().map(|&g| (g * g * g - g) as f64).sum();
        let sd = (nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - ties / 48.0).sqrt();
        normal_two_sided((w - total / 2.0) / sd)?
    };
    Ok(Some(TestOutcome { statistic: w, p }))
}

/// Two-sided exact p of W = `w` (an integer here: no ties) for `n` differences: the number of
/// sign patterns giving each rank sum R+ over ranks 1..=n, P(R+ <= w) doubled, capped at 1.
fn exact_p(n: usize, w: f64) -> f64 {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_exact_cases() {
        assert_eq!(wilcoxon(&[0.0, 0.0]), Ok(None));
        // One difference: R+ is 0 or 1 with probability 1/2 each; W = 0, p = 2 * 1/2.
        assert_eq!(wilcoxon(&[-2.0]), Ok(Some(TestOutcome { statistic: 0.0, p: 1.0 })));
        // Three negatives: W = 0, P(R+ = 0) = 1/8, p = 1/4; the zero is dropped.
        assert_eq!(wilcoxon(&[-1.0, 0.0, -2.0, -3.0]), Ok(Some(TestOutcome { statistic: 0.0, p: 0.25 })));
        let w = wilcoxon(&[-1.0, -2.0]).expect("ok").expect("a test").statistic;
        assert!(w == 0.0 && w.is_sign_positive(), "W = {w}");
        assert_eq!(wilcoxon(&[f64::NAN]), Err(StatsError::NotANumber { what: "wilcoxon" }));
    }
}
