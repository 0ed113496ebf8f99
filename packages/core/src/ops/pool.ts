/**
 * Pooling over NCHW tensors (and NCL through a unit height): average and max pooling with
 * PyTorch's `ceilMode`, `dilation`, `returnIndices` and `divisorOverride`, adaptive pooling,
 * and `maxUnpool2d`. Windows are a strided view of the (padded) input, so pooling copies
 * nothing; max pooling sends each output's gradient to one input element (the first
 * maximum of its window, as PyTorch), through `scatterAdd` at the flat indices.
 */
import { isGradEnabled, noGrad, withGrad } from '../autograd.js';
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { fromTypedArray, ones } from './creation.js';
import { add, div, ge, logicalAnd, lt, maximum, mul, where } from './elementwise.js';
import { cat, gather, indexSelect, scatterInto } from './indexing.js';
import { requireFloat } from './prim.js';
import { argmax, max, mean, sum } from './reduce.js';
import { pad, reshape, slice, squeeze, unsqueeze } from './views.js';
import { outSize, pair, single, windows, type IntPair } from './window.js';

/** Options shared by avgPool2d and maxPool2d (PyTorch's names and defaults). */
export interface PoolOptions {
  /** Step of the window (default: the kernel size). */
  readonly stride?: IntPair;
  /** Padding on each side (default 0): zeros for average, -inf for max; at most half the kernel. */
  readonly padding?: IntPair;
  /** Average pooling: count the padding in the divisor (default true). Ignored by max pooling. */
  readonly countIncludePad?: boolean;
  /** Round the output size up instead of down; a last window must start inside the input or the left padding (default false). */
  readonly ceilMode?: boolean;
}

/** Options of avgPool2d. */
export interface AvgPoolOptions extends PoolOptions {
  /** Divide every window's sum by this instead of its size (default: the window size). */
  readonly divisorOverride?: number;
}

/** Options of maxPool2d. */
export interface MaxPoolOptions extends PoolOptions {
  /** Spacing of the window's taps (default 1). */
  readonly dilation?: IntPair;
  /** Also return the flat `h * W + w` index of each maximum in its channel (default false). */
  readonly returnIndices?: boolean;
}

/** Options of the 1-D pools: one int (or 1-tuple) per option. */
export interface Pool1dOptions {
  /** Step of the window (default: the kernel size). */
  readonly stride?: number | readonly [number];
  /** Padding on each side (default 0). */
  readonly padding?: number | readonly [number];
  /** Average pooling: count the padding in the divisor (default true). */
  readonly countIncludePad?: boolean;
  /** Round the output size up (default false). */
  readonly ceilMode?: boolean;
  /** Max pooling: spacing of the taps (default 1). */
  readonly dilation?: number | readonly [number];
  /** Max pooling: also return the index of each maximum along the length (default false). */
  readonly returnIndices?: boolean;
}

/** One axis of a pooling window: its output length, and the padding needed right of the input. */
interface Axis {
  readonly len: number;
  readonly k: number;
  readonly s: number;
  readonly p: number;
  readonly d: number;
  readonly out: number;
  /** Padding on the right: `p`, or more when ceil mode's last window runs past it. */
  readonly right: number;
}

/** PyTorch's `pooling_output_shape`, with the window's right padding. */
function poolAxis(op: string, len: number, k: number, s: number, p: number, d: number, ceil: boolean, name: string): Axis {
  let out = ceil ? Math.ceil((len + 2 * p - d * (k - 1) - 1) / s) + 1 : outSize(op, len, k, s, p, d, name);
  // PyTorch: the last window must start inside the input or the left padding.
  if (ceil && (out - 1) * s >= len + p) out--;
  if (out <= 0) throw new RangeError(`${op}: input ${name} ${len} (padded to ${len + 2 * p}) is smaller than the ${d > 1 ? 'dilated ' : ''}kernel ${d * (k - 1) + 1}`);
  const right = Math.max(p, (out - 1) * s + d * (k - 1) + 1 - len - p);
  return { len, k, s, p, d, out, right };
}

