/**
 * `tsgrad-convnext roadmap-ablation` (Node only: it writes run folders): trains every roadmap
 * step, scaled down (width, depth, small images, a fixed iteration budget; the same recipe
 * for every step), and writes one folder per step (metrics.json, model.safetensors), a
 * summary table (summary.md, summary.json: params, FLOPs, images/s, top-1, top-5) and a
 * plot of accuracy by step beside the paper's ImageNet curve (summary.svg).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Generator, manualSeed, noGrad, tidy } from '@tsgrad/core';
import { AdamW, LRScheduler, cosineSchedule, crossEntropy } from '@tsgrad/nn';
import { saveSafetensors, writeFileAtomic } from '@tsgrad/nn/node';
import { DATASET_NAMES, datasetNormalization, type DatasetName } from './data/datasets.js';
import { openDatasets } from './data/open-node.js';
import { DataLoader } from './data/loader.js';
import { scoreLogits } from './eval.js';
import { ROADMAP_PAPER, roadmapCost } from './roadmap-flops.js';
import { ROADMAP_STEPS, roadmap, roadmapConfig, type RoadmapConfig, type RoadmapStep } from './roadmap.js';
import { chooseBackend } from './train/engine.js';
import { chartsSvg } from './train/plot.js';

/** What the sweep runs; every step gets the same data, recipe and budget. */
export interface AblationOptions {
  /** Output folder (one sub-folder per step). */
  readonly out: string;
  /** Steps to run, in order (default: all). */
  readonly steps?: readonly RoadmapStep[];
  /** Dataset (default the built-in `shapes`). */
  readonly dataset?: DatasetName;
  /** The dataset's files. */
  readonly dataDir?: string | null;
  /** Scaled width: replaces 64 (and 96 from `resnextify` on, scaled by 1.5) (default 16). */
  readonly width?: number;
  /** Scaled blocks per stage of the ResNet-50 regime, in place of (3,4,6,3) (default [1,2,2,1]). */
  readonly depths?: readonly [number, number, number, number];
  /** Scaled blocks per stage from `stage-ratio` on, in place of (3,3,9,3) (default [1,1,3,1]). */
  readonly depthsAfter?: readonly [number, number, number, number];
  /** Training iterations per step (default 200). */
  readonly iterations?: number;
  /** Batch size (default 32). */
  readonly batchSize?: number;
  /** Peak AdamW learning rate (cosine to 0 after 10% warmup) (default 2e-3). */
  readonly lr?: number;
  /** Weight decay (default 0.05). */
  readonly weightDecay?: number;
  /** Built-in dataset sizes and image side (default 2000 / 500 / 32). */
  readonly trainSize?: number;
  /** Validation examples of the built-in dataset. */
  readonly valSize?: number;
  /** Image side (default: the dataset's own, 32 for the built-in shapes, 28 for Fashion-MNIST; see `TrainConfig.imageSize`). */
  readonly imageSize?: number;
  /** Seed of data order and initialisation (default 0). */
  readonly seed?: number;
  /** Backend (default auto). */
  readonly backend?: 'auto' | 'js' | 'wasm' | 'webgpu';
  /** Called after each step with its row. */
  readonly onStep?: (row: AblationRow) => void;
}

/** One step's result. */
export interface AblationRow {
  /** The step. */
  readonly step: RoadmapStep;
  /** Its scaled configuration. */
  readonly config: RoadmapConfig;
  /** Parameters of the scaled network. */
  readonly params: number;
  /** FLOPs per image of the scaled network at the dataset's input size. */
  readonly flops: number;
  /** Training throughput (images/s, forward + backward + step). */
  readonly imagesPerSec: number;
  /** Validation top-1 / top-5 (fractions) and loss. */
  readonly top1: number;
  /** Validation top-5. */
  readonly top5: number;
  /** Validation loss. */
  readonly valLoss: number;
  /** Mean training loss over the last 10% of iterations. */
  readonly trainLoss: number;
  /** The paper's ImageNet top-1 for this step (percent). */
  readonly paperTop1: number;
}

/** The scaled configuration of a step: the sweep's width and depths in place of the paper's. */
export function scaledRoadmapConfig(step: RoadmapStep, width: number, depths: readonly number[], depthsAfter: readonly number[]): RoadmapConfig {
  const base = roadmapConfig(step);
  const w = base.width === 96 ? Math.round(width * 1.5) : width;
  const d = (base.depths[1] === 4 ? depths : depthsAfter) as RoadmapConfig['depths'];
  return roadmapConfig(step, { width: w, depths: d });
}

