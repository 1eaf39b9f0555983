//! Ranking and classification diagnostics: ROC AUC with ties (scikit-learn's
//! `roc_auc_score`), the confusion of predicted against true generalization labels, precision
//! and recall on the hard class.

use serde::Serialize;

/// ROC AUC of `scores` for the positives in `positive`: the Mann-Whitney statistic with average
/// ranks for ties (a tied positive-negative pair counts 1/2, as the trapezoidal ROC of
/// scikit-learn does). `None` when either class is absent (the AUC is undefined).
pub fn auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    assert_eq!(scores.len(), positive.len(), "one label per score");
    let n_pos = positive.iter().filter(|p| **p).count();
    let n_neg = positive.len() - n_pos;
    if n_pos == 0 || n_neg == 0 {
        return None;
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[a].total_cmp(&scores[b]));
    // Sum of the (1-based, tie-averaged) ranks of the positives.
    let mut rank_sum = 0.0f64;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && scores[order[j + 1]] == scores[order[i]] {
            j += 1;
        }
        let mean_rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum += mean_rank * order[i..=j].iter().filter(|&&k| positive[k]).count() as f64;
        i = j + 1;
    }
    let (p, n) = (n_pos as f64, n_neg as f64);
    Some((rank_sum - p * (p + 1.0) / 2.0) / (p * n))
}

/// Counts of predicted against true generalization labels (easy = positive of "easy").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Confusion {
    pub true_easy_predicted_easy: usize,
    pub true_easy_predicted_hard: usize,
    pub true_hard_predicted_easy: usize,
    pub true_hard_predicted_hard: usize,
}

impl Confusion {
    pub fn new(predicted_easy: &[bool], true_easy: &[bool]) -> Self {
        let mut c = Confusion::default();
        for (&p, &t) in predicted_easy.iter().zip(true_easy) {
            match (t, p) {
                (true, true) => c.true_easy_predicted_easy += 1,
                (true, false) => c.true_easy_predicted_hard += 1,
                (false, true) => c.true_hard_predicted_easy += 1,
                (false, false) => c.true_hard_predicted_hard += 1,
            }
        }
        c
    }

    pub fn total(&self) -> usize {
        self.true_easy_predicted_easy
            + self.true_easy_predicted_hard
            + self.true_hard_predicted_easy
            + self.true_hard_predicted_hard
    }

    /// Fraction classified right.
    pub fn accuracy(&self) -> f64 {
        ratio(self.true_easy_predicted_easy + self.true_hard_predicted_hard, self.total()).unwrap_or(0.0)
    }

    /// Accuracy of calling every sample easy (the majority rule when hard samples are rare).
    pub fn all_easy_accuracy(&self) -> f64 {
        ratio(self.true_easy_predicted_easy + self.true_easy_predicted_hard, self.total()).unwrap_or(0.0)
    }

    /// Of the samples predicted hard, the fraction truly hard; `None` if none was predicted hard.
    pub fn hard_precision(&self) -> Option<f64> {
        ratio(self.true_hard_predicted_hard, self.true_hard_predicted_hard + self.true_easy_predicted_hard)
    }

    /// Of the truly hard samples, the fraction predicted hard; `None` if none is hard.
    pub fn hard_recall(&self) -> Option<f64> {
        ratio(self.true_hard_predicted_hard, self.true_hard_predicted_hard + self.true_hard_predicted_easy)
    }
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_edge_cases() {
        assert_eq!(auc(&[0.1, 0.9], &[false, true]), Some(1.0));
        assert_eq!(auc(&[0.9, 0.1], &[false, true]), Some(0.0));
        assert_eq!(auc(&[0.5, 0.5, 0.5], &[false, true, true]), Some(0.5));
        assert_eq!(auc(&[0.1, 0.2], &[true, true]), None);
    }

    #[test]
    fn confusion_rates() {
        let c = Confusion::new(&[true, false, false, true], &[true, false, true, true]);
        assert_eq!(c.total(), 4);
        assert_eq!(c.accuracy(), 0.75);
        assert_eq!(c.all_easy_accuracy(), 0.75);
        assert_eq!(c.hard_precision(), Some(0.5));
        assert_eq!(c.hard_recall(), Some(1.0));
        assert_eq!(Confusion::new(&[true], &[true]).hard_precision(), None);
    }
}
