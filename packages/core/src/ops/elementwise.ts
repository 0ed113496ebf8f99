/** Elementwise ops: unary, binary with broadcasting, comparisons, `where`, activations, cast. */
import { customOp, isGradEnabled, withGrad } from '../autograd.js';
import type { BinaryOp, CompareOp, UnaryOp } from '../backend.js';
import type { DType } from '../dtype.js';
import { broadcastShapes } from '../shape.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { zerosLike } from './creation.js';
import { coerce, primOut, requireFloat, sameBackend } from './prim.js';
import { expand, packed, sumTo } from './views.js';

// ---- unary ----

function unaryPrim(op: UnaryOp, x: Tensor): Tensor {
  x.assertLive(op);
  return primOut(op, x.backend, x.backend.unary(op, x.asView(op)), x.shape, x.dtype);
}

const FLOAT_ONLY: ReadonlySet<UnaryOp> = new Set(['exp', 'log', 'sqrt', 'reciprocal', 'sin', 'cos', 'tanh', 'erf', 'log1p', 'expm1', 'atan', 'floor', 'ceil', 'round', 'trunc']);

function unary(op: UnaryOp, x: Tensor, vjp: (g: Tensor, y: Tensor) => Tensor | null): Tensor {
  if (FLOAT_ONLY.has(op)) requireFloat(op, x);
  if (x.dtype === 'bool') throw new TypeError(`${op}: not defined for bool tensors; cast first`);
  const y = unaryPrim(op, x);
  return withGrad(y, op, [x], (g) => [vjp(g, y)]);
}

/** `-x`. */
export const neg = (x: Tensor): Tensor => unary('neg', x, (g) => neg(g));
/** `|x|` (gradient `sign(x)`, 0 at 0 as PyTorch). */
export const abs = (x: Tensor): Tensor => unary('abs', x, (g) => mul(g, sign(x)));
/** -1, 0 or 1 (gradient 0). */
export const sign = (x: Tensor): Tensor => unary('sign', x, (g) => zerosLike(g));
/** `e^x`. */
export const exp = (x: Tensor): Tensor => unary('exp', x, (g, y) => mul(g, y));
/** Natural logarithm. */
export const log = (x: Tensor): Tensor => unary('log', x, (g) => div(g, x));
/** Square root. */
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x, (g, y) => div(g, mul(y, 2)));
/** `1/x`. */
export const reciprocal = (x: Tensor): Tensor => unary('reciprocal', x, (g, y) => neg(mul(g, mul(y, y))));
/** Sine. */
export const sin = (x: Tensor): Tensor => unary('sin', x, (g) => mul(g, cos(x)));
/** Cosine. */
export const cos = (x: Tensor): Tensor => unary('cos', x, (g) => neg(mul(g, sin(x))));
/** Hyperbolic tangent. */
export const tanh = (x: Tensor): Tensor => unary('tanh', x, (g, y) => mul(g, sub(1, mul(y, y))));
/** The error function. */
export const erf = (x: Tensor): Tensor => unary('erf', x, (g) => mul(g, mul(exp(neg(mul(x, x))), 2 / Math.sqrt(Math.PI))));

/** `log(1 + x)`, accurate for small `x` (a primitive: the composed form loses float32 digits). */
export const log1p = (x: Tensor): Tensor => unary('log1p', x, (g) => div(g, add(x, 1)));
/** `exp(x) - 1`, accurate for small `x` (a primitive). */
export const expm1 = (x: Tensor): Tensor => unary('expm1', x, (g, y) => mul(g, add(y, 1)));
/** Arctangent (gradient `1/(1+x^2)`). */
export const atan = (x: Tensor): Tensor => unary('atan', x, (g) => div(g, add(mul(x, x), 1)));

