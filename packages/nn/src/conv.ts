/**
 * `Conv1d` and `ConvTranspose2d` with PyTorch's parameter names, shapes and default
 * initialisation: thin modules over core's `conv1d` and `convTranspose2d` (which compute,
 * and whose gradients come from conv2d's), adding unbatched input as PyTorch's layers do.
 */
import { conv1d, convTranspose2d, defaultGenerator, type IntPair, type Tensor } from '@tsgrad/core';
import { convSettings, fmt, linearLikeParameters, pairOf } from './layer-utils.js';
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
    const s = convSettings('Conv1d', 1, inChannels, outChannels, kernelSize, opts);
    [this.stride, this.padding, this.dilation, this.groups] = [s.stride[0]!, s.padding[0]!, s.dilation[0]!, s.groups];
    linearLikeParameters(this, [outChannels, inChannels / this.groups, kernelSize], outChannels, opts.bias ?? true, opts.generator ?? defaultGenerator);
  }

  override forward(x: Tensor): Tensor {
    const unbatched = x.ndim === 2;
    if ((x.ndim !== 3 && !unbatched) || x.shape[x.ndim - 2] !== this.inChannels) {
      throw new RangeError(`Conv1d: expected input [N, ${this.inChannels}, L] or [${this.inChannels}, L], got ${fmt(x.shape)}`);
    }
    const y = conv1d(unbatched ? x.unsqueeze(0) : x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
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
    const s = convSettings('ConvTranspose2d', 2, inChannels, outChannels, kernelSize, opts);
    this.kernelSize = s.kernelSize as [number, number];
    this.stride = s.stride as [number, number];
    this.padding = s.padding as [number, number];
    this.dilation = s.dilation as [number, number];
    this.groups = s.groups;
    this.outputPadding = pairOf(opts.outputPadding ?? 0);
    for (let i = 0; i < 2; i++) {
      const op = this.outputPadding[i]!;
      if (!Number.isInteger(op) || op < 0 || (op >= this.stride[i]! && op >= this.dilation[i]!)) {
        throw new RangeError(`ConvTranspose2d: outputPadding ${fmt(this.outputPadding)} must be non-negative and smaller than either stride ${fmt(this.stride)} or dilation ${fmt(this.dilation)}`);
      }
    }
    linearLikeParameters(this, [inChannels, outChannels / this.groups, ...this.kernelSize], outChannels, opts.bias ?? true, opts.generator ?? defaultGenerator);
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
    const y = convTranspose2d(unbatched ? x.unsqueeze(0) : x, this.weight, this.bias, {
      stride: this.stride,
      padding: this.padding,
      outputPadding: this.outputPadding,
      dilation: this.dilation,
      groups: this.groups,
    });
    return unbatched ? y.squeeze(0) : y;
  }

  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=${fmt(this.kernelSize)}, stride=${fmt(this.stride)}, padding=${fmt(this.padding)}, outputPadding=${fmt(this.outputPadding)}, groups=${this.groups}`;
  }
}
