"""PyTorch CPU anchors for bench/suites/convnext.ts: ConvNeXt-T forward at 224 and one
ConvNeXt-atto AdamW training step (32x32, 2x2 stem, batch 64), timed on N threads, and the
bytes of activations autograd saves for that step. Prints one JSON object.

Run by the bench with /usr/bin/python3 (Debian's python3-torch)."""
import json, os, sys, time
import torch
import torch.nn.functional as F

# The one PyTorch ConvNeXt, shared with the fixture scripts.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "packages", "convnext", "scripts"))
from convnext_torch import ConvNeXt  # noqa: E402


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
    tiny = ConvNeXt(depths=[3, 3, 9, 3], dims=[96, 192, 384, 768], num_classes=1000, stem_stride=4).eval()
    with torch.no_grad():
        for b in (1, 8):
            x = torch.randn(b, 3, 224, 224)
            out[f"tiny_fwd_b{b}_ms"] = timed(lambda: tiny(x))
    atto = ConvNeXt(depths=[2, 2, 6, 2], dims=[40, 80, 160, 320], num_classes=10, stem_stride=2)
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