/** floor/ceil/trunc/round: gradient 0 (as PyTorch); int32 input comes back as a copy of itself. */
function rounding(op: 'floor' | 'ceil' | 'round' | 'trunc', x: Tensor): Tensor {
  x.assertLive(op);
  if (x.dtype === 'int32') return x.clone();
  return unary(op, x, (g) => zerosLike(g));
}
/** Largest integer `<= x` (gradient 0; int32 unchanged). */
export const floor = (x: Tensor): Tensor => rounding('floor', x);
/** Smallest integer `>= x` (gradient 0; int32 unchanged). */
export const ceil = (x: Tensor): Tensor => rounding('ceil', x);
/** Integer part, rounding toward zero (gradient 0; int32 unchanged). */
export const trunc = (x: Tensor): Tensor => rounding('trunc', x);
/**
 * Rounds half to even (`round(2.5) = 2`, `round(-0.5) = -0`), as `torch.round`; gradient 0.
 * With `decimals`, rounds to that many decimal places (negative: to tens, hundreds...)
 * by PyTorch's formula: `round(x * 10^d) / 10^d` (`round(x / 10^-d) * 10^-d` for `d < 0`).
 */
export function round(x: Tensor, decimals = 0): Tensor {
  if (!Number.isInteger(decimals)) throw new RangeError(`round: decimals must be an integer, got ${decimals}`);
  if (decimals === 0) return rounding('round', x);
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new TypeError(`round: decimals needs a float32 or float64 tensor, got ${x.dtype} (as PyTorch)`);
  const ten = 10 ** Math.abs(decimals);
  return customOp('round', [x], () => (decimals > 0 ? div(rounding('round', mul(x, ten)), ten) : mul(rounding('round', div(x, ten)), ten)), (g) => [zerosLike(g)]);
}

/** `1/sqrt(x)`. */
export const rsqrt = (x: Tensor): Tensor => reciprocal(sqrt(x));
/** `x*x`. */
export const square = (x: Tensor): Tensor => mul(x, x);

/** Logistic sigmoid `1/(1+e^-x)`, gradient `y(1-y)`. */
export function sigmoid(x: Tensor): Tensor {
  requireFloat('sigmoid', x);
  return customOp('sigmoid', [x], () => reciprocal(add(exp(neg(x)), 1)), (g, y) => [mul(g, mul(y, sub(1, y)))]);
}

/** `max(x, 0)` (gradient 0 at 0, as PyTorch). */
export function relu(x: Tensor): Tensor {
  return customOp('relu', [x], () => maximum(x, 0), (g) => [mul(g, gt(x, 0).cast(x.dtype))]);
}

const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
const GELU_C = 0.044715;

/**
 * GELU: `x * Phi(x)` with the exact erf form (`'none'`, PyTorch's default) or the tanh
 * approximation (`'tanh'`). Uses the backend's fused kernels when it has them.
 */
export function gelu(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  requireFloat('gelu', x);
  if (approximate !== 'none' && approximate !== 'tanh') throw new RangeError(`gelu: approximate must be 'none' or 'tanh', got '${String(approximate)}'`);
  const b = x.backend;
  const forward = b.gelu
    ? () => primOut('gelu', b, b.gelu!(packed(x).asView('gelu'), approximate), x.shape, x.dtype)
    : () => (approximate === 'tanh' ? mul(mul(x, 0.5), add(geluTanhInner(x), 1)) : mul(mul(x, 0.5), add(erf(mul(x, SQRT1_2)), 1)));
  return customOp('gelu', [x], forward, (g) => [geluBackward(x, g, approximate)]);
}

/**
 * `g * gelu'(x)`: GELU's gradient (internal; core's fused ops share it). The backend's
 * fused kernel when gradients are not being recorded, else composed (differentiable).
 */
export function geluBackward(x: Tensor, g: Tensor, approximate: 'none' | 'tanh'): Tensor {
  const b = x.backend;
  if (!isGradEnabled() && b.geluBackward) {
    return primOut('geluBackward', b, b.geluBackward(packed(x).asView('gelu'), packed(g).asView('gelu'), approximate), x.shape, x.dtype);
  }
  return mul(g, approximate === 'tanh' ? geluTanhDerivative(x) : geluErfDerivative(x));
}

