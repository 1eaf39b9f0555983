"""Reference values for tmu-eval's privacy measures, computed independently: the Jensen-Shannon
divergence of softmax outputs with SciPy (scipy.spatial.distance.jensenshannon, natural log,
squared: SciPy returns the distance, the square root of the divergence; softmax by
scipy.special.softmax in float64) and the logit-scaled confidence log(p / (1 - p)) with mpmath
at 50 digits from the float32 logits (p by mpmath's exp, then the log of the odds), so the
margins where 1 - p underflows in float64 are exact too. Run by hand from this folder:

    python3 privacy_reference.py      # writes privacy_reference.json

The Rust tests (tests/it/measures.rs) read the JSON; nothing here runs at test time.
"""

import json

import mpmath
import numpy as np
import scipy
from scipy.spatial.distance import jensenshannon
from scipy.special import softmax

mpmath.mp.dps = 50
rng = np.random.default_rng(11)
k, n = 5, 12
a = rng.normal(scale=2.0, size=(n, k)).astype(np.float32)
b = rng.normal(scale=2.0, size=(n, k)).astype(np.float32)
b[0] = a[0]                      # identical rows: divergence 0
a[1, 2] += 60.0                  # a near one-hot row against a spread one
labels = rng.integers(0, k, size=n)
a[3, labels[3]] += 45.0          # p = 1 in float64: the odds overflow a naive log(p / (1 - p))
a[4, labels[4]] -= 45.0          # p underflows towards 0

pa = softmax(a.astype(np.float64), axis=1)
pb = softmax(b.astype(np.float64), axis=1)
js = [float(jensenshannon(pa[i], pb[i]) ** 2) for i in range(n)]


def odds(row, y):
    z = [mpmath.mpf(float(v)) for v in row]
    e = [mpmath.exp(v) for v in z]
    p = e[y] / sum(e)
    return float(mpmath.log(p / (1 - p)))


out = {
    "numpy": np.__version__, "scipy": scipy.__version__, "mpmath": mpmath.__version__,
    "k": k, "a": a.ravel().tolist(), "b": b.ravel().tolist(), "labels": labels.tolist(),
    "js_rows": js, "js_mean": float(np.mean(js)),
    "scaled_confidence": [odds(a[i], int(labels[i])) for i in range(n)],
}
with open("privacy_reference.json", "w") as f:
    json.dump(out, f, indent=1)
    f.write("\n")
print("wrote privacy_reference.json")
