/** Neural-network functions: softmax, log-softmax, cross-entropy, layer norm, dropout. */
import { customOp, isGradEnabled } from '../autograd.js';
import { fmtShape, normAxis, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { defaultGenerator, type Generator } from '../rng.js';
import { rand } from './creation.js';
import { add, cast, div, exp, ge, mul, ne, neg, rsqrt, square, sub, where } from './elementwise.js';
import { gather } from './indexing.js';
import { primOut, requireFloat } from './prim.js';
import { logsumexp, max, mean, sum } from './reduce.js';
import { packed, reshape, squeeze, unsqueeze } from './views.js';

/** Softmax along `dim`, shifted by the max for stability; gradient `y (g - sum(g y))`. */
export function softmax(x: Tensor, dim = -1): Tensor {
  requireFloat('softmax', x);
  const d = normAxis(dim, x.ndim, 'softmax');
  return customOp(
    'softmax',
    [x],
    () => {
      const e = exp(sub(x, max(x, d, true)));
      return div(e, sum(e, d, true));
    },
    (g, y) => [mul(y, sub(g, sum(mul(g, y), d, true)))],
  );
}

/** `[outer, len, inner]`: the sizes before, along and after `dim`, for along-axis kernels. */
function aroundAxis(shape: readonly number[], d: number): [number, number, number] {
  const outer = shape.slice(0, d).reduce((a, b) => a * b, 1);
  const inner = shape.slice(d + 1).reduce((a, b) => a * b, 1);
  return [outer, shape[d]!, inner];
}

/** Log-softmax along `dim`; gradient `g - softmax(x) sum(g)`. Uses the backend's fused kernels when it has them. */
export function logSoftmax(x: Tensor, dim = -1): Tensor {
  requireFloat('logSoftmax', x);
  const d = normAxis(dim, x.ndim, 'logSoftmax');
  const b = x.backend;
  const [outer, len, inner] = aroundAxis(x.shape, d);
  const forward = b.logSoftmax
    ? () => primOut('logSoftmax', b, b.logSoftmax!(packed(x).asView('logSoftmax'), outer, len, inner), x.shape, x.dtype)
    : () => sub(x, logsumexp(x, d, true));
  return customOp('logSoftmax', [x], forward, (g, y) => {
    if (!isGradEnabled() && b.logSoftmaxBackward) {
      return [primOut('logSoftmaxBackward', b, b.logSoftmaxBackward(y.asView('logSoftmax'), packed(g).asView('logSoftmax'), outer, len, inner), x.shape, x.dtype)];
    }
    return [sub(g, mul(exp(y), sum(g, d, true)))];
  });
}

/**
 * Standardizes `x` along `dim`: `(x - mean) / sqrt(var + eps)` with the biased variance,
 * the core of layer norm (`dim = -1`) and of channels-first layer norm (`dim = 1` of NCHW).
 * Uses the backend's fused kernels when it has them.
 */
export function normalize(x: Tensor, dim: number, eps = 1e-5): Tensor {
  requireFloat('normalize', x);
  const d = normAxis(dim, x.ndim, 'normalize');
  const b = x.backend;
  const [outer, len, inner] = aroundAxis(x.shape, d);
  const rstdOf = () => rsqrt(add(mean(square(sub(x, mean(x, d, true))), d, true), eps));
  const forward = b.normalize
    ? () => primOut('normalize', b, b.normalize!(packed(x).asView('normalize'), outer, len, inner, eps), x.shape, x.dtype)
    : () => mul(sub(x, mean(x, d, true)), rstdOf());
  // dx = rstd (g - mean(g) - xhat mean(g xhat)), with xhat the output.
  return customOp('normalize', [x], forward, (g, xhat) => {
    if (!isGradEnabled() && b.normalizeBackward) {
      return [primOut('normalizeBackward', b, b.normalizeBackward(packed(x).asView('normalize'), packed(g).asView('normalize'), outer, len, inner, eps), x.shape, x.dtype)];
    }
    return [mul(sub(sub(g, mean(g, d, true)), mul(xhat, mean(mul(g, xhat), d, true))), rstdOf())];
  });
}

/** Options of {@link crossEntropy} (PyTorch's names and defaults). */
export interface CrossEntropyOptions {
  /** `'mean'` (default) over the non-ignored targets, `'sum'`, or `'none'` for per-sample losses. */
  readonly reduction?: 'mean' | 'sum' | 'none';
  /** Mixes the target with the uniform distribution: `(1 - eps) * target + eps / C`. */
  readonly labelSmoothing?: number;
  /** Class index whose targets add no loss (class-index targets only; default -100). */
  readonly ignoreIndex?: number;
}

/**
 * Cross-entropy between logits `input` `[N, C, ...]` and either int32 class indices
 * `[N, ...]` or class probabilities shaped like `input`, as `torch.nn.functional.cross_entropy`.
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  requireFloat('crossEntropy', input);
  const reduction = opts.reduction ?? 'mean';
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new RangeError(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  if (input.ndim < 1) throw new RangeError('crossEntropy: input must have a class dimension');
  const classDim = input.ndim === 1 ? 0 : 1;
  const numClasses = input.shape[classDim]!;
  const lsm = logSoftmax(input, classDim);
  let losses: Tensor;
  let count: Tensor | number;
  if (target.dtype === 'int32') {
    const expected = input.shape.filter((_, i) => i !== classDim);
    if (target.ndim !== expected.length || target.shape.some((d, i) => d !== expected[i])) {
      throw new RangeError(`crossEntropy: class-index target must have shape ${fmtShape(expected)} for input ${fmtShape(input.shape)}, got ${fmtShape(target.shape)}`);
    }
    const ignore = opts.ignoreIndex ?? -100;
    const keep = ne(target, ignore);
    const safeTarget = where(keep, target, 0);
    const picked = squeeze(gather(lsm, classDim, unsqueeze(safeTarget, classDim)), classDim);
    let loss = neg(picked);
    if (eps > 0) loss = add(mul(loss, 1 - eps), mul(neg(sum(lsm, classDim)), eps / numClasses));
    const mask = cast(keep, input.dtype);
    losses = mul(loss, mask);
    count = sum(mask);
  } else {
    if (target.dtype !== input.dtype) throw new TypeError(`crossEntropy: probability target must be ${input.dtype} like the input, got ${target.dtype}`);
    if (target.ndim !== input.ndim || target.shape.some((d, i) => d !== input.shape[i])) {
      throw new RangeError(`crossEntropy: probability target must have the input's shape ${fmtShape(input.shape)}, got ${fmtShape(target.shape)}`);
    }
    const smoothed = eps > 0 ? add(mul(target, 1 - eps), eps / numClasses) : target;
    losses = neg(sum(mul(smoothed, lsm), classDim));
    count = losses.size;
  }
  if (reduction === 'none') return losses;
  if (reduction === 'sum') return sum(losses);
  if (reduction !== 'mean') throw new RangeError(`crossEntropy: reduction must be 'mean', 'sum' or 'none', got '${String(reduction)}'`);
  return div(sum(losses), count);
}

/**
 * Layer normalization over the trailing dims `normalizedShape`, with optional affine
 * `weight` and `bias` of that shape: `(x - mean) / sqrt(var + eps) * weight + bias`
 * (biased variance, as PyTorch).
 */
export function layerNorm(x: Tensor, normalizedShape: Shape, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  requireFloat('layerNorm', x);
  const k = normalizedShape.length;
  const tail = x.shape.slice(x.ndim - k);
  if (k === 0 || k > x.ndim || tail.some((d, i) => d !== normalizedShape[i])) {
    throw new RangeError(`layerNorm: normalizedShape ${fmtShape(normalizedShape)} must match the last dims of the input ${fmtShape(x.shape)}`);
  }
  for (const [name, p] of [['weight', weight], ['bias', bias]] as const) {
    if (p && (p.ndim !== k || p.shape.some((d, i) => d !== normalizedShape[i]))) {
      throw new RangeError(`layerNorm: ${name} must have shape ${fmtShape(normalizedShape)}, got ${fmtShape(p.shape)}`);
    }
  }
  // Normalize over the trailing dims flattened into one.
  const lead = x.shape.slice(0, x.ndim - k);
  let y = k === 1 ? normalize(x, -1, eps) : reshape(normalize(reshape(x, [...lead, -1]), -1, eps), x.shape);
  if (weight) y = mul(y, weight);
  if (bias) y = add(y, bias);
  return y;
}

/** Options of {@link dropout}. */
export interface DropoutOptions {
  /** Apply dropout (default true); when false the input is returned unchanged. */
  readonly training?: boolean;
  /** A generator other than the default one. */
  readonly generator?: Generator;
}

/** Zeroes each element with probability `p` and scales the rest by `1/(1-p)`. */
export function dropout(x: Tensor, p = 0.5, opts: DropoutOptions = {}): Tensor {
  requireFloat('dropout', x);
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropout: p must be in [0, 1], got ${p}`);
  if (opts.training === false || p === 0) return x;
  if (p === 1) return mul(x, 0);
  const u = rand(x.shape, { dtype: x.dtype, backend: x.backend, generator: opts.generator ?? defaultGenerator });
  const mask = div(cast(ge(u, p), x.dtype), 1 - p);
  u.dispose();
  return mul(x, mask);
}