function geluTanhInner(x: Tensor): Tensor {
  return tanh(mul(add(x, mul(mul(mul(x, x), x), GELU_C)), SQRT_2_OVER_PI));
}

function geluTanhDerivative(x: Tensor): Tensor {
  const t = geluTanhInner(x);
  const dInner = mul(add(mul(mul(x, x), 3 * GELU_C), 1), SQRT_2_OVER_PI);
  return add(mul(add(t, 1), 0.5), mul(mul(mul(x, 0.5), sub(1, mul(t, t))), dInner));
}

function geluErfDerivative(x: Tensor): Tensor {
  const cdf = mul(add(erf(mul(x, SQRT1_2)), 1), 0.5);
  const pdf = mul(exp(mul(mul(x, x), -0.5)), INV_SQRT_2PI);
  return add(cdf, mul(x, pdf));
}

/**
 * Limits values to `[min, max]` (either may be omitted): `minimum(maximum(x, min), max)`,
 * as `torch.clamp`. Bounds are numbers or tensors that broadcast against `x` (of its
 * dtype). The gradient goes to `x` where `min <= x <= max` (so at the bounds too, as
 * PyTorch), to `min` where `x < min` (and `min < max`), to `max` where `x > max` (or
 * `max < min`); tensor bound gradients are summed down to the bound's shape.
 *
 * Differs from PyTorch: number bounds with `min > max` throw (PyTorch returns `max`
 * everywhere); tensor bounds follow PyTorch, as they cannot be checked without a read.
 */
export function clamp(x: Tensor, min?: TensorLike, max?: TensorLike): Tensor {
  if (min === undefined && max === undefined) throw new RangeError('clamp: give at least one of min and max');
  if (typeof min === 'number' && typeof max === 'number' && min > max) throw new RangeError(`clamp: min ${min} is greater than max ${max}`);
  const lo = min;
  const hi = max;
  for (const [name, b] of [['min', lo], ['max', hi]] as const) {
    if (!(b instanceof Tensor)) continue;
    sameBackend('clamp', x, b);
    if (b.dtype !== x.dtype) throw new TypeError(`clamp: ${name} is ${b.dtype} but the input is ${x.dtype}; cast the bound first`);
  }
  const inputs = [x, ...[lo, hi].filter((b): b is Tensor => b instanceof Tensor)];
  return customOp(
    'clamp',
    inputs,
    () => {
      let y = x;
      if (lo !== undefined) y = maximum(y, lo);
      if (hi !== undefined) y = minimum(y, hi);
      return y === x ? mul(x, 1) : y;
    },
    (g) => {
      const dt = g.dtype;
      const m = (b: Tensor) => mul(g, b.cast(dt));
      let inside: Tensor | null = null;
      if (lo !== undefined) inside = ge(x, lo);
      if (hi !== undefined) inside = inside ? logicalAnd(inside, le(x, hi)) : le(x, hi);
      const out: Tensor[] = [sumTo(m(inside!), x.shape)];
      if (lo instanceof Tensor) {
        const below = lt(x, lo);
        out.push(sumTo(m(hi === undefined ? below : logicalAnd(below, lt(lo, hi))), lo.shape));
      }
      if (hi instanceof Tensor) {
        const above = gt(x, hi);
        out.push(sumTo(m(lo === undefined ? above : where(above, 1, lt(hi, lo))), hi.shape));
      }
      return out;
    },
  );
}

// ---- binary ----

/** Runs a binary primitive on two tensors broadcast to one shape. */
function binaryPrim(op: BinaryOp, a: Tensor, b: Tensor): Tensor {
  if (a.dtype === 'bool') throw new TypeError(`${op}: arithmetic is not defined for bool tensors; cast first`);
  const shape = broadcastShapes(a.shape, b.shape, op);
  const av = expand(a, shape).asView(op);
  const bv = expand(b, shape).asView(op);
  return primOut(op, a.backend, a.backend.binary(op, av, bv), shape, a.dtype);
}

