/**
 * The training engine: ConvNeXt with the official recipe's moving parts (AdamW with
 * decay only on weights, cosine schedule with linear warmup, label smoothing,
 * mixup/cutmix, stochastic depth, EMA, gradient clipping) on an image dataset, with
 * per-epoch evaluation, atomic checkpoints, exact resumption, metrics and a plot.
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { Generator, argmax, crossEntropy, eq, manualSeed, noGrad, recordFunction, setBackend, sum, tidy } from '@tsgrad/core';
import { AdamW, LRScheduler, ModelEma, clipGradNorm_, cosineSchedule } from '@tsgrad/nn';
import { writeFileAtomic } from '@tsgrad/nn/node';
import { mixBatch } from '../data/augment.js';
import { datasetNormalization } from '../data/datasets.js';
import { DataLoader, hostBatchToTensors, type LoaderOptions } from '../data/loader.js';
import { openDatasetsNode } from '../data/node/open-datasets-node.js';
import { WorkerPoolProducer } from '../data/node/worker-loader-node.js';
import { InlineProducer, Prefetcher } from '../data/prefetch.js';
import { ConvNeXt } from '../model.js';
import { convnextParamGroups } from '../optim.js';
import { loadCheckpoint, saveCheckpoint, type TrainProgress } from './checkpoint.js';
import { checkConfig, defaultTrainConfig, resolveAugmentDefaults, type TrainConfig } from './config.js';
import { chartsSvg, smooth } from './plot.js';

/** What the engine reports while it runs (all optional). */
export interface TrainHooks {
  /** Once, before the first step, with what was built (`imageShape`: one training image, channels x height x width). */
  onStart?(info: { config: TrainConfig; backend: string; parameters: number; stepsPerEpoch: number; totalSteps: number; resumedAt: number; dataset: string; imageShape: readonly [number, number, number] }): void;
  /** After every optimizer step. */
  onStep?(info: { step: number; totalSteps: number; epoch: number; loss: number; lr: number }): void;
  /** After each epoch's evaluation. */
  onEval?(info: { epoch: number; step: number; loss: number; accuracy: number; top5: number }): void;
  /** A harmless surprise the user should read (a resumed run's changed setting, a backend fallback). */
  onWarning?(message: string): void;
  /** What the backend choice was (`auto`: which one and why). */
  onBackend?(message: string): void;
  /** After each checkpoint write. */
  onSave?(path: string): void;
}

/** What a finished (or stopped) run returns. */
export interface TrainResult {
  /** Steps done, losses and validation results. */
  readonly progress: TrainProgress;
  /** The checkpoint file. */
  readonly checkpoint: string;
  /** The plot file. */
  readonly plot: string;
  /** True when `shouldStop` ended the run early (its checkpoint resumes it). */
  readonly stopped: boolean;
}

/** The files of a run folder. */
export interface RunFiles {
  /** `last.safetensors`: model, optimizer, EMA, progress and config. */
  readonly checkpoint: string;
  /** `metrics.json`: config, losses and validation results. */
  readonly metrics: string;
  /** `training.svg`: the plot. */
  readonly plot: string;
  /** `metrics.jsonl`: one JSON line per `logEvery` steps and one per epoch (see {@link MetricsLine}). */
  readonly metricsLog: string;
}

/**
 * One line of `metrics.jsonl`. `kind: 'step'` every `logEvery` steps: `loss` is the mean
 * training loss (with label smoothing and mixup/cutmix targets) over the steps since the
 * previous line, `lr` the learning rate of the last of them, `imagesPerSec` their speed.
 * `kind: 'epoch'` after each epoch: `trainLoss` is the epoch's mean training loss, and
 * after a validation (every `valEvery` epochs and the last) `valLoss` is the plain
 * cross-entropy, `top1`/`top5` the accuracies. `time` is ISO 8601.
 */
export type MetricsLine =
  | { readonly kind: 'step'; readonly step: number; readonly epoch: number; readonly loss: number; readonly lr: number; readonly imagesPerSec: number; readonly time: string }
  | { readonly kind: 'epoch'; readonly step: number; readonly epoch: number; readonly trainLoss: number; readonly valLoss?: number; readonly top1?: number; readonly top5?: number; readonly time: string };

