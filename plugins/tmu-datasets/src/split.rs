//! Seeded stratified splits of sample indices.

use std::collections::BTreeMap;

use crate::rng::Rng;

/// Splits `0..strata.len()` into `(kept, drawn)`: in every stratum (equal values of `strata`,
/// visited in ascending order) `round(n * fraction)` samples are drawn at random. Both lists
/// come back ascending, so the input order survives in each part.
pub fn stratified(strata: &[u32], fraction: f64, rng: &mut Rng) -> (Vec<usize>, Vec<usize>) {
    let mut groups: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
    for (i, s) in strata.iter().enumerate() {
        groups.entry(*s).or_default().push(i);
    }
    let mut kept = Vec::with_capacity(strata.len());
    let mut drawn = Vec::new();
    for members in groups.values_mut() {
        let k = draw_count(members.len(), fraction);
        rng.shuffle(members);
        drawn.extend_from_slice(&members[..k]);
        kept.extend_from_slice(&members[k..]);
    }
    kept.sort_unstable();
    drawn.sort_unstable();
    (kept, drawn)
}

/// `round(n * fraction)`, halves rounded up, never more than `n`.
pub fn draw_count(n: usize, fraction: f64) -> usize {
    ((n as f64 * fraction).round() as usize).min(n)
}

/// `k` indices drawn at random from `pool`, returned ascending.
pub fn sample(pool: &[usize], k: usize, rng: &mut Rng) -> Vec<usize> {
    let mut pool = pool.to_vec();
    rng.shuffle(&mut pool);
    pool.truncate(k);
    pool.sort_unstable();
    pool
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stratified_draws_the_rounded_fraction_of_each_stratum() {
        let strata: Vec<u32> = (0..103).map(|i| (i % 3) as u32).collect(); // 35, 34, 34
        let (kept, drawn) = stratified(&strata, 0.25, &mut Rng::new(1));
        let count = |v: &[usize], s: u32| v.iter().filter(|&&i| strata[i] == s).count();
        assert_eq!([count(&drawn, 0), count(&drawn, 1), count(&drawn, 2)], [9, 9, 9]);
        assert_eq!(kept.len() + drawn.len(), 103);
        assert!(kept.windows(2).all(|w| w[0] < w[1]) && drawn.windows(2).all(|w| w[0] < w[1]));
        assert!(kept.iter().all(|i| !drawn.contains(i)));
        assert_eq!(stratified(&strata, 0.25, &mut Rng::new(1)).1, drawn);
        assert_ne!(stratified(&strata, 0.25, &mut Rng::new(2)).1, drawn);
    }

    #[test]
    fn draw_count_rounds_half_up_and_caps() {
        assert_eq!(draw_count(10, 0.25), 3);
        assert_eq!(draw_count(10, 0.24), 2);
        assert_eq!(draw_count(3, 1.0), 3);
        assert_eq!(draw_count(0, 0.5), 0);
    }
}
