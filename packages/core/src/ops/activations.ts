/**
 * Activation functions beyond relu/sigmoid/gelu, each as PyTorch's `torch.nn.functional`
 * computes it (same formula, so the same float32 results and the same infinities and
 * NaNs) and with PyTorch's gradient, including its choice at each kink.
 */
import { customOp } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import {
  abs, add, div, exp, expm1, ge, gt, le, log1p, logicalAnd, lt, maximum, minimum, mul, neg, sigmoid, sub, tanh, where,
} from './elementwise.js';
import { requireFloat } from './prim.js';

function act(op: string, x: Tensor, forward: () => Tensor, vjp: (g: Tensor, y: Tensor) => Tensor): Tensor {
  x.assertLive(op);
  requireFloat(op, x);
  return customOp(op, [x], forward, (g, y) => [vjp(g, y)]);
}

function finite(op: string, name: string, v: number): void {
  if (!Number.isFinite(v)) throw new RangeError(`${op}: ${name} must be a finite number, got ${v}`);
}

/** Options of {@link softplus}. */
export interface SoftplusOptions {
  /** Sharpness (default 1): `log(1 + e^(beta x)) / beta`. */
  readonly beta?: number;
  /** Above `beta x > threshold` the result is `x` itself (default 20). */
  readonly threshold?: number;
}

/**
 * Softplus `log1p(e^(beta x)) / beta`, linear (`x`) where `beta x > threshold`, as
 * `F.softplus`. Gradient `sigmoid(beta x)` (1 past the threshold).
 */
export function softplus(x: Tensor, opts: SoftplusOptions = {}): Tensor {
  const beta = opts.beta ?? 1;
  const threshold = opts.threshold ?? 20;
  finite('softplus', 'beta', beta);
  if (beta === 0) throw new RangeError('softplus: beta must not be 0');
  if (Number.isNaN(threshold)) throw new RangeError('softplus: threshold must be a number, got NaN');
  const scaled = (): Tensor => (beta === 1 ? x : mul(x, beta));
  return act(
    'softplus',
    x,
    () => {
      const bx = scaled();
      const soft = log1p(exp(bx));
      return where(gt(bx, threshold), x, beta === 1 ? soft : div(soft, beta));
    },
    (g) => {
      const bx = scaled();
      return where(gt(bx, threshold), g, mul(g, sigmoid(bx)));
    },
  );
}

/** `log(sigmoid(x))` as `F.logsigmoid`: `min(x, 0) - log1p(e^-|x|)`. Gradient `sigmoid(-x)`. */
export const logsigmoid = (x: Tensor): Tensor =>
  act('logsigmoid', x, () => sub(minimum(x, 0), log1p(exp(neg(abs(x))))), (g) => mul(g, sigmoid(neg(x))));

/** SiLU (swish) `x * sigmoid(x)`, as PyTorch's `x / (1 + e^-x)`. Gradient `s (1 + x (1 - s))`. */
export const silu = (x: Tensor): Tensor =>
  act(
    'silu',
    x,
    () => div(x, add(exp(neg(x)), 1)),
    (g) => {
      const s = sigmoid(x);
      return mul(mul(g, s), add(mul(x, sub(1, s)), 1));
    },
  );

/** Mish `x * tanh(softplus(x))` (softplus without threshold, as PyTorch). */
export const mish = (x: Tensor): Tensor =>
  act(
    'mish',
    x,
    () => mul(x, tanh(log1p(exp(x)))),
    (g) => {
      const t = tanh(log1p(exp(x)));
      return mul(g, add(t, mul(mul(x, sigmoid(x)), sub(1, mul(t, t)))));
    },
  );

/** Leaky ReLU: `x` where `x > 0`, else `negativeSlope * x` (gradient `negativeSlope` at 0, as PyTorch). */
export function leakyRelu(x: Tensor, negativeSlope = 0.01): Tensor {
  finite('leakyRelu', 'negativeSlope', negativeSlope);
  return act(
    'leakyRelu',
    x,
    () => where(gt(x, 0), x, mul(x, negativeSlope)),
    (g) => where(gt(x, 0), g, mul(g, negativeSlope)),
  );
}

