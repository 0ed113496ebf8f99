/** The dataset interface the training engine reads: indexed images with class labels. */

/** One example: a CHW float image with values in [0, 1], and its class index. */
export interface Example {
  readonly image: Float32Array;
  readonly label: number;
}

/** A finite, indexable image classification dataset. */
export interface ImageDataset {
  /** A short name for logs and errors. */
  readonly name: string;
  /** Number of examples. */
  readonly length: number;
  /** Class names, in label order. */
  readonly classes: readonly string[];
  /** Image shape `[channels, height, width]`. */
  readonly shape: readonly [number, number, number];
  /** Example `i` (0 <= i < length); the same every time it is asked for. */
  get(i: number): Example;
}

/** Throws a clear error unless `i` indexes `ds`. */
export function checkIndex(ds: ImageDataset, i: number): void {
  if (!Number.isInteger(i) || i < 0 || i >= ds.length) throw new RangeError(`${ds.name}: index ${i} is out of range (the dataset has ${ds.length} examples)`);
}
