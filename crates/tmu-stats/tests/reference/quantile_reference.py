"""Reference values for tmu-stats' quantiles: NumPy's default `np.quantile(x, q)` (method
"linear"), float64. Run by hand from this folder:

    python3 quantile_reference.py      # writes quantile_reference.json

The cases are the ones tmu-eval and tmu-predictor checked their copies against before the
quantiles moved here, drawn from the same seeds in the same order (so the values are the same),
each now at every level of both lists: a single value, ties, MIA-like losses from 1e-9 up,
negative values, and random samples. The Rust tests (tests/it/quantile.rs) read the JSON and expect
every quantile bit for bit; nothing here runs at test time.
"""

import json

import numpy as np

# Formerly tmu-eval's cases (tests/reference/metrics_reference.py, seed 7).
rng = np.random.default_rng(7)
eval_cases = [
    [0.5],
    [2.0, 1.0],
    [1.0, 1.0, 1.0, 2.0],
    [3e-6, 2e-5, 2.1e-5, 7e-4, 0.3, 2.2, 5.0, 1e-9, 4e-8],
    list(rng.lognormal(mean=-9, sigma=3, size=53)),
    list(np.round(rng.uniform(size=40), 2)),
]

# Formerly tmu-predictor's cases (tests/reference/predictor_reference.py, seed 20240601).
rng = np.random.default_rng(20240601)
predictor_cases = [
    [5.0],
    [1.0, 2.0],
    [3.0, 1.0, 2.0, 4.0],
    [2.0, 2.0, 2.0, 2.0, 2.0],
    [-3.5, 10.0, 0.25, 0.25, 7.0, -1.0, 2e-5, 3e-5],
    [1e-12, 2.5e-5, 3.1e-5, 4.0, 1e3, 0.3, 0.7],
    list(rng.normal(size=37)),
    list(rng.exponential(size=101) * 1e-4),
]

qs = [0.0, 0.01, 0.05, 0.1, 0.25, 0.3, 0.5, 0.7, 0.75, 0.9, 0.95, 0.99, 1.0]
out = {
    "numpy": np.__version__,
    "quantile": [
        {"values": [float(x) for x in v], "q": qs,
         "expected": [float(np.quantile(np.array(v, dtype=np.float64), q)) for q in qs]}
        for v in eval_cases + predictor_cases
    ],
}

with open("quantile_reference.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote quantile_reference.json")
