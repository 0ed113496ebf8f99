/**
 * `predict` in Node: image files or folders → top-k classes with probabilities, from a
 * trained run (its classes, input size and normalisation) or from official / timm ConvNeXt
 * weights (`.pth` or `.safetensors`; ImageNet-1k class names when the head has 1000 classes).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fromTypedArray, noGrad, tidy, type Tensor } from '@tsgrad/core';
import { loadSafetensors } from '@tsgrad/nn/node';
import { CheckpointError } from '../checkpoint/errors.js';
import { loadPthFile } from '../checkpoint/pth-node.js';
import { CIFAR100_CLASSES, CIFAR100_COARSE_CLASSES, CIFAR10_CLASSES } from '../data/cifar.js';
import { DATASET_STATS, datasetImageSize, datasetNormalization, type Normalization } from '../data/datasets.js';
import { ImageFolderDataset } from '../data/image-folder.js';
import { decodeImageFile, IMAGE_EXTENSIONS } from '../data/node/image-folder-node.js';
import { openDatasetNode } from '../data/node/open-datasets-node.js';
import { FASHION_MNIST_CLASSES, MNIST_CLASSES } from '../data/mnist.js';
import { SHAPE_CLASSES } from '../data/shapes.js';
import { resolveRun } from '../eval.js';
import { IMAGENET_CLASSES } from '../imagenet-classes.js';
import type { ConvNeXt, ConvNeXtVariant } from '../model.js';
import { loadCheckpoint } from '../train/checkpoint.js';
import { defaultTrainConfig, type TrainConfig } from '../train/config.js';
import { runModel } from '../train/engine.js';
import { convnextFromStateDict, type InferredArch } from './from-state-dict.js';
import { evalTransform, topK, type Prediction } from './preprocess.js';

/** A model ready to classify images, with what its inputs must look like. */
export interface PredictModel {
  /** The model, in eval mode. */
  readonly model: ConvNeXt;
  /** Class names, in logit order. */
  readonly classes: readonly string[];
  /** Per-channel normalisation of [0, 1] pixels. */
  readonly normalization: Normalization;
  /** Model input side. */
  readonly imageSize: number;
  /** Crop share of the eval transform (resize the shorter side to `imageSize / cropPct`, center-crop `imageSize`). */
  readonly cropPct: number;
  /** A run on an image folder: images are first reduced to this shorter side, as its validation saw them (see `EvalTransformOptions.maxSide`). */
  readonly maxSide?: number;
  /** Input channels (1: images are converted to grey). */
  readonly channels: 1 | 3;
  /** What was loaded, for the report. */
  readonly description: string;
}

/** A weights file's state dict, and its safetensors metadata (empty for `.pth`). */
export interface WeightsFile {
  /** The tensors. */
  readonly tensors: Record<string, Tensor>;
  /** String metadata of a safetensors header. */
  readonly metadata: Readonly<Record<string, string>>;
}

/** Reads a state dict from `.pth` (torch.save) or `.safetensors`, told apart by content. */
export async function loadWeightsFile(path: string): Promise<WeightsFile> {
  if (!existsSync(path)) throw new Error(`weights file '${path}' does not exist`);
  const head = new Uint8Array(readFileSync(path).subarray(0, 4));
  // A zip (torch.save) starts with 'PK'; safetensors with its 8-byte header length.
  if (head[0] === 0x50 && head[1] === 0x4b) return { tensors: await loadPthFile(path, { unknownGlobals: 'opaque' }), metadata: {} };
  let loaded: Awaited<ReturnType<typeof loadSafetensors>>;
  try {
    loaded = await loadSafetensors(path);
  } catch (e) {
    throw new Error(`'${path}' is neither a torch.save (.pth) file nor safetensors: ${(e as Error).message}`);
  }
  if (loaded.metadata?.['tsgrad.train']) throw new Error(`'${path}' is a tsgrad training checkpoint; pass its run folder as RUN instead of --weights`);
  return { tensors: loaded.tensors, metadata: loaded.metadata ?? {} };
}

