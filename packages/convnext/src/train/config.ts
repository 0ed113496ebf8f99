/** The training configuration: every knob of a run, with defaults for the built-in demo. */
import { DATASET_NAMES, type DatasetName } from '../data/datasets.js';
import { parseRandAugment } from '../data/randaugment.js';
import type { EraseMode } from '../data/random-erasing.js';
import { checkDownsampleKernel, checkStemKernel, type ConvNeXtVariant } from '../model.js';

/** Everything a training run needs to know; {@link defaultTrainConfig} fills the rest. */
export interface TrainConfig {
  /** ConvNeXt variant (default `atto`). */
  readonly model: ConvNeXtVariant;
  /** A custom architecture instead of the variant's: blocks per stage, or null. */
  readonly depths: readonly number[] | null;
  /** A custom architecture: channels per stage, or null. */
  readonly dims: readonly number[] | null;
  /** Stem stride: 4 is official (224x224 inputs); 2 keeps resolution for 32x32 images (default 2). */
  readonly stemStride: number;
  /** Stem kernel: null (default) for the stride (the paper's patchify); larger overlaps neighbouring patches (ConvNeXtOptions.stemKernel). */
  readonly stemKernel: number | null;
  /** Kernel of the downsampling convs: 2 (default) is the paper's; larger overlaps neighbouring cells (ConvNeXtOptions.downsampleKernel). */
  readonly downsampleKernel: number;
  /** Maximum stochastic depth rate (default 0). */
  readonly dropPath: number;
  /** Dataset: the built-in `shapes`, `fashion-mnist`, `mnist`, `cifar10`, `cifar100` read from files, or `folder` (an image folder at `dataDir`). */
  readonly dataset: DatasetName;
  /** Folder of the dataset files (required for CIFAR and image folders; MNIST and Fashion-MNIST also look in default places). */
  readonly dataDir: string | null;
  /** Model input channels: null for the dataset's own (1 for grey images); 3 repeats grey images to RGB. */
  readonly inChans: number | null;
  /** CIFAR-100 labels: `fine` (100 classes) or `coarse` (20 superclasses). */
  readonly cifar100Labels: 'fine' | 'coarse';
  /** Examples in the built-in dataset's train split. */
  readonly trainSize: number;
  /** Examples in the built-in dataset's validation split. */
  readonly valSize: number;
  /**
   * Side of the images the model sees: the built-in shapes are drawn at it, image-folder
   * pictures cropped/resized to it, MNIST/Fashion-MNIST resized to it (bicubic, once at
   * load); CIFAR takes only 32. Null (default): the dataset's own, 32 for shapes and folders, 28 for MNIST.
   */
  readonly imageSize: number | null;
  /** Image folder without train/ and val/: the fraction of each class held out for validation. */
  readonly valFraction: number;
  /** Image folder: memory for decoded images in MiB (per split); beyond it images are decoded each time. */
  readonly cacheMb: number;
  /** Worker threads that decode and augment batches ahead of the step (0: on the main thread, on demand). */
  readonly workers: number;
  /** Epochs to train. */
  readonly epochs: number;
  /** Images per optimizer step. */
  readonly batchSize: number;
  /** Peak learning rate after warmup. */
  readonly lr: number;
  /** Learning rate at the end of the cosine decay (official: 1e-6). */
  readonly minLr: number;
  /** Linear warmup length in epochs (may be fractional). */
  readonly warmupEpochs: number;
  /** AdamW decoupled weight decay on conv/linear weights (official: 0.05). */
  readonly weightDecay: number;
  /** Label smoothing of the training targets. */
  readonly labelSmoothing: number;
  /** Mixup Beta parameter (0: off). */
  readonly mixup: number;
  /** CutMix Beta parameter (0: off). */
  readonly cutmix: number;
  /** Random crop padding in pixels (0: off); used when the random resized crop is off. */
  readonly cropPadding: number;
  /** Random horizontal flips. */
  readonly flip: boolean;
  /** RandomResizedCrop (the paper's), or null for the dataset's default: on for image folders, off for the small datasets. */
  readonly randomResizedCrop: boolean | null;
  /** RandomResizedCrop's area range (paper: 0.08-1). */
  readonly scale: readonly [number, number];
  /** RandomResizedCrop's aspect-ratio range (paper: 3/4-4/3). */
  readonly ratio: readonly [number, number];
  /** RandAugment as timm's string (`rand-m9-mstd0.5-inc1`, the paper's), `none`, or `auto`: the paper's for image folders, none for the small datasets. */
  readonly aa: string;
  /** Random erasing probability, or null for the dataset's default: 0.25 (the paper's) for image folders, 0 for the small datasets. */
  readonly reprob: number | null;
  /** Random erasing fill: `pixel` (the paper's: per-pixel normal), `rand` (per channel) or `const` (zeros). */
  readonly remode: EraseMode;
  /**
   * Train the last this many epochs (all of them when it is `epochs` or more) on plain
   * images: no crop, flip, RandAugment, erasing or mixup/cutmix (label smoothing stays).
   * The augmentation regularises the early epochs; the plain ones fit the images as they
   * are tested, at the schedule's low learning rates.
   */
  readonly noAugEpochs: number;
  /** Clip the gradient's global norm to this (null: no clipping). */
  readonly clipGrad: number | null;
  /** EMA decay of the weights (null: no EMA). */
  readonly emaDecay: number | null;
  /** Seed of the initialisation, the data order and the augmentations. */
  readonly seed: number;
  /** Backend: `auto` picks wasm when @tsgrad/wasm is installed, else js. */
  readonly backend: 'auto' | 'js' | 'wasm' | 'webgpu';
  /** Folder for the checkpoint, metrics and plot. */
  readonly out: string;
  /** Also save a checkpoint every this many steps (0: only at the end of each epoch). */
  readonly saveEvery: number;
  /**
   * Validate after every this many epochs, and always after the last (1: every epoch). Each
   * validation is a forward pass over the whole validation set: on Fashion-MNIST 10,000
   * images, 5% of a training epoch's time.
   */
  readonly valEvery: number;
}