/** Runs the sweep and writes its files; returns the rows. */
export async function roadmapAblation(o: AblationOptions): Promise<AblationRow[]> {
  const steps = o.steps ?? ROADMAP_STEPS;
  const width = o.width ?? 16;
  const depths = o.depths ?? [1, 2, 2, 1];
  const depthsAfter = o.depthsAfter ?? [1, 1, 3, 1];
  const iterations = o.iterations ?? 200;
  const batchSize = o.batchSize ?? 32;
  const lr = o.lr ?? 2e-3;
  const wd = o.weightDecay ?? 0.05;
  const seed = o.seed ?? 0;
  for (const [name, v] of [['width', width], ['iterations', iterations], ['batchSize', batchSize]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`roadmap-ablation: ${name} must be a positive integer, got ${v}`);
  }
  for (const s of steps) if (!ROADMAP_STEPS.includes(s)) throw new RangeError(`roadmap-ablation: unknown step '${s}' (have ${ROADMAP_STEPS.join(', ')})`);
  const backend = await chooseBackend(o.backend ?? 'auto');
  const dataset = o.dataset ?? 'shapes';
  const { train: trainSet, val: valSet } = openDatasets({ dataset, dataDir: o.dataDir ?? null, inChans: 3, trainSize: o.trainSize ?? 2000, valSize: o.valSize ?? 500, imageSize: o.imageSize ?? null, seed });
  const K = trainSet.classes.length;
  const side = trainSet.shape[1];
  const norm = datasetNormalization(dataset, 3);
  mkdirSync(o.out, { recursive: true });
  const rows: AblationRow[] = [];
  for (const [i, step] of steps.entries()) {
    const config = scaledRoadmapConfig(step, width, depths, depthsAfter);
    manualSeed(seed);
    const model = roadmap(step, { changes: config, numClasses: K, generator: new Generator(seed) });
    model.to(backend);
    // Decay on conv/linear weights only (the ConvNeXt recipe), for every step alike.
    const params = [...model.namedParameters()];
    const opt = new AdamW(
      [
        { params: params.filter(([, p]) => p.ndim > 1).map(([, p]) => p), weightDecay: wd },
        { params: params.filter(([, p]) => p.ndim <= 1).map(([, p]) => p), weightDecay: 0 },
      ],
      { lr },
    );
    const sched = new LRScheduler(opt, cosineSchedule({ base: lr, final: 0, total: iterations, warmup: Math.round(iterations / 10) }));
    const loader = new DataLoader(trainSet, { batchSize, seed, augment: { cropPadding: 2, horizontalFlip: true }, normalize: norm });
    const valLoader = new DataLoader(valSet, { batchSize: 100, shuffle: false, dropLast: false, normalize: norm });
    const losses: number[] = [];
    model.train();
    const t0 = performance.now();
    for (let it = 0; it < iterations; it++) {
      const epoch = Math.floor(it / loader.batchesPerEpoch);
      const l = tidy(() => {
        const { images, labels } = loader.batch(epoch, it % loader.batchesPerEpoch);
        const loss = crossEntropy(model.forward(images), labels, { labelSmoothing: 0.1 });
        loss.backward();
        opt.step();
        opt.zeroGrad();
        return loss.item();
      });
      if (!Number.isFinite(l)) throw new Error(`roadmap-ablation: ${step}: the loss became ${l} at iteration ${it + 1}; lower --lr`);
      losses.push(l);
      sched.step();
    }
    const secs = (performance.now() - t0) / 1000;
    model.eval();
    let correct = 0;
    let top5 = 0;
    let vloss = 0;
    for (let b = 0; b < valLoader.batchesPerEpoch; b++) {
      const { logits, labels } = tidy(() =>
        noGrad(() => {
          const { images, labels: y } = valLoader.batch(0, b);
          const out = model.forward(images);
          return { logits: out.dataSync() as Float32Array, labels: y.dataSync() as Int32Array };
        }),
      );
      const s = scoreLogits(logits, labels, K);
      s.pred.forEach((p, j) => (correct += p === labels[j] ? 1 : 0));
      top5 += s.inTop5.filter(Boolean).length;
      vloss += s.loss.reduce((a, v) => a + v, 0);
    }
    const tail = losses.slice(-Math.max(1, Math.round(iterations / 10)));
    const cost = roadmapCost(config, { inputSize: side, numClasses: K });
    const row: AblationRow = {
      step,
      config,
      params: cost.params,
      flops: cost.flops,
      imagesPerSec: (iterations * batchSize) / secs,
      top1: correct / valSet.length,
      top5: top5 / valSet.length,
      valLoss: vloss / valSet.length,
      trainLoss: tail.reduce((a, v) => a + v, 0) / tail.length,
      paperTop1: ROADMAP_PAPER[step].top1,
    };
    const dir = join(o.out, `${String(i).padStart(2, '0')}-${step}`);
    mkdirSync(dir, { recursive: true });
    await saveSafetensors(join(dir, 'model.safetensors'), model.stateDict());
    await writeFileAtomic(join(dir, 'metrics.json'), new TextEncoder().encode(JSON.stringify({ ...row, backend, dataset, iterations, batchSize, lr, weightDecay: wd, seed, losses }, null, 1)));
    opt.dispose();
    model.dispose();
    rows.push(row);
    o.onStep?.(row);
  }
  const meta = { dataset, backend, width, depths, depthsAfter, iterations, batchSize, lr, weightDecay: wd, seed, inputSize: side };
  await writeFileAtomic(join(o.out, 'summary.json'), new TextEncoder().encode(JSON.stringify({ ...meta, rows }, null, 1)));
  await writeFileAtomic(join(o.out, 'summary.md'), new TextEncoder().encode(formatAblationTable(rows, meta)));
  await writeFileAtomic(join(o.out, 'summary.svg'), new TextEncoder().encode(ablationSvg(rows)));
  return rows;
}

