#!/usr/bin/env python3
"""Golden fixtures for @tsgrad/convnext: ConvNeXt forward, backward and one AdamW step.

Run from the repository root:

    /usr/bin/python3 packages/convnext/scripts/gen_convnext_fixtures.py

Writes packages/convnext/test/fixtures/golden/<case>.json (see the README there).

The model is convnext_torch.py beside this script: the official facebookresearch/ConvNeXt
`models/convnext.py` (HEAD 048efcea) re-typed once, with two tsgrad options (stem stride,
kernel size); timm is not needed.
Weights are NOT stored: both sides generate them from a counter-based integer hash
(`det_uniform`, mirrored in packages/convnext/test/helpers/golden.ts), chosen so that
every value is exactly representable in float32 and identical on both sides. LayerNorm
affine parameters and gamma are randomised around 1 so that every part of the block
shows in the output.
"""

import base64
import json
import math
import os

import numpy as np
import torch
import torch.nn.functional as F

from convnext_torch import ConvNeXt  # the shared PyTorch model, beside this script

GENERATOR = "packages/convnext/scripts/gen_convnext_fixtures.py"
OUT_DIR = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "golden")
)

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)


# --------------------------------------------------------------------------
# Deterministic values shared with the TypeScript side.
# --------------------------------------------------------------------------

M32 = 0xFFFFFFFF


def det_uniform(n, seed):
    """n values in [-1, 1), each k/2^23 - 1 for a 24-bit k: exact in float32.

    x = (i + seed*0x9E3779B9) mod 2^32, then the 'lowbias32' integer hash.
    """
    x = (np.arange(n, dtype=np.uint64) + np.uint64((seed * 0x9E3779B9) & M32)) & np.uint64(M32)
    x ^= x >> np.uint64(16)
    x = (x * np.uint64(0x7FEB352D)) & np.uint64(M32)
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(0x846CA68B)) & np.uint64(M32)
    x ^= x >> np.uint64(16)
    k = (x >> np.uint64(8)).astype(np.float64)
    return k / 8388608.0 - 1.0


def weight_scale(shape):
    fan_in = shape[1] * int(np.prod(shape[2:])) if len(shape) > 2 else shape[1]
    # The largest power of two <= sqrt(3 / fan_in) (integer arithmetic, identical in TypeScript).
    e = 0
    while fan_in > 3 * 4 ** e:
        e += 1
    return 2.0 ** -e


def det_param(name, shape, seed):
    n = int(np.prod(shape))
    v = det_uniform(n, seed)
    if len(shape) >= 2:
        vals = v * weight_scale(shape)
    elif name.endswith("gamma") or name.endswith("weight"):
        vals = 1.0 + 0.5 * v
    else:  # biases
        vals = 0.25 * v
    return torch.from_numpy(vals.astype(np.float32).reshape(shape))


PARAM_SEED0 = 1000
INPUT_SEED = 7


def det_input(shape):
    return torch.from_numpy((2.0 * det_uniform(int(np.prod(shape)), INPUT_SEED)).astype(np.float32).reshape(shape))


# --------------------------------------------------------------------------
# Fixture encoding
# --------------------------------------------------------------------------

def b64(t):
    a = t.detach().contiguous().view(-1).numpy().astype("<f4")
    return base64.b64encode(a.tobytes()).decode("ascii")


def full(t):
    return {"shape": list(t.shape), "f32_base64": b64(t)}


