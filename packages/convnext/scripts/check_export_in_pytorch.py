#!/usr/bin/python3
"""Loads tsgrad's safetensors exports into PyTorch models strictly, and writes the round-trip
fixtures (PyTorch continues training tsgrad's weights and saves them back).

Run from the repository root after scripts/write-export-fixtures.ts (tested with torch 1.13):

    node_modules/.bin/tsx --conditions=source packages/convnext/scripts/write-export-fixtures.ts
    /usr/bin/python3 packages/convnext/scripts/check_export_in_pytorch.py

What it checks (fails loudly otherwise):

* tsgrad_official.safetensors loads with load_state_dict(strict=True) into the official
  ConvNeXt class (facebookresearch/ConvNeXt models/convnext.py, copied below as is, with
  depths/dims of the mini model) and gives tsgrad's logits (tsgrad_io.safetensors).
* tsgrad_timm.safetensors loads strictly into a module with timm's ConvNeXt layout (stem,
  stages.i.downsample, stages.i.blocks.j.{conv_dw,norm,mlp.fc1,mlp.fc2,gamma}, head.norm,
  head.fc; timm itself is not installed here) and gives the same logits.

What it writes into test/fixtures/export/ (the tests need no PyTorch):

* pytorch_check.json       torch version, PyTorch's logits of both loads, their max |diff| to tsgrad's.
* roundtrip_official.pth   after one AdamW step on a random batch, saved as the official
                           main.py saves: {"model", "optimizer", "epoch", "args": Namespace}.
* roundtrip_timm.pth       the same for the timm layout, as timm's train.py saves: {"state_dict", "arch", "epoch"}.
* roundtrip_io.pth         {"input", "logits_official", "logits_timm"}: PyTorch's logits after the step.
"""
import argparse
import collections
import json
import os
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
DIR = os.path.join(HERE, "..", "test", "fixtures", "export")
DEPTHS, DIMS, CLASSES = [1, 1, 1, 1], [4, 8, 12, 16], 5

ST_DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32}


def load_safetensors(path):
    """safetensors without the safetensors package: 8-byte header length, JSON header, raw data."""
    with open(path, "rb") as f:
        data = f.read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    out = collections.OrderedDict()
    for name, info in header.items():
        b, e = info["data_offsets"]
        buf = bytearray(data[8 + n + b : 8 + n + e])
        out[name] = torch.frombuffer(buf, dtype=ST_DTYPES[info["dtype"]]).reshape(info["shape"]).clone()
    return out, meta


# ---- facebookresearch/ConvNeXt models/convnext.py (MIT), unchanged but for DropPath/trunc_normal_ imports ----
class DropPath(nn.Module):
    def __init__(self, p):
        super().__init__()
        self.p = p

    def forward(self, x):
        if not self.training or self.p == 0.0:
            return x
        keep = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(1 - self.p)
        return x * keep / (1 - self.p)


class LayerNorm(nn.Module):
    def __init__(self, normalized_shape, eps=1e-6, data_format="channels_last"):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(normalized_shape))
        self.bias = nn.Parameter(torch.zeros(normalized_shape))
        self.eps = eps
        self.data_format = data_format
        if self.data_format not in ["channels_last", "channels_first"]:
            raise NotImplementedError
        self.normalized_shape = (normalized_shape,)

    def forward(self, x):
        if self.data_format == "channels_last":
            return F.layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)
        elif self.data_format == "channels_first":
            u = x.mean(1, keepdim=True)
            s = (x - u).pow(2).mean(1, keepdim=True)
            x = (x - u) / torch.sqrt(s + self.eps)
            x = self.weight[:, None, None] * x + self.bias[:, None, None]
            return x


class Block(nn.Module):
    def __init__(self, dim, drop_path=0.0, layer_scale_init_value=1e-6):
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(layer_scale_init_value * torch.ones((dim)), requires_grad=True) if layer_scale_init_value > 0 else None
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()

    def forward(self, x):
        input = x
        x = self.dwconv(x)
        x = x.permute(0, 2, 3, 1)
        x = self.norm(x)
        x = self.pwconv1(x)
        x = self.act(x)
        x = self.pwconv2(x)
        if self.gamma is not None:
            x = self.gamma * x
        x = x.permute(0, 3, 1, 2)
        x = input + self.drop_path(x)
        return x


class ConvNeXt(nn.Module):
    def __init__(self, in_chans=3, num_classes=1000, depths=[3, 3, 9, 3], dims=[96, 192, 384, 768], drop_path_rate=0.0, layer_scale_init_value=1e-6, head_init_scale=1.0):
        super().__init__()
        self.downsample_layers = nn.ModuleList()
        stem = nn.Sequential(nn.Conv2d(in_chans, dims[0], kernel_size=4, stride=4), LayerNorm(dims[0], eps=1e-6, data_format="channels_first"))
        self.downsample_layers.append(stem)
        for i in range(3):
            downsample_layer = nn.Sequential(LayerNorm(dims[i], eps=1e-6, data_format="channels_first"), nn.Conv2d(dims[i], dims[i + 1], kernel_size=2, stride=2))
            self.downsample_layers.append(downsample_layer)
        self.stages = nn.ModuleList()
        dp_rates = [x.item() for x in torch.linspace(0, drop_path_rate, sum(depths))]
        cur = 0
        for i in range(4):
            stage = nn.Sequential(*[Block(dim=dims[i], drop_path=dp_rates[cur + j], layer_scale_init_value=layer_scale_init_value) for j in range(depths[i])])
            self.stages.append(stage)
            cur += depths[i]
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = nn.Linear(dims[-1], num_classes)
        self.apply(self._init_weights)
        self.head.weight.data.mul_(head_init_scale)
        self.head.bias.data.mul_(head_init_scale)

    def _init_weights(self, m):
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.trunc_normal_(m.weight, std=0.02)
            nn.init.constant_(m.bias, 0)

    def forward_features(self, x):
        for i in range(4):
            x = self.downsample_layers[i](x)
            x = self.stages[i](x)
        return self.norm(x.mean([-2, -1]))

    def forward(self, x):
        x = self.forward_features(x)
        x = self.head(x)
        return x


