"""Reference values for tests/it/losses.rs: the unlearning losses of tmu-forget computed with PyTorch.

Run by hand from this folder (`python3 losses_reference.py`); it rewrites losses.json, which the
Rust test reads. Everything is computed in float64 from inputs that are exact in float32.

- TMU, random-label: F.cross_entropy(logits, targets) where hard rows carry a wrong label.
- TMU, bounded ascent: mean over rows of (1 - h) * CE(logits, y) + h * (-lam * clamp(CE, max=ln K)).
- NegGrad: mean CE over retain rows - alpha * mean CE over forget rows; bounded (the method
  spec's form): mean CE over retain rows - alpha * mean over forget rows of min(CE, ln K).
- Bad teacher: the authors' UnlearnerLoss (bad-teaching-unlearning/unlearn.py):
  F.kl_div(log_softmax(s / T), f * softmax(u / T) + (1 - f) * softmax(c / T)), reduction "mean"
  (their default) and "batchmean".
Each case stores the loss and its gradient with respect to the (student) logits.
"""

import json
import math

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

# Fixed inputs, exactly representable in float32 (multiples of 1/8).
logits = torch.tensor([
    [2.0, -1.0, 0.5, 0.25],
    [0.125, 3.0, -2.0, 1.0],
    [-0.5, 0.75, 4.0, -1.5],    # hard, confident: CE small  -> the ascent term is active
    [1.5, 1.25, -0.375, 0.0],
    [-3.0, 2.5, 1.0, -0.25],    # hard, label 0 badly wrong: CE > ln 4 -> the bound cuts the gradient
    [0.0, 0.0, 0.0, 0.625],
])
labels = torch.tensor([0, 1, 2, 3, 0, 2])
hard = torch.tensor([0.0, 0.0, 1.0, 0.0, 1.0, 0.0])
wrong = torch.tensor([0, 1, 1, 3, 3, 2])          # targets: the hard rows carry a wrong label
forget = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0, 0.0])
competent = torch.tensor([
    [3.0, 0.0, -1.0, 0.5],
    [0.0, 2.0, 0.25, -0.5],
    [-1.0, 0.5, 2.5, 0.0],
    [0.75, 0.0, 0.0, 1.25],
    [1.0, 1.5, -0.5, 0.0],
    [-0.25, 0.0, 1.75, 0.5],
])
incompetent = torch.tensor([
    [0.125, -0.25, 0.0, 0.375],
    [0.5, 0.0, -0.125, 0.25],
    [0.0, 0.25, 0.125, -0.375],
    [-0.5, 0.125, 0.25, 0.0],
    [0.25, -0.125, 0.5, 0.0],
    [0.0, 0.375, -0.25, 0.125],
])
K = logits.shape[1]


def with_grad(fn):
    x = logits.clone().requires_grad_(True)
    loss = fn(x)
    loss.backward()
    return {"loss": loss.item(), "grad": x.grad.flatten().tolist()}


def tmu_random_label(x):
    return F.cross_entropy(x, wrong)


def tmu_ascent(lam):
    def f(x):
        ce = F.cross_entropy(x, labels, reduction="none")
        return ((1 - hard) * ce + hard * (-lam * torch.clamp(ce, max=math.log(K)))).mean()
    return f


def neggrad(alpha):
    def f(x):
        ce = F.cross_entropy(x, labels, reduction="none")
        r = 1 - forget
        return (ce * r).sum() / r.sum() - alpha * (ce * forget).sum() / forget.sum()
    return f


def neggrad_bounded(alpha):
    def f(x):
        ce = F.cross_entropy(x, labels, reduction="none")
        r = 1 - forget
        bounded = torch.clamp(ce, max=math.log(K))
        return (ce * r).sum() / r.sum() - alpha * (bounded * forget).sum() / forget.sum()
    return f


def bad_teacher(t, reduction):
    def f(x):
        fm = forget.unsqueeze(1)
        teacher = fm * F.softmax(incompetent / t, dim=1) + (1 - fm) * F.softmax(competent / t, dim=1)
        return F.kl_div(F.log_softmax(x / t, dim=1), teacher, reduction=reduction)
    return f


ce_rows = F.cross_entropy(logits, labels, reduction="none")
assert ce_rows[2] < math.log(K) < ce_rows[4], ce_rows

out = {
    "logits": logits.flatten().tolist(),
    "shape": list(logits.shape),
    "labels": labels.tolist(),
    "hard": hard.tolist(),
    "wrong": wrong.tolist(),
    "forget": forget.tolist(),
    "competent": competent.flatten().tolist(),
    "incompetent": incompetent.flatten().tolist(),
    "cases": {
        "tmu_random_label": with_grad(tmu_random_label),
        "tmu_ascent_1": with_grad(tmu_ascent(1.0)),
        "tmu_ascent_0.5": with_grad(tmu_ascent(0.5)),
        "neggrad_1": with_grad(neggrad(1.0)),
        "neggrad_0.7": with_grad(neggrad(0.7)),
        # Row 4 (a forget row) has CE > ln 4: bounded, it adds no gradient.
        "neggrad_bounded_1": with_grad(neggrad_bounded(1.0)),
        # A batch without forget rows: the ascent term is 0, the loss the plain mean CE.
        "neggrad_no_forget": with_grad(lambda x: F.cross_entropy(x, labels)),
        "bad_teacher_t1_mean": with_grad(bad_teacher(1.0, "mean")),
        "bad_teacher_t2_mean": with_grad(bad_teacher(2.0, "mean")),
        "bad_teacher_t1_batchmean": with_grad(bad_teacher(1.0, "batchmean")),
    },
}
with open("losses.json", "w") as fh:
    json.dump(out, fh, indent=1)
    fh.write("\n")
print(json.dumps({k: v["loss"] for k, v in out["cases"].items()}, indent=1))
