"""Candle (tmu-nn ops) vs PyTorch: CIFAR ResNet-18 training-step throughput on this machine's CPU,
measured in the same run, alternating the two so that both see the same machine load.

    python3 crates/tmu-nn/benches/compare_train_step.py [--rounds 3] [--steps 5] [--warmup 2]
        [--batch 128] [--impl ops|zoo|candle] [--torch-threads N] [--no-build] [--profile]

Builds `cargo build --release -p tmu-nn --example bench_train_step` (unless --no-build), then
for each round runs the candle bench and `torch_resnet18.py` (PyTorch with its default thread
count unless --torch-threads) one after the other. Prints every run, the load average before it
(other work on the machine makes both slower, PyTorch usually more), and at the end the best and
the median images/s of each side and their ratios (candle / PyTorch).
"""

import argparse
import os
import re
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
IMG_S = re.compile(r"([0-9.]+) img/s")


def run(cmd):
    load = os.getloadavg()[0]
    out = subprocess.run(cmd, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    line = next(line for line in out.splitlines() if IMG_S.search(line))
    print(f"[load {load:4.1f}] {line}", flush=True)
    if "--profile" in cmd:
        for extra in out.splitlines():
            if extra.startswith("  "):
                print(extra, flush=True)
    return float(IMG_S.search(line).group(1))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--impl", default="ops", choices=["ops", "zoo", "candle"])
    ap.add_argument("--torch-threads", type=int, default=0, help="0: PyTorch's default")
    ap.add_argument("--no-build", action="store_true")
    ap.add_argument("--profile", action="store_true", help="print the candle per-kernel times")
    a = ap.parse_args()

    if not a.no_build:
        subprocess.run(["cargo", "build", "--release", "-p", "tmu-nn", "--example", "bench_train_step"], cwd=ROOT,
                       check=True)
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    candle = [os.path.join(target, "release", "examples", "bench_train_step"), "--impl", a.impl, "--batch",
              str(a.batch), "--steps", str(a.steps), "--warmup", str(a.warmup)] + (["--profile"] if a.profile else [])
    torch = [sys.executable, os.path.join(HERE, "torch_resnet18.py"), "cpu", str(a.batch), str(a.steps)]
    if a.torch_threads:
        torch.append(str(a.torch_threads))

    ours, theirs = [], []
    for r in range(a.rounds):
        print(f"round {r + 1}/{a.rounds}", flush=True)
        ours.append(run(candle))
        theirs.append(run(torch))
    best_c, best_t = max(ours), max(theirs)
    med_c, med_t = statistics.median(ours), statistics.median(theirs)
    print(f"candle-{a.impl}: best {best_c:.1f} img/s, median {med_c:.1f} img/s")
    print(f"pytorch:    best {best_t:.1f} img/s, median {med_t:.1f} img/s")
    print(f"ratio candle/pytorch: best {best_c / best_t:.2f}, median {med_c / med_t:.2f}")


if __name__ == "__main__":
    main()
