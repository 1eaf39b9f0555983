"""Reference values for tmu-predictor's numerics, computed independently with NumPy and
PyTorch. Run by hand from this folder:

    python3 predictor_reference.py      # writes predictor_reference.json

The Rust tests (tests/it/numerics.rs) read the JSON; nothing here runs at test time.
"""

import json

import numpy as np
import torch
import torch.nn.functional as F

rng = np.random.default_rng(20240601)
out = {}

# The quantile and AUC cases this script held are checked in crates/tmu-stats now
# (tests/reference/quantile_reference.py, auc_reference.py); their draws stay so that the
# stream, and so the stored values, are unchanged.
rng.normal(size=37), rng.exponential(size=101)

# --- Preprocessing per column: winsorise to [Q1 - k IQR, Q3 + k IQR], then min-max to [0, 1];
#     a constant column maps to 0. Inputs are float32 (what a features artifact holds), the
#     computation is float64.
def scale(col, k):
    col = col.astype(np.float64)
    q1, q3 = np.quantile(col, 0.25), np.quantile(col, 0.75)
    lo, hi = q1 - k * (q3 - q1), q3 + k * (q3 - q1)
    c = np.clip(col, lo, hi)
    mn, mx = c.min(), c.max()
    s = (c - mn) / (mx - mn) if mx > mn else np.zeros_like(c)
    return s, dict(q1=q1, q3=q3, lower=lo, upper=hi, min=mn, max=mx)

n = 23
cols = [
    rng.normal(size=n),                                   # ordinary
    np.concatenate([rng.uniform(size=n - 3), [40.0, -25.0, 60.0]]),  # outliers both sides
    np.full(n, 3.25),                                     # constant
    rng.exponential(size=n) * 1e-3,                       # skewed, small
]
x = np.stack(cols, axis=1).astype(np.float32)
pre = {"rows": n, "cols": x.shape[1], "values": x.ravel().astype(float).tolist(), "cases": []}
for k in [1.5, 0.5]:
    scaled, stats = zip(*(scale(x[:, j], k) for j in range(x.shape[1])))
    pre["cases"].append({
        "k": k,
        "scaled": np.stack(scaled, axis=1).ravel().tolist(),
        "stats": [{kk: float(vv) for kk, vv in s.items()} for s in stats],
    })
out["preprocess"] = pre

# (The AUC cases' draws, see above.)
rng.uniform(size=60), rng.integers(0, 2, size=60)

# --- BCE with logits, plain and class-balanced (weight n / (2 n_class) per sample, mean reduction).
z = torch.tensor([-3.0, -0.5, 0.0, 0.2, 1.7, 8.0, -12.0], dtype=torch.float32, requires_grad=True)
y = torch.tensor([0, 1, 1, 0, 1, 1, 0], dtype=torch.float32)
n_easy = float(y.sum()); n_all = float(len(y)); n_hard = n_all - n_easy
w_bal = torch.where(y == 1, n_all / (2 * n_easy), n_all / (2 * n_hard))
bce = {"z": z.tolist(), "y": y.tolist(), "cases": []}
for balance, w in [(False, torch.ones_like(y)), (True, w_bal)]:
    z.grad = None
    loss = F.binary_cross_entropy_with_logits(z, y, weight=w)
    loss.backward()
    bce["cases"].append({"balance": balance, "weights": w.tolist(), "loss": loss.item(), "grad": z.grad.tolist()})
out["bce"] = bce

# --- The predictor MLP 3 -> 32 -> 16 -> 1 (ReLU), two Adam steps (lr 0.01) from fixed weights on
#     two fixed batches (rows 0-4, then 5-9), BCE with logits, plain and balanced (class weights
#     over all 10 rows).
sizes = [3, 32, 16, 1]
init = []
for i in range(3):
    b = 1 / np.sqrt(sizes[i])
    init.append((rng.uniform(-b, b, size=(sizes[i + 1], sizes[i])).astype(np.float32),
                 rng.uniform(-b, b, size=sizes[i + 1]).astype(np.float32)))
X = rng.uniform(size=(10, 3)).astype(np.float32)
Y = np.array([1, 1, 0, 1, 1, 1, 0, 1, 1, 1], dtype=np.float32)
mlp = {"sizes": sizes, "lr": 0.01, "x": X.ravel().tolist(), "y": Y.tolist(),
       "init": [[w.ravel().tolist(), b.tolist()] for w, b in init], "cases": []}
for balance in [False, True]:
    layers = []
    for w, b in init:
        lin = torch.nn.Linear(w.shape[1], w.shape[0])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w)); lin.bias.copy_(torch.from_numpy(b))
        layers.append(lin)
    net = torch.nn.Sequential(layers[0], torch.nn.ReLU(), layers[1], torch.nn.ReLU(), layers[2])
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    yt = torch.from_numpy(Y)
    if balance:
        ne = float(yt.sum()); nh = len(yt) - ne
        wt = torch.where(yt == 1, len(yt) / (2 * ne), len(yt) / (2 * nh))
    else:
        wt = torch.ones_like(yt)
    logits0 = net(torch.from_numpy(X)).squeeze(1).tolist()
    losses = []
    for rows in [slice(0, 5), slice(5, 10)]:
        opt.zero_grad()
        loss = F.binary_cross_entropy_with_logits(net(torch.from_numpy(X[rows])).squeeze(1), yt[rows], weight=wt[rows])
        loss.backward()
        opt.step()
        losses.append(loss.item())
    mlp["cases"].append({
        "balance": balance,
        "logits_before": logits0,
        "losses": losses,
        "weights_after": [[l.weight.detach().ravel().tolist(), l.bias.detach().tolist()] for l in layers],
    })
out["mlp"] = mlp

with open("predictor_reference.json", "w") as f:
    json.dump(out, f, indent=1)
print("wrote predictor_reference.json")
