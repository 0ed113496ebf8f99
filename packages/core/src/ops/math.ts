/**
 * Elementwise math composed from the primitives: base-2/10 logs, tan, inverse trig,
 * hyperbolic functions and their inverses, `frac`, and the NaN/infinity tests. Each is
 * written so that float32 stays within a few ulp of PyTorch (no `log(1 + x)` or
 * `exp(x) - 1` cancellation, no overflow of intermediate squares), and each has its
 * gradient as PyTorch's formula, in tensor ops.
 */
import { customOp } from '../autograd.js';
import type { Tensor } from '../tensor.js';
import { full } from './creation.js';
import {
  abs, add, atan, cos, div, eq, exp, expm1, gt, log, log1p, lt, mul, ne, neg, reciprocal, sign, sin, sqrt, sub, trunc, where,
} from './elementwise.js';
import { requireFloat } from './prim.js';

/** Past this magnitude `asinh`/`acosh` use `log(2|x|)`: the rest of the series is below float64's ulp, and `x^2` could overflow. */
const BIG = 2 ** 26;

function floatOp(op: string, x: Tensor, forward: () => Tensor, vjp: (g: Tensor, y: Tensor) => Tensor): Tensor {
  x.assertLive(op);
  requireFloat(op, x);
  return customOp(op, [x], forward, (g, y) => [vjp(g, y)]);
}

/** Base-2 logarithm, `log(x) / ln 2`. */
export const log2 = (x: Tensor): Tensor => floatOp('log2', x, () => div(log(x), Math.LN2), (g) => div(g, mul(x, Math.LN2)));
/** Base-10 logarithm, `log(x) / ln 10`. */
export const log10 = (x: Tensor): Tensor => floatOp('log10', x, () => div(log(x), Math.LN10), (g) => div(g, mul(x, Math.LN10)));

/** Tangent, `sin(x) / cos(x)`; gradient `1 + tan(x)^2`. */
export const tan = (x: Tensor): Tensor => floatOp('tan', x, () => div(sin(x), cos(x)), (g, y) => mul(g, add(mul(y, y), 1)));

/** `1 - x^2` as `(1 - x)(1 + x)`: exact near `|x| = 1`, where the square would cancel. */
const oneMinusSq = (x: Tensor): Tensor => mul(sub(1, x), add(x, 1));

/** Arcsine, `atan(x / sqrt((1-x)(1+x)))` (NaN outside `[-1, 1]`); gradient `1/sqrt(1-x^2)`. */
export const asin = (x: Tensor): Tensor =>
  floatOp('asin', x, () => atan(div(x, sqrt(oneMinusSq(x)))), (g) => div(g, sqrt(sub(1, mul(x, x)))));

/** Arccosine, `2 atan(sqrt((1-x)/(1+x)))` (exact at both ends); gradient `-1/sqrt(1-x^2)`. */
export const acos = (x: Tensor): Tensor =>
  floatOp('acos', x, () => mul(atan(sqrt(div(sub(1, x), add(x, 1)))), 2), (g) => neg(div(g, sqrt(sub(1, mul(x, x))))));

/**
 * `e^{|x|/2}` split so that `(h/2) h` is `e^|x| / 2` without overflowing before the result
 * does (sinh and cosh of 89 are finite in float32 while `e^89` is not).
 */
function halfExp(x: Tensor): { big: Tensor; small: Tensor } {
  const h = exp(mul(abs(x), 0.5));
  const hh = mul(h, h);
  return { big: mul(mul(h, 0.5), h), small: div(0.5, hh) };
}

/**
 * Hyperbolic sine: `(expm1(x) - expm1(-x)) / 2` below 1 in magnitude (no cancellation),
 * `sign(x) (e^|x|/2 - e^-|x|/2)` above; gradient `cosh(x)`.
 */
export const sinh = (x: Tensor): Tensor =>
  floatOp(
    'sinh',
    x,
    () => {
      const { big, small } = halfExp(x);
      return where(lt(abs(x), 1), mul(sub(expm1(x), expm1(neg(x))), 0.5), mul(sign(x), sub(big, small)));
    },
    (g) => mul(g, cosh(x)),
  );

/** Hyperbolic cosine, `e^|x|/2 + e^-|x|/2` (finite up to float32's largest result); gradient `sinh(x)`. */
export const cosh = (x: Tensor): Tensor =>
  floatOp(
    'cosh',
    x,
    () => {
      const { big, small } = halfExp(x);
      return add(big, small);
    },
    (g) => mul(g, sinh(x)),
  );

/**
 * Inverse hyperbolic sine, `sign(x) log1p(a + a / (1/a + sqrt(1 + 1/a^2)))` with `a = |x|`
 * (`a^2 / (1 + sqrt(1 + a^2))` rewritten so nothing overflows), `log(2a)` past 2^26;
 * gradient `1/sqrt(1 + x^2)`.
 */
export const asinh = (x: Tensor): Tensor =>
  floatOp(
    'asinh',
    x,
    () => {
      const a = abs(x);
      const r = reciprocal(a);
      const mid = log1p(add(a, div(a, add(r, sqrt(add(mul(r, r), 1))))));
      return mul(sign(x), where(gt(a, BIG), add(log(a), Math.LN2), mid));
    },
    (g) => div(g, sqrt(add(mul(x, x), 1))),
  );

/**
 * Inverse hyperbolic cosine, `log1p(t + sqrt(t (x + 1)))` with `t = x - 1` (exact near 1),
 * `log(2x)` past 2^26; NaN below 1. Gradient `1/sqrt(x^2 - 1)`.
 */
export const acosh = (x: Tensor): Tensor =>
  floatOp(
    'acosh',
    x,
    () => {
      const t = sub(x, 1);
      return where(gt(x, BIG), add(log(x), Math.LN2), log1p(add(t, sqrt(mul(t, add(x, 1))))));
    },
    (g) => div(g, sqrt(sub(mul(x, x), 1))),
  );

/**
 * Inverse hyperbolic tangent, `sign(x) log1p(2a / (1 - a)) / 2` with `a = |x|` (exact near
 * both ends; `+-inf` at `+-1`, NaN beyond). Gradient `1/(1 - x^2)`.
 */
export const atanh = (x: Tensor): Tensor =>
  floatOp(
    'atanh',
    x,
    () => {
      const a = abs(x);
      return mul(mul(sign(x), log1p(div(mul(a, 2), sub(1, a)))), 0.5);
    },
    (g) => div(g, sub(1, mul(x, x))),
  );

/** Fractional part `x - trunc(x)`, with the sign of `x` (NaN at infinities, as PyTorch); gradient 1. */
export const frac = (x: Tensor): Tensor => floatOp('frac', x, () => sub(x, trunc(x)), (g) => g);

/** Where `x` is NaN (bool; false everywhere for int32 and bool tensors). */
export function isnan(x: Tensor): Tensor {
  x.assertLive('isnan');
  return ne(x, x);
}

/** Where `x` is `+-inf` (bool; false everywhere for int32 and bool tensors). */
export function isinf(x: Tensor): Tensor {
  x.assertLive('isinf');
  if (x.dtype !== 'float32' && x.dtype !== 'float64') return full(x.shape, 0, { dtype: 'bool', backend: x.backend });
  return eq(abs(x), Infinity);
}

/** Where `x` is neither NaN nor infinite (bool; true everywhere for int32 and bool tensors). */
export function isfinite(x: Tensor): Tensor {
  x.assertLive('isfinite');
  if (x.dtype !== 'float32' && x.dtype !== 'float64') return full(x.shape, 1, { dtype: 'bool', backend: x.backend });
  return lt(abs(x), Infinity);
}
