/**
 * CIFAR-10 and CIFAR-100 in their binary forms. CIFAR-10 (`cifar-10-batches-bin/`:
 * `data_batch_1.bin` ... `data_batch_5.bin`, `test_batch.bin`): each record is 1 label byte
 * then 3x32x32 pixel bytes, channel-major. CIFAR-100 (`cifar-100-binary/`: `train.bin`,
 * `test.bin`): each record is a coarse label byte (20 superclasses), a fine label byte (100
 * classes), then the pixels. Neither is downloaded for you: point `dir` at the extracted folder.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { CIFAR10_CLASSES, CIFAR100_CLASSES, CIFAR100_COARSE_CLASSES } from './classes.js';
import { checkIndex, type Example, type ImageDataset } from './dataset.js';

export { CIFAR10_CLASSES, CIFAR100_CLASSES, CIFAR100_COARSE_CLASSES } from './classes.js';

const PIXELS = 3 * 32 * 32;

/** Reads the batch files of one split, checking that each is a whole number of records. */
function readBatches(name: string, title: string, dir: string, files: readonly string[], record: number, folder: string, archive: string): Uint8Array {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new Error(`${name}: dataset folder '${dir}' does not exist; download the ${title} binary version (${archive} from https://www.cs.toronto.edu/~kriz/cifar.html), extract it, and pass the ${folder} folder with --data-dir`);
  }
  const missing = files.filter((f) => !existsSync(join(dir, f)));
  if (missing.length) throw new Error(`${name}: missing ${missing.join(', ')} in '${dir}' (expected the extracted ${folder} folder from ${archive})`);
  const parts = files.map((f) => {
    const b = readFileSync(join(dir, f));
    if (b.length === 0 || b.length % record !== 0) {
      throw new Error(`${name}: '${join(dir, f)}' is truncated or not a ${title} batch: ${b.length} bytes is not a whole number of ${record}-byte records`);
    }
    return b;
  });
  return new Uint8Array(Buffer.concat(parts));
}

/** Converts one record's pixels to a CHW float image in [0, 1]. */
function pixels(bytes: Uint8Array, at: number): Float32Array {
  const image = new Float32Array(PIXELS);
  for (let k = 0; k < PIXELS; k++) image[k] = bytes[at + k]! / 255;
  return image;
}

/** CIFAR-10 read from the binary batches in `dir`. */
export class Cifar10Dataset implements ImageDataset {
  readonly name = 'cifar10';
  readonly classes = CIFAR10_CLASSES;
  readonly shape = [3, 32, 32] as const;
  readonly length: number;
  private readonly bytes: Uint8Array;
  private static readonly RECORD = 1 + PIXELS;

  constructor(dir: string, split: 'train' | 'test') {
    const files = split === 'train' ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ['test_batch.bin'];
    const R = Cifar10Dataset.RECORD;
    this.bytes = readBatches('cifar10', 'CIFAR-10', dir, files, R, 'cifar-10-batches-bin', 'cifar-10-binary.tar.gz');
    this.length = this.bytes.length / R;
    for (let i = 0; i < this.length; i++) {
      const label = this.bytes[i * R]!;
      if (label > 9) throw new Error(`cifar10: record ${i} has label ${label}; CIFAR-10 labels are 0..9 (is this CIFAR-100?)`);
    }
  }

  get(i: number): Example {
    checkIndex(this, i);
    const at = i * Cifar10Dataset.RECORD;
    return { image: pixels(this.bytes, at + 1), label: this.bytes[at]! };
  }
}

/** CIFAR-100 read from `train.bin` / `test.bin` in `dir`, with its fine (default) or coarse labels. */
export class Cifar100Dataset implements ImageDataset {
  readonly name = 'cifar100';
  readonly classes: readonly string[];
  readonly shape = [3, 32, 32] as const;
  readonly length: number;
  private readonly bytes: Uint8Array;
  private readonly labelByte: 0 | 1;
  private static readonly RECORD = 2 + PIXELS;

  constructor(dir: string, split: 'train' | 'test', opts: { readonly labels?: 'fine' | 'coarse' } = {}) {
    const which = opts.labels ?? 'fine';
    if (which !== 'fine' && which !== 'coarse') throw new RangeError(`cifar100: labels must be 'fine' or 'coarse', got '${String(which)}'`);
    const R = Cifar100Dataset.RECORD;
    this.bytes = readBatches('cifar100', 'CIFAR-100', dir, [`${split}.bin`], R, 'cifar-100-binary', 'cifar-100-binary.tar.gz');
    this.length = this.bytes.length / R;
    this.labelByte = which === 'fine' ? 1 : 0;
    this.classes = which === 'fine' ? CIFAR100_CLASSES : CIFAR100_COARSE_CLASSES;
    for (let i = 0; i < this.length; i++) {
      const coarse = this.bytes[i * R]!;
      const fine = this.bytes[i * R + 1]!;
      if (coarse > 19 || fine > 99) {
        throw new Error(`cifar100: record ${i} has coarse label ${coarse} and fine label ${fine}; CIFAR-100 labels are 0..19 and 0..99 (is this a CIFAR-10 batch?)`);
      }
    }
  }

  get(i: number): Example {
    checkIndex(this, i);
    const at = i * Cifar100Dataset.RECORD;
    return { image: pixels(this.bytes, at + 2), label: this.bytes[at + this.labelByte]! };
  }
}