function poolSetup(op: string, x: Tensor, kernelSize: IntPair, opts: PoolOptions, dilation: IntPair | undefined): [Axis, Axis] {
  if (x.ndim !== 4) throw new RangeError(`${op}: input must be 4-D NCHW, got shape ${fmtShape(x.shape)}`);
  requireFloat(op, x);
  const k = pair(kernelSize, 1, 'kernelSize', op, 1);
  const s = opts.stride === undefined ? k : pair(opts.stride, 1, 'stride', op, 1);
  const p = pair(opts.padding, 0, 'padding', op, 0);
  const d = pair(dilation, 1, 'dilation', op, 1);
  if (p[0] * 2 > k[0] || p[1] * 2 > k[1]) throw new RangeError(`${op}: padding ${fmtShape(p)} must be at most half the kernel ${fmtShape(k)}`);
  const ceil = opts.ceilMode ?? false;
  return [poolAxis(op, x.shape[2]!, k[0], s[0], p[0], d[0], ceil, 'height'), poolAxis(op, x.shape[3]!, k[1], s[1], p[1], d[1], ceil, 'width')];
}

/** The window view `[N, C, KH, KW, OH, OW]` of `x` padded with `fill` (ceil mode's overhang included). */
function poolWindows(x: Tensor, h: Axis, w: Axis, fill: number): Tensor {
  const padded = h.p || w.p || h.right || w.right ? pad(x, [w.p, w.right, h.p, h.right], fill) : x;
  return windows(padded, [h.k, w.k], [h.s, w.s], [h.d, w.d], h.out, w.out);
}

/** An int32 tensor of `shape` from host values. */
function ints(x: Tensor, values: readonly number[], shape: readonly number[]): Tensor {
  return fromTypedArray(Int32Array.from(values), shape, 'int32', x.backend);
}

/** How many positions of each window along an axis the divisor counts (PyTorch's avg_pool rule). */
function windowCounts(a: Axis, includePad: boolean): number[] {
  const out: number[] = [];
  for (let o = 0; o < a.out; o++) {
    const start = o * a.s - a.p;
    const end = Math.min(start + a.k, a.len + a.p);
    out.push(includePad ? end - start : Math.min(end, a.len) - Math.max(start, 0));
  }
  return out;
}

/**
 * Average pooling over NCHW input. The divisor is the window's size, counting the padding
 * unless `countIncludePad: false` (ceil mode's overhang past the padding never counts), or
 * `divisorOverride`.
 */
export function avgPool2d(x: Tensor, kernelSize: IntPair, opts: AvgPoolOptions = {}): Tensor {
  const op = 'avgPool2d';
  const [h, w] = poolSetup(op, x, kernelSize, opts, undefined);
  const total = sum(poolWindows(x, h, w, 0), [2, 3]);
  if (opts.divisorOverride !== undefined) {
    const dv = opts.divisorOverride;
    if (!Number.isInteger(dv) || dv === 0) throw new RangeError(`${op}: divisorOverride must be a non-zero integer, got ${dv}`);
    return div(total, dv);
  }
  const include = opts.countIncludePad ?? true;
  const ch = windowCounts(h, include);
  const cw = windowCounts(w, include);
  if (ch.every((c) => c === h.k) && cw.every((c) => c === w.k)) return div(total, h.k * w.k);
  const counts = new Float64Array(h.out * w.out);
  for (let i = 0; i < h.out; i++) for (let j = 0; j < w.out; j++) counts[i * w.out + j] = ch[i]! * cw[j]!;
  const divisor = fromTypedArray(counts, [h.out, w.out], x.dtype, x.backend);
  return div(total, divisor);
}

/** The first tap of each window that lies inside the input, along one axis (an error if none). */
function firstInside(op: string, a: Axis): number[] {
  const out: number[] = [];
  for (let o = 0; o < a.out; o++) {
    let t = o * a.s - a.p;
    for (let j = 0; j < a.k && t < 0; j++) t += a.d;
    if (t < 0 || t >= a.len) {
      throw new RangeError(`${op}: window ${o} along an axis of length ${a.len} lies entirely in the padding (kernel ${a.k}, stride ${a.s}, padding ${a.p}, dilation ${a.d}); PyTorch returns -inf with an invalid index there`);
    }
    out.push(t);
  }
  return out;
}

/**
 * The flat `h * W + w` input index of each window's first maximum (PyTorch's choice), int32
 * `[N, C, OH, OW]`, from the window view: the first maximum of each row of the window, then
 * the first row holding the window's maximum. A window whose maximum is only padding (all
 * its inputs -inf) points at its first tap inside the input, as PyTorch does.
 */
