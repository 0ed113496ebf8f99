/** Neural-network functions: softmax, log-softmax, standardize, layer norm, dropout, embedding (losses: ./losses.ts). */
import { customOp, isGradEnabled, noGrad } from '../autograd.js';
import { fmtShape, normAxis, type Shape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { defaultGenerator, type Generator } from '../rng.js';
import { rand } from './creation.js';
import { abs, add, cast, div, eq, exp, ge, gt, log, logicalAnd, mul, pow, rsqrt, square, sub, where } from './elementwise.js';
import { indexSelect, oneHot } from './indexing.js';
import { primOut, requireFloat, sameBackend } from './prim.js';
import { max, mean, sum } from './reduce.js';
import { packed, reshape, unsqueeze } from './views.js';

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
    : () => {
        // PyTorch's formula: shift by the max, then subtract log(sum(exp)). It differs from
        // x - logsumexp(x) only at infinities ([inf, 0] gives [nan, nan], as PyTorch).
        const shifted = sub(x, max(x, d, true));
        return sub(shifted, log(sum(exp(shifted), d, true)));
      };
  return customOp('logSoftmax', [x], forward, (g, y) => {
    if (!isGradEnabled() && b.logSoftmaxBackward) {
      return [primOut('logSoftmaxBackward', b, b.logSoftmaxBackward(y.asView('logSoftmax'), packed(g).asView('logSoftmax'), outer, len, inner), x.shape, x.dtype)];
    }
    return [sub(g, mul(exp(y), sum(g, d, true)))];
  });
}

/**
 * Standardizes `x` along `dim`: `(x - mean) / sqrt(var + eps)` with the biased variance,
 * the core of layer norm (`dim = -1`), channels-first layer norm (`dim = 1` of NCHW), group
 * and instance norm. Uses the backend's fused kernels when it has them; those keep the
 * internal name `normalize` (Backend.normalize), which is NOT `torch.nn.functional.normalize`:
 * PyTorch's Lp normalization is {@link normalize} in ./norms.ts.
 */
export function standardize(x: Tensor, dim: number, eps = 1e-5): Tensor {
  requireFloat('standardize', x);
  const d = normAxis(dim, x.ndim, 'standardize');
  const b = x.backend;
  const [outer, len, inner] = aroundAxis(x.shape, d);
  const rstdOf = () => rsqrt(add(mean(square(sub(x, mean(x, d, true))), d, true), eps));
  const forward = b.normalize
    ? () => primOut('normalize', b, b.normalize!(packed(x).asView('normalize'), outer, len, inner, eps), x.shape, x.dtype)
    : () => mul(sub(x, mean(x, d, true)), rstdOf());
  // dx = rstd (g - mean(g) - xhat mean(g xhat)), with xhat the output.
  return customOp('standardize', [x], forward, (g, xhat) => {
    if (!isGradEnabled() && b.normalizeBackward) {
      return [primOut('normalizeBackward', b, b.normalizeBackward(packed(x).asView('normalize'), packed(g).asView('normalize'), outer, len, inner, eps), x.shape, x.dtype)];
    }
    return [mul(sub(sub(g, mean(g, d, true)), mul(xhat, mean(mul(g, xhat), d, true))), rstdOf())];
  });
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
  let y = k === 1 ? standardize(x, -1, eps) : reshape(standardize(reshape(x, [...lead, -1]), -1, eps), x.shape);
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

/** Options of {@link embedding} (PyTorch's names). */
export interface EmbeddingOptions {
  /** Row whose lookups get no gradient (its value is still returned); negative counts from the end. */
  readonly paddingIdx?: number | null;
  /** Rows looked up whose `normType`-norm exceeds this are rescaled IN PLACE to it first, as PyTorch. */
  readonly maxNorm?: number | null;
  /** The p of the norm for `maxNorm` (default 2). */
  readonly normType?: number;
}

/**
 * Looks up rows of `weight` `[V, D]` at int32 `indices` (any shape): output
 * `[...indices.shape, D]`, as `torch.nn.functional.embedding`. The gradient reaches `weight`
 * through the index-select's scatter-add; the `paddingIdx` row gets none. Indices outside
 * `[0, V)` are not checked (that needs a readback) and give an undefined result.
 */
export function embedding(indices: Tensor, weight: Tensor, opts: EmbeddingOptions = {}): Tensor {
  requireFloat('embedding', weight);
  sameBackend('embedding', indices, weight);
  if (indices.dtype !== 'int32') throw new TypeError(`embedding: indices must be an int32 tensor (e.g. T.tensor([0, 2], { dtype: 'int32' })), got ${indices.dtype}`);
  if (weight.ndim !== 2) throw new RangeError(`embedding: weight must be 2-D [numEmbeddings, embeddingDim], got ${fmtShape(weight.shape)}`);
  const [v, dim] = weight.shape as [number, number];
  let pad = opts.paddingIdx ?? null;
  if (pad !== null) {
    if (!Number.isInteger(pad) || pad < -v || pad >= v) throw new RangeError(`embedding: paddingIdx must be an integer in [${-v}, ${v}), got ${pad}`);
    if (pad < 0) pad += v;
  }
  const flat = reshape(indices, [-1]);
  if (opts.maxNorm !== undefined && opts.maxNorm !== null) {
    const maxNorm = opts.maxNorm;
    const p = opts.normType ?? 2;
    if (!(maxNorm > 0)) throw new RangeError(`embedding: maxNorm must be positive, got ${maxNorm}`);
    if (!(p > 0)) throw new RangeError(`embedding: normType must be positive, got ${p}`);
    // torch.embedding_renorm_: rows that are looked up and longer than maxNorm scale by maxNorm / (norm + 1e-7).
    noGrad(() => {
      const hits = unsqueeze(sum(oneHot(flat, v, 'int32'), 0), 1);
      const norms = Number.isFinite(p) ? pow(sum(pow(abs(weight), p), 1, true), 1 / p) : max(abs(weight), 1, true);
      const scale = where(logicalAnd(gt(hits, 0), gt(norms, maxNorm)), div(maxNorm, add(norms, 1e-7)), 1);
      const renormed = mul(weight, scale);
      weight.assign(renormed);
      for (const t of [hits, norms, scale, renormed]) t.dispose();
    });
  }
  let rows = indexSelect(weight, 0, flat);
  if (pad !== null && weight.requiresGrad) {
    // The padding row's value, cut off from the graph, where the index is paddingIdx.
    rows = where(unsqueeze(eq(flat, pad), 1), rows.detach(), rows);
  }
  return reshape(rows, [...indices.shape, dim]);
}
