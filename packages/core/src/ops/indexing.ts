/** Joining, splitting and indexing: cat, stack, split, gather, scatterAdd, scatter, indexAdd, indexSelect, oneHot. */
import { customOp, withGrad } from '../autograd.js';
import { fmtShape, normAxis, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { arange, full } from './creation.js';
import { add, cast, div, eq, ge, maximum, mul, ne, where } from './elementwise.js';
import { primOut, requireFloat, sameBackend, sameDtype } from './prim.js';
import { amax, amin, any, prod } from './reduce.js';
import { expand, pad, permute, reshape, slice, unsqueeze } from './views.js';

/** Concatenates tensors along `dim`; all other dims must agree. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('cat: expected at least one tensor');
  const first = tensors[0]!;
  const backend = sameBackend('cat', ...tensors);
  const axis = normAxis(dim, first.ndim, 'cat');
  for (const t of tensors) {
    if (t.dtype !== first.dtype) throw new TypeError(`cat: dtype mismatch: ${first.dtype} vs ${t.dtype}`);
    if (t.ndim !== first.ndim || t.shape.some((d, i) => i !== axis && d !== first.shape[i])) {
      throw new RangeError(`cat: shapes ${fmtShape(first.shape)} and ${fmtShape(t.shape)} differ outside dimension ${axis}`);
    }
  }
  const shape = [...first.shape];
  shape[axis] = tensors.reduce((acc, t) => acc + t.shape[axis]!, 0);
  const y = primOut('cat', backend, backend.cat(tensors.map((t) => t.asView('cat')), axis), shape, first.dtype);
  return withGrad(y, 'cat', tensors, (g) => {
    let at = 0;
    return tensors.map((t) => {
      const part = slice(g, axis, at, at + t.shape[axis]!);
      at += t.shape[axis]!;
      return part;
    });
  });
}

/** Stacks same-shaped tensors along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (tensors.length === 0) throw new RangeError('stack: expected at least one tensor');
  const first = tensors[0]!;
  for (const t of tensors) {
    if (t.ndim !== first.ndim || t.shape.some((d, i) => d !== first.shape[i])) {
      throw new RangeError(`stack: all tensors must have one shape, got ${fmtShape(first.shape)} and ${fmtShape(t.shape)}`);
    }
  }
  const axis = normAxis(dim, first.ndim + 1, 'stack');
  return cat(tensors.map((t) => unsqueeze(t, axis)), axis);
}

/** Splits along `dim` into chunks of `sizes` (a number: equal chunks, the last may be smaller). Views. */
export function split(x: Tensor, sizes: number | readonly number[], dim = 0): Tensor[] {
  const axis = normAxis(dim, x.ndim, 'split');
  const len = x.shape[axis]!;
  let parts: number[];
  if (typeof sizes === 'number') {
    if (!Number.isInteger(sizes) || sizes <= 0) throw new RangeError(`split: chunk size must be a positive integer, got ${sizes}`);
    parts = [];
    for (let at = 0; at < len; at += sizes) parts.push(Math.min(sizes, len - at));
  } else {
    parts = [...sizes];
    const total = parts.reduce((a, b) => a + b, 0);
    if (total !== len) throw new RangeError(`split: sizes ${fmtShape(parts)} add up to ${total}, but dimension ${axis} has length ${len}`);
  }
  let at = 0;
  return parts.map((n) => {
    const part = slice(x, axis, at, at + n);
    at += n;
    return part;
  });
}

function checkIndex(op: string, index: Tensor): void {
  if (index.dtype !== 'int32') throw new TypeError(`${op}: index must be an int32 tensor, got ${index.dtype}`);
}

/**
 * Zeros of `shape`, then `out[.., index[j], ..] += src[j]` along `axis` (src has the index's
 * shape): the adjoint of gather. Internal (no shape checks) for ops that build their own indices.
 */
export function scatterInto(src: Tensor, axis: number, index: Tensor, shape: Shape): Tensor {
  sameBackend('scatterAdd', src, index);
  const y = primOut('scatterAdd', src.backend, src.backend.scatterAdd(src.asView('scatterAdd'), axis, index.asView('scatterAdd'), shape), shape, src.dtype);
  return withGrad(y, 'scatterAdd', [src], (g) => [gather(g, axis, index)]);
}

/** Checks shapes as `torch.scatter`: one rank, index no larger than src anywhere nor than input outside `axis`. */
function checkScatter(op: string, input: Tensor, axis: number, index: Tensor, src: Tensor | null): void {
  checkIndex(op, index);
  if (index.ndim !== input.ndim) {
    throw new RangeError(`${op}: index ${fmtShape(index.shape)} must have as many dimensions as input ${fmtShape(input.shape)}`);
  }
  if (src && src.ndim !== input.ndim) {
    throw new RangeError(`${op}: src ${fmtShape(src.shape)} must have as many dimensions as input ${fmtShape(input.shape)}`);
  }
  for (let d = 0; d < input.ndim; d++) {
    if (src && index.shape[d]! > src.shape[d]!) {
      throw new RangeError(`${op}: index ${fmtShape(index.shape)} is larger than src ${fmtShape(src.shape)} in dimension ${d}; it may be no larger than src anywhere`);
    }
    if (d !== axis && index.shape[d]! > input.shape[d]!) {
      throw new RangeError(`${op}: index ${fmtShape(index.shape)} is larger than input ${fmtShape(input.shape)} in dimension ${d}; it may be no larger than input outside dim ${axis}`);
    }
  }
}

/** The leading `shape` corner of `src` (a view; its gradient is zero outside the corner). */
function corner(src: Tensor, shape: Shape): Tensor {
  let t = src;
  shape.forEach((n, d) => {
    if (n !== t.shape[d]) t = slice(t, d, 0, n);
  });
  return t;
}

/** Runs `f` on 1-D versions of 0-d operands (PyTorch accepts 0-d input, index and src). */
function lift0d(input: Tensor, f: (input: Tensor) => Tensor): Tensor {
  return input.ndim === 0 ? reshape(f(reshape(input, [1])), []) : f(input);
}

/**
 * `torch.scatter_add(input, dim, index, src)`: a copy of `input` with
 * `out[i][index[i][j][k]][k] += src[i][j][k]` for `dim = 1` (likewise for other dims).
 * Only the index's extent of `src` is used (its leading corner), as PyTorch; `index` has
 * `input`'s rank and is no larger than `src` anywhere nor than `input` outside `dim`. The
 * gradient for `src` has `src`'s shape (zero outside that corner), for `input` it is the
 * output's.
 */
export function scatterAdd(input: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  if (input.ndim === 0) return lift0d(input, (x) => scatterAdd(x, 0, reshape(index, [-1]), reshape(src, [-1])));
  const axis = normAxis(dim, input.ndim, 'scatterAdd');
  sameBackend('scatterAdd', input, index, src);
  sameDtype('scatterAdd', input, src);
  checkScatter('scatterAdd', input, axis, index, src);
  return add(input, scatterInto(corner(src, index.shape), axis, index, input.shape));
}

/** How {@link scatter} combines values that land on one position. */
export type ScatterReduce = 'sum' | 'prod' | 'mean' | 'amax' | 'amin' | 'add' | 'multiply';

/** Options of {@link scatter}. */
export interface ScatterOptions {
  /**
   * Omitted: replace (`torch.scatter`). Otherwise as `torch.scatter_reduce` (`'add'` and
   * `'multiply'`, the names of `torch.scatter(..., reduce=)`, mean `'sum'` and `'prod'`).
   */
  readonly reduce?: ScatterReduce;
  /** Whether `input`'s own values take part in the reduction (default true, as PyTorch). */
  readonly includeSelf?: boolean;
}

/** The scatter laid out densely with the dim last: `oh[..., j, k]` is whether entry j lands on position k. */
function denseScatter(input: Tensor, axis: number, index: Tensor, part: Tensor) {
  const nd = input.ndim;
  const perm = [...input.shape.map((_, i) => i).filter((i) => i !== axis), axis];
  const inverse = new Array<number>(nd);
  perm.forEach((a, i) => (inverse[a] = i));
  // Grow index and src to input's extent outside `axis`; the index -1 lands nowhere.
  const pads: number[] = [];
  for (let d = nd - 1; d >= 0; d--) pads.push(0, d === axis ? 0 : input.shape[d]! - index.shape[d]!);
  const idxL = permute(pad(index, pads, -1), perm);
  const srcL = permute(pad(part, pads, 0), perm);
  const n = input.shape[axis]!;
  const oh = eq(unsqueeze(idxL, -1), arange(n, undefined, 1, { backend: input.backend, dtype: 'int32' }));
  return { oh, srcL, inputL: permute(input, perm), inverse, m: index.shape[axis]! };
}

function reduceIdentity(op: 'amax' | 'amin' | 'prod', dtype: Tensor['dtype']): number {
  if (op === 'prod') return 1;
  if (dtype === 'int32') return op === 'amax' ? -2147483648 : 2147483647;
  return op === 'amax' ? -Infinity : Infinity;
}

/**
 * `torch.scatter(input, dim, index, src)` and `torch.scatter_reduce(input, dim, index, src,
 * reduce, include_self)`: a copy of `input` with the values of `src` (or the number
 * `value`) written at `index` along `dim`. Shapes are checked as {@link scatterAdd}.
 *
 * - No `reduce`: replace. Where an index repeats, PyTorch leaves the winner unspecified;
 *   tsgrad takes the last. The gradient is PyTorch's: `input` gets none at written
 *   positions, `src` gets `gather(grad, dim, index)` (every duplicate).
 * - `'sum'`, `'prod'`, `'mean'`, `'amax'`, `'amin'` with `includeSelf` (default true).
 *   Positions no index reaches keep `input`. Gradients as PyTorch (exact for prod at
 *   zeros; amax/amin split the gradient evenly between every value equal to the result,
 *   counting `input`'s own even when `includeSelf` is false, as PyTorch does).
 *
 * Cost: `'sum'` and `'mean'` use the scatter-add primitive; replace, `'prod'`, `'amax'` and
 * `'amin'` are composed densely, with a transient of `index.size(dim) * input.size(dim)`
 * per row of the other dims. `'mean'` needs a float dtype (PyTorch floors for integers).
 */
export function scatter(input: Tensor, dim: number, index: Tensor, src: Tensor | number, opts: ScatterOptions = {}): Tensor {
  input.assertLive('scatter');
  if (typeof src === 'number') {
    index.assertLive('scatter');
    return scatter(input, dim, index, full(index.shape, src, { dtype: input.dtype, backend: input.backend }), opts);
  }
  if (input.ndim === 0) return lift0d(input, (x) => scatter(x, 0, reshape(index, [-1]), reshape(src, [-1]), opts));
  const axis = normAxis(dim, input.ndim, 'scatter');
  sameBackend('scatter', input, index, src);
  sameDtype('scatter', input, src);
  checkScatter('scatter', input, axis, index, src);
  const raw = opts.reduce;
  const reduce = raw === 'add' ? 'sum' : raw === 'multiply' ? 'prod' : raw;
  if (reduce !== undefined && !['sum', 'prod', 'mean', 'amax', 'amin'].includes(reduce)) {
    throw new RangeError(`scatter: reduce must be one of 'sum', 'prod', 'mean', 'amax', 'amin' (or 'add', 'multiply'), got '${String(raw)}'`);
  }
  const includeSelf = opts.includeSelf ?? true;
  const part = corner(src, index.shape);
  const ones = () => full(index.shape, 1, { dtype: input.dtype === 'bool' ? 'int32' : input.dtype, backend: input.backend });
  const hitOf = () => ne(scatterInto(ones(), axis, index, input.shape), 0);

  if (reduce === 'sum') {
    const base = includeSelf ? input : where(hitOf(), 0, input);
    return add(base, scatterInto(part, axis, index, input.shape));
  }
  if (reduce === 'mean') {
    requireFloat('scatter (mean)', input);
    const total = scatterInto(part, axis, index, input.shape);
    const count = scatterInto(ones(), axis, index, input.shape);
    if (includeSelf) return div(add(input, total), add(count, 1));
    return where(ne(count, 0), div(total, where(eq(count, 0), 1, count)), input);
  }
  if (reduce === 'prod') {
    const { oh, srcL, inputL, inverse } = denseScatter(input, axis, index, part);
    let vals = where(oh, unsqueeze(srcL, -1), 1);
    if (includeSelf) vals = cat([unsqueeze(inputL, -2), vals], -2);
    const r = prod(vals, -2);
    return permute(includeSelf ? r : where(any(oh, -2), r, inputL), inverse);
  }
  if (reduce === 'amax' || reduce === 'amin') {
    const op = reduce;
    return customOp(
      'scatter',
      [input, part],
      () => {
        const { oh, srcL, inputL, inverse } = denseScatter(input, axis, index, part);
        let vals = where(oh, unsqueeze(srcL, -1), reduceIdentity(op, input.dtype));
        if (includeSelf) vals = cat([unsqueeze(inputL, -2), vals], -2);
        const r = op === 'amax' ? amax(vals, -2) : amin(vals, -2);
        return permute(includeSelf ? r : where(any(oh, -2), r, inputL), inverse);
      },
      (g, y) => {
        // PyTorch's formula: share g evenly between input and src entries equal to the result.
        const value = gather(y, axis, index);
        const selfIs = cast(eq(input, y), g.dtype);
        const srcIs = cast(eq(part, value), g.dtype);
        const count = scatterAdd(selfIs, axis, index, srcIs);
        const shared = div(g, count);
        let gSelf = mul(selfIs, shared);
        if (!includeSelf) gSelf = where(hitOf(), 0, gSelf);
        return [gSelf, mul(srcIs, gather(shared, axis, index))];
      },
    );
  }
  // Replace: the last entry landing on a position wins.
  return customOp(
    'scatter',
    [input, part],
    () => {
      const { oh, srcL, inputL, inverse, m } = denseScatter(input, axis, index, part);
      const js = reshape(arange(m, undefined, 1, { backend: input.backend, dtype: 'int32' }), [m, 1]);
      const last = amax(where(oh, js, -1), -2);
      const picked = gather(srcL, -1, maximum(last, 0));
      return permute(where(ge(last, 0), picked, inputL), inverse);
    },
    (g) => [where(hitOf(), 0, g), gather(g, axis, index)],
  );
}

/**
 * `torch.index_add(input, dim, index, source, alpha=1)`: a copy of `input` with
 * `alpha * source` added at the positions `index` (1-D int32) along `dim`; `source` has
 * `input`'s shape except `index.size(0)` along `dim`. Repeated indices add up.
 */
export function indexAdd(input: Tensor, dim: number, index: Tensor, source: Tensor, alpha = 1): Tensor {
  if (input.ndim === 0) return lift0d(input, (x) => indexAdd(x, 0, reshape(index, [-1]), reshape(source, [-1]), alpha));
  const axis = normAxis(dim, input.ndim, 'indexAdd');
  checkIndex('indexAdd', index);
  if (index.ndim !== 1) throw new RangeError(`indexAdd: index must be 1-D, got shape ${fmtShape(index.shape)}`);
  const want = input.shape.map((d, i) => (i === axis ? index.shape[0]! : d));
  if (source.ndim !== input.ndim || source.shape.some((d, i) => d !== want[i])) {
    throw new RangeError(`indexAdd: source ${fmtShape(source.shape)} must have shape ${fmtShape(want)} (input ${fmtShape(input.shape)} with dim ${axis} of the index's length)`);
  }
  const idx = expand(reshape(index, want.map((d, i) => (i === axis ? d : 1))), want);
  return scatterAdd(input, axis, idx, alpha === 1 ? source : mul(source, alpha));
}

/**
 * `out[i][j][k] = x[i][index[i][j][k]][k]` for `dim = 1` (and likewise for other dims), as
 * `torch.gather`: `index` has `x`'s rank and is no larger than `x` outside `dim`.
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  const axis = normAxis(dim, x.ndim, 'gather');
  checkIndex('gather', index);
  sameBackend('gather', x, index);
  if (index.ndim !== x.ndim || index.shape.some((d, i) => i !== axis && d > x.shape[i]!)) {
    throw new RangeError(`gather: index of shape ${fmtShape(index.shape)} does not fit input ${fmtShape(x.shape)} (same rank, no larger outside dim ${axis})`);
  }
  const y = primOut('gather', x.backend, x.backend.gather(x.asView('gather'), axis, index.asView('gather')), index.shape, x.dtype);
  const xShape = x.shape;
  return withGrad(y, 'gather', [x], (g) => [scatterInto(g, axis, index, xShape)]);
}

/** The entries of `x` along `dim` at the positions in the 1-D `index`. */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  const axis = normAxis(dim, x.ndim, 'indexSelect');
  if (index.ndim !== 1) throw new RangeError(`indexSelect: index must be 1-D, got shape ${fmtShape(index.shape)}`);
  const shape = [...x.shape];
  shape[axis] = index.shape[0]!;
  const idxShape = x.shape.map((_, i) => (i === axis ? index.shape[0]! : 1));
  return gather(x, axis, expand(reshape(index, idxShape), shape));
}

