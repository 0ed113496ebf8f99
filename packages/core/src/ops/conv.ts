/**
 * Convolution and pooling over NCHW tensors. The composed default is im2col: a strided
 * *view* of sliding windows (no copy until the matmul needs one) whose gradient is
 * `embed`, which adds overlapping windows back up. Backends may override conv2d with
 * fused kernels ({@link FusedKernels}).
 */
import { noGrad, withGrad } from '../autograd.js';
import type { Conv2dParams } from '../backend.js';
import { contiguousStrides, fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, div } from './elementwise.js';
import { cat } from './indexing.js';
import { matmul } from './linalg.js';
import { primOut, requireFloat, sameBackend, sameDtype } from './prim.js';
import { max, mean, sum } from './reduce.js';
import { asStrided, pad, reshape, slice } from './views.js';

/** A pair of ints, or one int used for both. */
export type IntPair = number | readonly [number, number];

/** Options of conv2d (PyTorch's names and defaults). */
export interface Conv2dOptions {
  /** Step of the window (default 1). */
  readonly stride?: IntPair;
  /** Zero padding on each side (default 0). */
  readonly padding?: IntPair;
  /** Spacing of kernel taps (default 1). */
  readonly dilation?: IntPair;
  /** Channel groups; `groups = C` is depthwise (default 1). */
  readonly groups?: number;
}

/** Options of avgPool2d / maxPool2d (PyTorch's names and defaults). */
export interface PoolOptions {
  /** Step of the window (default: the kernel size). */
  readonly stride?: IntPair;
  /** Padding on each side (default 0): zeros for average, -inf for max. */
  readonly padding?: IntPair;
  /** Average pooling: count the padding in the divisor (default true). */
  readonly countIncludePad?: boolean;
}

function pair(v: IntPair | undefined, dflt: number, name: string, op: string, min: number): [number, number] {
  const p: [number, number] = v === undefined ? [dflt, dflt] : typeof v === 'number' ? [v, v] : [v[0], v[1]];
  if (!p.every((n) => Number.isInteger(n) && n >= min)) throw new RangeError(`${op}: ${name} must be integers >= ${min}, got ${fmtShape(p)}`);
  return p;
}

function outSize(op: string, input: number, k: number, s: number, p: number, d: number, axis: string): number {
  const n = Math.floor((input + 2 * p - d * (k - 1) - 1) / s) + 1;
  if (n <= 0) {
    throw new RangeError(`${op}: input ${axis} ${input} (padded to ${input + 2 * p}) is smaller than the ${d > 1 ? 'dilated ' : ''}kernel ${d * (k - 1) + 1}`);
  }
  return n;
}

/**
 * The sliding windows of a 4-D tensor as a view `[N, C, KH, KW, OH, OW]` (copying `x`
 * first only if it is not contiguous). Its gradient adds the windows back into place.
 */
function windows(x: Tensor, k: [number, number], s: [number, number], d: [number, number], oh: number, ow: number): Tensor {
  const [sn, sc, sh, sw] = contiguousStrides(x.shape) as [number, number, number, number];
  const shape = [x.shape[0]!, x.shape[1]!, k[0], k[1], oh, ow];
  return asStrided(x, shape, [sn, sc, sh * d[0], sw * d[1], sh * s[0], sw * s[1]], 0);
}

