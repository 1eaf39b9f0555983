"""Measures how hard `dataset.synthetic` is: trains a small CIFAR ResNet (PyTorch) on its train
output and reports test accuracy, overall and by the `difficulty` column.

Run by hand, on the two artifacts of a `dataset.synthetic` stage:
    python3 synthetic_accuracy.py <folder with train.safetensors and test.safetensors> [epochs]
It reads the safetensors files directly (no `safetensors` package needed). The network is a
ResNet-20-style model (3x3 stem, three stages of 16/32/64 channels, 3 basic blocks each),
trained with SGD (lr 0.1, momentum 0.9, wd 5e-4, cosine schedule), batch 128, random crops
with 4-pixel padding and horizontal flips, inputs normalised with the artifact's mean/std.

Measured on the default `dataset.synthetic` (5,000 / 1,000 images, generated with stage seed 0
by the in-process test harness), 10 epochs on 2 busy CPU cores (about 30 minutes):
    epoch 10: train acc 0.741, test acc 0.786 (clean 0.816, ambiguous 0.489)
still rising; train accuracy stays below test accuracy because 3% of the training labels are
wrong and the model does not yet memorise them.
"""

import json
import struct
import sys
import time

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


class ResNet20(nn.Module):
    def __init__(self, classes):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        layers, cin = [], 16
        for cout, stride in [(16, 1), (32, 2), (64, 2)]:
            for i in range(3):
                layers.append(Block(cin, cout, stride if i == 0 else 1))
                cin = cout
        self.layers = nn.Sequential(*layers)
        self.fc = nn.Linear(64, classes)

    def forward(self, x):
        x = self.layers(self.stem(x))
        return self.fc(F.adaptive_avg_pool2d(x, 1).flatten(1))


def main():
    folder = sys.argv[1]
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 15
    torch.manual_seed(0)
    tr, meta = read_dataset(f"{folder}/train.safetensors")
    te, _ = read_dataset(f"{folder}/test.safetensors")
    mean = torch.tensor(json.loads(meta["tmu.mean"])).view(1, 3, 1, 1)
    std = torch.tensor(json.loads(meta["tmu.std"])).view(1, 3, 1, 1)
    classes = len(json.loads(meta["tmu.classes"]))
    norm = lambda u8: (torch.from_numpy(u8.astype(np.float32) / 255.0) - mean) / std
    xtr, ytr = norm(tr["images"]), torch.from_numpy(tr["labels"].astype(np.int64))
    xte, yte = norm(te["images"]), torch.from_numpy(te["labels"].astype(np.int64))
    dte = te["labels.difficulty"]
    model = ResNet20(classes)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    steps = epochs * ((len(xtr) + 127) // 128)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
    start = time.time()
    for epoch in range(epochs):
        model.train()
        perm = torch.randperm(len(xtr))
        for i in range(0, len(xtr), 128):
            idx = perm[i : i + 128]
            x = F.pad(xtr[idx], (4, 4, 4, 4), mode="reflect")
            dx, dy = np.random.randint(0, 9, 2)
            x = x[:, :, dy : dy + 32, dx : dx + 32]
            if np.random.rand() < 0.5:
                x = x.flip(3)
            loss = F.cross_entropy(model(x), ytr[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
        model.eval()
        with torch.no_grad():
            pred = torch.cat([model(xte[i : i + 500]).argmax(1) for i in range(0, len(xte), 500)])
            train_pred = torch.cat([model(xtr[i : i + 500]).argmax(1) for i in range(0, len(xtr), 500)])
        ok = (pred == yte).numpy()
        print(
            f"epoch {epoch + 1}: loss {loss.item():.3f} train acc {(train_pred == ytr).float().mean():.3f} "
            f"test acc {ok.mean():.3f} (clean {ok[dte == 0].mean():.3f}, ambiguous {ok[dte == 1].mean():.3f}) "
            f"{time.time() - start:.0f} s",
            flush=True,
        )


if __name__ == "__main__":
    main()