/**
 * Every index of oneHot must be a class, as in PyTorch (an index out of range would give a
 * silent all-zero row). Read here where the backend reads synchronously; elsewhere (webgpu)
 * a gather of the class list by the index flags it on the device, and the next read throws.
 */
function checkClasses(index: Tensor, numClasses: number): void {
  if (index.size === 0) return;
  if (index.backend.canReadSync) {
    const v = index.dataSync();
    for (let i = 0; i < v.length; i++) {
      if (v[i]! < 0 || v[i]! >= numClasses) {
        throw new RangeError(`oneHot: class index ${v[i]} (at flat index ${i}) is out of range for numClasses ${numClasses} (expected 0..${numClasses - 1})`);
      }
    }
    return;
  }
  const classes = arange(numClasses, undefined, 1, { backend: index.backend });
  gather(classes, 0, reshape(index, [index.size])).dispose();
  classes.dispose();
}

/** One-hot encoding of int32 class indices: a new last dim of `numClasses` (int32 unless `dtype`). An index outside `[0, numClasses)` throws a RangeError naming it (on webgpu, at the next read). */
export function oneHot(index: Tensor, numClasses: number, dtype: 'int32' | 'float32' | 'float64' = 'int32'): Tensor {
  checkIndex('oneHot', index);
  if (!Number.isInteger(numClasses) || numClasses <= 0) throw new RangeError(`oneHot: numClasses must be a positive integer, got ${numClasses}`);
  checkClasses(index, numClasses);
  const classes = arange(numClasses, undefined, 1, { backend: index.backend });
  const hot = cast(eq(unsqueeze(index, -1), classes), dtype);
  classes.dispose();
  return hot;
}
