"""Reference for the twin-F1 threshold (tests/it/threshold.rs): brute force with scikit-learn.

For every candidate cut c (each distinct p(easy) of the twin set, plus "nothing hard"), the
hard class is predicted where p_easy <= c and scored with sklearn.metrics.f1_score
(pos_label = hard, zero_division = 0); the cut with the highest F1 wins, ties going to the one
that calls fewer samples hard. Run: python3 twin_f1_reference.py > twin_f1_reference.json
"""

import json

import numpy as np
from sklearn.metrics import f1_score


def best_cut(p, easy):
    p = np.asarray(p, dtype=np.float64)
    hard = ~np.asarray(easy, dtype=bool)
    candidates = [None] + sorted(set(p.tolist()))
    best = None
    for c in candidates:
        called = np.zeros_like(hard) if c is None else p <= c
        f1 = f1_score(hard, called, pos_label=True, zero_division=0) if hard.any() or called.any() else 0.0
        key = (f1, -int(called.sum()))
        if best is None or key > best[0]:
            best = (key, c, float(f1), int(called.sum()))
    return best[1], best[2], best[3]


def main():
    rng = np.random.default_rng(7)
    cases = []
    # Random scores with hard samples drawn lower, rounded so that ties occur.
    for n, hard_rate in [(12, 0.25), (40, 0.1), (60, 0.3), (25, 0.5)]:
        easy = rng.random(n) >= hard_rate
        p = np.where(easy, rng.beta(5, 2, n), rng.beta(2, 3, n))
        cases.append((np.round(p, 2), easy))
    # Every sample easy; every sample hard; one perfectly separated set.
    cases.append((np.array([0.2, 0.7, 0.9]), np.array([True, True, True])))
    cases.append((np.array([0.2, 0.7, 0.9]), np.array([False, False, False])))
    cases.append((np.array([0.1, 0.15, 0.8, 0.95]), np.array([False, False, True, True])))
    out = []
    for p, easy in cases:
        cut, f1, calls = best_cut(p, easy)
        out.append({"p_easy": p.tolist(), "easy": easy.tolist(), "cut": cut, "f1": f1, "hard_calls": calls})
    print(json.dumps({"cases": out}, indent=1))


if __name__ == "__main__":
    main()
