#!/usr/bin/env node
/**
 * The `tsgrad-convnext` command line: trains ConvNeXt with a progress bar, per-epoch
 * validation, an atomic checkpoint, metrics and a plot; `--resume` continues a run where it
 * stopped (Ctrl-C saves a checkpoint first).
 *
 *   tsgrad-convnext train [--model atto] [--epochs 3] [--batch-size 64] [--lr 2e-3] ...
 */
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { defaultTrainConfig, type TrainConfig } from './train/config.js';
import { runFiles, train } from './train/engine.js';
import { ProgressBar } from './train/progress.js';

const HELP = `Usage: tsgrad-convnext train [options]

Trains a ConvNeXt on an image dataset (default: the built-in shapes dataset).

Options (defaults in brackets):
  --model NAME         atto femto pico nano tiny small base large xlarge [${defaultTrainConfig.model}]
  --depths a,b,c,d     a custom architecture: blocks per stage (with --dims)
  --dims a,b,c,d       channels per stage
  --stem-stride N      4 is official (224x224 inputs), 2 suits 32x32 images [${defaultTrainConfig.stemStride}]
  --dataset NAME       shapes (built in) or cifar10 [${defaultTrainConfig.dataset}]
  --data-dir DIR       the extracted cifar-10-batches-bin folder (cifar10)
  --train-size N       examples in the built-in train split [${defaultTrainConfig.trainSize}]
  --val-size N         examples in the built-in validation split [${defaultTrainConfig.valSize}]
  --image-size N       side of the built-in images [${defaultTrainConfig.imageSize}]
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
  --crop-padding N     random-crop padding, 0 = off [${defaultTrainConfig.cropPadding}]
  --no-flip            no horizontal flips
  --clip-grad X        clip the gradient norm
  --ema X              keep an EMA of the weights with this decay (evaluated instead of the model)
  --seed N             [${defaultTrainConfig.seed}]
  --backend NAME       auto js wasm webgpu [${defaultTrainConfig.backend}]
  --out DIR            checkpoint, metrics.json and training.svg [${defaultTrainConfig.out}]
  --save-every N       also checkpoint every N steps [${defaultTrainConfig.saveEvery}]
  --resume             continue the run in --out from its checkpoint
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

/** Parses the command line into a config (throws a clear error for bad flags). */
export function parseTrainArgs(argv: readonly string[]): { config: TrainConfig; resume: boolean; help: boolean } {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      'stem-stride': { type: 'string' },
      depths: { type: 'string' },
      dims: { type: 'string' },
      dataset: { type: 'string' },
      'data-dir': { type: 'string' },
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
      'clip-grad': { type: 'string' },
      ema: { type: 'string' },
      seed: { type: 'string' },
      backend: { type: 'string' },
      out: { type: 'string' },
      'save-every': { type: 'string' },
      resume: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (positionals.length > 1 || (positionals.length === 1 && positionals[0] !== 'train')) {
    throw new Error(`unknown command '${positionals.join(' ')}'; the command is 'train' (see --help)`);
  }
  const d = defaultTrainConfig;
  const config: TrainConfig = {
    model: (values.model ?? d.model) as TrainConfig['model'],
    depths: values.depths === undefined ? d.depths : list('depths', values.depths),
    dims: values.dims === undefined ? d.dims : list('dims', values.dims),
    stemStride: num('stem-stride', values['stem-stride'], d.stemStride, true),
    dropPath: num('drop-path', values['drop-path'], d.dropPath),
    dataset: (values.dataset ?? d.dataset) as TrainConfig['dataset'],
    dataDir: values['data-dir'] ?? d.dataDir,
    trainSize: num('train-size', values['train-size'], d.trainSize, true),
    valSize: num('val-size', values['val-size'], d.valSize, true),
    imageSize: num('image-size', values['image-size'], d.imageSize, true),
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
    flip: !values['no-flip'],
    clipGrad: values['clip-grad'] === undefined ? d.clipGrad : num('clip-grad', values['clip-grad'], 0),
    emaDecay: values.ema === undefined ? d.emaDecay : num('ema', values.ema, 0),
    seed: num('seed', values.seed, d.seed, true),
    backend: (values.backend ?? d.backend) as TrainConfig['backend'],
    out: values.out ?? d.out,
    saveEvery: num('save-every', values['save-every'], d.saveEvery, true),
  };
  const backends = ['auto', 'js', 'wasm', 'webgpu'];
  if (!backends.includes(config.backend)) throw new Error(`--backend must be one of ${backends.join(', ')}, got '${config.backend}'`);
  return { config, resume: values.resume ?? false, help: values.help ?? false };
}

/** Runs the command line; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let parsed: ReturnType<typeof parseTrainArgs>;
  try {
    parsed = parseTrainArgs(argv);
  } catch (e) {
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 2;
  }
  if (parsed.help) {
    process.stdout.write(HELP);
    return 0;
  }
  let bar = null as ProgressBar | null; // set in onStart
  let interrupted = false;
  const onSigint = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    bar?.interrupt();
    process.stderr.write('stopping after this step and saving a checkpoint (Ctrl-C again to quit now)\n');
  };
  process.on('SIGINT', onSigint);
  try {
    const result = await train(parsed.config, {
      resume: parsed.resume,
      shouldStop: () => interrupted,
      hooks: {
        onStart: (i) => {
          console.log(`tsgrad: ConvNeXt-${i.config.model} (${(i.parameters / 1e6).toFixed(2)}M parameters, stem stride ${i.config.stemStride}) on ${i.dataset}, backend ${i.backend}`);
          console.log(`${i.config.epochs} epochs x ${i.stepsPerEpoch} steps, batch ${i.config.batchSize}, AdamW lr ${i.config.lr} (cosine, warmup ${i.config.warmupEpochs} epochs), weight decay ${i.config.weightDecay}, label smoothing ${i.config.labelSmoothing}`);
          if (i.resumedAt > 0) console.log(`resuming at step ${i.resumedAt} of ${i.totalSteps}`);
          bar = new ProgressBar(i.totalSteps, i.resumedAt);
        },
        onStep: (i) => bar?.update(i.step, `epoch ${i.epoch + 1} loss ${i.loss.toFixed(4)} lr ${i.lr.toExponential(2)}`),
        onEval: (i) => {
          bar?.interrupt();
          console.log(`epoch ${i.epoch}: validation loss ${i.loss.toFixed(4)}, accuracy ${(i.accuracy * 100).toFixed(1)}%`);
        },
      },
    });
    const files = runFiles(parsed.config.out);
    const l = result.progress.losses;
    const avg = (xs: readonly [number, number][]) => xs.reduce((a, [, y]) => a + y, 0) / Math.max(1, xs.length);
    if (l.length >= 2) console.log(`training loss: first ${Math.min(10, l.length)} steps ${avg(l.slice(0, 10)).toFixed(4)} -> last ${Math.min(10, l.length)} steps ${avg(l.slice(-10)).toFixed(4)}`);
    console.log(`${result.stopped ? 'stopped; resume with --resume. ' : ''}checkpoint ${result.checkpoint}, metrics ${files.metrics}, plot ${result.plot}`);
    return result.stopped ? 130 : 0;
  } catch (e) {
    bar?.interrupt();
    process.stderr.write(`error: ${(e as Error).message}\n`);
    return 1;
  } finally {
    process.off('SIGINT', onSigint);
  }
}

// Run when executed directly (the bin, or node/tsx packages/convnext/src/cli.ts ...), not when imported.
if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  process.exitCode = await main(process.argv.slice(2));
}
