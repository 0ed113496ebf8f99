/**
 * `Conv1d` and `ConvTranspose2d` with PyTorch's parameter names, shapes and default
 * initialisation. Both are composed from core's `conv2d`: Conv1d as a conv over a height-1
 * image; ConvTranspose2d as the conv of the zero-stuffed, padded input with the flipped,
 * transposed weight (the gradient of conv2d with respect to its input), so their gradients
 * come from conv2d's and they run on every backend.
 */
import { conv2d, defaultGenerator, zeros, type IntPair, type Tensor } from '@tsgrad/core';
import { fmt, pairOf, positiveInt, resetLinearLike } from './layer-utils.js';
import type { LayerInitOptions } from './layers.js';
import { Module } from './module.js';

/** Options of {@link Conv1d} (PyTorch's names and defaults). */
export interface Conv1dLayerOptions extends LayerInitOptions {
  /** Step of the window (default 1). */
  readonly stride?: number;
  /** Zero padding on each side (default 0). */
  readonly padding?: number;
  /** Spacing of kernel taps (default 1). */
  readonly dilation?: number;
  /** Channel groups (default 1). */
  readonly groups?: number;
  /** Add a learnable bias (default true). */
  readonly bias?: boolean;
}

/** 1-D convolution over `[N, C, L]` (or unbatched `[C, L]`) input: weight `[out, in/groups, k]`, bias `[out]`. */
export class Conv1d extends Module {
  /** Weight `[outChannels, inChannels/groups, kernelSize]`. */
  declare readonly weight: Tensor;
  /** Bias `[outChannels]`, or null. */
  declare readonly bias: Tensor | null;
  /** Step. */
  readonly stride: number;
  /** Padding on each side. */
  readonly padding: number;
  /** Dilation. */
  readonly dilation: number;
  /** Groups. */
  readonly groups: number;

