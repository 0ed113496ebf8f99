/**
 * Batches from a dataset: a seeded shuffle per epoch, per-image augmentation, and
 * normalisation, assembled on the host and uploaded once per batch. Batch `b` of epoch
 * `e` depends only on `(seed, e, b)`, so a resumed run sees exactly the batches it would
 * have seen.
 */
import { Generator, Tensor, fromTypedArray } from '@tsgrad/core';
import { augmentExample, exampleGenerator, type ImageAugment } from './augment.js';
import type { ImageDataset } from './dataset.js';
import { parseRandAugment } from './randaugment.js';

/** Options of {@link DataLoader}. */
export interface LoaderOptions {
  readonly batchSize: number;
  /** Reshuffle every epoch (default true). */
  readonly shuffle?: boolean;
  /** Seed of the shuffles and augmentations. */
  readonly seed?: number;
  /** Per-image augmentation (default none). */
  readonly augment?: ImageAugment;
  /** Augment only epochs before this one (0-based; default: every epoch): later epochs give the plain images. */
  readonly augmentUntilEpoch?: number;
  /** Per-channel mean and std subtracted and divided (default: none). */
  readonly normalize?: { readonly mean: readonly number[]; readonly std: readonly number[] };
  /** Drop the last incomplete batch (default true for training loaders). */
  readonly dropLast?: boolean;
}

/** A batch on the host: `N * C * H * W` normalised pixels and `N` labels (what worker threads send back). */
export interface HostBatch {
  readonly pixels: Float32Array;
  readonly labels: Int32Array;
  /** `[N, C, H, W]`. */
  readonly shape: readonly [number, number, number, number];
}

/** Uploads a host batch as tensors on the current backend. */
export function hostBatchToTensors(b: HostBatch): LoadedBatch {
  return { images: fromTypedArray(b.pixels, [...b.shape], 'float32'), labels: fromTypedArray(b.labels, [b.shape[0]], 'int32') };
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
  /** The augmentation with its RandAugment string parsed once (fill colour: the normalisation mean, as timm). */
  private readonly aug: ImageAugment | undefined;

  constructor(
    readonly dataset: ImageDataset,
    readonly opts: LoaderOptions,
  ) {
    const ra = opts.augment?.randAugment;
    this.aug = opts.augment && typeof ra === 'string' ? { ...opts.augment, randAugment: parseRandAugment(ra, opts.normalize?.mean ?? new Array<number>(dataset.shape[0]).fill(0.5)) } : opts.augment;
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

  private lastOrder: { epoch: number; order: Int32Array } | null = null;

  /** The order of examples in `epoch` (the last epoch's is kept: batches ask for it often). */
  order(epoch: number): Int32Array {
    if (this.lastOrder?.epoch === epoch) return this.lastOrder.order;
    const n = this.dataset.length;
    const idx = Int32Array.from({ length: n }, (_, i) => i);
    if (this.opts.shuffle ?? true) {
      const u = new Generator((this.opts.seed ?? 0) * 7919 + epoch + 1).uniform(n);
      for (let i = n - 1; i > 0; i--) {
        const j = Math.floor(u[i]! * (i + 1));
        [idx[i], idx[j]] = [idx[j]!, idx[i]!];
      }
    }
    this.lastOrder = { epoch, order: idx };
    return idx;
  }

  /** Batch `b` of `epoch` (0-based), on the current backend. */
  batch(epoch: number, b: number, order = this.order(epoch)): LoadedBatch {
    return hostBatchToTensors(this.hostBatch(epoch, b, order));
  }

  /** The dataset indices of batch `b` of `epoch`. */
  batchIndices(epoch: number, b: number, order = this.order(epoch)): Int32Array {
    if (b < 0 || b >= this.batchesPerEpoch) throw new RangeError(`DataLoader: batch ${b} is out of range (${this.batchesPerEpoch} per epoch)`);
    const bs = this.opts.batchSize;
    return order.subarray(b * bs, Math.min(order.length, (b + 1) * bs));
  }

  /**
   * Example `i` as the loader gives it in `epoch`: augmented (its draws depend only on
   * seed, epoch and `i`) and normalised, `C * H * W` values.
   */
  example(epoch: number, i: number): { image: Float32Array; label: number } {
    const g = exampleGenerator(this.opts.seed ?? 0, epoch, i);
    const augmented = epoch < (this.opts.augmentUntilEpoch ?? Infinity);
    return augmentExample(this.dataset, i, (augmented && this.aug) || {}, g, this.opts.normalize);
  }

  /** Batch `b` of `epoch` on the host (no tensors): what {@link batch} uploads. */
  hostBatch(epoch: number, b: number, order = this.order(epoch)): HostBatch {
    const picks = this.batchIndices(epoch, b, order);
    const [c, h, w] = this.dataset.shape;
    const per = c * h * w;
    const pixels = new Float32Array(picks.length * per);
    const labels = new Int32Array(picks.length);
    picks.forEach((i, k) => {
      const ex = this.example(epoch, i);
      pixels.set(ex.image, k * per);
      labels[k] = ex.label;
    });
    return { pixels, labels, shape: [picks.length, c, h, w] };
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
