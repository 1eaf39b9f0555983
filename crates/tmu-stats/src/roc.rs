//! The ROC curve as scikit-learn's `roc_curve` (`drop_intermediate=False`), the true-positive
//! rate at a false-positive rate read off it, and the attack's best balanced accuracy.

use crate::StatsError;

/// A ROC curve: one point per distinct score (descending), after a first point at (0, 0);
/// `fpr` and `tpr` never decrease.
#[derive(Clone, Debug, PartialEq)]
pub struct Roc {
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
    /// The score at each point: a sample is called positive when its score is at least this
    /// (the first point's is +infinity: nothing is called positive).
    pub thresholds: Vec<f64>,
}

/// The ROC curve of `scores` for the positives in `positive`: scores sorted descending, one
/// point after each run of tied scores (so ties move FPR and TPR together, a diagonal step), as
/// scikit-learn's `roc_curve(..., drop_intermediate=False)`, whose first threshold is
/// `+inf` here. `Ok(None)` when either class is absent; errors for mismatched lengths or NaN.
pub fn roc_curve(scores: &[f64], positive: &[bool]) -> Result<Option<Roc>, StatsError> {
    if scores.len() != positive.len() {
        return Err(StatsError::LengthMismatch { what: "roc_curve", left: scores.len(), right: positive.len() });
    }
    if scores.iter().any(|s| s.is_nan()) {
        return Err(StatsError::NotANumber { what: "roc_curve" });
    }
    let n_pos = positive.iter().filter(|p| **p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return Ok(None);
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let mut roc = Roc { fpr: vec![0.0], tpr: vec![0.0], thresholds: vec![f64::INFINITY] };
    let (mut tp, mut fp) = (0usize, 0usize);
    for (k, &i) in order.iter().enumerate() {
        if positive[i] {
            tp += 1;
        } else {
            fp += 1;
        }
        let last_of_run = order.get(k + 1).is_none_or(|&j| scores[j] != scores[i]);
        if last_of_run {
            roc.fpr.push(fp as f64 / n_neg as f64);
            roc.tpr.push(tp as f64 / n_pos as f64);
            roc.thresholds.push(scores[i]);
        }
    }
    Ok(Some(roc))
}

impl Roc {
    /// The TPR at false-positive rate `fpr` on the curve drawn by straight lines between its
    /// points (linear interpolation): the last point whose FPR is at most `fpr` gives the value
    /// when its FPR equals `fpr` (the top of a vertical run), else the line from it to the next
    /// point is read at `fpr`. `fpr` in `[0, 1]`.
    pub fn tpr_at(&self, fpr: f64) -> f64 {
        let i = self.fpr.partition_point(|&f| f <= fpr).saturating_sub(1);
        if self.fpr[i] == fpr || i + 1 == self.fpr.len() {
            return self.tpr[i];
        }
        let (f0, f1, t0, t1) = (self.fpr[i], self.fpr[i + 1], self.tpr[i], self.tpr[i + 1]);
        t0 + (fpr - f0) * (t1 - t0) / (f1 - f0)
    }

    /// The best balanced accuracy of a threshold on the curve: max over points of
    /// `(TPR + 1 - FPR) / 2` (0.5 for a useless attack; LiRA's "accuracy").
    pub fn balanced_accuracy(&self) -> f64 {
        self.fpr.iter().zip(&self.tpr).map(|(f, t)| (t + 1.0 - f) / 2.0).fold(0.0, f64::max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_make_one_diagonal_step() {
        let roc = roc_curve(&[0.9, 0.5, 0.5, 0.1], &[true, true, false, false]).unwrap().unwrap();
        assert_eq!(roc.fpr, vec![0.0, 0.0, 0.5, 1.0]);
        assert_eq!(roc.tpr, vec![0.0, 0.5, 1.0, 1.0]);
        assert_eq!(roc.tpr_at(0.25), 0.75);
        assert_eq!(roc.tpr_at(0.0), 0.5);
        assert_eq!(roc.balanced_accuracy(), 0.75);
        assert_eq!(roc_curve(&[0.1], &[true]), Ok(None));
        assert!(roc_curve(&[f64::NAN, 0.0], &[true, false]).is_err());
    }
}
