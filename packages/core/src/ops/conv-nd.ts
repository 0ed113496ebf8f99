/**
 * Convolutions built on conv2d: `conv1d` (a unit height), `conv3d` (the kernel's depth
 * taps folded into channels, then one conv2d), and the transposed convolutions
 * `convTranspose2d` / `convTranspose1d` (conv2d's input gradient, fused where the backend
 * has conv kernels). Their gradients are conv2d's, so they run fast on every backend.
 */
import type { Conv2dParams } from '../backend.js';
import { contiguousStrides, fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { conv2d, conv2dInputGradient } from './conv.js';
import { add } from './elementwise.js';
import { requireFloat, sameBackend, sameDtype } from './prim.js';
import { asStrided, pad, permute, reshape, squeeze, unsqueeze } from './views.js';
import { outSize, pair, single, type IntPair } from './window.js';

/** One int, or a 1-tuple (1-D ops). */
export type IntSingle = number | readonly [number];
/** A triple of ints, or one int used for all three. */
export type IntTriple = number | readonly [number, number, number];

/** Options of conv1d (PyTorch's names and defaults). */
export interface Conv1dOptions {
  /** Step of the window (default 1). */
  readonly stride?: IntSingle;
  /** Zero padding on each side (default 0). */
  readonly padding?: IntSingle;
  /** Spacing of kernel taps (default 1). */
  readonly dilation?: IntSingle;
  /** Channel groups (default 1). */
  readonly groups?: number;
}

/** Options of conv3d (PyTorch's names and defaults). */
export interface Conv3dOptions {
  /** Step of the window (default 1). */
  readonly stride?: IntTriple;
  /** Zero padding on each side (default 0). */
  readonly padding?: IntTriple;
  /** Spacing of kernel taps (default 1). */
  readonly dilation?: IntTriple;
  /** Channel groups (default 1). */
  readonly groups?: number;
}

/** Options of convTranspose2d (PyTorch's names and defaults). */
export interface ConvTranspose2dOptions {
  /** Step of the (forward) window (default 1). */
  readonly stride?: IntPair;
  /** `dilation * (kernel - 1) - padding` zero padding is added to each side of the input (default 0). */
  readonly padding?: IntPair;
  /** Extra size added to one side of the output, smaller than stride or dilation (default 0). */
  readonly outputPadding?: IntPair;
  /** Spacing of kernel taps (default 1). */
  readonly dilation?: IntPair;
  /** Channel groups (default 1). */
  readonly groups?: number;
}

/** Options of convTranspose1d: {@link ConvTranspose2dOptions} with one int each. */
export interface ConvTranspose1dOptions {
  /** Step of the (forward) window (default 1). */
  readonly stride?: IntSingle;
  /** Implicit padding removed from each side of the output (default 0). */
  readonly padding?: IntSingle;
  /** Extra size added to one side of the output (default 0). */
  readonly outputPadding?: IntSingle;
  /** Spacing of kernel taps (default 1). */
  readonly dilation?: IntSingle;
  /** Channel groups (default 1). */
  readonly groups?: number;
}

function addBias(op: string, y: Tensor, bias: Tensor | null, channels: number): Tensor {
  if (!bias) return y;
  sameBackend(op, y, bias);
  if (bias.ndim !== 1 || bias.shape[0] !== channels) throw new RangeError(`${op}: bias must have shape [${channels}], got ${fmtShape(bias.shape)}`);
  return add(y, reshape(bias, [channels, ...y.shape.slice(2).map(() => 1)]));
}

/**
 * 1-D convolution (cross-correlation, as PyTorch) of `[N, C, L]` input with weight
 * `[O, C/groups, K]` and optional `bias` `[O]`: conv2d on a unit height.
 */
export function conv1d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv1dOptions = {}): Tensor {
  const op = 'conv1d';
  if (x.ndim !== 3) throw new RangeError(`${op}: input must be 3-D [N, C, L], got shape ${fmtShape(x.shape)}`);
  if (weight.ndim !== 3) throw new RangeError(`${op}: weight must be 3-D [out, in/groups, k], got shape ${fmtShape(weight.shape)}`);
  const s = single(opts.stride, 1, 'stride', op, 1);
  const p = single(opts.padding, 0, 'padding', op, 0);
  const d = single(opts.dilation, 1, 'dilation', op, 1);
  sameBackend(op, x, weight);
  sameDtype(op, x, weight);
  requireFloat(op, x);
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`${op}: groups must be a positive integer, got ${groups}`);
  const [c, len] = [x.shape[1]!, x.shape[2]!];
  const [o, cg, k] = weight.shape as [number, number, number];
  if (c % groups !== 0 || o % groups !== 0) throw new RangeError(`${op}: in channels ${c} and out channels ${o} must both divide by groups ${groups}`);
  if (cg * groups !== c) throw new RangeError(`${op}: weight ${fmtShape(weight.shape)} expects ${cg * groups} input channels (${cg} per group x ${groups} groups), but the input ${fmtShape(x.shape)} has ${c}`);
  outSize(op, len, k, s, p, d, 'length');
  const y = conv2d(unsqueeze(x, 2), unsqueeze(weight, 2), null, { stride: [1, s], padding: [0, p], dilation: [1, d], groups: opts.groups });
  return addBias(op, squeeze(y, 2), bias, weight.shape[0]!);
}

