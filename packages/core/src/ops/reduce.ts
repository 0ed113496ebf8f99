/**
 * Reductions and their gradients. One convention for every reduction, as PyTorch:
 * `op(x, dim?, keepdim = false)` where `dim` is one axis or a list (all axes when omitted;
 * argmax/argmin, maxDim/minDim take one axis) and `keepdim` is the positional boolean after
 * it; `var`/`std` take their `correction` in an options object after `keepdim`.
 */
import { customOp, noGrad, withGrad } from '../autograd.js';
import type { ReduceOp } from '../backend.js';
import { normAxes, normAxis, numel } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { abs, add, cast, div, eq, exp, log, logicalNot, mul, ne, pow, sign, sqrt, sub, where } from './elementwise.js';
import { full } from './creation.js';
import { gather } from './indexing.js';
import { primOut, requireFloat } from './prim.js';
import { cumprod } from './scan.js';
import { expand, permute, reshape } from './views.js';

/** The shape `x` has after reducing `axes` with `keepdim`. */
function reducedShape(shape: readonly number[], axes: readonly number[], keepdim: boolean): number[] {
  return keepdim ? shape.map((d, i) => (axes.includes(i) ? 1 : d)) : shape.filter((_, i) => !axes.includes(i));
}

/** Brings a reduced gradient back to `x`'s shape (reinsert the axes, then broadcast). */
function unreduce(g: Tensor, x: Tensor, axes: readonly number[]): Tensor {
  return expand(reshape(g, reducedShape(x.shape, axes, true)), x.shape);
}

function reducePrim(op: ReduceOp, x: Tensor, axes: readonly number[], keepdim: boolean): Tensor {
  x.assertLive(op);
  const y = primOut(op, x.backend, x.backend.reduce(op, x.asView(op), axes), reducedShape(x.shape, axes, false), x.dtype);
  return keepdim ? reshape(y, reducedShape(x.shape, axes, true)) : y;
}

/** Sum over `dim` (all dims when omitted); bool sums count as int32. */
export function sum(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const axes = normAxes(dim, x.ndim, 'sum');
  const src = x.dtype === 'bool' ? cast(x, 'int32') : x;
  const y = reducePrim('sum', src, axes, keepdim);
  return withGrad(y, 'sum', [x], (g) => [unreduce(g, x, axes)]);
}

/** Mean over `dim` (all dims when omitted). */
export function mean(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  requireFloat('mean', x);
  const axes = normAxes(dim, x.ndim, 'mean');
  return div(sum(x, axes, keepdim), numel(axes.map((a) => x.shape[a]!)));
}

/**
 * Product over `dim`. The gradient is exact where elements are zero, to any order: each
 * element's gradient is the product of the others, formed as the exclusive cumulative
 * product from the front times the one from the back (no division).
 */
export function prod(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const axes = normAxes(dim, x.ndim, 'prod');
  const src = x.dtype === 'bool' ? cast(x, 'int32') : x;
  const y = reducePrim('prod', src, axes, keepdim);
  return withGrad(y, 'prod', [x], (g) => {
    // Move the reduced axes last and flatten them into one, scan it both ways, and undo.
    const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const perm = [...kept, ...axes];
    const inverse = new Array<number>(perm.length);
    perm.forEach((a, i) => (inverse[a] = i));
    const keptShape = kept.map((a) => x.shape[a]!);
    const n = numel(axes.map((a) => x.shape[a]!));
    const rows = reshape(permute(x, perm), [...keptShape, n]);
    const others = mul(cumprod(rows, -1, { exclusive: true }), cumprod(rows, -1, { exclusive: true, reverse: true }));
    const gRows = mul(others, reshape(g, [...keptShape, 1]));
    return [permute(reshape(gRows, perm.map((a) => x.shape[a]!)), inverse)];
  });
}

/** Shared by max and min: the gradient is split evenly between tied extremes (as `amax`). */
function extreme(op: 'max' | 'min', x: Tensor, dim: number | readonly number[] | undefined, keepdim: boolean): Tensor {
  const axes = normAxes(dim, x.ndim, op);
  if (axes.some((a) => x.shape[a] === 0)) throw new RangeError(`${op}: cannot reduce over an empty dimension`);
  const y = reducePrim(op, x, axes, keepdim);
  return withGrad(y, op, [x], (g) => {
    const yFull = unreduce(keepdim ? y : reshape(y, reducedShape(x.shape, axes, true)), x, axes);
    const mask = cast(eq(x, yFull), x.dtype);
    const count = unreduce(sum(mask, axes, true), x, axes);
    return [div(mul(unreduce(g, x, axes), mask), count)];
  });
}

/**
 * Maximum over `dim` (all dims when omitted), as `torch.amax`: the gradient is split
 * evenly between tied maxima. For the values and indices along one dim (`torch.max(x,
 * dim)`) use {@link maxDim}.
 */
