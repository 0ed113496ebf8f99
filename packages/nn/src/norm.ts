/**
 * Batch and instance normalization layers with PyTorch's names, buffers and running
 * statistics: `BatchNorm1d`, `BatchNorm2d`, `InstanceNorm2d`. Thin modules over core's
 * `batchNorm` and `instanceNorm`, which normalize and update the running statistics in
 * tensor ops on the tensors' backend (no read-back, so it works on WebGPU too).
 */
import { batchNorm, instanceNorm, noGrad, ones, zeros, type Tensor } from '@tsgrad/core';
import { affineParameters, fmt, positiveInt } from './layer-utils.js';
import { Module } from './module.js';

/** Options of the batch-norm layers (PyTorch's names and defaults). */
export interface BatchNormOptions {
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
  /** Weight of the new batch in the running statistics (default 0.1); null: cumulative average. */
  readonly momentum?: number | null;
  /** Learnable `weight` and `bias` (default true). */
  readonly affine?: boolean;
  /** Keep running statistics for evaluation (default true). */
  readonly trackRunningStats?: boolean;
}

/** Options of {@link InstanceNorm2d} (PyTorch's names and defaults). */
export interface InstanceNormOptions {
  /** Added to the variance (default 1e-5). */
  readonly eps?: number;
  /** Weight of the new batch in the running statistics (default 0.1); null: cumulative average. */
  readonly momentum?: number | null;
  /** Learnable per-channel `weight` and `bias` (default false, as PyTorch). */
  readonly affine?: boolean;
  /** Keep running statistics and use them in evaluation (default false, as PyTorch). */
  readonly trackRunningStats?: boolean;
}

/**
 * What the batch- and instance-norm layers share (PyTorch's `_NormBase`): per-channel
 * `weight` / `bias`, and the `running_mean` / `running_var` / `num_batches_tracked` buffers.
 */
abstract class NormBase extends Module {
  /** Scale `[C]`, or null. */
  declare readonly weight: Tensor | null;
  /** Shift `[C]`, or null. */
  declare readonly bias: Tensor | null;
  /** Running mean `[C]` (buffer), or null. */
  declare readonly running_mean: Tensor | null;
  /** Running variance `[C]` (buffer), or null. */
  declare readonly running_var: Tensor | null;
  /** Batches seen in training (int32 scalar buffer), or null. */
  declare readonly num_batches_tracked: Tensor | null;
  /** Added to the variance. */
  readonly eps: number;
  /** Running-statistics momentum (null: cumulative average). */
  readonly momentum: number | null;

  /** Weight 1, bias 0, running mean 0, running var 1; `affine` and `track` are the layer's defaults. */
  constructor(
    /** Channels. */
    readonly numFeatures: number,
    opts: BatchNormOptions,
    layer: string,
    affine: boolean,
    track: boolean,
  ) {
    super();
    positiveInt(numFeatures, 'numFeatures', layer);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    affineParameters(this, [numFeatures], opts.affine ?? affine);
    const tracking = opts.trackRunningStats ?? track;
    this.registerBuffer('running_mean', tracking ? zeros([numFeatures]) : null);
    this.registerBuffer('running_var', tracking ? ones([numFeatures]) : null);
    this.registerBuffer('num_batches_tracked', tracking ? zeros([], { dtype: 'int32' }) : null);
  }
}

/** What the batch-norm layers share; a subclass says which input ranks it takes. */
abstract class BatchNormBase extends NormBase {
  /** Weight 1, bias 0, running mean 0, running var 1. */
  constructor(numFeatures: number, opts: BatchNormOptions, layer: string) {
    super(numFeatures, opts, layer, true, true);
  }

  /** Throws unless `x` has a rank this layer takes, with C at dim 1. */
  protected abstract checkInput(x: Tensor): void;