/** Thrown when the training loss is NaN or infinite; the checkpoint on disk is the last good one. */
export class NonFiniteLossError extends Error {
  /** The 1-based step whose loss was not finite. */
  readonly step: number;
  /** Its 1-based epoch. */
  readonly epoch: number;
  constructor(loss: number, step: number, epoch: number, checkpoint: string, savedStep: number | null) {
    const kept = savedStep === null ? 'no checkpoint was written yet' : `the last good checkpoint (step ${savedStep}) is untouched at '${checkpoint}'`;
    super(`train: the training loss became ${loss} at step ${step} (epoch ${epoch}); stopped before updating the weights; ${kept}. Lower --lr, add --clip-grad 1.0, or check the data`);
    this.name = 'NonFiniteLossError';
    this.step = step;
    this.epoch = epoch;
  }
}

/** Where a run keeps its files. */
export function runFiles(out: string): RunFiles {
  return { checkpoint: join(out, 'last.safetensors'), metrics: join(out, 'metrics.json'), plot: join(out, 'training.svg'), metricsLog: join(out, 'metrics.jsonl') };
}

/**
 * Picks the backend the config asks for (`auto`: wasm when its package loads, else js).
 * `report` hears which backend `auto` chose and why; a fallback to `js` comes with
 * `warning: true` (it is many times slower, and the user should know).
 */
export async function chooseBackend(name: TrainConfig['backend'], report?: (message: string, warning: boolean) => void): Promise<string> {
  const tryImport = async (pkg: string): Promise<string | null> => {
    try {
      await import(pkg);
      return null;
    } catch (e) {
      return (e as Error).message.split('\n')[0] ?? String(e);
    }
  };
  if (name === 'auto') {
    let why = await tryImport('@tsgrad/wasm');
    if (why === null) {
      try {
        await setBackend('wasm');
        report?.('backend wasm (chosen by --backend auto: @tsgrad/wasm is installed)', false);
        return 'wasm';
      } catch (e) {
        why = (e as Error).message;
      }
    }
    await setBackend('js');
    report?.(`--backend auto fell back to the pure-JavaScript 'js' backend, which is many times slower than wasm: @tsgrad/wasm could not be loaded (${why}). Install or build @tsgrad/wasm, or pass --backend js to silence this`, true);
    return 'js';
  }
  if (name !== 'js' && (await tryImport(`@tsgrad/${name}`)) !== null) throw new Error(`backend '${name}': the package @tsgrad/${name} is not installed`);
  await setBackend(name);
  return name;
}

/** Settings a resumed run may change: where it lives and how it runs, not what it learns. */
const RESUME_FREE = ['out', 'backend', 'saveEvery', 'valEvery', 'dataDir', 'workers', 'cacheMb'] as const;

/**
 * The configuration of a resumed run: the saved one, with `given` settings checked against
 * it. `out`, `backend`, `saveEvery`, `valEvery`, `workers`, `cacheMb` and `dataDir` may change (`dataDir` with a note);
 * `epochs` may grow (the cosine schedule is then recomputed over the longer run, a
 * warning says so) but not shrink; any other difference is an error that names the field.
 */