export function max(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  return extreme('max', x, dim, keepdim);
}
/** Minimum over `dim` (all dims when omitted), as `torch.amin`; see {@link max}. */
export function min(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  return extreme('min', x, dim, keepdim);
}
/** `torch.amax`: the maximum over `dim` (all dims when omitted), ties sharing the gradient evenly. */
export function amax(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  return extreme('max', x, dim, keepdim);
}
/** `torch.amin`: the minimum over `dim` (all dims when omitted), ties sharing the gradient evenly. */
export function amin(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  return extreme('min', x, dim, keepdim);
}

/** What {@link maxDim} and {@link minDim} return, as PyTorch's `(values, indices)` named tuple. */
export interface ValuesIndices {
  /** The extreme values. */
  readonly values: Tensor;
  /** Their int32 positions along the dim. */
  readonly indices: Tensor;
}

function extremeDim(op: 'max' | 'min', x: Tensor, dim: number, keepdim: boolean): ValuesIndices {
  const name = op === 'max' ? 'maxDim' : 'minDim';
  x.assertLive(name);
  const axis = normAxis(dim, x.ndim, name);
  if (x.ndim === 0) return { values: mul(x, 1), indices: zerosInt(x) };
  if (x.shape[axis] === 0) throw new RangeError(`${name}: cannot reduce over an empty dimension`);
  const idx = argExtreme(op === 'max' ? 'argmax' : 'argmin', x, axis, true);
  // gather sends the whole gradient to the chosen index, as PyTorch does for max(x, dim).
  const vals = gather(x, axis, idx);
  if (keepdim) return { values: vals, indices: idx };
  const shape = reducedShape(x.shape, [axis], false);
  return { values: reshape(vals, shape), indices: reshape(idx, shape) };
}

function zerosInt(x: Tensor): Tensor {
  return full([], 0, { dtype: 'int32', backend: x.backend });
}

/**
 * `torch.max(x, dim, keepdim)`: the maximum along one dim and its (first) index. The
 * gradient goes to that index only (unlike {@link amax}, which splits it between ties).
 * NaN counts as the maximum, as in PyTorch.
 */
export function maxDim(x: Tensor, dim: number, keepdim = false): ValuesIndices {
  return extremeDim('max', x, dim, keepdim);
}
/** `torch.min(x, dim, keepdim)`: the minimum along one dim and its (first) index; see {@link maxDim}. */
export function minDim(x: Tensor, dim: number, keepdim = false): ValuesIndices {
  return extremeDim('min', x, dim, keepdim);
}

/** Whether every element over `dim` (all dims when omitted) is non-zero (NaN counts as true); bool. */
export function all(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const axes = normAxes(dim, x.ndim, 'all');
  const falses = sum(logicalNot(cast(x, 'bool')), axes, keepdim);
  return eq(falses, 0);
}
/** Whether some element over `dim` (all dims when omitted) is non-zero (NaN counts as true); bool. */
export function any(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const axes = normAxes(dim, x.ndim, 'any');
  const trues = sum(cast(x, 'bool'), axes, keepdim);
  return ne(trues, 0);
}

/** The order of a {@link norm}: a number (including `Infinity`, `-Infinity` and 0) or `'fro'`. */
export type NormOrder = number | 'fro';

/**
 * The vector p-norm over `dim` (all dims when omitted), as `torch.linalg.vector_norm` /
 * `torch.norm`: `p = 2` (default) and `'fro'` the Euclidean norm, `Infinity` / `-Infinity`
 * the largest / smallest magnitude, 0 the count of non-zeros, any other p `(sum |x|^p)^(1/p)`.
 * Gradients are PyTorch's: 0 where the norm is 0 (a subgradient), 0 at zero elements for
 * p < 1, split evenly between ties for the infinity norms, and none for p = 0.
 */
export function norm(x: Tensor, p: NormOrder = 2, dim?: number | readonly number[], keepdim = false): Tensor {
  requireFloat('norm', x);
  const axes = normAxes(dim, x.ndim, 'norm');
  const order = p === 'fro' ? 2 : p;
  if (typeof order !== 'number' || Number.isNaN(order)) throw new RangeError(`norm: p must be a number or 'fro', got ${String(p)}`);
  if (order === Infinity) return amax(abs(x), axes, keepdim);
  if (order === -Infinity) return amin(abs(x), axes, keepdim);
  if (order === 0) return sum(cast(ne(x, 0), x.dtype), axes, keepdim);
  if (order === 1) return sum(abs(x), axes, keepdim);
  return customOp(
    'norm',
    [x],
    () => {
      const s = sum(order === 2 ? mul(x, x) : pow(abs(x), order), axes, keepdim);
      return order === 2 ? sqrt(s) : pow(s, 1 / order);
    },
    (g, y) => {
      const yk = keepdim ? y : reshape(y, reducedShape(x.shape, axes, true));
      const gk = keepdim ? g : reshape(g, reducedShape(x.shape, axes, true));
      const isZero = eq(yk, 0);
      // d/dx (sum |x|^p)^(1/p) = sgn(x) |x|^(p-1) / norm^(p-1); masked as PyTorch at the kinks.
      const scale = where(isZero, 0, div(gk, order === 2 ? where(isZero, 1, yk) : pow(where(isZero, 1, yk), order - 1)));
      const local = order === 2 ? x : where(eq(x, 0), 0, mul(sign(x), pow(abs(x), order - 1)));
      return [mul(local, scale)];
    },
  );
}

