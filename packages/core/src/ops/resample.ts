/**
 * `interpolate` (resampling) of `[N, C, ...spatial]` tensors, as
 * `torch.nn.functional.interpolate`. Each spatial axis is resampled on its own, last axis
 * first (PyTorch's order of summation): every output position is a weighted sum of a few
 * input positions along the axis (1 for nearest, 2 for linear, 4 for cubic), picked with
 * `indexSelect`, so the gradient adds each output's gradient back with the same weights.
 * Source positions and weights are computed on the host with PyTorch's formulas, rounded
 * as PyTorch rounds them for float32 input, so nearest picks PyTorch's pixels exactly.
 */
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { fromTypedArray } from './creation.js';
import { add, mul } from './elementwise.js';
import { indexSelect } from './indexing.js';
import { adaptiveAvgPool1d, adaptiveAvgPool2d } from './pool.js';
import { requireFloat } from './prim.js';
import { reshape } from './views.js';

/** Resampling modes of {@link interpolate}, PyTorch's names. */
export type InterpolateMode = 'nearest' | 'nearest-exact' | 'linear' | 'bilinear' | 'bicubic' | 'trilinear' | 'area';
const MODES: readonly InterpolateMode[] = ['nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic', 'trilinear', 'area'];
/** The modes that take `alignCorners`, with the number of spatial dims each needs. */
const INTERPOLATING: Partial<Record<InterpolateMode, number>> = { linear: 1, bilinear: 2, bicubic: 2, trilinear: 3 };

/** Options of {@link interpolate} (PyTorch's names; give exactly one of `size` and `scaleFactor`). */
export interface InterpolateOptions {
  /** The output's spatial size: one int for every spatial dim, or one per dim. */
  readonly size?: number | readonly number[];
  /** Multiplier of the spatial size (the output size is `floor(in * scaleFactor)`): one, or one per dim. */
  readonly scaleFactor?: number | readonly number[];
  /** Default `'nearest'`. */
  readonly mode?: InterpolateMode;
  /**
   * Linear and cubic modes: map the corner pixels' centres onto each other (source
   * `i * (in - 1) / (out - 1)`) instead of the corners' edges (default false).
   */
  readonly alignCorners?: boolean;
  /**
   * With `scaleFactor`: compute the source positions from the rounded output size
   * (`in / out`) instead of `1 / scaleFactor` (default false, as PyTorch).
   */
  readonly recomputeScaleFactor?: boolean;
}

/** The taps along one axis: for each of `T` taps, the source index and weight of every output position. */
interface Taps {
  readonly idx: Int32Array[];
  /** Weights per tap; null for nearest modes (one tap of weight 1). */
  readonly w: Float64Array[] | null;
}

/** PyTorch's cubic convolution weights of the 4 taps around fraction `t` (A = -0.75). */
function cubicWeights(t: number, r: (v: number) => number): [number, number, number, number] {
  const A = -0.75;
  const c1 = (x: number) => r(r(r(r((A + 2) * x) - (A + 3)) * x) * x + 1);
  const c2 = (x: number) => r(r(r(r(r(A * x) - 5 * A) * x) + 8 * A) * x - 4 * A);
  return [c2(r(t + 1)), c1(t), c1(r(1 - t)), c2(r(r(1 - t) + 1))];
}

/**
 * Source indices and weights along one axis of length `n` resampled to `out`, with
 * PyTorch's `area_pixel_compute_scale` / `compute_source_index` (float32 rounding when `r`
 * is `Math.fround`). `scale` is the user's scale factor when it is used.
 */
function taps(mode: InterpolateMode, n: number, out: number, scale: number | undefined, alignCorners: boolean, r: (v: number) => number): Taps {
  const ratio = alignCorners ? (out > 1 ? r((n - 1) / (out - 1)) : 0) : scale !== undefined ? r(1 / scale) : r(n / out);
  const source = (i: number, cubic: boolean) => {
    if (alignCorners) return r(ratio * i);
    const s = r(ratio * (i + 0.5) - 0.5);
    return !cubic && s < 0 ? 0 : s;
  };
  const cap = (i: number) => Math.min(Math.max(i, 0), n - 1);
  if (mode === 'nearest' || mode === 'nearest-exact') {
    const idx = new Int32Array(out);
    for (let i = 0; i < out; i++) idx[i] = mode === 'nearest' ? Math.min(Math.floor(r(ratio * i)), n - 1) : Math.min(Math.floor(r(source(i, false) + 0.5)), n - 1);
    return { idx: [idx], w: null };
  }
  if (mode === 'bicubic') {
    const idx = [0, 1, 2, 3].map(() => new Int32Array(out));
    const w = [0, 1, 2, 3].map(() => new Float64Array(out));
    for (let i = 0; i < out; i++) {
      const s = source(i, true);
      const i0 = Math.floor(s);
      const c = cubicWeights(r(s - i0), r);
      for (let j = 0; j < 4; j++) {
        idx[j]![i] = cap(i0 - 1 + j);
        w[j]![i] = c[j]!;
      }
    }
    return { idx, w };
  }
  // linear, bilinear, trilinear
  const idx = [new Int32Array(out), new Int32Array(out)];
  const w = [new Float64Array(out), new Float64Array(out)];
  for (let i = 0; i < out; i++) {
    if (out === n) {
      idx[0]![i] = idx[1]![i] = i;
      w[0]![i] = 1;
      continue;
    }
    const s = source(i, false);
    const i0 = Math.floor(s);
    const l1 = Math.min(Math.max(r(s - i0), 0), 1);
    idx[0]![i] = i0;
    idx[1]![i] = i0 < n - 1 ? i0 + 1 : i0;
    w[0]![i] = r(1 - l1);
    w[1]![i] = l1;
  }
  return { idx, w };
}

