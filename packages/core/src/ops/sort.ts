/**
 * Sorting and selection: `sort`, `argsort`, `topk`, over the backend's stable row sort
 * (the `sort` primitive). Gradients scatter back through the indices, as PyTorch.
 */
import { withGrad } from '../autograd.js';
import { normAxis } from '../shape.js';
import { Tensor } from '../tensor.js';
import { zeros } from './creation.js';
import { scatterAdd } from './indexing.js';
import type { ValuesIndices } from './reduce.js';
import { reshape, slice, transpose } from './views.js';

/** Options of {@link sort} and {@link argsort}. */
export interface SortOptions {
  /** Largest first (NaN first), instead of smallest first (NaN last). */
  readonly descending?: boolean;
  /**
   * Accepted for PyTorch's signature; tsgrad's sort is always stable (equal values keep
   * their order), which PyTorch guarantees only with `stable=True`.
   */
  readonly stable?: boolean;
}

/** Options of {@link topk}. */
export interface TopkOptions {
  /** The k largest (default), or the k smallest. */
  readonly largest?: boolean;
  /** Accepted for PyTorch's signature; the result is always sorted. */
  readonly sorted?: boolean;
}

/** The sort primitive along `axis` (moved last and back), values without a gradient. */
function sortPrim(x: Tensor, axis: number, descending: boolean): ValuesIndices {
  const last = x.ndim - 1;
  const xt = axis === last ? x : transpose(x, axis, last);
  const b = x.backend;
  const r = b.sort(xt.asView('sort'), descending);
  const values = Tensor.fromBuffer(b, r.values, xt.shape, x.dtype);
  const indices = Tensor.fromBuffer(b, r.indices, xt.shape, 'int32');
  if (axis === last) return { values, indices };
  return { values: transpose(values, axis, last), indices: transpose(indices, axis, last) };
}

/**
 * `torch.sort(x, dim=-1, descending=False, stable=True)`: the values along `dim` in order
 * and their int32 positions. Always stable; ascending puts NaN last, descending first, as
 * PyTorch. The gradient of `values` goes back to the positions it came from.
 */
export function sort(x: Tensor, dim = -1, opts: SortOptions = {}): ValuesIndices {
  x.assertLive('sort');
  if (x.dtype === 'bool') throw new TypeError("sort: bool tensors cannot be sorted; cast to 'int32' first");
  if (x.ndim === 0) {
    normAxis(dim, 0, 'sort');
    const r = sort(reshape(x, [1]), 0, opts);
    return { values: reshape(r.values, []), indices: reshape(r.indices, []) };
  }
  const axis = normAxis(dim, x.ndim, 'sort');
  const { values, indices } = sortPrim(x, axis, opts.descending ?? false);
  const xShape = x.shape;
  const v = withGrad(values, 'sort', [x], (g) => [scatterAdd(zeros(xShape, { dtype: g.dtype, backend: g.backend }), axis, indices, g)]);
  return { values: v, indices };
}

/** `torch.argsort(x, dim=-1, descending=False, stable=True)`: the int32 positions that sort `x` along `dim` (stable). */
export function argsort(x: Tensor, dim = -1, opts: SortOptions = {}): Tensor {
  return sort(x, dim, opts).indices;
}

/**
 * `torch.topk(x, k, dim=-1, largest=True, sorted=True)`: the k largest (or smallest)
 * values along `dim`, in order, and their positions. Among equal values the first ones
 * win (PyTorch leaves that choice unspecified); NaN counts as the largest.
 */
export function topk(x: Tensor, k: number, dim = -1, opts: TopkOptions = {}): ValuesIndices {
  x.assertLive('topk');
  const axis = x.ndim === 0 ? 0 : normAxis(dim, x.ndim, 'topk');
  const len = x.ndim === 0 ? 1 : x.shape[axis]!;
  if (!Number.isInteger(k) || k < 0 || k > len) throw new RangeError(`topk: k must be an integer in 0..${len} (the size of dim ${axis}), got ${k}`);
  const s = sort(x, dim, { descending: opts.largest ?? true });
  if (x.ndim === 0) return s;
  return { values: slice(s.values, axis, 0, k), indices: slice(s.indices, axis, 0, k) };
}