function convParams(x: Tensor, w: Tensor, opts: Conv2dOptions): Conv2dParams & { oh: number; ow: number } {
  const op = 'conv2d';
  if (x.ndim !== 4) throw new RangeError(`conv2d: input must be 4-D NCHW, got shape ${fmtShape(x.shape)}`);
  if (w.ndim !== 4) throw new RangeError(`conv2d: weight must be 4-D [out, in/groups, kH, kW], got shape ${fmtShape(w.shape)}`);
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`conv2d: groups must be a positive integer, got ${groups}`);
  const [, c, h, wd] = x.shape as [number, number, number, number];
  const [o, cg, kh, kw] = w.shape as [number, number, number, number];
  if (c % groups !== 0 || o % groups !== 0) throw new RangeError(`conv2d: in channels ${c} and out channels ${o} must both divide by groups ${groups}`);
  if (cg * groups !== c) {
    throw new RangeError(`conv2d: weight ${fmtShape(w.shape)} expects ${cg * groups} input channels (${cg} per group x ${groups} groups), but the input ${fmtShape(x.shape)} has ${c}`);
  }
  const stride = pair(opts.stride, 1, 'stride', op, 1);
  const padding = pair(opts.padding, 0, 'padding', op, 0);
  const dilation = pair(opts.dilation, 1, 'dilation', op, 1);
  const oh = outSize(op, h, kh, stride[0], padding[0], dilation[0], 'height');
  const ow = outSize(op, wd, kw, stride[1], padding[1], dilation[1], 'width');
  return { stride, padding, dilation, groups, oh, ow };
}

/** conv2d composed from pad, the window view and one batched matmul (im2col). */
function conv2dComposed(x: Tensor, w: Tensor, p: Conv2dParams & { oh: number; ow: number }): Tensor {
  const [n, c] = x.shape as [number, number];
  const [o, cg, kh, kw] = w.shape as [number, number, number, number];
  const g = p.groups;
  const xp = p.padding[0] || p.padding[1] ? pad(x, [p.padding[1], p.padding[1], p.padding[0], p.padding[0]]) : x;
  const cols = windows(xp, [kh, kw], [p.stride[0], p.stride[1]], [p.dilation[0], p.dilation[1]], p.oh, p.ow);
  // [N, C, KH, KW, OH, OW] -> [N, G, Cg*KH*KW, OH*OW]; weight [O, Cg, KH, KW] -> [G, O/G, Cg*KH*KW].
  const colsMat = reshape(cols, [n, g, (c / g) * kh * kw, p.oh * p.ow]);
  const wMat = reshape(w, [g, o / g, cg * kh * kw]);
  return reshape(matmul(wMat, colsMat), [n, o, p.oh, p.ow]);
}

/** conv2d through a backend's fused kernels; its gradients use the fused backward kernels. */
function conv2dFused(x: Tensor, w: Tensor, p: Conv2dParams): Tensor {
  const b = x.backend;
  const xShape = x.shape;
  const wShape = w.shape;
  const [n, , h, wd] = xShape as [number, number, number, number];
  const [o, , kh, kw] = wShape as [number, number, number, number];
  const oh = outSize('conv2d', h, kh, p.stride[0], p.padding[0], p.dilation[0], 'height');
  const ow = outSize('conv2d', wd, kw, p.stride[1], p.padding[1], p.dilation[1], 'width');
  const y = primOut('conv2d', b, b.conv2d!(x.asView('conv2d'), w.asView('conv2d'), p), [n, o, oh, ow], x.dtype);
  return withGrad(y, 'conv2d', [x, w], (g) => [conv2dInputGrad(g, w, xShape, p), conv2dWeightGrad(x, g, wShape, p)]);
}

function conv2dInputGrad(gy: Tensor, w: Tensor, xShape: readonly number[], p: Conv2dParams): Tensor {
  const b = gy.backend;
  const gx = primOut('conv2dBackwardInput', b, b.conv2dBackwardInput!(gy.asView('conv2d'), w.asView('conv2d'), xShape, p), xShape, gy.dtype);
  return withGrad(gx, 'conv2dBackwardInput', [gy, w], (gg) => [conv2dFused(gg, w, p), conv2dWeightGrad(gg, gy, w.shape, p)]);
}

function conv2dWeightGrad(x: Tensor, gy: Tensor, wShape: readonly number[], p: Conv2dParams): Tensor {
  const b = x.backend;
  const gw = primOut('conv2dBackwardWeight', b, b.conv2dBackwardWeight!(x.asView('conv2d'), gy.asView('conv2d'), wShape, p), wShape, x.dtype);
  return withGrad(gw, 'conv2dBackwardWeight', [x, gy], (gg) => [conv2dInputGrad(gy, gg, x.shape, p), conv2dFused(x, gg, p)]);
}

