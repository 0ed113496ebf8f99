/**
 * 2-D convolution over NCHW tensors. The composed default is im2col: a strided *view* of
 * sliding windows (no copy until the matmul needs one) whose gradient is `embed`, which
 * adds overlapping windows back up. Backends may override conv2d with fused kernels
 * ({@link FusedKernels}). Pooling lives in `pool.ts` (re-exported here, where it was).
 */
import { withGrad } from '../autograd.js';
import type { Conv2dParams } from '../backend.js';
import { fmtShape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { add } from './elementwise.js';
import { col2im } from './fold.js';
import { matmul } from './linalg.js';
import { primOut, requireFloat, sameBackend, sameDtype } from './prim.js';
import { pad, permute, reshape } from './views.js';
import { outSize, pair, windows, type IntPair } from './window.js';

export type { IntPair } from './window.js';
export { adaptiveAvgPool2d, avgPool2d, maxPool2d, type PoolOptions } from './pool.js';

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

/** Checks conv2d's operands and normalises its options (`op` names the caller in errors). */
function convParams(x: Tensor, w: Tensor, opts: Conv2dOptions, op = 'conv2d'): Conv2dParams & { oh: number; ow: number } {
  if (x.ndim !== 4) throw new RangeError(`${op}: input must be 4-D NCHW, got shape ${fmtShape(x.shape)}`);
  if (w.ndim !== 4) throw new RangeError(`${op}: weight must be 4-D [out, in/groups, kH, kW], got shape ${fmtShape(w.shape)}`);
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`${op}: groups must be a positive integer, got ${groups}`);
  const [, c, h, wd] = x.shape as [number, number, number, number];
  const [o, cg, kh, kw] = w.shape as [number, number, number, number];
  if (c % groups !== 0 || o % groups !== 0) throw new RangeError(`${op}: in channels ${c} and out channels ${o} must both divide by groups ${groups}`);
  if (cg * groups !== c) {
    throw new RangeError(`${op}: weight ${fmtShape(w.shape)} expects ${cg * groups} input channels (${cg} per group x ${groups} groups), but the input ${fmtShape(x.shape)} has ${c}`);
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
  // An input that needs no gradient (the images into a stem) costs no backward kernel.
  return withGrad(y, 'conv2d', [x, w], (g) => [x.requiresGrad ? conv2dInputGrad(g, w, xShape, p) : null, w.requiresGrad ? conv2dWeightGrad(x, g, wShape, p) : null]);
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
  if (bias !== null && !(bias instanceof Tensor)) {
    throw new TypeError('conv2d: bias must be a Tensor or null; options go after it: conv2d(x, w, bias, { stride }) or x.conv2d(w, bias, { stride })');
  }
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


/**
 * The gradient of conv2d for its input (`xShape`), given the output gradient `gy` and the
 * weight: the transposed convolution. Uses the backend's fused kernel when it has the conv2d
 * set (its gradients are conv2d and conv2d's weight gradient), else the composed adjoint of
 * im2col: one matmul, then `embed` adds the windows into place. Differentiable both ways.
 */
export function conv2dInputGradient(gy: Tensor, w: Tensor, xShape: readonly [number, number, number, number], p: Conv2dParams): Tensor {
  const b = gy.backend;
  if (b.conv2d && b.conv2dBackwardInput && b.conv2dBackwardWeight) return conv2dInputGrad(gy, w, xShape, p);
  const [n, c] = xShape;
  const [o, cg, kh, kw] = w.shape as [number, number, number, number];
  const [, , oh, ow] = gy.shape as [number, number, number, number];
  const g = p.groups;
  // [G, O/G, Cg*KH*KW] transposed times [N, G, O/G, OH*OW] -> [N, G, Cg*KH*KW, OH*OW].
  const wT = permute(reshape(w, [g, o / g, cg * kh * kw]), [0, 2, 1]);
  const cols = matmul(wT, reshape(gy, [n, g, o / g, oh * ow]));
  return col2im(reshape(cols, [n, c, kh, kw, oh, ow]), xShape, { k: [kh, kw], s: [p.stride[0], p.stride[1]], d: [p.dilation[0], p.dilation[1]], p: [p.padding[0], p.padding[1]] });
}
