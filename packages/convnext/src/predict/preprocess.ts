/**
 * Eval-time image preprocessing as timm does it for ConvNeXt (`transforms_factory`'s eval
 * transform): resize the shorter side to `floor(size / cropPct)` with PIL's antialiased
 * bicubic filter, center-crop `size`, scale to [0, 1], normalise per channel. Browser-safe.
 *
 * The resize reproduces PIL's `Image.resize(..., BICUBIC)` on 8-bit images (the filter
 * support widens by the scale when downsampling, a = -0.5, a horizontal then a vertical
 * pass, each rounded to 8 bits), so the pixels equal PIL's up to ±1 from fixed-point rounding.
 */

/** An 8-bit RGB image, row-major HWC. */
export interface RgbImage {
  /** Width in pixels. */
  readonly width: number;
  /** Height in pixels. */
  readonly height: number;
  /** `height * width * 3` bytes, R G B per pixel. */
  readonly data: Uint8Array;
}

/** PIL's bicubic kernel (a = -0.5). */
function bicubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** Per output index: first input index and normalised weights (PIL's `precompute_coeffs`). */
function coefficients(inSize: number, outSize: number): { start: Int32Array; weights: Float64Array[] } {
  const scale = inSize / outSize;
  const filterscale = Math.max(scale, 1);
  const support = 2 * filterscale;
  const start = new Int32Array(outSize);
  const weights: Float64Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    const w = new Float64Array(hi - lo);
    let sum = 0;
    for (let i = lo; i < hi; i++) sum += w[i - lo] = bicubic((i - center + 0.5) / filterscale);
    if (sum !== 0) for (let i = 0; i < w.length; i++) w[i]! /= sum;
    start[o] = lo;
    weights.push(w);
  }
  return { start, weights };
}

const clip8 = (v: number): number => (v <= 0 ? 0 : v >= 255 ? 255 : Math.round(v));

/** Resizes with PIL's antialiased bicubic filter (see the module note). */
export function resizeBicubic(img: RgbImage, width: number, height: number): RgbImage {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) throw new RangeError(`resizeBicubic: the new size must be positive integers, got ${width}x${height}`);
  if (img.data.length !== img.width * img.height * 3) throw new RangeError(`resizeBicubic: ${img.data.length} bytes for a ${img.width}x${img.height} RGB image (need ${img.width * img.height * 3})`);
  let cur = img;
  if (width !== img.width) {
    const { start, weights } = coefficients(img.width, width);
    const out = new Uint8Array(img.height * width * 3);
    for (let y = 0; y < img.height; y++) {
      for (let x = 0; x < width; x++) {
        const w = weights[x]!;
        for (let c = 0; c < 3; c++) {
          let s = 0;
          for (let k = 0; k < w.length; k++) s += w[k]! * img.data[(y * img.width + start[x]! + k) * 3 + c]!;
          out[(y * width + x) * 3 + c] = clip8(s);
        }
      }
    }
    cur = { width, height: img.height, data: out };
  }
  if (height !== cur.height) {
    const { start, weights } = coefficients(cur.height, height);
    const out = new Uint8Array(height * cur.width * 3);
    for (let y = 0; y < height; y++) {
      const w = weights[y]!;
      for (let x = 0; x < cur.width; x++) {
        for (let c = 0; c < 3; c++) {
          let s = 0;
          for (let k = 0; k < w.length; k++) s += w[k]! * cur.data[((start[y]! + k) * cur.width + x) * 3 + c]!;
          out[(y * cur.width + x) * 3 + c] = clip8(s);
        }
      }
    }
    cur = { width: cur.width, height, data: out };
  }
  return cur;
}

/** Python's round(): halves to even (torchvision's CenterCrop uses it). */
function pyRound(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** torchvision's `CenterCrop(size)` (the image must be at least `size` on both sides). */
export function centerCrop(img: RgbImage, size: number): RgbImage {
  if (img.width < size || img.height < size) throw new RangeError(`centerCrop: a ${img.width}x${img.height} image is smaller than the ${size}x${size} crop`);
  const top = pyRound((img.height - size) / 2);
  const left = pyRound((img.width - size) / 2);
  const out = new Uint8Array(size * size * 3);
  for (let y = 0; y < size; y++) out.set(img.data.subarray(((top + y) * img.width + left) * 3, ((top + y) * img.width + left + size) * 3), y * size * 3);
  return { width: size, height: size, data: out };
}

/** torchvision's `Resize(short)`: the shorter side becomes `short`, the longer keeps the aspect ratio (truncated). */
export function resizeShorter(img: RgbImage, short: number): RgbImage {
  const [w, h] = img.width <= img.height ? [short, Math.trunc((short * img.height) / img.width)] : [Math.trunc((short * img.width) / img.height), short];
  return w === img.width && h === img.height ? img : resizeBicubic(img, w, h);
}

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
}

/** Grey as PIL's `convert('L')` (ITU-R 601-2 luma in PIL's fixed point: (R·19595 + G·38470 + B·7471 + 0x8000) >> 16), kept in all three channels. Done before resizing, as torchvision's `Grayscale` in a pipeline. */
function toGrey(img: RgbImage): RgbImage {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i += 3) {
    const l = (img.data[i]! * 19595 + img.data[i + 1]! * 38470 + img.data[i + 2]! * 7471 + 0x8000) >> 16;
    out[i] = out[i + 1] = out[i + 2] = l;
  }
  return { width: img.width, height: img.height, data: out };
}

/** The model input for one image: `[channels, size, size]` float32, CHW, normalised. */
export function evalTransform(img: RgbImage, o: EvalTransformOptions): Float32Array {
  const channels = o.channels ?? (o.mean.length as 1 | 3);
  if (channels !== 1 && channels !== 3) throw new RangeError(`evalTransform: channels must be 1 or 3, got ${String(channels)}`);
  if (o.mean.length !== channels || o.std.length !== channels) throw new RangeError(`evalTransform: need ${channels} means and stds, got ${o.mean.length} and ${o.std.length}`);
  if (!(o.cropPct > 0 && o.cropPct <= 1)) throw new RangeError(`evalTransform: cropPct must be in (0, 1], got ${o.cropPct}`);
  if (!Number.isInteger(o.size) || o.size < 1) throw new RangeError(`evalTransform: size must be a positive integer, got ${o.size}`);
  const cropped = centerCrop(resizeShorter(channels === 1 ? toGrey(img) : img, Math.floor(o.size / o.cropPct)), o.size);
  const n = o.size * o.size;
  const out = new Float32Array(channels * n);
  for (let i = 0; i < n; i++) {
    const [r, g, b] = [cropped.data[i * 3]!, cropped.data[i * 3 + 1]!, cropped.data[i * 3 + 2]!];
    if (channels === 1) {
      out[i] = (r / 255 - o.mean[0]!) / o.std[0]!;
    } else {
      out[i] = (r / 255 - o.mean[0]!) / o.std[0]!;
      out[n + i] = (g / 255 - o.mean[1]!) / o.std[1]!;
      out[2 * n + i] = (b / 255 - o.mean[2]!) / o.std[2]!;
    }
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