export function resumeConfig(saved: TrainConfig, given: Partial<TrainConfig>): { config: TrainConfig; warnings: string[] } {
  const base: TrainConfig = { ...defaultTrainConfig, ...saved };
  const warnings: string[] = [];
  const conflicts: string[] = [];
  const show = (v: unknown) => JSON.stringify(v);
  const flag = (k: string) => (k === 'emaDecay' ? '--ema' : k === 'flip' ? '--no-flip' : `--${k.replace(/[A-Z]/g, (m) => `-${m.toLowerCase()}`)}`);
  let config: TrainConfig = base;
  for (const [k, v] of Object.entries(given) as [keyof TrainConfig, unknown][]) {
    if (v === undefined || !Object.hasOwn(defaultTrainConfig, k)) continue;
    const was = base[k];
    if (show(v) === show(was)) continue;
    if ((RESUME_FREE as readonly string[]).includes(k)) {
      config = { ...config, [k]: v };
      if (k === 'dataDir') warnings.push(`resume: reading the data from ${show(v)} instead of the saved ${show(was)}`);
    } else if (k === 'epochs' && typeof v === 'number' && v > base.epochs) {
      config = { ...config, epochs: v };
      warnings.push(`resume: extending the run from ${base.epochs} to ${v} epochs; the cosine learning-rate schedule is recomputed over ${v} epochs, so the learning rate rises from where it stopped`);
    } else if (k === 'epochs') {
      conflicts.push(`epochs (${flag(k)}): the run was configured for ${base.epochs} epochs and a resumed run cannot shorten it (got ${show(v)}); Ctrl-C stops it at any step`);
    } else {
      conflicts.push(`${k} (${flag(k)}): saved ${show(was)}, given ${show(v)}`);
    }
  }
  if (conflicts.length > 0) {
    throw new Error(`resume keeps the run's saved configuration; these settings differ from it:\n  ${conflicts.join('\n  ')}\ndrop those flags to continue the run, or start a new run in another --out`);
  }
  return { config, warnings };
}

/** The model a run trains, for a dataset with `classes` classes and `inChans`-channel images. */
export function runModel(c: TrainConfig, numClasses: number, inChans: number, opts: { dropPath?: number; generator?: Generator } = {}): ConvNeXt {
  return new ConvNeXt({
    variant: c.model,
    ...(c.depths ? { depths: c.depths } : {}),
    ...(c.dims ? { dims: c.dims } : {}),
    numClasses,
    inChans,
    stemStride: c.stemStride,
    // Checkpoints from before the option have no stemKernel: the stride, as they were built.
    ...(c.stemKernel ? { stemKernel: c.stemKernel } : {}),
    ...(c.downsampleKernel ? { downsampleKernel: c.downsampleKernel } : {}),
    ...(opts.dropPath ? { dropPathRate: opts.dropPath } : {}),
    ...(opts.generator ? { generator: opts.generator } : {}),
  });
}

/**
 * Trains (or, with `resume`, continues training) a ConvNeXt as `config` says. Writes
 * `last.safetensors` (checkpoint), `metrics.json` and `training.svg` into `config.out`.
 * `shouldStop` is polled after every step: when it returns true the engine saves a
 * checkpoint and returns with `stopped: true`.
 */
