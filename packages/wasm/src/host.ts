/**
 * Scalar TypeScript loops over the wasm memory, for the dtype/op pairs that have no wasm
 * kernel (transcendentals, int32 and bool arithmetic, pow, prod, arg-reductions, gather,
 * scatter, non-float32 matmul). They follow the `js` reference backend's semantics exactly,
 * including the typed-array store rules (int32 wraps, bool stores the low byte).
 */
import { SCALAR_BINARY, SCALAR_COMPARE, SCALAR_UNARY, offsetsOf, roundHalfEven, scalarErf, truncateIntResult } from '@tsgrad/core';

// One copy of the reference semantics, from core (the js backend uses the same).
export { offsetsOf, roundHalfEven };
/** erf to ~1e-15, as the js backend. */
export const erf = scalarErf;
/** Scalar unary ops. */
export const UNARY = SCALAR_UNARY;
/** Scalar binary ops (NaN propagates through maximum/minimum). */
export const BINARY = SCALAR_BINARY;
/** Scalar comparisons. */
export const COMPARE = SCALAR_COMPARE;
/** int32 results truncate toward zero (as the js backend). */
export const fixInt = truncateIntResult;

/** The coordinate along `axis` of flat index `i` in `shape`. */
export function axisPart(i: number, shape: readonly number[], axis: number): number {
  let inner = 1;
  for (let d = axis + 1; d < shape.length; d++) inner *= shape[d]!;
  return Math.floor(i / inner) % shape[axis]!;
}
