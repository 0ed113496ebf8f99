#!/usr/bin/env python3
"""PyTorch known answers for tsgrad's conv/pool/resampling ops (issue 8, part convpool).

Run from the repository root:

    /usr/bin/python3 packages/core/scripts/gen_convpool_fixtures.py

Writes packages/core/test/fixtures/convpool/{cases,grids}.json, read by
packages/core/test/convpool-pytorch.test.ts.

cases.json: one entry per case: the torch.nn.functional op, its keyword arguments
(PyTorch's names), float32 inputs (written as the shortest decimals that round back to
them), the output (and int64 indices where the op returns
them), a cotangent g and the gradients d(sum(output * g))/d(input).
grids.json: interpolate's source indices (nearest modes, float32 and float64) and
linear outputs (float64, 12 digits) over grids of sizes and scale factors, to pin PyTorch's index formulas.
"""

import json
import math
import os

import numpy
import torch
import torch.nn.functional as F

OUT_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "convpool"))
torch.set_num_threads(1)


def tj(t):
    t = t.detach()
    if t.dtype == torch.int64:
        return {"shape": list(t.shape), "dtype": "int64", "data": [int(v) for v in t.flatten().tolist()]}
    # Shortest decimals that round back to the same float32 (the test applies Math.fround).
    data = [float(str(numpy.float32(v))) for v in t.float().flatten().tolist()]
    assert all(math.isfinite(v) for v in data)
    return {"shape": list(t.shape), "dtype": "float32", "data": data}


def rnd(seed, *shape, ints=False):
    g = torch.Generator().manual_seed(seed)
    if ints:  # small integers: ties in max pooling
        return torch.randint(-2, 3, shape, generator=g).float()
    return torch.round(torch.randn(*shape, generator=g) * 64) / 64  # short decimals


CASES = []


def case(name, op, fn, params, inputs, grad=None, seed=0):
    grad = list(inputs) if grad is None else grad
    ts = {k: v.clone().requires_grad_(k in grad) for k, v in inputs.items()}
    out = fn(**ts, **params)
    idx = None
    if isinstance(out, tuple):
        out, idx = out
    g = rnd(seed + 1000, *out.shape)
    gs = torch.autograd.grad(out, [ts[k] for k in grad], g) if grad else []
    c = {"name": name, "op": op, "params": params, "inputs": {k: tj(v) for k, v in inputs.items()}, "output": tj(out), "cotangent": tj(g), "grads": {k: tj(v) for k, v in zip(grad, gs)}}
    if idx is not None:
        c["indices"] = tj(idx)
    CASES.append(c)


# ---- convolutions ----
def conv1d(x, w, b=None, **kw):
    return F.conv1d(x, w, b, **kw)


case("conv1d basic", "conv1d", conv1d, {}, {"x": rnd(1, 2, 3, 7), "w": rnd(2, 4, 3, 3)})
case("conv1d stride padding dilation bias", "conv1d", conv1d, {"stride": 2, "padding": 2, "dilation": 2}, {"x": rnd(3, 1, 2, 9), "w": rnd(4, 3, 2, 3), "b": rnd(5, 3)})
case("conv1d groups", "conv1d", conv1d, {"groups": 2, "padding": 1}, {"x": rnd(6, 2, 4, 6), "w": rnd(7, 6, 2, 3), "b": rnd(8, 6)})


def conv3d(x, w, b=None, **kw):
    return F.conv3d(x, w, b, **kw)


case("conv3d basic", "conv3d", conv3d, {}, {"x": rnd(10, 1, 2, 4, 4, 3), "w": rnd(11, 3, 2, 2, 3, 2)})
case("conv3d stride padding dilation groups bias", "conv3d", conv3d, {"stride": [2, 1, 2], "padding": [1, 0, 1], "dilation": [2, 1, 1], "groups": 2}, {"x": rnd(12, 1, 4, 5, 3, 4), "w": rnd(13, 4, 2, 2, 2, 2), "b": rnd(14, 4)})


def ct2d(x, w, b=None, **kw):
    return F.conv_transpose2d(x, w, b, **kw)


