"""The user's side of pipelines/own-model.toml: a small image folder, a ResNet-18 in torchvision's
layout (the CIFAR variant: 3x3 stem, no max-pool, `fc` replaced by a 3-class head) trained on it
in PyTorch and saved with torch.save(model.state_dict()), and a deletion request as a file list.
After the run, `check` reloads the unlearned model into the same module with
load_state_dict(strict=True) and reports accuracy before and after.

    python3 scripts/own_model_demo.py make [--width 64] [--out data/own-model]
    cargo xtask run pipelines/own-model.toml
    python3 scripts/own_model_demo.py check [--out data/own-model] [--runs runs/own-model]

Needs torch, numpy and Pillow. The images are seeded patterns (a class is a colour and a bar
orientation, plus noise), not photographs.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch
from PIL import Image

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "crates", "tmu-nn", "tests", "reference"))
import st  # noqa: E402
import torch_models  # noqa: E402

CLASSES = ["bars", "rings", "spots"]
MEAN, STD = [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]


def image(rng, k):
    y, x = np.mgrid[0:32, 0:32] / 31.0
    if k == 0:
        base = np.sin(x * rng.uniform(8, 12) + rng.uniform(0, 6))
    elif k == 1:
        base = np.sin(np.hypot(x - 0.5, y - 0.5) * rng.uniform(15, 25))
    else:
        base = np.sin(x * rng.uniform(6, 9)) * np.sin(y * rng.uniform(6, 9))
    colour = np.array([[0.9, 0.3, 0.3], [0.3, 0.9, 0.3], [0.3, 0.3, 0.9]])[k] * rng.uniform(0.6, 1.0)
    img = 0.5 + 0.4 * base[..., None] * colour + rng.normal(0, 0.25, (32, 32, 3))
    return (np.clip(img, 0, 1) * 255).astype(np.uint8)


def write_split(out, name, per_class, rng):
    for k, c in enumerate(CLASSES):
        os.makedirs(os.path.join(out, name, c), exist_ok=True)
        for i in range(per_class):
            Image.fromarray(image(rng, k)).save(os.path.join(out, name, c, f"{i:03d}.png"))


def load_split(out, name):
    xs, ys, files = [], [], []
    for k, c in enumerate(CLASSES):
        folder = os.path.join(out, name, c)
        for f in sorted(os.listdir(folder)):
            xs.append(np.asarray(Image.open(os.path.join(folder, f)).convert("RGB"), dtype=np.float32) / 255.0)
            ys.append(k)
            files.append(f"{c}/{f}")
    x = torch.from_numpy(np.stack(xs)).permute(0, 3, 1, 2)
    x = (x - torch.tensor(MEAN)[None, :, None, None]) / torch.tensor(STD)[None, :, None, None]
    return x, torch.tensor(ys), files


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return float((model.forward_features(x)[1].argmax(1) == y).float().mean())


def make(args):
    rng = np.random.default_rng(14)
    write_split(args.out, "train", 40, rng)
    write_split(args.out, "test", 20, rng)
    write_split(args.out, "holdout", 20, rng)
    torch.manual_seed(14)
    model = torch_models.build({"arch": "resnet18", "stem": "cifar", "width": args.width}, [3, 32, 32], len(CLASSES))
    x, y, files = load_split(args.out, "train")
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=5e-4)
    for _ in range(args.epochs):
        model.train()
        for idx in torch.randperm(len(y)).split(32):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model.forward_features(x[idx])[1], y[idx]).backward()
            opt.step()
    torch.save(model.state_dict(), os.path.join(args.out, "model.pt"))
    # The deletion request: the first 8 images of `rings`.
    request = [f for f in files if f.startswith("rings/")][:8]
    with open(os.path.join(args.out, "forget.txt"), "w") as fh:
        fh.write("# deletion request: files relative to the image folder\n" + "\n".join(request) + "\n")
    with open(os.path.join(args.out, "arch.json"), "w") as fh:
        json.dump({"arch": "resnet18", "stem": "cifar", "width": args.width}, fh)
    xt, yt, _ = load_split(args.out, "test")
    print(f"trained: train accuracy {accuracy(model, x, y):.4f}, test accuracy {accuracy(model, xt, yt):.4f}")


def check(args):
    arch = json.load(open(os.path.join(args.out, "arch.json")))
    x, y, files = load_split(args.out, "train")
    xt, yt, _ = load_split(args.out, "test")
    request = {line.strip() for line in open(os.path.join(args.out, "forget.txt")) if line.strip() and not line.startswith("#")}
    forget = torch.tensor([f in request for f in files])
    before = torch_models.build(arch, [3, 32, 32], len(CLASSES))
    before.load_state_dict(torch.load(os.path.join(args.out, "model.pt")), strict=True)
    rows = [("original (model.pt)", before)]
    for method in args.methods.split(","):
        tensors, meta = st.load(os.path.join(args.runs, method, "model.safetensors"))
        module = torch_models.build(arch, [3, 32, 32], len(CLASSES))
        module.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in tensors.items()}, strict=True)
        rows.append((f"{method} (strict=True)", module))
    for name, m in rows:
        print(f"{name}: forget {accuracy(m, x[forget], y[forget]):.4f}, retain {accuracy(m, x[~forget], y[~forget]):.4f}, "
              f"test {accuracy(m, xt, yt):.4f}")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("what", choices=["make", "check"])
    p.add_argument("--out", default="data/own-model")
    p.add_argument("--runs", default="runs/own-model")
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--methods", default="tmu,finetune,neggrad_plus,scrub,salun")
    args = p.parse_args()
    make(args) if args.what == "make" else check(args)


if __name__ == "__main__":
    main()
