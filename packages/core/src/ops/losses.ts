/**
 * Loss functions with PyTorch's names, arguments and reductions (`torch.nn.functional.*`):
 * nllLoss, crossEntropy, binaryCrossEntropy (+ with logits), l1Loss, mseLoss, smoothL1Loss,
 * huberLoss, klDiv, cosineEmbeddingLoss. Every one is composed from differentiable ops, so
 * gradients (and gradients of gradients) run on every backend.
 *
 * Class weights (`weight`, `posWeight`) are constants, as in PyTorch (which has no
 * gradient for them): they are detached here. Class-index targets are not range-checked
 * (that would need a device readback every step); an index outside `[0, C)` that is not
 * `ignoreIndex` gives an undefined result.
 */
import { customOp } from '../autograd.js';
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { abs, add, cast, clamp, div, eq, exp, gt, log, lt, maximum, mul, ne, neg, sigmoid, sqrt, square, sub, where } from './elementwise.js';
import { full } from './creation.js';
import { gather, indexSelect } from './indexing.js';
import { logSoftmax } from './nn.js';
import { requireFloat, sameBackend } from './prim.js';
import { mean, sum } from './reduce.js';
import { reshape, squeeze, unsqueeze } from './views.js';

/** How a loss reduces its per-element values (PyTorch's `reduction`). */
export type LossReduction = 'mean' | 'sum' | 'none';

/** Options shared by every loss: the reduction (default `'mean'`). */
export interface LossOptions {
  /** `'mean'` (default), `'sum'`, or `'none'` for the per-element losses. */
  readonly reduction?: LossReduction;
}

function checkReduction(op: string, r: string, extra: readonly string[] = []): void {
  const ok = ['mean', 'sum', 'none', ...extra];
  if (!ok.includes(r)) throw new RangeError(`${op}: reduction must be ${ok.map((s) => `'${s}'`).join(', ')}, got '${r}'`);
}

/** Applies `reduction` to per-element losses (mean over all elements). */
function reduce(op: string, losses: Tensor, reduction: string): Tensor {
  checkReduction(op, reduction);
  if (reduction === 'none') return losses;
  if (reduction === 'sum') return sum(losses);
  return mean(losses);
}

function sameShape(op: string, a: Tensor, b: Tensor, an: string, bn: string): void {
  sameBackend(op, a, b);
  if (a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new RangeError(`${op}: ${an} ${fmtShape(a.shape)} and ${bn} ${fmtShape(b.shape)} must have the same shape`);
  }
}

function sameFloat(op: string, a: Tensor, b: Tensor, an: string, bn: string): void {
  requireFloat(op, a);
  if (b.dtype !== a.dtype) throw new TypeError(`${op}: ${bn} must be ${a.dtype} like the ${an}, got ${b.dtype}; convert it with .cast('${a.dtype}')`);
}

/** Checks the `input` and `target` of an elementwise loss: float, the same dtype, backend and shape. */
function inputTarget(op: string, input: Tensor, target: Tensor): void {
  sameFloat(op, input, target, 'input', 'target');
  sameShape(op, input, target, 'input', 'target');
}

/** A 1-D per-class weight of length `c` (detached: PyTorch gives weights no gradient). */
function classWeight(op: string, w: Tensor | null | undefined, c: number, input: Tensor, name = 'weight'): Tensor | null {
  if (!w) return null;
  sameBackend(op, input, w);
  if (w.ndim !== 1 || w.shape[0] !== c) throw new RangeError(`${op}: ${name} must be 1-D with one entry per class (${c}), got shape ${fmtShape(w.shape)}`);
  if (w.dtype !== input.dtype) throw new TypeError(`${op}: ${name} must be ${input.dtype} like the input, got ${w.dtype}`);
  return w.detach();
}

/** `w` shaped to broadcast along the class dim of an input of `ndim` dims. */
function alongClasses(w: Tensor, classDim: number, ndim: number): Tensor {
  return reshape(w, [w.shape[0]!, ...Array<number>(ndim - classDim - 1).fill(1)]);
}