/**
 * A binary op on tensors or numbers. `vjp` gets the operands as given (numbers stay
 * numbers, so no scalar tensor outlives the call) and returns full-shaped gradients;
 * they are summed down to each tensor operand's shape here.
 */
function binary(
  op: BinaryOp,
  aLike: TensorLike,
  bLike: TensorLike,
  vjp: (g: Tensor, y: Tensor) => [Tensor | null, Tensor | null],
): Tensor {
  const { a, b, made } = coerce(op, aLike, bLike);
  const y = binaryPrim(op, a, b);
  for (const t of made) t.dispose();
  const inputs: Tensor[] = [];
  if (aLike instanceof Tensor) inputs.push(aLike);
  if (bLike instanceof Tensor) inputs.push(bLike);
  return withGrad(y, op, inputs, (g) => {
    const [ga, gb] = vjp(g, y);
    const out: (Tensor | null)[] = [];
    if (aLike instanceof Tensor) out.push(ga && sumTo(ga, aLike.shape));
    if (bLike instanceof Tensor) out.push(gb && sumTo(gb, bLike.shape));
    return out;
  });
}

/** `a + b` with broadcasting. */
export function add(a: TensorLike, b: TensorLike): Tensor {
  return binary('add', a, b, (g) => [g, g]);
}
/** `a - b` with broadcasting. */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  return binary('sub', a, b, (g) => [g, neg(g)]);
}
/** `a * b` with broadcasting. */
export function mul(a: TensorLike, b: TensorLike): Tensor {
  return binary('mul', a, b, (g) => [mul(g, b), mul(g, a)]);
}
/** `a / b` with broadcasting (integer division truncates for int32). */
export function div(a: TensorLike, b: TensorLike): Tensor {
  return binary('div', a, b, (g, y) => [div(g, b), neg(div(mul(g, y), b))]);
}
/**
 * `a ** b` with broadcasting. The gradient for the exponent is `y log a`, taken as 0
 * where `a == 0` and `b >= 0` (as PyTorch).
 */
export function pow(a: TensorLike, b: TensorLike): Tensor {
  return binary('pow', a, b, (g, y) => {
    const ga = mul(g, mul(b, pow(a, typeof b === 'number' ? b - 1 : sub(b, 1))));
    if (typeof b === 'number' || typeof a === 'number' || !b.requiresGrad) return [ga, typeof a === 'number' ? mul(mul(g, y), Math.log(a)) : null];
    const safe = where(eq(a, 0), 1, a);
    const gb = where(logicalAnd(eq(a, 0), ge(b, 0)), 0, mul(mul(g, y), log(safe)));
    return [ga, gb];
  });
}

/**
 * The angle of the point `(x = b, y = a)`, in `[-pi, pi]`, with C's and PyTorch's signed
 * zeros and infinities (`atan2(0, -0) = pi`, `atan2(-inf, inf) = -pi/4`). Float only.
 * Gradient: `b/(a^2+b^2)` for `a`, `-a/(a^2+b^2)` for `b` (NaN at the origin, as PyTorch).
 */
export function atan2(a: TensorLike, b: TensorLike): Tensor {
  for (const t of [a, b]) if (t instanceof Tensor) requireFloat('atan2', t);
  const sq = (v: TensorLike): TensorLike => (typeof v === 'number' ? v * v : mul(v, v));
  return binary('atan2', a, b, (g) => {
    const r = reciprocal(add(sq(a), sq(b)));
    return [mul(mul(g, b), r), neg(mul(mul(g, a), r))];
  });
}

/** Half of the gradient goes to each side where `a == b`, as PyTorch. */
function extremumGrad(g: Tensor, a: TensorLike, b: TensorLike, wins: (a: TensorLike, b: TensorLike) => Tensor): [Tensor, Tensor] {
  const dt = g.dtype;
  const tie = mul(eq(a, b).cast(dt), 0.5);
  const ma = add(wins(a, b).cast(dt), tie);
  const mb = add(wins(b, a).cast(dt), tie);
  return [mul(g, ma), mul(g, mb)];
}