function maxIndices(op: string, win: Tensor, h: Axis, w: Axis): Tensor {
  return noGrad(() => {
    const rowArg = argmax(win, 3); // [N, C, KH, OH, OW]
    const kh = argmax(max(win, 3), 2); // [N, C, OH, OW]
    const kw = squeeze(gather(rowArg, 2, unsqueeze(kh, 2)), 2);
    const starts = (a: Axis) => Array.from({ length: a.out }, (_, o) => o * a.s - a.p);
    const ih = add(ints(win, starts(h), [h.out, 1]), mul(kh, h.d));
    const iw = add(ints(win, starts(w), [w.out]), mul(kw, w.d));
    const flat = add(mul(ih, w.len), iw);
    if (!h.p && !w.p && h.right === 0 && w.right === 0) return flat;
    const inside = logicalAnd(logicalAnd(ge(ih, 0), lt(ih, h.len)), logicalAnd(ge(iw, 0), lt(iw, w.len)));
    const fh = firstInside(op, h);
    const fw = firstInside(op, w);
    const first = ints(win, fh.flatMap((r) => fw.map((c) => r * w.len + c)), [h.out, w.out]);
    return where(inside, flat, first);
  });
}

/** `gather` of `x`'s channels at flat `h * W + w` indices `[N, C, OH, OW]`, with its gradient as scatterAdd. */
function pickFlat(x: Tensor, idx: Tensor): Tensor {
  const [n, c, hh, ww] = x.shape as [number, number, number, number];
  const [, , oh, ow] = idx.shape as [number, number, number, number];
  return reshape(gather(reshape(x, [n, c, hh * ww]), 2, reshape(idx, [n, c, oh * ow])), [n, c, oh, ow]);
}

/**
 * Max over the window view: the values (computed without recording), with a gradient that
 * goes to the first maximum of each window; the indices when asked or when a gradient is
 * needed.
 */
function maxOverWindows(op: string, x: Tensor, win: Tensor, h: Axis, w: Axis, wantIndices: boolean): [Tensor, Tensor | null] {
  const needGrad = isGradEnabled() && x.requiresGrad;
  const y = noGrad(() => max(win, [2, 3]));
  const idx = wantIndices || needGrad ? maxIndices(op, win, h, w) : null;
  if (!needGrad) return [y, idx];
  const xShape = x.shape;
  const [n, c] = xShape as [number, number];
  const out = withGrad(y, op, [x], (g) => [reshape(scatterInto(reshape(g, [n, c, h.out * w.out]), 2, reshape(idx!, [n, c, h.out * w.out]), [n, c, h.len * w.len]), xShape)]);
  return [out, idx];
}

/** Max pooling over NCHW input; with `returnIndices`, also the int32 flat index of each maximum. */
export function maxPool2d(x: Tensor, kernelSize: IntPair, opts?: MaxPoolOptions & { readonly returnIndices?: false }): Tensor;
export function maxPool2d(x: Tensor, kernelSize: IntPair, opts: MaxPoolOptions & { readonly returnIndices: true }): [Tensor, Tensor];
export function maxPool2d(x: Tensor, kernelSize: IntPair, opts?: MaxPoolOptions): Tensor | [Tensor, Tensor];
/**
 * Max pooling over NCHW input (padding never wins). The gradient of each output goes to one
 * input element, its window's first maximum, as PyTorch. With `returnIndices: true` also
 * returns the flat `h * W + w` index of each maximum within its channel, as int32 (PyTorch:
 * int64), which {@link maxUnpool2d} takes.
 */
export function maxPool2d(x: Tensor, kernelSize: IntPair, opts: MaxPoolOptions = {}): Tensor | [Tensor, Tensor] {
  const op = 'maxPool2d';
  const [h, w] = poolSetup(op, x, kernelSize, opts, opts.dilation);
  // Fail early on a window with no input in it (PyTorch gives -inf and an invalid index).
  firstInside(op, h);
  firstInside(op, w);
  const win = poolWindows(x, h, w, -Infinity);
  const [y, idx] = maxOverWindows(op, x, win, h, w, opts.returnIndices ?? false);
  return opts.returnIndices ? [y, idx!] : y;
}

