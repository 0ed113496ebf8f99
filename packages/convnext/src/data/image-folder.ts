/**
 * An image-folder dataset (torchvision's ImageFolder layout) independent of how files are
 * read: it takes the list of files with their labels and a `decode` function (Node:
 * `openImageFolder` in `data/node/image-folder-node.ts`; a browser could pass one built
 * on `createImageBitmap`). Decoded images are reduced so their shorter side is at most
 * `maxSide` (antialiased, PIL-exact) and kept in memory up to `cacheBytes`, so later
 * epochs do not decode again. `get(i)` gives the evaluation view (timm: resize the
 * shorter side to `size / cropPct`, centre crop); `getBytes(i)` the cached picture the
 * training augmentation (random resized crop) reads.
 */
import type { ByteImageDataset } from './byte-dataset.js';
import { byteToFloatImage, checkByteImage, type ByteImage } from './byte-image.js';
import { evalResizeCrop } from './crop.js';
import { checkIndex, type Example } from './dataset.js';
import { resizeShorterSide } from './resize.js';

/** One image file and its class index. */
export interface ImageFolderEntry {
  readonly file: string;
  readonly label: number;
}

/** Options of {@link ImageFolderDataset}. */
export interface ImageFolderOptions {
  /** A short name for logs and errors. */
  readonly name: string;
  /** The images and their labels. */
  readonly entries: readonly ImageFolderEntry[];
  /** Class names, in label order. */
  readonly classes: readonly string[];
  /** Side of the square images the model sees. */
  readonly imageSize: number;
  /** Reads and decodes one file to RGB bytes (throw an error that names the file when it cannot). */
  readonly decode: (file: string) => ByteImage;
  /** Decoded images whose shorter side exceeds this are reduced to it before caching (default `2 * imageSize`). */
  readonly maxSide?: number;
  /** Memory for decoded images (default 1 GiB); once full, further images are decoded each time they are read. */
  readonly cacheBytes?: number;
  /** The evaluation crop fraction (default 0.875, timm's). */
  readonly cropPct?: number;
}

/** A folder of images as an {@link ImageDataset} with byte access for augmentation. */
export class ImageFolderDataset implements ByteImageDataset {
  readonly name: string;
  readonly classes: readonly string[];
  readonly shape: readonly [number, number, number];
  private readonly cache = new Map<number, ByteImage>();
  private cached = 0;
  /** Decodes done so far (cache misses): a test and a benchmark read it to see the cache work. */
  decodes = 0;

  constructor(readonly opts: ImageFolderOptions) {
    if (!Number.isInteger(opts.imageSize) || opts.imageSize <= 0) throw new RangeError(`${opts.name}: imageSize must be a positive integer, got ${opts.imageSize}`);
    if (opts.entries.length === 0) throw new Error(`${opts.name}: no images`);
    for (const e of opts.entries) if (!Number.isInteger(e.label) || e.label < 0 || e.label >= opts.classes.length) throw new RangeError(`${opts.name}: '${e.file}' has label ${e.label}, outside the ${opts.classes.length} classes`);
    this.name = opts.name;
    this.classes = opts.classes;
    this.shape = [3, opts.imageSize, opts.imageSize];
  }

  /** Number of images. */
  get length(): number {
    return this.opts.entries.length;
  }

  /** Bytes held by the cache. */
  get cachedBytes(): number {
    return this.cached;
  }

  /** Image `i` decoded (RGB), reduced to `maxSide`, from the cache when it is there. */
  getBytes(i: number): { image: ByteImage; label: number } {
    checkIndex(this, i);
    const entry = this.opts.entries[i]!;
    const hit = this.cache.get(i);
    if (hit) return { image: hit, label: entry.label };
    this.decodes++;
    let img = this.opts.decode(entry.file);
    checkByteImage(img, entry.file);
    if (img.channels !== 3) throw new Error(`${entry.file}: decoded to ${img.channels} channels, expected RGB`);
    const maxSide = this.opts.maxSide ?? 2 * this.opts.imageSize;
    if (Math.min(img.width, img.height) > maxSide) img = resizeShorterSide(img, maxSide);
    if (this.cached + img.data.length <= (this.opts.cacheBytes ?? 2 ** 30)) {
      this.cache.set(i, img);
      this.cached += img.data.length;
    }
    return { image: img, label: entry.label };
  }

  /** Image `i` as the model sees it at evaluation: shorter side to `size / cropPct`, centre crop, CHW floats in [0, 1]. */
  get(i: number): Example {
    const { image, label } = this.getBytes(i);
    return { image: byteToFloatImage(evalResizeCrop(image, this.opts.imageSize, this.opts.cropPct ?? 0.875)), label };
  }
}