function triple(v: IntTriple | undefined, dflt: number, name: string, op: string, min: number): [number, number, number] {
  const t: [number, number, number] = v === undefined ? [dflt, dflt, dflt] : typeof v === 'number' ? [v, v, v] : v.length === 3 ? [v[0], v[1], v[2]] : [NaN, NaN, NaN];
  if (!t.every((n) => Number.isInteger(n) && n >= min)) throw new RangeError(`${op}: ${name} must be an integer or three integers >= ${min}, got ${JSON.stringify(v)}`);
  return t;
}

/**
 * 3-D convolution of `[N, C, D, H, W]` input with weight `[O, C/groups, KD, KH, KW]` and
 * optional `bias` `[O]`. The KD depth taps of every output depth are gathered as channels
 * (a strided view of the depth-padded input, copied once: KD times the input's size), so
 * the whole op is one grouped conv2d with weight `[O, KD*C/groups, KH, KW]`.
 */
export function conv3d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: Conv3dOptions = {}): Tensor {
  const op = 'conv3d';
  sameBackend(op, x, weight);
  sameDtype(op, x, weight);
  requireFloat(op, x);
  if (x.ndim !== 5) throw new RangeError(`${op}: input must be 5-D [N, C, D, H, W], got shape ${fmtShape(x.shape)}`);
  if (weight.ndim !== 5) throw new RangeError(`${op}: weight must be 5-D [out, in/groups, kD, kH, kW], got shape ${fmtShape(weight.shape)}`);
  const s = triple(opts.stride, 1, 'stride', op, 1);
  const p = triple(opts.padding, 0, 'padding', op, 0);
  const d = triple(opts.dilation, 1, 'dilation', op, 1);
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`${op}: groups must be a positive integer, got ${groups}`);
  const [n, c, depth, h, w] = x.shape as [number, number, number, number, number];
  const [o, cg, kd, kh, kw] = weight.shape as [number, number, number, number, number];
  if (c % groups !== 0 || o % groups !== 0) throw new RangeError(`${op}: in channels ${c} and out channels ${o} must both divide by groups ${groups}`);
  if (cg * groups !== c) throw new RangeError(`${op}: weight ${fmtShape(weight.shape)} expects ${cg * groups} input channels (${cg} per group x ${groups} groups), but the input ${fmtShape(x.shape)} has ${c}`);
  const dp = depth + 2 * p[0];
  const od = Math.floor((dp - d[0] * (kd - 1) - 1) / s[0]) + 1;
  if (od <= 0) throw new RangeError(`${op}: input depth ${depth} (padded to ${dp}) is smaller than the ${d[0] > 1 ? 'dilated ' : ''}kernel ${d[0] * (kd - 1) + 1}`);
  const xp = p[0] ? pad(x, [0, 0, 0, 0, p[0], p[0]]) : x;
  // [N, OD, G, KD, Cg, H, W] view: input depth od*s + kd*d of channel g*Cg + cg.
  const [sn, sc, sd] = contiguousStrides(xp.shape) as [number, number, number];
  const taps = asStrided(xp, [n, od, groups, kd, cg, h, w], [sn, s[0] * sd, cg * sc, d[0] * sd, sc, w, 1], 0);
  const x2 = reshape(taps, [n * od, groups * kd * cg, h, w]);
  const w2 = reshape(permute(weight, [0, 2, 1, 3, 4]), [o, kd * cg, kh, kw]);
  const y2 = conv2d(x2, w2, null, { stride: [s[1], s[2]], padding: [p[1], p[2]], dilation: [d[1], d[2]], groups });
  const [, , oh, ow] = y2.shape as [number, number, number, number];
  const y = permute(reshape(y2, [n, od, o, oh, ow]), [0, 2, 1, 3, 4]);
  return addBias(op, y, bias, o);
}

