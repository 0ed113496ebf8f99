/**
 * Batch and instance normalization layers with PyTorch's names, buffers and running
 * statistics: `BatchNorm1d`, `BatchNorm2d`, `InstanceNorm2d`. The statistics update runs in
 * tensor ops on the tensors' backend (no read-back, so it works on WebGPU too).
 */
import { noGrad, ones, variance, zeros, type Tensor } from '@tsgrad/core';
import { fmt, positiveInt } from './layer-utils.js';
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

/**
 * Updates `num_batches_tracked` and the running mean and variance in place:
 * `r = (1 - m)·r + m·batch` with `m = momentum`, or `m = 1 / num_batches_tracked` (a
 * cumulative average) when momentum is null; the variance enters unbiased (`count` values).
 */
function updateRunningStats(rm: Tensor, rv: Tensor, nbt: Tensor | null, mean: Tensor, varBiased: Tensor, momentum: number | null, count: number): void {
  noGrad(() => {
    if (nbt) {
      const n = nbt.add(1);
      nbt.assign(n);
      n.dispose();
    }
    const unbiased = varBiased.detach().mul(count / Math.max(count - 1, 1));
    let m: Tensor | number;
    if (momentum !== null) m = momentum;
    else if (nbt) m = nbt.cast(rm.dtype).reciprocal();
    else m = 0;
    const newMean = rm.add(mean.detach().sub(rm).mul(m));
    const newVar = rv.add(unbiased.sub(rv).mul(m));
    rm.assign(newMean);
    rv.assign(newVar);
    for (const t of [unbiased, newMean, newVar]) t.dispose();
    if (typeof m !== 'number') m.dispose();
  });
}

/** What the batch-norm layers share; a subclass says which input ranks it takes. */
abstract class BatchNormBase extends Module {
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

  /** Weight 1, bias 0, running mean 0, running var 1. */
  constructor(
    /** Channels. */
    readonly numFeatures: number,
    opts: BatchNormOptions,
    layer: string,
  ) {
    super();
    positiveInt(numFeatures, 'numFeatures', layer);
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    const affine = opts.affine ?? true;
    const track = opts.trackRunningStats ?? true;
    this.registerParameter('weight', affine ? ones([numFeatures]) : null);
    this.registerParameter('bias', affine ? zeros([numFeatures]) : null);
    this.registerBuffer('running_mean', track ? zeros([numFeatures]) : null);
    this.registerBuffer('running_var', track ? ones([numFeatures]) : null);
    this.registerBuffer('num_batches_tracked', track ? zeros([], { dtype: 'int32' }) : null);
  }

  /** Throws unless `x` has a rank this layer takes, with C at dim 1. */
  protected abstract checkInput(x: Tensor): void;

  override forward(x: Tensor): Tensor {
    this.checkInput(x);
    const c = this.numFeatures;
    const dims = x.shape.map((_, i) => i).filter((i) => i !== 1);
    const useBatch = this.training || !this.running_mean;
    let mean: Tensor;
    let varc: Tensor;
    if (useBatch) {
      const count = x.size / c;
      if (this.training && count <= 1) throw new RangeError(`${this.constructor.name}: expected more than 1 value per channel when training, got input ${fmt(x.shape)}`);
      mean = x.mean(dims);
      varc = variance(x, dims, { correction: 0 });
      if (this.training && this.running_mean && this.running_var) {
        updateRunningStats(this.running_mean, this.running_var, this.num_batches_tracked, mean, varc, this.momentum, count);
      }
    } else {
      mean = this.running_mean!;
      varc = this.running_var!;
    }
    const shape = x.shape.map((d, i) => (i === 1 ? c : 1));
    let y = x.sub(mean.reshape(shape)).mul(varc.add(this.eps).rsqrt().reshape(shape));
    if (this.weight) y = y.mul(this.weight.reshape(shape));
    if (this.bias) y = y.add(this.bias.reshape(shape));
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
 * Instance normalization over `[N, C, H, W]` (or unbatched `[C, H, W]`): each sample's
 * channel normalized over its H·W values, as `torch.nn.InstanceNorm2d`. With
 * `trackRunningStats`, training also updates running statistics (the batch average of the
 * per-instance mean and unbiased variance), which evaluation then uses.
 */
export class InstanceNorm2d extends Module {
  /** Scale `[C]`, or null. */
  declare readonly weight: Tensor | null;
  /** Shift `[C]`, or null. */
  declare readonly bias: Tensor | null;
  /** Running mean `[C]` (buffer), or null. */
  declare readonly running_mean: Tensor | null;
  /** Running variance `[C]` (buffer), or null. */
  declare readonly running_var: Tensor | null;
  /** Batches seen in training (buffer), or null. */
  declare readonly num_batches_tracked: Tensor | null;
  /** Added to the variance. */
  readonly eps: number;
  /** Running-statistics momentum. */
  readonly momentum: number | null;

  /** No parameters and no running statistics by default, as PyTorch. */
  constructor(
    /** Channels. */
    readonly numFeatures: number,
    opts: InstanceNormOptions = {},
  ) {
    super();
    positiveInt(numFeatures, 'numFeatures', 'InstanceNorm2d');
    this.eps = opts.eps ?? 1e-5;
    this.momentum = opts.momentum === undefined ? 0.1 : opts.momentum;
    const affine = opts.affine ?? false;
    const track = opts.trackRunningStats ?? false;
    this.registerParameter('weight', affine ? ones([numFeatures]) : null);
    this.registerParameter('bias', affine ? zeros([numFeatures]) : null);
    this.registerBuffer('running_mean', track ? zeros([numFeatures]) : null);
    this.registerBuffer('running_var', track ? ones([numFeatures]) : null);
    this.registerBuffer('num_batches_tracked', track ? zeros([], { dtype: 'int32' }) : null);
  }

  override forward(x: Tensor): Tensor {
    const unbatched = x.ndim === 3;
    if ((x.ndim !== 4 && !unbatched) || x.shape[x.ndim - 3] !== this.numFeatures) {
      throw new RangeError(`InstanceNorm2d: expected input [N, ${this.numFeatures}, H, W] or [${this.numFeatures}, H, W], got ${fmt(x.shape)}`);
    }
    const xb = unbatched ? x.unsqueeze(0) : x;
    const c = this.numFeatures;
    const count = xb.shape[2]! * xb.shape[3]!;
    const useInput = this.training || !this.running_mean;
    let mean: Tensor;
    let varc: Tensor;
    if (useInput) {
      if (count <= 1 && this.training) throw new RangeError(`InstanceNorm2d: expected more than 1 spatial element when training, got input ${fmt(x.shape)}`);
      mean = xb.mean([2, 3], true);
      varc = variance(xb, [2, 3], { correction: 0, keepdim: true });
      if (this.training && this.running_mean && this.running_var) {
        // As PyTorch's instance_norm: num_batches_tracked is not counted, and a null momentum is 0 (no update).
        updateRunningStats(this.running_mean, this.running_var, null, mean.mean([0, 2, 3]), varc.mean([0, 2, 3]), this.momentum ?? 0, count);
      }
    } else {
      mean = this.running_mean!.reshape([1, c, 1, 1]);
      varc = this.running_var!.reshape([1, c, 1, 1]);
    }
    let y = xb.sub(mean).mul(varc.add(this.eps).rsqrt());
    if (this.weight) y = y.mul(this.weight.reshape([1, c, 1, 1]));
    if (this.bias) y = y.add(this.bias.reshape([1, c, 1, 1]));
    return unbatched ? y.squeeze(0) : y;
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.weight !== null}, trackRunningStats=${this.running_mean !== null}`;
  }
}
