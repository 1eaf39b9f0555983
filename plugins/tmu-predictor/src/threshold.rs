//! Turning p(easy) into labels: easy iff p > 0.5 (the paper), or call hard the same fraction
//! of the set as is hard in the twin set, lowest p(easy) first.

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
}
