"""Reference values for tmu-stats' ROC curve, TPR at a fixed FPR, balanced accuracy, U-LiRA,
offline RMIA, ToW and ToW-MIA, computed independently with NumPy, SciPy and scikit-learn. Run
by hand from this folder (the Rust tests, tests/it/membership.rs, read the JSON; nothing here
runs at test time):

    python3 membership_reference.py      # writes membership_reference.json

- ROC: sklearn.metrics.roc_curve(drop_intermediate=False). TPR at FPR f: the curve is the
  polyline through those points; the value is the largest TPR of any segment at x = f (linear
  interpolation along a sloped segment; a vertical segment at f gives its top). Balanced
  accuracy: max over points of (TPR + 1 - FPR) / 2.
- U-LiRA: for every target model j and example e, scipy.stats.norm fitted by hand (np.mean and
  np.std(ddof=1), floored at min_std) to the other models that saw e and to those that did not;
  score = norm.logpdf(x, in) - norm.logpdf(x, out); pairs with fewer than two models on a side
  are left out.
- RMIA (offline; the formula of privacytrustlab/ml_privacy_meter modules/mia/attacks/rmia.py,
  except that the reference models are the first k OUT models by index instead of the k largest
  OUT signals): Pr(x) = (1 + a)/2 * mean over references + (1 - a)/2, ratio = p_target / Pr(x),
  score = fraction of population samples z with ratio(x) / ratio(z) > gamma.
- ToW = prod over forget, retain, test of (1 - |acc - acc_gold|); ToW-MIA replaces the forget term
  by 1 - |mia - mia_gold|.
"""

import json

import numpy as np
import scipy
import sklearn
from scipy.stats import norm
from sklearn.metrics import roc_curve


def tpr_at(fpr, tpr, f):
    best = 0.0
    for i in range(len(fpr) - 1):
        x0, x1, y0, y1 = fpr[i], fpr[i + 1], tpr[i], tpr[i + 1]
        if x0 <= f <= x1:
            y = y1 if x1 == x0 else y0 + (f - x0) * (y1 - y0) / (x1 - x0)
            best = max(best, y)
    return best


def ulira(values, member, min_std):
    out = []
    M, E = values.shape
    for e in range(E):
        for j in range(M):
            others = np.array([k for k in range(M) if k != j])
            ins = values[others[member[others, e]], e]
            outs = values[others[~member[others, e]], e]
            if len(ins) < 2 or len(outs) < 2:
                continue
            si = max(np.std(ins, ddof=1), min_std)
            so = max(np.std(outs, ddof=1), min_std)
            x = values[j, e]
            s = norm.logpdf(x, loc=np.mean(ins), scale=si) - norm.logpdf(x, loc=np.mean(outs), scale=so)
            out.append([j, e, bool(member[j, e]), float(s)])
    return out


def rmia(probs, member, population, k, a, gamma):
    out = []
    M, E = probs.shape
    for j in range(M):
        zrefs = [m for m in range(M) if m != j][:k]
        pz = (1 + a) / 2 * population[zrefs].mean(axis=0) + (1 - a) / 2
        ratio_z = population[j] / pz
        for e in range(E):
            refs = [m for m in range(M) if m != j and not member[m, e]][:k]
            if not refs:
                continue
            px = (1 + a) / 2 * probs[refs, e].mean() + (1 - a) / 2
            ratio_x = probs[j, e] / px
            out.append([j, e, bool(member[j, e]), float(np.mean(ratio_x / ratio_z > gamma))])
    return out


rng = np.random.default_rng(2024)
roc_cases = [
    ([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]),
    ([3.0, 2.5, 2.5, 1.0, -0.5, -2.0, 2.5, 1.0], [0, 0, 1, 1, 0, 1, 1, 0]),
]
labels = (rng.uniform(size=300) < 0.4).astype(int)
roc_cases.append((list(np.round(rng.normal(size=300) + 0.8 * labels, 1)), list(labels)))
levels = [0.0, 0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1.0]
rocs = []
for scores, lab in roc_cases:
    fpr, tpr, _ = roc_curve(lab, scores, drop_intermediate=False)
    rocs.append({
        "scores": [float(s) for s in scores], "labels": [int(l) for l in lab],
        "fpr": fpr.tolist(), "tpr": tpr.tolist(),
        "tpr_at": [[f, float(tpr_at(fpr, tpr, f))] for f in levels],
        "balanced_accuracy": float(np.max((tpr + 1 - fpr) / 2)),
    })

# A tiny ensemble: 9 models x 6 examples; each example seen by 4 or 5 models.
M, E = 9, 6
member = np.zeros((M, E), dtype=bool)
for e in range(E):
    member[rng.permutation(M)[: 4 + e % 2], e] = True
values = rng.normal(size=(M, E)) + 1.5 * member
values[:, 5] = np.round(values[:, 5])  # ties, and a side whose std can fall to the floor
probs = 1 / (1 + np.exp(-values))
population = rng.uniform(0.05, 0.95, size=(M, 7))

out = {
    "numpy": np.__version__, "scipy": scipy.__version__, "sklearn": sklearn.__version__,
    "roc": rocs,
    "ensemble": {"values": values.tolist(), "member": member.tolist(), "probs": probs.tolist(),
                 "population": population.tolist()},
    "ulira": {"min_std": 0.05, "scored": ulira(values, member, 0.05)},
    "rmia": [{"k": k, "a": a, "gamma": g, "scored": rmia(probs, member, population, k, a, g)}
             for k, a, g in [(1, 0.3, 1.0), (2, 0.3, 1.0), (4, 0.0, 1.0), (2, 1.0, 0.5)]],
    "tow": [{"acc": [0.2, 0.99, 0.9], "gold": [0.6, 0.97, 0.93],
             "expected": float(np.prod(1 - np.abs(np.array([0.2, 0.99, 0.9]) - np.array([0.6, 0.97, 0.93]))))}],
    "tow_mia": [{"mia": 0.7, "mia_gold": 0.3, "acc": [0.99, 0.9], "gold": [0.97, 0.93],
                 "expected": float((1 - abs(0.7 - 0.3)) * np.prod(1 - np.abs(np.array([0.99, 0.9]) - np.array([0.97, 0.93]))))}],
}
with open("membership_reference.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote membership_reference.json")
