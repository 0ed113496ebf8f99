/**
 * The wasm backend's `matmulEpilogue` (core's `fusedLinear`): operands checked and laid out
 * for the epilogue GEMM of ./gemm.ts and ./epilogue.ts. float32 only (null otherwise: core
 * composes the op).
 */
import type { MatmulEpilogue, MatmulEpilogueResult, View } from '@tsgrad/core';
import type { WasmBackend, WasmBuffer } from '../backend.js';

/** `out = residual + scale * act(a b + bias)` into fresh buffers laid out as `ep.layout` asks. */
export function matmulEpilogue(be: WasmBackend, a: View, b: View, ep: MatmulEpilogue): MatmulEpilogueResult | null {
  if (a.dtype !== 'float32' || a.shape.length !== 2 || b.shape.length !== 2) return null;
  const [M, K] = a.shape as [number, number];
  const N = b.shape[1]!;
  if (M === 0 || N === 0 || K === 0) return null;
  const G = ep.groups;
  if (!(Number.isInteger(G) && G >= 1 && M % G === 0)) throw new RangeError(`matmulEpilogue: groups ${G} must divide the ${M} rows`);
  const P = M / G;
  // Bias and scale are read as contiguous vectors.
  const temps: WasmBuffer[] = [];
  const vec = (v: View | undefined): number | undefined => {
    if (!v) return undefined;
    const c = be.contiguousView(v);
    if (c.tmp) temps.push(c.tmp);
    return c.ptr;
  };
  const bias = vec(ep.bias);
  const scale = vec(ep.scale);
  const out = be.alloc('float32', M * N);
  const pre = ep.keepPre ? be.alloc('float32', M * N) : null;
  // With an activation, the kept buffer may hold the GELU's derivative instead of its input.
  const geluGrad = pre !== null && ep.keepGeluGrad === true && ep.activation !== undefined;
  // Output strides in bytes over (group, row in group, column).
  const cs: [number, number, number] = ep.layout === 'channelsFirst' ? [N * P * 4, 4, P * 4] : [P * N * 4, N * 4, 4];
  const r = ep.residual;
  try {
    be.gemm.epilogue(be.addr(a), be.addr(b), out.ptr, { M, N, K, am: a.strides[0]! * 4, ak: a.strides[1]! * 4, bk: b.strides[0]! * 4, bn: b.strides[1]! * 4 }, {
      spec: { bias: bias !== undefined, act: ep.activation ?? 'none', scale: scale !== undefined, residual: r !== undefined, pre: pre !== null, geluGrad },
      P,
      cs,
      ...(bias !== undefined ? { bias } : {}),
      ...(scale !== undefined ? { scale } : {}),
      ...(r ? { residual: { ptr: be.addr(r), st: [r.strides[0]! * 4, r.strides[1]! * 4, r.strides[2]! * 4] as [number, number, number] } } : {}),
      ...(pre ? { pre: pre.ptr } : {}),
    });
  } finally {
    for (const t of temps) be.free(t);
  }
  return geluGrad ? { out, pre: null, geluGrad: pre } : { out, pre };
}
