#!/usr/bin/env python3
"""Generate small PyTorch golden fixtures for tsgrad's tests.

Run from the repository root:

    /usr/bin/python3 packages/core/scripts/gen_torch_fixtures.py

Writes one JSON file per op family into packages/core/test/fixtures/torch/.
Each case holds the inputs, the forward output, the cotangent g fed to
backward and the gradients d(sum(output * g))/d(input) of every floating input
that requires grad. All floats are computed in float32 and written exactly:
every number is the Python float (double) of a float32 value.

The output is deterministic: single-threaded, and torch.manual_seed is set
from a fixed per-case seed before each case's tensors are drawn.
"""

import json
import math
import os
import sys

import torch
import torch.nn.functional as F

GENERATOR = "packages/core/scripts/gen_torch_fixtures.py"
OUT_DIR = os.path.normpath(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "torch")
)

torch.set_num_threads(1)
torch.set_default_dtype(torch.float32)
if hasattr(torch, "use_deterministic_algorithms"):
    torch.use_deterministic_algorithms(True)


# --------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------

def tensor_json(t):
    t = t.detach().cpu()
    if t.dtype == torch.float32:
        data = t.double().flatten().tolist()
        assert all(math.isfinite(v) for v in data), "non-finite value in fixture"
        dtype = "float32"
    elif t.dtype == torch.int64:
        data = [int(v) for v in t.flatten().tolist()]
        dtype = "int64"
    else:
        raise TypeError("unsupported dtype %s" % t.dtype)
    return {"shape": list(t.shape), "dtype": dtype, "data": data}


def randn(*shape):
    return torch.randn(*shape, dtype=torch.float32)


_names = set()


def run_case(name, op, params, inputs, fn, no_grad=(), check64=True, rtol=1e-3, atol=1e-4):
    """Build one fixture case.

    inputs: dict name -> tensor (insertion order kept); fn(**inputs) -> output.
    Every floating input not in no_grad requires grad. The cotangent is drawn
    (random normal, output's shape) after the forward pass, from the case's
    RNG stream; for a scalar output it is 1.0.
    """
    assert name not in _names, "duplicate case name " + name
    _names.add(name)

    leaves = {}
    grad_keys = []
    for k, v in inputs.items():
        v = v.detach().clone()
        if v.is_floating_point():
            assert v.dtype == torch.float32
            if k not in no_grad:
                v.requires_grad_(True)
                grad_keys.append(k)
        leaves[k] = v

    out = fn(**leaves)
    assert out.dtype == torch.float32
    if out.dim() == 0:
        cot = torch.ones((), dtype=torch.float32)
    else:
        cot = randn(*out.shape)

    grads = torch.autograd.grad(out, [leaves[k] for k in grad_keys], grad_outputs=cot)
    grads = dict(zip(grad_keys, grads))

    # sanity: every grad exists, has its input's shape and dtype, is finite
    for k in grad_keys:
        g = grads[k]
        assert g is not None, "%s: no grad for %s" % (name, k)
        assert g.shape == leaves[k].shape, "%s: grad shape %s != input shape %s" % (
            name, tuple(g.shape), tuple(leaves[k].shape))
        assert g.dtype == torch.float32
        assert torch.isfinite(g).all(), "%s: non-finite grad for %s" % (name, k)

    # sanity: the float32 results agree with a float64 recomputation
    if check64:
        leaves64 = {}
        for k, v in leaves.items():
            if v.is_floating_point():
                v = v.detach().double().requires_grad_(k in grad_keys)
            leaves64[k] = v
        out64 = fn(**leaves64)
        assert torch.allclose(out.double(), out64, rtol=rtol, atol=atol), name + ": output vs float64"
        g64 = torch.autograd.grad(out64, [leaves64[k] for k in grad_keys], grad_outputs=cot.double())
        for k, gd in zip(grad_keys, g64):
            assert torch.allclose(grads[k].double(), gd, rtol=rtol, atol=atol), (
                "%s: grad %s vs float64" % (name, k))

    return {
        "name": name,
        "op": op,
        "params": params,
        "inputs": {k: tensor_json(v) for k, v in leaves.items()},
        "output": tensor_json(out),
        "cotangent": tensor_json(cot),
        "grads": {k: tensor_json(grads[k]) for k in grad_keys},
    }


def gradcheck64(fn, inputs, no_grad=()):
    """torch.autograd.gradcheck in float64 on copies of the inputs."""
    args = []
    for k, v in inputs.items():
        if v.is_floating_point():
            v = v.detach().double().requires_grad_(k not in no_grad)
        args.append(v)
    keys = list(inputs.keys())
    ok = torch.autograd.gradcheck(lambda *a: fn(**dict(zip(keys, a))), tuple(args), eps=1e-6, atol=1e-5)
    assert ok


