"""Writes the PyTorch reference values that tmu-nn's parity tests read (run by hand:
`python3 crates/tmu-nn/tests/reference/make_reference.py`; needs torch and numpy).

- `<case>.safetensors` for every architecture: PyTorch-initialised weights (`w.*`, batch-norm
  statistics randomised so that eval mode is exercised), an input batch `x` and labels `y`;
  eval-mode logits and features; train-mode logits, cross-entropy, gradients of every
  parameter (`grad.*`) and of the input (`grad_input`); and every weight after the train-mode
  forward and one SGD step (lr 0.1, momentum 0.9, Nesterov, weight decay 5e-4) (`after.*`).
- `optim.safetensors`: a parameter, three gradients, and the parameter after each step of
  SGD / SGD-momentum / Nesterov / Adam / AdamW (configs in the metadata, in tmu's JSON form).
- `loss.safetensors`: cross-entropy with and without label smoothing (value and gradient),
  per-sample cross-entropy, KL to a teacher, and f64 cross-entropy of confident logits.
- `schedule.json`: learning rates per step of StepLR, CosineAnnealingLR and OneCycleLR.
"""

import json
import os
from decimal import Decimal, getcontext

import numpy as np
import torch
import torch.nn.functional as F

import st
import torch_models

HERE = os.path.dirname(os.path.abspath(__file__))
torch.use_deterministic_algorithms(True)

CASES = [
    ("resnet18_cifar", {"arch": "resnet18", "stem": "cifar", "width": 2}, [3, 16, 16], 5, 4),
    ("resnet18_imagenet", {"arch": "resnet18", "stem": "imagenet", "width": 2}, [3, 32, 32], 5, 4),
    ("allcnn", {"arch": "allcnn", "width": 8, "batch_norm": True, "dropout": 0.0}, [3, 16, 16], 5, 4),
    (
        "vit",
        {"arch": "vit-tiny", "patch": 4, "dim": 24, "depth": 2, "heads": 3, "mlp_dim": 48, "dropout": 0.0},
        [3, 16, 16],
        5,
        4,
    ),
    ("small_cnn", {"arch": "small-cnn", "width": 4, "dropout": 0.0}, [1, 8, 8], 10, 6),
    ("mlp", {"arch": "mlp", "hidden": [16, 12], "dropout": 0.0}, [1, 8, 8], 10, 6),
]


def np32(t):
    """A copy (never a view: state_dict tensors change in place later) as f32, or as is for ints."""
    a = t.detach().cpu().numpy()
    return a.astype(np.float32) if t.dtype.is_floating_point else a.copy()


def model_case(seed, name, arch, shape, classes, batch):
    torch.manual_seed(seed)
    model = torch_models.build(arch, shape, classes)
    with torch.no_grad():
        for mod in model.modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.5, 0.5)
                mod.running_mean.normal_(0.0, 0.2)
                mod.running_var.uniform_(0.5, 2.0)
                mod.num_batches_tracked.fill_(3)
            if isinstance(mod, torch.nn.LayerNorm):
                mod.weight.uniform_(0.5, 1.5)
                mod.bias.uniform_(-0.5, 0.5)
    out = {f"w.{k}": np32(v) for k, v in model.state_dict().items()}
    x = torch.randn(batch, *shape)
    y = torch.randint(0, classes, (batch,))
    out["x"] = np32(x)
    out["y"] = y.numpy().astype(np.uint32)

    model.eval()
    with torch.no_grad():
        f, logits = model.forward_features(x)
    out["eval.features"] = np32(f)
    out["eval.logits"] = np32(logits)

    model.train()
    xv = x.clone().requires_grad_(True)
    f, logits = model.forward_features(xv)
    loss = F.cross_entropy(logits, y)
    loss.backward()
    out["train.features"] = np32(f)
    out["train.logits"] = np32(logits)
    out["train.loss"] = np.array([loss.item()], dtype=np.float32)
    out["grad_input"] = np32(xv.grad)
    for k, p in model.named_parameters():
        out[f"grad.{k}"] = np32(p.grad)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4)
    opt.step()
    for k, v in model.state_dict().items():
        out[f"after.{k}"] = np32(v)
    meta = {"arch_config": json.dumps(arch), "input_shape": json.dumps(shape), "classes": str(classes)}
    st.save(os.path.join(HERE, f"{name}.safetensors"), out, meta)


OPTIMS = [
    ("sgd", {"kind": "sgd", "lr": 0.1, "momentum": 0.0, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0}),
    ("sgd_momentum", {"kind": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.1, "nesterov": False, "weight_decay": 0.01}),
    ("sgd_nesterov", {"kind": "sgd", "lr": 0.1, "momentum": 0.9, "dampening": 0.0, "nesterov": True, "weight_decay": 5e-4}),
    ("adam", {"kind": "adam", "lr": 0.01, "beta1": 0.9, "beta2": 0.99, "eps": 1e-8, "weight_decay": 0.01}),
    ("adamw", {"kind": "adamw", "lr": 0.01, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8, "weight_decay": 0.1}),
]


