/**
 * Evaluation of a trained run: its checkpoint on a dataset's validation (test) split, with
 * top-1, top-5, mean cross-entropy, per-class accuracy and a confusion matrix, written as
 * JSON and an SVG heat map into the run folder.
 */
import { existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { noGrad, tidy } from '@tsgrad/core';
import { writeFileAtomic } from '@tsgrad/nn/node';
import { datasetNormalization, type DatasetName } from './data/datasets.js';
import { openDatasetNode } from './data/node/open-datasets-node.js';
import { DataLoader } from './data/loader.js';
import { loadCheckpoint } from './train/checkpoint.js';
import { defaultTrainConfig, type TrainConfig } from './train/config.js';
import { confusionSvg } from './train/confusion.js';
import { chooseBackend, runFiles, runModel } from './train/engine.js';

/** Options of {@link evaluateRun}. */
export interface EvalOptions {
  /** A run folder (its `last.safetensors` is read) or a checkpoint file; results go beside it. */
  readonly run: string;
  /** The dataset to evaluate on (default: the run's own). */
  readonly dataset?: DatasetName;
  /** Its folder (default: the run's, when the dataset is the run's own). */
  readonly dataDir?: string | null;
  /** Backend (default `auto`). */
  readonly backend?: TrainConfig['backend'];
  /** Images per forward pass (default 128). */
  readonly batchSize?: number;
  /** Told which backend `auto` chose, and warned (`warning` true) when it fell back to `js`. */
  readonly onBackend?: (message: string, warning: boolean) => void;
}

/** One class's result. */
export interface ClassAccuracy {
  /** The class name. */
  readonly class: string;
  /** Validation examples of this class. */
  readonly count: number;
  /** Share of them predicted right (NaN when `count` is 0). */
  readonly accuracy: number;
}

/** The files {@link evaluateRun} writes into the run folder. */
export interface EvalFiles {
  /** `eval-<dataset>.json`: the whole {@link EvalResult}. */
  readonly json: string;
  /** `confusion-<dataset>.svg`: the confusion matrix as a heat map. */
  readonly confusion: string;
}

/** A run's checkpoint file and the folder results go into. */
export interface RunLocation {
  /** The checkpoint file. */
  readonly checkpoint: string;
  /** The run folder. */
  readonly dir: string;
}

/** Per-example results of {@link scoreLogits}. */
export interface LogitScores {
  /** Cross-entropy of each example. */
  readonly loss: number[];
  /** Predicted class (the first maximum logit). */
  readonly pred: number[];
  /** Whether the label is among the 5 highest logits. */
  readonly inTop5: boolean[];
}

/** What {@link evaluateRun} measured and where it wrote it. */
export interface EvalResult {
  /** The dataset evaluated on. */
  readonly dataset: string;
  /** Always the validation (test) split. */
  readonly split: 'val';
  /** Images evaluated. */
  readonly examples: number;
  /** Share of images whose top prediction is their label. */
  readonly top1: number;
  /** Share of images whose label is among the 5 highest logits. */
  readonly top5: number;
  /** Mean cross-entropy (no label smoothing). */
  readonly loss: number;
  /** Accuracy of each class, in label order. */
  readonly perClass: readonly ClassAccuracy[];
  /** `confusion[true][predicted]` counts. */
  readonly confusion: readonly (readonly number[])[];
  /** Which weights were evaluated: the run's EMA (when it kept one) or the model. */
  readonly weights: 'ema' | 'model';
  /** The checkpoint file read. */
  readonly checkpoint: string;
  /** The backend the model ran on. */
  readonly backend: string;
  /** The metrics JSON and the confusion-matrix SVG written into the run folder. */
  readonly files: EvalFiles;
}

/** Where the checkpoint and the run folder of `run` (a folder or a checkpoint file) are. */
export function resolveRun(run: string): RunLocation {
  if (!existsSync(run)) throw new Error(`eval: '${run}' does not exist; pass a run folder (the --out of a training run) or its last.safetensors`);
  if (statSync(run).isDirectory()) {
    const checkpoint = runFiles(run).checkpoint;
    if (!existsSync(checkpoint)) throw new Error(`eval: no checkpoint in '${run}' (expected ${basename(checkpoint)}); is it the --out folder of a training run?`);
    return { checkpoint, dir: run };
  }
  return { checkpoint: run, dir: dirname(run) };
}

/**
 * Per-example statistics of a logits matrix: cross-entropy (float64 log-sum-exp), top-1
 * prediction (the first maximum, as `argmax`), and whether the label is among the top 5
 * (fewer than 5 logits are strictly larger).
 */
export function scoreLogits(logits: Float32Array, labels: Int32Array, k: number): LogitScores {
  const n = labels.length;
  if (logits.length !== n * k) throw new RangeError(`scoreLogits: ${logits.length} logits for ${n} examples of ${k} classes`);
  const loss: number[] = [];
  const pred: number[] = [];
  const inTop5: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * k, (i + 1) * k);
    let best = 0;
    for (let j = 1; j < k; j++) if (row[j]! > row[best]!) best = j;
    const m = row[best]!;
    let s = 0;
    for (let j = 0; j < k; j++) s += Math.exp(row[j]! - m);
    const y = labels[i]!;
    loss.push(m + Math.log(s) - row[y]!);
    pred.push(best);
    let above = 0;
    for (let j = 0; j < k; j++) if (row[j]! > row[y]!) above++;
    inTop5.push(above < 5);
  }
  return { loss, pred, inTop5 };
}

