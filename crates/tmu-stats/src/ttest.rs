//! The paired t-test (SciPy's `ttest_rel(a, b)`): a one-sample t-test of the differences
//! against zero, its p-value from statrs' Student t.

use crate::summary::{mean, sample_std};
use crate::tails::t_two_sided;
use crate::{StatsError, TestOutcome};

/// The t statistic `mean(d) / (sample_std(d) / sqrt(n))` of the differences `d = a - b` and its
/// two-sided p with n - 1 degrees of freedom. `Ok(None)` for fewer than two differences or
/// differences that do not vary (SciPy gives NaN or an infinite t there); errors for NaN.
///
/// statrs' own `ttest_onesample` is not used: its two-sided p is `2 (1 - cdf(|t|))`, which
/// loses the relative precision of small p-values (for t = -30 with 10 degrees of freedom,
/// p = 4e-11, it is off by 1.5e-6 relative); the survival function used here is off by 2e-15
/// there (checked against SciPy in `tests/it/paired.rs`).
pub fn paired_t_test(differences: &[f64]) -> Result<Option<TestOutcome>, StatsError> {
    if differences.iter().any(|d| d.is_nan()) {
        return Err(StatsError::NotANumber { what: "paired t-test" });
    }
    let (Some(m), Some(s)) = (mean(differences), sample_std(differences)) else {
        return Ok(None);
    };
    if s <= 0.0 {
        return Ok(None);
    }
    let n = differences.len() as f64;
    let t = m / (s / n.sqrt());
    let p = t_two_sided(t, n - 1.0)?;
    Ok(Some(TestOutcome { statistic: t, p }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degenerate_samples_have_no_test() {
        assert_eq!(paired_t_test(&[]), Ok(None));
        assert_eq!(paired_t_test(&[1.0]), Ok(None));
        assert_eq!(paired_t_test(&[0.5, 0.5, 0.5]), Ok(None));
        assert_eq!(paired_t_test(&[0.5, f64::NAN]), Err(StatsError::NotANumber { what: "paired t-test" }));
    }
}
