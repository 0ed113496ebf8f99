#!/usr/bin/env python3
"""Golden fixture for @tsgrad/convnext's torchvision-exact ResNet-50.

Run from the repository root:

    /usr/bin/python3 packages/convnext/scripts/gen_resnet_fixtures.py

Writes packages/convnext/test/fixtures/resnet/resnet50_64.json: torchvision's own
`resnet50(num_classes=10)` (Debian python3-torchvision) on a 2x3x64x64 input with every
parameter AND every BatchNorm running statistic set from the counter-based hash of
gen_convnext_fixtures.py (mirrored in packages/convnext/test/helpers/golden.ts), so weights
are not stored. Stored: eval-mode logits (running statistics), train-mode logits and loss,
a summary + samples of every parameter's gradient in both modes, and every running
statistic after that one train-mode forward (momentum 0.1, unbiased variance).

Train-mode BatchNorm over few values per channel (layer4 sees 2x2x2 = 8) is ill-conditioned:
torch's own float32 gradients differ from its float64 ones by up to ~20% in layer4. So the
reference values are computed in float64, and each tensor also records `torch32_err`, the
scaled error of torch's float32 run against that reference (same metrics as the test uses);
the test allows ours a small multiple of it (never less than its base tolerance).
"""

import json
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F
import torchvision

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_convnext_fixtures import det_input, det_param, det_uniform, full, sample_positions, summary  # noqa: E402

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "resnet", "resnet50_64.json"))
PARAM_SEED0 = 1000
BUFFER_SEED0 = 5000
SAMPLES = 16
LABELS = [3, 8]


def det_buffer(name, shape, seed):
    """Running mean 0.25*u, running var 1 + 0.5*u (u in [-1, 1) from det_uniform)."""
    v = det_uniform(int(np.prod(shape)), seed)
    vals = 1.0 + 0.5 * v if name.endswith("running_var") else 0.25 * v
    return torch.from_numpy(vals.astype(np.float32).reshape(shape))


def scaled_err(ours, ref, k):
    """The test's metric: worst of sum/sum|x|/max|x| (relative) and samples (relative to max|x|)."""
    a = ours.detach().double().contiguous().view(-1)
    b = ref.detach().double().contiguous().view(-1)
    scale = max(b.abs().max().item(), 1e-30)
    sa = max(b.abs().sum().item(), 1e-30)
    pos = torch.tensor(sample_positions(b.numel(), k), dtype=torch.int64)
    return max(abs(a.sum().item() - b.sum().item()) / sa, abs(a.abs().sum().item() - sa) / sa,
               abs(a.abs().max().item() - b.abs().max().item()) / scale, (a[pos] - b[pos]).abs().max().item() / scale)


def full_err(ours, ref):
    return ((ours.double() - ref.double()).abs().max() / max(ref.double().abs().max().item(), 1e-30)).item()


def run(dtype):
    model = torchvision.models.resnet50(num_classes=10)
    with torch.no_grad():
        for k, (name, p) in enumerate(model.named_parameters()):
            p.copy_(det_param(name, tuple(p.shape), PARAM_SEED0 + k))
        stats = [(n, b) for n, b in model.named_buffers() if not n.endswith("num_batches_tracked")]
        for k, (name, b) in enumerate(stats):
            b.copy_(det_buffer(name, tuple(b.shape), BUFFER_SEED0 + k))
    model = model.to(dtype)
    x = det_input((2, 3, 64, 64)).to(dtype)
    labels = torch.tensor(LABELS)
    model.eval()
    logits_eval = model(x)
    F.cross_entropy(logits_eval, labels).backward()
    grads_eval = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    model.zero_grad()
    logits_eval = logits_eval.detach()
    model.train()
    logits = model(x)
    loss = F.cross_entropy(logits, labels)
    loss.backward()
    grads = {n: p.grad.detach() for n, p in model.named_parameters()}
    # (model.to() replaced the buffers: read them from the model again.)
    after = {n: b.detach() for n, b in model.named_buffers() if not n.endswith("num_batches_tracked")}
    return model, stats, logits_eval, logits.detach(), loss.item(), grads, after, grads_eval


def main():
    torch.set_num_threads(1)
    model, stats, logits_eval, logits, loss, grads, after, grads_eval = run(torch.float64)
    _, _, e32, l32, loss32, g32, a32, ge32 = run(torch.float32)
    out = {
        "name": "resnet50_64",
        "generator": "packages/convnext/scripts/gen_resnet_fixtures.py",
        "torch_version": torch.__version__,
        "torchvision_version": torchvision.__version__,
        "num_classes": 10,
        "batch": 2,
        "size": 64,
        "labels": LABELS,
        "param_seed0": PARAM_SEED0,
        "buffer_seed0": BUFFER_SEED0,
        "samples_per_tensor": SAMPLES,
        "param_names": [n for n, _ in model.named_parameters()],
        "stat_names": [n for n, _ in stats],
        "state_dict_keys": list(model.state_dict().keys()),
        "param_count": sum(p.numel() for p in model.parameters()),
        "reference_dtype": "float64",
        "logits_eval": dict(full(logits_eval.float()), torch32_err=full_err(e32, logits_eval)),
        "logits_train": dict(full(logits.float()), torch32_err=full_err(l32, logits)),
        "loss": loss,
        "loss_torch32": loss32,
        "grads": {n: dict(summary(g, SAMPLES), torch32_err=scaled_err(g32[n], g, SAMPLES)) for n, g in grads.items()},
        "grads_eval": {n: dict(summary(g, SAMPLES), torch32_err=scaled_err(ge32[n], g, SAMPLES)) for n, g in grads_eval.items()},
        "stats_after": {n: dict(summary(b, SAMPLES), torch32_err=scaled_err(a32[n], b, SAMPLES)) for n, b in after.items()},
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(out, f, separators=(",", ":"))
        f.write("\n")
    print("wrote", OUT, os.path.getsize(OUT), "bytes; loss", out["loss"], "worst torch32 err: train grads", max(v["torch32_err"] for v in out["grads"].values()),
          "eval grads", max(v["torch32_err"] for v in out["grads_eval"].values()), "stats", max(v["torch32_err"] for v in out["stats_after"].values()))


if __name__ == "__main__":
    main()
