/**
 * `unfold` (im2col) and `fold` (col2im), as `torch.nn.functional.unfold` / `fold`. unfold
 * is the window view of the padded input, copied into columns; fold is its adjoint, the
 * `embed` primitive adding overlapping windows up. Each is the other's gradient.
 */
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { requireFloat } from './prim.js';
import { embed, pad, reshape, slice, squeeze, unsqueeze } from './views.js';
import { outSize, pair, windows, windowStrides, type IntPair } from './window.js';

/** Options of unfold and fold (PyTorch's names and defaults). */
export interface FoldOptions {
  /** Spacing of kernel taps (default 1). */
  readonly dilation?: IntPair;
  /** Zero padding on each side (default 0). */
  readonly padding?: IntPair;
  /** Step of the window (default 1). */
  readonly stride?: IntPair;
}

/** Normalised window geometry: kernel, dilation, padding, stride (height, width). */
export interface Geometry {
  k: [number, number];
  d: [number, number];
  p: [number, number];
  s: [number, number];
}

function geometry(op: string, kernelSize: IntPair, opts: FoldOptions): Geometry {
  return {
    k: pair(kernelSize, 1, 'kernelSize', op, 1),
    d: pair(opts.dilation, 1, 'dilation', op, 1),
    p: pair(opts.padding, 0, 'padding', op, 0),
    s: pair(opts.stride, 1, 'stride', op, 1),
  };
}

/**
 * Adds windows `cols` `[N, C, KH, KW, OH, OW]` into a zero `[N, C, H, W]` (padding `p` on
 * each side dropped after): col2im. Differentiable both ways (its gradient is the window view).
 */
export function col2im(cols: Tensor, outShape: readonly [number, number, number, number], g: Geometry): Tensor {
  const [n, c, h, w] = outShape;
  const padded = [n, c, h + 2 * g.p[0], w + 2 * g.p[1]];
  const full = embed(cols, padded, 0, windowStrides(padded, g.s, g.d));
  if (!g.p[0] && !g.p[1]) return full;
  return slice(slice(full, 2, g.p[0], g.p[0] + h), 3, g.p[1], g.p[1] + w);
}

/**
 * Sliding local blocks of `x` `[N, C, H, W]` (or unbatched `[C, H, W]`) as columns
 * `[N, C*KH*KW, L]`, `L` the number of windows, channel-major as PyTorch:
 * `torch.nn.functional.unfold`. Its gradient is {@link fold}.
 */
export function unfold(x: Tensor, kernelSize: IntPair, opts: FoldOptions = {}): Tensor {
  const op = 'unfold';
  if (x.ndim === 3) return squeeze(unfold(unsqueeze(x, 0), kernelSize, opts), 0);
  if (x.ndim !== 4) throw new RangeError(`${op}: input must be 4-D [N, C, H, W] (or 3-D unbatched), got shape ${fmtShape(x.shape)}`);
  requireFloat(op, x);
  const g = geometry(op, kernelSize, opts);
  const [n, c, h, w] = x.shape as [number, number, number, number];
  const oh = outSize(op, h, g.k[0], g.s[0], g.p[0], g.d[0], 'height');
  const ow = outSize(op, w, g.k[1], g.s[1], g.p[1], g.d[1], 'width');
  const xp = g.p[0] || g.p[1] ? pad(x, [g.p[1], g.p[1], g.p[0], g.p[0]]) : x;
  return reshape(windows(xp, g.k, g.s, g.d, oh, ow), [n, c * g.k[0] * g.k[1], oh * ow]);
}

/**
 * Sums columns `cols` `[N, C*KH*KW, L]` (or unbatched `[C*KH*KW, L]`) back into an image
 * `[N, C, outputSize]`, adding where windows overlap: `torch.nn.functional.fold`, the
 * adjoint of {@link unfold}. `L` must equal the number of windows the geometry gives.
 */
export function fold(cols: Tensor, outputSize: IntPair, kernelSize: IntPair, opts: FoldOptions = {}): Tensor {
  const op = 'fold';
  if (cols.ndim === 2) return squeeze(fold(unsqueeze(cols, 0), outputSize, kernelSize, opts), 0);
  if (cols.ndim !== 3) throw new RangeError(`${op}: input must be 3-D [N, C*KH*KW, L] (or 2-D unbatched), got shape ${fmtShape(cols.shape)}`);
  requireFloat(op, cols);
  const g = geometry(op, kernelSize, opts);
  const [h, w] = pair(outputSize, 1, 'outputSize', op, 1);
  const [n, ck, l] = cols.shape as [number, number, number];
  const kk = g.k[0] * g.k[1];
  if (ck % kk !== 0) throw new RangeError(`${op}: input dimension 1 (${ck}) must be divisible by the kernel's size ${g.k[0]}*${g.k[1]} = ${kk}`);
  const oh = outSize(op, h, g.k[0], g.s[0], g.p[0], g.d[0], 'height');
  const ow = outSize(op, w, g.k[1], g.s[1], g.p[1], g.d[1], 'width');
  if (oh * ow !== l) {
    throw new RangeError(`${op}: input has ${l} blocks (dimension 2), but output size ${fmtShape([h, w])} with this kernel, stride, padding and dilation gives ${oh}*${ow} = ${oh * ow}`);
  }
  const c = ck / kk;
  return col2im(reshape(cols, [n, c, g.k[0], g.k[1], oh, ow]), [n, c, h, w], g);
}
