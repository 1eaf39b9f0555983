//! Uniformly random wrong labels: `(y + U{1..C-1}) mod C`, never the true label, each of the
//! other `C - 1` classes with probability `1 / (C - 1)`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// A random wrong label for each of `labels` (classes `0..num_classes`, `num_classes >= 2`),
/// drawn in order from a generator seeded by `seed`.
pub fn random_wrong_labels(labels: &[u32], num_classes: usize, seed: u64) -> Vec<u32> {
    assert!(num_classes >= 2, "a wrong label needs at least 2 classes");
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let c = num_classes as u32;
    labels.iter().map(|&y| (y + rng.random_range(1..c)) % c).collect()
}

#[cfg(test)]
mod tests {
    use super::random_wrong_labels;

    #[test]
    fn never_the_true_label_uniform_over_the_others_and_seeded() {
        let c = 5usize;
        let n = 20_000;
        let labels: Vec<u32> = (0..n).map(|i| (i % c) as u32).collect();
        let wrong = random_wrong_labels(&labels, c, 7);
        assert!(wrong.iter().zip(&labels).all(|(w, y)| w != y && (*w as usize) < c));
        assert_eq!(wrong, random_wrong_labels(&labels, c, 7));
        assert_ne!(wrong, random_wrong_labels(&labels, c, 8));
        // Per true class, each of the 4 other classes is expected n / (c (c - 1)) = 1000 times.
        // Pearson's chi-square over the 20 (true, wrong) cells has 5 x 3 = 15 degrees of freedom;
        // its 99.9% quantile is 37.7 (scipy.stats.chi2.ppf(0.999, 15)).
        let mut counts = vec![0f64; c * c];
        for (w, y) in wrong.iter().zip(&labels) {
            counts[*y as usize * c + *w as usize] += 1.0;
        }
        let expected = n as f64 / (c * (c - 1)) as f64;
        let chi2: f64 = (0..c * c)
            .filter(|cell| cell / c != cell % c)
            .map(|cell| (counts[cell] - expected).powi(2) / expected)
            .sum();
        assert!(chi2 < 37.7, "chi-square {chi2} over the wrong-label cells");
    }

    #[test]
    fn two_classes_always_swap() {
        assert_eq!(random_wrong_labels(&[0, 1, 1, 0], 2, 3), vec![1, 0, 0, 1]);
    }
}
