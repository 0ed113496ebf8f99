/** Joining, splitting and indexing: cat, stack, split, gather, indexSelect, oneHot. */
import { withGrad } from '../autograd.js';
import { fmtShape, normAxis, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { arange } from './creation.js';
import { cast, eq } from './elementwise.js';
import { primOut, sameBackend } from './prim.js';
import { expand, reshape, slice, unsqueeze } from './views.js';

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

/** Zeros of `shape`, then `out[.., index[j], ..] += src[j]` along `dim`: the adjoint of gather. */
export function scatterAdd(src: Tensor, dim: number, index: Tensor, shape: Shape): Tensor {
  const axis = normAxis(dim, shape.length, 'scatterAdd');
  checkIndex('scatterAdd', index);
  sameBackend('scatterAdd', src, index);
  const y = primOut('scatterAdd', src.backend, src.backend.scatterAdd(src.asView('scatterAdd'), axis, index.asView('scatterAdd'), shape), shape, src.dtype);
  return withGrad(y, 'scatterAdd', [src], (g) => [gather(g, axis, index)]);
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
  return withGrad(y, 'gather', [x], (g) => [scatterAdd(g, axis, index, xShape)]);
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
