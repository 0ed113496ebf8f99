/**
 * Layers with PyTorch's names, parameter names, shapes and default initialisation.
 */
import {
  adaptiveAvgPool2d,
  avgPool2d,
  conv2d,
  defaultGenerator,
  dropout,
  gelu,
  groupNorm,
  layerNorm,
  linear,
  maxPool2d,
  rand,
  relu,
  standardize,
  type Generator,
  type IntPair,
  type Tensor,
} from '@tsgrad/core';
import { affineParameters, convSettings, fmt, linearLikeParameters, positiveInt } from './layer-utils.js';
import { Module } from './module.js';

/** Options for layers that create random parameters. */
export interface LayerInitOptions {
  /** Generator for the default initialisation (default: core's default generator). */
  readonly generator?: Generator;
}


/** Options of {@link Linear}. */
export interface LinearOptions extends LayerInitOptions {
  /** Add a learnable bias (default true). */
  readonly bias?: boolean;
}

/** `y = x W^T + b` over the last dimension: weight `[out, in]`, bias `[out]`. */
export class Linear extends Module {
  /** Weight `[outFeatures, inFeatures]`. */
  declare readonly weight: Tensor;
  /** Bias `[outFeatures]`, or null. */
  declare readonly bias: Tensor | null;

  /** PyTorch's default init: kaiming_uniform(a=√5) weight, uniform(±1/√in) bias. */
  constructor(
    /** Size of the last input dimension. */
    readonly inFeatures: number,
    /** Size of the last output dimension. */
    readonly outFeatures: number,
    opts: LinearOptions = {},
  ) {
    super();
    positiveInt(inFeatures, 'inFeatures', 'Linear');
    positiveInt(outFeatures, 'outFeatures', 'Linear');
    linearLikeParameters(this, [outFeatures, inFeatures], outFeatures, opts.bias ?? true, opts.generator ?? defaultGenerator);
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim < 1 || x.shape[x.ndim - 1] !== this.inFeatures) {
      throw new RangeError(`Linear: expected input [..., ${this.inFeatures}], got ${fmt(x.shape)}`);
    }
    // One op (the bias added as the GEMM stores its result, where the backend can).
    return linear(x, this.weight, this.bias);
  }

  override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/** Options of {@link Conv2d} (PyTorch's names and defaults). */
export interface Conv2dLayerOptions extends LayerInitOptions {
  /** Step of the window (default 1). */
  readonly stride?: IntPair;
  /** Zero padding on each side (default 0). */
  readonly padding?: IntPair;
  /** Spacing of kernel taps (default 1). */
  readonly dilation?: IntPair;
  /** Channel groups (default 1; `groups = inChannels` is depthwise). */
  readonly groups?: number;
  /** Add a learnable bias (default true). */
  readonly bias?: boolean;
}


/** 2-D convolution over NCHW input: weight `[out, in/groups, kH, kW]`, bias `[out]`. */
export class Conv2d extends Module {
  /** Weight `[outChannels, inChannels/groups, kH, kW]`. */
  declare readonly weight: Tensor;
  /** Bias `[outChannels]`, or null. */
  declare readonly bias: Tensor | null;
  /** Kernel height and width. */
  readonly kernelSize: [number, number];
  /** Stride. */
  readonly stride: [number, number];
  /** Padding. */
  readonly padding: [number, number];
  /** Dilation. */
  readonly dilation: [number, number];
  /** Groups. */
  readonly groups: number;

  /** PyTorch's default init: kaiming_uniform(a=√5) weight, uniform(±1/√fanIn) bias. */
  constructor(
    /** Input channels. */
    readonly inChannels: number,
    /** Output channels. */
    readonly outChannels: number,
    kernelSize: IntPair,
    opts: Conv2dLayerOptions = {},
  ) {
    super();
    const s = convSettings('Conv2d', 2, inChannels, outChannels, kernelSize, opts);
    this.kernelSize = s.kernelSize as [number, number];
    this.stride = s.stride as [number, number];
    this.padding = s.padding as [number, number];
    this.dilation = s.dilation as [number, number];
    this.groups = s.groups;
    linearLikeParameters(this, [outChannels, inChannels / this.groups, ...this.kernelSize], outChannels, opts.bias ?? true, opts.generator ?? defaultGenerator);
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim !== 4 || x.shape[1] !== this.inChannels) {
      throw new RangeError(`Conv2d: expected input [N, ${this.inChannels}, H, W], got ${fmt(x.shape)}`);
    }
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }

  override extraRepr(): string {
    return `${this.inChannels}, ${this.outChannels}, kernelSize=${fmt(this.kernelSize)}, stride=${fmt(this.stride)}, padding=${fmt(this.padding)}, groups=${this.groups}`;
  }
}

