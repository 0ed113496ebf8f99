/**
 * The datasets the CLI and the training engine know by name and the per-channel mean/std
 * each is normalised with (browser-safe); opening them from files is in open-node.ts.
 */
import type { ImageDataset } from './dataset.js';

/** Names of the datasets `openDatasets` (in `@tsgrad/convnext/node`) opens. */
export const DATASET_NAMES = ['shapes', 'fashion-mnist', 'mnist', 'cifar10', 'cifar100', 'folder'] as const;
/** A dataset name. */
export type DatasetName = (typeof DATASET_NAMES)[number];

/** Per-channel normalisation: `(x - mean) / std` on [0, 1] pixels. */
export interface Normalization {
  /** Per-channel mean. */
  readonly mean: readonly number[];
  /** Per-channel standard deviation. */
  readonly std: readonly number[];
}

/**
 * Per-dataset mean and std of the training images' pixels in [0, 1] (one value for grey
 * datasets, repeated when their images are repeated to 3 channels). `shapes` uses CIFAR-10's
 * (its images are near them); `imagenet` is for official pretrained weights.
 */
export const DATASET_STATS: Readonly<Record<DatasetName | 'imagenet', Normalization>> = {
  shapes: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
  cifar10: { mean: [0.4914, 0.4822, 0.4465], std: [0.247, 0.2435, 0.2616] },
  cifar100: { mean: [0.5071, 0.4865, 0.4409], std: [0.2673, 0.2564, 0.2762] },
  mnist: { mean: [0.1307], std: [0.3081] },
  'fashion-mnist': { mean: [0.286], std: [0.353] },
  imagenet: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  // Photos in a folder: ImageNet's statistics, as timm and the official weights use.
  folder: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
};

/** The normalisation of `name` for images with `channels` channels (grey statistics are repeated to 3). */
export function datasetNormalization(name: DatasetName | 'imagenet', channels: number): Normalization {
  const s = DATASET_STATS[name];
  if (!s) throw new RangeError(`unknown dataset '${String(name)}' (have ${DATASET_NAMES.join(', ')})`);
  if (s.mean.length === channels) return s;
  if (s.mean.length === 1) return { mean: new Array<number>(channels).fill(s.mean[0]!), std: new Array<number>(channels).fill(s.std[0]!) };
  throw new RangeError(`${name}: its statistics are for ${s.mean.length} channels, not ${channels}`);
}

/** The side of a dataset's images: `imageSize` when set, else its own (28 for MNIST and Fashion-MNIST, 32 for the rest). */
export function datasetImageSize(name: DatasetName, imageSize: number | null | undefined): number {
  return imageSize ?? (name === 'mnist' || name === 'fashion-mnist' ? 28 : 32);
}

/** A dataset's train and validation splits. */
export interface DatasetSplits {
  /** The training split. */
  readonly train: ImageDataset;
  /** The validation split (the test split of the file datasets). */
  readonly val: ImageDataset;
}

/** What `openDatasets` needs: the dataset, where its files are, and how to shape it. */
export interface DatasetSpec {
  /** Which dataset. */
  readonly dataset: DatasetName;
  /** Folder of the dataset's files (required for cifar10/cifar100; mnist/fashion-mnist also look in default places). */
  readonly dataDir: string | null;
  /** Input channels: null for the dataset's own (1 for grey, 3 for colour); 3 repeats grey images. */
  readonly inChans?: number | null;
  /** CIFAR-100 labels: `fine` (100 classes, default) or `coarse` (20). */
  readonly cifar100Labels?: 'fine' | 'coarse';
  /** Examples in the built-in dataset's train split. */
  readonly trainSize: number;
  /** Examples in the built-in dataset's validation split. */
  readonly valSize: number;
  /**
   * Side of the images: the built-in shapes are drawn at it, image-folder pictures resized
   * and cropped to it, MNIST/Fashion-MNIST resized to it (bicubic, once at load); CIFAR
   * takes only 32. Null: the dataset's own (32 for shapes and folders, 28 for MNIST).
   */
  readonly imageSize: number | null;
  /** Seed of the built-in dataset (its splits use different seeds derived from it). */
  readonly seed: number;
}
