/** Reductions over any set of axes, with `keepdim`, and their gradients. */
import { customOp, withGrad } from '../autograd.js';
import type { ReduceOp } from '../backend.js';
import { normAxes, normAxis, numel } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { abs, add, cast, div, eq, exp, log, mul, sqrt, sub, where } from './elementwise.js';
import { primOut, requireFloat } from './prim.js';
import { expand, reshape } from './views.js';

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

/** Product over `dim`. The gradient is exact where elements are zero (as PyTorch). */
export function prod(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  const axes = normAxes(dim, x.ndim, 'prod');
  const y = reducePrim('prod', x, axes, keepdim);
  return withGrad(y, 'prod', [x], (g) => {
    const isZero = eq(x, 0);
    const zeros = unreduce(sum(isZero, axes, true), x, axes); // zeros per slice, at every element
    const nonZeroProd = unreduce(prod(where(isZero, 1, x), axes, true), x, axes);
    // No zero in the slice: y/x. Exactly one zero: the product of the others, at the zero only.
    const noZero = div(unreduce(keepdim ? y : reshape(y, reducedShape(x.shape, axes, true)), x, axes), where(isZero, 1, x));
    const others = where(eq(zeros, 0), noZero, where(eq(zeros, 1), where(isZero, nonZeroProd, 0), 0));
    return [mul(unreduce(g, x, axes), others)];
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

/** Maximum over `dim` (all dims when omitted). */
export function max(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  return extreme('max', x, dim, keepdim);
}
/** Minimum over `dim` (all dims when omitted). */
export function min(x: Tensor, dim?: number | readonly number[], keepdim = false): Tensor {
  return extreme('min', x, dim, keepdim);
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
  /** Keep reduced dims as length 1. */
  readonly keepdim?: boolean;
}

/** Variance over `dim` with `correction` (default 1, as PyTorch). */
export function variance(x: Tensor, dim?: number | readonly number[], opts: VarOptions = {}): Tensor {
  requireFloat('var', x);
  const axes = normAxes(dim, x.ndim, 'var');
  const n = numel(axes.map((a) => x.shape[a]!));
  const correction = opts.correction ?? 1;
  const centred = sub(x, mean(x, axes, true));
  return div(sum(mul(centred, centred), axes, opts.keepdim ?? false), Math.max(0, n - correction));
}

/** Standard deviation over `dim` with `correction` (default 1). */
export function std(x: Tensor, dim?: number | readonly number[], opts: VarOptions = {}): Tensor {
  return sqrt(variance(x, dim, opts));
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
