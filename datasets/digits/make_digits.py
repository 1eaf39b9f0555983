"""Regenerates datasets/digits/digits.bin from scikit-learn's bundled copy of the UCI digits.

Run by hand (never at build or test time): `python3 datasets/digits/make_digits.py`.
Reads `sklearn/datasets/data/digits.csv.gz` (1,797 rows of 64 pixel values 0-16, then the
label) and writes 1,797 records of 65 bytes: the label, then the 64 pixels row-major.
Prints the class counts, the BLAKE2b-256 digest of the output and one reference pixel that
the Rust tests check.
"""

import gzip
import hashlib
import os

import sklearn

src = os.path.join(os.path.dirname(sklearn.__file__), "datasets", "data", "digits.csv.gz")
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "digits.bin")

rows = []
with gzip.open(src, "rt") as f:
    for line in f:
        line = line.strip()
        if line:
            rows.append([int(float(v)) for v in line.split(",")])

assert len(rows) == 1797, len(rows)
data = bytearray()
for r in rows:
    assert len(r) == 65 and all(0 <= v <= 16 for v in r[:64]) and 0 <= r[64] <= 9
    data.append(r[64])
    data.extend(r[:64])

with open(out, "wb") as f:
    f.write(data)

counts = [sum(1 for r in rows if r[64] == k) for k in range(10)]
print("records", len(rows), "bytes", len(data))
print("class counts", counts)
print("blake2b-256", hashlib.blake2b(bytes(data), digest_size=32).hexdigest())
# Cross-check against sklearn's own loader.
from sklearn.datasets import load_digits

d = load_digits()
assert (d.target == [r[64] for r in rows]).all()
assert (d.images.reshape(-1, 64).astype(int) == [r[:64] for r in rows]).all()
print("image 0 row 2 col 3 =", int(d.images[0, 2, 3]), "| image 1796 row 4 col 4 =", int(d.images[1796, 4, 4]))