def _pair(v):
    return list(v) if isinstance(v, (list, tuple)) else [v, v]


# --------------------------------------------------------------------------
# op families
# --------------------------------------------------------------------------

def gen_conv2d(seed0):
    cases = []
    specs = [
        # name, N, Cin, Cout, H, W, kernel, stride, padding, dilation, groups, bias
        ("conv2d_dense_3x3_s1_p1", 2, 2, 3, 4, 4, 3, 1, 1, 1, 1, True),
        ("conv2d_stem_4x4_s4", 1, 3, 2, 8, 8, 4, 4, 0, 1, 1, True),
        ("conv2d_downsample_2x2_s2", 1, 4, 6, 4, 4, 2, 2, 0, 1, 1, True),
        ("conv2d_depthwise_7x7", 1, 3, 3, 6, 6, 7, 1, 3, 1, 3, True),
        ("conv2d_groups2_dilation2_s2_nobias", 1, 4, 4, 6, 6, 3, 2, 2, 2, 2, False),
        ("conv2d_asym_stride_padding", 1, 2, 3, 5, 7, [2, 3], [1, 2], [0, 1], 1, 1, True),
    ]
    for i, (name, n, cin, cout, h, w, k, s, p, d, g, bias) in enumerate(specs):
        torch.manual_seed(seed0 + i)
        k, s, p, d = _pair(k), _pair(s), _pair(p), _pair(d)
        inputs = {"x": randn(n, cin, h, w), "weight": randn(cout, cin // g, k[0], k[1])}
        if bias:
            inputs["bias"] = randn(cout)
        params = {"stride": s, "padding": p, "dilation": d, "groups": g}

        def fn(x, weight, bias=None, s=s, p=p, d=d, g=g):
            return F.conv2d(x, weight, bias, stride=s, padding=p, dilation=d, groups=g)

        if i in (0, 4):
            gradcheck64(fn, inputs)
        cases.append(run_case(name, "conv2d", params, inputs, fn))
    return cases


def gen_layer_norm(seed0):
    cases = []

    # (a) channels-last, as ConvNeXt's nn.LayerNorm over C
    torch.manual_seed(seed0 + 0)
    C = 16
    inputs = {"x": randn(2, 2, 3, C), "weight": 1 + 0.1 * randn(C), "bias": 0.1 * randn(C)}
    cases.append(run_case(
        "layer_norm_channels_last_c16", "layer_norm", {"normalized_shape": [C], "eps": 1e-6}, inputs,
        lambda x, weight, bias: F.layer_norm(x, [C], weight, bias, eps=1e-6)))

    # (b) channels-first, ConvNeXt LayerNorm(data_format="channels_first")
    torch.manual_seed(seed0 + 1)
    inputs = {"x": randn(2, C, 2, 3), "weight": 1 + 0.1 * randn(C), "bias": 0.1 * randn(C)}

    def ln_cf(x, weight, bias, eps=1e-6):
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        y = (x - u) / torch.sqrt(s + eps)
        return weight[:, None, None] * y + bias[:, None, None]

    # sanity: identical to F.layer_norm on the channels-last permutation
    ref = F.layer_norm(inputs["x"].permute(0, 2, 3, 1), [C], inputs["weight"], inputs["bias"], eps=1e-6)
    assert torch.allclose(ln_cf(**inputs), ref.permute(0, 3, 1, 2), atol=1e-5)
    cases.append(run_case("layer_norm_channels_first_c16", "layer_norm_channels_first", {"eps": 1e-6}, inputs, ln_cf))

    # (c) normalized over the last two dims, with affine
    torch.manual_seed(seed0 + 2)
    inputs = {"x": randn(3, 4, 6), "weight": 1 + 0.1 * randn(4, 6), "bias": 0.1 * randn(4, 6)}
    fn = lambda x, weight, bias: F.layer_norm(x, [4, 6], weight, bias, eps=1e-5)
    gradcheck64(fn, inputs)
    cases.append(run_case("layer_norm_last2_affine", "layer_norm", {"normalized_shape": [4, 6], "eps": 1e-5}, inputs, fn))

    # (d) same shape, no affine
    torch.manual_seed(seed0 + 3)
    inputs = {"x": randn(3, 4, 6)}
    cases.append(run_case(
        "layer_norm_last2_no_affine", "layer_norm", {"normalized_shape": [4, 6], "eps": 1e-5}, inputs,
        lambda x: F.layer_norm(x, [4, 6], eps=1e-5)))
    return cases


def gen_gelu(seed0):
    cases = []
    for i, approx in enumerate(["none", "tanh"]):
        torch.manual_seed(seed0 + i)
        inputs = {"x": 3 * randn(4, 50)}
        cases.append(run_case(
            "gelu_" + approx, "gelu", {"approximate": approx}, inputs,
            lambda x, approx=approx: F.gelu(x, approximate=approx)))
    return cases


def gen_matmul(seed0):
    cases = []
    specs = [
        ("matmul_2d", [5, 7], [7, 3]),
        ("matmul_batched_broadcast", [2, 1, 3, 4], [5, 4, 6]),
        ("matmul_vec_mat", [4], [4, 3]),
        ("matmul_mat_vec", [3, 4], [4]),
    ]
    for i, (name, sa, sb) in enumerate(specs):
        torch.manual_seed(seed0 + i)
        inputs = {"a": randn(*sa), "b": randn(*sb)}
        c = run_case(name, "matmul", {}, inputs, lambda a, b: torch.matmul(a, b))
        if i == 0:
            # sanity: analytic grads of a plain matmul
            g = torch.tensor(c["cotangent"]["data"]).reshape(c["cotangent"]["shape"]).float()
            ga = torch.tensor(c["grads"]["a"]["data"]).reshape(sa).float()
            gb = torch.tensor(c["grads"]["b"]["data"]).reshape(sb).float()
            assert torch.allclose(ga, g @ inputs["b"].t(), atol=1e-5)
            assert torch.allclose(gb, inputs["a"].t() @ g, atol=1e-5)
        cases.append(c)
    return cases


def gen_cross_entropy(seed0):
    cases = []

    def ce(reduction, ls):
        return lambda input, target: F.cross_entropy(input, target, reduction=reduction, label_smoothing=ls)

    def params(reduction, ls):
        return {"reduction": reduction, "label_smoothing": ls}

    N, K = 6, 10
    torch.manual_seed(seed0 + 0)
    logits_a = randn(N, K)
    target_a = torch.randint(0, K, (N,), dtype=torch.int64)
    inputs_a = {"input": logits_a, "target": target_a}
    c = run_case("cross_entropy_indices", "cross_entropy", params("mean", 0.0), inputs_a, ce("mean", 0.0))
    # sanity: grad = (softmax - onehot) / N
    gi = torch.tensor(c["grads"]["input"]["data"]).reshape(N, K).float()
    expect = (logits_a.softmax(1) - F.one_hot(target_a, K).float()) / N
    assert torch.allclose(gi, expect, atol=1e-6)
    cases.append(c)

    torch.manual_seed(seed0 + 1)
    inputs = {"input": randn(N, K), "target": torch.randint(0, K, (N,), dtype=torch.int64)}
    gradcheck64(ce("mean", 0.1), inputs)
    cases.append(run_case("cross_entropy_indices_ls0.1", "cross_entropy", params("mean", 0.1), inputs, ce("mean", 0.1)))

    torch.manual_seed(seed0 + 2)
    inputs = {"input": randn(N, K), "target": randn(N, K).softmax(1)}
    cases.append(run_case("cross_entropy_soft", "cross_entropy", params("mean", 0.0), inputs, ce("mean", 0.0),
                          no_grad=("target",)))

    torch.manual_seed(seed0 + 3)
    inputs = {"input": randn(N, K), "target": randn(N, K).softmax(1)}
    cases.append(run_case("cross_entropy_soft_ls0.2", "cross_entropy", params("mean", 0.2), inputs, ce("mean", 0.2),
                          no_grad=("target",)))

    torch.manual_seed(seed0 + 4)
    inputs = {"input": randn(2, 5, 3, 3), "target": torch.randint(0, 5, (2, 3, 3), dtype=torch.int64)}
    cases.append(run_case("cross_entropy_nchw_indices_ls0.1", "cross_entropy", params("mean", 0.1), inputs,
                          ce("mean", 0.1)))

    # (f), (g): same data as (a), other reductions
    torch.manual_seed(seed0 + 5)
    cases.append(run_case("cross_entropy_indices_sum", "cross_entropy", params("sum", 0.0), inputs_a, ce("sum", 0.0)))
    torch.manual_seed(seed0 + 6)
    cases.append(run_case("cross_entropy_indices_none", "cross_entropy", params("none", 0.0), inputs_a,
                          ce("none", 0.0)))
    return cases


def gen_softmax(seed0):
    cases = []
    torch.manual_seed(seed0 + 0)
    cases.append(run_case("softmax_dim1", "softmax", {"dim": 1}, {"x": randn(3, 7, 2)},
                          lambda x: torch.softmax(x, dim=1)))
    torch.manual_seed(seed0 + 1)
    cases.append(run_case("log_softmax_dim1", "log_softmax", {"dim": 1}, {"x": randn(3, 7, 2)},
                          lambda x: torch.log_softmax(x, dim=1)))
    torch.manual_seed(seed0 + 2)
    cases.append(run_case("logsumexp_dim1", "logsumexp", {"dim": [1], "keepdim": False}, {"x": randn(3, 7, 2)},
                          lambda x: torch.logsumexp(x, dim=[1], keepdim=False)))
    return cases


def gen_pooling(seed0):
    cases = []

    def avg(k, s, p, cip):
        params = {"kernel_size": _pair(k), "stride": _pair(s), "padding": _pair(p), "ceil_mode": False,
                  "count_include_pad": cip}
        return params, lambda x: F.avg_pool2d(x, k, s, p, ceil_mode=False, count_include_pad=cip)

    def mx(k, s, p):
        params = {"kernel_size": _pair(k), "stride": _pair(s), "padding": _pair(p), "dilation": [1, 1],
                  "ceil_mode": False}
        return params, lambda x: F.max_pool2d(x, k, s, p, dilation=1, ceil_mode=False)

    def ada(o):
        return {"output_size": _pair(o)}, lambda x: F.adaptive_avg_pool2d(x, o)

    specs = [
        ("avg_pool2d_k2_s2", "avg_pool2d", avg(2, 2, 0, True), [2, 3, 6, 6]),
        ("avg_pool2d_k3_s2_p1_include_pad", "avg_pool2d", avg(3, 2, 1, True), [1, 2, 7, 7]),
        ("max_pool2d_k2_s2", "max_pool2d", mx(2, 2, 0), [2, 3, 6, 6]),
        ("max_pool2d_k3_s1_p1", "max_pool2d", mx(3, 1, 1), [1, 2, 5, 5]),
        ("adaptive_avg_pool2d_1", "adaptive_avg_pool2d", ada(1), [2, 3, 5, 5]),
        ("adaptive_avg_pool2d_2x3", "adaptive_avg_pool2d", ada([2, 3]), [1, 2, 5, 7]),
    ]
    for i, (name, op, (params, fn), shape) in enumerate(specs):
        torch.manual_seed(seed0 + i)
        inputs = {"x": randn(*shape)}
        if op != "max_pool2d":
            gradcheck64(fn, inputs)
        cases.append(run_case(name, op, params, inputs, fn))
    return cases


def gen_var_std(seed0):
    cases = []
    i = 0
    for op, f in (("var", torch.var), ("std", torch.std)):
        for unbiased in (True, False):
            torch.manual_seed(seed0 + i)
            i += 1
            params = {"dim": [1, 2], "unbiased": unbiased, "correction": 1 if unbiased else 0, "keepdim": False}
            cases.append(run_case(
                "%s_dim12_%s" % (op, "unbiased" if unbiased else "biased"), op, params, {"x": randn(3, 4, 5)},
                lambda x, f=f, u=unbiased: f(x, dim=[1, 2], unbiased=u, keepdim=False)))
    return cases


FAMILIES = [
    ("conv2d.json", gen_conv2d, 1000),
    ("layer_norm.json", gen_layer_norm, 2000),
    ("gelu.json", gen_gelu, 3000),
    ("matmul.json", gen_matmul, 4000),
    ("cross_entropy.json", gen_cross_entropy, 5000),
    ("softmax.json", gen_softmax, 6000),
    ("pooling.json", gen_pooling, 7000),
    ("var_std.json", gen_var_std, 8000),
]


def dumps(obj):
    return json.dumps(obj, separators=(",", ":"), allow_nan=False)


def write_family(fname, cases):
    # one case per line: still valid JSON, and diffs stay readable
    head = '{"generator":%s,"torch_version":%s,"cases":[\n' % (dumps(GENERATOR), dumps(torch.__version__))
    body = ",\n".join(dumps(c) for c in cases)
    text = head + body + "\n]}\n"
    parsed = json.loads(text)
    assert len(parsed["cases"]) == len(cases)
    path = os.path.join(OUT_DIR, fname)
    with open(path, "w") as f:
        f.write(text)
    return path, len(text.encode("utf-8"))


def main():
    os.makedirs(OUT_DIR, exist_ok=True)
    total = 0
    for fname, gen, seed0 in FAMILIES:
        cases = gen(seed0)
        path, size = write_family(fname, cases)
        total += size
        print("%-22s %3d cases %8d bytes" % (fname, len(cases), size))
    print("%-22s           %8d bytes" % ("total", total))


if __name__ == "__main__":
    sys.exit(main())
