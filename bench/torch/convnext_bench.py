"""PyTorch CPU anchors for the ConvNeXt benches, timed on N threads; prints one JSON object.

  convnext_bench.py N            # bench/suites/convnext.ts: ConvNeXt-T forward at 224 (batch
                                 # 1 and 8), one ConvNeXt-atto AdamW step (32x32, 2x2 stem,
                                 # batch 64), the activation bytes autograd saves for that step
  convnext_bench.py N --targets  # bench/suites/targets.ts: ConvNeXt-T forward batch 1, the atto
                                 # step and its saved bytes, and on 1 thread depthwise 7x7 and
                                 # LayerNorm+GELU forward+backward

Times are medians of timed runs after one warm-up. Run by the bench with /usr/bin/python3
(Debian's python3-torch); bench/torch/blas_core.py makes it use OpenBLAS with the right core
(see bench/setup.sh) and the JSON says which BLAS and core it measured with."""
import json, os, statistics, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import blas_core  # noqa: E402

blas_core.use_local_openblas()  # may re-execute this process, before torch loads libblas
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

blas_core.fix_core()  # may re-execute with OPENBLAS_CORETYPE set

# The one PyTorch ConvNeXt, shared with the fixture scripts.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "packages", "convnext", "scripts"))
from convnext_torch import ConvNeXt  # noqa: E402


def timed(fn, min_time=2.0, min_iters=3, max_iters=50):
    """Median ms of at least `min_iters` runs filling `min_time` seconds, after one warm-up."""
    fn()
    runs, start = [], time.perf_counter()
    while len(runs) < min_iters or (time.perf_counter() - start < min_time and len(runs) < max_iters):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1000)
    return statistics.median(runs)


def saved_bytes(fn, exclude):
    """Bytes of the distinct storages autograd saves for backward while `fn` runs forward."""
    seen = {}

    def pack(t):
        s = t.untyped_storage() if hasattr(t, "untyped_storage") else t.storage()
        seen[s.data_ptr()] = s.nbytes() if hasattr(s, "nbytes") else s.size() * t.element_size()
        return t

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        fn()
    return sum(v for k, v in seen.items() if k not in exclude)


def main():
    threads = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    targets = "--targets" in sys.argv[2:]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    info = blas_core.blas_info()
    out = {"threads": threads, "torch": torch.__version__, "blas": "openblas" if info["openblas"] else "other", "blas_info": info, "blas_line": blas_core.describe(info)}
    tiny = ConvNeXt(depths=[3, 3, 9, 3], dims=[96, 192, 384, 768], num_classes=1000, stem_stride=4).eval()
    with torch.no_grad():
        for b in (1,) if targets else (1, 8):
            x = torch.randn(b, 3, 224, 224)
            out[f"tiny_fwd_b{b}_ms"] = timed(lambda: tiny(x))
    del tiny
    atto = ConvNeXt(depths=[2, 2, 6, 2], dims=[40, 80, 160, 320], num_classes=10, stem_stride=2)
    opt = torch.optim.AdamW(atto.parameters(), lr=1e-3, weight_decay=0.05)
    x = torch.randn(64, 3, 32, 32)
    y = torch.randint(0, 10, (64,))

    def step():
        loss = F.cross_entropy(atto(x), y, label_smoothing=0.1)
        opt.zero_grad()
        loss.backward()
        opt.step()

    out["atto_step_b64_ms"] = timed(step, min_time=3.0)
    params = {p.data_ptr() for p in atto.parameters()} | {x.data_ptr()}
    out["atto_saved_activation_bytes"] = saved_bytes(lambda: F.cross_entropy(atto(x), y, label_smoothing=0.1), params)
    if targets and threads == 1:
        # The kernels of bench/suites/wasm.ts: depthwise 7x7 on 8x96x56x56 (NCHW) and
        # LayerNorm(96)+GELU on 8x56x56x96 (channels last), forward + backward of a sum.
        xd = torch.randn(8, 96, 56, 56, requires_grad=True)
        wd = torch.randn(96, 1, 7, 7, requires_grad=True)

        def dw():
            F.conv2d(xd, wd, padding=3, groups=96).sum().backward()
            xd.grad = None
            wd.grad = None

        out["dw7_fwd_bwd_ms"] = timed(dw)
        xl = torch.randn(8, 56, 56, 96, requires_grad=True)
        lw = torch.randn(96, requires_grad=True)
        lb = torch.randn(96, requires_grad=True)

        def ln():
            F.gelu(F.layer_norm(xl, (96,), lw, lb, 1e-6)).sum().backward()
            xl.grad = lw.grad = lb.grad = None

        out["ln_gelu_fwd_bwd_ms"] = timed(ln)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
