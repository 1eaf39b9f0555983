"""Reference values for tmu-features' tests, computed independently with PyTorch (run by hand from
the repository root: `python3 plugins/tmu-features/tests/reference/features_reference.py`; needs
torch and numpy). Writes, next to this script:

- `small_cnn.model.safetensors`, `mlp.model.safetensors`: tiny networks with fixed weights (seeded
  PyTorch initialisation, batch-norm affine randomised and running statistics set from the data,
  heads scaled by 4), in tmu's model-artifact format (safetensors, PyTorch weight names, `tmu.*`
  metadata).
- `query.dataset.safetensors` (8 samples) and `reference.dataset.safetensors` (13 samples: 6, 4
  and 3 of the three classes; query id 105 is also reference sample id 105), 1x8x8 u8 images
  including pixels at 0 and 255, in tmu's data-set format.
- `expected.json`: per model, for each case its config (as a tmu TOML body) and expected values:
  DF (nearest neighbours by exhaustive f64 distances between F.normalize'd f32 features), AF
  (PGD on the summed cross-entropy with sign(), clamps to the epsilon-ball and [0, 1], eval
  mode; KL from f64 log-softmax) with x_adv, and CF (f64 cross-entropy of the f32 logits).
  `min_rel_grad` is the smallest |gradient component| / max |component| of each sample over all
  PGD steps (exact zeros excluded): far from 0, so a sign cannot flip between implementations.

The architectures come from tmu-nn's PyTorch twins (crates/tmu-nn/tests/reference/torch_models.py).
"""

import json
import os
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "crates", "tmu-nn", "tests", "reference"))
import torch_models  # noqa: E402

torch.use_deterministic_algorithms(True)
torch.set_num_threads(1)

CLASSES = ["a", "b", "c"]
SHAPE = [1, 8, 8]
MEAN, STD = 0.45, 0.3
_DT = {np.dtype(np.float32): "F32", np.dtype(np.int64): "I64", np.dtype(np.uint32): "U32",
       np.dtype(np.uint8): "U8", np.dtype(np.uint64): "U64"}


