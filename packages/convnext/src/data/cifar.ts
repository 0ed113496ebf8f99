/**
 * CIFAR-10 in its binary form (`cifar-10-batches-bin/`: `data_batch_1.bin` ...
 * `data_batch_5.bin`, `test_batch.bin`; each record is 1 label byte then 3x32x32 pixel
 * bytes, channel-major). It is not downloaded for you: point `dir` at the extracted folder.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { checkIndex, type Example, type ImageDataset } from './dataset.js';

/** CIFAR-10's class names, in label order. */
export const CIFAR10_CLASSES = ['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck'] as const;

const RECORD = 1 + 3 * 32 * 32;

/** CIFAR-10 read from the binary batches in `dir`. */
export class Cifar10Dataset implements ImageDataset {
  readonly name = 'cifar10';
  readonly classes = CIFAR10_CLASSES;
  readonly shape = [3, 32, 32] as const;
  readonly length: number;
  private readonly bytes: Uint8Array;

  constructor(dir: string, split: 'train' | 'test') {
    const files = split === 'train' ? [1, 2, 3, 4, 5].map((i) => `data_batch_${i}.bin`) : ['test_batch.bin'];
    if (!existsSync(dir) || !statSync(dir).isDirectory()) {
      throw new Error(`cifar10: dataset folder '${dir}' does not exist; download the CIFAR-10 binary version (cifar-10-binary.tar.gz), extract it, and pass the cifar-10-batches-bin folder`);
    }
    const missing = files.filter((f) => !existsSync(join(dir, f)));
    if (missing.length) throw new Error(`cifar10: missing ${missing.join(', ')} in '${dir}' (expected the extracted cifar-10-batches-bin folder)`);
    const parts = files.map((f) => {
      const b = readFileSync(join(dir, f));
      if (b.length === 0 || b.length % RECORD !== 0) {
        throw new Error(`cifar10: '${join(dir, f)}' is truncated or not a CIFAR-10 batch: ${b.length} bytes is not a whole number of ${RECORD}-byte records`);
      }
      return b;
    });
    this.bytes = new Uint8Array(Buffer.concat(parts));
    this.length = this.bytes.length / RECORD;
    for (let i = 0; i < this.length; i++) {
      const label = this.bytes[i * RECORD]!;
      if (label > 9) throw new Error(`cifar10: record ${i} has label ${label}; CIFAR-10 labels are 0..9 (is this CIFAR-100?)`);
    }
  }

  get(i: number): Example {
    checkIndex(this, i);
    const at = i * RECORD;
    const image = new Float32Array(3 * 32 * 32);
    for (let k = 0; k < image.length; k++) image[k] = this.bytes[at + 1 + k]! / 255;
    return { image, label: this.bytes[at]! };
  }
}