export async function train(
  config: TrainConfig,
  opts: {
    /** Continue the run in `config.out` (see {@link resumeConfig} for which settings may change). */
    resume?: boolean;
    /** With `resume`: only these settings were asked for (the CLI's explicit flags); default: all of `config`. */
    overrides?: Partial<TrainConfig>;
    /** Write a `metrics.jsonl` step line every this many steps (default 10). */
    logEvery?: number;
    hooks?: TrainHooks;
    shouldStop?: () => boolean;
  } = {},
): Promise<TrainResult> {
  const files = runFiles(config.out);
  let c = resolveAugmentDefaults(checkConfig(config));
  const loaded = opts.resume && existsSync(files.checkpoint) ? await loadCheckpoint(files.checkpoint) : null;
  if (opts.resume && !loaded) throw new Error(`resume: no checkpoint at '${files.checkpoint}'; start a new run without --resume`);
  if (loaded) {
    // The saved config wins; see resumeConfig for what a resumed run may change.
    // Given settings compare after the same defaults resolution the saved config had (e.g. --aa auto).
    const asked: Partial<TrainConfig> = { ...(opts.overrides ?? config), out: config.out };
    const resolved = resolveAugmentDefaults({ ...defaultTrainConfig, ...loaded.config, ...asked });
    const r = resumeConfig(loaded.config, Object.fromEntries(Object.keys(asked).map((k) => [k, resolved[k as keyof TrainConfig]])) as Partial<TrainConfig>);
    c = resolveAugmentDefaults(checkConfig(r.config));
    for (const w of r.warnings) opts.hooks?.onWarning?.(w);
  }
  if (c.dataset === 'folder' && c.dataDir) {
    // The run folder would become a (class) folder of the dataset.
    const rel = relative(resolve(c.dataDir), resolve(c.out));
    if (!rel.startsWith('..') && !rel.startsWith('/')) throw new Error(`train: --out '${c.out}' lies inside the image folder '${c.dataDir}'; put the run elsewhere`);
  }
  const logEvery = opts.logEvery ?? 10;
  if (!Number.isInteger(logEvery) || logEvery < 1) throw new RangeError(`train: logEvery must be a positive integer, got ${logEvery}`);
  mkdirSync(c.out, { recursive: true });
  const backend = await chooseBackend(c.backend, (m, warning) => (warning ? opts.hooks?.onWarning?.(m) : opts.hooks?.onBackend?.(m)));

  const { train: trainSet, val: valSet } = openDatasetsNode(c);
  manualSeed(c.seed);
  const [numClasses, inChans] = [trainSet.classes.length, trainSet.shape[0]];
  const model = runModel(c, numClasses, inChans, { dropPath: c.dropPath, generator: new Generator(c.seed) });
  const ema = c.emaDecay !== null ? new ModelEma(model, { decay: c.emaDecay, emaModel: runModel(c, numClasses, inChans) }) : null;
  const NORMALIZE = datasetNormalization(c.dataset, inChans);
  const optimizer = new AdamW(convnextParamGroups(model, { weightDecay: c.weightDecay }), { lr: c.lr, betas: [0.9, 0.999], eps: 1e-8, weightDecay: c.weightDecay });
  // Epochs from this one on see plain images (--no-aug-epochs).
  const augmentUntilEpoch = c.epochs - c.noAugEpochs;
  const loaderOpts: LoaderOptions = { batchSize: c.batchSize, seed: c.seed, augment: trainAugment(c), normalize: NORMALIZE, augmentUntilEpoch };
  const loader = new DataLoader(trainSet, loaderOpts);
  const valLoader = new DataLoader(valSet, { batchSize: Math.min(256, c.batchSize * 2), shuffle: false, dropLast: false, normalize: NORMALIZE });
  const stepsPerEpoch = loader.batchesPerEpoch;
  if (stepsPerEpoch === 0) throw new Error(`train: the dataset has ${trainSet.length} examples, fewer than one batch of ${c.batchSize}`);
  const totalSteps = stepsPerEpoch * c.epochs;
  const schedule = cosineSchedule({ base: c.lr, final: c.minLr, total: totalSteps, warmup: Math.min(totalSteps, Math.round(c.warmupEpochs * stepsPerEpoch)) });
  const scheduler = new LRScheduler(optimizer, schedule);

  let progress: TrainProgress = { step: 0, epoch: 0, batch: 0, losses: [], evals: [] };
  if (loaded) {
    loaded.apply(model, optimizer, ema?.module ?? null);
    progress = loaded.progress;
  }
  scheduler.setStep(progress.step);
  // metrics.jsonl continues from the checkpoint: lines past it (written before a kill) are dropped.
  const kept = loaded && existsSync(files.metricsLog) ? readFileSync(files.metricsLog, 'utf8').split('\n').filter((l) => l.trim() !== '' && (JSON.parse(l) as MetricsLine).step <= progress.step) : [];
  writeFileSync(files.metricsLog, kept.map((l) => `${l}\n`).join(''));
  const logLine = (line: MetricsLine) => appendFileSync(files.metricsLog, `${JSON.stringify(line)}\n`);
  let savedStep: number | null = loaded ? progress.step : null;
  const parameters = [...model.parameters()].reduce((a, p) => a + p.size, 0);
  opts.hooks?.onStart?.({ config: c, backend, parameters, stepsPerEpoch, totalSteps, resumedAt: progress.step, dataset: trainSet.name, imageShape: trainSet.shape });

  const save = async () => {
    await saveCheckpoint(files.checkpoint, model, optimizer, ema?.module ?? null, c, progress);
    await writeFileAtomic(files.metrics, new TextEncoder().encode(JSON.stringify({ config: c, backend, parameters, ...progress }, null, 1)));
    await writeFileAtomic(files.plot, new TextEncoder().encode(plotRun(progress, c)));
    savedStep = progress.step;
    opts.hooks?.onSave?.(files.checkpoint);
  };

  const evaluate = (): { loss: number; accuracy: number; top5: number } => {
    const net = ema?.module ?? model;
    net.eval();
    let loss = 0;
    let correct = 0;
    let correct5 = 0;
    for (let b = 0; b < valLoader.batchesPerEpoch; b++) {
      tidy(() =>
        noGrad(() => {
          const { images, labels } = valLoader.batch(0, b);
          const logits = net.forward(images);
          loss += crossEntropy(logits, labels, { reduction: 'sum' }).item();
          correct += sum(eq(argmax(logits, 1), labels)).item();
          correct5 += countTopK(logits.dataSync(), labels.dataSync(), numClasses, 5);
        }),
      );
    }
    model.train();
    return { loss: loss / valSet.length, accuracy: correct / valSet.length, top5: correct5 / valSet.length };
  };

  const mixGen = new Generator(c.seed + 17);
  let stopped = false;
  // Batches are made ahead of the step by worker threads (--workers N), or on demand here.
  const producer = c.workers > 0 ? new WorkerPoolProducer(loader, { spec: c, split: 'train', loader: loaderOpts }, c.workers) : new InlineProducer(loader);
  const prefetch = new Prefetcher(producer, { epochs: c.epochs, batchesPerEpoch: stepsPerEpoch, start: { epoch: progress.epoch, batch: progress.batch }, depth: 2, inline: c.workers === 0 });
  let window = { sum: 0, n: 0, t: performance.now() };
  try {
    for (let epoch = progress.epoch; epoch < c.epochs && !stopped; epoch++) {
      for (let b = epoch === progress.epoch ? progress.batch : 0; b < stepsPerEpoch; b++) {
        const lr = optimizer.paramGroups[0]!.lr;
        const host = await prefetch.next(epoch, b);
        const loss = tidy(() => {
          const { images, labels } = hostBatchToTensors(host);
          const { images: x, targets } = mixBatch(images, labels, trainSet.classes.length, epoch < augmentUntilEpoch ? { mixupAlpha: c.mixup, cutmixAlpha: c.cutmix, labelSmoothing: c.labelSmoothing } : { labelSmoothing: c.labelSmoothing }, mixGen);
          // Labelled for `--profile` (free when not profiling).
          const l = recordFunction('model.forward', () => crossEntropy(model.forward(x), targets));
          const value = l.item();
          // Checked before the update: the weights (and the checkpoint on disk) stay the last good ones.
          if (!Number.isFinite(value)) return value;
          l.backward(); // shows as autograd.backward
          recordFunction('optimizer.step', () => {
            if (c.clipGrad !== null) clipGradNorm_(model.parameters(), c.clipGrad);
            optimizer.step();
            optimizer.zeroGrad();
          });
          return value;
        });
        if (!Number.isFinite(loss)) throw new NonFiniteLossError(loss, progress.step + 1, epoch + 1, files.checkpoint, savedStep);
        ema?.update(model);
        scheduler.step();
        const next = b + 1 < stepsPerEpoch ? { epoch, batch: b + 1 } : { epoch: epoch + 1, batch: 0 };
        progress = { ...progress, ...next, step: progress.step + 1, losses: [...progress.losses, [progress.step + 1, loss]] };
        opts.hooks?.onStep?.({ step: progress.step, totalSteps, epoch, loss, lr });
        window = { ...window, sum: window.sum + loss, n: window.n + 1 };
        if (progress.step % logEvery === 0) {
          const now = performance.now();
          logLine({ kind: 'step', step: progress.step, epoch: epoch + 1, loss: window.sum / window.n, lr, imagesPerSec: (window.n * c.batchSize) / Math.max(1e-9, (now - window.t) / 1000), time: new Date().toISOString() });
          window = { sum: 0, n: 0, t: now };
        }
        // Yield to the event loop (a macrotask) so a Ctrl-C (SIGINT) handler runs within a step.
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (opts.shouldStop?.()) {
          stopped = true;
          break;
        }
        if (c.saveEvery > 0 && progress.step % c.saveEvery === 0 && b + 1 < stepsPerEpoch) await save();
      }
      if (!stopped) {
        const trainLoss = mean(progress.losses.filter(([st]) => st > epoch * stepsPerEpoch).map(([, l]) => l));
        if ((epoch + 1) % (c.valEvery ?? 1) === 0 || epoch + 1 === c.epochs) {
          const r = recordFunction('evaluate', evaluate);
          progress = { ...progress, evals: [...progress.evals, { epoch: epoch + 1, step: progress.step, ...r }] };
          opts.hooks?.onEval?.({ epoch: epoch + 1, step: progress.step, ...r });
          logLine({ kind: 'epoch', step: progress.step, epoch: epoch + 1, trainLoss, valLoss: r.loss, top1: r.accuracy, top5: r.top5, time: new Date().toISOString() });
        } else logLine({ kind: 'epoch', step: progress.step, epoch: epoch + 1, trainLoss, time: new Date().toISOString() });
      }
      await save();
    }
  } finally {
    await prefetch.close();
  }
  model.dispose();
  ema?.module?.dispose();
  optimizer.dispose();
  return { progress, checkpoint: files.checkpoint, plot: files.plot, stopped };
}

