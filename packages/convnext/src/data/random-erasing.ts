/**
 * timm's RandomErasing (`timm/data/random_erasing.py`), applied per image after
 * normalisation as the ConvNeXt recipe does (`--reprob 0.25 --remode pixel`): with
 * probability `p`, up to 10 tries to place a rectangle of area U(0.02, 1/3) of the image
 * and log-uniform aspect ratio in [0.3, 1/0.3]; the first that fits is filled with
 * per-pixel N(0, 1) values (`pixel`), one N(0, 1) colour per channel (`rand`), or zeros
 * (`const`).
 */
import { roundHalfEven, type Rng } from './byte-image.js';

/** The fill of an erased rectangle. */
export type EraseMode = 'pixel' | 'rand' | 'const';

/** Random erasing settings (timm's defaults except `probability`, which the recipe sets). */
export interface RandomErasingOptions {
  /** Probability of erasing an image. */
  readonly probability: number;
  /** Fill mode (default `pixel`). */
  readonly mode?: EraseMode;
  /** Smallest erased area as a fraction of the image (default 0.02). */
  readonly minArea?: number;
  /** Largest erased area (default 1/3). */
  readonly maxArea?: number;
  /** Smallest aspect ratio h/w (default 0.3; the largest is its inverse). */
  readonly minAspect?: number;
}

/** Erases one CHW image in place (timm's `_erase` with count 1). Returns whether a rectangle was erased. */
export function randomErase(image: Float32Array, shape: readonly [number, number, number], opts: RandomErasingOptions, rng: Rng): boolean {
  const [c, imgH, imgW] = shape;
  if (image.length !== c * imgH * imgW) throw new RangeError(`randomErase: ${image.length} values, expected ${c}x${imgH}x${imgW}`);
  const p = opts.probability;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`randomErase: probability must be in [0, 1], got ${p}`);
  const mode = opts.mode ?? 'pixel';
  if (mode !== 'pixel' && mode !== 'rand' && mode !== 'const') throw new RangeError(`randomErase: mode must be pixel, rand or const, got '${String(mode)}'`);
  if (rng.random() > p) return false;
  const minArea = opts.minArea ?? 0.02;
  const maxArea = opts.maxArea ?? 1 / 3;
  const minAspect = opts.minAspect ?? 0.3;
  const [la, lb] = [Math.log(minAspect), Math.log(1 / minAspect)];
  const area = imgH * imgW;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = rng.uniform(minArea, maxArea) * area;
    const aspect = Math.exp(rng.uniform(la, lb));
    const h = roundHalfEven(Math.sqrt(target * aspect));
    const w = roundHalfEven(Math.sqrt(target / aspect));
    if (w < imgW && h < imgH) {
      const top = rng.randint(0, imgH - h);
      const left = rng.randint(0, imgW - w);
      const values = mode === 'pixel' ? rng.normals(c * h * w) : mode === 'rand' ? rng.normals(c) : null;
      for (let ch = 0; ch < c; ch++)
        for (let y = 0; y < h; y++)
          for (let x = 0; x < w; x++) {
            const v = values === null ? 0 : mode === 'pixel' ? values[(ch * h + y) * w + x]! : values[ch]!;
            image[(ch * imgH + top + y) * imgW + left + x] = v;
          }
      return true;
    }
  }
  return false;
}
