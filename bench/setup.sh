#!/usr/bin/env bash
# What `pnpm bench` needs beyond `pnpm install` (the bench is not run in CI): PyTorch for the
# CPU anchors (Debian's python3-torch at /usr/bin/python3) calling OpenBLAS
# (libopenblas0-pthread). Without OpenBLAS, python3-torch calls the reference BLAS and every
# PyTorch time is several times too slow. See bench/README.md.
#
#   bench/setup.sh           # as root: apt-get install python3-torch libopenblas0-pthread
#   bench/setup.sh --local   # without root, or to leave the system alone: unpack OpenBLAS into
#                            # bench/.openblas (the bench's PyTorch runs put it on LD_LIBRARY_PATH)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${1:-}" = --local ] || [ "$(id -u)" != 0 ]; then
  if ! [ -x /usr/bin/python3 ] || ! /usr/bin/python3 -c 'import torch' 2>/dev/null; then
    echo "bench/setup.sh: /usr/bin/python3 has no torch; as root: apt-get install python3-torch (Debian 12: PyTorch 1.13)" >&2
    exit 1
  fi
  if ! ls /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 >/dev/null 2>&1; then
    tmp=$(mktemp -d)
    (cd "$tmp" && apt-get download libopenblas0-pthread >/dev/null 2>&1)
    rm -rf bench/.openblas
    dpkg -x "$tmp"/libopenblas0-pthread_*.deb bench/.openblas
    rm -rf "$tmp"
    echo "bench/setup.sh: OpenBLAS unpacked into bench/.openblas"
  fi
else
  pkgs=()
  /usr/bin/python3 -c 'import torch' 2>/dev/null || pkgs+=(python3-torch)
  dpkg -s libopenblas0-pthread >/dev/null 2>&1 || pkgs+=(libopenblas0-pthread)
  if [ ${#pkgs[@]} -gt 0 ]; then
    apt-get update >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${pkgs[@]}" >/dev/null
  fi
fi
# The BLAS and core PyTorch will run with (bench/torch/blas_core.py sets OPENBLAS_CORETYPE
# when OpenBLAS's DYNAMIC_ARCH picks a pre-AVX2 core on this CPU).
/usr/bin/python3 bench/torch/blas_core.py | head -1
