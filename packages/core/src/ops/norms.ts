/**
 * Functional normalizations with PyTorch's names and meanings: `normalize` (Lp, as
 * `torch.nn.functional.normalize`), `batchNorm`, `groupNorm`, `instanceNorm`, and the
 * distances `cosineSimilarity` and `pairwiseDistance`. Composed from differentiable ops;
 * group and instance norm go through {@link standardize}, which uses the backends' fused
 * row kernels.
 */
import { customOp, noGrad } from '../autograd.js';
import { fmtShape, normAxis } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { abs, add, clamp, div, eq, mul, pow, rsqrt, sign, sqrt, sub, where } from './elementwise.js';
import { standardize } from './nn.js';
import { requireFloat, sameBackend } from './prim.js';
import { max, mean, sum, variance } from './reduce.js';
import { reshape } from './views.js';

/**
 * `||x||_p` along `dim` (p > 0, or Infinity), with PyTorch's gradient: 0 where the norm is 0
 * (instead of the 0/0 of composing pow and sum).
 */
function vectorNorm(x: Tensor, p: number, dim: number, keepdim: boolean): Tensor {
  if (p === Infinity) return max(abs(x), dim, keepdim);
  if (p === 1) return sum(abs(x), dim, keepdim);
  return customOp(
    'vectorNorm',
    [x],
    () => (p === 2 ? sqrt(sum(mul(x, x), dim, keepdim)) : pow(sum(pow(abs(x), p), dim, keepdim), 1 / p)),
    (g, y) => {
      const yk = keepdim ? y : y.unsqueeze(dim);
      const gk = keepdim ? g : g.unsqueeze(dim);
      const zero = eq(yk, 0);
      const scale = where(zero, 0, div(gk, where(zero, 1, p === 2 ? yk : pow(yk, p - 1))));
      const dx = p === 2 ? x : mul(sign(x), pow(abs(x), p - 1));
      return [mul(dx, scale)];
    },
  );
}

/** Options of {@link normalize} (PyTorch's names and defaults). */
export interface NormalizeOptions {
  /** The p of the norm (default 2; `Infinity` for the max norm). */
  readonly p?: number;
  /** The dim normalized along (default 1). */
  readonly dim?: number;
  /** Lower bound on the norm, so zero vectors stay zero (default 1e-12). */
  readonly eps?: number;
}

/**
 * Lp normalization along `dim`: `x / max(||x||_p, eps)`, as
 * `torch.nn.functional.normalize`. (Standardizing to zero mean and unit variance, which this
 * name meant before, is {@link standardize}.)
 */
export function normalize(x: Tensor, opts: NormalizeOptions = {}): Tensor {
  requireFloat('normalize', x);
  if (typeof opts !== 'object' || opts === null) {
    // The old normalize(x, dim, eps) standardized: say so rather than silently Lp-normalize.
    throw new TypeError(`normalize: the second argument is { p, dim, eps } (Lp normalization, as torch.nn.functional.normalize), got ${String(opts)}; to standardize along a dim (the old normalize(x, dim, eps)) use standardize(x, dim, eps)`);
  }
  const p = opts.p ?? 2;
  const eps = opts.eps ?? 1e-12;
  if (!(p > 0)) throw new RangeError(`normalize: p must be positive (or Infinity), got ${p}`);
  if (!(eps >= 0)) throw new RangeError(`normalize: eps must be non-negative, got ${eps}`);
  if (x.ndim === 0) throw new RangeError('normalize: input must have at least 1 dimension, got a scalar');
  const d = normAxis(opts.dim ?? 1, x.ndim, 'normalize');
  return div(x, clamp(vectorNorm(x, p, d, true), eps));
}

/** Options of {@link cosineSimilarity}. */
export interface CosineSimilarityOptions {
  /** The dim of the vectors (default 1). */
  readonly dim?: number;
  /** Lower bound on each norm (default 1e-8). */
  readonly eps?: number;
}

