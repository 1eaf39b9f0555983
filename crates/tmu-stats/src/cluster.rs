//! Clustered paired values: points that share a cluster (in a sweep, a seed, whose original,
//! twin and early models every point of that seed shares) are not independent. Cluster ids,
//! cluster means (the independent unit for the paired tests) and the cluster bootstrap
//! percentile interval of the mean.
//!
//! The bootstrap resamples whole clusters with replacement (G of G) and recomputes the mean over
//! every value of the drawn clusters (a cluster drawn twice counts twice): with clusters of equal
//! size that is the mean of the drawn cluster means, so the point mean and the cluster-mean mean
//! coincide. When the G^G ordered draws number at most the resamples asked for (G <= 5 for
//! 10,000: three seeds give 27), the bootstrap distribution is enumerated exactly instead of
//! sampled, so the interval is deterministic and needs no generator; otherwise `resamples` draws
//! come from ChaCha8 seeded by the caller. The interval takes NumPy's linear-interpolation
//! quantiles of the resampled means at `(1 - level) / 2` and `(1 + level) / 2`.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::quantile::quantile_sorted;
use crate::{Paired, StatsError, compare, mean};

/// A two-sided confidence interval.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Interval {
    pub low: f64,
    pub high: f64,
    /// The confidence level, e.g. 0.95.
    pub level: f64,
}

/// How the bootstrap distribution was obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Resampling {
    /// Every one of the G^G ordered draws of G clusters, once each.
    Exact { draws: usize },
    /// This many draws from a seeded generator.
    Sampled { draws: usize },
}

/// The cluster bootstrap interval of a mean, and how its distribution was obtained.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClusterBootstrap {
    pub interval: Interval,
    pub clusters: usize,
    pub resampling: Resampling,
}

/// Cluster ids `0..G` for `keys`, numbered in the order each key is first met (equal keys share
/// an id), and G.
pub fn cluster_ids<K: PartialEq>(keys: &[K]) -> (Vec<usize>, usize) {
    let mut seen: Vec<&K> = Vec::new();
    let ids = keys
        .iter()
        .map(|k| match seen.iter().position(|s| *s == k) {
            Some(i) => i,
            None => {
                seen.push(k);
                seen.len() - 1
            }
        })
        .collect();
    (ids, seen.len())
}

/// Sum and count of the values of each cluster `0..G` (G = 1 + the largest id).
fn cluster_totals(values: &[f64], ids: &[usize], what: &'static str) -> Result<(Vec<f64>, Vec<usize>), StatsError> {
    if values.len() != ids.len() {
        return Err(StatsError::LengthMismatch { what, left: values.len(), right: ids.len() });
    }
    if values.iter().any(|v| v.is_nan()) {
        return Err(StatsError::NotANumber { what });
    }
    let g = ids.iter().max().map_or(0, |m| m + 1);
    let (mut sums, mut counts) = (vec![0.0; g], vec![0usize; g]);
    for (&v, &c) in values.iter().zip(ids) {
        sums[c] += v;
        counts[c] += 1;
    }
    if counts.contains(&0) {
        return Err(StatsError::InvalidParameter {
            what: "cluster ids (an id below the largest has no value)",
            value: g as f64,
        });
    }
    Ok((sums, counts))
}

/// The mean of each cluster's values, in cluster-id order (`ids[i]` is the cluster of
/// `values[i]`, ids `0..G` each used at least once). Errors for mismatched lengths, NaN, or an
/// unused id.
pub fn cluster_means(values: &[f64], ids: &[usize]) -> Result<Vec<f64>, StatsError> {
    let (sums, counts) = cluster_totals(values, ids, "cluster means")?;
    Ok(sums.iter().zip(&counts).map(|(s, &n)| s / n as f64).collect())
}

