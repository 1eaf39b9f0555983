//! Classification diagnostics: the confusion of predicted against true generalization labels,
//! precision and recall on the hard class. (The ROC AUC is `tmu_stats::auc`.)

use serde::Serialize;

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