/**
 * Cosine similarity along `dim` of `x1` and `x2` (broadcast together), as
 * `torch.nn.functional.cosine_similarity`: `sum(x1/max(|x1|, eps) * x2/max(|x2|, eps))`.
 * Below `eps` the norm's clamp has no gradient here; PyTorch clamps it outside autograd.
 */
export function cosineSimilarity(x1: Tensor, x2: Tensor, opts: CosineSimilarityOptions = {}): Tensor {
  requireFloat('cosineSimilarity', x1);
  sameBackend('cosineSimilarity', x1, x2);
  const eps = opts.eps ?? 1e-8;
  const nd = Math.max(x1.ndim, x2.ndim);
  if (nd === 0) throw new RangeError('cosineSimilarity: inputs must have at least 1 dimension');
  const d = normAxis(opts.dim ?? 1, nd, 'cosineSimilarity');
  const dd = d - nd; // negative, so it names the same dim in both operands
  const n1 = clamp(vectorNorm(x1, 2, x1.ndim + dd, true), eps);
  const n2 = clamp(vectorNorm(x2, 2, x2.ndim + dd, true), eps);
  return sum(mul(div(x1, n1), div(x2, n2)), d);
}

/** Options of {@link pairwiseDistance}. */
export interface PairwiseDistanceOptions {
  /** The p of the norm (default 2). */
  readonly p?: number;
  /** Added to the difference so the norm's gradient stays finite (default 1e-6). */
  readonly eps?: number;
  /** Keep the reduced last dim (default false). */
  readonly keepdim?: boolean;
}

/** `||x1 - x2 + eps||_p` along the last dim, as `torch.nn.functional.pairwise_distance`. */
export function pairwiseDistance(x1: Tensor, x2: Tensor, opts: PairwiseDistanceOptions = {}): Tensor {
  requireFloat('pairwiseDistance', x1);
  sameBackend('pairwiseDistance', x1, x2);
  const p = opts.p ?? 2;
  if (!(p > 0)) throw new RangeError(`pairwiseDistance: p must be positive (or Infinity), got ${p}`);
  const diff = add(sub(x1, x2), opts.eps ?? 1e-6);
  if (diff.ndim === 0) throw new RangeError('pairwiseDistance: inputs must have at least 1 dimension');
  return vectorNorm(diff, p, diff.ndim - 1, opts.keepdim ?? false);
}

/** Checks an optional per-channel tensor `[C]`. */
function perChannel(op: string, name: string, t: Tensor | null | undefined, c: number, x: Tensor): Tensor | null {
  if (!t) return null;
  sameBackend(op, x, t);
  if (t.ndim !== 1 || t.shape[0] !== c) throw new RangeError(`${op}: ${name} must have shape [${c}] (one per channel of input ${fmtShape(x.shape)}), got ${fmtShape(t.shape)}`);
  if (t.dtype !== x.dtype) throw new TypeError(`${op}: ${name} must be ${x.dtype} like the input, got ${t.dtype}`);
  return t;
}

/** `[C, 1, 1, ...]` for broadcasting against `[N, C, ...]`. */
function chanShape(t: Tensor, ndim: number): Tensor {
  return reshape(t, [t.shape[0]!, ...Array<number>(ndim - 2).fill(1)]);
}

function affine(y: Tensor, weight: Tensor | null, bias: Tensor | null): Tensor {
  let out = y;
  if (weight) out = mul(out, chanShape(weight, y.ndim));
  if (bias) out = add(out, chanShape(bias, y.ndim));
  return out;
}

