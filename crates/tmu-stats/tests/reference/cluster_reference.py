"""Reference values for tmu-stats' clustered comparisons (cluster means, tests over cluster means,
the cluster bootstrap interval of the mean difference), computed with NumPy and SciPy. Run by
hand from this folder (the Rust tests, tests/it/cluster.rs, read the JSON; nothing here runs at
test time):

    python3 cluster_reference.py > cluster_reference.json

Each case is a small sweep table: per point, the cluster (the seed) and the values `a`, `b` of
two methods. For each:
- the cluster means of a and b (NumPy, clusters in order of first appearance);
- the tests over the cluster means, as tests/reference/paired_reference.py computes them over
  pairs: scipy.stats.binomtest on the negative differences among the non-zero ones,
  scipy.stats.ttest_rel, scipy.stats.wilcoxon (zero_method "wilcox", no continuity correction,
  method "exact" for at most 50 non-zero differences without ties in absolute value, else
  "approx");
- the cluster bootstrap percentile interval of the mean of d = a - b over the points: every
  resample draws G clusters with replacement and takes the mean over all points of the drawn
  clusters (sum of the drawn clusters' sums over the sum of their sizes); the interval is
  np.quantile (linear) of those means at (1 - level) / 2 and (1 + level) / 2. With G^G <= 10,000
  (G <= 5) the reference enumerates all G^G ordered draws (itertools.product), as the Rust code
  does; otherwise it draws 4,000 resamples with NumPy's default_rng(seed) and stores them, so the
  Rust test can feed the same draws.
- for the cases with clusters of equal size, scipy.stats.bootstrap's percentile interval of the
  mean of the cluster means (100,000 resamples): for equal sizes the cluster bootstrap of the
  point mean is the ordinary bootstrap of the cluster means, so an independent implementation
  with its own generator must agree with the Rust sampled interval up to Monte Carlo error. Next
  to it, the interval one gets by resampling points instead of clusters (what treating points as
  independent gives), to show that the check can tell the two apart.
"""

import itertools
import json
import sys

import numpy as np
import scipy
from scipy import stats

LEVEL = 0.95
EXACT_LIMIT = 10_000


def cluster_ids(keys):
    order = []
    ids = []
    for k in keys:
        if k not in order:
            order.append(k)
        ids.append(order.index(k))
    return np.array(ids), len(order)


def tests(a, b):
    d = a - b
    nz = d[d != 0]
    neg = int((nz < 0).sum())
    absd = np.abs(nz)
    tied = len(np.unique(absd)) < len(absd)
    method = "exact" if (len(nz) <= 50 and not tied) else "approx"
    out = {
        "n": int(len(d)),
        "wins": neg,
        "losses": int((nz > 0).sum()),
        "mean_diff": float(d.mean()),
        "sign_p": float(stats.binomtest(neg, len(nz), 0.5).pvalue) if len(nz) else None,
        "wilcoxon_method": method,
    }
    if len(d) >= 2 and d.std(ddof=1) > 0:
        t = stats.ttest_rel(a, b)
        out["t"], out["t_p"] = float(t.statistic), float(t.pvalue)
    if len(nz):
        w = stats.wilcoxon(a, b, zero_method="wilcox", correction=False, method=method)
        out["wilcoxon_w"], out["wilcoxon_p"] = float(w.statistic), float(w.pvalue)
    return out


