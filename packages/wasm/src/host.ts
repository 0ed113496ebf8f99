/**
 * Scalar TypeScript loops over the wasm memory, for the dtype/op pairs that have no wasm
 * kernel (transcendentals, int32 and bool arithmetic, pow, prod, arg-reductions, gather,
 * scatter, non-float32 matmul). They follow the `js` reference backend's semantics exactly,
 * including the typed-array store rules (int32 wraps, bool stores the low byte).
 */
import type { BinaryOp, CompareOp, DType, UnaryOp } from '@tsgrad/core';

/** Element offsets of every index of `shape` under `strides` from `offset` (row-major order). */
export function offsetsOf(shape: readonly number[], strides: readonly number[], offset: number): Int32Array {
  let n = 1;
  for (const d of shape) n *= d;
  const out = new Int32Array(n);
  const nd = shape.length;
  if (n === 0) return out;
  if (nd === 0) {
    out[0] = offset;
    return out;
  }
  const last = nd - 1;
  const lastLen = shape[last]!;
  const lastStride = strides[last]!;
  const idx = new Array<number>(nd).fill(0);
  let base = offset;
  let o = 0;
  while (o < n) {
    for (let j = 0, p = base; j < lastLen; j++, p += lastStride) out[o++] = p;
    let d = last - 1;
    while (d >= 0) {
      idx[d]!++;
      base += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      base -= strides[d]! * shape[d]!;
      idx[d] = 0;
      d--;
    }
    if (d < 0) break;
  }
  return out;
}

/** erf to ~1e-15 (a series below 2.5, a continued fraction for erfc above), as the js backend. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  // The continued fraction below is Inf/Inf at +-Inf; erf(+-Inf) = +-1 (NaN stays NaN).
  if (ax === Infinity) return Math.sign(x);
  if (ax < 2.5) {
    let term = x;
    let sum = x;
    const x2 = x * x;
    for (let n = 1; n < 80; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return (2 / Math.sqrt(Math.PI)) * sum;
  }
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 200; n++) {
    const a = n / 2;
    d = ax + a * d;
    d = d === 0 ? 1e-300 : 1 / d;
    c = ax + a / c;
    if (c === 0) c = 1e-300;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / (f * Math.sqrt(Math.PI));
  return x > 0 ? 1 - erfc : erfc - 1;
}

/** Round half to even (as PyTorch and WebAssembly's `nearest`); `Math.round` rounds halves up. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Scalar unary ops. */
export const UNARY: Record<UnaryOp, (x: number) => number> = {
  neg: (x) => -x,
  abs: Math.abs,
  sign: Math.sign,
  exp: Math.exp,
  log: Math.log,
  sqrt: Math.sqrt,
  reciprocal: (x) => 1 / x,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  erf,
  log1p: Math.log1p,
  expm1: Math.expm1,
  atan: Math.atan,
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundHalfEven,
  trunc: Math.trunc,
};

/** Scalar binary ops (NaN propagates through maximum/minimum). */
export const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  maximum: (a, b) => (a !== a || b !== b ? NaN : a > b ? a : b),
  minimum: (a, b) => (a !== a || b !== b ? NaN : a < b ? a : b),
  atan2: Math.atan2,
};

/** Scalar comparisons. */
export const COMPARE: Record<CompareOp, (a: number, b: number) => boolean> = {
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
};

/** int32 results truncate toward zero (as the js backend). */
export function fixInt(dtype: DType, f: (a: number, b: number) => number): (a: number, b: number) => number {
  if (dtype !== 'int32') return f;
  return (a, b) => Math.trunc(f(a, b));
}

/** The coordinate along `axis` of flat index `i` in `shape`. */
export function axisPart(i: number, shape: readonly number[], axis: number): number {
  let inner = 1;
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d]!;
  return Math.floor(i / inner) % shape[axis]!;
}
