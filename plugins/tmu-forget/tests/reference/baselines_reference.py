"""Reference values for tests/it/baselines.rs: the numerics of the baselines NegGrad+, SCRUB,
SalUn, l1-sparse, SSD, MSG and CT computed with PyTorch on a tiny MLP with fixed weights.

Run by hand from this folder (`python3 baselines_reference.py`, PyTorch 2.x); it rewrites
baselines.json, which the Rust test reads. Everything is computed in float64 from inputs that are
exact in float32. Each method is written here from its paper and the public code it names, not
copied from either:

- NegGrad+ (RUM repository, unlearn/neggrad.py): per step alpha * CE(retain batch) - (1 - alpha)
  * CE(forget batch), SGD with momentum and weight decay; two steps.
- SCRUB (SCRUB repository, small_scale_unlearning.ipynb and helper/KD.py): distillation term
  sum KL(softmax(t/T) || softmax(s/T)) * T^2 / B; one max step (-KL on a forget batch) then one
  min step (gamma * CE + beta * KL on a retain batch), Adam with L2 weight decay; the per-epoch
  learning rate lr * rate^(number of decay epochs the 1-based epoch exceeds).
- SalUn (Unlearn-Saliency repository, Classification/generate_mask.py and unlearn/RL.py): the
  gradient of -CE summed over the forget batches, its absolute value ranked over all weights,
  the top floor(fraction * total) salient; one SGD step on random labels whose gradient is
  multiplied by the mask, after which non-salient weights are set back.
- l1-sparse (Unlearn-Sparse repository, unlearn/FT.py): CE + alpha * (1 - e / E) * ||theta||_1,
  one SGD step at epoch e = 1 of E = 3.
- SSD (selective-synaptic-dampening repository, src/ssd.py): importance = mean over batches of
  the squared gradient of the batch-mean CE, on D = D_r then D_f unshuffled and on D_f; where
  I_f > alpha * I_D the weight is multiplied by min(lambda * I_D / I_f, 1).
- MSG (DeepUnlearn repository, munl/unlearning/kgltop2.py): G = sum of grad CE over retain
  batches - sum of grad CE over forget batches; per weight matrix the round(rate * n) entries
  with the smallest |G| (Python's round: ties to even); one SGD step whose gradient is
  multiplied by 1 on those entries and 0.1 elsewhere (the code's Masker); the per-epoch
  learning-rate factor of its linear warm-up and decay, from a PyTorch LRScheduler written here
  from its description.
- CT (DeepUnlearn repository, munl/unlearning/kgltop5.py): the per-epoch factors of PyTorch's
  own CosineAnnealingLR(T_max = epochs).

The MLP: input 1x2x2 (4 pixels), normalised as (pixel / 255 - 0.5) / 0.25, hidden layer of 3
(ReLU), 3 classes; PyTorch names hidden.0.weight, hidden.0.bias, head.weight, head.bias.
"""

import json
import math

import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)

NAMES = ["hidden.0.weight", "hidden.0.bias", "head.weight", "head.bias"]
W0 = {
    "hidden.0.weight": torch.tensor([
        [0.5, -0.25, 0.125, 0.75],
        [-0.375, 0.625, 0.25, -0.5],
        [0.25, 0.125, -0.625, 0.375],
    ]),
    "hidden.0.bias": torch.tensor([0.125, -0.0625, 0.25]),
    "head.weight": torch.tensor([
        [0.75, -0.5, 0.25],
        [-0.25, 0.625, -0.375],
        [0.5, 0.25, 0.875],
    ]),
    "head.bias": torch.tensor([0.0625, -0.125, 0.03125]),
}
# u8 images (4 pixels each) and labels.
RETAIN_U8 = [[10, 200, 30, 90], [250, 5, 128, 64], [77, 180, 20, 220], [130, 130, 10, 40], [0, 255, 255, 0], [60, 90, 160, 30]]
RETAIN_Y = [0, 1, 2, 0, 1, 2]
FORGET_U8 = [[220, 40, 100, 10], [35, 160, 240, 80], [140, 20, 60, 200]]
FORGET_Y = [0, 0, 0]


def normalise(rows):
    return (torch.tensor(rows, dtype=torch.float64) / 255.0 - 0.5) / 0.25


XR, YR = normalise(RETAIN_U8), torch.tensor(RETAIN_Y)
XF, YF = normalise(FORGET_U8), torch.tensor(FORGET_Y)


def params(w=None):
    return {n: (W0 if w is None else w)[n].clone().requires_grad_(True) for n in NAMES}


def forward(p, x):
    h = torch.relu(x @ p["hidden.0.weight"].T + p["hidden.0.bias"])
    return h @ p["head.weight"].T + p["head.bias"]


def plain(p):
    return {n: p[n].detach().flatten().tolist() for n in NAMES}


def sgd(p, lr, momentum, wd):
    return torch.optim.SGD([p[n] for n in NAMES], lr=lr, momentum=momentum, weight_decay=wd)


