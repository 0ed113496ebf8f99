/** `Dropout2d`: channel dropout, as `torch.nn.Dropout2d`. */
import { dropout, ones, type Generator, type Tensor } from '@tsgrad/core';
import { fmt } from './layer-utils.js';
import { Module } from './module.js';

/**
 * In training, zeroes whole channels of `[N, C, H, W]` (or unbatched `[C, H, W]`) input with
 * probability `p` (one draw per sample and channel) and scales the kept ones by
 * `1 / (1 - p)`; identity in evaluation.
 */
export class Dropout2d extends Module {
  private readonly generator: Generator | undefined;
  /** Drop probability of a channel, in [0, 1]. */
  constructor(
    readonly p = 0.5,
    opts: { readonly generator?: Generator } = {},
  ) {
    super();
    if (!(p >= 0 && p <= 1)) throw new RangeError(`Dropout2d: p must be in [0, 1], got ${p}`);
    this.generator = opts.generator;
  }

  override forward(x: Tensor): Tensor {
    if (x.ndim !== 3 && x.ndim !== 4) throw new RangeError(`Dropout2d: expected input [N, C, H, W] or [C, H, W], got ${fmt(x.shape)}`);
    if (!this.training || this.p === 0) return x;
    // Core's dropout of a ones tensor with one element per (sample, channel) is the channel mask.
    const shape = x.shape.map((d, i) => (i < x.ndim - 2 ? d : 1));
    const keep = ones(shape, { dtype: x.dtype, backend: x.backend });
    const mask = dropout(keep, this.p, this.generator ? { generator: this.generator } : {});
    keep.dispose();
    return x.mul(mask);
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