/**
 * The ELU family as PyTorch's reference (`torch._decomp`) computes it:
 * `scale alpha expm1(inputScale x)` where `x <= 0`, else `scale x`. The gradient at 0 takes
 * the left branch (`scale alpha inputScale`); at NaN the right one (`scale`), as PyTorch's
 * reference and scalar kernel.
 */
function eluFamily(op: string, x: Tensor, alpha: number, scale: number, inputScale: number): Tensor {
  const scaledIn = (): Tensor => (inputScale === 1 ? x : mul(x, inputScale));
  const pos = (t: Tensor): Tensor => (scale === 1 ? t : mul(t, scale));
  return act(
    op,
    x,
    () => where(le(x, 0), mul(expm1(scaledIn()), alpha * scale), pos(x)),
    (g) => where(le(x, 0), mul(mul(g, exp(scaledIn())), inputScale * alpha * scale), pos(g)),
  );
}

/** ELU: `x` where `x > 0`, else `alpha (e^x - 1)` (gradient at 0: `alpha`, as PyTorch). */
export function elu(x: Tensor, alpha = 1): Tensor {
  finite('elu', 'alpha', alpha);
  return eluFamily('elu', x, alpha, 1, 1);
}

const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

/** SELU: `scale * elu(x, alpha)` with the self-normalizing constants (as `F.selu`). */
export const selu = (x: Tensor): Tensor => eluFamily('selu', x, SELU_ALPHA, SELU_SCALE, 1);

/** CELU: `x` where `x > 0`, else `alpha (e^(x/alpha) - 1)`; `alpha` must not be 0 (gradient at 0: 1). */
export function celu(x: Tensor, alpha = 1): Tensor {
  finite('celu', 'alpha', alpha);
  if (alpha === 0) throw new RangeError('celu: alpha must not be 0');
  return eluFamily('celu', x, alpha, 1, 1 / alpha);
}

/**
 * HardTanh: `x` limited to `[minVal, maxVal]` (as `clamp`; `minVal > maxVal` gives `maxVal`,
 * as PyTorch). Gradient 0 at and beyond the bounds (unlike `clamp`), 1 elsewhere (NaN
 * included), as PyTorch's reference `where((x <= min) | (x >= max), 0, g)`.
 */
export function hardtanh(x: Tensor, minVal = -1, maxVal = 1): Tensor {
  if (Number.isNaN(minVal) || Number.isNaN(maxVal)) throw new RangeError(`hardtanh: bounds must be numbers, got ${minVal} and ${maxVal}`);
  return act(
    'hardtanh',
    x,
    () => minimum(maximum(x, minVal), maxVal),
    (g) => where(le(x, minVal), 0, where(ge(x, maxVal), 0, g)),
  );
}

/** ReLU6 `min(max(x, 0), 6)`: hardtanh on `[0, 6]` (gradient 0 at 0 and 6, as PyTorch). */
export const relu6 = (x: Tensor): Tensor => hardtanh(x, 0, 6);

/** HardSigmoid `relu6(x + 3) / 6`; gradient 1/6 strictly inside `(-3, 3)`, 0 elsewhere (as PyTorch). */
export const hardsigmoid = (x: Tensor): Tensor =>
  act(
    'hardsigmoid',
    x,
    () => div(minimum(maximum(add(x, 3), 0), 6), 6),
    (g) => mul(div(g, 6), logicalAnd(gt(x, -3), lt(x, 3)).cast(g.dtype)),
  );

/**
 * HardSwish `x relu6(x + 3) / 6`. Gradient 0 below -3, `x/3 + 1/2` on `[-3, 3]`, 1 above:
 * at the kinks `-0.5` and `1.5`, as PyTorch's reference (`torch._decomp`) and scalar
 * kernel. (PyTorch's vectorized CPU kernel gives 1 at `x = 3` for some elements.)
 */
export const hardswish = (x: Tensor): Tensor =>
  act(
    'hardswish',
    x,
    () => div(mul(x, minimum(maximum(add(x, 3), 0), 6)), 6),
    (g) => where(lt(x, -3), 0, where(le(x, 3), mul(g, add(div(x, 3), 0.5)), g)),
  );
