/**
 * Scans along one dim: `cumsum` and `cumprod`, composed from pads, slices, adds and
 * multiplies (a Hillis-Steele scan of ceil(log2 n) steps). Being composed, they run on
 * every backend, and autodiff through them is exact to any order, even where elements
 * are zero (the product's gradient needs no division).
 */
import { normAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, cast, mul } from './elementwise.js';
import { flip, pad, slice } from './views.js';

/** Options of {@link cumsum} and {@link cumprod}. */
export interface ScanOptions {
  /** Scan from the end of the dim towards its start (`flip(cum(flip(x)))`). */
  readonly reverse?: boolean;
  /**
   * Leave each element out of its own result: element i gets the sum/product of the
   * elements before it (after it with `reverse`), the identity at the first. Not in
   * PyTorch; it is what prod's exact gradient is made of.
   */
  readonly exclusive?: boolean;
}

/** `x` moved `s` places forward along `axis`: the first `s` entries become `fill`. */
function shiftForward(x: Tensor, axis: number, s: number, fill: number): Tensor {
  const n = x.shape[axis]!;
  const kept = slice(x, axis, 0, Math.max(0, n - s));
  const pads = new Array<number>(2 * (x.ndim - axis)).fill(0);
  pads[2 * (x.ndim - 1 - axis)] = Math.min(s, n); // left pad of `axis`
  return pad(kept, pads, fill);
}

function scan(op: 'cumsum' | 'cumprod', x: Tensor, dim: number, opts: ScanOptions): Tensor {
  x.assertLive(op);
  if (x.ndim === 0) return scan(op, x.reshape([1]), 0, opts).reshape([]);
  const axis = normAxis(dim, x.ndim, op);
  const combine = op === 'cumsum' ? add : mul;
  const identity = op === 'cumsum' ? 0 : 1;
  let y = x.dtype === 'bool' ? cast(x, 'int32') : x; // as PyTorch, bools are counted as integers
  if (opts.reverse) y = flip(y, axis);
  const n = y.shape[axis]!;
  if (opts.exclusive) y = shiftForward(y, axis, 1, identity);
  for (let s = 1; s < n; s *= 2) y = combine(y, shiftForward(y, axis, s, identity));
  if (opts.reverse) y = flip(y, axis);
  return y === x ? mul(x, 1) : y; // always a new tensor, as PyTorch
}

/**
 * Cumulative sum along `dim`, as `torch.cumsum`: `out[i] = x[0] + ... + x[i]`. bool and
 * int32 inputs give int32 (PyTorch gives int64, which tsgrad does not have).
 */
export function cumsum(x: Tensor, dim: number, opts: ScanOptions = {}): Tensor {
  return scan('cumsum', x, dim, opts);
}

/**
 * Cumulative product along `dim`, as `torch.cumprod`: `out[i] = x[0] * ... * x[i]`. The
 * gradient is exact at zeros, to any order.
 */
export function cumprod(x: Tensor, dim: number, opts: ScanOptions = {}): Tensor {
  return scan('cumprod', x, dim, opts);
}