/** Bins of adaptive pooling along one axis: output cell `i` covers `floor(i*n/out)` to `ceil((i+1)*n/out)`. */
function bins(n: number, out: number): [number, number][] {
  return Array.from({ length: out }, (_, i) => [Math.floor((i * n) / out), Math.ceil(((i + 1) * n) / out)] as [number, number]);
}

/**
 * Adaptive average pooling to `outputSize`: output cell `i` averages input rows
 * `floor(i*H/OH)` to `ceil((i+1)*H/OH)`, as PyTorch.
 */
export function adaptiveAvgPool2d(x: Tensor, outputSize: IntPair): Tensor {
  if (x.ndim !== 4) throw new RangeError(`adaptiveAvgPool2d: input must be 4-D NCHW, got shape ${fmtShape(x.shape)}`);
  const [oh, ow] = pair(outputSize, 1, 'outputSize', 'adaptiveAvgPool2d', 1);
  const [h, w] = [x.shape[2]!, x.shape[3]!];
  if (oh === 1 && ow === 1) return mean(x, [2, 3], true);
  if (h % oh === 0 && w % ow === 0) return avgPool2d(x, [h / oh, w / ow]);
  const rows: Tensor[] = [];
  for (const [r0, r1] of bins(h, oh)) {
    const cells: Tensor[] = [];
    for (const [c0, c1] of bins(w, ow)) cells.push(mean(slice(slice(x, 2, r0, r1), 3, c0, c1), [2, 3], true));
    rows.push(cat(cells, 3));
  }
  return cat(rows, 2);
}

/** Adaptive max pooling to `outputSize`; with `returnIndices`, also the int32 flat index of each maximum. */
export function adaptiveMaxPool2d(x: Tensor, outputSize: IntPair, opts?: { readonly returnIndices?: false }): Tensor;
export function adaptiveMaxPool2d(x: Tensor, outputSize: IntPair, opts: { readonly returnIndices: true }): [Tensor, Tensor];
export function adaptiveMaxPool2d(x: Tensor, outputSize: IntPair, opts?: { readonly returnIndices?: boolean }): Tensor | [Tensor, Tensor];
/**
 * Adaptive max pooling to `outputSize` over NCHW input (bins as {@link adaptiveAvgPool2d}).
 * The gradient goes to each bin's first maximum, as PyTorch; `returnIndices` also returns
 * the flat `h * W + w` indices (int32).
 */
export function adaptiveMaxPool2d(x: Tensor, outputSize: IntPair, opts: { readonly returnIndices?: boolean } = {}): Tensor | [Tensor, Tensor] {
  const op = 'adaptiveMaxPool2d';
  if (x.ndim !== 4) throw new RangeError(`${op}: input must be 4-D NCHW, got shape ${fmtShape(x.shape)}`);
  requireFloat(op, x);
  const [oh, ow] = pair(outputSize, 1, 'outputSize', op, 1);
  const [hh, ww] = [x.shape[2]!, x.shape[3]!];
  if (hh === 0 || ww === 0) throw new RangeError(`${op}: input ${fmtShape(x.shape)} has an empty spatial dimension`);
  const ret = opts.returnIndices ?? false;
  if (hh % oh === 0 && ww % ow === 0) return maxPool2d(x, [hh / oh, ww / ow], { returnIndices: ret });
  // Uneven bins: gather each bin's rows and columns (a bin shorter than the longest repeats
  // its last index, which changes neither the maximum nor which one comes first).
  const axis = (n: number, out: number) => {
    const b = bins(n, out);
    const k = Math.max(...b.map(([s, e]) => e - s));
    return { b, k, idx: b.flatMap(([s, e]) => Array.from({ length: k }, (_, j) => Math.min(s + j, e - 1))) };
  };
  const ah = axis(hh, oh);
  const aw = axis(ww, ow);
  const [n, c] = x.shape as [number, number];
  const needGrad = isGradEnabled() && x.requiresGrad;
  let idx: Tensor | null = null;
  const y = noGrad(() => {
    const rowsIdx = ints(x, ah.idx, [oh * ah.k]);
    const colsIdx = ints(x, aw.idx, [ow * aw.k]);
    const g = reshape(indexSelect(indexSelect(x, 2, rowsIdx), 3, colsIdx), [n, c, oh, ah.k, ow, aw.k]);
    const win = g.permute([0, 1, 3, 5, 2, 4]); // [N, C, KH, KW, OH, OW], as maxIndices reads
    if (ret || needGrad) {
      const rowArg = argmax(win, 3);
      const kh = argmax(max(win, 3), 2);
      const kw = squeeze(gather(rowArg, 2, unsqueeze(kh, 2)), 2);
      const ih = add(ints(x, ah.b.map(([s]) => s), [oh, 1]), kh);
      const iw = add(ints(x, aw.b.map(([s]) => s), [ow]), kw);
      idx = add(mul(ih, ww), iw);
    }
    return max(win, [2, 3]);
  });
  const out = needGrad ? withGrad(y, op, [x], (g) => [reshape(scatterInto(reshape(g, [n, c, oh * ow]), 2, reshape(idx!, [n, c, oh * ow]), [n, c, hh * ww]), x.shape)]) : y;
  return ret ? [out, idx!] : out;
}

