/**
 * MNIST and Fashion-MNIST from their IDX files (`train-images-idx3-ubyte.gz`,
 * `train-labels-idx1-ubyte.gz`, `t10k-images-idx3-ubyte.gz`, `t10k-labels-idx1-ubyte.gz`,
 * gzipped or not). Found in `dataDir` (also its `raw/` or torchvision's `MNIST/raw/`,
 * `FashionMNIST/raw/`), or, without one, where Debian's `dataset-fashion-mnist` package puts
 * them (`/usr/share/datasets/fashion-mnist`). Grey images come as 1 channel, or repeated to 3
 * with `inChans: 3` (to fit a model with an RGB stem).
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { IdxImageDataset } from './idx-dataset.js';
import { FASHION_MNIST_CLASSES, MNIST_CLASSES } from './classes.js';
import { readIdx } from './idx-node.js';

export { FASHION_MNIST_CLASSES, MNIST_CLASSES } from './classes.js';

/** Where Debian's `dataset-fashion-mnist` package installs the files. */
export const FASHION_MNIST_DEBIAN_DIR = '/usr/share/datasets/fashion-mnist';

/** Which of the two IDX datasets. */
export type IdxDatasetKind = 'mnist' | 'fashion-mnist';

/** The images and labels files of one split. */
export interface IdxFiles {
  /** The `*-images-idx3-ubyte[.gz]` file. */
  readonly images: string;
  /** The `*-labels-idx1-ubyte[.gz]` file. */
  readonly labels: string;
}

/** Options of {@link MnistDataset}. */
export interface MnistOptions {
  /** `mnist` or `fashion-mnist`. */
  readonly kind: IdxDatasetKind;
  /** `train` (60,000 images) or `test` (10,000, the `t10k` files). */
  readonly split: 'train' | 'test';
  /** The folder of the IDX files; null or absent: the default locations ({@link defaultIdxDirs}). */
  readonly dataDir?: string | null;
  /** 1 (default): grey images as they are; 3: the grey channel repeated to RGB. */
  readonly inChans?: 1 | 3;
  /** Side to resize the 28x28 images to (bicubic, once at load); absent: 28. */
  readonly imageSize?: number;
}

/** The folders searched when no `dataDir` is given. */
export function defaultIdxDirs(kind: IdxDatasetKind): string[] {
  return kind === 'fashion-mnist' ? [FASHION_MNIST_DEBIAN_DIR] : [];
}

const DOWNLOAD: Record<IdxDatasetKind, string> = {
  'fashion-mnist':
    "install Debian's package (`apt-get install dataset-fashion-mnist`, which puts them in /usr/share/datasets/fashion-mnist, found without --data-dir), or download them from http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/ (linked from https://github.com/zalandoresearch/fashion-mnist) into a folder and pass it with --data-dir",
  mnist: 'download them from https://ossci-datasets.s3.amazonaws.com/mnist/ (PyTorch\'s mirror of http://yann.lecun.com/exdb/mnist/) into a folder and pass it with --data-dir',
};

/** The file names tried for one IDX file (`stem` like `train-images-idx3-ubyte`), in order. */
function candidates(stem: string): string[] {
  const dotted = stem.replace(/-(idx\d)-/, '.$1-'); // Kaggle's copies: train-images.idx3-ubyte
  return [`${stem}.gz`, stem, `${dotted}.gz`, dotted];
}

/** Finds the images and labels files of `split`, or throws the message that says what to install or download. */
export function findIdxFiles(kind: IdxDatasetKind, split: 'train' | 'test', dataDir?: string | null): IdxFiles {
  const prefix = split === 'train' ? 'train' : 't10k';
  const bases = dataDir ? [dataDir] : defaultIdxDirs(kind);
  const sub = kind === 'mnist' ? 'MNIST' : 'FashionMNIST';
  const dirs = bases.flatMap((d) => [d, join(d, 'raw'), join(d, sub, 'raw')]).filter((d) => existsSync(d) && statSync(d).isDirectory());
  const find = (stem: string) => {
    for (const d of dirs) for (const name of candidates(stem)) if (existsSync(join(d, name))) return join(d, name);
    return null;
  };
  const images = find(`${prefix}-images-idx3-ubyte`);
  const labels = find(`${prefix}-labels-idx1-ubyte`);
  if (images && labels) return { images, labels };
  const want = [`${prefix}-images-idx3-ubyte.gz`, `${prefix}-labels-idx1-ubyte.gz`].filter((_, i) => (i === 0 ? !images : !labels));
  const where = dataDir ? `in '${dataDir}'` + (existsSync(dataDir) ? '' : ' (the folder does not exist)') : bases.length ? `in ${bases.map((b) => `'${b}'`).join(', ')} (no --data-dir given)` : 'anywhere: no --data-dir given';
  throw new Error(
    `${kind}: dataset not found: missing ${want.join(' and ')} (gzipped or not) ${where}. To get the four files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz), ${DOWNLOAD[kind]}`,
  );
}

/** MNIST or Fashion-MNIST read from IDX files (see the module comment for where they are looked for). */
export class MnistDataset extends IdxImageDataset {
  /** The files read. */
  readonly files: IdxFiles;

  constructor(opts: MnistOptions) {
    const { kind, split } = opts;
    const inChans = opts.inChans ?? 1;
    if (inChans !== 1 && inChans !== 3) throw new RangeError(`${kind}: inChans must be 1 or 3, got ${String(inChans)}`);
    const files = findIdxFiles(kind, split, opts.dataDir);
    const classes = kind === 'mnist' ? MNIST_CLASSES : FASHION_MNIST_CLASSES;
    super(readIdx(files.images), readIdx(files.labels), { classes, name: kind, inChans, files, ...(opts.imageSize !== undefined ? { imageSize: opts.imageSize } : {}) });
    this.files = files;
  }
}