def sample_positions(n, k):
    if n <= k:
        return list(range(n))
    return [((2 * j + 1) * n) // (2 * k) for j in range(k)]


def summary(t, k):
    a = t.detach().double().contiguous().view(-1)
    pos = sample_positions(a.numel(), k)
    return {
        "shape": list(t.shape),
        "sum": a.sum().item(),
        "sum_abs": a.abs().sum().item(),
        "sum_sq": (a * a).sum().item(),
        "max_abs": a.abs().max().item(),
        # float32 values at sample_positions(numel, k), little-endian, base64
        "samples_f32_base64": b64(t.detach().float().contiguous().view(-1)[torch.tensor(pos, dtype=torch.int64)]),
    }


def run_case(name, cfg, batch, size, mode, labels, adamw, samples=64, dtype=torch.float32):
    torch.manual_seed(0)
    model = ConvNeXt(in_chans=3, num_classes=cfg["num_classes"], depths=cfg["depths"], dims=cfg["dims"],
                     stem_stride=cfg["stem_stride"], kernel_size=cfg["kernel_size"])
    with torch.no_grad():
        for k, (pname, p) in enumerate(model.named_parameters()):
            p.copy_(det_param(pname, tuple(p.shape), PARAM_SEED0 + k))
    model = model.to(dtype)
    init_stats = {pname: [p.detach().double().sum().item(), (p.detach().double() ** 2).sum().item()]
                  for pname, p in model.named_parameters()}
    x = det_input((batch, 3, size, size)).to(dtype)
    y = torch.tensor(labels, dtype=torch.int64)
    logits = model(x)
    loss = F.cross_entropy(logits, y, label_smoothing=0.1)
    loss.backward()

    decay, no_decay = [], []
    for pname, p in model.named_parameters():
        (no_decay if p.ndim == 1 or pname.endswith(".bias") else decay).append(p)
    opt = torch.optim.AdamW([
        {"params": decay, "weight_decay": adamw["weight_decay"]},
        {"params": no_decay, "weight_decay": 0.0},
    ], lr=adamw["lr"], betas=tuple(adamw["betas"]), eps=adamw["eps"])
    grads = {pname: p.grad.detach().clone() for pname, p in model.named_parameters()}
    opt.step()
    after = {pname: p.detach().clone() for pname, p in model.named_parameters()}

    out = {
        "name": name,
        "generator": GENERATOR,
        "torch_version": torch.__version__,
        "config": cfg,
        "batch": batch,
        "size": size,
        "labels": labels,
        "label_smoothing": 0.1,
        "adamw": adamw,
        "param_seed0": PARAM_SEED0,
        "input_seed": INPUT_SEED,
        "mode": mode,
        "param_count": sum(p.numel() for p in model.parameters()),
        "param_names": [pname for pname, _ in model.named_parameters()],
        "init_stats": init_stats,
        "logits": full(logits.float()),
        "loss": loss.item(),
    }
    if mode == "full":
        out["grads"] = {k: full(v.float()) for k, v in grads.items()}
        out["after_step"] = {k: full(v.float()) for k, v in after.items()}
    else:
        out["samples_per_tensor"] = samples
        out["grads"] = {k: summary(v, samples) for k, v in grads.items()}
        out["after_step"] = {k: summary(v, samples) for k, v in after.items()}
    return out, grads, after


CASES = [
    # A reduced-width config that still has every part (stem, 3 downsamplings, gamma,
    # odd spatial sizes, 1x1 last stage): every gradient and post-step weight in full.
    ("mini", dict(depths=[1, 1, 2, 1], dims=[8, 16, 24, 32], num_classes=5, stem_stride=2, kernel_size=7),
     2, 24, "full", [1, 3]),
    # ConvNeXt-atto with a 2x2 stem at 32x32 (16/8/4/2): summaries + samples per tensor.
    ("atto_s2_32", dict(depths=[2, 2, 6, 2], dims=[40, 80, 160, 320], num_classes=10, stem_stride=2, kernel_size=7),
     2, 32, "summary", [3, 8]),
    # ConvNeXt-tiny, official 4x4 stem and 1000 classes, at 64x64 (16/8/4/2).
    ("tiny_64", dict(depths=[3, 3, 9, 3], dims=[96, 192, 384, 768], num_classes=1000, stem_stride=4, kernel_size=7),
     2, 64, "summary", [17, 912]),
]

# One AdamW step with the official parameter groups (no decay for 1-D params and biases).
# eps is raised from PyTorch's 1e-8 to 1e-3 here: at the first step the update is
# lr * g / (|g| + eps), so with eps = 1e-8 a gradient element within float32 round-off of
# zero flips its update by up to 2 lr, however accurate the gradient is relative to its
# tensor's scale. The exact default-eps formula is checked on exact gradients in
# @tsgrad/nn's optimizer fixtures.
ADAMW = {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-3, "weight_decay": 0.05}


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    for name, cfg, batch, size, mode, labels in CASES:
        out, _, _ = run_case(name, cfg, batch, size, mode, labels, ADAMW)
        path = os.path.join(OUT_DIR, name + ".json")
        with open(path, "w") as f:
            json.dump(out, f, separators=(",", ":"))
            f.write("\n")
        print("wrote", path, os.path.getsize(path), "bytes", "params", out["param_count"], "loss", out["loss"])


if __name__ == "__main__":
    main()