/** Defaults: ConvNeXt-atto (stem 2) on the built-in shapes dataset, a few minutes on a laptop CPU. */
export const defaultTrainConfig: TrainConfig = {
  model: 'atto',
  depths: null,
  dims: null,
  stemStride: 2,
  stemKernel: null,
  downsampleKernel: 2,
  dropPath: 0,
  dataset: 'shapes',
  dataDir: null,
  inChans: null,
  cifar100Labels: 'fine',
  trainSize: 4096,
  valSize: 512,
  imageSize: null,
  valFraction: 0.1,
  cacheMb: 1024,
  workers: 0,
  epochs: 3,
  batchSize: 64,
  lr: 2e-3,
  minLr: 1e-6,
  warmupEpochs: 0.5,
  weightDecay: 0.05,
  labelSmoothing: 0.1,
  mixup: 0,
  cutmix: 0,
  cropPadding: 2,
  flip: true,
  randomResizedCrop: null,
  scale: [0.08, 1],
  ratio: [3 / 4, 4 / 3],
  aa: 'auto',
  reprob: null,
  remode: 'pixel',
  noAugEpochs: 0,
  clipGrad: null,
  emaDecay: null,
  seed: 0,
  backend: 'auto',
  out: 'runs/convnext',
  saveEvery: 0,
  valEvery: 1,
};