/**
 * The partial inverse of {@link maxPool2d}: zeros of `[N, C, outputSize]` with each value
 * of `x` put at its flat `h * W + w` index `indices` (int32, as maxPool2d returns them).
 * The output size defaults to the one the pooling geometry inverts to, `(in - 1) * stride
 * - 2 * padding + kernel`. Where indices repeat (overlapping windows picked one input), the
 * value is put once, as PyTorch (where they disagree, PyTorch keeps an arbitrary one; we
 * keep their mean). The gradient is `gather` at the indices, as PyTorch.
 */
export function maxUnpool2d(x: Tensor, indices: Tensor, kernelSize: IntPair, opts: { readonly stride?: IntPair; readonly padding?: IntPair; readonly outputSize?: IntPair } = {}): Tensor {
  const op = 'maxUnpool2d';
  if (x.ndim !== 4) throw new RangeError(`${op}: input must be 4-D NCHW, got shape ${fmtShape(x.shape)}`);
  requireFloat(op, x);
  if (indices.dtype !== 'int32') throw new TypeError(`${op}: indices must be int32 (as maxPool2d returns them), got ${indices.dtype}`);
  if (indices.ndim !== 4 || indices.shape.some((d, i) => d !== x.shape[i])) {
    throw new RangeError(`${op}: indices ${fmtShape(indices.shape)} must have the input's shape ${fmtShape(x.shape)}`);
  }
  const k = pair(kernelSize, 1, 'kernelSize', op, 1);
  const s = opts.stride === undefined ? k : pair(opts.stride, 1, 'stride', op, 1);
  const p = pair(opts.padding, 0, 'padding', op, 0);
  const [n, c, ih, iw] = x.shape as [number, number, number, number];
  const dflt: [number, number] = [(ih - 1) * s[0] - 2 * p[0] + k[0], (iw - 1) * s[1] - 2 * p[1] + k[1]];
  const [oh, ow] = opts.outputSize === undefined ? dflt : pair(opts.outputSize, 1, 'outputSize', op, 1);
  if (oh <= 0 || ow <= 0) throw new RangeError(`${op}: output size ${fmtShape([oh, ow])} is empty`);
  if (opts.outputSize !== undefined) {
    // PyTorch accepts output sizes within one stride of the default.
    for (const [i, got] of [oh, ow].entries()) {
      if (Math.abs(got - dflt[i]!) >= s[i]!) throw new RangeError(`${op}: outputSize ${fmtShape([oh, ow])} must be within one stride ${fmtShape(s)} of ${fmtShape(dflt)}`);
    }
  }
  const flatIdx = reshape(indices, [n, c, ih * iw]);
  if (x.backend.canReadSync && x.size > 0) {
    const v = indices.dataSync();
    const bad = v.findIndex((i) => i < 0 || i >= oh * ow);
    if (bad >= 0) throw new RangeError(`${op}: index ${v[bad]} (flat position ${bad}) is out of range for output size ${fmtShape([oh, ow])}`);
  }
  const y = noGrad(() => {
    const sums = scatterInto(reshape(x, [n, c, ih * iw]), 2, flatIdx, [n, c, oh * ow]);
    const counts = scatterInto(ones([n, c, ih * iw], { dtype: x.dtype, backend: x.backend }), 2, flatIdx, [n, c, oh * ow]);
    return reshape(div(sums, maximum(counts, 1)), [n, c, oh, ow]);
  });
  return withGrad(y, op, [x], (g) => [reshape(gather(reshape(g, [n, c, oh * ow]), 2, flatIdx), x.shape)]);
}

