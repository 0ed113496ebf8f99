#!/usr/bin/env python3
"""Golden fixtures for @tsgrad/nn: layers, optimizers, schedules, clipping.

Run from the repository root:

    /usr/bin/python3 packages/nn/scripts/gen_nn_fixtures.py

Writes packages/nn/test/fixtures/torch/nn.json. Tensors are {"shape", "data"} with every
number the exact double of a float32 value. Deterministic (fixed seeds, one thread).
"""

import json
import math
import os

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

GENERATOR = "packages/nn/scripts/gen_nn_fixtures.py"
OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "torch", "nn.json"))

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


def T(t):
    t = t.detach().float().contiguous()
    return {"shape": list(t.shape), "data": t.double().view(-1).tolist()}


def layer_case(name, module, x, params, extra=None):
    """Forward, then d(sum(out * cot)) wrt the input and every parameter."""
    module = module.float()
    with torch.no_grad():
        for k, v in params.items():
            getattr(module, k).copy_(v)
    x = x.clone().requires_grad_(True)
    out = module(x)
    cot = torch.randn(out.shape)
    (out * cot).sum().backward()
    case = {
        "name": name,
        "input": T(x),
        "params": {k: T(v) for k, v in params.items()},
        "output": T(out),
        "cotangent": T(cot),
        "grad_input": T(x.grad),
        "grad_params": {k: T(getattr(module, k).grad) for k in params},
    }
    if extra:
        case.update(extra(module))
    return case


class LayerNormCF(nn.Module):
    """The official ConvNeXt channels-first LayerNorm."""

    def __init__(self, c, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.eps = eps

    def forward(self, x):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


def layers():
    torch.manual_seed(1)
    cases = []
    cases.append(layer_case("linear", nn.Linear(5, 3), torch.randn(2, 4, 5),
                            {"weight": torch.randn(3, 5), "bias": torch.randn(3)}))
    conv = nn.Conv2d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2)
    cases.append(layer_case("conv2d_s2_p1_d2_g2", conv, torch.randn(2, 4, 9, 9),
                            {"weight": torch.randn(6, 2, 3, 3), "bias": torch.randn(6)}))
    dw = nn.Conv2d(4, 4, 7, padding=3, groups=4)
    cases.append(layer_case("conv2d_depthwise7", dw, torch.randn(2, 4, 5, 6),
                            {"weight": torch.randn(4, 1, 7, 7), "bias": torch.randn(4)}))
    cases.append(layer_case("layer_norm_last", nn.LayerNorm(6, eps=1e-6), torch.randn(2, 3, 4, 6) * 3 + 1,
                            {"weight": torch.randn(6), "bias": torch.randn(6)}))
    cases.append(layer_case("layer_norm_2d", LayerNormCF(6, 1e-6), torch.randn(2, 6, 3, 4) * 2 - 1,
                            {"weight": torch.randn(6), "bias": torch.randn(6)}))
    cases.append(layer_case("group_norm", nn.GroupNorm(3, 6, eps=1e-5), torch.randn(2, 6, 3, 4),
                            {"weight": torch.randn(6), "bias": torch.randn(6)}))

    def bn_extra(m):
        m.eval()
        x2 = torch.randn(2, 3, 4, 4)
        return {"running_mean": T(m.running_mean), "running_var": T(m.running_var),
                "num_batches_tracked": int(m.num_batches_tracked), "eval_input": T(x2), "eval_output": T(m(x2))}

    cases.append(layer_case("batch_norm2d_train", nn.BatchNorm2d(3, momentum=0.2), torch.randn(4, 3, 5, 5) * 2 + 0.5,
                            {"weight": torch.randn(3), "bias": torch.randn(3)}, bn_extra))
    cases.append(layer_case("mse_loss", _Mse(), torch.randn(3, 4), {}, lambda m: {"target": T(m.target)}))
    return cases


