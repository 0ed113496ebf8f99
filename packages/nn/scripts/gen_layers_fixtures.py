#!/usr/bin/env python3
"""Golden fixtures for the @tsgrad/nn layers added for PyTorch parity (issue 8): Conv1d,
ConvTranspose2d, Upsample, BatchNorm1d, InstanceNorm2d, Embedding, MultiheadAttention and
the activations.

Run from the repository root:

    /usr/bin/python3 packages/nn/scripts/gen_layers_fixtures.py

Writes packages/nn/test/fixtures/torch/layers.json. For each case: the full state dict
(keys in PyTorch's order, values loaded into the tsgrad layer), the inputs, the output,
a cotangent, and the gradients of sum(out * cot) with respect to every float input and
parameter. Deterministic (fixed seeds, one thread). Tensors are {"shape", "data"}.
"""

import json
import os

import torch
import torch.nn as nn

OUT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "torch", "layers.json"))

torch.set_num_threads(1)


def T(t):
    t = t.detach()
    if t.dtype == torch.bool:
        return {"shape": list(t.shape), "data": t.int().view(-1).tolist(), "dtype": "bool"}
    if not t.is_floating_point():
        return {"shape": list(t.shape), "data": t.reshape(-1).tolist(), "dtype": "int32"}
    t = t.float().contiguous()
    return {"shape": list(t.shape), "data": t.double().view(-1).tolist()}


def case(name, module, inputs, call=None, extra=None, randomize=True):
    """Randomizes the float parameters, runs the module and backpropagates sum(out * cot)."""
    module = module.float()
    if randomize:
        with torch.no_grad():
            for p in module.parameters():
                p.copy_(torch.randn_like(p))
    state = {k: T(v) for k, v in module.state_dict().items()}
    ins = [x.clone().requires_grad_(True) if x.is_floating_point() else x for x in inputs]
    out = call(module, *ins) if call else module(*ins)
    cot = torch.randn(out.shape)
    (out * cot).sum().backward()
    c = {
        "name": name,
        "state": state,
        "state_keys": list(module.state_dict().keys()),
        "inputs": [T(x) for x in ins],
        "output": T(out),
        "cotangent": T(cot),
        "grad_inputs": [T(x.grad) if x.is_floating_point() and x.grad is not None else None for x in ins],
        "grad_params": {k: T(p.grad) for k, p in module.named_parameters() if p.grad is not None},
    }
    if extra:
        c.update(extra(module))
    return c


