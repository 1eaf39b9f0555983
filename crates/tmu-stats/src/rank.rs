//! Average ranks: 1-based ranks in ascending order, tied values sharing the mean of their ranks
//! (SciPy's `rankdata(method="average")`), for the AUC and the Wilcoxon test.

/// The average rank of each value of `x` (no NaN), and the size of every group of equal values.
pub(crate) fn average_ranks(x: &[f64]) -> (Vec<f64>, Vec<usize>) {
    let mut order: Vec<usize> = (0..x.len()).collect();
    order.sort_by(|&i, &j| x[i].total_cmp(&x[j]));
    let mut ranks = vec![0.0; x.len()];
    let mut groups = Vec::new();
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && x[order[j + 1]] == x[order[i]] {
            j += 1;
        }
        // Ranks i+1 ..= j+1 averaged: a half-integer, exact in f64.
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        groups.push(j - i + 1);
        i = j + 1;
    }
    (ranks, groups)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ties_share_the_mean_rank() {
        let (r, g) = average_ranks(&[0.5, 0.1, 0.5, 0.9, 0.5]);
        assert_eq!(r, [3.0, 1.0, 3.0, 5.0, 3.0]);
        assert_eq!(g, [1, 3, 1]);
        assert_eq!(average_ranks(&[]), (vec![], vec![]));
    }
}