class _Mse(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(5)
        self.target = torch.randn(3, 4)

    def forward(self, x):
        return F.mse_loss(x, self.target)


def optim_case(name, make, steps=3):
    torch.manual_seed(2)
    p0 = torch.randn(3, 4)
    p1 = torch.randn(4)
    grads = [[torch.randn(3, 4), torch.randn(4)] for _ in range(steps)]
    a = p0.clone().requires_grad_(True)
    b = p1.clone().requires_grad_(True)
    opt, groups = make(a, b)
    after = []
    for g in grads:
        a.grad = g[0].clone()
        b.grad = g[1].clone()
        opt.step()
        after.append([T(a), T(b)])
    return {"name": name, "groups": groups, "init": [T(p0), T(p1)], "grads": [[T(x) for x in g] for g in grads], "after": after}


def optims():
    cases = []

    def two_groups(cls, g0, g1, **defaults):
        def make(a, b):
            return cls([dict(params=[a], **g0), dict(params=[b], **g1)], **defaults), [g0, g1]
        return make

    cases.append(optim_case("sgd_plain", two_groups(torch.optim.SGD, {"lr": 0.1}, {"lr": 0.05}, lr=0.1)))
    cases.append(optim_case("sgd_momentum_wd", two_groups(torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "weight_decay": 0.01, "dampening": 0.1},
                                                            {"lr": 0.2, "momentum": 0.5}, lr=0.1)))
    cases.append(optim_case("sgd_nesterov", two_groups(torch.optim.SGD, {"lr": 0.1, "momentum": 0.9, "nesterov": True, "weight_decay": 0.001},
                                                         {"lr": 0.1, "momentum": 0.9, "nesterov": True}, lr=0.1)))
    cases.append(optim_case("adam_wd", two_groups(torch.optim.Adam, {"lr": 0.01, "weight_decay": 0.1}, {"lr": 0.02}, lr=0.01)))
    cases.append(optim_case("adamw", two_groups(torch.optim.AdamW, {"lr": 0.01, "weight_decay": 0.05}, {"lr": 0.004, "weight_decay": 0.0}, lr=0.01)))
    cases.append(optim_case("adamw_betas_amsgrad", two_groups(torch.optim.AdamW, {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "amsgrad": True, "weight_decay": 0.1},
                                                                {"lr": 0.003, "amsgrad": True}, lr=0.01)))
    for c in cases:
        for g in c["groups"]:
            if "betas" in g:
                g["betas"] = list(g["betas"])
    return cases


def cosine_scheduler(base_value, final_value, epochs, niter_per_ep, warmup_epochs=0, start_warmup_value=0, warmup_steps=-1):
    """The official ConvNeXt utils.cosine_scheduler, verbatim."""
    warmup_schedule = np.array([])
    warmup_iters = warmup_epochs * niter_per_ep
    if warmup_steps > 0:
        warmup_iters = warmup_steps
    if warmup_epochs > 0:
        warmup_schedule = np.linspace(start_warmup_value, base_value, warmup_iters)
    iters = np.arange(epochs * niter_per_ep - warmup_iters)
    schedule = np.array([final_value + 0.5 * (base_value - final_value) * (1 + math.cos(math.pi * i / (len(iters)))) for i in iters])
    schedule = np.concatenate((warmup_schedule, schedule))
    assert len(schedule) == epochs * niter_per_ep
    return schedule


def schedules():
    return [
        {"name": "convnext_cosine", "base": 4e-3, "final": 1e-6, "epochs": 6, "niter": 5, "warmup_epochs": 2,
         "values": cosine_scheduler(4e-3, 1e-6, 6, 5, 2).tolist()},
        {"name": "cosine_no_warmup", "base": 5e-5, "final": 0.0, "epochs": 4, "niter": 3, "warmup_epochs": 0,
         "values": cosine_scheduler(5e-5, 0.0, 4, 3, 0).tolist()},
    ]


def step_lr():
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.5)
    sch = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    vals = []
    for _ in range(10):
        vals.append(opt.param_groups[0]["lr"])
        opt.step()
        sch.step()
    return {"base": 0.5, "step_size": 3, "gamma": 0.5, "values": vals}


def clip():
    torch.manual_seed(3)
    out = []
    for max_norm, norm_type in [(1.0, 2.0), (100.0, 2.0), (0.5, float("inf")), (2.0, 1.0)]:
        ps = [torch.zeros(3, 4, requires_grad=True), torch.zeros(5, requires_grad=True)]
        gs = [torch.randn(3, 4), torch.randn(5) * 3]
        for p, g in zip(ps, gs):
            p.grad = g.clone()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
        out.append({"max_norm": max_norm, "norm_type": "inf" if norm_type == float("inf") else norm_type,
                    "grads": [T(g) for g in gs], "total": total.item(), "clipped": [T(p.grad) for p in ps]})
    return out


def main():
    data = {"generator": GENERATOR, "torch_version": torch.__version__, "layers": layers(), "optimizers": optims(),
            "schedules": schedules(), "step_lr": step_lr(), "clip": clip()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