/** The message for class-index targets of the wrong dtype. */
function indexDtypeError(op: string, target: Tensor): TypeError {
  return new TypeError(
    `${op}: class indices must be an int32 tensor (e.g. T.tensor([0, 1, 2], { dtype: 'int32' })), got ${target.dtype}; ` +
      `convert them with target.cast('int32'), or pass class probabilities shaped like the input`,
  );
}

/**
 * `sum(losses) / total` as PyTorch's weighted mean, where `total` is the summed weight of the
 * non-ignored targets. When that total is 0 (every target ignored) the value is NaN, as
 * PyTorch's, but the gradient is exactly 0, as PyTorch's: the NaN is added as a constant,
 * so it never reaches the parameters' gradients.
 */
function weightedMean(losses: Tensor, total: Tensor): Tensor {
  const empty = eq(total, 0);
  const safe = where(empty, 1, total);
  const nan = full([], NaN, { dtype: losses.dtype, backend: losses.backend });
  const nanIfEmpty = where(empty, nan, 0);
  nan.dispose();
  return add(div(sum(losses), safe), nanIfEmpty);
}

/** Checks an int32 class-index target against `input` `[N, C, d1...]` / `[C]` and returns the class dim. */
function classTargetShape(op: string, input: Tensor, target: Tensor): number {
  if (input.ndim < 1) throw new RangeError(`${op}: input must have a class dimension, got a scalar`);
  const classDim = input.ndim === 1 ? 0 : 1;
  const expected = input.shape.filter((_, i) => i !== classDim);
  if (target.ndim !== expected.length || target.shape.some((d, i) => d !== expected[i])) {
    throw new RangeError(`${op}: class-index target must have shape ${fmtShape(expected)} for input ${fmtShape(input.shape)}, got ${fmtShape(target.shape)}`);
  }
  sameBackend(op, input, target);
  return classDim;
}

/** Options of {@link nllLoss} (PyTorch's names and defaults). */
export interface NllLossOptions extends LossOptions {
  /** Per-class weight `[C]` (a constant: no gradient, as PyTorch). */
  readonly weight?: Tensor | null;
  /** Class index whose targets add no loss and no weight (default -100). */
  readonly ignoreIndex?: number;
}

/** Per-element `-w[t] * input[t]` (0 where ignored) and the per-element weights, for nllLoss and crossEntropy. */
function pickWeighted(input: Tensor, target: Tensor, classDim: number, w: Tensor | null, ignoreIndex: number): { picked: Tensor; wt: Tensor; keep: Tensor } {
  const keep = ne(target, ignoreIndex);
  const safeTarget = where(keep, target, 0);
  const picked = squeeze(gather(input, classDim, unsqueeze(safeTarget, classDim)), classDim);
  const mask = cast(keep, input.dtype);
  const wt = w ? mul(reshape(indexSelect(w, 0, reshape(safeTarget, [-1])), target.shape), mask) : mask;
  return { picked, wt, keep };
}

/**
 * Negative log-likelihood of log-probabilities `input` `[N, C, d1, ...]` (or `[C]`) at int32
 * class indices `target` `[N, d1, ...]`, as `torch.nn.functional.nll_loss`: per element
 * `-weight[t] * input[n, t, ...]`; `'mean'` divides by the summed weight of the non-ignored
 * targets (NaN with a zero gradient when every target is ignored, as PyTorch).
 */
export function nllLoss(input: Tensor, target: Tensor, opts: NllLossOptions = {}): Tensor {
  requireFloat('nllLoss', input);
  if (target.dtype !== 'int32') throw indexDtypeError('nllLoss', target);
  const reduction = opts.reduction ?? 'mean';
  checkReduction('nllLoss', reduction);
  const classDim = classTargetShape('nllLoss', input, target);
  const w = classWeight('nllLoss', opts.weight, input.shape[classDim]!, input);
  const { picked, wt } = pickWeighted(input, target, classDim, w, opts.ignoreIndex ?? -100);
  const losses = neg(mul(picked, wt));
  if (reduction === 'none') return losses;
  if (reduction === 'sum') return sum(losses);
  return weightedMean(losses, sum(wt));
}