case("convTranspose2d basic", "conv_transpose2d", ct2d, {}, {"x": rnd(20, 2, 3, 3, 4), "w": rnd(21, 3, 2, 3, 2)})
case("convTranspose2d stride 2 padding 1 outputPadding 1 bias", "conv_transpose2d", ct2d, {"stride": 2, "padding": 1, "output_padding": 1}, {"x": rnd(22, 1, 2, 4, 3), "w": rnd(23, 2, 3, 3, 3), "b": rnd(24, 3)})
case("convTranspose2d stride (3,2) dilation (2,1) outputPadding (1,0)", "conv_transpose2d", ct2d, {"stride": [3, 2], "dilation": [2, 1], "output_padding": [1, 0], "padding": [2, 0]}, {"x": rnd(25, 2, 2, 3, 3), "w": rnd(26, 2, 2, 3, 2)})
case("convTranspose2d groups 2 bias", "conv_transpose2d", ct2d, {"groups": 2, "stride": 2, "padding": 1}, {"x": rnd(27, 1, 4, 3, 3), "w": rnd(28, 4, 1, 3, 3), "b": rnd(29, 2)})
case("convTranspose2d outputPadding below dilation", "conv_transpose2d", ct2d, {"dilation": 3, "output_padding": 2}, {"x": rnd(30, 1, 1, 2, 2), "w": rnd(31, 1, 2, 2, 2)})


def ct1d(x, w, b=None, **kw):
    return F.conv_transpose1d(x, w, b, **kw)


case("convTranspose1d stride padding outputPadding groups bias", "conv_transpose1d", ct1d, {"stride": 3, "padding": 1, "output_padding": 2, "groups": 2}, {"x": rnd(32, 2, 4, 5), "w": rnd(33, 4, 1, 4), "b": rnd(34, 2)})

# ---- unfold / fold ----
case("unfold kernel 2x3 stride padding dilation", "unfold", lambda x, **kw: F.unfold(x, **kw), {"kernel_size": [2, 3], "stride": [1, 2], "padding": [1, 0], "dilation": [2, 1]}, {"x": rnd(40, 1, 2, 5, 6)})
case("fold overlapping windows", "fold", lambda x, **kw: F.fold(x, **kw), {"output_size": [4, 5], "kernel_size": [2, 2], "stride": 1, "padding": 0, "dilation": 1}, {"x": rnd(41, 2, 2 * 4, 12)})
case("fold stride padding dilation", "fold", lambda x, **kw: F.fold(x, **kw), {"output_size": [5, 6], "kernel_size": [2, 3], "stride": [2, 1], "padding": [1, 1], "dilation": [1, 2]}, {"x": rnd(42, 1, 3 * 6, 3 * 4)})

# ---- pad modes ----
for mode in ["reflect", "replicate", "circular"]:
    case(f"pad {mode} 1-D", "pad", lambda x, **kw: F.pad(x, **kw), {"pad": [2, 1], "mode": mode}, {"x": rnd(50, 2, 3, 4)})
    case(f"pad {mode} 2-D", "pad", lambda x, **kw: F.pad(x, **kw), {"pad": [1, 2, 3, 0], "mode": mode}, {"x": rnd(51, 1, 2, 4, 3)})
    case(f"pad {mode} 3-D", "pad", lambda x, **kw: F.pad(x, **kw), {"pad": [1, 0, 0, 2, 1, 1], "mode": mode}, {"x": rnd(52, 1, 1, 3, 3, 2)})

# ---- pooling ----
def mp2(x, **kw):
    return F.max_pool2d(x, **kw)


case("maxPool2d ceilMode", "max_pool2d", mp2, {"kernel_size": 3, "stride": 2, "padding": 0, "dilation": 1, "ceil_mode": True, "return_indices": True}, {"x": rnd(60, 1, 2, 6, 7)})
case("maxPool2d ceilMode padding", "max_pool2d", mp2, {"kernel_size": [3, 2], "stride": [2, 2], "padding": [1, 1], "dilation": 1, "ceil_mode": True, "return_indices": True}, {"x": rnd(61, 2, 1, 6, 5)})
case("maxPool2d dilation", "max_pool2d", mp2, {"kernel_size": 2, "stride": 1, "padding": 1, "dilation": [2, 3], "ceil_mode": False, "return_indices": True}, {"x": rnd(62, 1, 2, 5, 6)})
case("maxPool2d ties overlapping windows", "max_pool2d", mp2, {"kernel_size": 3, "stride": 1, "padding": 1, "dilation": 1, "ceil_mode": False, "return_indices": True}, {"x": rnd(63, 1, 2, 5, 5, ints=True)})
case("maxPool2d ties ceilMode dilation", "max_pool2d", mp2, {"kernel_size": 2, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True, "return_indices": True}, {"x": rnd(64, 1, 2, 6, 7, ints=True)})