/**
 * Transposed 2-D convolution ("deconvolution") of `[N, Cin, H, W]` input with weight
 * `[Cin, Cout/groups, KH, KW]` (PyTorch's layout) and optional `bias` `[Cout]`: the
 * gradient of conv2d for its input, with output size
 * `(H - 1) * stride - 2 * padding + dilation * (KH - 1) + outputPadding + 1`.
 * Its gradients are conv2d (input) and conv2d's weight gradient (weight).
 */
export function convTranspose2d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: ConvTranspose2dOptions = {}): Tensor {
  const op = 'convTranspose2d';
  sameBackend(op, x, weight);
  sameDtype(op, x, weight);
  requireFloat(op, x);
  if (x.ndim !== 4) throw new RangeError(`${op}: input must be 4-D NCHW, got shape ${fmtShape(x.shape)}`);
  if (weight.ndim !== 4) throw new RangeError(`${op}: weight must be 4-D [in, out/groups, kH, kW], got shape ${fmtShape(weight.shape)}`);
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new RangeError(`${op}: groups must be a positive integer, got ${groups}`);
  const [n, cin, h, w] = x.shape as [number, number, number, number];
  const [wi, cog, kh, kw] = weight.shape as [number, number, number, number];
  if (wi !== cin) throw new RangeError(`${op}: weight ${fmtShape(weight.shape)} expects ${wi} input channels (dimension 0), but the input ${fmtShape(x.shape)} has ${cin}`);
  if (cin % groups !== 0) throw new RangeError(`${op}: in channels ${cin} must divide by groups ${groups}`);
  const stride = pair(opts.stride, 1, 'stride', op, 1);
  const padding = pair(opts.padding, 0, 'padding', op, 0);
  const dilation = pair(opts.dilation, 1, 'dilation', op, 1);
  const outPad = pair(opts.outputPadding, 0, 'outputPadding', op, 0);
  for (const i of [0, 1]) {
    if (outPad[i]! >= stride[i]! && outPad[i]! >= dilation[i]!) {
      throw new RangeError(`${op}: outputPadding ${fmtShape(outPad)} must be smaller than either stride ${fmtShape(stride)} or dilation ${fmtShape(dilation)}`);
    }
  }
  const size = (len: number, i: 0 | 1, k: number) => (len - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k - 1) + outPad[i] + 1;
  const oh = size(h, 0, kh);
  const ow = size(w, 1, kw);
  if (oh <= 0 || ow <= 0) throw new RangeError(`${op}: output size ${fmtShape([oh, ow])} is not positive for input ${fmtShape(x.shape)}, kernel ${fmtShape([kh, kw])} and padding ${fmtShape(padding)}`);
  const cout = cog * groups;
  const p: Conv2dParams = { stride, padding, dilation, groups };
  // An output padding of at least the stride (allowed below the dilation) gives conv2d's
  // geometry floor(outputPadding / stride) more windows than the input has rows: add them
  // as zero rows, so every backend's kernel sees a consistent conv2d.
  const extra = [Math.floor(outPad[0] / stride[0]), Math.floor(outPad[1] / stride[1])] as const;
  const xe = extra[0] || extra[1] ? pad(x, [0, extra[1], 0, extra[0]]) : x;
  const y = conv2dInputGradient(xe, weight, [n, cout, oh, ow], p);
  return addBias(op, y, bias, cout);
}

/**
 * Transposed 1-D convolution of `[N, Cin, L]` input with weight `[Cin, Cout/groups, K]` and
 * optional `bias` `[Cout]`: {@link convTranspose2d} on a unit height.
 */
export function convTranspose1d(x: Tensor, weight: Tensor, bias: Tensor | null = null, opts: ConvTranspose1dOptions = {}): Tensor {
  const op = 'convTranspose1d';
  if (x.ndim !== 3) throw new RangeError(`${op}: input must be 3-D [N, C, L], got shape ${fmtShape(x.shape)}`);
  if (weight.ndim !== 3) throw new RangeError(`${op}: weight must be 3-D [in, out/groups, k], got shape ${fmtShape(weight.shape)}`);
  const s = single(opts.stride, 1, 'stride', op, 1);
  const p = single(opts.padding, 0, 'padding', op, 0);
  const op1 = single(opts.outputPadding, 0, 'outputPadding', op, 0);
  const d = single(opts.dilation, 1, 'dilation', op, 1);
  if (op1 >= s && op1 >= d) throw new RangeError(`${op}: outputPadding ${op1} must be smaller than either stride ${s} or dilation ${d}`);
  const y = convTranspose2d(unsqueeze(x, 2), unsqueeze(weight, 2), null, { stride: [1, s], padding: [0, p], outputPadding: [0, op1], dilation: [1, d], groups: opts.groups });
  return addBias(op, squeeze(y, 2), bias, y.shape[1]!);
}