/** Evaluates a run's checkpoint (see {@link EvalOptions}); writes `eval-<dataset>.json` and `confusion-<dataset>.svg` into the run folder. */
export async function evaluateRun(opts: EvalOptions): Promise<EvalResult> {
  const { checkpoint, dir } = resolveRun(opts.run);
  const loaded = await loadCheckpoint(checkpoint);
  const config: TrainConfig = { ...defaultTrainConfig, ...loaded.config };
  const dataset = opts.dataset ?? config.dataset;
  const own = dataset === config.dataset;
  const spec = { ...config, dataset, dataDir: opts.dataDir !== undefined ? opts.dataDir : own ? config.dataDir : null };
  const val = openDatasetNode(spec, 'val');
  const backend = await chooseBackend(opts.backend ?? 'auto', opts.onBackend);
  const model = runModel(config, val.classes.length, val.shape[0]);
  let weights: 'ema' | 'model';
  try {
    weights = loaded.applyWeights(model);
  } catch (e) {
    model.dispose();
    throw new Error(`eval: the run's model (${config.dataset}, ${config.inChans ?? 'native'} input channels) does not fit ${dataset} (${val.classes.length} classes, ${val.shape[0]} channels): ${(e as Error).message.split('\n')[0]}`);
  }
  model.eval();
  const loader = new DataLoader(val, { batchSize: opts.batchSize ?? 128, shuffle: false, dropLast: false, normalize: datasetNormalization(dataset, val.shape[0]) });
  const k = val.classes.length;
  const confusion = Array.from({ length: k }, () => new Array<number>(k).fill(0));
  let lossSum = 0;
  let top1 = 0;
  let top5 = 0;
  for (let b = 0; b < loader.batchesPerEpoch; b++) {
    const { logits, labels } = tidy(() =>
      noGrad(() => {
        const batch = loader.batch(0, b);
        return { logits: Float32Array.from(model.forward(batch.images).dataSync()), labels: Int32Array.from(batch.labels.dataSync()) };
      }),
    );
    const s = scoreLogits(logits, labels, k);
    labels.forEach((y, i) => {
      lossSum += s.loss[i]!;
      if (s.pred[i] === y) top1++;
      if (s.inTop5[i]) top5++;
      confusion[y]![s.pred[i]!]!++;
    });
  }
  model.dispose();
  const n = val.length;
  const perClass = val.classes.map((name, c) => {
    const count = confusion[c]!.reduce((a, v) => a + v, 0);
    return { class: name, count, accuracy: count ? confusion[c]![c]! / count : NaN };
  });
  const files = { json: join(dir, `eval-${dataset}.json`), confusion: join(dir, `confusion-${dataset}.svg`) };
  const result: EvalResult = { dataset, split: 'val', examples: n, top1: top1 / n, top5: top5 / n, loss: lossSum / n, perClass, confusion, weights, checkpoint, backend, files };
  // JSON has no NaN: a class with no examples gets accuracy null.
  await writeFileAtomic(files.json, new TextEncoder().encode(JSON.stringify(result, (_, v: unknown) => (typeof v === 'number' && Number.isNaN(v) ? null : v), 1)));
  const title = `ConvNeXt-${config.depths || config.dims ? 'custom' : config.model} on ${dataset} (validation): top-1 ${(result.top1 * 100).toFixed(2)}%`;
  await writeFileAtomic(files.confusion, new TextEncoder().encode(confusionSvg(confusion, val.classes, title)));
  return result;
}
