/** Tiny MNIST-format datasets for tests: IDX files written to a folder, gzipped or not. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { encodeIdx } from '../../src/data/idx.js';

/** The image of class `label` (variant `k`): a bright bar whose position and direction depend on the class, on a faint noise floor. */
export function classImage(label: number, k: number, side = 28): Uint8Array {
  const img = new Uint8Array(side * side);
  for (let p = 0; p < img.length; p++) img[p] = (p * 31 + k * 17 + label * 7) % 23;
  const at = 2 + ((label % 5) * (side - 6)) / 4;
  for (let t = 0; t < side; t++) {
    for (let d = 0; d < 3; d++) {
      const pos = Math.round(at) + d;
      img[label < 5 ? pos * side + t : t * side + pos] = 200 + ((k * 13) % 56);
    }
  }
  return img;
}

/** Images and labels of `n` examples, the classes in turn. */
export function idxSplit(n: number, side = 28, seedOffset = 0): { images: Uint8Array; labels: Uint8Array } {
  const images = new Uint8Array(n * side * side);
  const labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 10;
    images.set(classImage(i % 10, i + seedOffset, side), i * side * side);
  }
  return { images, labels };
}

/**
 * Writes the four Fashion-MNIST/MNIST files (`train-images-idx3-ubyte[.gz]` ...) into `dir`
 * with `train` and `test` examples; returns `dir`.
 */
export function writeIdxDataset(dir: string, opts: { train: number; test: number; gzip?: boolean; side?: number }): string {
  mkdirSync(dir, { recursive: true });
  const side = opts.side ?? 28;
  const gz = opts.gzip ?? true;
  const put = (name: string, bytes: Uint8Array) => writeFileSync(join(dir, gz ? `${name}.gz` : name), gz ? gzipSync(bytes) : bytes);
  for (const [prefix, n, off] of [['train', opts.train, 0], ['t10k', opts.test, 1000]] as const) {
    const { images, labels } = idxSplit(n, side, off);
    put(`${prefix}-images-idx3-ubyte`, encodeIdx([n, side, side], images));
    put(`${prefix}-labels-idx1-ubyte`, encodeIdx([n], labels));
  }
  return dir;
}
