//! Turning p(easy) into labels: easy iff p > 0.5 (the paper), call hard the same fraction of
//! the set as is hard in the twin set, lowest p(easy) first, or cut p(easy) where the F1 of the
//! hard class on the twin set is highest.

use serde::{Deserialize, Serialize};

/// Easy iff `sigmoid(z) > 0.5`, i.e. `z > 0` (a logit of exactly 0 is hard).
pub fn half(logits: &[f32]) -> Vec<bool> {
    logits.iter().map(|&z| z > 0.0).collect()
}

/// How many of `n` samples the twin-rate rule calls hard: `round(rate n)` (halves away from
/// zero), within `[0, n]`.
pub fn hard_count(rate: f64, n: usize) -> usize {
    ((rate * n as f64).round().max(0.0) as usize).min(n)
}

/// The twin-rate rule: the `hard_count(rate, n)` samples of lowest `p_easy` are hard (equal
/// p(easy) broken by ascending sample id, so the result does not depend on row order); the rest
/// are easy. Returns the easy flags, in the input order.
pub fn twin_rate(p_easy: &[f64], ids: &[u64], rate: f64) -> Vec<bool> {
    assert_eq!(p_easy.len(), ids.len(), "one id per score");
    let mut order: Vec<usize> = (0..p_easy.len()).collect();
    order.sort_by(|&a, &b| p_easy[a].total_cmp(&p_easy[b]).then(ids[a].cmp(&ids[b])));
    let mut easy = vec![true; p_easy.len()];
    for &i in &order[..hard_count(rate, p_easy.len())] {
        easy[i] = false;
    }
    easy
}

/// A cut of p(easy) chosen on the twin set: samples with `p_easy <= cut` are hard (`cut = None`:
/// none is), with the F1 of the hard class it reached there.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct F1Cut {
    pub cut: Option<f64>,
    /// F1 of the hard class on the twin set at this cut (0 when the twin set has no hard sample).
    pub f1: f64,
    /// Twin samples called hard at this cut.
    pub hard_calls: usize,
}

impl F1Cut {
    /// Easy iff `p_easy > cut` (every sample when `cut` is `None`).
    pub fn apply(&self, p_easy: &[f64]) -> Vec<bool> {
        p_easy.iter().map(|&p| self.cut.is_none_or(|c| p > c)).collect()
    }
}

/// The twin-F1 rule: among the cuts "hard iff `p_easy <= c`" for every distinct `c` of `p_easy`,
/// and the cut that calls nothing hard, the one with the highest F1 of the hard class
/// (`2 TP / (2 TP + FP + FN)`, 0 when nothing is hard either way); ties go to the cut that calls
/// fewer samples hard. F1s are compared as exact fractions, so the choice does not depend on
/// rounding or on row order.
pub fn twin_f1_cut(p_easy: &[f64], easy: &[bool]) -> F1Cut {
    assert_eq!(p_easy.len(), easy.len(), "one label per score");
    let true_hard = easy.iter().filter(|e| !**e).count() as u128;
    let mut order: Vec<usize> = (0..p_easy.len()).collect();
    order.sort_by(|&a, &b| p_easy[a].total_cmp(&p_easy[b]));
    // The best so far as (2 TP, 2 TP + FP + FN, calls, cut); the empty cut scores 0 / H.
    let mut best: (u128, u128, usize, Option<f64>) = (0, true_hard.max(1), 0, None);
    let (mut tp, mut calls) = (0u128, 0usize);
    for (k, &i) in order.iter().enumerate() {
        calls += 1;
        tp += u128::from(!easy[i]);
        let last_of_value = order.get(k + 1).is_none_or(|&j| p_easy[j] != p_easy[i]);
        if !last_of_value {
            continue;
        }
        // 2 TP + FP + FN = calls + true_hard.
        let (num, den) = (2 * tp, calls as u128 + true_hard);
        if num * best.1 > best.0 * den {
            best = (num, den, calls, Some(p_easy[i]));
        }
    }
    F1Cut { cut: best.3, f1: best.0 as f64 / best.1 as f64, hard_calls: best.2 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twin_rate_marks_the_lowest_and_breaks_ties_by_id() {
        assert_eq!(hard_count(0.25, 10), 3);
        assert_eq!(hard_count(0.24, 10), 2);
        assert_eq!(hard_count(1.5, 10), 10);
        let p = [0.9, 0.2, 0.2, 0.7, 0.2];
        let ids = [10, 14, 12, 11, 13];
        // 2 of 5 are hard: the 0.2s of ids 12 and 13, not 14.
        assert_eq!(twin_rate(&p, &ids, 0.4), [true, true, false, true, false]);
        assert_eq!(half(&[-0.1, 0.0, 0.3]), [false, false, true]);
    }

    #[test]
    fn twin_f1_takes_the_best_cut_and_the_fewer_calls_on_a_tie() {
        // Hard at 0.1 and 0.3, easy at 0.2 and 0.9: cut 0.1 gives F1 2/3, cut 0.3 gives 4/5.
        let c = twin_f1_cut(&[0.9, 0.3, 0.1, 0.2], &[true, false, false, true]);
        assert_eq!((c.cut, c.f1, c.hard_calls), (Some(0.3), 0.8, 3));
        assert_eq!(c.apply(&[0.3, 0.31]), [false, true]);
        // Hard at 0.1 and 0.4, easy between: cuts 0.1 and 0.4 both give 2/3; 0.1 calls fewer.
        let c = twin_f1_cut(&[0.1, 0.2, 0.3, 0.4], &[false, true, true, false]);
        assert_eq!((c.cut, c.hard_calls), (Some(0.1), 1));
        // No hard sample: nothing is called hard.
        let c = twin_f1_cut(&[0.1, 0.2], &[true, true]);
        assert_eq!((c.cut, c.f1, c.hard_calls), (None, 0.0, 0));
        assert_eq!(c.apply(&[0.0]), [true]);
        // Equal scores go together: a hard and an easy sample at 0.5 are cut as one.
        let c = twin_f1_cut(&[0.5, 0.5, 0.9], &[false, true, true]);
        assert_eq!((c.cut, c.hard_calls), (Some(0.5), 2));
    }
}