def case(name, keys, a, b, seed=0, scipy_check=False):
    a, b = np.asarray(a, float), np.asarray(b, float)
    ids, g = cluster_ids(keys)
    d = a - b
    sums = np.array([d[ids == c].sum() for c in range(g)])
    sizes = np.array([(ids == c).sum() for c in range(g)])
    mean_a = np.array([a[ids == c].mean() for c in range(g)])
    mean_b = np.array([b[ids == c].mean() for c in range(g)])
    if g**g <= EXACT_LIMIT:
        draws = list(itertools.product(range(g), repeat=g))
        resampling = "exact"
    else:
        draws = np.random.default_rng(seed).integers(0, g, size=(4000, g)).tolist()
        resampling = "draws"
    means = np.array([sums[list(dr)].sum() / sizes[list(dr)].sum() for dr in draws])
    low, high = np.quantile(means, [(1 - LEVEL) / 2, (1 + LEVEL) / 2])
    out = {
        "name": name,
        "clusters": keys,
        "a": a.tolist(),
        "b": b.tolist(),
        "cluster_ids": ids.tolist(),
        "cluster_count": g,
        "cluster_mean_a": mean_a.tolist(),
        "cluster_mean_b": mean_b.tolist(),
        "point_tests": tests(a, b),
        "cluster_tests": tests(mean_a, mean_b),
        "level": LEVEL,
        "resampling": resampling,
        "bootstrap_low": float(low),
        "bootstrap_high": float(high),
    }
    if resampling == "draws":
        out["draws"] = draws
    if scipy_check:
        assert len(set(sizes.tolist())) == 1, "the SciPy check needs clusters of equal size"
        cm = sums / sizes
        res = stats.bootstrap((cm,), np.mean, n_resamples=100_000, method="percentile",
                              confidence_level=LEVEL, rng=np.random.default_rng(seed + 1))
        pts = stats.bootstrap((d,), np.mean, n_resamples=100_000, method="percentile",
                              confidence_level=LEVEL, rng=np.random.default_rng(seed + 2))
        out["scipy_cluster_low"] = float(res.confidence_interval.low)
        out["scipy_cluster_high"] = float(res.confidence_interval.high)
        out["scipy_point_low"] = float(pts.confidence_interval.low)
        out["scipy_point_high"] = float(pts.confidence_interval.high)
    return out


def sweep_like(seeds, per_seed, shift, spread, noise, seed):
    """A sweep whose seeds move every point of the seed together (the shared models)."""
    rng = np.random.default_rng(seed)
    keys, a, b = [], [], []
    for s in range(seeds):
        seed_effect = rng.normal(0.0, spread)
        for _ in range(per_seed):
            base = rng.uniform(2.0, 10.0)
            keys.append(str(s))
            b.append(round(base, 4))
            a.append(round(base + shift + seed_effect + rng.normal(0.0, noise), 4))
    return keys, a, b


CASES = [
    # Three seeds of three points each (the quickstart sweep's shape, cut down): 27 exact draws.
    ("three_seeds", ["0", "0", "0", "1", "1", "1", "2", "2", "2"],
     [3.45, 6.90, 0.0, 10.34, 3.45, 6.90, 3.45, 0.0, 13.79],
     [13.79, 6.90, 3.45, 13.79, 10.34, 3.45, 17.24, 6.90, 10.34]),
    # Seeds met out of order and of unequal size (a point that failed): 4^4 = 256 exact draws.
    ("unequal_sizes", ["1", "0", "1", "2", "0", "3", "2", "1"],
     [0.12, 0.10, 0.15, 0.09, 0.11, 0.20, 0.07, 0.13],
     [0.10, 0.10, 0.12, 0.10, 0.08, 0.16, 0.08, 0.10]),
    # Five seeds of one point each (paired_reference.py's case `small`): the seed unit is the point
    # unit; 5^5 = 3125 exact draws. tmu-report's report test uses these values.
    ("five_seeds_one_point", ["0", "1", "2", "3", "4"], [1.0, 2.5, 3.0, 4.0, 0.5], [2.0, 2.0, 4.5, 6.0, 1.0]),
    # Two seeds: the smallest number of clusters with an interval.
    ("two_seeds", ["a", "a", "b", "b", "b"], [1.0, 2.0, 4.0, 3.5, 5.0], [1.5, 1.0, 2.0, 2.0, 2.5]),
]


def main():
    cases = [case(*c) for c in CASES]
    # Eight seeds of five points with a large seed effect: 8^8 draws, so sampled; equal sizes, so
    # checked against SciPy's bootstrap of the cluster means too.
    keys, a, b = sweep_like(8, 5, shift=-0.5, spread=1.5, noise=0.3, seed=11)
    cases.append(case("eight_seeds_sampled", keys, a, b, seed=3, scipy_check=True))
    out = {"numpy": np.__version__, "scipy": scipy.__version__, "cases": cases}
    # One line per bootstrap draw, so the file stays short to read.
    draws = {}
    for c in cases:
        if "draws" in c:
            draws[c["name"]] = c["draws"]
            c["draws"] = "@" + c["name"]
    text = json.dumps(out, indent=1)
    for name, ds in draws.items():
        rows = ",\n".join("   " + json.dumps(d, separators=(",", ":")) for d in ds)
        text = text.replace(json.dumps("@" + name), "[\n" + rows + "\n  ]")
    sys.stdout.write(text + "\n")


if __name__ == "__main__":
    main()
