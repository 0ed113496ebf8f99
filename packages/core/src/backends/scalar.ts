/**
 * The scalar semantics of the elementwise primitives, as the `js` reference backend
 * computes them: one copy for every backend that falls back to host loops (wasm's
 * transcendentals and integer paths), so their results cannot drift from the reference.
 */
import type { BinaryOp, CompareOp, UnaryOp } from '../backend.js';
import type { DType } from '../dtype.js';

/**
 * erf to ~1e-15: a Maclaurin series below |x| = 2.5, a continued fraction for erfc above
 * (Abramowitz-Stegun 7.1.26 is too coarse for gradient checks).
 */
export function scalarErf(x: number): number {
  const ax = Math.abs(x);
  // The continued fraction below is Inf/Inf at +-Inf; erf(+-Inf) = +-1 (NaN stays NaN).
  if (ax === Infinity) return Math.sign(x);
  if (ax < 2.5) {
    // erf x = 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1))
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
  // Continued fraction for erfc (Lentz), converges fast for |x| >= 2.5.
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

/** Round half to even (as PyTorch, IEEE roundTiesToEven and WebAssembly's `nearest`); `Math.round` rounds halves up. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Every unary primitive on one number. */
export const SCALAR_UNARY: Readonly<Record<UnaryOp, (x: number) => number>> = {
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
  erf: scalarErf,
  log1p: Math.log1p,
  expm1: Math.expm1,
  atan: Math.atan,
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundHalfEven,
  trunc: Math.trunc,
};

/** Every binary primitive on two numbers (NaN propagates through maximum/minimum, as in PyTorch). */
export const SCALAR_BINARY: Readonly<Record<BinaryOp, (a: number, b: number) => number>> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  maximum: (a, b) => (a !== a || b !== b ? NaN : a > b ? a : b),
  minimum: (a, b) => (a !== a || b !== b ? NaN : a < b ? a : b),
  atan2: Math.atan2,
};

/** Every comparison primitive on two numbers. */
export const SCALAR_COMPARE: Readonly<Record<CompareOp, (a: number, b: number) => boolean>> = {
  eq: (a, b) => a === b,
  ne: (a, b) => a !== b,
  lt: (a, b) => a < b,
  le: (a, b) => a <= b,
};

/**
 * `f` with int32 results truncated toward zero, like C: integer division keeps its dtype
 * here (PyTorch's int `/` is float division). Other dtypes get `f` unchanged.
 */
export function truncateIntResult(dtype: DType, f: (a: number, b: number) => number): (a: number, b: number) => number {
  if (dtype !== 'int32') return f;
  return (a, b) => Math.trunc(f(a, b));
}