# ---- timm's ConvNeXt module layout (timm/models/convnext.py, conv_mlp=False), names only ----
class TimmMlp(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.fc1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(4 * dim, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class TimmBlock(nn.Module):
    def __init__(self, dim):
        super().__init__()
        self.conv_dw = nn.Conv2d(dim, dim, kernel_size=7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = TimmMlp(dim)
        self.gamma = nn.Parameter(torch.ones(dim))

    def forward(self, x):
        y = self.conv_dw(x).permute(0, 2, 3, 1)
        y = self.mlp(self.norm(y)) * self.gamma
        return x + y.permute(0, 3, 1, 2)


class TimmStage(nn.Module):
    def __init__(self, cin, cout, depth, first):
        super().__init__()
        self.downsample = nn.Identity() if first else nn.Sequential(LayerNorm(cin, data_format="channels_first"), nn.Conv2d(cin, cout, 2, 2))
        self.blocks = nn.Sequential(*[TimmBlock(cout) for _ in range(depth)])

    def forward(self, x):
        return self.blocks(self.downsample(x))


class TimmHead(nn.Module):
    def __init__(self, dim, classes):
        super().__init__()
        self.norm = LayerNorm(dim, data_format="channels_first")  # timm: LayerNorm2d on [N, C, 1, 1]
        self.fc = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.norm(x.mean((2, 3), keepdim=True)).flatten(1)
        return self.fc(x)


class TimmConvNeXt(nn.Module):
    def __init__(self, depths, dims, classes):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, dims[0], 4, 4), LayerNorm(dims[0], data_format="channels_first"))
        self.stages = nn.Sequential(*[TimmStage(dims[max(i - 1, 0)], dims[i], depths[i], i == 0) for i in range(4)])
        self.head = TimmHead(dims[-1], classes)

    def forward(self, x):
        return self.head(self.stages(self.stem(x)))


def one_step(model, seed):
    """One AdamW step on a random batch, as a continued training run would take."""
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(4, 3, 32, 32, generator=g)
    y = torch.randint(0, CLASSES, (4,), generator=g)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.05)
    model.train()
    loss = F.cross_entropy(model(x), y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    model.eval()
    return opt


def main():
    io, _ = load_safetensors(os.path.join(DIR, "tsgrad_io.safetensors"))
    x, want = io["input"], io["logits"]
    official_sd, meta = load_safetensors(os.path.join(DIR, "tsgrad_official.safetensors"))
    timm_sd, _ = load_safetensors(os.path.join(DIR, "tsgrad_timm.safetensors"))
    print("metadata:", meta)

    official = ConvNeXt(num_classes=CLASSES, depths=DEPTHS, dims=DIMS).eval()
    official.load_state_dict(official_sd, strict=True)
    timm_like = TimmConvNeXt(DEPTHS, DIMS, CLASSES).eval()
    timm_like.load_state_dict(timm_sd, strict=True)
    with torch.no_grad():
        lo, lt = official(x), timm_like(x)
    d_off, d_timm = (lo - want).abs().max().item(), (lt - want).abs().max().item()
    print("official ConvNeXt, strict load: max |PyTorch - tsgrad| logits = %.3g" % d_off)
    print("timm layout, strict load:       max |PyTorch - tsgrad| logits = %.3g" % d_timm)
    assert d_off < 1e-5 and d_timm < 1e-5, "PyTorch's logits differ from tsgrad's"
    with open(os.path.join(DIR, "pytorch_check.json"), "w") as f:
        json.dump({"torch_version": torch.__version__, "max_abs_diff_official": d_off, "max_abs_diff_timm": d_timm,
                   "logits_official": lo.reshape(-1).tolist(), "logits_timm": lt.reshape(-1).tolist()}, f, indent=1)

    # Round trip: PyTorch continues training and saves as its training scripts do.
    opt = one_step(official, 1)
    torch.save({"model": official.state_dict(), "optimizer": opt.state_dict(), "epoch": 1,
                "args": argparse.Namespace(model="convnext_mini", lr=1e-2, weight_decay=0.05)},
               os.path.join(DIR, "roundtrip_official.pth"))
    one_step(timm_like, 1)
    torch.save({"state_dict": timm_like.state_dict(), "arch": "convnext_mini", "epoch": 1}, os.path.join(DIR, "roundtrip_timm.pth"))
    with torch.no_grad():
        lo2, lt2 = official(x), timm_like(x)
    assert (lo2 - lo).abs().max() > 1e-3, "the optimizer step must change the logits"
    torch.save({"input": x, "logits_official": lo2, "logits_timm": lt2}, os.path.join(DIR, "roundtrip_io.pth"))
    print("round trip written; logits after one AdamW step (official):", [round(v, 5) for v in lo2[0].tolist()])
    for name in sorted(os.listdir(DIR)):
        print("  %-30s %7d bytes" % (name, os.path.getsize(os.path.join(DIR, name))))


if __name__ == "__main__":
    main()
