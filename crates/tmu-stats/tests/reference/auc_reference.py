"""Reference values for tmu-stats' ROC AUC with ties: scikit-learn's `roc_auc_score` (the
trapezoidal ROC, so a tied positive-negative pair counts 1/2). Run by hand from this folder:

    python3 auc_reference.py      # writes auc_reference.json

The first four cases are the ones tmu-predictor checked its copy against before the AUC moved
here (the random one drawn from the same seed after the same draws, so the values are the
same); the last two are new: many ties at a larger size, and a score that ranks backwards. The
Rust tests (tests/it/auc.rs) read the JSON; nothing here runs at test time.
"""

import json

import numpy as np
import sklearn
from sklearn.metrics import roc_auc_score

# tmu-predictor's random case came after its script's quantile samples and feature columns.
rng = np.random.default_rng(20240601)
rng.normal(size=37), rng.exponential(size=101)
rng.normal(size=23), rng.uniform(size=20), rng.exponential(size=23)
cases = [
    ([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]),
    ([0.5, 0.5, 0.5, 0.5, 0.2], [1, 0, 1, 0, 0]),
    ([1, 2, 2, 3, 3, 3, 4], [0, 1, 0, 1, 1, 0, 1]),
    (list(np.round(rng.uniform(size=60), 1)), list(rng.integers(0, 2, size=60))),
]

rng = np.random.default_rng(11)
labels = (rng.uniform(size=500) < 0.3).astype(int)
cases.append((list(np.round(rng.normal(size=500) + 0.4 * labels, 1)), list(labels)))
cases.append(([3.0, 2.5, 2.5, 1.0, -0.5, -2.0], [0, 0, 1, 1, 0, 1]))

out = {
    "sklearn": sklearn.__version__,
    "auc": [
        {"scores": [float(s) for s in scores], "labels": [int(l) for l in labels],
         "expected": float(roc_auc_score(labels, scores))}
        for scores, labels in cases
    ],
}

with open("auc_reference.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote auc_reference.json")