/** Options of {@link crossEntropy} (PyTorch's names and defaults). */
export interface CrossEntropyOptions extends LossOptions {
  /** Mixes the target with the uniform distribution: `(1 - eps) * target + eps / C`. */
  readonly labelSmoothing?: number;
  /** Class index whose targets add no loss (class-index targets only; default -100). */
  readonly ignoreIndex?: number;
  /** Per-class weight `[C]` (a constant: no gradient, as PyTorch). */
  readonly weight?: Tensor | null;
}

/**
 * Cross-entropy between logits `input` `[N, C, d1, ...]` (or `[C]`) and either int32 class
 * indices `[N, d1, ...]` or class probabilities shaped like `input`, as
 * `torch.nn.functional.cross_entropy`, with class `weight`, `ignoreIndex` and
 * `labelSmoothing`. With class indices, `'mean'` divides by the summed weight of the
 * non-ignored targets (the smoothing term too, as PyTorch); when every target is ignored the
 * mean is NaN, as PyTorch's, with an exactly zero gradient. With probabilities, `'mean'`
 * divides by the number of elements `N * d1 * ...`.
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  requireFloat('crossEntropy', input);
  const reduction = opts.reduction ?? 'mean';
  checkReduction('crossEntropy', reduction);
  const eps = opts.labelSmoothing ?? 0;
  if (!(eps >= 0 && eps <= 1)) throw new RangeError(`crossEntropy: labelSmoothing must be in [0, 1], got ${eps}`);
  if (input.ndim < 1) throw new RangeError('crossEntropy: input must have a class dimension, got a scalar');
  const classDim = input.ndim === 1 ? 0 : 1;
  const numClasses = input.shape[classDim]!;
  const w = classWeight('crossEntropy', opts.weight, numClasses, input);
  // A target shaped like the indices but not int32 is almost always a forgotten dtype hint.
  const indexShaped = target.ndim === input.ndim - 1;
  if (indexShaped && target.dtype !== 'int32') throw indexDtypeError('crossEntropy', target);
  const lsm = logSoftmax(input, classDim);
  if (target.dtype === 'int32') {
    classTargetShape('crossEntropy', input, target);
    const { picked, wt, keep } = pickWeighted(lsm, target, classDim, w, opts.ignoreIndex ?? -100);
    let losses = neg(mul(picked, wt));
    if (eps > 0) {
      const smooth = neg(sum(w ? mul(lsm, alongClasses(w, classDim, input.ndim)) : lsm, classDim));
      losses = add(mul(losses, 1 - eps), mul(where(keep, smooth, 0), eps / numClasses));
    }
    if (reduction === 'none') return losses;
    if (reduction === 'sum') return sum(losses);
    return weightedMean(losses, sum(wt));
  }
  if (target.dtype !== input.dtype) {
    throw new TypeError(`crossEntropy: target must be int32 class indices of shape ${fmtShape(input.shape.filter((_, i) => i !== classDim))} or ${input.dtype} probabilities of the input's shape, got ${target.dtype} ${fmtShape(target.shape)}`);
  }
  if (target.ndim !== input.ndim || target.shape.some((d, i) => d !== input.shape[i])) {
    throw new RangeError(`crossEntropy: probability target must have the input's shape ${fmtShape(input.shape)}, got ${fmtShape(target.shape)}`);
  }
  sameBackend('crossEntropy', input, target);
  const smoothed = eps > 0 ? add(mul(target, 1 - eps), eps / numClasses) : target;
  const weighted = w ? mul(lsm, alongClasses(w, classDim, input.ndim)) : lsm;
  return reduce('crossEntropy', neg(sum(mul(smoothed, weighted), classDim)), reduction);
}

/** Options of {@link binaryCrossEntropy}. */
export interface BceOptions extends LossOptions {
  /** Per-element weight broadcast to the input (a constant: no gradient). */
  readonly weight?: Tensor | null;
}

