/**
 * Shared geometry of sliding-window ops (conv, pooling, unfold/fold): option parsing to
 * pairs, output sizes, and the window view of a 4-D tensor.
 */
import { contiguousStrides, fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { asStrided } from './views.js';

/** A pair of ints, or one int used for both. */
export type IntPair = number | readonly [number, number];

/** `v` as a pair of integers `>= min` (`dflt` for both when undefined); names `op` and `name` otherwise. */
export function pair(v: IntPair | undefined, dflt: number, name: string, op: string, min: number): [number, number] {
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!(typeof v === 'number' || v === undefined || (Array.isArray(v) && v.length === 2))) {
    throw new RangeError(`${op}: ${name} must be an integer or a pair of integers, got ${JSON.stringify(v)}`);
  }
  if (!p.every((n) => Number.isInteger(n) && n >= min)) throw new RangeError(`${op}: ${name} must be integers >= ${min}, got ${fmtShape(p)}`);
  return p;
}

/** One integer `>= min` from a number or a 1-tuple (1-D ops). */
export function single(v: number | readonly [number] | undefined, dflt: number, name: string, op: string, min: number): number {
  const n = v === undefined ? dflt : typeof v === 'number' ? v : v.length === 1 ? v[0] : NaN;
  if (!Number.isInteger(n) || n < min) throw new RangeError(`${op}: ${name} must be an integer >= ${min}, got ${JSON.stringify(v)}`);
  return n;
}

/** Output length of a window op (floor mode); throws when the (dilated) kernel does not fit. */
export function outSize(op: string, input: number, k: number, s: number, p: number, d: number, axis: string): number {
  const n = Math.floor((input + 2 * p - d * (k - 1) - 1) / s) + 1;
  if (n <= 0) {
    throw new RangeError(`${op}: input ${axis} ${input} (padded to ${input + 2 * p}) is smaller than the ${d > 1 ? 'dilated ' : ''}kernel ${d * (k - 1) + 1}`);
  }
  return n;
}

/**
 * The sliding windows of a 4-D tensor as a view `[N, C, KH, KW, OH, OW]` (copying `x`
 * first only if it is not contiguous). Its gradient adds the windows back into place.
 */
export function windows(x: Tensor, k: readonly [number, number], s: readonly [number, number], d: readonly [number, number], oh: number, ow: number): Tensor {
  const [sn, sc, sh, sw] = contiguousStrides(x.shape) as [number, number, number, number];
  const shape = [x.shape[0]!, x.shape[1]!, k[0], k[1], oh, ow];
  return asStrided(x, shape, [sn, sc, sh * d[0], sw * d[1], sh * s[0], sw * s[1]], 0);
}

/**
 * The strides of the window view {@link windows} takes of a `[N, C, H, W]` tensor: what
 * `embed` needs to add windows `[N, C, KH, KW, OH, OW]` back into place (fold, col2im).
 */
export function windowStrides(shape: readonly number[], s: readonly [number, number], d: readonly [number, number]): number[] {
  const [sn, sc, sh, sw] = contiguousStrides(shape) as [number, number, number, number];
  return [sn, sc, sh * d[0], sw * d[1], sh * s[0], sw * s[1]];
}
