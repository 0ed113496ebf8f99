/**
 * Batches from a dataset: a seeded shuffle per epoch, per-image augmentation, and
 * normalisation, assembled on the host and uploaded once per batch. Batch `b` of epoch
 * `e` depends only on `(seed, e, b)`, so a resumed run sees exactly the batches it would
 * have seen.
 */
import { Generator, Tensor, fromTypedArray } from '@tsgrad/core';
import { augmentImage, type ImageAugment } from './augment.js';
import type { ImageDataset } from './dataset.js';

/** Options of {@link DataLoader}. */
export interface LoaderOptions {
  readonly batchSize: number;
  /** Reshuffle every epoch (default true). */
  readonly shuffle?: boolean;
  /** Seed of the shuffles and augmentations. */
  readonly seed?: number;
  /** Per-image augmentation (default none). */
  readonly augment?: ImageAugment;
  /** Per-channel mean and std subtracted and divided (default: none). */
  readonly normalize?: { readonly mean: readonly number[]; readonly std: readonly number[] };
  /** Drop the last incomplete batch (default true for training loaders). */
  readonly dropLast?: boolean;
}

/** A batch of images `[N, C, H, W]` (float32) and labels `[N]` (int32). */
export interface LoadedBatch {
  readonly images: Tensor;
  readonly labels: Tensor;
}

/**
 * Iterates a dataset in batches. Iterable like PyTorch's DataLoader: each `for` loop over
 * the loader is the next epoch (reshuffled), yielding `[images, labels]`:
 *
 * ```ts
 * for await (const [x, y] of loader) { ... } // or a plain for...of: batches are made synchronously
 * ```
 *
 * The caller owns each batch's tensors (dispose them, or run the step in `tidy`).
 * {@link DataLoader.epoch} iterates a given epoch.
 */
export class DataLoader {
  /** The epoch the next `for` loop over the loader iterates (starts at 0; each loop adds one). */
  nextEpoch = 0;

  constructor(
    readonly dataset: ImageDataset,
    readonly opts: LoaderOptions,
  ) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize <= 0) throw new RangeError(`DataLoader: batchSize must be a positive integer, got ${opts.batchSize}`);
    if (opts.normalize && (opts.normalize.mean.length !== dataset.shape[0] || opts.normalize.std.length !== dataset.shape[0])) {
      throw new RangeError(`DataLoader: normalize needs one mean and std per channel (${dataset.shape[0]})`);
    }
  }

  /** Batches per epoch. */
  get batchesPerEpoch(): number {
    const n = this.dataset.length / this.opts.batchSize;
    return (this.opts.dropLast ?? true) ? Math.floor(n) : Math.ceil(n);
  }

  /** The order of examples in `epoch`. */
  order(epoch: number): Int32Array {
    const n = this.dataset.length;
    const idx = Int32Array.from({ length: n }, (_, i) => i);
    if (this.opts.shuffle ?? true) {
      const u = new Generator((this.opts.seed ?? 0) * 7919 + epoch + 1).uniform(n);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(u[i]! * (i + 1));
        [idx[i], idx[j]] = [idx[j]!, idx[i]!];
      }
    }
    return idx;
  }

  /** Batch `b` of `epoch` (0-based), on the current backend. */
  batch(epoch: number, b: number, order = this.order(epoch)): LoadedBatch {
    if (b < 0 || b >= this.batchesPerEpoch) throw new RangeError(`DataLoader: batch ${b} is out of range (${this.batchesPerEpoch} per epoch)`);
    const bs = this.opts.batchSize;
    const picks = order.subarray(b * bs, Math.min(order.length, (b + 1) * bs));
    const [c, h, w] = this.dataset.shape;
    const per = c * h * w;
    const pix = new Float32Array(picks.length * per);
    const labels = new Int32Array(picks.length);
    const g = new Generator(((this.opts.seed ?? 0) * 7919 + epoch) * 100_003 + b + 1);
    picks.forEach((i, k) => {
      const ex = this.dataset.get(i);
      if (ex.image.length !== per) throw new Error(`${this.dataset.name}: example ${i} has ${ex.image.length} values, expected ${per} for shape [${this.dataset.shape.join(', ')}]`);
      const img = ex.image.slice();
      if (this.opts.augment) augmentImage(img, this.dataset.shape, this.opts.augment, g);
      if (this.opts.normalize) {
        const { mean, std } = this.opts.normalize;
        for (let ch = 0; ch < c; ch++) for (let p = 0; p < h * w; p++) img[ch * h * w + p] = (img[ch * h * w + p]! - mean[ch]!) / std[ch]!;
      }
      pix.set(img, k * per);
      labels[k] = ex.label;
    });
    return { images: fromTypedArray(pix, [picks.length, c, h, w], 'float32'), labels: fromTypedArray(labels, [picks.length], 'int32') };
  }

  /** The batches of `epoch`, in order, as `[images, labels]`. */
  *epoch(epoch: number): IterableIterator<[Tensor, Tensor]> {
    const order = this.order(epoch);
    for (let b = 0; b < this.batchesPerEpoch; b++) {
      const { images, labels } = this.batch(epoch, b, order);
      yield [images, labels];
    }
  }

  /** The next epoch's batches (see the class comment). */
  [Symbol.iterator](): Iterator<[Tensor, Tensor]> {
    return this.epoch(this.nextEpoch++);
  }

  /** The next epoch's batches, for `for await` (the same batches as the synchronous iterator). */
  async *[Symbol.asyncIterator](): AsyncGenerator<[Tensor, Tensor]> {
    yield* this.epoch(this.nextEpoch++);
  }
}