/** Checks a momentum in [0, 1], or a 0-d tensor of `x`'s dtype and backend (its value is not read back), and eps. */
function checkMomentum(op: string, momentum: number | Tensor, eps: number, x: Tensor): void {
  if (typeof momentum === 'number') {
    if (!(momentum >= 0 && momentum <= 1)) throw new RangeError(`${op}: momentum must be in [0, 1], got ${momentum}`);
  } else {
    sameBackend(op, x, momentum);
    if (momentum.ndim !== 0 || momentum.dtype !== x.dtype) {
      throw new TypeError(`${op}: momentum must be a number or a 0-d ${x.dtype} tensor like the input, got a ${momentum.dtype} tensor of shape ${fmtShape(momentum.shape)}`);
    }
  }
  if (!(eps >= 0)) throw new RangeError(`${op}: eps must be non-negative, got ${eps}`);
}

/** `running = (1 - m) running + m value`, in place and outside autodiff. */
function updateRunning(running: Tensor, value: Tensor, m: number | Tensor): void {
  noGrad(() => {
    const keep = typeof m === 'number' ? 1 - m : sub(1, m);
    const next = add(mul(running, keep), mul(value.detach(), m));
    running.assign(next);
    next.dispose();
    if (typeof keep !== 'number') keep.dispose();
  });
}

/** The optional per-channel tensors of batch and instance norm, checked; running mean and variance come together or not at all. */
function normTensors(op: string, x: Tensor, runningMean: Tensor | null, runningVar: Tensor | null, weight: Tensor | null, bias: Tensor | null) {
  const c = x.shape[1]!;
  const rm = perChannel(op, 'runningMean', runningMean, c, x);
  const rv = perChannel(op, 'runningVar', runningVar, c, x);
  if ((rm === null) !== (rv === null)) throw new RangeError(`${op}: give both runningMean and runningVar, or neither`);
  return { rm, rv, w: perChannel(op, 'weight', weight, c, x), b: perChannel(op, 'bias', bias, c, x) };
}

/** Options of {@link batchNorm} (PyTorch's names and defaults). */
export interface BatchNormOptions {
  /** Normalize with the batch's statistics and update the running ones (default false: use the running ones). */
  readonly training?: boolean;
  /**
   * Weight of the batch in the running statistics (default 0.1). May also be a 0-d tensor of
   * the input's dtype and backend (an addition to PyTorch's float): `nn.BatchNorm`'s
   * cumulative average passes `1 / num_batches_tracked` as one, so the count is never read back.
   */
  readonly momentum?: number | Tensor;
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
}

/**
 * Batch normalization of `x` `[N, C, ...]` per channel, as `torch.nn.functional.batch_norm`.
 * Training: normalizes with the batch mean and biased variance over every dim but 1, and
 * updates `runningMean` / `runningVar` IN PLACE (when given) with the unbiased variance.
 * Evaluation: normalizes with the running statistics (required then, as PyTorch).
 */
export function batchNorm(
  x: Tensor,
  runningMean: Tensor | null,
  runningVar: Tensor | null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  opts: BatchNormOptions = {},
): Tensor {
  const op = 'batchNorm';
  requireFloat(op, x);
  if (x.ndim < 2) throw new RangeError(`${op}: input must be [N, C, ...], got ${fmtShape(x.shape)}`);
  const c = x.shape[1]!;
  const { rm, rv, w, b } = normTensors(op, x, runningMean, runningVar, weight, bias);
  const training = opts.training ?? false;
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  checkMomentum(op, momentum, eps, x);
  let mu: Tensor;
  let varc: Tensor;
  if (training) {
    const count = x.size / c;
    if (count <= 1) throw new RangeError(`${op}: expected more than 1 value per channel when training, got input ${fmtShape(x.shape)}`);
    const axes = [0, ...x.shape.slice(2).map((_, i) => i + 2)];
    mu = mean(x, axes);
    varc = variance(x, axes, { correction: 0 });
    if (rm && rv) {
      updateRunning(rm, mu, momentum);
      noGrad(() => {
        const unbiased = mul(varc.detach(), count / (count - 1));
        updateRunning(rv, unbiased, momentum);
        unbiased.dispose();
      });
    }
  } else {
    if (!rm || !rv) throw new RangeError(`${op}: runningMean and runningVar must be given in evaluation mode (training: false)`);
    mu = rm.detach();
    varc = rv.detach();
  }
  const y = mul(sub(x, chanShape(mu, x.ndim)), chanShape(rsqrt(add(varc, eps)), x.ndim));
  return affine(y, w, b);
}

