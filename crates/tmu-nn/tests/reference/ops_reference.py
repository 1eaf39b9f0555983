"""Writes `ops.json`, the PyTorch reference values of tmu-nn's fast ops (`tmu_nn::ops`), read by
`crates/tmu-nn/tests/it/ops_reference.rs`. Run by hand: `python3 crates/tmu-nn/tests/reference/ops_reference.py`
(needs torch).

Inputs are drawn in float32 from a seeded generator and stored; the references are then computed
by PyTorch in float64 from exactly those float32 values (so they are the exact answers up to
f64 rounding): forward outputs, and the gradients of `sum(out * r)` for a stored random `r`.

Cases:
- `conv*`: `F.conv2d` (stride, padding, optional bias): `y`, `dx`, `dw`, `db`.
- `bn*`: `F.batch_norm(training=True)` on a `BatchNorm2d`-like state (momentum 0.1, eps 1e-5),
  optionally followed by ReLU: `y`, batch mean, unbiased batch variance, the running statistics
  after the update, and `dx`, `dgamma`, `dbeta`.
- `bn_eval`: `F.batch_norm(training=False)` with given running statistics.
- `relu`, `add_relu`: outputs and gradients.
- `sgd*`: `torch.optim.SGD` on one parameter for three steps with stored gradients: the
  parameter after each step.
"""

import json
import os

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = torch.Generator().manual_seed(20261126)


def randn(*shape, scale=1.0):
    """A float32 normal sample, returned as float64 (the exact same values)."""
    return (torch.randn(*shape, generator=GEN, dtype=torch.float32) * scale).double()


def enc(t):
    t = t.detach().double().contiguous()
    return {"shape": list(t.shape), "data": [float(v) for v in t.reshape(-1).tolist()]}


def conv_case(b, ci, h, w, co, k, stride, padding, bias):
    x = randn(b, ci, h, w).requires_grad_()
    wt = randn(co, ci, k, k, scale=0.5).requires_grad_()
    bs = randn(co).requires_grad_() if bias else None
    y = F.conv2d(x, wt, bs, stride=stride, padding=padding)
    r = randn(*y.shape)
    grads = torch.autograd.grad((y * r).sum(), [x, wt] + ([bs] if bias else []))
    out = {"stride": stride, "padding": padding, "x": enc(x), "w": enc(wt), "r": enc(r), "y": enc(y)}
    out["dx"], out["dw"] = enc(grads[0]), enc(grads[1])
    if bias:
        out["b"], out["db"] = enc(bs), enc(grads[2])
    return out


def bn_case(b, c, h, w, relu):
    x = (randn(b, c, h, w) * 2.0 + 0.5).requires_grad_()
    gamma = (randn(c) * 0.5 + 1.0).requires_grad_()
    beta = randn(c).requires_grad_()
    rm0, rv0 = randn(c) * 0.1, randn(c).abs() + 0.5
    rm, rv = rm0.clone(), rv0.clone()
    y = F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=0.1, eps=1e-5)
    if relu:
        y = F.relu(y)
    r = randn(*y.shape)
    dx, dg, db = torch.autograd.grad((y * r).sum(), [x, gamma, beta])
    n = b * h * w
    mean = x.detach().mean(dim=(0, 2, 3))
    var_unbiased = x.detach().var(dim=(0, 2, 3), unbiased=True)
    return {
        "x": enc(x), "gamma": enc(gamma), "beta": enc(beta), "r": enc(r), "y": enc(y),
        "mean": enc(mean), "var_unbiased": enc(var_unbiased), "count": n,
        "running_mean0": enc(rm0), "running_var0": enc(rv0), "running_mean": enc(rm), "running_var": enc(rv),
        "dx": enc(dx), "dgamma": enc(dg), "dbeta": enc(db),
    }


def bn_eval_case(b, c, h, w):
    x = randn(b, c, h, w)
    gamma, beta = randn(c) * 0.5 + 1.0, randn(c)
    rm, rv = randn(c) * 0.1, randn(c).abs() + 0.5
    y = F.batch_norm(x, rm, rv, gamma, beta, training=False, eps=1e-5)
    return {"x": enc(x), "gamma": enc(gamma), "beta": enc(beta), "running_mean": enc(rm), "running_var": enc(rv),
            "y": enc(y)}


def relu_cases():
    x = randn(2, 3, 4, 5).requires_grad_()
    y = F.relu(x)
    r = randn(*y.shape)
    (dx,) = torch.autograd.grad((y * r).sum(), [x])
    a, b = randn(2, 3, 3, 3).requires_grad_(), randn(2, 3, 3, 3).requires_grad_()
    z = F.relu(a + b)
    rz = randn(*z.shape)
    da, db = torch.autograd.grad((z * rz).sum(), [a, b])
    return (
        {"x": enc(x), "r": enc(r), "y": enc(y), "dx": enc(dx)},
        {"a": enc(a), "b": enc(b), "r": enc(rz), "y": enc(z), "da": enc(da), "db": enc(db)},
    )


def sgd_case(lr, momentum, weight_decay, dampening, nesterov):
    p0 = randn(3, 4)
    grads = [randn(3, 4) for _ in range(3)]
    p = torch.nn.Parameter(p0.clone())
    opt = torch.optim.SGD([p], lr=lr, momentum=momentum, weight_decay=weight_decay, dampening=dampening,
                          nesterov=nesterov)
    after = []
    for g in grads:
        p.grad = g.clone()
        opt.step()
        after.append(enc(p))
    return {"lr": lr, "momentum": momentum, "weight_decay": weight_decay, "dampening": dampening,
            "nesterov": nesterov, "p0": enc(p0), "grads": [enc(g) for g in grads], "after": after}


def main():
    relu, add_relu = relu_cases()
    cases = {
        "conv_s1_p1_bias": conv_case(2, 3, 5, 5, 4, 3, 1, 1, True),
        "conv_s2_p1": conv_case(2, 3, 6, 7, 5, 3, 2, 1, False),
        "conv_1x1_s2": conv_case(3, 4, 5, 5, 2, 1, 2, 0, False),
        "conv_s1_p0": conv_case(1, 2, 4, 5, 3, 3, 1, 0, False),
        "conv_k5_s3_p2": conv_case(2, 2, 7, 6, 3, 5, 3, 2, True),
        "bn": bn_case(3, 4, 2, 3, False),
        "bn_relu": bn_case(2, 3, 3, 3, True),
        "bn_eval": bn_eval_case(2, 3, 2, 2),
        "relu": relu,
        "add_relu": add_relu,
        "sgd_momentum_wd": sgd_case(0.1, 0.9, 5e-4, 0.0, False),
        "sgd_nesterov": sgd_case(0.05, 0.9, 1e-2, 0.0, True),
        "sgd_dampening": sgd_case(0.2, 0.8, 0.0, 0.3, False),
        "sgd_plain_wd": sgd_case(0.1, 0.0, 1e-3, 0.0, False),
    }
    path = os.path.join(HERE, "ops.json")
    with open(path, "w") as f:
        json.dump({"torch_version": torch.__version__, "cases": cases}, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
