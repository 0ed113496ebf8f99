/**
 * The geometric transforms of the ImageNet recipe on byte images: torchvision's
 * RandomResizedCrop (its `get_params` algorithm: 10 tries at a random area and log-uniform
 * aspect ratio, then the central-crop fallback) with an antialiased bicubic resize, and
 * the evaluation transform (resize the shorter side to `size / cropPct`, centre crop).
 */
import { roundHalfEven, type ByteImage, type Rng } from './byte-image.js';
import { resizeByteImage, resizeShorterSide, type ResizeFilter } from './resize.js';

/** RandomResizedCrop settings (defaults: the paper's and torchvision's). */
export interface ResizedCropOptions {
  /** Range of the crop's area as a fraction of the image (default [0.08, 1]). */
  readonly scale?: readonly [number, number];
  /** Range of the crop's aspect ratio w/h (default [3/4, 4/3]), drawn log-uniformly. */
  readonly ratio?: readonly [number, number];
  /** Resize filter (default bicubic, the ConvNeXt recipe's). */
  readonly filter?: ResizeFilter;
}

/** A crop rectangle: top row, left column, height, width (torchvision's `i, j, h, w`). */
export interface CropBox {
  readonly top: number;
  readonly left: number;
  readonly height: number;
  readonly width: number;
}

/** torchvision `RandomResizedCrop.get_params` for a `width x height` image. */
export function randomResizedCropParams(width: number, height: number, rng: Rng, opts: ResizedCropOptions = {}): CropBox {
  const [s0, s1] = opts.scale ?? [0.08, 1];
  const [r0, r1] = opts.ratio ?? [3 / 4, 4 / 3];
  if (!(s0 > 0 && s0 <= s1)) throw new RangeError(`RandomResizedCrop: scale must be 0 < min <= max, got [${s0}, ${s1}]`);
  if (!(r0 > 0 && r0 <= r1)) throw new RangeError(`RandomResizedCrop: ratio must be 0 < min <= max, got [${r0}, ${r1}]`);
  const area = width * height;
  const [l0, l1] = [Math.log(r0), Math.log(r1)];
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * rng.uniform(s0, s1);
    const aspect = Math.exp(rng.uniform(l0, l1));
    const w = roundHalfEven(Math.sqrt(target * aspect));
    const h = roundHalfEven(Math.sqrt(target / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.randint(0, height - h);
      const left = rng.randint(0, width - w);
      return { top, left, height: h, width: w };
    }
  }
  // Fallback: the largest central crop with the ratio clamped into range.
  const inRatio = width / height;
  let [w, h] = [width, height];
  if (inRatio < r0) h = roundHalfEven(w / r0);
  else if (inRatio > r1) w = roundHalfEven(h * r1);
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/** RandomResizedCrop to `size x size`: a random crop (see {@link randomResizedCropParams}) resized antialiased. */
export function randomResizedCrop(img: ByteImage, size: number, rng: Rng, opts: ResizedCropOptions = {}): ByteImage {
  const b = randomResizedCropParams(img.width, img.height, rng, opts);
  return resizeByteImage(img, size, size, { filter: opts.filter ?? 'bicubic', box: [b.left, b.top, b.width, b.height] });
}

/** torchvision `CenterCrop(size)` (offsets `round((H - h) / 2)`, ties to even); the image must be at least that big. */
export function centerCrop(img: ByteImage, width: number, height: number): ByteImage {
  if (img.width < width || img.height < height) throw new RangeError(`centerCrop: ${width}x${height} does not fit in a ${img.width}x${img.height} image`);
  const top = roundHalfEven((img.height - height) / 2);
  const left = roundHalfEven((img.width - width) / 2);
  return resizeByteImage(img, width, height, { box: [left, top, width, height] });
}

/**
 * timm's evaluation transform: resize the shorter side to `floor(size / cropPct)`
 * (bicubic, antialiased), then centre-crop `size x size`. `cropPct` 0.875 is timm's
 * default (ConvNeXt's eval uses 0.875 at 224: 256 then 224).
 */
export function evalResizeCrop(img: ByteImage, size: number, cropPct = 0.875, filter: ResizeFilter = 'bicubic'): ByteImage {
  if (!(cropPct > 0 && cropPct <= 1)) throw new RangeError(`evalResizeCrop: cropPct must be in (0, 1], got ${cropPct}`);
  const scaled = resizeShorterSide(img, Math.floor(size / cropPct), filter);
  return centerCrop(scaled, size, size);
}