/**
 * The stem stride a tsgrad safetensors export recorded (`tsgrad.convnext`), needed when the
 * stem overlaps (its kernel then differs from the stride); undefined without one.
 */
function exportedStemStride(meta: Readonly<Record<string, string>>): number | undefined {
  try {
    const arch = meta['tsgrad.convnext'] === undefined ? undefined : (JSON.parse(meta['tsgrad.convnext']!) as { stemStride?: unknown });
    return typeof arch?.stemStride === 'number' ? arch.stemStride : undefined;
  } catch {
    throw new CheckpointError(`the 'tsgrad.convnext' metadata is not valid JSON`);
  }
}

/** What `tsgrad-convnext export` records about a run in the safetensors metadata, when valid. */
function exportedRunInfo(meta: Readonly<Record<string, string>>): { classes?: string[]; normalization?: Normalization; imageSize?: number; cropPct?: number; maxSide?: number } {
  const parse = (k: string): unknown => {
    try {
      return meta[k] === undefined ? undefined : JSON.parse(meta[k]!);
    } catch {
      return undefined;
    }
  };
  const classes = parse('tsgrad.classes');
  const norm = parse('tsgrad.normalization') as Normalization | undefined;
  const size = parse('tsgrad.imageSize');
  const crop = parse('tsgrad.cropPct');
  const maxSide = parse('tsgrad.maxSide');
  return {
    ...(Array.isArray(classes) && classes.every((c) => typeof c === 'string') ? { classes: classes as string[] } : {}),
    ...(norm && Array.isArray(norm.mean) && Array.isArray(norm.std) ? { normalization: { mean: norm.mean, std: norm.std } } : {}),
    ...(typeof size === 'number' && Number.isInteger(size) && size > 0 ? { imageSize: size } : {}),
    ...(typeof crop === 'number' && crop > 0 && crop <= 1 ? { cropPct: crop } : {}),
    ...(typeof maxSide === 'number' && Number.isInteger(maxSide) && maxSide > 0 ? { maxSide } : {}),
  };
}

/**
 * The safetensors metadata `tsgrad-convnext export` writes for a run, so that predict
 * `--weights` on the file preprocesses and names classes as predict on the run does:
 * classes, normalisation, input size, eval crop share and an image folder's `maxSide`.
 */
export function predictMetadata(pm: PredictModel): Record<string, string> {
  return {
    'tsgrad.classes': JSON.stringify(pm.classes),
    'tsgrad.normalization': JSON.stringify(pm.normalization),
    'tsgrad.imageSize': JSON.stringify(pm.imageSize),
    'tsgrad.cropPct': JSON.stringify(pm.cropPct),
    ...(pm.maxSide !== undefined ? { 'tsgrad.maxSide': JSON.stringify(pm.maxSide) } : {}),
  };
}

/** Options of {@link loadWeightsForPredict}. */
export interface WeightsPredictOptions {
  /** The variant the weights must be (optional: the architecture is read from the weights). */
  readonly model?: ConvNeXtVariant;
  /** Class names file (one per line); default: those a tsgrad export recorded, ImageNet-1k's for 1000 classes, else `class N`. */
  readonly classesFile?: string;
  /** Input side (default: a tsgrad export's recorded size, else 224). */
  readonly imageSize?: number;
  /** Crop share (default 0.875, timm's for ConvNeXt at 224; for a tsgrad export of a run, the run's: recorded, else 1). */
  readonly cropPct?: number;
}

/**
 * Official or timm ConvNeXt weights (ImageNet statistics) as a {@link PredictModel}; a
 * safetensors file written by `tsgrad-convnext export` from a run brings back that run's
 * classes, normalisation and input size from its metadata.
 */
