/**
 * Parameter initialisation with PyTorch's formulas (`torch.nn.init`), drawing from core's
 * seeded Philox {@link Generator}. Each function overwrites the tensor's values (keeping its
 * identity, through `assign`) and returns it.
 */
import { defaultGenerator, fromTypedArray, noGrad, type Generator, type Tensor } from '@tsgrad/core';

/** Options shared by the random initialisers. */
export interface InitOptions {
  /** The generator to draw from (default: core's default generator, seeded by `manualSeed`). */
  readonly generator?: Generator;
}

/** Which fan a Kaiming initialiser keeps the variance for. */
export type FanMode = 'fan_in' | 'fan_out';

/** Nonlinearities known to {@link calculateGain}. */
export type Nonlinearity = 'linear' | 'conv1d' | 'conv2d' | 'conv3d' | 'sigmoid' | 'tanh' | 'relu' | 'leaky_relu' | 'selu';

function fill(t: Tensor, values: Float64Array | Float32Array): Tensor {
  noGrad(() => {
    const v = fromTypedArray(values, t.shape, t.dtype, t.backend);
    t.assign(v);
    v.dispose();
  });
  return t;
}

function requireFloatTensor(t: Tensor, op: string): void {
  if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new TypeError(`${op}: needs a float tensor, got ${t.dtype}`);
}

/** `[fanIn, fanOut]` of a weight `[out, in, ...kernel]`, as `torch.nn.init._calculate_fan_in_and_fan_out`. */
export function calculateFanInAndFanOut(t: Tensor | readonly number[]): [number, number] {
  const shape = Array.isArray(t) ? (t as readonly number[]) : (t as Tensor).shape;
  if (shape.length < 2) throw new RangeError(`init: fan in and fan out cannot be computed for a tensor with fewer than 2 dimensions (shape [${shape.join(', ')}])`);
  const receptive = shape.slice(2).reduce((a, b) => a * b, 1);
  return [shape[1]! * receptive, shape[0]! * receptive];
}

/** The recommended gain for a nonlinearity, as `torch.nn.init.calculate_gain` (`param`: leaky_relu's slope, default 0.01). */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new RangeError(`calculateGain: unsupported nonlinearity '${String(nonlinearity)}'`);
  }
}

/** Sets every element to `value`. */
export function constant_(t: Tensor, value: number): Tensor {
  const a = new Float64Array(t.size).fill(value);
  return fill(t, a);
}

/** Sets every element to 0. */
export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

/** Sets every element to 1. */
export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/** Uniform values in `[low, high)`. */
export function uniform_(t: Tensor, low = 0, high = 1, opts: InitOptions = {}): Tensor {
  requireFloatTensor(t, 'uniform_');
  const u = (opts.generator ?? defaultGenerator).uniform(t.size);
  for (let i = 0; i < u.length; i++) u[i] = low + (high - low) * u[i]!;
  return fill(t, u);
}

/** Normal values with mean `mean` and standard deviation `std`. */
export function normal_(t: Tensor, mean = 0, std = 1, opts: InitOptions = {}): Tensor {
  requireFloatTensor(t, 'normal_');
  const z = (opts.generator ?? defaultGenerator).normal(t.size);
  for (let i = 0; i < z.length; i++) z[i] = mean + std * z[i]!;
  return fill(t, z);
}

// ---- the normal distribution's CDF and quantile, in double precision ----

/** erfc(x), relative error below 1.2e-7 everywhere (Numerical Recipes' Chebyshev fit). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** The standard normal CDF. */
function normCdf(x: number): number {
  return 0.5 * erfc(-x / Math.SQRT2);
}

// Acklam's coefficients, allocated once (the quantile runs per parameter at init).
const QA = [-3.969683028665376e1, 2.209460984245205e2, -2.759285104469687e2, 1.38357751867269e2, -3.066479806614716e1, 2.506628277459239];
const QB = [-5.447609879822406e1, 1.615858368580409e2, -1.556989798598866e2, 6.680131188771972e1, -1.328068155288572e1];
const QC = [-7.784894002430293e-3, -3.223964580411365e-1, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
const QD = [7.784695709041462e-3, 3.224671290700398e-1, 2.445134137142996, 3.754408661907416];

/** The standard normal quantile (Acklam's rational approximation plus one Halley step). */
function normQuantile(p: number): number {
  const lo = 0.02425;
  let x: number;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    x = (((((QC[0]! * q + QC[1]!) * q + QC[2]!) * q + QC[3]!) * q + QC[4]!) * q + QC[5]!) / ((((QD[0]! * q + QD[1]!) * q + QD[2]!) * q + QD[3]!) * q + 1);
  } else if (p <= 1 - lo) {
    const q = p - 0.5;
    const r = q * q;
    x = ((((((QA[0]! * r + QA[1]!) * r + QA[2]!) * r + QA[3]!) * r + QA[4]!) * r + QA[5]!) * q) / (((((QB[0]! * r + QB[1]!) * r + QB[2]!) * r + QB[3]!) * r + QB[4]!) * r + 1);
  } else {
    const q = Math.sqrt(-2 * Math.log(1 - p));
    x = -(((((QC[0]! * q + QC[1]!) * q + QC[2]!) * q + QC[3]!) * q + QC[4]!) * q + QC[5]!) / ((((QD[0]! * q + QD[1]!) * q + QD[2]!) * q + QD[3]!) * q + 1);
  }
  // One Halley refinement step.
  const e = normCdf(x) - p;
  const u = e * Math.sqrt(2 * Math.PI) * Math.exp((x * x) / 2);
  return x - u / (1 + (x * u) / 2);
}