/** Checks a configuration, naming the first bad field. */
export function checkConfig(c: TrainConfig): TrainConfig {
  const positiveInt = ['epochs', 'batchSize', 'trainSize', 'valSize', 'stemStride'] as const;
  for (const k of positiveInt) if (!Number.isInteger(c[k]) || c[k] <= 0) throw new RangeError(`config: ${k} must be a positive integer, got ${c[k]}`);
  if (c.stemKernel !== null && c.stemKernel !== undefined) checkStemKernel('config', c.stemKernel, c.stemStride);
  // Configurations saved before the option have none: the paper's 2.
  if (c.downsampleKernel !== undefined) checkDownsampleKernel('config', c.downsampleKernel);
  if (c.imageSize !== null && !(Number.isInteger(c.imageSize) && c.imageSize > 0)) throw new RangeError(`config: imageSize must be a positive integer or null, got ${c.imageSize}`);
  if (!Number.isInteger(c.noAugEpochs) || c.noAugEpochs < 0) throw new RangeError(`config: noAugEpochs must be a non-negative integer, got ${c.noAugEpochs}`);
  if (!Number.isInteger(c.saveEvery) || c.saveEvery < 0) throw new RangeError(`config: saveEvery must be a non-negative integer, got ${c.saveEvery}`);
  // Configurations saved before the option have none: every epoch.
  if (c.valEvery !== undefined && !(Number.isInteger(c.valEvery) && c.valEvery > 0)) throw new RangeError(`config: valEvery must be a positive integer, got ${c.valEvery}`);
  for (const k of ['lr', 'minLr', 'warmupEpochs', 'weightDecay', 'mixup', 'cutmix', 'cropPadding'] as const) {
    if (!(c[k] >= 0) || !Number.isFinite(c[k])) throw new RangeError(`config: ${k} must be a non-negative number, got ${c[k]}`);
  }
  if (!(c.lr > 0)) throw new RangeError(`config: lr must be positive, got ${c.lr}`);
  if (!(c.labelSmoothing >= 0 && c.labelSmoothing < 1)) throw new RangeError(`config: labelSmoothing must be in [0, 1), got ${c.labelSmoothing}`);
  if (!(c.dropPath >= 0 && c.dropPath < 1)) throw new RangeError(`config: dropPath must be in [0, 1), got ${c.dropPath}`);
  if (c.clipGrad !== null && !(c.clipGrad > 0)) throw new RangeError(`config: clipGrad must be positive, got ${c.clipGrad}`);
  if (c.emaDecay !== null && !(c.emaDecay > 0 && c.emaDecay < 1)) throw new RangeError(`config: emaDecay must be in (0, 1), got ${c.emaDecay}`);
  for (const k of ['depths', 'dims'] as const) {
    const v = c[k];
    if (v !== null && (v.length !== 4 || v.some((n) => !Number.isInteger(n) || n <= 0))) throw new RangeError(`config: ${k} must be 4 positive integers, got [${v.join(', ')}]`);
  }
  if (!DATASET_NAMES.includes(c.dataset)) throw new RangeError(`config: unknown dataset '${String(c.dataset)}' (have ${DATASET_NAMES.join(', ')})`);
  if (c.dataset === 'cifar10' && !c.dataDir) throw new Error('config: dataset cifar10 needs dataDir (the extracted cifar-10-batches-bin folder)');
  if (c.dataset === 'cifar100' && !c.dataDir) throw new Error('config: dataset cifar100 needs dataDir (the extracted cifar-100-binary folder)');
  if (c.inChans !== null && c.inChans !== 1 && c.inChans !== 3) throw new RangeError(`config: inChans must be 1, 3 or null (the dataset's own), got ${c.inChans}`);
  if (c.dataset === 'folder' && !c.dataDir) throw new Error('config: dataset folder needs dataDir (a folder of class folders, or with train/ and val/ inside)');
  if (!Number.isInteger(c.workers) || c.workers < 0) throw new RangeError(`config: workers must be a non-negative integer, got ${c.workers}`);
  if (!(c.cacheMb >= 0) || !Number.isFinite(c.cacheMb)) throw new RangeError(`config: cacheMb must be a non-negative number, got ${c.cacheMb}`);
  if (!(c.valFraction > 0 && c.valFraction < 1)) throw new RangeError(`config: valFraction must be in (0, 1), got ${c.valFraction}`);
  for (const k of ['scale', 'ratio'] as const) {
    const [a, b] = c[k];
    if (c[k].length !== 2 || !(a! > 0 && a! <= b!) || !Number.isFinite(b!)) throw new RangeError(`config: ${k} must be two numbers 0 < min <= max, got [${c[k].join(', ')}]`);
  }
  if (c.scale[1]! > 1) throw new RangeError(`config: scale's maximum is a fraction of the image (<= 1), got ${c.scale[1]}`);
  if (c.aa !== 'auto' && c.aa !== 'none') parseRandAugment(c.aa); // throws a clear error for a bad string
  if (c.reprob !== null && !(c.reprob >= 0 && c.reprob <= 1)) throw new RangeError(`config: reprob must be in [0, 1], got ${c.reprob}`);
  if (c.remode !== 'pixel' && c.remode !== 'rand' && c.remode !== 'const') throw new RangeError(`config: remode must be pixel, rand or const, got '${String(c.remode)}'`);
  if (c.cifar100Labels !== 'fine' && c.cifar100Labels !== 'coarse') throw new RangeError(`config: cifar100Labels must be 'fine' or 'coarse', got '${String(c.cifar100Labels)}'`);
  return c;
}

/** The paper's RandAugment (ConvNeXt's `--aa`). */
export const PAPER_RANDAUGMENT = 'rand-m9-mstd0.5-inc1';

/**
 * Resolves the dataset-dependent augmentation defaults (`aa: 'auto'`, `reprob: null`,
 * `randomResizedCrop: null`): image folders get the paper's recipe (random resized
 * crop, RandAugment rand-m9-mstd0.5-inc1, random erasing 0.25); the small 28/32-pixel
 * datasets get pad-and-crop and flips only, because RandAugment's and the resized
 * crop's strength is tuned for 224-pixel photos and 300-epoch runs, and costs accuracy
 * in the short runs these datasets get here (docs/training.md).
 */
export function resolveAugmentDefaults(c: TrainConfig): TrainConfig {
  const photos = c.dataset === 'folder';
  return {
    ...c,
    aa: c.aa === 'auto' ? (photos ? PAPER_RANDAUGMENT : 'none') : c.aa,
    reprob: c.reprob ?? (photos ? 0.25 : 0),
    randomResizedCrop: c.randomResizedCrop ?? photos,
  };
}