/** The summary as a markdown table. */
export function formatAblationTable(rows: readonly AblationRow[], meta: Record<string, unknown> = {}): string {
  const lines = [
    `Roadmap ablation (scaled down): ${Object.entries(meta).map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.join(',')}]` : String(v)}`).join(', ')}`,
    '',
    '| # | step | params | MFLOPs | images/s | top-1 % | top-5 % | val loss | paper top-1 (ImageNet) |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|',
    ...rows.map((r, i) => `| ${i} | ${r.step} | ${r.params.toLocaleString('en-US')} | ${(r.flops / 1e6).toFixed(1)} | ${r.imagesPerSec.toFixed(1)} | ${(100 * r.top1).toFixed(1)} | ${(100 * r.top5).toFixed(1)} | ${r.valLoss.toFixed(3)} | ${r.paperTop1.toFixed(2)} |`),
    '',
  ];
  return lines.join('\n');
}

/** Accuracy by step: ours (scaled down) and the paper's ImageNet top-1, one chart each. */
export function ablationSvg(rows: readonly AblationRow[]): string {
  return chartsSvg([
    { title: 'Scaled-down sweep: validation top-1 (%) by roadmap step (x = step index)', xLabel: 'step', yLabel: 'top-1 %', series: [{ name: 'ours', color: '#1f77b4', points: rows.map((r, i) => [i, 100 * r.top1] as const) }] },
    { title: "The paper's ImageNet-1k top-1 (%) for the same steps", xLabel: 'step', yLabel: 'top-1 %', series: [{ name: 'paper', color: '#d62728', points: rows.map((r, i) => [i, r.paperTop1] as const) }] },
  ]);
}

const ABLATION_HELP = `Usage: tsgrad-convnext roadmap-ablation [options]

Trains every step of the ConvNeXt paper's roadmap (ResNet-50 to ConvNeXt-T), scaled down,
with one recipe and budget for all, and writes <out>/<NN-step>/{metrics.json,model.safetensors}
and <out>/summary.{md,json,svg} (params, FLOPs, images/s, top-1, top-5; accuracy by step
beside the paper's ImageNet top-1).

Options (defaults in brackets):
  --out DIR            [runs/roadmap-ablation]
  --steps a,b,...      steps to run [all: ${ROADMAP_STEPS.join(' ')}]
  --dataset NAME       ${DATASET_NAMES.join(' ')} [shapes]
  --data-dir DIR       the dataset's files
  --width N            scaled base width (x1.5 from resnextify on) [16]
  --depths a,b,c,d     scaled blocks per stage in place of ResNet-50's (3,4,6,3) [1,2,2,1]
  --depths-after LIST  in place of (3,3,9,3) from stage-ratio on [1,1,3,1]
  --iterations N       training iterations per step [200]
  --batch-size N       [32]
  --lr X               peak AdamW learning rate [0.002]
  --train-size N       built-in dataset: train examples [2000]
  --val-size N         built-in dataset: validation examples [500]
  --image-size N       image side; MNIST-family images are resized to it [the dataset's: 32, MNIST 28]
  --seed N             [0]
  --backend NAME       auto js wasm webgpu [auto]
  --help
`;

