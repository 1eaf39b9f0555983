//! ROC AUC with ties, as scikit-learn's `roc_auc_score`.

use crate::StatsError;
use crate::rank::average_ranks;

/// ROC AUC of `scores` for the positives in `positive` (one label per score): the Mann-Whitney
/// statistic with average ranks for ties, so a tied positive-negative pair counts 1/2, as the
/// trapezoidal ROC of scikit-learn does. `Ok(None)` when either class is absent (the AUC is
/// undefined); errors for a label count that differs from the score count, or NaN scores.
pub fn auc(scores: &[f64], positive: &[bool]) -> Result<Option<f64>, StatsError> {
    if scores.len() != positive.len() {
        return Err(StatsError::LengthMismatch { what: "auc", left: scores.len(), right: positive.len() });
    }
    if scores.iter().any(|s| s.is_nan()) {
        return Err(StatsError::NotANumber { what: "auc" });
    }
    let n_pos = positive.iter().filter(|p| **p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return Ok(None);
    }
    let (ranks, _) = average_ranks(scores);
    // Sum of the positives' ranks: half-integers, so the sum is exact.
    let rank_sum: f64 = ranks.iter().zip(positive).filter(|(_, p)| **p).map(|(r, _)| r).sum();
    let (p, n) = (n_pos as f64, n_neg as f64);
    Ok(Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edge_cases() {
        assert_eq!(auc(&[0.1, 0.9], &[false, true]), Ok(Some(1.0)));
        assert_eq!(auc(&[0.9, 0.1], &[false, true]), Ok(Some(0.0)));
        assert_eq!(auc(&[0.5, 0.5, 0.5], &[false, true, true]), Ok(Some(0.5)));
        assert_eq!(auc(&[0.1, 0.2], &[true, true]), Ok(None));
        assert_eq!(auc(&[], &[]), Ok(None));
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert_eq!(auc(&[0.1], &[true, false]), Err(StatsError::LengthMismatch { what: "auc", left: 1, right: 2 }));
        assert_eq!(auc(&[f64::NAN, 0.2], &[true, false]), Err(StatsError::NotANumber { what: "auc" }));
    }
}