function elementWeight(op: string, w: Tensor | null | undefined, input: Tensor): Tensor | null {
  if (!w) return null;
  sameBackend(op, input, w);
  if (w.dtype !== input.dtype) throw new TypeError(`${op}: weight must be ${input.dtype} like the input, got ${w.dtype}`);
  if (w.ndim > input.ndim || w.shape.some((d, i) => d !== 1 && d !== input.shape[input.ndim - w.ndim + i])) {
    throw new RangeError(`${op}: weight ${fmtShape(w.shape)} does not broadcast to the input ${fmtShape(input.shape)}`);
  }
  return w.detach();
}

/** PyTorch's floor on `x (1 - x)` in the BCE gradient: the float32 value of 1e-12, in every dtype. */
const BCE_EPS = Math.fround(1e-12);

/**
 * Binary cross-entropy of probabilities `input` in `[0, 1]` against `target` of the same
 * shape, as `torch.nn.functional.binary_cross_entropy`: `-w (t log x + (1-t) log(1-x))`
 * with each log clamped at -100, and PyTorch's input gradient
 * `w (x - t) / max(x (1 - x), 1e-12)`. The target's gradient is that of the clamped logs,
 * `w (clog(1 - x) - clog(x))`, finite at `x` = 0 or 1 (PyTorch's is +-inf there). PyTorch
 * raises for inputs outside `[0, 1]`; that needs a readback, so here such inputs give NaN.
 */
export function binaryCrossEntropy(input: Tensor, target: Tensor, opts: BceOptions = {}): Tensor {
  const op = 'binaryCrossEntropy';
  inputTarget(op, input, target);
  const w = elementWeight(op, opts.weight, input);
  const reduction = opts.reduction ?? 'mean';
  checkReduction(op, reduction);
  const clog = (v: Tensor) => clamp(log(v), -100);
  const losses = customOp(
    op,
    [input, target],
    () => {
      const l = neg(add(mul(target, clog(input)), mul(sub(1, target), clog(sub(1, input)))));
      return w ? mul(l, w) : l;
    },
    (g) => {
      const gw = w ? mul(g, w) : g;
      const gx = div(mul(gw, sub(input, target)), maximum(mul(input, sub(1, input)), BCE_EPS));
      const gt = mul(gw, sub(clog(sub(1, input)), clog(input)));
      return [gx, gt];
    },
  );
  return reduce(op, losses, reduction);
}

/** `log(1 + e^x)` without overflow, exact for large negative `x`; gradient `sigmoid(x)`. */
function softplus(x: Tensor): Tensor {
  return customOp(
    'softplus',
    [x],
    () => {
      // log1p(u) for u = e^-|x| in [0, 1]: Kahan's log(1+u) * u / ((1+u) - 1) keeps the small-u digits.
      const u = exp(neg(abs(x)));
      const w = add(u, 1);
      const d = sub(w, 1);
      const tiny = eq(d, 0);
      const log1p = where(tiny, u, div(mul(log(w), u), where(tiny, 1, d)));
      return add(maximum(x, 0), log1p);
    },
    (g) => [mul(g, sigmoid(x))],
  );
}

/** Options of {@link binaryCrossEntropyWithLogits}. */
export interface BceWithLogitsOptions extends BceOptions {
  /** Weight of the positive class, broadcast along the last dim (a constant: no gradient). */
  readonly posWeight?: Tensor | null;
}