def torch_optimizer(cfg, params):
    if cfg["kind"] == "sgd":
        return torch.optim.SGD(
            params,
            lr=cfg["lr"],
            momentum=cfg["momentum"],
            dampening=cfg["dampening"],
            nesterov=cfg["nesterov"],
            weight_decay=cfg["weight_decay"],
        )
    cls = torch.optim.Adam if cfg["kind"] == "adam" else torch.optim.AdamW
    return cls(params, lr=cfg["lr"], betas=(cfg["beta1"], cfg["beta2"]), eps=cfg["eps"], weight_decay=cfg["weight_decay"])


def optim_case():
    torch.manual_seed(100)
    p0 = torch.randn(3, 4)
    grads = torch.randn(3, 3, 4)
    out = {"p0": np32(p0), "grads": np32(grads)}
    meta = {}
    for name, cfg in OPTIMS:
        p = torch.nn.Parameter(p0.clone())
        opt = torch_optimizer(cfg, [p])
        for t in range(3):
            p.grad = grads[t].clone()
            opt.step()
            out[f"{name}.p{t + 1}"] = np32(p)
        meta[name] = json.dumps(cfg)
    st.save(os.path.join(HERE, "optim.safetensors"), out, meta)


def loss_case():
    torch.manual_seed(200)
    logits = torch.randn(5, 4) * 3
    y = torch.tensor([0, 3, 1, 1, 2])
    teacher = torch.randn(5, 4) * 2
    out = {"logits": np32(logits), "y": y.numpy().astype(np.uint32), "teacher": np32(teacher)}
    for name, eps in [("ce", 0.0), ("ce_smooth", 0.1)]:
        lv = logits.clone().requires_grad_(True)
        loss = F.cross_entropy(lv, y, label_smoothing=eps)
        loss.backward()
        out[f"{name}.value"] = np.array([loss.item()], dtype=np.float32)
        out[f"{name}.grad"] = np32(lv.grad)
    out["per_sample"] = np32(F.cross_entropy(logits, y, reduction="none"))
    t = 2.0
    kl = F.kl_div(F.log_softmax(logits / t, 1), F.log_softmax(teacher / t, 1), log_target=True, reduction="none")
    out["kl_t2"] = np32(kl.sum(1))
    # Confident logits: the loss is far below f32's resolution of logsumexp - l_y.
    confident = torch.tensor([[20.0, 8.0, 7.5, -3.0], [1.0, 25.0, 10.0, 9.0], [3.0, 2.0, 1.0, 0.5]])
    cy = torch.tensor([0, 1, 2])
    out["confident.logits"] = np32(confident)
    out["confident.y"] = cy.numpy().astype(np.uint32)
    # 50-digit decimal arithmetic: ln(sum_k exp(l_k)) - l_y, independent of f64 rounding.
    getcontext().prec = 50
    exact = []
    for row, label in zip(confident.tolist(), cy.tolist()):
        lse = sum(Decimal(v).exp() for v in row).ln()
        exact.append(float(lse - Decimal(row[label])))
    out["confident.ce_f64"] = np.array(exact, dtype=np.float64)
    st.save(os.path.join(HERE, "loss.safetensors"), out)


def schedule_case():
    total, per_epoch, lr = 20, 5, 0.1

    def run(make):
        p = torch.nn.Parameter(torch.zeros(1))
        opt = torch.optim.SGD([p], lr=lr)
        sched = make(opt)
        lrs = []
        for step in range(total):
            lrs.append(opt.param_groups[0]["lr"])
            opt.step()
            if make is step_lr:
                if (step + 1) % per_epoch == 0:
                    sched.step()
            else:
                sched.step()
        return lrs

    def step_lr(opt):
        return torch.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)

    out = {
        "total_steps": total,
        "steps_per_epoch": per_epoch,
        "lr": lr,
        "step": {"schedule": {"kind": "step", "every": 2, "gamma": 0.5}, "lrs": run(step_lr)},
        "cosine": {
            "schedule": {"kind": "cosine", "min_lr": 0.001},
            "lrs": run(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=total, eta_min=0.001)),
        },
        "one-cycle": {
            "schedule": {"kind": "one-cycle", "pct_start": 0.3, "div_factor": 25.0, "final_div_factor": 1e4},
            "lrs": run(
                lambda o: torch.optim.lr_scheduler.OneCycleLR(
                    o, max_lr=lr, total_steps=total, pct_start=0.3, div_factor=25.0, final_div_factor=1e4,
                    cycle_momentum=False,
                )
            ),
        },
    }
    with open(os.path.join(HERE, "schedule.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    for i, case in enumerate(CASES):
        model_case(10 + i, *case)
    optim_case()
    loss_case()
    schedule_case()
    print("wrote reference values to", HERE)
