/**
 * `Upsample`: nearest and bilinear resizing of NCHW input with PyTorch's index rules,
 * composed from `indexSelect` and weighted sums so that its gradient comes from those.
 */
import { fromTypedArray, type Tensor } from '@tsgrad/core';
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

/** Source positions and weights along one axis, as PyTorch's upsample kernels compute them. */
function axisPlan(inSize: number, outSize: number, factor: number | undefined, mode: UpsampleMode, alignCorners: boolean): { lo: Int32Array; hi: Int32Array; w: Float64Array } {
  const lo = new Int32Array(outSize);
  const hi = new Int32Array(outSize);
  const w = new Float64Array(outSize);
  // PyTorch uses 1/scaleFactor when one is given (not in/out), which differs for non-integer factors.
  const scale = factor !== undefined ? 1 / factor : inSize / outSize;
  for (let o = 0; o < outSize; o++) {
    if (mode === 'nearest') {
      lo[o] = Math.min(Math.floor(o * scale), inSize - 1);
      continue;
    }
    let src: number;
    if (alignCorners) src = outSize > 1 ? (o * (inSize - 1)) / (outSize - 1) : 0;
    else src = Math.max((o + 0.5) * scale - 0.5, 0);
    const i0 = Math.min(Math.floor(src), inSize - 1);
    lo[o] = i0;
    hi[o] = Math.min(i0 + 1, inSize - 1);
    w[o] = src - i0;
  }
  return { lo, hi, w };
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
    if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new TypeError(`Upsample: expected a float tensor, got ${x.dtype}`);
    const xb = unbatched ? x.unsqueeze(0) : x;
    const [inH, inW] = [xb.shape[2]!, xb.shape[3]!];
    const pair = (v: number | readonly [number, number]) => (typeof v === 'number' ? [v, v] : [v[0], v[1]]) as [number, number];
    let outH: number;
    let outW: number;
    let fh: number | undefined;
    let fw: number | undefined;
    if (this.opts.size !== undefined) {
      [outH, outW] = pair(this.opts.size);
    } else {
      [fh, fw] = pair(this.opts.scaleFactor!);
      if (!(fh > 0 && fw > 0)) throw new RangeError(`Upsample: scaleFactor must be positive, got ${fmt([fh, fw])}`);
      [outH, outW] = [Math.floor(inH * fh), Math.floor(inW * fw)];
    }
    if (!Number.isInteger(outH) || !Number.isInteger(outW) || outH < 1 || outW < 1) {
      throw new RangeError(`Upsample: output size must be positive integers, got ${fmt([outH, outW])} for input ${fmt(x.shape)}`);
    }
    const y = this.resizeAxis(this.resizeAxis(xb, 2, inH, outH, fh), 3, inW, outW, fw);
    return unbatched ? y.squeeze(0) : y;
  }

  private resizeAxis(x: Tensor, dim: number, inSize: number, outSize: number, factor: number | undefined): Tensor {
    if (inSize === outSize && (factor === undefined || factor === 1)) return x;
    const plan = axisPlan(inSize, outSize, factor, this.mode, this.alignCorners);
    const lo = fromTypedArray(plan.lo, [outSize], 'int32', x.backend);
    const a = x.indexSelect(dim, lo);
    if (this.mode === 'nearest') return a;
    const hi = fromTypedArray(plan.hi, [outSize], 'int32', x.backend);
    const bshape = x.shape.map((_, i) => (i === dim ? outSize : 1));
    const w = fromTypedArray(x.dtype === 'float64' ? plan.w : Float32Array.from(plan.w), bshape, x.dtype, x.backend);
    // a + (b - a)·w, as PyTorch's lerp form.
    return a.add(x.indexSelect(dim, hi).sub(a).mul(w));
  }

  override extraRepr(): string {
    const what = this.opts.size !== undefined ? `size=${String(this.opts.size)}` : `scaleFactor=${String(this.opts.scaleFactor)}`;
    return `${what}, mode='${this.mode}'${this.mode === 'bilinear' ? `, alignCorners=${this.alignCorners}` : ''}`;
  }
}
