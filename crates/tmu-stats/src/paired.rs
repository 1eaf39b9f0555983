//! Paired comparisons of two methods over the same points: wins, ties and losses, the mean
//! difference, the sign test, the paired t-test and the Wilcoxon signed-rank test.
//!
//! Differences are `a - b`, lower is better (Delta, activation distance): `a` wins a point when
//! `a - b < -tie`, loses when `a - b > tie`, and ties otherwise. The tests follow SciPy (checked
//! against it in `tests/it/paired.rs`): the sign test is `binomtest(#wins, #wins + #losses, 0.5)`
//! two-sided; the t-test is `ttest_rel(a, b)` on every pair (ties included); the Wilcoxon test
//! sees only the pairs that do not tie (see [`wilcoxon()`]).

use crate::summary::{mean, sample_std};
use crate::{StatsError, paired_t_test, sign_test, wilcoxon};

/// The comparison of `a` with `b` over paired values.
#[derive(Clone, Debug, PartialEq)]
pub struct Paired {
    /// Pairs compared.
    pub n: usize,
    pub wins: usize,
    pub ties: usize,
    pub losses: usize,
    /// Mean and sample std (ddof = 1) of `a - b`.
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

/// Compares `a` with `b` (paired by position) with tie tolerance `tie >= 0`; see the module
/// docs. Errors for slices of different lengths, NaN values or a negative or NaN `tie`.
pub fn compare(a: &[f64], b: &[f64], tie: f64) -> Result<Paired, StatsError> {
    if a.len() != b.len() {
        return Err(StatsError::LengthMismatch { what: "paired comparison", left: a.len(), right: b.len() });
    }
    if a.iter().chain(b).any(|v| v.is_nan()) {
        return Err(StatsError::NotANumber { what: "paired comparison" });
    }
    if tie.is_nan() || tie < 0.0 {
        return Err(StatsError::InvalidParameter { what: "tie tolerance", value: tie });
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let wins = d.iter().filter(|&&x| x < -tie).count();
    let losses = d.iter().filter(|&&x| x > tie).count();
    let t = paired_t_test(&d)?;
    let kept: Vec<f64> = d.iter().copied().filter(|x| x.abs() > tie).collect();
    let w = wilcoxon(&kept)?;
    Ok(Paired {
        n: d.len(),
        wins,
        ties: d.len() - wins - losses,
        losses,
        mean_diff: mean(&d),
        std_diff: sample_std(&d),
        sign_p: sign_test(wins, losses),
        t: t.map(|t| t.statistic),
        t_p: t.map(|t| t.p),
        wilcoxon_w: w.map(|w| w.statistic),
        wilcoxon_p: w.map(|w| w.p),
    })
}