def distill_kl(s, t, temp):
    # KL(p_t || p_s) summed over batch and classes, times T^2 / B.
    log_ps = F.log_softmax(s / temp, dim=1)
    pt = F.softmax(t / temp, dim=1)
    return (pt * (torch.log(pt) - log_ps)).sum() * temp * temp / s.shape[0]


def grads_of(p, loss):
    for n in NAMES:
        p[n].grad = None
    loss.backward()
    return {n: p[n].grad.detach().clone() for n in NAMES}


out = {
    "weights": plain(params()),
    "shapes": {n: list(W0[n].shape) for n in NAMES},
    "retain_u8": RETAIN_U8, "retain_y": RETAIN_Y, "forget_u8": FORGET_U8, "forget_y": FORGET_Y,
}

# --- NegGrad+: two steps, retain batches [0,1,2] / [3,4,5], forget batches [0,1] / [2].
alpha = 0.9
p = params()
opt = sgd(p, 0.1, 0.9, 5e-4)
losses = []
for r, f in [([0, 1, 2], [0, 1]), ([3, 4, 5], [2])]:
    opt.zero_grad()
    loss = alpha * F.cross_entropy(forward(p, XR[r]), YR[r]) - (1 - alpha) * F.cross_entropy(forward(p, XF[f]), YF[f])
    loss.backward()
    opt.step()
    losses.append(loss.item())
out["neggrad_plus"] = {"alpha": alpha, "lr": 0.1, "momentum": 0.9, "weight_decay": 5e-4,
                       "retain": [[0, 1, 2], [3, 4, 5]], "forget": [[0, 1], [2]],
                       "losses": losses, "weights": plain(p)}

# --- SCRUB: one max step on forget [0,1,2], one min step on retain [0,1,2,3]; Adam lr 0.01, wd 0.1.
temp, gamma, beta = 2.0, 1.0, 0.5
teacher = params()
p = params()
opt = torch.optim.Adam([p[n] for n in NAMES], lr=0.01, weight_decay=0.1)
with torch.no_grad():
    t_f, t_r = forward(teacher, XF[[0, 1, 2]]), forward(teacher, XR[[0, 1, 2, 3]])
opt.zero_grad()
max_loss = -distill_kl(forward(p, XF[[0, 1, 2]]), t_f, temp)
max_loss.backward()
opt.step()
opt.zero_grad()
s = forward(p, XR[[0, 1, 2, 3]])
min_loss = gamma * F.cross_entropy(s, YR[[0, 1, 2, 3]]) + beta * distill_kl(s, t_r, temp)
min_loss.backward()
opt.step()


def scrub_lr(lr, decay, rate, epoch1):
    return lr * rate ** sum(1 for d in decay if epoch1 > d)


out["scrub"] = {"temperature": temp, "gamma": gamma, "beta": beta, "lr": 0.01, "weight_decay": 0.1,
                "forget": [0, 1, 2], "retain": [0, 1, 2, 3],
                "max_loss": max_loss.item(), "min_loss": min_loss.item(), "weights": plain(p),
                "lr_schedule": [scrub_lr(5e-4, [5, 8, 9], 0.1, e + 1) for e in range(10)]}

# --- SalUn: mask from the forget set in batches of 2 ([0,1], [2]), fraction 0.5; then one masked
# SGD step on forget [0,1] with the random labels [2, 1].
p = params()
total_grad = {n: torch.zeros_like(W0[n]) for n in NAMES}
for b in [[0, 1], [2]]:
    g = grads_of(p, -F.cross_entropy(forward(p, XF[b]), YF[b]))
    for n in NAMES:
        total_grad[n] += g[n]
flat = torch.cat([total_grad[n].abs().flatten() for n in NAMES])
keep = math.floor(0.5 * flat.numel())
order = torch.argsort(-flat, stable=True)
assert flat[order[keep - 1]] > flat[order[keep]], "a tie at the saliency threshold"
mask_flat = torch.zeros_like(flat)
mask_flat[order[:keep]] = 1.0
mask, at = {}, 0
for n in NAMES:
    k = W0[n].numel()
    mask[n] = mask_flat[at:at + k].reshape(W0[n].shape)
    at += k
p = params()
opt = sgd(p, 0.1, 0.9, 5e-4)
opt.zero_grad()
F.cross_entropy(forward(p, XF[[0, 1]]), torch.tensor([2, 1])).backward()
with torch.no_grad():
    for n in NAMES:
        p[n].grad *= mask[n]
opt.step()
with torch.no_grad():
    for n in NAMES:
        p[n].copy_(mask[n] * p[n] + (1 - mask[n]) * W0[n])
out["salun"] = {"fraction": 0.5, "batch_size": 2, "mask": {n: mask[n].flatten().tolist() for n in NAMES},
                "step_forget": [0, 1], "step_labels": [2, 1], "weights": plain(p)}

