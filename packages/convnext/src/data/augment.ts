/**
 * Data augmentation. Per-image transforms run on the host while a batch is assembled, in
 * the order of timm's training transform: random resized crop, random crop with padding,
 * horizontal flip, RandAugment, normalisation, random erasing. Batch mixing (mixup,
 * cutmix) runs on tensors and turns the labels into soft targets, as the ConvNeXt recipe
 * does. Every random draw of an example comes from its own generator (see
 * {@link exampleGenerator}), so an example's augmentation depends only on (seed, epoch,
 * index): a resumed run, or a worker thread, makes the same pictures.
 */
import { Generator, Tensor, add, fromTypedArray, mul, oneHot } from '@tsgrad/core';
import { isByteImageDataset } from './byte-dataset.js';
import { byteToFloatImage, floatToByteImage, Rng } from './byte-image.js';
import { randomResizedCrop, type ResizedCropOptions } from './crop.js';
import type { ImageDataset } from './dataset.js';
import { parseRandAugment, randAugment, type RandAugmentConfig } from './randaugment.js';
import { randomErase, type RandomErasingOptions } from './random-erasing.js';

/** Per-image augmentation settings. */
export interface ImageAugment {
  /** Pad by this many pixels (reflecting the border), then crop back at a random position (0: off). */
  readonly cropPadding?: number;
  /** Flip left-right with probability 0.5. */
  readonly horizontalFlip?: boolean;
  /**
   * torchvision's RandomResizedCrop to the dataset's image size (true: scale 0.08-1,
   * ratio 3/4-4/3, bicubic; or the options). On datasets with byte images it crops the
   * full-size picture.
   */
  readonly randomResizedCrop?: boolean | ResizedCropOptions;
  /** timm RandAugment: a config string such as `rand-m9-mstd0.5-inc1`, or a parsed config. */
  readonly randAugment?: string | RandAugmentConfig;
  /** timm RandomErasing after normalisation (the recipe: probability 0.25, mode `pixel`). */
  readonly randomErasing?: RandomErasingOptions;
}

/** Normalisation as the loader applies it: `(x - mean) / std` per channel. */
export interface ExampleNormalization {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

const mix32 = (h: number): number => {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
};

/**
 * The generator of example `index`'s augmentation in `epoch` of a run seeded `seed`:
 * the index fills the low 32 bits of the Philox key and a hash of (seed, epoch) the
 * high 21, so streams never overlap within a run.
 */
export function exampleGenerator(seed: number, epoch: number, index: number): Generator {
  const hi = mix32(mix32(seed >>> 0) ^ Math.imul(epoch + 1, 0x9e3779b9)) & 0x1fffff;
  return new Generator(hi * 0x100000000 + (index >>> 0));
}

/**
 * Example `index` of `ds` augmented as `aug` says and normalised, as a CHW float image
 * of `ds.shape` (a new array). Deterministic in (`g`'s seed, `index`).
 */
export function augmentExample(ds: ImageDataset, index: number, aug: ImageAugment, g: Generator, normalize?: ExampleNormalization): { image: Float32Array; label: number } {
  const shape = ds.shape;
  const [c, h, w] = shape;
  const rng = new Rng(g);
  let image: Float32Array;
  let label: number;
  if (aug.randomResizedCrop) {
    const opts = aug.randomResizedCrop === true ? {} : aug.randomResizedCrop;
    let src;
    if (isByteImageDataset(ds)) {
      ({ image: src, label } = ds.getBytes(index));
    } else {
      const ex = ds.get(index);
      [src, label] = [floatToByteImage(ex.image, shape), ex.label];
    }
    if (h !== w) throw new RangeError(`randomResizedCrop: needs square images, the dataset's are ${h}x${w}`);
    if (src.channels !== c) throw new RangeError(`${ds.name}: example ${index} has ${src.channels} channels, expected ${c}`);
    image = byteToFloatImage(randomResizedCrop(src, h, rng, opts));
  } else {
    const ex = ds.get(index);
    [image, label] = [ex.image.slice(), ex.label];
  }
  if (image.length !== c * h * w) throw new Error(`${ds.name}: example ${index} has ${image.length} values, expected ${c * h * w} for shape [${shape.join(', ')}]`);
  if (aug.cropPadding || aug.horizontalFlip) augmentImage(image, shape, aug, g);
  if (aug.randAugment) {
    const cfg = typeof aug.randAugment === 'string' ? parseRandAugment(aug.randAugment, normalize?.mean ?? new Array<number>(c).fill(0.5)) : aug.randAugment;
    image = byteToFloatImage(randAugment(floatToByteImage(image, shape), cfg, rng), image);
  }
  if (normalize) {
    const { mean, std } = normalize;
    for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) image[ch * h * w + p] = (image[ch * h * w + p]! - mean[ch]!) / std[ch]!;
  }
  if (aug.randomErasing && aug.randomErasing.probability > 0) randomErase(image, shape, aug.randomErasing, rng);
  return { image, label };
}