// ---- 1-D pools: the 2-D ones on a unit height ----

function check1d(op: string, x: Tensor): void {
  if (x.ndim !== 3) throw new RangeError(`${op}: input must be 3-D [N, C, L], got shape ${fmtShape(x.shape)}`);
}

/** Average pooling over `[N, C, L]` input (options as {@link avgPool2d}, one int each). */
export function avgPool1d(x: Tensor, kernelSize: number | readonly [number], opts: Pool1dOptions = {}): Tensor {
  const op = 'avgPool1d';
  check1d(op, x);
  const k = single(kernelSize, 1, 'kernelSize', op, 1);
  const s = opts.stride === undefined ? k : single(opts.stride, 1, 'stride', op, 1);
  const p = single(opts.padding, 0, 'padding', op, 0);
  const y = avgPool2d(unsqueeze(x, 2), [1, k], { stride: [1, s], padding: [0, p], ceilMode: opts.ceilMode, countIncludePad: opts.countIncludePad });
  return squeeze(y, 2);
}

/** Max pooling over `[N, C, L]` input; with `returnIndices`, also the int32 index of each maximum along L. */
export function maxPool1d(x: Tensor, kernelSize: number | readonly [number], opts?: Pool1dOptions & { readonly returnIndices?: false }): Tensor;
export function maxPool1d(x: Tensor, kernelSize: number | readonly [number], opts: Pool1dOptions & { readonly returnIndices: true }): [Tensor, Tensor];
export function maxPool1d(x: Tensor, kernelSize: number | readonly [number], opts?: Pool1dOptions): Tensor | [Tensor, Tensor];
/** Max pooling over `[N, C, L]` input (options as {@link maxPool2d}, one int each). */
export function maxPool1d(x: Tensor, kernelSize: number | readonly [number], opts: Pool1dOptions = {}): Tensor | [Tensor, Tensor] {
  const op = 'maxPool1d';
  check1d(op, x);
  const k = single(kernelSize, 1, 'kernelSize', op, 1);
  const s = opts.stride === undefined ? k : single(opts.stride, 1, 'stride', op, 1);
  const p = single(opts.padding, 0, 'padding', op, 0);
  const d = single(opts.dilation, 1, 'dilation', op, 1);
  const r = maxPool2d(unsqueeze(x, 2), [1, k], { stride: [1, s], padding: [0, p], dilation: [1, d], ceilMode: opts.ceilMode, returnIndices: opts.returnIndices ?? false });
  return Array.isArray(r) ? [squeeze(r[0], 2), squeeze(r[1], 2)] : squeeze(r, 2);
}

/** Adaptive average pooling of `[N, C, L]` input to `outputSize`. */
export function adaptiveAvgPool1d(x: Tensor, outputSize: number | readonly [number]): Tensor {
  check1d('adaptiveAvgPool1d', x);
  const o = single(outputSize, 1, 'outputSize', 'adaptiveAvgPool1d', 1);
  return squeeze(adaptiveAvgPool2d(unsqueeze(x, 2), [1, o]), 2);
}

/** Adaptive max pooling of `[N, C, L]` input to `outputSize`; `returnIndices` as {@link adaptiveMaxPool2d}. */
export function adaptiveMaxPool1d(x: Tensor, outputSize: number | readonly [number], opts?: { readonly returnIndices?: false }): Tensor;
export function adaptiveMaxPool1d(x: Tensor, outputSize: number | readonly [number], opts: { readonly returnIndices: true }): [Tensor, Tensor];
export function adaptiveMaxPool1d(x: Tensor, outputSize: number | readonly [number], opts?: { readonly returnIndices?: boolean }): Tensor | [Tensor, Tensor];
/** Adaptive max pooling of `[N, C, L]` input to `outputSize`. */
export function adaptiveMaxPool1d(x: Tensor, outputSize: number | readonly [number], opts: { readonly returnIndices?: boolean } = {}): Tensor | [Tensor, Tensor] {
  check1d('adaptiveMaxPool1d', x);
  const o = single(outputSize, 1, 'outputSize', 'adaptiveMaxPool1d', 1);
  const r = adaptiveMaxPool2d(unsqueeze(x, 2), [1, o], { returnIndices: opts.returnIndices ?? false });
  return Array.isArray(r) ? [squeeze(r[0], 2), squeeze(r[1], 2)] : squeeze(r, 2);
}
