"""Writes the GPU check's one summary (markdown) from what
run.sh left in OUT: status.tsv (one line per step), libraries.txt, parity/<test>.log (every check
line `<what>: max abs error E (magnitude M, tolerance T)`), bench.log (tmu-nn's and PyTorch's
training-step lines) and, with --pipeline, pipeline.tsv. Packed by `cargo xtask gpu-check`."""
import os
import re
import sys

OUT = sys.argv[1]
# The speed targets against PyTorch eager at the same batch and tier.
TARGETS = {"f32": 1.0, "tf32": 1.0, "bf16": 0.8}
TORCH_TIER = {"fp32": "f32", "tf32": "tf32", "bf16-cl": "bf16"}


def read(name):
    path = os.path.join(OUT, name)
    return open(path, errors="replace").read() if os.path.exists(path) else ""


print("# GPU check summary\n")
print("## Steps\n")
print("| step | result |\n|---|---|")
for line in read("status.tsv").splitlines():
    step, _, result = line.partition("\t")
    print(f"| {step} | {result} |")

print("\n## Libraries\n\n```")
print(read("libraries.txt").rstrip())
print("```")

print("\n## Parity against the CPU (error: max abs error, or per-layer gradient error relative to its norm)\n")
print("| test | check | error | tolerance | result |\n|---|---|---|---|---|")
check = re.compile(
    r"^(.*?):? (?:max abs error|relative error) ([0-9.eE+-]+|NaN|inf) \((?:magnitude|norm) ([0-9.eE+-]+|NaN|inf), tolerance ([0-9.eE+-]+)\)"
)
pdir = os.path.join(OUT, "parity")
for name in sorted(os.listdir(pdir)) if os.path.isdir(pdir) else []:
    if not name.endswith(".log") or name.endswith(".blocking.log"):
        continue
    test = name[: -len(".log")]
    rows = 0
    text = open(os.path.join(pdir, name), errors="replace").read()
    for line in text.splitlines():
        m = check.match(line)
        if m:
            err, tol = float(m[2]), float(m[4])
            print(f"| {test} | {m[1]} | {err:.2e} | {tol:.1e} | {'pass' if err <= tol else 'FAIL'} |")
            rows += 1
    panic = re.search(r"panicked at .*\n(.*)", text)
    if panic:
        print(f"| {test} | panic | | | FAIL: {panic[1].strip()[:200]} |")
    elif rows == 0:
        print(f"| {test} | (no check lines) | | | {'see log' if 'test result: ok' not in text else 'pass'} |")

print("\n## Training step, CIFAR ResNet-18 (images/s; ratio = tmu-nn / PyTorch eager, same batch and tier)\n")
ours, torch = {}, {}
for line in read("bench.log").splitlines():
    m = re.match(r"candle-(\w+) cuda (\w+) batch=(\d+) .*?([0-9.]+) img/s \(([0-9.]+) ms/step", line)
    if m and ": forward" not in line:
        ours[(m[1], m[2], int(m[3]))] = float(m[4])
    m = re.match(r"torch cuda (\S+) batch=(\d+) .*?([0-9.]+) img/s", line)
    if m and m[1] in TORCH_TIER:
        torch[(TORCH_TIER[m[1]], int(m[2]))] = float(m[3])
print("| tier | batch | tmu ops | tmu zoo | PyTorch | ops ratio | zoo ratio | target | met |")
print("|---|---|---|---|---|---|---|---|---|")
for b in sorted({k[2] for k in ours} | {k[1] for k in torch}):
    for tier in ("f32", "tf32", "bf16"):
        o, z, t = ours.get(("ops", tier, b)), ours.get(("zoo", tier, b)), torch.get((tier, b))
        f = lambda v: f"{v:.0f}" if v else "-"
        r = lambda v: f"{v / t:.2f}x" if v and t else "-"
        best = max(o or 0, z or 0)
        met = ("yes" if best / t >= TARGETS[tier] else "NO") if best and t else "-"
        print(f"| {tier} | {b} | {f(o)} | {f(z)} | {f(t)} | {r(o)} | {r(z)} | {TARGETS[tier]:.1f}x | {met} |")
phases = [l for l in read("bench.log").splitlines() if ": forward" in l]
if phases:
    print("\nPhases (a sync after each):\n\n```\n" + "\n".join(phases) + "\n```")

errs = read("bench.err").strip().splitlines()
if errs:
    print("\n## bench.err (last 20 lines)\n\n```\n" + "\n".join(errs[-20:]) + "\n```")
