/** `Upsample`: nearest and bilinear resizing of NCHW input, a thin module over core's `interpolate`. */
import { interpolate, type Tensor } from '@tsgrad/core';
import { fmt } from './layer-utils.js';
import { Module } from './module.js';

/** Interpolation modes of {@link Upsample}. */
export type UpsampleMode = 'nearest' | 'bilinear';

/** Options of {@link Upsample} (PyTorch's names); give exactly one of `size` and `scaleFactor`. */
export interface UpsampleOptions {
  /** Output `[H, W]` (one number for both). */
  readonly size?: number | readonly [number, number];
  /** Multiplier of H and W (one number for both); the output side is `floor(side · factor)`. */
  readonly scaleFactor?: number | readonly [number, number];
  /** `'nearest'` (default) or `'bilinear'`. */
  readonly mode?: UpsampleMode;
  /** Bilinear only: align the corner pixels' centres (default false, as PyTorch). */
  readonly alignCorners?: boolean;
}

/**
 * Resizes NCHW input (or unbatched CHW) by nearest or bilinear interpolation, as
 * `torch.nn.Upsample` / `F.interpolate`. Differs from PyTorch: only 4-D (and 3-D unbatched)
 * input and the two modes; `recomputeScaleFactor` is not offered (PyTorch's default, off).
 */
export class Upsample extends Module {
  /** Interpolation mode. */
  readonly mode: UpsampleMode;
  /** Bilinear corner alignment. */
  readonly alignCorners: boolean;

  /** See {@link UpsampleOptions}. */
  constructor(readonly opts: UpsampleOptions) {
    super();
    if ((opts.size === undefined) === (opts.scaleFactor === undefined)) throw new RangeError('Upsample: give exactly one of size and scaleFactor');
    this.mode = opts.mode ?? 'nearest';
    if (this.mode !== 'nearest' && this.mode !== 'bilinear') throw new RangeError(`Upsample: mode must be 'nearest' or 'bilinear', got '${String(this.mode)}'`);
    if (opts.alignCorners !== undefined && this.mode === 'nearest') throw new RangeError('Upsample: alignCorners only applies to bilinear mode');
    this.alignCorners = opts.alignCorners ?? false;
  }

  override forward(x: Tensor): Tensor {
    const unbatched = x.ndim === 3;
    if (x.ndim !== 4 && !unbatched) throw new RangeError(`Upsample: expected input [N, C, H, W] or [C, H, W], got ${fmt(x.shape)}`);
    // The options are interpolate's (checked for the two modes in the constructor).
    const y = interpolate(unbatched ? x.unsqueeze(0) : x, this.opts);
    return unbatched ? y.squeeze(0) : y;
  }

  override extraRepr(): string {
    const what = this.opts.size !== undefined ? `size=${String(this.opts.size)}` : `scaleFactor=${String(this.opts.scaleFactor)}`;
    return `${what}, mode='${this.mode}'${this.mode === 'bilinear' ? `, alignCorners=${this.alignCorners}` : ''}`;
  }
}