# --- l1-sparse: one SGD step at epoch 1 of 3 on retain [0,1,2,3], alpha 0.01.
l1_alpha, epoch, epochs = 0.01, 1, 3
p = params()
opt = sgd(p, 0.1, 0.9, 5e-4)
opt.zero_grad()
weight = l1_alpha * (1 - epoch / epochs)
l1 = torch.linalg.norm(torch.cat([p[n].flatten() for n in NAMES]), ord=1)
loss = F.cross_entropy(forward(p, XR[[0, 1, 2, 3]]), YR[[0, 1, 2, 3]]) + weight * l1
loss.backward()
opt.step()
out["l1_sparse"] = {"alpha": l1_alpha, "epoch": epoch, "epochs": epochs, "retain": [0, 1, 2, 3],
                    "l1_weight": weight, "loss": loss.item(), "weights": plain(p)}


# --- SSD: importances on D = retain + forget (unshuffled, batches of 4: 4, 4, 1) and on the
# forget set (one batch of 3); dampening with lambda 1, alpha 1.5.
def importance(x, y, batch):
    p = params()
    acc = {n: torch.zeros_like(W0[n]) for n in NAMES}
    chunks = [list(range(i, min(i + batch, len(y)))) for i in range(0, len(y), batch)]
    for c in chunks:
        g = grads_of(p, F.cross_entropy(forward(p, x[c]), y[c]))
        for n in NAMES:
            acc[n] += g[n] ** 2
    return {n: acc[n] / len(chunks) for n in NAMES}


lam, sel = 1.0, 1.5
imp_d = importance(torch.cat([XR, XF]), torch.cat([YR, YF]), 4)
imp_f = importance(XF, YF, 4)
damp, chosen = {}, 0
for n in NAMES:
    where = imp_f[n] > sel * imp_d[n]
    factor = torch.clamp(lam * imp_d[n] / torch.where(where, imp_f[n], torch.ones_like(imp_f[n])), max=1.0)
    damp[n] = torch.where(where, W0[n] * factor, W0[n])
    chosen += int(where.sum())
assert 0 < chosen < sum(W0[n].numel() for n in NAMES), chosen
out["ssd"] = {"lambda": lam, "alpha": sel, "batch_size": 4,
              "importance_full": {n: imp_d[n].flatten().tolist() for n in NAMES},
              "importance_forget": {n: imp_f[n].flatten().tolist() for n in NAMES},
              "dampened": chosen, "weights": {n: damp[n].flatten().tolist() for n in NAMES}}

# --- MSG: G from retain positions [1,4,5] in batches of 2 and the forget set in batches of 2;
# per weight matrix round(0.3 n) smallest |G|; one SGD step on retain [0,1,2,3] with gradient
# factors 1 (picked) / 0.1 (other entries of a weight matrix), biases untouched.
p = params()
G = {n: torch.zeros_like(W0[n]) for n in NAMES}
for b in [[1, 4], [5]]:
    g = grads_of(p, F.cross_entropy(forward(p, XR[b]), YR[b]))
    for n in NAMES:
        G[n] += g[n]
for b in [[0, 1], [2]]:
    g = grads_of(p, F.cross_entropy(forward(p, XF[b]), YF[b]))
    for n in NAMES:
        G[n] -= g[n]
picked, factors = {}, {}
for n in ["hidden.0.weight", "head.weight"]:
    m = G[n].abs().flatten()
    k = round(0.3 * m.numel())
    order = torch.argsort(m, stable=True)
    assert m[order[k - 1]] < m[order[k]], "a tie at the MSG threshold"
    picked[n] = sorted(order[:k].tolist())
    f = torch.full_like(m, 0.1)
    f[picked[n]] = 1.0
    factors[n] = f.reshape(W0[n].shape)
p = params()
opt = sgd(p, 0.1, 0.9, 5e-4)
opt.zero_grad()
F.cross_entropy(forward(p, XR[[0, 1, 2, 3]]), YR[[0, 1, 2, 3]]).backward()
with torch.no_grad():
    for n in factors:
        p[n].grad *= factors[n]
opt.step()


class LinearUpDown(torch.optim.lr_scheduler.LRScheduler):
    """Rises linearly to the base rate over `up` steps, then falls linearly to 0 at `total`."""

    def __init__(self, optimizer, up, total):
        self.up, self.total = up, total
        super().__init__(optimizer)

    def get_lr(self):
        k = self._step_count
        f = k / self.up if k <= self.up else (self.total - k) / (self.total - self.up)
        return [b * f for b in self.base_lrs]


def per_epoch_factors(make, epochs):
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0)
    sched = make(opt)
    factors = []
    for _ in range(epochs):
        factors.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return factors


out["msg"] = {"rate": 0.3, "retain": [1, 4, 5], "forget_batch": 2, "G": {n: G[n].flatten().tolist() for n in NAMES},
              "picked": picked, "step_retain": [0, 1, 2, 3], "weights": plain(p),
              "lr_factors": {str(e): per_epoch_factors(lambda o, e=e: LinearUpDown(o, (e + 1) // 2, e + 1), e)
                             for e in [1, 4, 5, 10]}}
out["ct"] = {"lr_factors": {str(e): per_epoch_factors(
    lambda o, e=e: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=e), e) for e in [1, 3, 10]}}

with open("baselines.json", "w") as f:
    json.dump(out, f, indent=1)
print("wrote baselines.json")
