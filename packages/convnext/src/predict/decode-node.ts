/**
 * Image file decoding in Node for `predict`: JPEG with `jpeg-js` and PNG with `pngjs`, both
 * pure JavaScript (no native build, no download at install; the same code runs in a bundler),
 * maintained, and fast enough for a few images (a 12-megapixel JPEG decodes in about a
 * second). Alpha is dropped as PIL's `convert('RGB')` does (timm's loader).
 */
import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import type { RgbImage } from './preprocess.js';

/** File extensions {@link decodeImageFile} reads. */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png'] as const;

/** RGBA (or RGB) pixels → RGB. */
function toRgb(width: number, height: number, data: Uint8Array, channels: 3 | 4): RgbImage {
  const out = new Uint8Array(width * height * 3);
  for (let i = 0, n = width * height; i < n; i++) {
    out[i * 3] = data[i * channels]!;
    out[i * 3 + 1] = data[i * channels + 1]!;
    out[i * 3 + 2] = data[i * channels + 2]!;
  }
  return { width, height, data: out };
}

/**
 * Decodes JPEG or PNG bytes (told apart by their signature, not the file name) to RGB.
 * `name` only labels errors. Images over 100 megapixels are refused.
 */
export function decodeImage(bytes: Uint8Array, name = 'image'): RgbImage {
  const isPng = bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47;
  const isJpeg = bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff;
  try {
    if (isJpeg) {
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, maxResolutionInMP: 100, maxMemoryUsageInMB: 1024 });
      return toRgb(img.width, img.height, img.data, 3);
    }
    if (isPng) {
      const img = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      if (img.width * img.height > 100e6) throw new Error(`${img.width}x${img.height} is over 100 megapixels`);
      return toRgb(img.width, img.height, img.data, 4);
    }
  } catch (e) {
    throw new Error(`${name}: cannot decode the ${isPng ? 'PNG' : 'JPEG'} image: ${(e as Error).message}`);
  }
  const head = Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
  throw new Error(`${name}: not a JPEG or PNG image (it starts with bytes ${head || '(empty file)'}); predict reads ${IMAGE_EXTENSIONS.join(', ')}`);
}

/** Reads and decodes an image file (see {@link decodeImage}). */
export function decodeImageFile(path: string): RgbImage {
  return decodeImage(new Uint8Array(readFileSync(path)), path);
}
