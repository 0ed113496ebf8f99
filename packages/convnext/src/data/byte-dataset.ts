/**
 * Datasets whose examples are 8-bit images of any size (decoded photos): besides the
 * fixed-size float images of {@link ImageDataset} (their evaluation transform), they hand
 * the augmentation pipeline the bytes themselves, so that a random resized crop reads
 * the full-resolution picture.
 */
import type { ByteImage } from './byte-image.js';
import type { ImageDataset } from './dataset.js';

/** An image dataset that also gives each example as bytes at its stored size. */
export interface ByteImageDataset extends ImageDataset {
  /** Example `i` as bytes (the same every time; may be larger than `shape`) and its label. */
  getBytes(i: number): { readonly image: ByteImage; readonly label: number };
}

/** Whether `ds` gives its examples as bytes too. */
export function isByteImageDataset(ds: ImageDataset): ds is ByteImageDataset {
  return typeof (ds as Partial<ByteImageDataset>).getBytes === 'function';
}
