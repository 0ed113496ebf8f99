/**
 * An image dataset from parsed IDX arrays (MNIST, Fashion-MNIST and their kin) — the
 * browser-safe counterpart of the file-reading `MnistDataset` in `@tsgrad/convnext/node`:
 * get the arrays with `decodeIdx` from a dropped `File` or a `fetch` response.
 */
import { checkIndex, type Example, type ImageDataset } from './dataset.js';
import type { IdxArray } from './idx.js';
import { resizeByteImage } from './resize.js';

/** Options of {@link IdxImageDataset}. */
export interface IdxImageDatasetOptions {
  /** The class names, in label order (e.g. `FASHION_MNIST_CLASSES`). */
  readonly classes: readonly string[];
  /** The dataset's name (default `idx`). */
  readonly name?: string;
  /** 1 (default): grey images as they are; 3: the grey channel repeated to RGB. */
  readonly inChans?: 1 | 3;
  /**
   * Side to resize the images to (PIL's antialiased bicubic, once, when the dataset is made);
   * absent: as stored (28 for MNIST). 32 gives a stride-2 ConvNeXt stage maps of 16, 8, 4
   * and 2 pixels instead of 14, 7, 3 and 1, where each 2x2 downsampling drops a row and column.
   */
  readonly imageSize?: number;
  /** The files the arrays came from, named in errors (the Node reader sets them). */
  readonly files?: { readonly images: string; readonly labels: string };
}

/** Grey images `[count, rows, cols]` and labels `[count]` from IDX arrays, pixels scaled to [0, 1]. */
export class IdxImageDataset implements ImageDataset {
  readonly name: string;
  readonly classes: readonly string[];
  readonly shape: readonly [number, number, number];
  readonly length: number;
  private readonly pixels: Uint8Array;
  private readonly labels: Uint8Array;

  constructor(images: IdxArray, labels: IdxArray, opts: IdxImageDatasetOptions) {
    const name = opts.name ?? 'idx';
    const inChans = opts.inChans ?? 1;
    if (inChans !== 1 && inChans !== 3) throw new RangeError(`${name}: inChans must be 1 or 3, got ${String(inChans)}`);
    const f = opts.files;
    if (images.dims.length !== 3) {
      throw new Error(`${name}: ${f ? `'${f.images}' is not an image file: it holds` : 'the images are'} a ${images.dims.length}-D array [${images.dims.join(', ')}], expected [count, rows, cols]`);
    }
    if (labels.dims.length !== 1) {
      throw new Error(`${name}: ${f ? `'${f.labels}' is not a label file: it holds` : 'the labels are'} a ${labels.dims.length}-D array [${labels.dims.join(', ')}], expected [count]`);
    }
    const [n, h0, w0] = images.dims as [number, number, number];
    const size = opts.imageSize;
    if (size !== undefined && !(Number.isInteger(size) && size > 0)) throw new RangeError(`${name}: imageSize must be a positive integer, got ${String(size)}`);
    if (labels.dims[0] !== n) {
      throw new Error(`${name}: ${f ? `'${f.images}' has ${n} images but '${f.labels}' has ${labels.dims[0]} labels; the files` : `${n} images but ${labels.dims[0]} labels; the arrays`} do not belong together`);
    }
    if (n === 0 || h0 === 0 || w0 === 0) throw new Error(`${name}: ${f ? `'${f.images}' holds no images` : 'no images'} (dims [${images.dims.join(', ')}])`);
    if (opts.classes.length === 0) throw new RangeError(`${name}: classes is empty`);
    const bad = labels.data.findIndex((l) => l >= opts.classes.length);
    if (bad >= 0) throw new Error(`${name}: label ${bad}${f ? ` in '${f.labels}'` : ''} is ${labels.data[bad]}; labels must be 0..${opts.classes.length - 1}`);
    this.name = name;
    this.classes = opts.classes;
    const [h, w] = size === undefined ? [h0, w0] : [size, size];
    this.pixels = size === undefined || (size === h0 && size === w0) ? images.data : resizeAll(images.data, n, h0, w0, size);
    this.labels = labels.data;
    this.length = n;
    this.shape = [inChans, h, w];
  }

  get(i: number): Example {
    checkIndex(this, i);
    const [c, h, w] = this.shape;
    const hw = h * w;
    const image = new Float32Array(c * hw);
    const at = i * hw;
    for (let k = 0; k < hw; k++) image[k] = this.pixels[at + k]! / 255;
    for (let ch = 1; ch < c; ch++) image.copyWithin(ch * hw, 0, hw);
    return { image, label: this.labels[i]! };
  }
}

/** Each of `n` grey `h` x `w` images resized to `size` x `size` (bicubic, antialiased as PIL). */
function resizeAll(pixels: Uint8Array, n: number, h: number, w: number, size: number): Uint8Array {
  const out = new Uint8Array(n * size * size);
  for (let i = 0; i < n; i++) {
    const img = { width: w, height: h, channels: 1, data: pixels.subarray(i * h * w, (i + 1) * h * w) };
    out.set(resizeByteImage(img, size, size, { filter: 'bicubic' }).data, i * size * size);
  }
  return out;
}
