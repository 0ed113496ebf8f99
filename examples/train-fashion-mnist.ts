/**
 * Trains ConvNeXt-atto on Fashion-MNIST with the training engine (`train` from
 * `@tsgrad/convnext/node`, what `tsgrad-convnext train` runs), then measures the checkpoint
 * on the 10,000 test images: top-1, top-5, per-class accuracy and a confusion matrix.
 *
 * The data: the four IDX files (gzipped or not) in --data-dir, or Debian's
 * `apt-get install dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist, found with no flag).
 *
 *   node --import tsx --conditions=source examples/train-fashion-mnist.ts [--data-dir DIR] [--epochs 10] [--max-steps N]
 *       [--batch-size 64] [--lr 0.002] [--model atto | --depths 1,1,1,1 --dims 8,16,24,32]
 *       [--out runs/fashion-mnist-example] [--backend auto] [--resume]
 *
 * --max-steps N stops after N optimizer steps (a quick look; the learning-rate schedule still
 * spans --epochs, and --resume continues the run). Ctrl-C stops after the current step and
 * saves a checkpoint the same way.
 */
import { parseArgs } from 'node:util';
import { CONVNEXT_VARIANTS, defaultTrainConfig, type ConvNeXtVariant, type TrainConfig } from '@tsgrad/convnext';
import { evaluateRun, train } from '@tsgrad/convnext/node';
import { archName, oneOf, positiveInt, positiveNumber, stages } from './lib/args.js';

const { values } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    epochs: { type: 'string' },
    'max-steps': { type: 'string' },
    'batch-size': { type: 'string', default: String(defaultTrainConfig.batchSize) },
    lr: { type: 'string', default: String(defaultTrainConfig.lr) },
    model: { type: 'string', default: 'atto' },
    depths: { type: 'string' },
    dims: { type: 'string' },
    out: { type: 'string', default: 'runs/fashion-mnist-example' },
    backend: { type: 'string', default: 'auto' },
    resume: { type: 'boolean', default: false },
  },
});
const maxSteps = values['max-steps'] === undefined ? Infinity : positiveInt('max-steps', values['max-steps']);
const config: TrainConfig = {
  ...defaultTrainConfig,
  dataset: 'fashion-mnist',
  dataDir: values['data-dir'] ?? null,
  model: oneOf('model', values.model, Object.keys(CONVNEXT_VARIANTS) as ConvNeXtVariant[]),
  // A custom architecture instead of the variant's (both, or neither).
  depths: values.depths === undefined ? null : stages('depths', values.depths),
  dims: values.dims === undefined ? null : stages('dims', values.dims),
  stemStride: 2, // 28x28 inputs: 28 -> 14 -> 7 -> 3 -> 1 (the official stride 4 is for 224x224)
  epochs: positiveInt('epochs', values.epochs ?? '10'),
  batchSize: positiveInt('batch-size', values['batch-size']),
  lr: positiveNumber('lr', values.lr),
  backend: oneOf('backend', values.backend, ['auto', 'js', 'wasm', 'webgpu'] as const),
  out: values.out,
};

let step = 0;
let interrupted = false;
process.on('SIGINT', () => {
  if (interrupted) process.exit(130);
  interrupted = true;
  console.log('\nstopping after this step and saving a checkpoint (Ctrl-C again to quit now)');
});

const result = await train(config, {
  resume: values.resume,
  // A resumed run keeps its saved configuration; --epochs may extend it.
  ...(values.resume ? { overrides: { out: config.out, backend: config.backend, ...(values.epochs ? { epochs: config.epochs } : {}) } } : {}),
  shouldStop: () => interrupted || step >= maxSteps,
  hooks: {
    onBackend: (m) => console.log(m),
    onWarning: (m) => console.warn(`warning: ${m}`),
    onStart: (i) => {
      step = i.resumedAt;
      console.log(`ConvNeXt-${archName(i.config)} (${(i.parameters / 1e6).toFixed(2)}M parameters) on ${i.dataset}, backend ${i.backend}`);
      console.log(`${i.config.epochs} epochs x ${i.stepsPerEpoch} steps of ${i.config.batchSize} images${Number.isFinite(maxSteps) ? `, stopping at step ${maxSteps}` : ''}${i.resumedAt ? `, resuming at step ${i.resumedAt}` : ''}`);
    },
    onStep: (i) => {
      step = i.step;
      if (i.step === 1 || i.step % 50 === 0) console.log(`step ${i.step}/${i.totalSteps} (epoch ${i.epoch + 1}): loss ${i.loss.toFixed(4)}, lr ${i.lr.toExponential(2)}`);
    },
    onEval: (i) => console.log(`epoch ${i.epoch}: test loss ${i.loss.toFixed(4)}, top-1 ${(100 * i.accuracy).toFixed(2)}%, top-5 ${(100 * i.top5).toFixed(2)}%`),
  },
});
const losses = result.progress.losses.map(([, l]) => l);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const n = Math.max(1, Math.min(10, Math.floor(losses.length / 2)));
console.log(`training loss (with label smoothing): first ${n} steps ${mean(losses.slice(0, n)).toFixed(4)} -> last ${n} steps ${mean(losses.slice(-n)).toFixed(4)}`);
if (result.stopped) console.log(`stopped at step ${result.progress.step}; continue with --resume --out ${config.out}`);

// The checkpoint on the whole test split (what `tsgrad-convnext eval RUN` prints).
const r = await evaluateRun({ run: config.out, backend: config.backend });
console.log(`test: top-1 ${(100 * r.top1).toFixed(2)}%, top-5 ${(100 * r.top5).toFixed(2)}%, loss ${r.loss.toFixed(4)} on ${r.examples} images`);
for (const c of r.perClass) console.log(`  ${c.class.padEnd(12)} ${(100 * c.accuracy).toFixed(1).padStart(5)}%`);
console.log(`run folder ${config.out}: checkpoint, metrics.json(l), training.svg; confusion matrix ${r.files.confusion}`);
process.exit(interrupted ? 130 : 0);
