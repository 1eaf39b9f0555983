//! The confidence margin of one prediction, in logit or probability space, computed in f64.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where the margin is measured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Space {
    /// `z_y - max_{k != y} z_k` on the logits `z`: unbounded, scale-dependent, and what the
    /// model's decision rests on (negative exactly when the sample is misclassified).
    #[default]
    Logit,
    /// `p_y - max_{k != y} p_k` with `p = softmax(z)`: in [-1, 1], comparable across models.
    Probability,
}

/// The margin of a sample with `logits` (one per class, at least two) and true class `label`:
/// the score of `label` minus the largest score of any other class, in `space`. Positive when
/// the model classifies the sample correctly with room to spare, zero on a tie, negative when
/// it is wrong. The caller checks that there are two classes or more and that `label` is one.
pub fn margin(logits: &[f32], label: usize, space: Space) -> f64 {
    let z: Vec<f64> = logits.iter().map(|&v| f64::from(v)).collect();
    let scores = match space {
        Space::Logit => z,
        Space::Probability => softmax(&z),
    };
    let other =
        scores.iter().enumerate().filter(|&(k, _)| k != label).map(|(_, &s)| s).fold(f64::NEG_INFINITY, f64::max);
    scores[label] - other
}

/// `softmax(z)`, shifted by the largest value so that no exponential overflows.
fn softmax(z: &[f64]) -> Vec<f64> {
    let top = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - top).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.into_iter().map(|v| v / sum).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logits (2, 0.5, 1) of a three-class model. By hand:
    /// - logit margins: class 0: 2 - max(0.5, 1) = 1; class 1: 0.5 - 2 = -1.5; class 2: 1 - 2 = -1.
    /// - softmax: exp(0), exp(-1.5), exp(-1) over their sum 1 + 0.22313016 + 0.36787944 =
    ///   1.59100960, so p = (0.62853172, 0.14024438, 0.23122390); the probability margin of
    ///   class 0 is 0.62853172 - 0.23122390 = 0.39730782, of class 1 0.14024438 - 0.62853172 =
    ///   -0.48828734. (Checked with NumPy: `p = np.exp(z - z.max()); p /= p.sum()`.)
    const LOGITS: [f32; 3] = [2.0, 0.5, 1.0];

    #[test]
    fn logit_margin_by_hand() {
        assert_eq!(margin(&LOGITS, 0, Space::Logit), 1.0);
        assert_eq!(margin(&LOGITS, 1, Space::Logit), -1.5);
        assert_eq!(margin(&LOGITS, 2, Space::Logit), -1.0);
    }

    #[test]
    fn probability_margin_by_hand() {
        assert!((margin(&LOGITS, 0, Space::Probability) - 0.397_307_82).abs() < 1e-8);
        assert!((margin(&LOGITS, 1, Space::Probability) + 0.488_287_34).abs() < 1e-8);
    }

    #[test]
    fn ties_give_zero_and_large_logits_do_not_overflow() {
        assert_eq!(margin(&[3.0, 3.0], 0, Space::Logit), 0.0);
        assert_eq!(margin(&[3.0, 3.0], 1, Space::Probability), 0.0);
        // softmax(1000, 0) = (1, exp(-1000) = 0 in f64): margin 1, not NaN.
        assert_eq!(margin(&[1000.0, 0.0], 0, Space::Probability), 1.0);
    }
}