def ap2(x, **kw):
    return F.avg_pool2d(x, **kw)


case("avgPool2d ceilMode countIncludePad", "avg_pool2d", ap2, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": True, "divisor_override": None}, {"x": rnd(70, 1, 2, 6, 5)})
case("avgPool2d ceilMode excluding pad", "avg_pool2d", ap2, {"kernel_size": [2, 3], "stride": [2, 2], "padding": [1, 1], "ceil_mode": True, "count_include_pad": False, "divisor_override": None}, {"x": rnd(71, 2, 1, 5, 6)})
case("avgPool2d divisorOverride", "avg_pool2d", ap2, {"kernel_size": 2, "stride": 1, "padding": 1, "ceil_mode": False, "count_include_pad": True, "divisor_override": 3}, {"x": rnd(72, 1, 2, 4, 4)})
case("adaptiveMaxPool2d uneven", "adaptive_max_pool2d", lambda x, **kw: F.adaptive_max_pool2d(x, **kw), {"output_size": [3, 4], "return_indices": True}, {"x": rnd(73, 2, 2, 7, 6)})
case("adaptiveMaxPool2d ties", "adaptive_max_pool2d", lambda x, **kw: F.adaptive_max_pool2d(x, **kw), {"output_size": [2, 3], "return_indices": True}, {"x": rnd(74, 1, 2, 5, 7, ints=True)})
case("adaptiveMaxPool2d divisible", "adaptive_max_pool2d", lambda x, **kw: F.adaptive_max_pool2d(x, **kw), {"output_size": 2, "return_indices": True}, {"x": rnd(75, 1, 2, 4, 6)})

x_un = rnd(76, 1, 2, 6, 6)
_, ind_un = F.max_pool2d(x_un, 2, stride=2, return_indices=True)
case("maxUnpool2d", "max_unpool2d", lambda x, indices, **kw: F.max_unpool2d(x, indices, **kw), {"kernel_size": 2, "stride": 2, "padding": 0, "output_size": [7, 6]}, {"x": rnd(77, 1, 2, 3, 3), "indices": ind_un}, grad=["x"])

case("maxPool1d ceilMode dilation", "max_pool1d", lambda x, **kw: F.max_pool1d(x, **kw), {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": 2, "ceil_mode": True, "return_indices": True}, {"x": rnd(80, 2, 2, 9)})
case("avgPool1d ceilMode", "avg_pool1d", lambda x, **kw: F.avg_pool1d(x, **kw), {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False}, {"x": rnd(81, 2, 2, 8)})
case("adaptiveAvgPool1d", "adaptive_avg_pool1d", lambda x, **kw: F.adaptive_avg_pool1d(x, **kw), {"output_size": 4}, {"x": rnd(82, 2, 2, 7)})
case("adaptiveMaxPool1d", "adaptive_max_pool1d", lambda x, **kw: F.adaptive_max_pool1d(x, **kw), {"output_size": 3, "return_indices": True}, {"x": rnd(83, 2, 2, 7)})

# ---- interpolate ----
def interp(x, **kw):
    return F.interpolate(x, **kw)


def ic(name, shape, seed, **kw):
    kw.setdefault("size", None)
    kw.setdefault("scale_factor", None)
    kw.setdefault("align_corners", None)
    kw.setdefault("recompute_scale_factor", None)
    case(name, "interpolate", interp, kw, {"x": rnd(seed, *shape)})


ic("nearest size up", (1, 2, 3, 4), 90, size=[7, 5], mode="nearest")
ic("nearest scale 1.7", (1, 1, 5, 4), 91, scale_factor=1.7, mode="nearest")
ic("nearest scale down (0.6, 0.45)", (1, 2, 9, 8), 92, scale_factor=[0.6, 0.45], mode="nearest")
ic("nearest-exact size", (1, 2, 5, 4), 93, size=[8, 3], mode="nearest-exact")
ic("nearest-exact scale 2.5", (1, 1, 3, 4), 94, scale_factor=2.5, mode="nearest-exact")
ic("bilinear size", (1, 2, 3, 4), 95, size=[5, 7], mode="bilinear", align_corners=False)
ic("bilinear size alignCorners", (1, 2, 3, 4), 96, size=[5, 7], mode="bilinear", align_corners=True)
ic("bilinear scale 1.7 (1/scale)", (1, 1, 4, 5), 97, scale_factor=1.7, mode="bilinear", align_corners=False)
ic("bilinear scale 1.7 recompute", (1, 1, 4, 5), 97, scale_factor=1.7, mode="bilinear", align_corners=False, recompute_scale_factor=True)
ic("bilinear downscale", (2, 1, 7, 6), 98, size=[3, 4], mode="bilinear", align_corners=False)
ic("bilinear scale 2 alignCorners", (1, 2, 3, 3), 99, scale_factor=2, mode="bilinear", align_corners=True)
ic("bicubic size", (1, 2, 4, 5), 100, size=[7, 3], mode="bicubic", align_corners=False)
ic("bicubic scale alignCorners", (1, 1, 4, 4), 101, scale_factor=1.5, mode="bicubic", align_corners=True)
ic("linear scale 2.5", (2, 2, 5), 102, scale_factor=2.5, mode="linear", align_corners=False)
ic("linear size alignCorners", (1, 2, 5), 103, size=8, mode="linear", align_corners=True)
ic("trilinear size", (1, 1, 2, 3, 3), 104, size=[3, 4, 2], mode="trilinear", align_corners=False)
ic("area size", (1, 2, 7, 5), 105, size=[3, 2], mode="area")
ic("nearest 1-D scale 1.5", (1, 2, 5), 106, scale_factor=1.5, mode="nearest")


def grids():
    out = {"nearest": [], "linear": []}
    for dt in [torch.float32, torch.float64]:
        for mode in ["nearest", "nearest-exact"]:
            for n in range(1, 10):
                x = torch.arange(n, dtype=dt).reshape(1, 1, n)
                for m in range(1, 20):
                    y = F.interpolate(x, size=m, mode=mode)
                    out["nearest"].append({"dtype": str(dt)[6:], "mode": mode, "n": n, "size": m, "idx": [int(v) for v in y.flatten().tolist()]})
                for sf in [0.3, 0.45, 0.6, 0.7, 1.3, 1.5, 1.7, 2.0, 2.5, 2.9, 3.3]:
                    if math.floor(n * sf) < 1:
                        continue
                    y = F.interpolate(x, scale_factor=sf, mode=mode)
                    out["nearest"].append({"dtype": str(dt)[6:], "mode": mode, "n": n, "scale": sf, "idx": [int(v) for v in y.flatten().tolist()]})
    for ac in [False, True]:
        for n in [1, 2, 3, 5, 8]:
            x = (torch.arange(n, dtype=torch.float64) ** 2).reshape(1, 1, n)
            for m in [1, 2, 3, 4, 7, 9, 16]:
                y = F.interpolate(x, size=m, mode="linear", align_corners=ac)
                out["linear"].append({"alignCorners": ac, "n": n, "size": m, "y": [float(f"{v:.12g}") for v in y.flatten().tolist()]})
            for sf in [0.5, 0.7, 1.5, 2.0, 2.3]:
                if math.floor(n * sf) < 1:
                    continue
                y = F.interpolate(x, scale_factor=sf, mode="linear", align_corners=ac)
                out["linear"].append({"alignCorners": ac, "n": n, "scale": sf, "y": [float(f"{v:.12g}") for v in y.flatten().tolist()]})
    return out


os.makedirs(OUT_DIR, exist_ok=True)
with open(os.path.join(OUT_DIR, "cases.json"), "w") as f:
    json.dump({"generator": "packages/core/scripts/gen_convpool_fixtures.py", "torch_version": torch.__version__, "cases": CASES}, f, separators=(",", ":"))
with open(os.path.join(OUT_DIR, "grids.json"), "w") as f:
    json.dump({"generator": "packages/core/scripts/gen_convpool_fixtures.py", "torch_version": torch.__version__, **grids()}, f, separators=(",", ":"))
print(len(CASES), "cases")