/// The cluster bootstrap percentile interval of the mean of `values` (`ids[i]` is the cluster of
/// `values[i]`), at confidence `level` in (0, 1): exact enumeration when G^G <= `resamples`, else
/// `resamples` draws seeded by `seed` (see the module docs). `Ok(None)` for fewer than two
/// clusters (one cluster says nothing about the spread between clusters). Errors for mismatched
/// lengths, NaN values, an unused id, `level` outside (0, 1) or no resamples.
pub fn cluster_bootstrap(
    values: &[f64],
    ids: &[usize],
    level: f64,
    resamples: usize,
    seed: u64,
) -> Result<Option<ClusterBootstrap>, StatsError> {
    check_level(level, resamples)?;
    let (sums, counts) = cluster_totals(values, ids, "cluster bootstrap")?;
    let g = sums.len();
    if g < 2 {
        return Ok(None);
    }
    let exact = exact_draw_count(g).filter(|&n| n <= resamples);
    let (stats, resampling) = match exact {
        Some(n) => {
            let mut draw = vec![0usize; g];
            let mut stats = Vec::with_capacity(n);
            for _ in 0..n {
                stats.push(resampled_mean(&sums, &counts, &draw));
                // The next draw in lexicographic order (the last position moves fastest).
                for pos in (0..g).rev() {
                    draw[pos] += 1;
                    if draw[pos] < g {
                        break;
                    }
                    draw[pos] = 0;
                }
            }
            (stats, Resampling::Exact { draws: n })
        }
        None => {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let mut draw = vec![0usize; g];
            let stats = (0..resamples)
                .map(|_| {
                    for d in draw.iter_mut() {
                        *d = rng.random_range(0..g);
                    }
                    resampled_mean(&sums, &counts, &draw)
                })
                .collect();
            (stats, Resampling::Sampled { draws: resamples })
        }
    };
    let interval = percentile_interval(stats, level)?;
    Ok(Some(ClusterBootstrap { interval, clusters: g, resampling }))
}

/// The percentile interval of the mean over the given draws: each draw lists G cluster ids (with
/// repetition). The same computation as [`cluster_bootstrap`] on draws the caller made (to check
/// it against a reference that drew its own). Errors as [`cluster_bootstrap`], and for a draw of
/// another length than G or naming a cluster that does not exist.
pub fn cluster_bootstrap_with_draws(
    values: &[f64],
    ids: &[usize],
    level: f64,
    draws: &[Vec<usize>],
) -> Result<Interval, StatsError> {
    check_level(level, draws.len())?;
    let (sums, counts) = cluster_totals(values, ids, "cluster bootstrap")?;
    let g = sums.len();
    let mut stats = Vec::with_capacity(draws.len());
    for draw in draws {
        if draw.len() != g {
            return Err(StatsError::LengthMismatch { what: "bootstrap draw", left: draw.len(), right: g });
        }
        if let Some(&c) = draw.iter().find(|&&c| c >= g) {
            return Err(StatsError::InvalidParameter { what: "bootstrap draw cluster id", value: c as f64 });
        }
        stats.push(resampled_mean(&sums, &counts, draw));
    }
    percentile_interval(stats, level)
}

fn check_level(level: f64, resamples: usize) -> Result<(), StatsError> {
    if !(level > 0.0 && level < 1.0) {
        return Err(StatsError::InvalidParameter { what: "confidence level", value: level });
    }
    if resamples == 0 {
        return Err(StatsError::InvalidParameter { what: "bootstrap resamples", value: 0.0 });
    }
    Ok(())
}

/// G^G, when it fits in a usize.
fn exact_draw_count(g: usize) -> Option<usize> {
    let mut n: usize = 1;
    for _ in 0..g {
        n = n.checked_mul(g)?;
    }
    Some(n)
}

/// The mean over every value of the drawn clusters: sum of their sums over sum of their counts,
/// both accumulated in draw order.
fn resampled_mean(sums: &[f64], counts: &[usize], draw: &[usize]) -> f64 {
    let (mut s, mut n) = (0.0, 0usize);
    for &c in draw {
        s += sums[c];
        n += counts[c];
    }
    s / n as f64
}

fn percentile_interval(mut stats: Vec<f64>, level: f64) -> Result<Interval, StatsError> {
    stats.sort_by(f64::total_cmp);
    let alpha = 1.0 - level;
    Ok(Interval {
        low: quantile_sorted(&stats, alpha / 2.0)?,
        high: quantile_sorted(&stats, 1.0 - alpha / 2.0)?,
        level,
    })
}

/// The independent unit of a paired comparison.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Every point is a pair (points that share a cluster are treated as independent).
    Point,
    /// Each cluster is one pair: the mean of its points' values for either method.
    Cluster,
}

/// A paired comparison at a chosen unit, with the cluster bootstrap interval of the mean
/// difference over the points.
#[derive(Clone, Debug, PartialEq)]
pub struct ClusteredPaired {
    pub unit: Unit,
    /// Points compared (pairs of values).
    pub points: usize,
    /// Clusters among them.
    pub clusters: usize,
    /// The mean of `a - b` over the points (the estimate the interval is about); `None` for no
    /// points.
    pub mean_diff: Option<f64>,
    /// The tests over the unit's pairs (`paired.n` is the number of units).
    pub paired: Paired,
    /// The cluster bootstrap interval of the mean of `a - b` over the points; `None` for fewer
    /// than two clusters.
    pub bootstrap: Option<ClusterBootstrap>,
}

