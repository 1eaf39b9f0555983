"""Writes the pickle fixtures of tests/it/cifar_python.rs with real Python and numpy.

Run by hand: `python3 make_pickles.py` (Python 3.11, numpy 2 wrote the committed files).
Every batch holds `data` = ((np.arange(2 * 3072) * 7 + 3) % 256) as uint8, shape [2, 3072],
and labels [3, 7], the way torchvision's CIFAR batches are laid out.
"""

import os
import pickle

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
data = ((np.arange(2 * 3072) * 7 + 3) % 256).astype(np.uint8).reshape(2, 3072)


def dump(name, obj, protocol):
    with open(os.path.join(here, name), "wb") as f:
        pickle.dump(obj, f, protocol=protocol)


# Protocol 2 from Python 3: bytes keys become _codecs.encode(...) calls, the array's data too.
dump("batch_p2.pkl", {b"batch_label": b"fixture", b"labels": [3, 7], b"data": data}, 2)
# Protocol 4: str keys, FRAME, MEMOIZE, STACK_GLOBAL, SHORT_BINBYTES / BINBYTES.
dump("batch_p4.pkl", {"labels": [3, 7], "data": data, "filenames": ["a.png", "b.png"]}, 4)
# Protocol 5: numpy pickles arrays with _frombuffer + an in-band buffer; labels as an int64 array.
dump("batch_p5.pkl", {"labels": np.array([3, 7], dtype=np.int64), "data": data}, 5)
# CIFAR-100 style meta, protocol 2 with str values.
dump("meta_p2.pkl", {"fine_label_names": ["apple", "aquarium_fish"], "coarse_label_names": ["a", "b"]}, 2)


class Evil:
    def __reduce__(self):
        return (os.system, ("echo pwned",))


# A pickle that would run a shell command under pickle.load; the reader must refuse it.
dump("evil.pkl", {"data": Evil()}, 2)

for name in sorted(os.listdir(here)):
    if name.endswith(".pkl") and name != "evil.pkl":
        with open(os.path.join(here, name), "rb") as f:
            print(name, os.path.getsize(os.path.join(here, name)), sorted(pickle.load(f, encoding="bytes").keys()))
