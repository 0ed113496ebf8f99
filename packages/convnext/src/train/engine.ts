/**
 * The training engine: ConvNeXt with the official recipe's moving parts (AdamW with
 * decay only on weights, cosine schedule with linear warmup, label smoothing,
 * mixup/cutmix, stochastic depth, EMA, gradient clipping) on an image dataset, with
 * per-epoch evaluation, atomic checkpoints, exact resumption, metrics and a plot.
 */
import { existsSync, mkdirSync } from 'node:fs';
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
  /** Once, before the first step, with what was built. */
  onStart?(info: { config: TrainConfig; backend: string; parameters: number; stepsPerEpoch: number; totalSteps: number; resumedAt: number; dataset: string }): void;
  /** After every optimizer step. */
  onStep?(info: { step: number; totalSteps: number; epoch: number; loss: number; lr: number }): void;
  /** After each epoch's evaluation. */
  onEval?(info: { epoch: number; step: number; loss: number; accuracy: number }): void;
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
}

/** Where a run keeps its files. */
export function runFiles(out: string): RunFiles {
  return { checkpoint: join(out, 'last.safetensors'), metrics: join(out, 'metrics.json'), plot: join(out, 'training.svg') };
}

/** Picks the backend the config asks for (`auto`: wasm when its package is installed). */
export async function chooseBackend(name: TrainConfig['backend']): Promise<string> {
  const tryImport = async (pkg: string) => {
    try {
      await import(pkg);
      return true;
    } catch {
      return false;
    }
  };
  if (name === 'auto') {
    if (await tryImport('@tsgrad/wasm')) {
      await setBackend('wasm');
      return 'wasm';
    }
    await setBackend('js');
    return 'js';
  }
  if (name !== 'js' && !(await tryImport(`@tsgrad/${name}`))) throw new Error(`backend '${name}': the package @tsgrad/${name} is not installed`);
  await setBackend(name);
  return name;
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
export async function train(config: TrainConfig, opts: { resume?: boolean; hooks?: TrainHooks; shouldStop?: () => boolean } = {}): Promise<TrainResult> {
  const files = runFiles(config.out);
  let c = resolveAugmentDefaults(checkConfig(config));
  const loaded = opts.resume && existsSync(files.checkpoint) ? await loadCheckpoint(files.checkpoint) : null;
  if (opts.resume && !loaded) throw new Error(`resume: no checkpoint at '${files.checkpoint}'; start a new run without --resume`);
  if (loaded) {
    // The saved config wins for everything that shapes the run; a resumed run may only extend its epochs.
    // Worker count and cache size change only speed, so the new command line's apply.
    c = resolveAugmentDefaults(checkConfig({ ...defaultTrainConfig, ...loaded.config, epochs: Math.max(config.epochs, loaded.config.epochs), out: config.out, backend: config.backend, workers: config.workers, cacheMb: config.cacheMb }));
  }
  if (c.dataset === 'folder' && c.dataDir) {
    // The run folder would become a (class) folder of the dataset.
    const rel = relative(resolve(c.dataDir), resolve(c.out));
    if (!rel.startsWith('..') && !rel.startsWith('/')) throw new Error(`train: --out '${c.out}' lies inside the image folder '${c.dataDir}'; put the run elsewhere`);
  }
  mkdirSync(c.out, { recursive: true });
  const backend = await chooseBackend(c.backend);

  const { train: trainSet, val: valSet } = openDatasetsNode(c);
  manualSeed(c.seed);
  const [numClasses, inChans] = [trainSet.classes.length, trainSet.shape[0]];
  const model = runModel(c, numClasses, inChans, { dropPath: c.dropPath, generator: new Generator(c.seed) });
  const ema = c.emaDecay !== null ? new ModelEma(model, { decay: c.emaDecay, emaModel: runModel(c, numClasses, inChans) }) : null;
  const NORMALIZE = datasetNormalization(c.dataset, inChans);
  const optimizer = new AdamW(convnextParamGroups(model, { weightDecay: c.weightDecay }), { lr: c.lr, betas: [0.9, 0.999], eps: 1e-8, weightDecay: c.weightDecay });
  const loaderOpts: LoaderOptions = { batchSize: c.batchSize, seed: c.seed, augment: trainAugment(c), normalize: NORMALIZE };
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
  const parameters = [...model.parameters()].reduce((a, p) => a + p.size, 0);
  opts.hooks?.onStart?.({ config: c, backend, parameters, stepsPerEpoch, totalSteps, resumedAt: progress.step, dataset: trainSet.name });

  const save = async () => {
    await saveCheckpoint(files.checkpoint, model, optimizer, ema?.module ?? null, c, progress);
    await writeFileAtomic(files.metrics, new TextEncoder().encode(JSON.stringify({ config: c, backend, parameters, ...progress }, null, 1)));
    await writeFileAtomic(files.plot, new TextEncoder().encode(plotRun(progress, c)));
    opts.hooks?.onSave?.(files.checkpoint);
  };

  const evaluate = (): { loss: number; accuracy: number } => {
    const net = ema?.module ?? model;
    net.eval();
    let loss = 0;
    let correct = 0;
    for (let b = 0; b < valLoader.batchesPerEpoch; b++) {
      tidy(() =>
        noGrad(() => {
          const { images, labels } = valLoader.batch(0, b);
          const logits = net.forward(images);
          loss += crossEntropy(logits, labels, { reduction: 'sum' }).item();
          correct += sum(eq(argmax(logits, 1), labels)).item();
        }),
      );
    }
    model.train();
    return { loss: loss / valSet.length, accuracy: correct / valSet.length };
  };

  const mixGen = new Generator(c.seed + 17);
  let stopped = false;
  // Batches are made ahead of the step by worker threads (--workers N), or on demand here.
  const producer = c.workers > 0 ? new WorkerPoolProducer(loader, { spec: c, split: 'train', loader: loaderOpts }, c.workers) : new InlineProducer(loader);
  const prefetch = new Prefetcher(producer, { epochs: c.epochs, batchesPerEpoch: stepsPerEpoch, start: { epoch: progress.epoch, batch: progress.batch }, depth: 2, inline: c.workers === 0 });
  try {
    for (let epoch = progress.epoch; epoch < c.epochs && !stopped; epoch++) {
      for (let b = epoch === progress.epoch ? progress.batch : 0; b < stepsPerEpoch; b++) {
        const lr = optimizer.paramGroups[0]!.lr;
        const host = await prefetch.next(epoch, b);
        const loss = tidy(() => {
          const { images, labels } = hostBatchToTensors(host);
          const { images: x, targets } = mixBatch(images, labels, trainSet.classes.length, { mixupAlpha: c.mixup, cutmixAlpha: c.cutmix, labelSmoothing: c.labelSmoothing }, mixGen);
          // Labelled for `--profile` (free when not profiling).
          const l = recordFunction('model.forward', () => crossEntropy(model.forward(x), targets));
          l.backward(); // shows as autograd.backward
          recordFunction('optimizer.step', () => {
            if (c.clipGrad !== null) clipGradNorm_(model.parameters(), c.clipGrad);
            optimizer.step();
            optimizer.zeroGrad();
          });
          return l.item();
        });
        if (!Number.isFinite(loss)) throw new Error(`train: the loss became ${loss} at step ${progress.step + 1} (epoch ${epoch + 1}); lower --lr or add --clip-grad`);
        ema?.update(model);
        scheduler.step();
        const next = b + 1 < stepsPerEpoch ? { epoch, batch: b + 1 } : { epoch: epoch + 1, batch: 0 };
        progress = { ...progress, ...next, step: progress.step + 1, losses: [...progress.losses, [progress.step + 1, loss]] };
        opts.hooks?.onStep?.({ step: progress.step, totalSteps, epoch, loss, lr });
        if (opts.shouldStop?.()) {
          stopped = true;
          break;
        }
        if (c.saveEvery > 0 && progress.step % c.saveEvery === 0 && b + 1 < stepsPerEpoch) await save();
      }
      if (!stopped) {
        const r = recordFunction('evaluate', evaluate);
        progress = { ...progress, evals: [...progress.evals, { epoch: epoch + 1, step: progress.step, ...r }] };
        opts.hooks?.onEval?.({ epoch: epoch + 1, step: progress.step, ...r });
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

/** The run's plot: training loss (raw and smoothed) and validation accuracy. */
export function plotRun(p: TrainProgress, c: TrainConfig): string {
  return chartsSvg([
    {
      title: `ConvNeXt-${c.model} on ${c.dataset}: training loss`,
      xLabel: 'step',
      yLabel: 'cross-entropy',
      series: [
        { name: 'loss', points: p.losses, color: '#9ecae1' },
        { name: 'loss (EMA 0.9)', points: smooth(p.losses), color: '#08519c' },
        { name: 'validation loss', points: p.evals.map((e) => [e.step, e.loss] as [number, number]), color: '#e6550d' },
      ],
    },
    {
      title: 'validation accuracy',
      xLabel: 'epoch',
      yLabel: 'top-1 accuracy',
      yRange: [0, 1],
      series: [{ name: 'top-1', points: p.evals.map((e) => [e.epoch, e.accuracy] as [number, number]), color: '#31a354' }],
    },
  ]);
}