export async function loadWeightsForPredict(path: string, o: WeightsPredictOptions = {}): Promise<PredictModel & { readonly arch: InferredArch }> {
  const { tensors: sd, metadata } = await loadWeightsFile(path);
  const { model, arch } = convnextFromStateDict(sd, o.model, exportedStemStride(metadata));
  for (const t of Object.values(sd)) t.dispose();
  model.eval();
  // A file written by `tsgrad-convnext export` from a run carries its classes, normalisation and input size.
  const run = exportedRunInfo(metadata);
  let classes: readonly string[];
  if (o.classesFile) {
    classes = readFileSync(o.classesFile, 'utf8').split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0);
    if (classes.length !== arch.numClasses) throw new Error(`--classes '${o.classesFile}' names ${classes.length} classes but the weights' head has ${arch.numClasses}`);
  } else if (run.classes && run.classes.length === arch.numClasses) {
    classes = run.classes;
  } else {
    classes = arch.numClasses === 1000 ? IMAGENET_CLASSES : Array.from({ length: arch.numClasses }, (_, i) => `class ${i}`);
  }
  const fromRun = run.normalization && run.normalization.mean.length === arch.inChans ? run.normalization : null;
  const normalization = fromRun ?? (arch.inChans === 3 ? DATASET_STATS.imagenet : arch.inChans === 1 ? { mean: [0.449], std: [0.226] } : null);
  if (!normalization) throw new CheckpointError(`the weights take ${arch.inChans} input channels; predict feeds images as 3 (RGB) or 1 (grey)`);
  const name = arch.variant ? `ConvNeXt-${arch.variant}` : `ConvNeXt (depths [${arch.depths.join(', ')}], dims [${arch.dims.join(', ')}])`;
  return {
    model,
    arch,
    classes,
    normalization,
    imageSize: o.imageSize ?? run.imageSize ?? 224,
    // Exports from before tsgrad.cropPct was recorded came from runs predicted at crop 1.
    cropPct: o.cropPct ?? run.cropPct ?? (run.imageSize ? 1 : 0.875),
    ...(run.maxSide !== undefined ? { maxSide: run.maxSide } : {}),
    channels: arch.inChans as 1 | 3,
    description: `${name}, ${arch.numClasses} classes, from ${path}`,
  };
}

/** What predict needs of a run's dataset: class names, image side, and how its validation crops. */
interface RunDatasetInfo {
  readonly classes: readonly string[];
  readonly imageSize: number;
  readonly cropPct: number;
  readonly maxSide?: number;
}

/** A run's dataset as predict needs it (see {@link RunDatasetInfo}), without its files when they are gone. */
function runDataset(c: TrainConfig): RunDatasetInfo {
  try {
    const ds = openDatasetNode(c, 'val');
    // An image folder validates with timm's eval crop on images reduced to maxSide (ImageFolderDataset.get); predict does the same.
    if (ds instanceof ImageFolderDataset) return { classes: ds.classes, imageSize: ds.shape[1], cropPct: ds.opts.cropPct ?? 0.875, maxSide: ds.opts.maxSide ?? 2 * ds.opts.imageSize };
    // The other datasets are stored at the model's size: their eval sees the whole image, so predict resizes the whole picture (crop 1).
    return { classes: ds.classes, imageSize: ds.shape[1], cropPct: 1 };
  } catch (e) {
    const known: Record<string, RunDatasetInfo> = {
      shapes: { classes: SHAPE_CLASSES, imageSize: datasetImageSize('shapes', c.imageSize), cropPct: 1 },
      mnist: { classes: MNIST_CLASSES, imageSize: datasetImageSize('mnist', c.imageSize), cropPct: 1 },
      'fashion-mnist': { classes: FASHION_MNIST_CLASSES, imageSize: datasetImageSize('fashion-mnist', c.imageSize), cropPct: 1 },
      cifar10: { classes: CIFAR10_CLASSES, imageSize: 32, cropPct: 1 },
      cifar100: { classes: c.cifar100Labels === 'coarse' ? CIFAR100_COARSE_CLASSES : CIFAR100_CLASSES, imageSize: 32, cropPct: 1 },
    };
    const k = known[c.dataset];
    if (!k) throw new Error(`the run's dataset '${c.dataset}' cannot be opened to read its class names: ${(e as Error).message}`);
    return k;
  }
}

