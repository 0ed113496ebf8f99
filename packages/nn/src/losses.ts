/** Loss functions (PyTorch's names and reductions) and their module forms. */
import { crossEntropy as coreCrossEntropy, mseLoss as coreMseLoss, type CrossEntropyOptions, type Tensor } from '@tsgrad/core';
import { Module } from './module.js';

/** How a loss reduces per-element values: mean (default), sum, or none. */
export type Reduction = 'mean' | 'sum' | 'none';

/**
 * Cross-entropy between logits `[N, C, ...]` and int32 class indices `[N, ...]` or class
 * probabilities (soft targets, e.g. from Mixup) of the logits' shape, with optional label
 * smoothing, class `weight` and `ignoreIndex`, as `torch.nn.functional.cross_entropy`
 * (core's `crossEntropy`).
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  return coreCrossEntropy(input, target, opts);
}

/** Options of {@link mseLoss}. */
export interface MseLossOptions {
  /** `'mean'` (default), `'sum'` or `'none'`. */
  readonly reduction?: Reduction;
}

/** Mean squared error `(input - target)^2`, reduced as asked (`torch.nn.functional.mse_loss`; core's `mseLoss`). */
export function mseLoss(input: Tensor, target: Tensor, opts: MseLossOptions = {}): Tensor {
  return coreMseLoss(input, target, opts);
}

/** {@link crossEntropy} as a module: `new CrossEntropyLoss({labelSmoothing: 0.1}).loss(logits, target)`. */
export class CrossEntropyLoss extends Module {
  /** Options passed to every call. */
  constructor(readonly opts: CrossEntropyOptions = {}) {
    super();
  }
  /** The loss of `input` against `target`. */
  loss(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, this.opts);
  }
}

/** {@link mseLoss} as a module. */
export class MSELoss extends Module {
  /** Options passed to every call. */
  constructor(readonly opts: MseLossOptions = {}) {
    super();
  }
  /** The loss of `input` against `target`. */
  loss(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, this.opts);
  }
}