/** Options of the LayerNorm layers. */
export interface LayerNormOptions {
  /** Added to the variance (default 1e-5, as PyTorch; ConvNeXt uses 1e-6). */
  readonly eps?: number;
  /** Learnable `weight` (init 1) and `bias` (init 0) (default true). */
  readonly elementwiseAffine?: boolean;
}

/** Layer normalization over the trailing dims `normalizedShape` (channels-last). */
export class LayerNorm extends Module {
  /** Scale of shape `normalizedShape`, or null. */
  declare readonly weight: Tensor | null;
  /** Shift of shape `normalizedShape`, or null. */
  declare readonly bias: Tensor | null;
  /** The trailing dims normalized over. */
  readonly normalizedShape: number[];
  /** Added to the variance. */
  readonly eps: number;

  /** Weight 1, bias 0. */
  constructor(normalizedShape: number | readonly number[], opts: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = opts.eps ?? 1e-5;
    affineParameters(this, this.normalizedShape, opts.elementwiseAffine ?? true);
  }

  override forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${fmt(this.normalizedShape)}, eps=${this.eps}`;
  }
}

/**
 * Channels-first layer normalization for NCHW input: at every (n, h, w), statistics over
 * the C channels only (not over C, H, W; not GroupNorm(1, C)), then a per-channel affine.
 * ConvNeXt's `LayerNorm(..., data_format="channels_first")`, timm's `LayerNorm2d`.
 */
export class LayerNorm2d extends Module {
  /** Scale `[C]`, or null. */
  declare readonly weight: Tensor | null;
  /** Shift `[C]`, or null. */
  declare readonly bias: Tensor | null;
  /** Added to the variance. */
  readonly eps: number;

  /** Weight 1, bias 0. */
  constructor(
    /** Channels. */
    readonly numChannels: number,
    opts: LayerNormOptions = {},
  ) {
    super();
    positiveInt(numChannels, 'numChannels', 'LayerNorm2d');
    this.eps = opts.eps ?? 1e-5;
    affineParameters(this, [numChannels], opts.elementwiseAffine ?? true);
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) {
      throw new RangeError(`LayerNorm2d: expected input [N, ${this.numChannels}, ...], got ${fmt(x.shape)}`);
    }
    const bshape = [this.numChannels, ...x.shape.slice(2).map(() => 1)];
    let y = standardize(x, 1, this.eps);
    if (this.weight) y = y.mul(this.weight.reshape(bshape));
    if (this.bias) y = y.add(this.bias.reshape(bshape));
    return y;
  }

  override extraRepr(): string {
    return `${this.numChannels}, eps=${this.eps}`;
  }
}

/** Options of {@link GroupNorm}. */
export interface GroupNormOptions {
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
  /** Learnable per-channel `weight` and `bias` (default true). */
  readonly affine?: boolean;
}

/** Group normalization over `[N, C, ...]`: statistics per sample over each group of C/G channels and all positions. */
export class GroupNorm extends Module {
  /** Scale `[C]`, or null. */
  declare readonly weight: Tensor | null;
  /** Shift `[C]`, or null. */
  declare readonly bias: Tensor | null;
  /** Added to the variance. */
  readonly eps: number;

  /** Weight 1, bias 0. */
  constructor(
    /** Groups (must divide the channels). */
    readonly numGroups: number,
    /** Channels. */
    readonly numChannels: number,
    opts: GroupNormOptions = {},
  ) {
    super();
    positiveInt(numGroups, 'numGroups', 'GroupNorm');
    positiveInt(numChannels, 'numChannels', 'GroupNorm');
    if (numChannels % numGroups) throw new RangeError(`GroupNorm: numChannels ${numChannels} must divide by numGroups ${numGroups}`);
    this.eps = opts.eps ?? 1e-5;
    affineParameters(this, [numChannels], opts.affine ?? true);
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim < 2 || x.shape[1] !== this.numChannels) throw new RangeError(`GroupNorm: expected input [N, ${this.numChannels}, ...], got ${fmt(x.shape)}`);
    return groupNorm(x, this.numGroups, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${this.numGroups}, ${this.numChannels}, eps=${this.eps}`;
  }
}

/** GELU activation, exact erf form by default (`approximate: 'tanh'` for the approximation). */
export class GELU extends Module {
  /** `'none'` (exact) or `'tanh'`. */
  constructor(readonly approximate: 'none' | 'tanh' = 'none') {
    super();
  }
  override forward(x: Tensor): Tensor {
    return gelu(x, this.approximate);
  }
}

