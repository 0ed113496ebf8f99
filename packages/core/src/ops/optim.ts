/**
 * The optimizer's arithmetic as tensor functions: one Adam/AdamW step of one parameter, and
 * the two passes of gradient-norm clipping (the total norm, then the scaling). Each uses the
 * backend's fused kernel when it has one (one pass over the data, hyper-parameters as kernel
 * arguments) and otherwise the composed ops, which compute the same float32 values. None of
 * them is recorded for autodiff.
 */
import type { AdamHyper, Backend } from '../backend.js';
import { isGradEnabled, noGrad } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import { zeros } from './creation.js';
import { abs, add, clamp, div, maximum, mul, neg, pow, sqrt, sub } from './elementwise.js';
import { stack } from './indexing.js';
import { primOut, sameBackend } from './prim.js';
import { max, sum } from './reduce.js';
import { packed } from './views.js';

/** Options of {@link adamStep}: an {@link AdamHyper} with the betas as a pair. */
export interface AdamStepOptions {
  /** Learning rate. */
  readonly lr: number;
  /** Decay rates of the first and second moments. */
  readonly betas: readonly [number, number];
  /** Added to the denominator. */
  readonly eps: number;
  /** Weight decay: decoupled (`p *= 1 - lr wd`, AdamW) or L2 on the gradient (Adam). */
  readonly weightDecay: number;
  /** AdamW's decoupled decay (true) or Adam's L2 term (false). */
  readonly decoupled: boolean;
  /** The step number `t >= 1` (bias corrections `1 - beta^t`). */
  readonly step: number;
  /** AMSGrad: divide by the running maximum of the second moment (needs `maxExpAvgSq`). */
  readonly amsgrad?: boolean;
  /** Ascend instead of descend. */
  readonly maximize?: boolean;
}

/** The new values of one {@link adamStep}: fresh tensors of the parameter's shape. */
export interface AdamStepOutput {
  /** The updated parameter. */
  readonly param: Tensor;
  /** The updated first moment `exp_avg`. */
  readonly expAvg: Tensor;
  /** The updated second moment `exp_avg_sq`. */
  readonly expAvgSq: Tensor;
  /** The updated `max_exp_avg_sq` (AMSGrad), else null. */
  readonly maxExpAvgSq: Tensor | null;
}

