/**
 * 8-bit images in PIL's layout (rows of interleaved channels, HWC), the form the paper's
 * augmentations are defined on (PIL ops work on bytes and round at every step), and the
 * conversions to and from the CHW float images of {@link ImageDataset}.
 */
import { Generator } from '@tsgrad/core';

/** An 8-bit image: `height` rows of `width` pixels of `channels` (1 grey, 3 RGB) interleaved bytes. */
export interface ByteImage {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
  readonly channels: number;
}

/** Checks that `img` is a well-formed 1- or 3-channel byte image (throws a clear error). */
export function checkByteImage(img: ByteImage, what = 'image'): void {
  const { width: w, height: h, channels: c } = img;
  if (!Number.isInteger(w) || !Number.isInteger(h) || w <= 0 || h <= 0) throw new RangeError(`${what}: size must be positive integers, got ${w}x${h}`);
  if (c !== 1 && c !== 3) throw new RangeError(`${what}: must have 1 or 3 channels, got ${c}`);
  if (img.data.length !== w * h * c) throw new RangeError(`${what}: ${img.data.length} bytes, expected ${w}x${h}x${c} = ${w * h * c}`);
}

/** A new zero image. */
export function emptyByteImage(width: number, height: number, channels: number): ByteImage {
  return { data: new Uint8Array(width * height * channels), width, height, channels };
}

/** A CHW float image in [0, 1] as bytes (rounded, clamped): exact for images that came from bytes. */
export function floatToByteImage(image: Float32Array, shape: readonly [number, number, number]): ByteImage {
  const [c, h, w] = shape;
  if (image.length !== c * h * w) throw new RangeError(`floatToByteImage: ${image.length} values, expected ${c}x${h}x${w}`);
  const out = new Uint8Array(c * h * w);
  for (let ch = 0; ch < c; ch++)
    for (let p = 0; p < h * w; p++) {
      const v = Math.round(image[ch * h * w + p]! * 255);
      out[p * c + ch] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  return { data: out, width: w, height: h, channels: c };
}

/** Bytes to a CHW float image in [0, 1] (torchvision's ToTensor), written into `out` when given. */
export function byteToFloatImage(img: ByteImage, out: Float32Array = new Float32Array(img.data.length)): Float32Array {
  const { width: w, height: h, channels: c, data } = img;
  for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) out[ch * h * w + p] = data[p * c + ch]! / 255;
  return out;
}

/** Copies out the `w x h` rectangle at (`left`, `top`) (which must lie inside the image). */
export function cropByteImage(img: ByteImage, left: number, top: number, w: number, h: number): ByteImage {
  if (left < 0 || top < 0 || w <= 0 || h <= 0 || left + w > img.width || top + h > img.height) {
    throw new RangeError(`crop: ${w}x${h} at (${left}, ${top}) does not fit in a ${img.width}x${img.height} image`);
  }
  const c = img.channels;
  const out = new Uint8Array(w * h * c);
  for (let y = 0; y < h; y++) out.set(img.data.subarray(((top + y) * img.width + left) * c, ((top + y) * img.width + left + w) * c), y * w * c);
  return { data: out, width: w, height: h, channels: c };
}

/** Mirrors left-right (PIL's FLIP_LEFT_RIGHT). */
export function flipByteImage(img: ByteImage): ByteImage {
  const { width: w, height: h, channels: c, data } = img;
  const out = new Uint8Array(data.length);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) out[(y * w + x) * c + ch] = data[(y * w + (w - 1 - x)) * c + ch]!;
  return { data: out, width: w, height: h, channels: c };
}

/**
 * Python's random module on our seeded {@link Generator}: the draws the augmentations
 * make (uniform, randint, gauss, choice) with Python's semantics, so each op reads like
 * its timm/torchvision original.
 */
export class Rng {
  constructor(readonly g: Generator) {}
  /** `random.random()`: uniform in [0, 1). */
  random(): number {
    return this.g.uniform(1)[0]!;
  }
  /** `random.uniform(a, b)`. */
  uniform(a: number, b: number): number {
    return a + (b - a) * this.random();
  }
  /** `random.randint(a, b)`: an integer in [a, b], both ends included. */
  randint(a: number, b: number): number {
    return a + Math.floor(this.random() * (b - a + 1));
  }
  /** `random.gauss(mu, sigma)`. */
  gauss(mu: number, sigma: number): number {
    return mu + sigma * this.g.normal(1)[0]!;
  }
  /** `n` standard normal draws (random erasing's per-pixel values). */
  normals(n: number): Float64Array {
    return this.g.normal(n);
  }
}

/** Python 3's `round()`: to the nearest integer, ties to even (torchvision's crop sizes use it). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}