/** A trained run (folder or checkpoint) as a {@link PredictModel}: its classes, input size and normalisation; the EMA weights when it kept an EMA. */
export async function loadRunForPredict(run: string): Promise<PredictModel> {
  const { checkpoint } = resolveRun(run);
  const loaded = await loadCheckpoint(checkpoint);
  const config: TrainConfig = { ...defaultTrainConfig, ...loaded.config };
  const { tensors } = await loadSafetensors(checkpoint);
  const head = tensors['model.head.weight']?.shape;
  const stem = tensors['model.downsample_layers.0.0.weight']?.shape;
  for (const t of Object.values(tensors)) t.dispose();
  if (!head || !stem) throw new Error(`checkpoint '${checkpoint}' has no ConvNeXt head or stem weights`);
  const inChans = stem[1]!;
  const model = runModel(config, head[0]!, inChans);
  const which = loaded.applyWeights(model);
  model.eval();
  const { classes, imageSize, cropPct, maxSide } = runDataset(config);
  if (classes.length !== head[0]) throw new Error(`the run's head has ${head[0]} classes but its dataset ${config.dataset} has ${classes.length}`);
  const arch = config.depths || config.dims ? 'custom' : config.model;
  return {
    model,
    classes,
    normalization: datasetNormalization(config.dataset, inChans),
    imageSize,
    cropPct,
    ...(maxSide !== undefined ? { maxSide } : {}),
    channels: inChans as 1 | 3,
    description: `ConvNeXt-${arch} trained on ${config.dataset} (${which === 'ema' ? 'EMA weights' : 'model weights'}), from ${checkpoint}`,
  };
}

/** The image files named by `paths`: files as given, folders searched recursively for {@link IMAGE_EXTENSIONS}, sorted. */
export function listImages(paths: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if ((IMAGE_EXTENSIONS as readonly string[]).includes(extname(e.name).toLowerCase())) out.push(p);
    }
  };
  for (const p of paths) {
    if (!existsSync(p)) throw new Error(`'${p}' does not exist`);
    if (statSync(p).isDirectory()) {
      const before = out.length;
      walk(p);
      if (out.length === before) throw new Error(`folder '${p}' has no ${IMAGE_EXTENSIONS.join(' / ')} images`);
    } else out.push(p);
  }
  return out;
}

/** One image's result. */
export interface ImagePrediction {
  /** The image file. */
  readonly file: string;
  /** The top classes, most probable first. */
  readonly top: readonly Prediction[];
}

/** Options of {@link predictImages}. */
export interface PredictImagesOptions {
  /** How many classes per image (default 5). */
  readonly topK?: number;
  /** Images per forward pass (default 16). */
  readonly batchSize?: number;
}

/** Classifies image files with a {@link PredictModel}. */
export async function predictImages(pm: PredictModel, files: readonly string[], o: PredictImagesOptions = {}): Promise<ImagePrediction[]> {
  const k = o.topK ?? 5;
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`top-k must be a positive integer, got ${k}`);
  const bs = o.batchSize ?? 16;
  const size = pm.imageSize;
  const per = pm.channels * size * size;
  const out: ImagePrediction[] = [];
  for (let s = 0; s < files.length; s += bs) {
    const batch = files.slice(s, s + bs);
    const x = new Float32Array(batch.length * per);
    batch.forEach((f, i) => x.set(evalTransform(decodeImageFile(f), { size, cropPct: pm.cropPct, mean: pm.normalization.mean, std: pm.normalization.std, channels: pm.channels, ...(pm.maxSide !== undefined ? { maxSide: pm.maxSide } : {}) }), i * per));
    const logits = tidy(() => noGrad(() => Float32Array.from(pm.model.forward(fromTypedArray(x, [batch.length, pm.channels, size, size], 'float32')).dataSync() as Float32Array)));
    const n = pm.classes.length;
    batch.forEach((file, i) => out.push({ file, top: topK(logits.subarray(i * n, (i + 1) * n), k, pm.classes) }));
  }
  return out;
}