function sameShape(op: string, what: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype || a.ndim !== b.ndim || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${op}: ${what} is [${b.shape.join(', ')}] ${b.dtype}, the parameter [${a.shape.join(', ')}] ${a.dtype}`);
  }
}

function unrecorded<T>(fn: () => T): T {
  return isGradEnabled() ? noGrad(fn) : fn();
}

/**
 * One step of `torch.optim.Adam` (`decoupled: false`) or `torch.optim.AdamW` (`decoupled:
 * true`) for one parameter, as torch 1.13's single-tensor code computes it in float32 (see
 * {@link AdamHyper} for the exact order of operations). Returns the new parameter and state
 * without touching the inputs (an optimizer `assign`s them). Uses the backend's fused
 * `adamStep` for float32 (one pass, no scalar uploads); float64 and backends without it
 * take the composed ops. Not recorded for autodiff.
 */
export function adamStep(param: Tensor, grad: Tensor, expAvg: Tensor, expAvgSq: Tensor, maxExpAvgSq: Tensor | null, o: AdamStepOptions): AdamStepOutput {
  const op = 'adamStep';
  const b = sameBackend(op, param, grad, expAvg, expAvgSq, ...(maxExpAvgSq ? [maxExpAvgSq] : []));
  if (param.dtype !== 'float32' && param.dtype !== 'float64') throw new TypeError(`${op}: the parameter must be float32 or float64, got ${param.dtype}`);
  sameShape(op, 'the gradient', param, grad);
  sameShape(op, 'exp_avg', param, expAvg);
  sameShape(op, 'exp_avg_sq', param, expAvgSq);
  const amsgrad = o.amsgrad ?? false;
  if (amsgrad !== (maxExpAvgSq !== null)) throw new Error(`${op}: max_exp_avg_sq must be given exactly when amsgrad is on (amsgrad ${amsgrad})`);
  if (maxExpAvgSq) sameShape(op, 'max_exp_avg_sq', param, maxExpAvgSq);
  if (!(Number.isInteger(o.step) && o.step >= 1)) throw new RangeError(`${op}: step must be an integer >= 1, got ${o.step}`);
  const [beta1, beta2] = o.betas;
  const h: AdamHyper = { lr: o.lr, beta1, beta2, eps: o.eps, weightDecay: o.weightDecay, decoupled: o.decoupled, step: o.step, amsgrad, maximize: o.maximize ?? false };
  return unrecorded(() => (b.adamStep && param.dtype === 'float32' ? fusedAdam(b, param, grad, expAvg, expAvgSq, maxExpAvgSq, h) : composedAdam(param, grad, expAvg, expAvgSq, maxExpAvgSq, h)));
}

function fusedAdam(b: Backend, param: Tensor, grad: Tensor, m: Tensor, v: Tensor, vmax: Tensor | null, h: AdamHyper): AdamStepOutput {
  const ins = [param, grad, m, v, ...(vmax ? [vmax] : [])];
  const dense = ins.map(packed);
  const view = (t: Tensor) => t.asView('adamStep');
  const r = b.adamStep!(view(dense[0]!), view(dense[1]!), view(dense[2]!), view(dense[3]!), vmax ? view(dense[4]!) : null, h);
  dense.forEach((t, i) => t !== ins[i] && t.dispose());
  const wrap = (buf: NonNullable<typeof r.maxExpAvgSq>) => primOut('adamStep', b, buf, param.shape, param.dtype);
  return { param: wrap(r.param), expAvg: wrap(r.expAvg), expAvgSq: wrap(r.expAvgSq), maxExpAvgSq: r.maxExpAvgSq ? wrap(r.maxExpAvgSq) : null };
}

/** The composed reference: the same operations as the fused kernel, one op each. */
function composedAdam(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, vmax: Tensor | null, h: AdamHyper): AdamStepOutput {
  const temps: Tensor[] = [];
  const t = (x: Tensor) => (temps.push(x), x);
  let p = param;
  if (h.decoupled && h.weightDecay !== 0) p = t(mul(param, 1 - h.lr * h.weightDecay));
  let g = h.maximize ? t(neg(grad)) : grad;
  if (!h.decoupled && h.weightDecay !== 0) g = t(add(g, t(mul(param, h.weightDecay))));
  const m1 = add(t(mul(m, h.beta1)), t(mul(g, 1 - h.beta1)));
  const v1 = add(t(mul(v, h.beta2)), t(mul(t(mul(g, 1 - h.beta2)), g)));
  const bc1 = 1 - h.beta1 ** h.step;
  const bc2 = 1 - h.beta2 ** h.step;
  const vm1 = vmax ? maximum(vmax, v1) : null;
  const denom = t(add(t(div(t(sqrt(vm1 ?? v1)), Math.sqrt(bc2))), h.eps));
  const p1 = sub(p, t(mul(t(div(m1, denom)), h.lr / bc1)));
  for (const x of temps) x.dispose();
  return { param: p1, expAvg: m1, expAvgSq: v1, maxExpAvgSq: vm1 };
}

/**
 * The total `normType`-norm of `tensors` as `torch.nn.utils.get_total_norm` (and
 * `clip_grad_norm_`): the norm of each tensor, then the norm of those norms (`Infinity`:
 * the largest absolute value). A 0-d tensor on the tensors' backend, 0 for an empty list.
 * Uses the backend's fused `totalNorm` (one reduction pass per tensor, one call) for float32
 * and norm types 1, 2 and Infinity. Not recorded for autodiff.
 */
export function totalNorm(tensors: readonly Tensor[], normType = 2): Tensor {
  if (!(normType > 0)) throw new RangeError(`totalNorm: normType must be positive (or Infinity), got ${normType}`);
  if (!tensors.length) return zeros([]);
  const b = sameBackend('totalNorm', ...tensors);
  const dt = tensors[0]!.dtype;
  if (dt !== 'float32' && dt !== 'float64') throw new TypeError(`totalNorm: expected float tensors, got ${dt}`);
  for (const x of tensors) if (x.dtype !== dt) throw new TypeError(`totalNorm: tensors of one dtype expected, got ${dt} and ${x.dtype}`);
  return unrecorded(() => {
    if (b.totalNorm && dt === 'float32' && (normType === 1 || normType === 2 || normType === Infinity)) {
      const dense = tensors.map(packed);
      const out = b.totalNorm(dense.map((x) => x.asView('totalNorm')), normType);
      dense.forEach((x, i) => x !== tensors[i] && x.dispose());
      return primOut('totalNorm', b, out, [], dt);
    }
    const temps: Tensor[] = [];
    const t = (x: Tensor) => (temps.push(x), x);
    let out: Tensor;
    if (normType === Infinity) out = max(t(stack(tensors.map((g) => t(max(t(abs(g))))))));
    else {
      const norm1 = (x: Tensor) => (normType === 2 ? t(sqrt(t(sum(t(mul(x, x)))))) : t(pow(t(sum(t(pow(t(abs(x)), normType)))), 1 / normType)));
      const s = t(stack(tensors.map(norm1)));
      out = normType === 2 ? sqrt(t(sum(t(mul(s, s))))) : pow(t(sum(t(pow(s, normType)))), 1 / normType);
    }
    for (const x of temps) x.dispose();
    return out;
  });
}

/**
 * `tensors[i] * min(1, maxNorm / (total + 1e-6))` for each tensor, as the scaling pass of
 * `torch.nn.utils.clip_grad_norm_` (`clip_grads_with_norm_`), with `total` a 0-d tensor
 * (from {@link totalNorm}) read on the device, never on the host. Returns new tensors.
 * Uses the backend's fused `clipScale` for float32 (one call). Not recorded for autodiff.
 */
export function clipScale(tensors: readonly Tensor[], maxNorm: number, total: Tensor): Tensor[] {
  if (!(maxNorm >= 0)) throw new RangeError(`clipScale: maxNorm must be non-negative, got ${maxNorm}`);
  if (total.size !== 1 || total.ndim !== 0) throw new Error(`clipScale: total must be a 0-d tensor, got shape [${total.shape.join(', ')}]`);
  if (!tensors.length) return [];
  const b = sameBackend('clipScale', total, ...tensors);
  for (const x of tensors) if (x.dtype !== total.dtype) throw new TypeError(`clipScale: tensors must have the total's dtype ${total.dtype}, got ${x.dtype}`);
  return unrecorded(() => {
    if (b.clipScale && total.dtype === 'float32') {
      const dense = [total, ...tensors].map(packed);
      const outs = b.clipScale(dense.slice(1).map((x) => x.asView('clipScale')), dense[0]!.asView('clipScale'), maxNorm);
      dense.forEach((x, i) => x !== (i === 0 ? total : tensors[i - 1]) && x.dispose());
      return outs.map((o, i) => primOut('clipScale', b, o, tensors[i]!.shape, total.dtype));
    }
    const sum1 = add(total, 1e-6);
    const scaled = div(maxNorm, sum1);
    const coef = clamp(scaled, undefined, 1);
    sum1.dispose();
    scaled.dispose();
    const out = tensors.map((x) => mul(x, coef));
    coef.dispose();
    return out;
  });
}