  /** PyTorch's default init: kaiming_uniform(a=√5) weight, uniform(±1/√fanIn) bias. */
  constructor(
    /** Input channels. */
    readonly inChannels: number,
    /** Output channels. */
    readonly outChannels: number,
    /** Kernel length. */
    readonly kernelSize: number,
    opts: Conv1dLayerOptions = {},
  ) {
    super();
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    this.groups = opts.groups ?? 1;
    for (const [v, what] of [[inChannels, 'inChannels'], [outChannels, 'outChannels'], [kernelSize, 'kernelSize'], [this.stride, 'stride'], [this.dilation, 'dilation'], [this.groups, 'groups']] as const) {
      positiveInt(v, what, 'Conv1d');
    }
    if (!Number.isInteger(this.padding) || this.padding < 0) throw new RangeError(`Conv1d: padding must be a non-negative integer, got ${this.padding}`);
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new RangeError(`Conv1d: inChannels ${inChannels} and outChannels ${outChannels} must both divide by groups ${this.groups}`);
    }
    this.registerParameter('weight', zeros([outChannels, inChannels / this.groups, kernelSize]));
    this.registerParameter('bias', (opts.bias ?? true) ? zeros([outChannels]) : null);
    resetLinearLike(this.weight, this.bias, opts.generator ?? defaultGenerator);
  }

  override forward(x: Tensor): Tensor {
    const unbatched = x.ndim === 2;
    if ((x.ndim !== 3 && !unbatched) || x.shape[x.ndim - 2] !== this.inChannels) {
      throw new RangeError(`Conv1d: expected input [N, ${this.inChannels}, L] or [${this.inChannels}, L], got ${fmt(x.shape)}`);
    }
    const x4 = (unbatched ? x.unsqueeze(0) : x).unsqueeze(2);
    const y = conv2d(x4, this.weight.unsqueeze(2), this.bias, {
      stride: [1, this.stride],
      padding: [0, this.padding],
      dilation: [1, this.dilation],
      groups: this.groups,
    }).squeeze(2);
    return unbatched ? y.squeeze(0) : y;
  }

  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=${this.kernelSize}, stride=${this.stride}, padding=${this.padding}, groups=${this.groups}`;
  }
}

/** Options of {@link ConvTranspose2d} (PyTorch's names and defaults). */
export interface ConvTranspose2dLayerOptions extends LayerInitOptions {
  /** Step of the (forward) window: the upsampling factor (default 1). */
  readonly stride?: IntPair;
  /** Rows/columns removed from each side of the full output (default 0). */
  readonly padding?: IntPair;
  /** Extra rows/columns added at the bottom/right (default 0; smaller than stride or dilation). */
  readonly outputPadding?: IntPair;
  /** Spacing of kernel taps (default 1). */
  readonly dilation?: IntPair;
  /** Channel groups (default 1). */
  readonly groups?: number;
  /** Add a learnable bias (default true). */
  readonly bias?: boolean;
}

/**
 * Transposed 2-D convolution ("deconvolution") over NCHW input: weight
 * `[in, out/groups, kH, kW]` (PyTorch's layout), bias `[out]`. Output side
 * `(H - 1)·stride - 2·padding + dilation·(k - 1) + outputPadding + 1`.
 */
export class ConvTranspose2d extends Module {
  /** Weight `[inChannels, outChannels/groups, kH, kW]`. */
  declare readonly weight: Tensor;
  /** Bias `[outChannels]`, or null. */
  declare readonly bias: Tensor | null;
  /** Kernel height and width. */
  readonly kernelSize: [number, number];
  /** Stride. */
  readonly stride: [number, number];
  /** Padding. */
  readonly padding: [number, number];
  /** Output padding. */
  readonly outputPadding: [number, number];
  /** Dilation. */
  readonly dilation: [number, number];
  /** Groups. */
  readonly groups: number;

  /** PyTorch's default init (fan-in from `weight.shape[1]·kH·kW`, as PyTorch computes it). */
  constructor(
    /** Input channels. */
    readonly inChannels: number,
    /** Output channels. */
    readonly outChannels: number,
    kernelSize: IntPair,
    opts: ConvTranspose2dLayerOptions = {},
  ) {
    super();
    this.kernelSize = pairOf(kernelSize);
    this.stride = pairOf(opts.stride ?? 1);
    this.padding = pairOf(opts.padding ?? 0);
    this.outputPadding = pairOf(opts.outputPadding ?? 0);
    this.dilation = pairOf(opts.dilation ?? 1);
    this.groups = opts.groups ?? 1;
    const L = 'ConvTranspose2d';
    positiveInt(inChannels, 'inChannels', L);
    positiveInt(outChannels, 'outChannels', L);
    positiveInt(this.groups, 'groups', L);
    for (const k of this.kernelSize) positiveInt(k, 'kernelSize', L);
    for (const s of this.stride) positiveInt(s, 'stride', L);
    for (const d of this.dilation) positiveInt(d, 'dilation', L);
    for (const p of this.padding) if (!Number.isInteger(p) || p < 0) throw new RangeError(`${L}: padding must be non-negative integers, got ${fmt(this.padding)}`);
    for (let i = 0; i < 2; i++) {
      const op = this.outputPadding[i]!;
      if (!Number.isInteger(op) || op < 0 || (op >= this.stride[i]! && op >= this.dilation[i]!)) {
        throw new RangeError(`${L}: outputPadding ${fmt(this.outputPadding)} must be non-negative and smaller than either stride ${fmt(this.stride)} or dilation ${fmt(this.dilation)}`);
      }
    }
    if (inChannels % this.groups || outChannels % this.groups) {
      throw new RangeError(`${L}: inChannels ${inChannels} and outChannels ${outChannels} must both divide by groups ${this.groups}`);
    }
    this.registerParameter('weight', zeros([inChannels, outChannels / this.groups, ...this.kernelSize]));
    this.registerParameter('bias', (opts.bias ?? true) ? zeros([outChannels]) : null);
    resetLinearLike(this.weight, this.bias, opts.generator ?? defaultGenerator);
  }

  /** The output height and width for an input of `h` x `w`. */
  outputSize(h: number, w: number): [number, number] {
    const side = (n: number, i: number) => (n - 1) * this.stride[i]! - 2 * this.padding[i]! + this.dilation[i]! * (this.kernelSize[i]! - 1) + this.outputPadding[i]! + 1;
    return [side(h, 0), side(w, 1)];
  }

  override forward(x: Tensor): Tensor {
    const unbatched = x.ndim === 3;
    if ((x.ndim !== 4 && !unbatched) || x.shape[x.ndim - 3] !== this.inChannels) {
      throw new RangeError(`ConvTranspose2d: expected input [N, ${this.inChannels}, H, W] or [${this.inChannels}, H, W], got ${fmt(x.shape)}`);
    }
    const xb = unbatched ? x.unsqueeze(0) : x;
    const [n, c, h, w] = xb.shape as [number, number, number, number];
    const [oh, ow] = this.outputSize(h, w);
    if (oh < 1 || ow < 1) throw new RangeError(`ConvTranspose2d: output would be ${oh}x${ow} for input ${fmt(x.shape)} (padding too large)`);
    const [sh, sw] = this.stride;
    // Zero-stuff: stride-1 zeros between input pixels.
    let z = xb;
    if (sh > 1 || sw > 1) {
      z = xb.reshape([n, c, h, 1, w, 1]).pad([0, sw - 1, 0, 0, 0, sh - 1]).reshape([n, c, h * sh, w * sw]);
      z = z.slice(2, 0, (h - 1) * sh + 1).slice(3, 0, (w - 1) * sw + 1);
    }
    // Pad by dilation·(k-1) - padding each side (crop where negative), outputPadding more at the end.
    const edge = [0, 1].map((i) => this.dilation[i]! * (this.kernelSize[i]! - 1) - this.padding[i]!) as [number, number];
    const [eh, ew] = edge;
    const [oph, opw] = this.outputPadding;
    z = z.pad([Math.max(ew, 0), Math.max(ew, 0) + opw, Math.max(eh, 0), Math.max(eh, 0) + oph]);
    if (eh < 0) z = z.slice(2, -eh, z.shape[2]! + eh);
    if (ew < 0) z = z.slice(3, -ew, z.shape[3]! + ew);
    // Weight [in, out/g, kh, kw] -> [out, in/g, kh, kw], flipped spatially.
    const g = this.groups;
    const [kh, kw] = this.kernelSize;
    const wt = this.weight
      .reshape([g, this.inChannels / g, this.outChannels / g, kh, kw])
      .permute(0, 2, 1, 3, 4)
      .reshape([this.outChannels, this.inChannels / g, kh, kw])
      .flip([2, 3]);
    const y = conv2d(z, wt, this.bias, { dilation: this.dilation, groups: g });
    return unbatched ? y.squeeze(0) : y;
  }

  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=${fmt(this.kernelSize)}, stride=${fmt(this.stride)}, padding=${fmt(this.padding)}, outputPadding=${fmt(this.outputPadding)}, groups=${this.groups}`;
  }
}