  override forward(x: Tensor): Tensor {
    this.checkInput(x);
    // As PyTorch's _BatchNorm: batch statistics in training or without running ones; in
    // training the count goes up first, and a null momentum is the cumulative 1 / count.
    const nbt = this.training ? this.num_batches_tracked : null;
    if (nbt) {
      noGrad(() => {
        const n = nbt.add(1);
        nbt.assign(n);
        n.dispose();
      });
    }
    const momentum = nbt && this.momentum === null ? noGrad(() => nbt.cast(this.running_mean?.dtype ?? x.dtype).reciprocal()) : (this.momentum ?? 0);
    const y = batchNorm(x, this.running_mean, this.running_var, this.weight, this.bias, {
      training: this.training || !this.running_mean,
      momentum,
      eps: this.eps,
    });
    if (typeof momentum !== 'number') momentum.dispose();
    return y;
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}`;
  }
}

/**
 * Batch normalization over `[N, C]` or `[N, C, L]` input (statistics over N, or N and L),
 * as `torch.nn.BatchNorm1d`: batch statistics (biased variance) in training, updating
 * `running_mean` / `running_var` (unbiased variance) and `num_batches_tracked`; running
 * statistics in evaluation.
 */
export class BatchNorm1d extends BatchNormBase {
  /** Weight 1, bias 0, running mean 0, running var 1. */
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super(numFeatures, opts, 'BatchNorm1d');
  }
  protected override checkInput(x: Tensor): void {
    if ((x.ndim !== 2 && x.ndim !== 3) || x.shape[1] !== this.numFeatures) {
      throw new RangeError(`BatchNorm1d: expected input [N, ${this.numFeatures}] or [N, ${this.numFeatures}, L], got ${fmt(x.shape)}`);
    }
  }
}

/**
 * Batch normalization over NCHW input: in training, normalizes with the batch's mean and
 * biased variance over (N, H, W) and updates `running_mean` / `running_var` (with the
 * unbiased variance) and `num_batches_tracked`; in evaluation, uses the running statistics.
 */
export class BatchNorm2d extends BatchNormBase {
  /** Weight 1, bias 0, running mean 0, running var 1. */
  constructor(numFeatures: number, opts: BatchNormOptions = {}) {
    super(numFeatures, opts, 'BatchNorm2d');
  }
  protected override checkInput(x: Tensor): void {
    if (x.ndim !== 4 || x.shape[1] !== this.numFeatures) throw new RangeError(`BatchNorm2d: expected input [N, ${this.numFeatures}, H, W], got ${fmt(x.shape)}`);
  }
}

/**
 * Instance normalization over `[N, C, H, W]` (or unbatched `[C, H, W]`): each sample's
 * channel normalized over its H·W values, as `torch.nn.InstanceNorm2d`. With
 * `trackRunningStats`, training also updates running statistics (the batch average of the
 * per-instance mean and unbiased variance), which evaluation then uses.
 */
export class InstanceNorm2d extends NormBase {
  /** No parameters and no running statistics by default, as PyTorch. */
  constructor(numFeatures: number, opts: InstanceNormOptions = {}) {
    super(numFeatures, opts, 'InstanceNorm2d', false, false);
  }

  override forward(x: Tensor): Tensor {
    const unbatched = x.ndim === 3;
    if ((x.ndim !== 4 && !unbatched) || x.shape[x.ndim - 3] !== this.numFeatures) {
      throw new RangeError(`InstanceNorm2d: expected input [N, ${this.numFeatures}, H, W] or [${this.numFeatures}, H, W], got ${fmt(x.shape)}`);
    }
    // As PyTorch's _InstanceNorm: num_batches_tracked is not counted, and a null momentum is 0 (no update).
    const y = instanceNorm(unbatched ? x.unsqueeze(0) : x, this.running_mean, this.running_var, this.weight, this.bias, {
      useInputStats: this.training || !this.running_mean,
      momentum: this.momentum ?? 0,
      eps: this.eps,
    });
    return unbatched ? y.squeeze(0) : y;
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.weight !== null}, trackRunningStats=${this.running_mean !== null}`;
  }
}
