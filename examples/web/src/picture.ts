/**
 * Pictures as RGB bytes: decoded from an image file with `createImageBitmap` and an
 * `OffscreenCanvas` (in the page and in workers alike), or taken from a canvas's RGBA pixels.
 */
import type { Picture } from './protocol.js';

/** RGBA pixels (a canvas's `ImageData`) as an RGB picture. */
export function rgbaToPicture(rgba: Uint8ClampedArray, width: number, height: number): Picture {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0, j = 0; i < width * height; i++, j += 4) {
    data[i * 3] = rgba[j]!;
    data[i * 3 + 1] = rgba[j + 1]!;
    data[i * 3 + 2] = rgba[j + 2]!;
  }
  return { data, width, height };
}

/**
 * Decodes an image file (PNG, JPEG, WebP, GIF, BMP: whatever the browser decodes). With
 * `maxShorterSide`, larger pictures are scaled down while decoding (training keeps many in memory).
 */
export async function decodePicture(file: Blob, name: string, maxShorterSide?: number): Promise<Picture> {
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch (e) {
    throw new Error(`${name}: the browser cannot decode it as an image (${(e as Error).message})`);
  }
  let { width, height } = bitmap;
  const shorter = Math.min(width, height);
  if (maxShorterSide !== undefined && shorter > maxShorterSide) {
    const scale = maxShorterSide / shorter;
    width = Math.max(1, Math.round(width * scale));
    height = Math.max(1, Math.round(height * scale));
    bitmap.close();
    bitmap = await createImageBitmap(file, { resizeWidth: width, resizeHeight: height, resizeQuality: 'high' });
  }
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error(`${name}: no 2D canvas to decode it on`);
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  return rgbaToPicture(ctx.getImageData(0, 0, width, height).data, width, height);
}