/** Options of {@link truncNormal_} (PyTorch's names and defaults). */
export interface TruncNormalOptions extends InitOptions {
  /** Mean (default 0). */
  readonly mean?: number;
  /** Standard deviation before truncation (default 1). */
  readonly std?: number;
  /** Lower bound, in absolute units as PyTorch (default -2), not in standard deviations. */
  readonly a?: number;
  /** Upper bound, in absolute units (default 2). */
  readonly b?: number;
}

/**
 * Normal values truncated to `[a, b]`, as `torch.nn.init.trunc_normal_`: the bounds are
 * absolute values, not multiples of `std` (ConvNeXt's `std=0.02, a=-2, b=2` truncates at
 * ±100σ). Drawn by the inverse-CDF method from uniforms inside `[Φ(a'), Φ(b')]`.
 */
export function truncNormal_(t: Tensor, opts: TruncNormalOptions = {}): Tensor {
  requireFloatTensor(t, 'truncNormal_');
  const mean = opts.mean ?? 0;
  const std = opts.std ?? 1;
  const a = opts.a ?? -2;
  const b = opts.b ?? 2;
  if (!(std > 0)) throw new RangeError(`truncNormal_: std must be positive, got ${std}`);
  if (!(a < b)) throw new RangeError(`truncNormal_: need a < b, got a=${a}, b=${b}`);
  const lo = normCdf((a - mean) / std);
  const hi = normCdf((b - mean) / std);
  if (!(hi > lo)) throw new RangeError(`truncNormal_: [${a}, ${b}] holds no probability mass for N(${mean}, ${std}^2)`);
  // 24-bit uniforms at cell centres: strictly inside (0, 1), so the quantile stays finite.
  const w = (opts.generator ?? defaultGenerator).words(t.size);
  const out = new Float64Array(t.size);
  for (let i = 0; i < out.length; i++) {
    const u = ((w[i]! >>> 8) + 0.5) / 16777216;
    const x = mean + std * normQuantile(lo + (hi - lo) * u);
    out[i] = Math.min(b, Math.max(a, x));
  }
  return fill(t, out);
}

/** Options of the Kaiming initialisers (PyTorch's names and defaults). */
export interface KaimingOptions extends InitOptions {
  /** Negative slope of the leaky ReLU after this layer (default 0). */
  readonly a?: number;
  /** Keep the variance of the forward (`fan_in`, default) or backward pass (`fan_out`). */
  readonly mode?: FanMode;
  /** The nonlinearity after this layer (default `leaky_relu`). */
  readonly nonlinearity?: Nonlinearity;
}

function kaimingStd(t: Tensor, opts: KaimingOptions): number {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const fan = (opts.mode ?? 'fan_in') === 'fan_in' ? fanIn : fanOut;
  const gain = calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  return gain / Math.sqrt(fan);
}

/** He uniform: `U(-bound, bound)` with `bound = gain * sqrt(3 / fan)`. PyTorch's Linear/Conv default uses `a = sqrt(5)`. */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  const bound = Math.sqrt(3) * kaimingStd(t, opts);
  return uniform_(t, -bound, bound, opts);
}

/** He normal: `N(0, std^2)` with `std = gain / sqrt(fan)`. */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  return normal_(t, 0, kaimingStd(t, opts), opts);
}

/** Glorot uniform: `U(-a, a)` with `a = gain * sqrt(6 / (fanIn + fanOut))`. */
export function xavierUniform_(t: Tensor, gain = 1, opts: InitOptions = {}): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  const a = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, -a, a, opts);
}

/** Glorot normal: `N(0, std^2)` with `std = gain * sqrt(2 / (fanIn + fanOut))`. */
export function xavierNormal_(t: Tensor, gain = 1, opts: InitOptions = {}): Tensor {
  const [fanIn, fanOut] = calculateFanInAndFanOut(t);
  return normal_(t, 0, gain * Math.sqrt(2 / (fanIn + fanOut)), opts);
}
