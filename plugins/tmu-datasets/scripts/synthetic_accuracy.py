"""Measures how hard `dataset.synthetic` is: trains a small CIFAR ResNet (PyTorch) on its train
output and reports test accuracy, overall and by the `difficulty` column.

Run by hand from anywhere in the workspace:
    python3 synthetic_accuracy.py [--seed S] [--config 'colour_jitter = 0.12'] [--data FOLDER]
Without --data it generates the data through the stage itself (`cargo run --release -p
tmu-datasets --example synthetic_dump`, stage seed S, the config body given, defaults
otherwise) into a temporary folder; with --data it reads train.safetensors and
test.safetensors from FOLDER (no `safetensors` package needed).

The protocol (fixed; flags exist only to explore): 5,000 train / 1,000 test images (the
stage's defaults); a ResNet-8 (3x3 stem, three stages of 16/32/64 channels, one basic block
each; --blocks 3 gives ResNet-20); SGD lr 0.05, momentum 0.9, weight decay 5e-4, cosine
schedule per step, batch 64, 15 epochs; per-sample random crops with 4-pixel zero padding
and horizontal flips; inputs normalised with the artifact's mean/std; torch seed 0. The last
line reports test accuracy after the last epoch. About 5-20 minutes on 2 shared CPU cores.

Measured (test accuracy; clean / ambiguous test samples in brackets):
    colour_jitter 0.12 (the default before):  seed 0 0.794 (0.825 / 0.489), seed 1 0.804 (0.836 / 0.515)
    colour_jitter 0.10 (the default now):     seed 0 0.849 (0.880 / 0.543), seed 1 0.849 (0.883 / 0.545)
    colour_jitter 0.08:                       seed 0 0.906 (0.939 / 0.576), seed 1 0.901 (0.933 / 0.614)
Mislabelled training samples (3%) stay unfitted in 15 epochs (train accuracy on them 1-2%),
and ambiguous test samples are right about half the time: those are the hard ones.
An earlier measurement (ResNet-20, lr 0.1, batch 128, 10 epochs, one crop per batch) gave
0.786 with colour_jitter 0.12.
"""

import argparse
import json
import struct
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def read_dataset(path):
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    body = raw[8 + n :]
    meta = header.pop("__metadata__")
    dtypes = {"U8": np.uint8, "U32": np.uint32, "U64": np.uint64}
    tensors = {}
    for name, t in header.items():
        a, b = t["data_offsets"]
        tensors[name] = np.frombuffer(body[a:b], dtype=dtypes[t["dtype"]]).reshape(t["shape"])
    return tensors, meta


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.b1 = nn.BatchNorm2d(cout)
        self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.b2 = nn.BatchNorm2d(cout)
        self.short = None
        if stride != 1 or cin != cout:
            self.short = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = F.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return F.relu(y + (x if self.short is None else self.short(x)))


class ResNet(nn.Module):
    """A CIFAR ResNet-(6n+2): 3x3 stem, three stages of 16/32/64 channels with n basic blocks."""

    def __init__(self, classes, n):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        layers, cin = [], 16
        for cout, stride in [(16, 1), (32, 2), (64, 2)]:
            for i in range(n):
                layers.append(Block(cin, cout, stride if i == 0 else 1))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def generate(folder, seed, config):
    """Writes the stage's outputs into `folder` through the `synthetic_dump` example."""
    root = Path(__file__).resolve().parents[3]
    cmd = ["cargo", "run", "-q", "--release", "-p", "tmu-datasets", "--example", "synthetic_dump", "--"]
    subprocess.run(cmd + [str(folder), str(seed), config], cwd=root, check=True)


def augment(x):
    """Per-sample random crop (4-pixel zero padding) and horizontal flip."""
    n = len(x)
    padded = F.pad(x, (4, 4, 4, 4))
    dx, dy = torch.randint(0, 9, (n,)), torch.randint(0, 9, (n,))
    out = torch.stack([padded[i, :, dy[i] : dy[i] + 32, dx[i] : dx[i] + 32] for i in range(n)])
    flip = torch.rand(n) < 0.5
    return torch.where(flip.view(-1, 1, 1, 1), out.flip(3), out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", help="folder with train.safetensors and test.safetensors (else generated)")
    parser.add_argument("--seed", type=int, default=0, help="stage seed of the generated data")
    parser.add_argument("--config", default="", help="TOML body of the stage config, e.g. 'noise = 20.0'")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--blocks", type=int, default=1, help="blocks per stage: 1 = ResNet-8, 3 = ResNet-20")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads (may change the last digits)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    folder = args.data
    if folder is None:
        folder = tempfile.mkdtemp(prefix="synthetic-")
        generate(folder, args.seed, args.config)
    tr, meta = read_dataset(f"{folder}/train.safetensors")
    te, _ = read_dataset(f"{folder}/test.safetensors")
    mean = torch.tensor(json.loads(meta["tmu.mean"])).view(1, 3, 1, 1)
    std = torch.tensor(json.loads(meta["tmu.std"])).view(1, 3, 1, 1)
    classes = len(json.loads(meta["tmu.classes"]))
    norm = lambda u8: (torch.from_numpy(u8.astype(np.float32) / 255.0) - mean) / std
    xtr, ytr = norm(tr["images"]), torch.from_numpy(tr["labels"].astype(np.int64))
    xte, yte = norm(te["images"]), torch.from_numpy(te["labels"].astype(np.int64))
    dtr, dte = tr["labels.difficulty"], te["labels.difficulty"]
    model = ResNet(classes, args.blocks)
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    batch = 64
    steps = args.epochs * ((len(xtr) + batch - 1) // batch)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    start = time.time()
    for epoch in range(args.epochs):
        model.train()
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), batch):
            idx = perm[i : i + batch]
            loss = F.cross_entropy(model(augment(xtr[idx])), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        last = epoch + 1 == args.epochs
        model.eval()
        with torch.no_grad():
            pred = torch.cat([model(xte[i : i + 500]).argmax(1) for i in range(0, len(xte), 500)])
            ok = (pred == yte).numpy()
            line = f"epoch {epoch + 1}: loss {loss.item():.3f} test acc {ok.mean():.3f}"
            if last:
                train_pred = torch.cat([model(xtr[i : i + 500]).argmax(1) for i in range(0, len(xtr), 500)])
                tok = (train_pred == ytr).numpy()
                line += (
                    f" (clean {ok[dte == 0].mean():.3f}, ambiguous {ok[dte == 1].mean():.3f});"
                    f" train acc {tok.mean():.3f} (clean {tok[dtr == 0].mean():.3f},"
                    f" ambiguous {tok[dtr == 1].mean():.3f}, mislabelled {tok[dtr == 2].mean():.3f})"
                )
        print(f"{line} {time.time() - start:.0f} s", flush=True)
    print(f"RESULT seed {args.seed} config {args.config!r}: test accuracy {ok.mean():.3f}")


if __name__ == "__main__":
    main()
