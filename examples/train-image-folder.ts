/**
 * Trains a ConvNeXt from scratch on a folder of your images with the training engine
 * (`train` from `@tsgrad/convnext/node`, what `tsgrad-convnext train --dataset folder` runs),
 * with the paper's augmentation (RandomResizedCrop, flip, RandAugment rand-m9-mstd0.5-inc1,
 * random erasing 0.25), then classifies one validation picture per class with the result.
 *
 * The folder: ROOT/train/<class>/*.jpg|png and ROOT/val/<class>/..., or ROOT/<class>/... (10%
 * of each class held out, seeded). For pretrained weights instead of from scratch, see
 * finetune-folder.ts.
 *
 *   node --import tsx --conditions=source examples/train-image-folder.ts photos [--image-size 224] [--stem-stride 4]
 *       [--epochs 30] [--max-steps N] [--batch-size 32] [--lr 0.002] [--model atto | --depths a,b,c,d --dims a,b,c,d]
 *       [--workers 0] [--out runs/folder-example] [--backend auto]
 *
 * --image-size 112 is about 4x faster than 224; --workers N decodes and augments batches in
 * N threads ahead of the step (worth it with spare cores). --max-steps N stops after N steps.
 */
import { parseArgs } from 'node:util';
import { CONVNEXT_VARIANTS, defaultTrainConfig, type ConvNeXtVariant, type TrainConfig } from '@tsgrad/convnext';
import { loadRunForPredict, predictImages, scanImageFolder, train } from '@tsgrad/convnext/node';
import { archName, nonNegativeInt, oneOf, positiveInt, positiveNumber, stages } from './lib/args.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'image-size': { type: 'string', default: '224' },
    'stem-stride': { type: 'string', default: '4' },
    epochs: { type: 'string', default: '30' },
    'max-steps': { type: 'string' },
    'batch-size': { type: 'string', default: '32' },
    lr: { type: 'string', default: String(defaultTrainConfig.lr) },
    model: { type: 'string', default: 'atto' },
    depths: { type: 'string' },
    dims: { type: 'string' },
    workers: { type: 'string', default: '0' },
    out: { type: 'string', default: 'runs/folder-example' },
    backend: { type: 'string', default: 'auto' },
  },
});
if (positionals.length !== 1) throw new Error('usage: train-image-folder.ts IMAGE_FOLDER [options] (ROOT/train/<class>/*.jpg and ROOT/val/<class>/..., or ROOT/<class>/...)');
const maxSteps = values['max-steps'] === undefined ? Infinity : positiveInt('max-steps', values['max-steps']);
const config: TrainConfig = {
  ...defaultTrainConfig,
  dataset: 'folder',
  dataDir: positionals[0]!,
  imageSize: positiveInt('image-size', values['image-size']),
  stemStride: positiveInt('stem-stride', values['stem-stride']),
  model: oneOf('model', values.model, Object.keys(CONVNEXT_VARIANTS) as ConvNeXtVariant[]),
  // A custom architecture instead of the variant's (both, or neither).
  depths: values.depths === undefined ? null : stages('depths', values.depths),
  dims: values.dims === undefined ? null : stages('dims', values.dims),
  epochs: positiveInt('epochs', values.epochs),
  batchSize: positiveInt('batch-size', values['batch-size']),
  lr: positiveNumber('lr', values.lr),
  workers: nonNegativeInt('workers', values.workers),
  backend: oneOf('backend', values.backend, ['auto', 'js', 'wasm', 'webgpu'] as const),
  out: values.out,
  // aa, reprob and randomResizedCrop stay 'auto': the paper's recipe for image folders.
};

let step = 0;
const result = await train(config, {
  shouldStop: () => step >= maxSteps,
  hooks: {
    onBackend: (m) => console.log(m),
    onWarning: (m) => console.warn(`warning: ${m}`),
    onStart: (i) => {
      const c = i.config;
      console.log(`ConvNeXt-${archName(c)} (${(i.parameters / 1e6).toFixed(2)}M parameters) on ${i.dataset} at ${i.imageShape[1]}x${i.imageShape[2]}, backend ${i.backend}`);
      console.log(`augmentation: random resized crop ${c.randomResizedCrop ? `scale ${c.scale.join('-')}` : 'off'}, flip ${c.flip ? 'on' : 'off'}, RandAugment ${c.aa}, random erasing ${c.reprob}`);
      console.log(`${c.epochs} epochs x ${i.stepsPerEpoch} steps of ${c.batchSize} images${Number.isFinite(maxSteps) ? `, stopping at step ${maxSteps}` : ''}`);
    },
    onStep: (i) => {
      step = i.step;
      if (i.step === 1 || i.step % 20 === 0) console.log(`step ${i.step}/${i.totalSteps}: loss ${i.loss.toFixed(4)}`);
    },
    onEval: (i) => console.log(`epoch ${i.epoch}: validation loss ${i.loss.toFixed(4)}, accuracy ${(100 * i.accuracy).toFixed(1)}%`),
  },
});
const losses = result.progress.losses.map(([, l]) => l);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const n = Math.max(1, Math.min(10, Math.floor(losses.length / 2)));
console.log(`training loss: first ${n} steps ${mean(losses.slice(0, n)).toFixed(4)} -> last ${n} steps ${mean(losses.slice(-n)).toFixed(4)}`);
console.log(`run folder ${config.out}: ${result.checkpoint}, metrics.json, metrics.jsonl, ${result.plot}`);

// Use it: one validation picture per class through the trained model (as `tsgrad-convnext predict RUN IMAGE` does).
const layout = scanImageFolder(config.dataDir!, { seed: config.seed, valFraction: config.valFraction });
const samples = layout.classes.map((_, label) => layout.val.find((e) => e.label === label)?.file).filter((f): f is string => f !== undefined);
const pm = await loadRunForPredict(config.out);
for (const r of await predictImages(pm, samples, { topK: 1 })) {
  const truth = layout.classes[layout.val.find((e) => e.file === r.file)!.label];
  console.log(`${r.file}: ${r.top[0]!.label} (${(100 * r.top[0]!.probability).toFixed(1)}%), truth ${truth}`);
}
pm.model.dispose();
