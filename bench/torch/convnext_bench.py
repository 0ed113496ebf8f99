"""PyTorch CPU anchors for bench/suites/convnext.ts: ConvNeXt-T forward at 224 and one
ConvNeXt-atto AdamW training step (32x32, 2x2 stem, batch 64), timed on N threads, and the
bytes of activations autograd saves for that step. Prints one JSON object.

Run by the bench with /usr/bin/python3 (Debian's python3-torch)."""
import json, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F


class LayerNorm(nn.Module):
    def __init__(self, c, eps=1e-6, channels_first=False):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.eps, self.cf, self.c = eps, channels_first, (c,)

    def forward(self, x):
        if not self.cf:
            return F.layer_norm(x, self.c, self.weight, self.bias, self.eps)
        u = x.mean(1, keepdim=True)
        s = (x - u).pow(2).mean(1, keepdim=True)
        x = (x - u) / torch.sqrt(s + self.eps)
        return self.weight[:, None, None] * x + self.bias[:, None, None]


class Block(nn.Module):
    def __init__(self, d):
        super().__init__()
        self.dwconv = nn.Conv2d(d, d, 7, padding=3, groups=d)
        self.norm = LayerNorm(d)
        self.pwconv1 = nn.Linear(d, 4 * d)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * d, d)
        self.gamma = nn.Parameter(1e-6 * torch.ones(d))

    def forward(self, x):
        y = self.dwconv(x).permute(0, 2, 3, 1)
        y = self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        return x + (self.gamma * y).permute(0, 3, 1, 2)


class ConvNeXt(nn.Module):
    def __init__(self, depths, dims, classes, stem):
        super().__init__()
        self.downsample_layers = nn.ModuleList([nn.Sequential(nn.Conv2d(3, dims[0], stem, stride=stem), LayerNorm(dims[0], channels_first=True))])
        for i in range(3):
            self.downsample_layers.append(nn.Sequential(LayerNorm(dims[i], channels_first=True), nn.Conv2d(dims[i], dims[i + 1], 2, stride=2)))
        self.stages = nn.ModuleList([nn.Sequential(*[Block(dims[i]) for _ in range(depths[i])]) for i in range(4)])
        self.norm = nn.LayerNorm(dims[-1], eps=1e-6)
        self.head = nn.Linear(dims[-1], classes)

    def forward(self, x):
        for i in range(4):
            x = self.stages[i](self.downsample_layers[i](x))
        return self.head(self.norm(x.mean([-2, -1])))


def timed(fn, min_time=2.0, min_iters=2):
    fn()  # warm up
    n, start = 0, time.perf_counter()
    while n < min_iters or time.perf_counter() - start < min_time:
        fn()
        n += 1
    return (time.perf_counter() - start) / n * 1000


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    out = {"threads": threads, "torch": torch.__version__, "blas": "openblas" if "openblas" in torch.__config__.show().lower() else "other"}
    tiny = ConvNeXt([3, 3, 9, 3], [96, 192, 384, 768], 1000, 4).eval()
    with torch.no_grad():
        for b in (1, 8):
            x = torch.randn(b, 3, 224, 224)
            out[f"tiny_fwd_b{b}_ms"] = timed(lambda: tiny(x))
    atto = ConvNeXt([2, 2, 6, 2], [40, 80, 160, 320], 10, 2)
    opt = torch.optim.AdamW(atto.parameters(), lr=1e-3, weight_decay=0.05)
    x = torch.randn(64, 3, 32, 32)
    y = torch.randint(0, 10, (64,))

    def step():
        loss = F.cross_entropy(atto(x), y, label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()

    out["atto_step_b64_ms"] = timed(step)
    # Bytes of the distinct storages autograd saves for backward in one step.
    seen = {}

    def pack(t):
        s = t.untyped_storage() if hasattr(t, "untyped_storage") else t.storage()
        seen[s.data_ptr()] = s.nbytes() if hasattr(s, "nbytes") else s.size() * t.element_size()
        return t

    params = {p.data_ptr() for p in atto.parameters()}
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        loss = F.cross_entropy(atto(x), y, label_smoothing=0.1)
    out["atto_saved_activation_bytes"] = sum(v for k, v in seen.items() if k not in params and k != x.data_ptr())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
