"""Writes the seed corpus of the `cifar_pickle` fuzz target: small batches in the layout of
torchvision's CIFAR-10 and CIFAR-100 python files (a dict pickled with protocol 2 whose `data`
is a NumPy uint8 array), and the meta files. Run from this folder: python3 make_pickles.py"""
import pickle

import numpy as np

rng = np.random.default_rng(0)


def dump(name, obj):
    with open(f"cifar_pickle/{name}", "wb") as f:
        pickle.dump(obj, f, protocol=2)


data = rng.integers(0, 256, size=(2, 3072), dtype=np.uint8)
dump("cifar10_batch", {b"batch_label": b"training batch 1 of 5", b"labels": [3, 9],
                       b"data": data, b"filenames": [b"a.png", b"b.png"]})
dump("cifar100_train", {b"filenames": [b"a.png", b"b.png"], b"batch_label": b"training batch 1 of 1",
                        b"fine_labels": [42, 99], b"coarse_labels": [5, 19], b"data": data})
dump("cifar10_meta", {b"num_cases_per_batch": 2, b"label_names": [b"airplane", b"automobile"], b"num_vis": 3072})
# Protocol 2 with str keys (how Python 3 writes the same dict).
dump("cifar10_batch_str", {"labels": [1], "data": data[:1]})