/** `max(x, 0)`. */
export class ReLU extends Module {
  override forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** Returns its input. */
export class Identity extends Module {
  override forward(x: Tensor): Tensor {
    return x;
  }
}

/** Flattens dims `startDim..endDim` (default 1..-1, keeping the batch dim). */
export class Flatten extends Module {
  /** The range of dims to merge. */
  constructor(
    readonly startDim = 1,
    readonly endDim = -1,
  ) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }
}

/** Options of {@link Dropout} and {@link DropPath}. */
export interface DropoutLayerOptions {
  /** Generator for the masks (default: core's default generator). */
  readonly generator?: Generator;
}

/** In training, zeroes each element with probability `p` and scales the rest by `1/(1-p)`; identity in eval. */
export class Dropout extends Module {
  private readonly generator: Generator | undefined;
  /** Drop probability in [0, 1]. */
  constructor(
    readonly p = 0.5,
    opts: DropoutLayerOptions = {},
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Dropout: p must be in [0, 1], got ${p}`);
    this.generator = opts.generator;
  }
  override forward(x: Tensor): Tensor {
    return dropout(x, this.p, { training: this.training, ...(this.generator ? { generator: this.generator } : {}) });
  }
  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** Options of {@link dropPath}. */
export interface DropPathOptions extends DropoutLayerOptions {
  /** Apply it (default true); false returns the input. */
  readonly training?: boolean;
  /** Divide kept samples by the keep probability (default true). */
  readonly scaleByKeep?: boolean;
}

/**
 * Stochastic depth on a residual branch: each sample's whole branch is kept with
 * probability `1 - p` (one Bernoulli draw per sample, from the generator) and, when kept,
 * divided by `1 - p`. Identity when not training or `p = 0`.
 */
export function dropPath(x: Tensor, p: number, opts: DropPathOptions = {}): Tensor {
  if (!(p >= 0 && p <= 1)) throw new RangeError(`dropPath: p must be in [0, 1], got ${p}`);
  if (opts.training === false || p === 0) return x;
  const keepProb = 1 - p;
  const shape = [x.shape[0]!, ...x.shape.slice(1).map(() => 1)];
  const u = rand(shape, { dtype: x.dtype, backend: x.backend, generator: opts.generator ?? defaultGenerator });
  let mask = u.lt(keepProb).cast(x.dtype);
  if (keepProb > 0 && (opts.scaleByKeep ?? true)) mask = mask.div(keepProb);
  return x.mul(mask);
}

/** Stochastic depth as a layer (see {@link dropPath}); identity in eval mode. */
export class DropPath extends Module {
  private readonly generator: Generator | undefined;
  /** Divide kept samples by the keep probability. */
  readonly scaleByKeep: boolean;
  /** Drop probability `p` of a sample's branch. */
  constructor(
    readonly p = 0,
    opts: DropoutLayerOptions & { readonly scaleByKeep?: boolean } = {},
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`DropPath: p must be in [0, 1], got ${p}`);
    this.generator = opts.generator;
    this.scaleByKeep = opts.scaleByKeep ?? true;
  }
  override forward(x: Tensor): Tensor {
    return dropPath(x, this.p, { training: this.training, scaleByKeep: this.scaleByKeep, ...(this.generator ? { generator: this.generator } : {}) });
  }
  override extraRepr(): string {
    return `p=${this.p}`;
  }
}

/** Options of the pooling layers (PyTorch's names and defaults). */
export interface PoolLayerOptions {
  /** Step of the window (default: the kernel size). */
  readonly stride?: IntPair;
  /** Padding on each side (default 0). */
  readonly padding?: IntPair;
  /** Average pooling: count padding in the divisor (default true). */
  readonly countIncludePad?: boolean;
}

/** Average pooling over NCHW input. */
export class AvgPool2d extends Module {
  /** Window size and options. */
  constructor(
    readonly kernelSize: IntPair,
    readonly opts: PoolLayerOptions = {},
  ) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.opts);
  }
}

/** Max pooling over NCHW input. */
export class MaxPool2d extends Module {
  /** Window size and options. */
  constructor(
    readonly kernelSize: IntPair,
    readonly opts: Omit<PoolLayerOptions, 'countIncludePad'> = {},
  ) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.opts);
  }
}

/** Adaptive average pooling of NCHW input to `outputSize`. */
export class AdaptiveAvgPool2d extends Module {
  /** Target `[OH, OW]` (one number for both). */
  constructor(readonly outputSize: IntPair) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return adaptiveAvgPool2d(x, this.outputSize);
  }
}