/**
 * 2-D convolution (cross-correlation, as PyTorch) of NCHW `x` with weight
 * `[O, C/groups, KH, KW]` and optional `bias` `[O]`. Depthwise when `groups = C`.
 */
export function conv2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  sameBackend('conv2d', x, weight, ...(bias ? [bias] : []));
  sameDtype('conv2d', x, weight);
  requireFloat('conv2d', x);
  const p = convParams(x, weight, opts);
  const b = x.backend;
  const fused = b.conv2d && b.conv2dBackwardInput && b.conv2dBackwardWeight;
  let y = fused ? conv2dFused(x, weight, p) : conv2dComposed(x, weight, p);
  if (bias) {
    if (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0]) throw new RangeError(`conv2d: bias must have shape [${weight.shape[0]}], got ${fmtShape(bias.shape)}`);
    y = add(y, reshape(bias, [1, bias.shape[0]!, 1, 1]));
  }
  return y;
}

function poolSetup(op: string, x: Tensor, kernelSize: IntPair, opts: PoolOptions) {
  if (x.ndim !== 4) throw new RangeError(`${op}: input must be 4-D NCHW, got shape ${fmtShape(x.shape)}`);
  requireFloat(op, x);
  const k = pair(kernelSize, 1, 'kernelSize', op, 1);
  const s = opts.stride === undefined ? k : pair(opts.stride, 1, 'stride', op, 1);
  const p = pair(opts.padding, 0, 'padding', op, 0);
  if (p[0] * 2 > k[0] || p[1] * 2 > k[1]) throw new RangeError(`${op}: padding ${fmtShape(p)} must be at most half the kernel ${fmtShape(k)}`);
  const oh = outSize(op, x.shape[2]!, k[0], s[0], p[0], 1, 'height');
  const ow = outSize(op, x.shape[3]!, k[1], s[1], p[1], 1, 'width');
  return { k, s, p, oh, ow };
}

/** Average pooling over NCHW input (padding counted in the divisor unless `countIncludePad: false`). */
export function avgPool2d(x: Tensor, kernelSize: IntPair, opts: PoolOptions = {}): Tensor {
  const { k, s, p, oh, ow } = poolSetup('avgPool2d', x, kernelSize, opts);
  const padded = p[0] || p[1] ? pad(x, [p[1], p[1], p[0], p[0]]) : x;
  const total = sum(windows(padded, k, s, [1, 1], oh, ow), [2, 3]);
  if ((opts.countIncludePad ?? true) || (!p[0] && !p[1])) return div(total, k[0] * k[1]);
  const counts = noGrad(() => {
    const ones = pad(x.slice(0, 0, 1).slice(1, 0, 1).onesLike(), [p[1], p[1], p[0], p[0]]);
    return sum(windows(ones, k, s, [1, 1], oh, ow), [2, 3]);
  });
  return div(total, counts);
}

/** Max pooling over NCHW input (padding never wins). Ties share the gradient. */
export function maxPool2d(x: Tensor, kernelSize: IntPair, opts: PoolOptions = {}): Tensor {
  const { k, s, p, oh, ow } = poolSetup('maxPool2d', x, kernelSize, opts);
  const padded = p[0] || p[1] ? pad(x, [p[1], p[1], p[0], p[0]], -Infinity) : x;
  return max(windows(padded, k, s, [1, 1], oh, ow), [2, 3]);
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
  const bounds = (i: number, n: number, out: number) => [Math.floor((i * n) / out), Math.ceil(((i + 1) * n) / out)] as const;
  const rows: Tensor[] = [];
  for (let i = 0; i < oh; i++) {
    const [r0, r1] = bounds(i, h, oh);
    const cells: Tensor[] = [];
    for (let j = 0; j < ow; j++) {
      const [c0, c1] = bounds(j, w, ow);
      cells.push(mean(slice(slice(x, 2, r0, r1), 3, c0, c1), [2, 3], true));
    }
    rows.push(cat(cells, 3));
  }
  return cat(rows, 2);
}