/** Whether the taps copy an axis of length `n` unchanged (the same size, and no blending). */
function isIdentity(t: Taps, n: number): boolean {
  const m = t.idx[0]!.length;
  if (m !== n) return false;
  for (let i = 0; i < m; i++) {
    if (t.idx[0]![i] !== i) return false;
    if (t.w && (t.w[0]![i] !== 1 || t.w.some((w, j) => j > 0 && w[i] !== 0))) return false;
  }
  return true;
}

/** Resamples `x` along `axis` with the given taps. */
function resampleAxis(x: Tensor, axis: number, t: Taps): Tensor {
  const out = t.idx[0]!.length;
  const bshape = x.shape.map((d, i) => (i === axis ? out : 1));
  let y: Tensor | null = null;
  for (let j = 0; j < t.idx.length; j++) {
    const picked = indexSelect(x, axis, fromTypedArray(t.idx[j]!, [out], 'int32', x.backend));
    const term = t.w ? mul(picked, reshape(fromTypedArray(t.w[j]!, [out], x.dtype, x.backend), bshape)) : picked;
    y = y ? add(y, term) : term;
  }
  return y!;
}

function perDim(v: number | readonly number[], dims: number, name: string, check: (n: number) => boolean, want: string): number[] {
  const a = typeof v === 'number' ? new Array<number>(dims).fill(v) : [...v];
  if (a.length !== dims) throw new RangeError(`interpolate: ${name} must have one entry per spatial dim (${dims}), got ${JSON.stringify(v)}`);
  if (!a.every(check)) throw new RangeError(`interpolate: ${name} must be ${want}, got ${JSON.stringify(v)}`);
  return a;
}

/**
 * Resamples `x` `[N, C, ...spatial]` (1 to 3 spatial dims) to `size`, or by `scaleFactor`,
 * as `torch.nn.functional.interpolate`: `'nearest'` (PyTorch's legacy index
 * `floor(i * in / out)`), `'nearest-exact'` (pixel centres), `'linear'` (3-D input),
 * `'bilinear'` and `'bicubic'` (4-D, cubic with A = -0.75 and edge clamping),
 * `'trilinear'` (5-D), and `'area'` (adaptive average pooling, 3-D and 4-D). With
 * `scaleFactor`, source positions use `1 / scaleFactor` unless `recomputeScaleFactor`, as
 * PyTorch. `antialias` is not supported.
 */
export function interpolate(x: Tensor, opts: InterpolateOptions): Tensor {
  const op = 'interpolate';
  const mode = opts.mode ?? 'nearest';
  if (!MODES.includes(mode)) throw new RangeError(`${op}: mode must be one of ${MODES.map((m) => `'${m}'`).join(', ')}, got ${JSON.stringify(mode)}`);
  requireFloat(op, x);
  const dims = x.ndim - 2;
  if (dims < 1 || dims > 3) throw new RangeError(`${op}: input must be 3-D, 4-D or 5-D [N, C, ...spatial], got shape ${fmtShape(x.shape)}`);
  const need = INTERPOLATING[mode];
  if (need !== undefined && need !== dims) throw new RangeError(`${op}: mode '${mode}' needs ${need + 2}-D input, got ${x.ndim}-D ${fmtShape(x.shape)}`);
  if (need === undefined && opts.alignCorners !== undefined) {
    throw new RangeError(`${op}: alignCorners can only be set with the interpolating modes linear, bilinear, bicubic and trilinear, not '${mode}'`);
  }
  if ((opts.size === undefined) === (opts.scaleFactor === undefined)) throw new RangeError(`${op}: give exactly one of size and scaleFactor`);
  if (opts.size !== undefined && opts.recomputeScaleFactor !== undefined) throw new RangeError(`${op}: recomputeScaleFactor only applies with scaleFactor, not with an explicit size`);
  const spatial = x.shape.slice(2);
  let outSize: number[];
  let scales: (number | undefined)[];
  if (opts.size !== undefined) {
    outSize = perDim(opts.size, dims, 'size', (n) => Number.isInteger(n) && n > 0, 'positive integers');
    scales = outSize.map(() => undefined);
  } else {
    const sf = perDim(opts.scaleFactor!, dims, 'scaleFactor', (n) => Number.isFinite(n) && n > 0, 'positive finite numbers');
    outSize = spatial.map((n, i) => Math.floor(n * sf[i]!));
    if (outSize.some((n) => n <= 0)) throw new RangeError(`${op}: scaleFactor ${JSON.stringify(opts.scaleFactor)} shrinks spatial size ${fmtShape(spatial)} to ${fmtShape(outSize)}; every size must stay positive`);
    scales = opts.recomputeScaleFactor ? outSize.map(() => undefined) : sf;
  }
  if (spatial.some((n) => n === 0)) throw new RangeError(`${op}: input ${fmtShape(x.shape)} has an empty spatial dim`);
  if (mode === 'area') {
    if (dims === 1) return adaptiveAvgPool1d(x, outSize[0]!);
    if (dims === 2) return adaptiveAvgPool2d(x, [outSize[0]!, outSize[1]!]);
    throw new RangeError(`${op}: mode 'area' supports 3-D and 4-D input, got ${fmtShape(x.shape)}`);
  }
  const r = x.dtype === 'float32' ? Math.fround : (v: number) => v;
  let y = x;
  for (let i = dims - 1; i >= 0; i--) {
    const n = spatial[i]!;
    const out = outSize[i]!;
    const t = taps(mode, n, out, scales[i], opts.alignCorners ?? false, r);
    if (isIdentity(t, n)) continue;
    y = resampleAxis(y, i + 2, t);
  }
  return y;
}