/// How a clustered comparison is computed: its unit, tie tolerance and bootstrap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClusterCompare {
    pub unit: Unit,
    pub tie: f64,
    pub level: f64,
    pub resamples: usize,
    pub seed: u64,
}

/// Compares `a` with `b` (paired by position; `ids[i]` is the cluster of pair `i`): the tests of
/// [`compare`] over the points (unit `Point`) or over the cluster means of `a` and `b` (unit
/// `Cluster`), and the cluster bootstrap interval of the mean difference (see
/// [`cluster_bootstrap`]). Errors as those two do.
pub fn compare_clustered(
    a: &[f64],
    b: &[f64],
    ids: &[usize],
    how: ClusterCompare,
) -> Result<ClusteredPaired, StatsError> {
    if a.len() != b.len() {
        return Err(StatsError::LengthMismatch { what: "paired comparison", left: a.len(), right: b.len() });
    }
    let d: Vec<f64> = a.iter().zip(b).map(|(x, y)| x - y).collect();
    let bootstrap = cluster_bootstrap(&d, ids, how.level, how.resamples, how.seed)?;
    let clusters = ids.iter().max().map_or(0, |m| m + 1);
    let paired = match how.unit {
        Unit::Point => compare(a, b, how.tie)?,
        Unit::Cluster => compare(&cluster_means(a, ids)?, &cluster_means(b, ids)?, how.tie)?,
    };
    Ok(ClusteredPaired { unit: how.unit, points: a.len(), clusters, mean_diff: mean(&d), paired, bootstrap })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_first_appearance() {
        assert_eq!(cluster_ids(&["1", "0", "1", "2", "0"]), (vec![0, 1, 0, 2, 1], 3));
        assert_eq!(cluster_ids::<u8>(&[]), (vec![], 0));
    }

    #[test]
    fn means_per_cluster() {
        assert_eq!(cluster_means(&[1.0, 2.0, 3.0, 5.0], &[0, 1, 0, 1]), Ok(vec![2.0, 3.5]));
        assert_eq!(
            cluster_means(&[1.0], &[1]),
            Err(StatsError::InvalidParameter {
                what: "cluster ids (an id below the largest has no value)",
                value: 2.0
            })
        );
    }

    #[test]
    fn two_clusters_enumerate_four_draws() {
        // Draws (0,0) (0,1) (1,0) (1,1): means 1, 2, 2, 3 (equal sizes); quantiles of [1, 2, 2, 3].
        let b = cluster_bootstrap(&[1.0, 1.0, 3.0, 3.0], &[0, 0, 1, 1], 0.5, 100, 0).expect("ok").expect("some");
        assert_eq!(b.resampling, Resampling::Exact { draws: 4 });
        assert_eq!((b.interval.low, b.interval.high), (1.75, 2.25));
        assert_eq!(cluster_bootstrap(&[1.0, 2.0], &[0, 0], 0.95, 100, 0), Ok(None));
    }

    #[test]
    fn many_clusters_are_sampled_reproducibly() {
        let values: Vec<f64> = (0..12).map(|i| f64::from(i) * 0.5).collect();
        let ids: Vec<usize> = (0..12).map(|i| i / 2).collect();
        let a = cluster_bootstrap(&values, &ids, 0.9, 500, 7).expect("ok").expect("some");
        assert_eq!(a.resampling, Resampling::Sampled { draws: 500 });
        assert_eq!(Some(a), cluster_bootstrap(&values, &ids, 0.9, 500, 7).expect("ok"));
        assert!(a.interval.low < 2.75 && 2.75 < a.interval.high, "{a:?}");
    }

    #[test]
    fn bad_inputs_are_errors() {
        assert!(matches!(cluster_bootstrap(&[1.0], &[0], 1.0, 10, 0), Err(StatsError::InvalidParameter { .. })));
        assert!(matches!(cluster_bootstrap(&[1.0], &[0], 0.9, 0, 0), Err(StatsError::InvalidParameter { .. })));
        assert!(matches!(cluster_bootstrap(&[f64::NAN], &[0], 0.9, 10, 0), Err(StatsError::NotANumber { .. })));
        assert!(matches!(cluster_bootstrap(&[1.0], &[0, 1], 0.9, 10, 0), Err(StatsError::LengthMismatch { .. })));
        assert!(matches!(
            cluster_bootstrap_with_draws(&[1.0, 2.0], &[0, 1], 0.9, &[vec![0, 2]]),
            Err(StatsError::InvalidParameter { .. })
        ));
    }
}
