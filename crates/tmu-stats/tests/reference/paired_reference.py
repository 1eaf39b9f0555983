"""Reference values for tmu-stats' summaries, paired tests and tails, computed with SciPy. Run by
hand from this folder (the Rust tests, tests/it/paired.rs, read the JSON; nothing here runs at test
time):

    python3 paired_reference.py > paired_reference.json

Each case is a pair of samples `a`, `b` (paired by position; differences a - b). For each:
mean and sample std (ddof=1) of a; the sign test (scipy.stats.binomtest on the number of
negative differences among the non-zero ones, p = 0.5, two-sided); the paired t-test
(scipy.stats.ttest_rel); the Wilcoxon signed-rank test (scipy.stats.wilcoxon, zero_method
"wilcox": zero differences dropped, no continuity correction) with method "exact" when at most
50 differences are non-zero and none of them ties another in absolute value, else "approx" (the
normal approximation with the tie correction). Also a few Student t and normal tail
probabilities, out to p ~ 1e-11.
"""

import json
import sys

import numpy as np
import scipy
from scipy import stats

CASES = [
    ("small", [1.0, 2.5, 3.0, 4.0, 0.5], [2.0, 2.0, 4.5, 6.0, 1.0]),
    ("all_better", [0.1, 0.2, 0.15, 0.05, 0.3, 0.12], [0.4, 0.5, 0.35, 0.2, 0.45, 0.3]),
    ("mixed", [3.0, 1.0, 4.0, 1.5, 5.0, 9.0, 2.0, 6.0], [2.5, 1.8, 3.1, 2.0, 5.5, 7.0, 2.2, 6.4]),
    ("with_zeros_and_ties", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0], [1.0, 3.0, 2.0, 4.0, 6.0, 4.0, 9.0]),
    ("deltas_pp", [3.45, 6.90, 0.0, 10.34, 3.45, 6.90, 3.45, 0.0, 13.79],
                  [13.79, 6.90, 3.45, 13.79, 10.34, 3.45, 17.24, 6.90, 10.34]),
    ("twelve", list(np.linspace(0.0, 1.1, 12) ** 2), list(np.linspace(0.05, 1.0, 12))),
    ("exact_seven", [0.1, 0.32, -0.05, 1.2, 0.95, -1.6, 0.7], [0.0] * 7),
    # Zeros but no ties among the rest: exact on the non-zero differences (as method="auto").
    ("zeros_no_ties", [1.5, -2.0, 2.25, 0.3, 0.0, 4.0, -0.1, 0.0], [0.0] * 8),
    # 51 distinct non-zero differences: one more than the exact distribution is used for.
    ("fifty_one", list(np.sin(np.arange(51.0)) + 0.2), [0.0] * 51),
]


def case(name, a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    d = a - b
    nz = d[d != 0]
    neg = int((nz < 0).sum())
    sign_p = float(stats.binomtest(neg, len(nz), 0.5).pvalue) if len(nz) else None
    t = stats.ttest_rel(a, b)
    absd = np.abs(nz)
    tied = len(np.unique(absd)) < len(absd)
    method = "exact" if (len(nz) <= 50 and not tied) else "approx"
    w = stats.wilcoxon(a, b, zero_method="wilcox", correction=False, method=method)
    return {
        "name": name,
        "a": a.tolist(),
        "b": b.tolist(),
        "mean_a": float(a.mean()),
        "std_a": float(a.std(ddof=1)),
        "mean_diff": float(d.mean()),
        "sign_negative": neg,
        "sign_n": int(len(nz)),
        "sign_p": sign_p,
        "t": float(t.statistic),
        "t_p": float(t.pvalue),
        "wilcoxon_method": method,
        "wilcoxon_w": float(w.statistic),
        "wilcoxon_p": float(w.pvalue),
    }


def main():
    out = {
        "scipy": scipy.__version__,
        "cases": [case(*c) for c in CASES],
        "t_two_sided": [
            {"t": t, "df": df, "p": float(2 * stats.t.sf(abs(t), df))}
            for t, df in [(0.5, 3), (2.0, 5), (-3.7, 8), (10.0, 2), (1.0, 1), (0.0, 4), (2.5, 40), (-30.0, 10)]
        ],
        "normal_two_sided": [{"z": z, "p": float(2 * stats.norm.sf(abs(z)))} for z in [0.0, 0.5, 1.96, -2.8, 4.5, 6.8]],
    }
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