/** The `roadmap-ablation` command: parses its flags, runs the sweep, prints the table. Returns the exit code. */
export async function runRoadmapAblationCommand(argv: readonly string[]): Promise<number> {
  let o: AblationOptions;
  try {
    const { values } = parseArgs({
      args: [...argv],
      options: {
        out: { type: 'string' },
        steps: { type: 'string' },
        dataset: { type: 'string' },
        'data-dir': { type: 'string' },
        width: { type: 'string' },
        depths: { type: 'string' },
        'depths-after': { type: 'string' },
        iterations: { type: 'string' },
        'batch-size': { type: 'string' },
        lr: { type: 'string' },
        'train-size': { type: 'string' },
        'val-size': { type: 'string' },
        'image-size': { type: 'string' },
        seed: { type: 'string' },
        backend: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      process.stdout.write(ABLATION_HELP);
      return 0;
    }
    const int = (flag: string, v: string | undefined): number | undefined => {
      if (v === undefined) return undefined;
      const n = Number(v);
      if (v.trim() === '' || !Number.isInteger(n) || n < (flag === 'seed' ? 0 : 1)) throw new Error(`--${flag} must be a ${flag === 'seed' ? 'non-negative' : 'positive'} integer, got '${v}'`);
      return n;
    };
    const steps = values.steps?.split(',').map((s) => s.trim());
    for (const s of steps ?? []) if (!(ROADMAP_STEPS as readonly string[]).includes(s)) throw new Error(`--steps: unknown step '${s}' (have ${ROADMAP_STEPS.join(', ')})`);
    if (values.dataset !== undefined && !(DATASET_NAMES as readonly string[]).includes(values.dataset)) throw new Error(`--dataset must be one of ${DATASET_NAMES.join(', ')}, got '${values.dataset}'`);
    const list = (flag: string, v: string | undefined) => {
      const d = v?.split(',').map((s) => int(flag, s)!);
      if (d && d.length !== 4) throw new Error(`--${flag} needs 4 comma-separated integers, got '${v}'`);
      return d as [number, number, number, number] | undefined;
    };
    const depths = list('depths', values.depths);
    const depthsAfter = list('depths-after', values['depths-after']);
    const lr = values.lr === undefined ? undefined : Number(values.lr);
    if (lr !== undefined && !(lr > 0)) throw new Error(`--lr must be a positive number, got '${values.lr}'`);
    const backend = values.backend ?? 'auto';
    if (!['auto', 'js', 'wasm', 'webgpu'].includes(backend)) throw new Error(`--backend must be one of auto, js, wasm, webgpu, got '${backend}'`);
    const opt = <T>(k: string, v: T | undefined) => (v === undefined ? {} : { [k]: v });
    o = {
      out: values.out ?? 'runs/roadmap-ablation',
      ...opt('steps', steps as RoadmapStep[] | undefined),
      ...opt('dataset', values.dataset as DatasetName | undefined),
      ...opt('dataDir', values['data-dir']),
      ...opt('width', int('width', values.width)),
      ...opt('depths', depths),
      ...opt('depthsAfter', depthsAfter),
      ...opt('iterations', int('iterations', values.iterations)),
      ...opt('batchSize', int('batch-size', values['batch-size'])),
      ...opt('lr', lr),
      ...opt('trainSize', int('train-size', values['train-size'])),
      ...opt('valSize', int('val-size', values['val-size'])),
      ...opt('imageSize', int('image-size', values['image-size'])),
      ...opt('seed', int('seed', values.seed)),
      backend: backend as AblationOptions['backend'],
      onStep: (r) => process.stdout.write(`${r.step}: top-1 ${(100 * r.top1).toFixed(1)}%, top-5 ${(100 * r.top5).toFixed(1)}%, ${r.imagesPerSec.toFixed(1)} images/s, ${r.params.toLocaleString('en-US')} params\n`),
    };
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\nRun 'tsgrad-convnext roadmap-ablation --help' for the options.\n`);
    return 2;
  }
  await roadmapAblation(o);
  process.stdout.write(`\n${readFileSync(join(o.out, 'summary.md'), 'utf8')}Wrote ${o.out}/summary.md, summary.json, summary.svg\n`);
  return 0;
}