function argExtreme(op: 'argmax' | 'argmin', x: Tensor, dim: number | undefined, keepdim: boolean): Tensor {
  x.assertLive(op);
  if (dim === undefined) {
    const flat = reshape(x, [-1]);
    const r = argExtreme(op, flat, 0, false);
    return keepdim ? reshape(r, x.shape.map(() => 1)) : r;
  }
  const axis = normAxis(dim, x.ndim, op);
  if (x.shape[axis] === 0) throw new RangeError(`${op}: cannot reduce over an empty dimension`);
  const y = primOut(op, x.backend, x.backend.argReduce(op, x.asView(op), axis), reducedShape(x.shape, [axis], false), 'int32');
  return keepdim ? reshape(y, reducedShape(x.shape, [axis], true)) : y;
}

/** Index of the (first) maximum along `dim`, or of the flattened tensor when omitted. */
export function argmax(x: Tensor, dim?: number, keepdim = false): Tensor {
  return argExtreme('argmax', x, dim, keepdim);
}
/** Index of the (first) minimum along `dim`, or of the flattened tensor when omitted. */
export function argmin(x: Tensor, dim?: number, keepdim = false): Tensor {
  return argExtreme('argmin', x, dim, keepdim);
}

/** Options of `var` and `std`. */
export interface VarOptions {
  /** Subtracted from the count in the divisor: 1 (default) is Bessel's correction, 0 the population variance. */
  readonly correction?: number;
  /** Keep reduced dims as length 1 (the positional `keepdim` argument wins when both are given). */
  readonly keepdim?: boolean;
}

function varArgs(keepdimOrOpts: boolean | VarOptions | undefined, opts: VarOptions): { correction: number; keepdim: boolean } {
  const o = typeof keepdimOrOpts === 'object' ? keepdimOrOpts : opts;
  const keepdim = typeof keepdimOrOpts === 'boolean' ? keepdimOrOpts : (o.keepdim ?? false);
  return { correction: o.correction ?? 1, keepdim };
}

/**
 * Variance over `dim` with `correction` (default 1, as PyTorch). `keepdim` is positional
 * like every reduction (`variance(x, 1, true, { correction: 0 })`); the older form
 * `variance(x, dim, { correction, keepdim })` still works. With `n - correction <= 0` the
 * result is NaN, as PyTorch's. Differs from PyTorch's legacy overload `var(x, dim, unbiased)`,
 * where a positional boolean after `dim` means `unbiased`: here it is `keepdim` (write
 * `{ correction: 0 }` for `unbiased=False`).
 */
export function variance(x: Tensor, dim?: number | readonly number[], keepdimOrOpts?: boolean | VarOptions, opts: VarOptions = {}): Tensor {
  requireFloat('var', x);
  const { correction, keepdim } = varArgs(keepdimOrOpts, opts);
  const axes = normAxes(dim, x.ndim, 'var');
  const n = numel(axes.map((a) => x.shape[a]!));
  const centred = sub(x, mean(x, axes, true));
  return div(sum(mul(centred, centred), axes, keepdim), Math.max(0, n - correction));
}

/**
 * Standard deviation over `dim` with `correction` (default 1); arguments as {@link variance}.
 * Where the deviation is 0 (a constant slice) the gradient is 0, as PyTorch's, not the
 * NaN of `sqrt`'s infinite slope times a zero.
 */
export function std(x: Tensor, dim?: number | readonly number[], keepdimOrOpts?: boolean | VarOptions, opts: VarOptions = {}): Tensor {
  const v = variance(x, dim, keepdimOrOpts, opts);
  const y = noGrad(() => sqrt(v));
  return withGrad(y, 'std', [v], (g) => [where(eq(y, 0), 0, div(g, mul(y, 2)))]);
}

/** `log(sum(exp(x)))` over `dim`, shifted by the max so it never overflows; gradient `softmax(x)`. */
export function logsumexp(x: Tensor, dim: number | readonly number[], keepdim = false): Tensor {
  requireFloat('logsumexp', x);
  const axes = normAxes(dim, x.ndim, 'logsumexp');
  return customOp(
    'logsumexp',
    [x],
    () => {
      const m = max(x, axes, true);
      const safeM = where(eq(abs(m), Infinity), 0, m); // all -inf (or an inf) must not give NaN
      const y = add(log(sum(exp(sub(x, safeM)), axes, true)), safeM);
      return keepdim ? y : reshape(y, reducedShape(x.shape, axes, false));
    },
    (g, y) => {
      const yk = keepdim ? y : reshape(y, reducedShape(x.shape, axes, true));
      const gk = keepdim ? g : reshape(g, reducedShape(x.shape, axes, true));
      return [mul(gk, exp(sub(x, yk)))];
    },
  );
}
