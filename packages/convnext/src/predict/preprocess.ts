/**
 * What predict adds to the data pipeline's eval transform: the image as a normalised
 * model input, and the top-k of the logits. The pixels come from `evalResizeCrop`
 * (data/crop.ts), the PIL-exact antialiased resize and centre crop that validation uses,
 * so a picture is seen by predict exactly as by the run's eval and as by timm/torchvision.
 * Browser-safe.
 */
import { checkByteImage, type ByteImage } from '../data/byte-image.js';
import { evalResizeCrop } from '../data/crop.js';
import { grey } from '../data/randaugment.js';
import { resizeShorterSide } from '../data/resize.js';

/** Options of {@link evalTransform}. */
export interface EvalTransformOptions {
  /** Output side (the model's input size). */
  readonly size: number;
  /** Share of the resized image the crop keeps (timm's ConvNeXt: 0.875 at 224; 1 = resize to `size`). */
  readonly cropPct: number;
  /** Per-channel mean of [0, 1] pixels (3 values, or 1 for grey). */
  readonly mean: readonly number[];
  /** Per-channel std. */
  readonly std: readonly number[];
  /** Output channels: 3 (RGB) or 1 (grey by PIL's `convert('L')` weights). Default: `mean.length`. */
  readonly channels?: 1 | 3;
  /**
   * First reduce a shorter side longer than this to it (antialiased), as an image-folder
   * dataset does before caching (`ImageFolderOptions.maxSide`): a folder run was validated
   * on such images. Default: no reduction (timm's transform).
   */
  readonly maxSide?: number;
}

/**
 * The model input for one RGB byte image (from `decodeImageFile`): `[channels, size, size]`
 * float32, CHW, normalised. timm's eval transform: shorter side to `floor(size / cropPct)`
 * (PIL-exact bicubic), centre crop, `ToTensor`, `Normalize`; grey is made before resizing,
 * as torchvision's `Grayscale` first in a pipeline.
 */
export function evalTransform(img: ByteImage, o: EvalTransformOptions): Float32Array {
  checkByteImage(img, 'evalTransform');
  if (img.channels !== 3) throw new RangeError(`evalTransform: expects an RGB image (3 channels), got ${img.channels}`);
  const channels = o.channels ?? (o.mean.length as 1 | 3);
  if (channels !== 1 && channels !== 3) throw new RangeError(`evalTransform: channels must be 1 or 3, got ${String(channels)}`);
  if (o.mean.length !== channels || o.std.length !== channels) throw new RangeError(`evalTransform: need ${channels} means and stds, got ${o.mean.length} and ${o.std.length}`);
  if (!(o.cropPct > 0 && o.cropPct <= 1)) throw new RangeError(`evalTransform: cropPct must be in (0, 1], got ${o.cropPct}`);
  if (!Number.isInteger(o.size) || o.size < 1) throw new RangeError(`evalTransform: size must be a positive integer, got ${o.size}`);
  if (o.maxSide !== undefined && !(Number.isInteger(o.maxSide) && o.maxSide > 0)) throw new RangeError(`evalTransform: maxSide must be a positive integer, got ${o.maxSide}`);
  let src = channels === 1 ? grey(img) : img;
  if (o.maxSide !== undefined && Math.min(src.width, src.height) > o.maxSide) src = resizeShorterSide(src, o.maxSide);
  const cropped = evalResizeCrop(src, o.size, o.cropPct);
  const n = o.size * o.size;
  const out = new Float32Array(channels * n);
  // Grey images keep L in all three bytes; channel 0 is it.
  for (let ch = 0; ch < channels; ch++) {
    const [m, s] = [o.mean[ch]!, o.std[ch]!];
    for (let i = 0; i < n; i++) out[ch * n + i] = (cropped.data[i * 3 + ch]! / 255 - m) / s;
  }
  return out;
}

/** One class and its probability. */
export interface Prediction {
  /** Class index (the logit's position). */
  readonly index: number;
  /** Class name. */
  readonly label: string;
  /** Softmax probability. */
  readonly probability: number;
}

/** The `k` most probable classes of one row of logits (softmax in float64; ties keep index order). */
export function topK(logits: ArrayLike<number>, k: number, classes: readonly string[]): Prediction[] {
  if (classes.length !== logits.length) throw new RangeError(`topK: ${logits.length} logits but ${classes.length} class names`);
  let m = -Infinity;
  for (let i = 0; i < logits.length; i++) m = Math.max(m, logits[i]!);
  let s = 0;
  for (let i = 0; i < logits.length; i++) s += Math.exp(logits[i]! - m);
  const idx = Array.from({ length: logits.length }, (_, i) => i).sort((a, b) => logits[b]! - logits[a]! || a - b);
  return idx.slice(0, Math.min(k, idx.length)).map((i) => ({ index: i, label: classes[i]!, probability: Math.exp(logits[i]! - m) / s }));
}