/** Elementwise maximum with broadcasting (NaN propagates). */
export function maximum(a: TensorLike, b: TensorLike): Tensor {
  return binary('maximum', a, b, (g) => extremumGrad(g, a, b, gt));
}
/** Elementwise minimum with broadcasting (NaN propagates). */
export function minimum(a: TensorLike, b: TensorLike): Tensor {
  return binary('minimum', a, b, (g) => extremumGrad(g, a, b, lt));
}

// ---- comparisons and where ----

function compare(op: CompareOp, aLike: TensorLike, bLike: TensorLike): Tensor {
  const { a, b, made } = coerce(op, aLike, bLike);
  const shape = broadcastShapes(a.shape, b.shape, op);
  const out = primOut(op, a.backend, a.backend.compare(op, expand(a, shape).asView(op), expand(b, shape).asView(op)), shape, 'bool');
  for (const t of made) t.dispose();
  return out;
}

/** `a == b` (bool). */
export const eq = (a: TensorLike, b: TensorLike): Tensor => compare('eq', a, b);
/** `a != b` (bool). */
export const ne = (a: TensorLike, b: TensorLike): Tensor => compare('ne', a, b);
/** `a < b` (bool). */
export const lt = (a: TensorLike, b: TensorLike): Tensor => compare('lt', a, b);
/** `a <= b` (bool). */
export const le = (a: TensorLike, b: TensorLike): Tensor => compare('le', a, b);
/** `a > b` (bool). */
export const gt = (a: TensorLike, b: TensorLike): Tensor => compare('lt', b, a);
/** `a >= b` (bool). */
export const ge = (a: TensorLike, b: TensorLike): Tensor => compare('le', b, a);

/** Elementwise logical and of two bool tensors. */
export function logicalAnd(a: Tensor, b: Tensor): Tensor {
  if (a.dtype !== 'bool' || b.dtype !== 'bool') throw new TypeError(`logicalAnd: expected bool tensors, got ${a.dtype} and ${b.dtype}`);
  return where(a, b, 0);
}

/** Elementwise logical not of a bool tensor. */
export function logicalNot(a: Tensor): Tensor {
  if (a.dtype !== 'bool') throw new TypeError(`logicalNot: expected a bool tensor, got ${a.dtype}`);
  return eq(a, 0);
}

/**
 * `cond ? a : b` elementwise, with broadcasting over all three; `cond` must be bool.
 * Numbers take the dtype of the tensor operand.
 */
export function where(cond: Tensor, aLike: TensorLike, bLike: TensorLike): Tensor {
  if (cond.dtype !== 'bool') throw new TypeError(`where: the condition must be a bool tensor, got ${cond.dtype}`);
  const { a, b, made } = coerce('where', aLike, bLike);
  const shape = broadcastShapes(broadcastShapes(cond.shape, a.shape, 'where'), b.shape, 'where');
  const ex = (t: Tensor) => expand(t, shape).asView('where');
  const y = primOut('where', a.backend, a.backend.where(ex(cond), ex(a), ex(b)), shape, a.dtype);
  for (const t of made) t.dispose();
  const inputs: Tensor[] = [];
  if (aLike instanceof Tensor) inputs.push(aLike);
  if (bLike instanceof Tensor) inputs.push(bLike);
  return withGrad(y, 'where', inputs, (g) => {
    const out: Tensor[] = [];
    if (aLike instanceof Tensor) out.push(sumTo(where(cond, g, 0), aLike.shape));
    if (bLike instanceof Tensor) out.push(sumTo(where(cond, 0, g), bLike.shape));
    return out;
  });
}

/** Converts to `dtype`; the gradient flows between float dtypes. */
export function cast(x: Tensor, dtype: DType): Tensor {
  x.assertLive('cast');
  if (dtype === x.dtype) return x;
  const y = primOut('cast', x.backend, x.backend.cast(x.asView('cast'), dtype), x.shape, dtype);
  if (dtype !== 'float32' && dtype !== 'float64') return y;
  const from = x.dtype;
  return withGrad(y, 'cast', [x], (g) => [cast(g, from)]);
}