const mean = (xs: readonly number[]) => (xs.length > 0 ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** How many rows of `logits` ([n, k]) have their label among the `topk` largest (ties: lower index first, as argmax). */
function countTopK(logits: ArrayLike<number>, labels: ArrayLike<number>, k: number, topk: number): number {
  let hits = 0;
  for (let i = 0; i < labels.length; i++) {
    const y = labels[i]!;
    const v = logits[i * k + y]!;
    let above = 0;
    for (let j = 0; j < k; j++) {
      const u = logits[i * k + j]!;
      if (u > v || (u === v && j < y)) above++;
    }
    if (above < topk) hits++;
  }
  return hits;
}

/** The per-image training augmentation a (resolved) config asks for. */
export function trainAugment(c: TrainConfig): NonNullable<LoaderOptions['augment']> {
  const rrc = c.randomResizedCrop ?? c.dataset === 'folder';
  const reprob = c.reprob ?? 0;
  return {
    cropPadding: rrc ? 0 : c.cropPadding,
    horizontalFlip: c.flip,
    ...(rrc ? { randomResizedCrop: { scale: c.scale, ratio: c.ratio } } : {}),
    ...(c.aa !== 'none' && c.aa !== 'auto' ? { randAugment: c.aa } : {}),
    ...(reprob > 0 ? { randomErasing: { probability: reprob, mode: c.remode } } : {}),
  };
}

/** The run's plot: training loss (raw and smoothed; with label smoothing and mixed targets, so above the validation loss) and validation accuracy. */
export function plotRun(p: TrainProgress, c: TrainConfig): string {
  const extras = [c.labelSmoothing > 0 ? `label smoothing ${c.labelSmoothing}` : '', c.mixup > 0 || c.cutmix > 0 ? 'mixup/cutmix targets' : ''].filter(Boolean).join(', ');
  return chartsSvg([
    {
      title: `ConvNeXt-${c.model} on ${c.dataset}: training loss${extras ? ` (includes ${extras}; validation loss does not)` : ''}`,
      xLabel: 'step',
      yLabel: extras ? `cross-entropy (train: with ${extras})` : 'cross-entropy',
      series: [
        { name: 'loss', points: p.losses, color: '#9ecae1' },
        { name: 'loss (EMA 0.9)', points: smooth(p.losses), color: '#08519c' },
        { name: 'validation loss', points: p.evals.map((e) => [e.step, e.loss] as [number, number]), color: '#e6550d' },
      ],
    },
    {
      title: 'validation accuracy',
      xLabel: 'epoch',
      yLabel: 'accuracy',
      yRange: [0, 1],
      series: [
        { name: 'top-1', points: p.evals.map((e) => [e.epoch, e.accuracy] as [number, number]), color: '#31a354' },
        { name: 'top-5', points: p.evals.map((e) => [e.epoch, e.top5 ?? NaN] as [number, number]), color: '#a1d99b' },
      ],
    },
  ]);
}