/** Applies `aug` to one CHW image in place, drawing from `g`. */
export function augmentImage(image: Float32Array, shape: readonly [number, number, number], aug: ImageAugment, g: Generator): void {
  const [c, h, w] = shape;
  const u = g.uniform(3);
  const pad = aug.cropPadding ?? 0;
  const dy = pad ? Math.floor(u[0]! * (2 * pad + 1)) - pad : 0;
  const dx = pad ? Math.floor(u[1]! * (2 * pad + 1)) - pad : 0;
  const flip = (aug.horizontalFlip ?? false) && u[2]! < 0.5;
  if (!dy && !dx && !flip) return;
  const src = image.slice();
  const reflect = (i: number, n: number) => (i < 0 ? -i - 1 : i >= n ? 2 * n - i - 1 : i);
  for (let ch = 0; ch < c; ch++)
    for (let y = 0; y < h; y++) {
      const sy = reflect(y + dy, h);
      for (let x = 0; x < w; x++) {
        const sx = reflect((flip ? w - 1 - x : x) + dx, w);
        image[(ch * h + y) * w + x] = src[(ch * h + sy) * w + sx]!;
      }
    }
}

/** Batch mixing settings (PyTorch timm's Mixup semantics, per batch). */
export interface MixAugment {
  /** Mixup Beta(alpha, alpha) (0: off). */
  readonly mixupAlpha?: number;
  /** CutMix Beta(alpha, alpha) (0: off). When both are on, one is chosen per batch with probability 0.5. */
  readonly cutmixAlpha?: number;
  /** Label smoothing folded into the soft targets. */
  readonly labelSmoothing?: number;
}

/** A Beta(a, a) draw from two Gamma(a) draws (Marsaglia-Tsang, with the a < 1 boost). */
function betaSym(a: number, g: Generator): number {
  const gamma = (k: number): number => {
    if (k < 1) return gamma(k + 1) * Math.pow(g.uniform(1)[0]! + 1e-12, 1 / k);
    const d = k - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = g.normal(1)[0]!;
      const v = (1 + c * x) ** 3;
      if (v <= 0) continue;
      const u = g.uniform(1)[0]!;
      if (Math.log(u + 1e-300) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  };
  const x = gamma(a);
  const y = gamma(a);
  return x / (x + y);
}

/**
 * Mixes a batch with its reverse (as timm): returns the mixed images and soft targets
 * `lam * onehot(y) + (1 - lam) * onehot(flip(y))`, label-smoothed. Without mixing it
 * returns the images and smoothed one-hot targets.
 */
export function mixBatch(images: Tensor, labels: Tensor, numClasses: number, mix: MixAugment, g: Generator): { images: Tensor; targets: Tensor } {
  const eps = mix.labelSmoothing ?? 0;
  const hot = add(mul(oneHot(labels, numClasses, 'float32'), 1 - eps), eps / numClasses);
  const useMixup = (mix.mixupAlpha ?? 0) > 0;
  const useCutmix = (mix.cutmixAlpha ?? 0) > 0;
  if (!useMixup && !useCutmix) return { images, targets: hot };
  const cut = useCutmix && (!useMixup || g.uniform(1)[0]! < 0.5);
  let lam = betaSym(cut ? mix.cutmixAlpha! : mix.mixupAlpha!, g);
  const flipped = images.flip(0);
  let mixed: Tensor;
  if (cut) {
    const [, , h, w] = images.shape as [number, number, number, number];
    const ratio = Math.sqrt(1 - lam);
    const [cy, cx] = [Math.floor(g.uniform(1)[0]! * h), Math.floor(g.uniform(1)[0]! * w)];
    const y0 = Math.max(0, cy - Math.floor((h * ratio) / 2));
    const y1 = Math.min(h, cy + Math.floor((h * ratio) / 2));
    const x0 = Math.max(0, cx - Math.floor((w * ratio) / 2));
    const x1 = Math.min(w, cx + Math.floor((w * ratio) / 2));
    const box = new Float32Array(h * w);
    for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) box[y * w + x] = 1;
    const m = fromTypedArray(box, [1, 1, h, w], 'float32', images.backend);
    mixed = add(mul(images, add(mul(m, -1), 1)), mul(flipped, m));
    lam = 1 - ((y1 - y0) * (x1 - x0)) / (h * w); // the exact area kept
  } else {
    mixed = add(mul(images, lam), mul(flipped, 1 - lam));
  }
  const targets = add(mul(hot, lam), mul(hot.flip(0), 1 - lam));
  return { images: mixed, targets };
}
