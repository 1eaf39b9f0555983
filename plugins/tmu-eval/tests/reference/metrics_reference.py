"""Reference values for tmu-eval's measures, computed independently with NumPy and PyTorch in
float64, and per-sample cross-entropy with mpmath at 50 digits (float64's logsumexp - l_y loses
about 8 digits on the losses near 1e-7 of a memorised sample). Run by hand from this folder:

    python3 metrics_reference.py      # writes metrics_reference.json

The Rust tests (tests/it/measures.rs) read the JSON; nothing here runs at test time.
"""

import json

import mpmath
import numpy as np
import torch

rng = np.random.default_rng(7)
out = {}

# The quantile cases that opened this script are checked in crates/tmu-stats now
# (tests/reference/quantile_reference.py); their two draws stay so that the stream below, and
# so the stored values, are unchanged.
rng.lognormal(mean=-9, sigma=3, size=53), rng.uniform(size=40)

# --- Per-model comparison on D_f (20 samples, 4 classes) with a population of 50 non-members.
#     Logits are float32 (what models give); every measure is computed in float64.
#     The "model" memorises D_f (large margins: losses near 1e-6, below float32's resolution
#     of logsumexp - l_y); a few D_f rows repeat population rows exactly (ties at the threshold).
k, n_f, n_p = 4, 20, 50
y_f = rng.integers(0, k, size=n_f)
y_p = rng.integers(0, k, size=n_p)
gold_f = rng.normal(scale=2.0, size=(n_f, k)).astype(np.float32)
gold_p = rng.normal(scale=2.0, size=(n_p, k)).astype(np.float32)
model_f = rng.normal(scale=1.0, size=(n_f, k))
model_f[np.arange(n_f), y_f] += rng.uniform(10, 16, size=n_f)
model_f = model_f.astype(np.float32)
model_p = rng.normal(scale=3.0, size=(n_p, k)).astype(np.float32)
model_p[:6, :] = model_f[:6, :]          # population rows identical to D_f rows ...
y_p[:6] = y_f[:6]                        # ... with the same labels: equal losses
gold_p[:3, :] = gold_f[:3, :]
y_p[:3] = y_f[:3]


mpmath.mp.dps = 50


def losses(logits, y):
    """-log softmax(logits)[y] per row, exactly (mpmath), rounded to float64."""
    return np.array([
        float(mpmath.log(sum(mpmath.exp(mpmath.mpf(float(v))) for v in row)) - mpmath.mpf(float(row[c])))
        for row, c in zip(logits, y)
    ])


def correct(logits, y):
    return logits.argmax(axis=1) == y


def mia(pop_logits, pop_y, f_logits, f_y, alpha):
    thr = np.quantile(losses(pop_logits, pop_y), alpha)
    return float(thr), float(np.mean(losses(f_logits, f_y) <= thr))


p_m = torch.softmax(torch.from_numpy(model_f).double(), dim=1).numpy()
p_g = torch.softmax(torch.from_numpy(gold_f).double(), dim=1).numpy()
acc_m, acc_g = correct(model_f, y_f).mean(), correct(gold_f, y_f).mean()
predicted_easy = rng.integers(0, 2, size=n_f).astype(bool)
alphas = [0.1, 0.05, 0.01, 0.5]
out["compare"] = {
    "k": k,
    "y_forget": y_f.tolist(),
    "y_population": y_p.tolist(),
    "model_forget": model_f.ravel().astype(float).tolist(),
    "model_population": model_p.ravel().astype(float).tolist(),
    "gold_forget": gold_f.ravel().astype(float).tolist(),
    "gold_population": gold_p.ravel().astype(float).tolist(),
    "predicted_easy": predicted_easy.tolist(),
    "expected": {
        "model_forget_losses": losses(model_f, y_f).tolist(),
        "activation_distance": float(np.mean(np.linalg.norm(p_m - p_g, axis=1))),
        "delta": float(100 * abs(acc_m - acc_g)),
        "agreement": float(np.mean(correct(model_f, y_f) == correct(gold_f, y_f))),
        "acc_forget_easy": float(correct(model_f, y_f)[predicted_easy].mean()),
        "acc_forget_hard": float(correct(model_f, y_f)[~predicted_easy].mean()),
        "mia": [
            {"alpha": a,
             "threshold": mia(model_p, y_p, model_f, y_f, a)[0], "rate": mia(model_p, y_p, model_f, y_f, a)[1],
             "gold_threshold": mia(gold_p, y_p, gold_f, y_f, a)[0], "gold_rate": mia(gold_p, y_p, gold_f, y_f, a)[1]}
            for a in alphas
        ],
    },
}

with open("metrics_reference.json", "w") as f:
    json.dump(out, f, indent=1)
print("wrote metrics_reference.json")