def save_safetensors(path, tensors, metadata):
    """A safetensors file (tensors sorted by name, header padded to 8 bytes)."""
    header, blobs, offset = {}, [], 0
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name]) if np.ndim(tensors[name]) else np.asarray(tensors[name])
        data = a.astype(a.dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _DT[a.dtype], "shape": list(a.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = metadata
    h = json.dumps(header, separators=(",", ":")).encode()
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def js(v):
    return json.dumps(v, separators=(",", ":"))


def save_model(path, model, arch):
    tensors = {}
    for k, v in model.state_dict().items():
        a = v.detach().numpy()
        tensors[k] = a.astype(np.float32) if v.dtype.is_floating_point else a.astype(np.int64)
    meta = {
        "tmu.kind": "model",
        "tmu.format": "1",
        "tmu.arch": arch["arch"],
        "tmu.arch_config": js(arch),
        "tmu.classes": js(CLASSES),
        "tmu.num_classes": str(len(CLASSES)),
        "tmu.input_shape": js(SHAPE),
        "tmu.mean": js([MEAN]),
        "tmu.std": js([STD]),
    }
    save_safetensors(path, tensors, meta)


def save_dataset(path, images, labels, ids):
    meta = {
        "tmu.kind": "dataset",
        "tmu.format": "1",
        "tmu.classes": js(CLASSES),
        "tmu.mean": js([MEAN]),
        "tmu.std": js([STD]),
        "tmu.source": "tmu-features reference",
        "tmu.extra_label_classes": "{}",
    }
    tensors = {"images": images.astype(np.uint8), "labels": labels.astype(np.uint32), "ids": ids.astype(np.uint64)}
    save_safetensors(path, tensors, meta)


def make_data():
    rng = np.random.RandomState(7)
    q_labels = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    q_ids = np.array([100, 101, 102, 103, 104, 105, 106, 107])
    r_labels = np.array([0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2])
    r_ids = np.array([200, 201, 202, 203, 204, 205, 206, 207, 208, 209, 210, 211, 105])
    # A pattern per class plus noise; some pixels forced to 0 and 255 (clamping at [0, 1]).
    patterns = rng.randint(40, 216, size=(3, 64))

    def images(labels):
        x = patterns[labels] + rng.randint(-60, 61, size=(len(labels), 64))
        x = np.clip(x, 0, 255)
        x[:, 0] = 0
        x[:, 9] = 255
        x[:, 20] = 1
        x[:, 33] = 254
        return x.reshape(len(labels), 1, 8, 8)

    q_images = images(q_labels)
    r_images = images(r_labels)
    r_images[12] = q_images[5]  # query id 105 (class 2) is also in the reference set
    assert q_labels[5] == r_labels[12] == 2
    return (q_images, q_labels, q_ids), (r_images, r_labels, r_ids)


def make_models(calibration):
    """Seeded networks made "trained-like": batch-norm running statistics set to the statistics
    of `calibration` (so that eval-mode features vary between samples) and heads scaled up (so
    that the logits are far from uniform)."""
    torch.manual_seed(11)
    cnn_arch = {"arch": "small-cnn", "width": 2, "dropout": 0.0}
    cnn = torch_models.build(cnn_arch, SHAPE, 3)
    with torch.no_grad():
        for mod in cnn.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.5, 0.5)
                mod.momentum = 1.0
        cnn.train()
        cnn.forward_features(normalise(calibration))
        for mod in cnn.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.momentum = 0.1
                mod.num_batches_tracked.fill_(3)
        cnn.classifier.weight.mul_(4.0)
    torch.manual_seed(12)
    mlp_arch = {"arch": "mlp", "hidden": [16, 12], "dropout": 0.0}
    mlp = torch_models.build(mlp_arch, SHAPE, 3)
    with torch.no_grad():
        mlp.head.weight.mul_(4.0)
    return [("small_cnn", cnn, cnn_arch), ("mlp", mlp, mlp_arch)]


def normalise(u8):
    x = torch.tensor(u8, dtype=torch.float32) / 255.0
    return (x - MEAN) / STD


def df(model, query, reference, k, normalise_features, same_class):
    (qx, qy, qid), (rx, ry, rid) = query, reference
    with torch.no_grad():
        fq = model.forward_features(normalise(qx))[0].double()
        fr = model.forward_features(normalise(rx))[0].double()
    if normalise_features:
        fq, fr = F.normalize(fq, dim=1), F.normalize(fr, dim=1)
    d = ((fq[:, None, :] - fr[None, :, :]) ** 2).sum(-1).sqrt().numpy()
    out = []
    for i in range(len(qy)):
        pool = [j for j in range(len(ry)) if (not same_class or ry[j] == qy[i]) and rid[j] != qid[i]]
        nearest = sorted(d[i, j] for j in pool)[:k]
        out.append(float(sum(nearest) / len(nearest)))
    return out


def pgd(model, u8, labels, eps, step, steps):
    x0 = torch.tensor(u8, dtype=torch.float32) / 255.0
    y = torch.tensor(labels)
    x = x0.clone()
    min_rel = np.full(len(labels), np.inf)
    for _ in range(steps):
        x.requires_grad_(True)
        loss = F.cross_entropy(model.forward_features((x - MEAN) / STD)[1], y, reduction="sum")
        (g,) = torch.autograd.grad(loss, x)
        a = g.abs().reshape(len(labels), -1)
        for i in range(len(labels)):
            nz = a[i][a[i] > 0]
            if len(nz):
                min_rel[i] = min(min_rel[i], float(nz.min() / nz.max()))
        with torch.no_grad():
            x = x + step * g.sign()
            x = torch.min(torch.max(x, x0 - eps), x0 + eps).clamp(0.0, 1.0)
    with torch.no_grad():
        lp = F.log_softmax(model.forward_features((x0 - MEAN) / STD)[1].double(), dim=1)
        lq = F.log_softmax(model.forward_features((x - MEAN) / STD)[1].double(), dim=1)
    kl = (lp.exp() * (lp - lq)).sum(1)
    return [float(v) for v in kl], x.detach().numpy().reshape(len(labels), -1).tolist(), min_rel.tolist()


def cf(model, u8, labels):
    with torch.no_grad():
        logits = model.forward_features(normalise(u8))[1].double()
    return [float(v) for v in F.cross_entropy(logits, torch.tensor(labels), reduction="none")]


def main():
    query, reference = make_data()
    save_dataset(os.path.join(HERE, "query.dataset.safetensors"), *query)
    save_dataset(os.path.join(HERE, "reference.dataset.safetensors"), *reference)
    expected = {}
    for name, model, arch in make_models(np.concatenate([query[0], reference[0]])):
        model.eval()
        save_model(os.path.join(HERE, f"{name}.model.safetensors"), model, arch)
        cases = {}
        for case, toml, args in [
            ("df_k3", "k = 3", (3, True, True)),
            ("df_default", "", (5, True, True)),
            ("df_raw", "k = 2\nnormalise = false", (2, False, True)),
            ("df_any_class", "k = 4\nneighbours = \"any-class\"", (4, True, False)),
        ]:
            cases[case] = {"config": toml, "values": df(model, query, reference, *args)}
        for case, toml, (eps, step, steps) in [
            ("af_default", "", (4 / 255, 4 / 255 / 3, 5)),
            ("af_strong", "epsilon = 0.1\nstep = 0.03\nsteps = 7", (0.1, 0.03, 7)),
        ]:
            values, x_adv, min_rel = pgd(model, query[0], query[1], eps, step, steps)
            cases[case] = {"config": toml, "values": values, "x_adv": x_adv, "min_rel_grad": min_rel}
            print(f"{name} {case}: smallest relative gradient component {min(min_rel):.2e}")
        cases["cf"] = {"config": "", "values": cf(model, query[0], query[1])}
        expected[name] = cases
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