def cases():
    torch.manual_seed(0)
    out = []
    out.append(case("conv1d", nn.Conv1d(4, 6, 3, stride=2, padding=1, dilation=2, groups=2), [torch.randn(2, 4, 9)]))
    out.append(case("conv1d_unbatched", nn.Conv1d(3, 2, 4, bias=False), [torch.randn(3, 7)]))
    out.append(case("conv_transpose2d", nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2), [torch.randn(1, 4, 3, 3)]))
    out.append(case("conv_transpose2d_dil", nn.ConvTranspose2d(3, 2, (2, 3), stride=(3, 2), padding=(1, 2), dilation=(1, 2), bias=False), [torch.randn(1, 3, 4, 5)]))
    out.append(case("conv_transpose2d_crop", nn.ConvTranspose2d(2, 3, 2, stride=1, padding=(2, 1)), [torch.randn(2, 2, 6, 5)]))
    x = torch.randn(1, 2, 3, 4)
    out.append(case("upsample_nearest_x2", nn.Upsample(scale_factor=2, mode="nearest"), [x]))
    out.append(case("upsample_nearest_size", nn.Upsample(size=(5, 7), mode="nearest"), [x]))
    out.append(case("upsample_nearest_x1_5", nn.Upsample(scale_factor=1.5, mode="nearest"), [x]))
    out.append(case("upsample_bilinear_x2", nn.Upsample(scale_factor=2, mode="bilinear", align_corners=False), [x]))
    out.append(case("upsample_bilinear_size_ac", nn.Upsample(size=(5, 7), mode="bilinear", align_corners=True), [x]))
    out.append(case("upsample_bilinear_down", nn.Upsample(scale_factor=0.5, mode="bilinear"), [torch.randn(1, 2, 8, 6)]))
    out.append(case("upsample_bilinear_x1_7", nn.Upsample(scale_factor=1.7, mode="bilinear"), [x]))

    def bn_extra(x2, x3):
        def f(m):
            m(x2)  # a second training step
            m.eval()
            return {"train2_input": T(x2), "eval_input": T(x3), "eval_output": T(m(x3)),
                    "running_mean": T(m.running_mean), "running_var": T(m.running_var),
                    "num_batches_tracked": int(m.num_batches_tracked)}
        return f

    out.append(case("batch_norm1d_2d", nn.BatchNorm1d(3, momentum=0.2), [torch.randn(8, 3) * 2 + 1],
                    extra=bn_extra(torch.randn(8, 3), torch.randn(5, 3))))
    out.append(case("batch_norm1d_3d_cumulative", nn.BatchNorm1d(3, momentum=None), [torch.randn(4, 3, 5)],
                    extra=bn_extra(torch.randn(4, 3, 5) + 2, torch.randn(2, 3, 5))))

    def in_extra(x2):
        def f(m):
            m.eval()
            return {"eval_input": T(x2), "eval_output": T(m(x2)),
                    "running_mean": T(m.running_mean), "running_var": T(m.running_var)}
        return f

    out.append(case("instance_norm2d_affine_track", nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=0.3),
                    [torch.randn(2, 3, 4, 5) * 3 - 1], extra=in_extra(torch.randn(2, 3, 4, 5))))
    out.append(case("instance_norm2d", nn.InstanceNorm2d(3), [torch.randn(2, 3, 4, 5) * 2]))
    out.append(case("instance_norm2d_unbatched", nn.InstanceNorm2d(2, affine=True), [torch.randn(2, 3, 3)]))

    ids = torch.tensor([[1, 2, 0], [3, 0, 4], [1, 1, 2]], dtype=torch.int32)
    emb = nn.Embedding(5, 4, padding_idx=0)
    out.append(case("embedding_padding", emb, [ids], randomize=False,
                    call=lambda m, i: m(i.long())))

    mha = nn.MultiheadAttention(8, 2)
    q, k, v = torch.randn(3, 2, 8), torch.randn(4, 2, 8), torch.randn(4, 2, 8)
    kpm = torch.tensor([[False, False, True, False], [False, False, False, True]])
    am = torch.randn(3, 4)
    mha.eval()
    c = case("mha_masks", mha, [q, k, v, kpm, am],
             call=lambda m, q, k, v, kpm, am: torch.cat([t.reshape(-1) for t in m(q, k, v, key_padding_mask=kpm, attn_mask=am)]))
    out.append(c)
    mha2 = nn.MultiheadAttention(6, 3, batch_first=True, bias=False)
    mha2.eval()
    x = torch.randn(2, 5, 6)
    bm = torch.rand(6, 5, 5) < 0.3
    bm[:, :, 0] = False  # every query keeps a key
    out.append(case("mha_batch_first_boolmask_heads", mha2, [x, bm],
                    call=lambda m, x, bm: torch.cat([t.reshape(-1) for t in m(x, x, x, attn_mask=bm, average_attn_weights=False)])))
    mha3 = nn.MultiheadAttention(4, 1)
    mha3.eval()
    xu = torch.randn(5, 4)
    causal = torch.triu(torch.ones(5, 5, dtype=torch.bool), diagonal=1)
    out.append(case("mha_unbatched_causal", mha3, [xu],
                    call=lambda m, x: torch.cat([t.reshape(-1) for t in m(x, x, x, attn_mask=causal)])))

    xa = torch.cat([torch.linspace(-30, 30, 13), torch.randn(20) * 3, torch.tensor([-2.9, 2.9, 0.3, -0.7])])
    for nm, mod in [("silu", nn.SiLU()), ("softplus", nn.Softplus()), ("softplus_beta", nn.Softplus(beta=2.0, threshold=5.0)),
                    ("leaky_relu", nn.LeakyReLU(0.2)), ("elu", nn.ELU(alpha=1.5)), ("mish", nn.Mish()),
                    ("hardswish", nn.Hardswish()), ("hardsigmoid", nn.Hardsigmoid()), ("logsigmoid", nn.LogSigmoid()),
                    ("tanh", nn.Tanh()), ("sigmoid", nn.Sigmoid())]:
        # Keep inputs off the kinks (0, ±3) where the one-sided gradients are conventions.
        xs = xa[(xa.abs() > 1e-3) & ((xa.abs() - 3).abs() > 1e-3)]
        out.append(case(nm, mod, [xs]))
    return out


def main():
    data = {"generator": "packages/nn/scripts/gen_layers_fixtures.py", "torch": torch.__version__, "cases": cases()}
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes)")


if __name__ == "__main__":
    main()