/**
 * Binary cross-entropy on logits, as `torch.nn.functional.binary_cross_entropy_with_logits`:
 * `w ((1 - t) x + (1 + (p - 1) t) softplus(-x))`, stable for any `x`, with `weight` `w` and
 * `posWeight` `p`.
 */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, opts: BceWithLogitsOptions = {}): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  inputTarget(op, input, target);
  const w = elementWeight(op, opts.weight, input);
  const p = elementWeight(op, opts.posWeight, input);
  if (p && p.ndim > 0 && p.shape[p.ndim - 1] !== 1 && p.shape[p.ndim - 1] !== input.shape[input.ndim - 1]) {
    throw new RangeError(`${op}: posWeight ${fmtShape(p.shape)} must broadcast along the last dim of the input ${fmtShape(input.shape)}`);
  }
  const reduction = opts.reduction ?? 'mean';
  checkReduction(op, reduction);
  const sp = softplus(neg(input));
  const logWeight = p ? add(mul(sub(p, 1), target), 1) : null;
  let losses = add(mul(sub(1, target), input), logWeight ? mul(logWeight, sp) : sp);
  if (w) losses = mul(losses, w);
  return reduce(op, losses, reduction);
}

/** Mean absolute error `|input - target|`, as `torch.nn.functional.l1_loss` (same shapes required; PyTorch broadcasts with a warning). */
export function l1Loss(input: Tensor, target: Tensor, opts: LossOptions = {}): Tensor {
  inputTarget('l1Loss', input, target);
  return reduce('l1Loss', abs(sub(input, target)), opts.reduction ?? 'mean');
}

/** Mean squared error `(input - target)^2`, as `torch.nn.functional.mse_loss` (same shapes required; PyTorch broadcasts with a warning). */
export function mseLoss(input: Tensor, target: Tensor, opts: LossOptions = {}): Tensor {
  inputTarget('mseLoss', input, target);
  return reduce('mseLoss', square(sub(input, target)), opts.reduction ?? 'mean');
}

/** Options of {@link smoothL1Loss}. */
export interface SmoothL1Options extends LossOptions {
  /** Where the loss turns from quadratic to linear (default 1; 0 gives the L1 loss). */
  readonly beta?: number;
}

/**
 * Smooth L1 loss, as `torch.nn.functional.smooth_l1_loss`: `0.5 d^2 / beta` where
 * `|d| < beta`, else `|d| - 0.5 beta`, with `d = input - target`.
 */
export function smoothL1Loss(input: Tensor, target: Tensor, opts: SmoothL1Options = {}): Tensor {
  const op = 'smoothL1Loss';
  inputTarget(op, input, target);
  const beta = opts.beta ?? 1;
  if (!(beta >= 0)) throw new RangeError(`${op}: beta must be non-negative, got ${beta}`);
  const ad = abs(sub(input, target));
  const losses = beta === 0 ? ad : where(lt(ad, beta), div(mul(square(ad), 0.5), beta), sub(ad, 0.5 * beta));
  return reduce(op, losses, opts.reduction ?? 'mean');
}

/** Options of {@link huberLoss}. */
export interface HuberOptions extends LossOptions {
  /** Where the loss turns from quadratic to linear (default 1; must be positive). */
  readonly delta?: number;
}

/**
 * Huber loss, as `torch.nn.functional.huber_loss`: `0.5 d^2` where `|d| < delta`, else
 * `delta (|d| - 0.5 delta)`.
 */
export function huberLoss(input: Tensor, target: Tensor, opts: HuberOptions = {}): Tensor {
  const op = 'huberLoss';
  inputTarget(op, input, target);
  const delta = opts.delta ?? 1;
  if (!(delta > 0)) throw new RangeError(`${op}: delta must be positive, got ${delta}`);
  const ad = abs(sub(input, target));
  const losses = where(lt(ad, delta), mul(square(ad), 0.5), mul(sub(ad, 0.5 * delta), delta));
  return reduce(op, losses, opts.reduction ?? 'mean');
}

