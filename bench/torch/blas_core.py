"""Which BLAS core PyTorch's OpenBLAS runs, set right before the bench times anything.

Debian's python3-torch calls whatever libblas.so.3 points at. With OpenBLAS (package
libopenblas0-pthread, a DYNAMIC_ARCH build) the core is picked at load time from CPUID, and
on a VM whose CPU model is generic ("Intel Xeon", "AMD EPYC") it can pick Prescott (SSE3,
no AVX): PyTorch then runs about 3x slower and every ratio against it flatters us. So:

1. `use_local_openblas()` (before torch is imported): when the system's libblas.so.3 is
   not OpenBLAS but bench/setup.sh unpacked one into bench/.openblas, re-execute this
   process with that folder first on LD_LIBRARY_PATH.
2. `fix_core()` (after torch is imported): read the core OpenBLAS picked
   (openblas_get_corename through ctypes on the loaded library); when it is a pre-AVX2 core
   on a CPU with AVX2 or AVX-512 (lscpu/cpuinfo flags) and OPENBLAS_CORETYPE is unset,
   re-execute with OPENBLAS_CORETYPE naming the right core (avx512 -> SkylakeX,
   avx2 -> Haswell, or Zen on AMD).
3. `blas_info()`: what was used, for the results table.

Run alone (`/usr/bin/python3 bench/torch/blas_core.py`) it prints that report.
"""
import ctypes, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
LOCAL = os.path.join(HERE, "..", ".openblas", "usr", "lib", "x86_64-linux-gnu", "openblas-pthread")
# Cores without AVX2/FMA: wrong on any CPU that has them.
OLD_CORES = {"prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "katmai", "coppermine", "northwood", "banias", "opteron", "opteron_sse3", "barcelona", "bobcat", "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator"}


def _reexec(env):
    os.execve(sys.executable, [sys.executable] + sys.argv, env)


def use_local_openblas():
    """Re-execute with bench/.openblas on LD_LIBRARY_PATH when the system BLAS is not OpenBLAS."""
    system = os.path.realpath("/usr/lib/x86_64-linux-gnu/libblas.so.3")
    if "openblas" in system or not os.path.isdir(LOCAL):
        return
    path = os.environ.get("LD_LIBRARY_PATH", "")
    if os.path.realpath(LOCAL) in [os.path.realpath(p) for p in path.split(":") if p]:
        return
    _reexec({**os.environ, "LD_LIBRARY_PATH": LOCAL + (":" + path if path else "")})


def cpu_flags():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def cpu_vendor():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("vendor_id"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def right_core(flags, vendor):
    """The OpenBLAS core for these CPU flags (None: nothing better than what was picked)."""
    if {"avx512f", "avx512bw", "avx512vl", "avx512dq"} <= flags:
        return "SkylakeX"
    if {"avx2", "fma"} <= flags:
        return "Zen" if vendor == "AuthenticAMD" else "Haswell"
    return None


def _openblas():
    libs = sorted({l.split()[-1] for l in open("/proc/self/maps") if "blas" in l.lower() and "/" in l})
    ob = [p for p in libs if "openblas" in os.path.basename(p)]
    return libs, (ob[0] if ob else None)


def fix_core():
    """After `import torch`: re-execute with OPENBLAS_CORETYPE set when DYNAMIC_ARCH picked a pre-AVX2 core."""
    _, lib = _openblas()
    if lib is None or os.environ.get("OPENBLAS_CORETYPE"):
        return
    core = _corename(lib)
    want = right_core(cpu_flags(), cpu_vendor())
    if core and want and core.lower() in OLD_CORES:
        print(f"blas_core: OpenBLAS picked {core} on a CPU with {want}-class SIMD; re-running with OPENBLAS_CORETYPE={want}", file=sys.stderr)
        os.environ["TSGRAD_BENCH_BLAS_PICKED"] = core
        _reexec({**os.environ, "OPENBLAS_CORETYPE": want})


def _corename(lib):
    try:
        ob = ctypes.CDLL(lib)
        ob.openblas_get_corename.restype = ctypes.c_char_p
        return ob.openblas_get_corename().decode()
    except (OSError, AttributeError):
        return None


def blas_info():
    """The BLAS PyTorch runs with: libraries mapped, OpenBLAS core and config, what set the core."""
    libs, lib = _openblas()
    out = {"libs": [os.path.basename(p) for p in libs], "openblas": lib is not None, "core": None, "config": None,
           "coretype_env": os.environ.get("OPENBLAS_CORETYPE"), "picked_before": os.environ.get("TSGRAD_BENCH_BLAS_PICKED"),
           "right_core": right_core(cpu_flags(), cpu_vendor())}
    if lib:
        out["core"] = _corename(lib)
        try:
            ob = ctypes.CDLL(lib)
            ob.openblas_get_config.restype = ctypes.c_char_p
            out["config"] = ob.openblas_get_config().decode().strip()
        except (OSError, AttributeError):
            pass
    return out


def describe(info):
    """One line for the table: 'OpenBLAS 0.3.21 ... core SkylakeX (set by OPENBLAS_CORETYPE; DYNAMIC_ARCH picked Prescott)'."""
    if not info["openblas"]:
        return f"not OpenBLAS ({', '.join(info['libs']) or 'no BLAS mapped'}): the reference BLAS makes PyTorch slow; run bench/setup.sh"
    how = "picked by DYNAMIC_ARCH" if not info["coretype_env"] else f"set by OPENBLAS_CORETYPE={info['coretype_env']}"
    if info["picked_before"]:
        how += f"; DYNAMIC_ARCH had picked {info['picked_before']}"
    if info["core"] and info["core"].lower() in OLD_CORES and info["right_core"]:
        how += f"; WARNING: this CPU runs {info['right_core']}, PyTorch is slowed"
    return f"{info['config'] or 'OpenBLAS'}; core {info['core']} ({how})"


if __name__ == "__main__":
    use_local_openblas()
    import torch  # noqa: F401  (loads libblas.so.3)
    fix_core()
    info = blas_info()
    print(describe(info))
    print(json.dumps(info))