/**
 * Group normalization of `x` `[N, C, ...]` over groups of `C / numGroups` channels (and all
 * spatial positions), with per-channel affine `weight` and `bias`, as
 * `torch.nn.functional.group_norm`.
 */
export function groupNorm(x: Tensor, numGroups: number, weight: Tensor | null = null, bias: Tensor | null = null, eps = 1e-5): Tensor {
  const op = 'groupNorm';
  requireFloat(op, x);
  if (x.ndim < 2) throw new RangeError(`${op}: input must be [N, C, ...], got ${fmtShape(x.shape)}`);
  const c = x.shape[1]!;
  if (!Number.isInteger(numGroups) || numGroups <= 0 || c % numGroups !== 0) {
    throw new RangeError(`${op}: numGroups must be a positive integer dividing the ${c} channels, got ${numGroups}`);
  }
  if (!(eps >= 0)) throw new RangeError(`${op}: eps must be non-negative, got ${eps}`);
  const w = perChannel(op, 'weight', weight, c, x);
  const b = perChannel(op, 'bias', bias, c, x);
  const y = reshape(standardize(reshape(x, [x.shape[0]!, numGroups, -1]), 2, eps), x.shape);
  return affine(y, w, b);
}

/** Options of {@link instanceNorm} (PyTorch's names and defaults). */
export interface InstanceNormOptions {
  /** Normalize with each instance's own statistics (default true); false uses the running ones. */
  readonly useInputStats?: boolean;
  /** Weight of the batch in the running statistics (default 0.1). */
  readonly momentum?: number;
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
}

/**
 * Instance normalization of `x` `[N, C, ...]`: each (sample, channel) over its spatial
 * positions, as `torch.nn.functional.instance_norm`. With `useInputStats` (default) and
 * running statistics given, updates them IN PLACE with the batch average of the instance
 * means and unbiased variances, as PyTorch.
 */
export function instanceNorm(
  x: Tensor,
  runningMean: Tensor | null = null,
  runningVar: Tensor | null = null,
  weight: Tensor | null = null,
  bias: Tensor | null = null,
  opts: InstanceNormOptions = {},
): Tensor {
  const op = 'instanceNorm';
  requireFloat(op, x);
  if (x.ndim < 3) throw new RangeError(`${op}: input must be [N, C, L, ...] (at least one spatial dim), got ${fmtShape(x.shape)}`);
  const [n, c] = x.shape as [number, number];
  const { rm, rv, w, b } = normTensors(op, x, runningMean, runningVar, weight, bias);
  const useInputStats = opts.useInputStats ?? true;
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  checkMomentum(op, momentum, eps, x);
  const spatial = x.size / (n * c);
  let y: Tensor;
  if (useInputStats) {
    if (spatial <= 1) throw new RangeError(`${op}: expected more than 1 spatial element per channel, got input ${fmtShape(x.shape)}`);
    const rows = reshape(x, [n, c, -1]);
    y = reshape(standardize(rows, 2, eps), x.shape);
    if (rm && rv) {
      noGrad(() => {
        const mu = mean(mean(rows, 2), 0);
        const uv = mean(variance(rows, 2, { correction: 1 }), 0);
        updateRunning(rm, mu, momentum);
        updateRunning(rv, uv, momentum);
        mu.dispose();
        uv.dispose();
      });
    }
  } else {
    if (!rm || !rv) throw new RangeError(`${op}: useInputStats: false needs runningMean and runningVar`);
    y = mul(sub(x, chanShape(rm.detach(), x.ndim)), chanShape(rsqrt(add(rv.detach(), eps)), x.ndim));
  }
  return affine(y, w, b);
}