/** Options of {@link klDiv}. */
export interface KlDivOptions {
  /** `'mean'` (default, over all elements, as PyTorch), `'batchmean'` (sum / N, the true KL), `'sum'` or `'none'`. */
  readonly reduction?: LossReduction | 'batchmean';
  /** The target is given as log-probabilities (default false). */
  readonly logTarget?: boolean;
}

/**
 * Kullback-Leibler divergence of log-probabilities `input` from `target`, as
 * `torch.nn.functional.kl_div`: per element `t (log t - input)` (0 where `t == 0`), or
 * `e^t (t - input)` with `logTarget`. Where `t == 0` the target's gradient leaves out the
 * `t log t` term (PyTorch gives NaN there, from `xlogy`'s 0/0).
 */
export function klDiv(input: Tensor, target: Tensor, opts: KlDivOptions = {}): Tensor {
  const op = 'klDiv';
  inputTarget(op, input, target);
  const reduction = opts.reduction ?? 'mean';
  checkReduction(op, reduction, ['batchmean']);
  let losses: Tensor;
  if (opts.logTarget) {
    losses = mul(exp(target), sub(target, input));
  } else {
    // xlogy: t log t is 0 at t == 0; the safe argument keeps NaN out of the unused branch.
    const pos = gt(target, 0);
    const tlogt = where(pos, mul(target, log(where(pos, target, 1))), 0);
    losses = sub(tlogt, mul(target, input));
  }
  if (reduction === 'batchmean') {
    if (input.ndim === 0) return losses;
    return div(sum(losses), input.shape[0]!);
  }
  return reduce(op, losses, reduction);
}

/** Options of {@link cosineEmbeddingLoss}. */
export interface CosineEmbeddingOptions extends LossOptions {
  /** Margin for dissimilar pairs (default 0), in `[-1, 1]`. */
  readonly margin?: number;
}

/**
 * Cosine embedding loss, as `torch.nn.functional.cosine_embedding_loss`: for `x1`, `x2`
 * `[N, D]` (or `[D]`) and `y` of +1/-1 `[N]` (or `[]`): `1 - cos` where `y == 1`,
 * `max(0, cos - margin)` where `y == -1`, with PyTorch's
 * `cos = x1.x2 / sqrt((|x1|^2 + 1e-12)(|x2|^2 + 1e-12))`.
 */
export function cosineEmbeddingLoss(x1: Tensor, x2: Tensor, y: Tensor, opts: CosineEmbeddingOptions = {}): Tensor {
  const op = 'cosineEmbeddingLoss';
  sameFloat(op, x1, x2, 'x1', 'x2');
  sameShape(op, x1, x2, 'x1', 'x2');
  sameBackend(op, x1, y);
  if (x1.ndim !== 1 && x1.ndim !== 2) throw new RangeError(`${op}: inputs must be [N, D] or [D], got ${fmtShape(x1.shape)}`);
  const expected = x1.ndim === 2 ? [x1.shape[0]!] : [];
  if (y.ndim !== expected.length || y.shape.some((d, i) => d !== expected[i])) {
    throw new RangeError(`${op}: target must have shape ${fmtShape(expected)} for inputs ${fmtShape(x1.shape)}, got ${fmtShape(y.shape)}`);
  }
  if (y.dtype === 'bool') throw new TypeError(`${op}: target must hold 1 and -1 (int32 or float), got a bool tensor`);
  const margin = opts.margin ?? 0;
  const d = x1.ndim - 1;
  const EPS = 1e-12;
  const cos = div(sum(mul(x1, x2), d), sqrt(mul(add(sum(square(x1), d), EPS), add(sum(square(x2), d), EPS))));
  const yt = y.dtype === x1.dtype ? y.detach() : cast(y, x1.dtype);
  const losses = add(where(eq(yt, 1), sub(1, cos), 0), where(eq(yt, -1), clamp(sub(cos, margin), 0), 0));
  return reduce(op, losses, opts.reduction ?? 'mean');
}
