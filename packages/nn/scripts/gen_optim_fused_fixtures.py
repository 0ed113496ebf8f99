#!/usr/bin/env python3
"""Golden fixtures for the fused optimizer kernels (Adam/AdamW step, clip_grad_norm_).

Run from the repository root:

    /usr/bin/python3 packages/nn/scripts/gen_optim_fused_fixtures.py

Writes packages/nn/test/fixtures/torch/optim_fused.json: five steps of Adam/AdamW (weight
decay, AMSGrad, maximize) over parameters whose sizes are not multiples of the SIMD width,
with the state after the last step, and clip_grad_norm_ for norm types 2, inf and 1.
Tensors are {"shape", "data"} with every number the exact double of a float32 value.
"""

import json
import os

import torch

GENERATOR = "packages/nn/scripts/gen_optim_fused_fixtures.py"
OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "torch", "optim_fused.json"))

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

SHAPES = [(37,), (3, 5), (2, 2, 3)]


def T(t):
    t = t.detach().float().contiguous()
    return {"shape": list(t.shape), "data": t.double().view(-1).tolist()}


def optim_case(name, cls, hyper, steps=5):
    torch.manual_seed(11)
    init = [torch.randn(*s) for s in SHAPES]
    grads = [[torch.randn(*s) for s in SHAPES] for _ in range(steps)]
    ps = [p.clone().requires_grad_(True) for p in init]
    opt = cls(ps, **hyper)
    after = []
    for gs in grads:
        for p, g in zip(ps, gs):
            p.grad = g.clone()
        opt.step()
        after.append([T(p) for p in ps])
    state = []
    for p in ps:
        st = opt.state[p]
        state.append({k: T(v) for k, v in st.items() if k != "step" and isinstance(v, torch.Tensor)})
    hyper = {k: list(v) if isinstance(v, tuple) else v for k, v in hyper.items()}
    return {"name": name, "optimizer": cls.__name__, "hyper": hyper, "init": [T(p) for p in init],
            "grads": [[T(g) for g in gs] for gs in grads], "after": after, "state": state}


def clip():
    torch.manual_seed(12)
    out = []
    for max_norm, norm_type in [(1.0, 2.0), (1e3, 2.0), (0.5, float("inf")), (2.0, 1.0)]:
        gs = [torch.randn(*s) * (i + 1) for i, s in enumerate(SHAPES)]
        ps = [torch.zeros(*s, requires_grad=True) for s in SHAPES]
        for p, g in zip(ps, gs):
            p.grad = g.clone()
        total = torch.nn.utils.clip_grad_norm_(ps, max_norm, norm_type)
        out.append({"max_norm": max_norm, "norm_type": "inf" if norm_type == float("inf") else norm_type,
                    "grads": [T(g) for g in gs], "total": total.item(), "clipped": [T(p.grad) for p in ps]})
    return out


def main():
    cases = [
        optim_case("adamw_wd", torch.optim.AdamW, {"lr": 0.01, "weight_decay": 0.05}),
        optim_case("adamw_amsgrad_maximize", torch.optim.AdamW, {"lr": 0.02, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1, "amsgrad": True, "maximize": True}),
        optim_case("adam_l2_maximize", torch.optim.Adam, {"lr": 0.01, "weight_decay": 0.1, "maximize": True}),
        optim_case("adam_amsgrad", torch.optim.Adam, {"lr": 0.05, "amsgrad": True}),
    ]
    data = {"generator": GENERATOR, "torch_version": torch.__version__, "optimizers": cases, "clip": clip()}
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", OUT, os.path.getsize(OUT), "bytes")


if __name__ == "__main__":
    main()
