/**
 * Fine-tunes official ImageNet ConvNeXt weights on a folder of your images, with the library
 * (no CLI): the weights loaded by path (the `.pth` of facebookresearch/ConvNeXt or timm's
 * `.safetensors`, any variant), the 1000-class head replaced by a new one for the folder's
 * classes, the paper's fine-tuning settings (small learning rate with layer-wise decay,
 * AdamW, label smoothing, the paper's augmentation) and, with --freeze, only the new head
 * trained (a linear probe). Writes the result as safetensors with official names and the
 * folder's class names, which `tsgrad-convnext predict --weights` reads back.
 *
 * The folder: ROOT/train/<class>/*.jpg|png and ROOT/val/<class>/..., or ROOT/<class>/... (10%
 * of each class held out, seeded).
 *
 *   node --import tsx --conditions=source examples/finetune-folder.ts --weights convnext_tiny_1k_224_ema.pth photos
 *       [--image-size 224] [--epochs 5] [--max-steps N] [--batch-size 16] [--lr 0.0001] [--layer-decay 0.8]
 *       [--freeze] [--out runs/finetune/model.safetensors] [--backend auto]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { argmax, crossEntropy, eq, noGrad, sum, tidy } from '@tsgrad/core';
import { cosineSchedule, LRScheduler, AdamW } from '@tsgrad/nn';
import {
  ConvNeXt,
  DataLoader,
  DATASET_STATS,
  convnextParamGroups,
  exportConvNeXtSafetensors,
  inferConvNeXtArch,
  toOfficialConvNeXtStateDict,
} from '@tsgrad/convnext';
import { chooseBackend, loadWeightsFile, openImageFolder } from '@tsgrad/convnext/node';
import { oneOf, positiveInt, positiveNumber } from './lib/args.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    weights: { type: 'string' },
    'image-size': { type: 'string', default: '224' },
    epochs: { type: 'string', default: '5' },
    'max-steps': { type: 'string' },
    'batch-size': { type: 'string', default: '16' },
    lr: { type: 'string', default: '0.0001' },
    'layer-decay': { type: 'string', default: '0.8' },
    freeze: { type: 'boolean', default: false },
    out: { type: 'string', default: 'runs/finetune/model.safetensors' },
    backend: { type: 'string', default: 'auto' },
  },
});
if (!values.weights || positionals.length !== 1) throw new Error('usage: finetune-folder.ts --weights WEIGHTS(.pth|.safetensors) IMAGE_FOLDER [options]');
const imageSize = positiveInt('image-size', values['image-size']);
const epochs = positiveInt('epochs', values.epochs);
const maxSteps = values['max-steps'] === undefined ? Infinity : positiveInt('max-steps', values['max-steps']);
const batchSize = positiveInt('batch-size', values['batch-size']);
const lr = positiveNumber('lr', values.lr);
const layerDecay = positiveNumber('layer-decay', values['layer-decay']);
if (layerDecay > 1) throw new Error(`--layer-decay must be in (0, 1], got ${layerDecay}`);
const backend = await chooseBackend(oneOf('backend', values.backend, ['auto', 'js', 'wasm', 'webgpu'] as const));

// 1. The folder: class names from the folder names; pictures decoded once and cached.
const { train: trainSet, val: valSet } = openImageFolder(positionals[0]!, { imageSize, seed: 0 });
const classes = trainSet.classes;
console.log(`${positionals[0]}: ${classes.length} classes (${classes.join(', ')}), ${trainSet.length} training and ${valSet.length} validation images at ${imageSize}x${imageSize}`);

// 2. The pretrained weights (official or timm names) in a model with a new head for these classes.
const { tensors } = await loadWeightsFile(values.weights);
const sd = toOfficialConvNeXtStateDict(tensors);
const arch = inferConvNeXtArch(sd);
if (arch.inChans !== 3) throw new Error(`the weights take ${arch.inChans} input channels; photos have 3`);
const model = new ConvNeXt({
  depths: arch.depths,
  dims: arch.dims,
  stemStride: arch.stemStride,
  kernelSize: arch.kernelSize,
  numClasses: classes.length,
  headInitScale: 0.001, // the official fine-tuning's small initial head
  ...(arch.layerScale ? {} : { layerScaleInitValue: 0 }),
});
if (imageSize < model.minInputSize) throw new Error(`--image-size ${imageSize} is below the model's minimum ${model.minInputSize}`);
const backbone = Object.fromEntries(Object.entries(sd).filter(([k]) => !k.startsWith('head.')));
const { missingKeys, unexpectedKeys } = model.loadStateDict(backbone, { strict: false });
if (unexpectedKeys.length || missingKeys.some((k) => !k.startsWith('head.'))) throw new Error(`the weights do not fit ConvNeXt: missing ${missingKeys.join(', ')}; unexpected ${unexpectedKeys.join(', ')}`);
for (const t of Object.values(tensors)) t.dispose();
console.log(`loaded ${Object.keys(backbone).length} tensors of ConvNeXt-${arch.variant ?? 'custom'} from ${values.weights}; its ${arch.numClasses}-class head is replaced by a new ${classes.length}-class one; backend ${backend}`);

// 3. What trains: everything (layer-wise lr decay: the stem learns slowest), or with --freeze the head alone.
if (values.freeze) {
  model.requiresGrad_(false);
  model.head.requiresGrad_(true);
}
const groups = convnextParamGroups(model, { weightDecay: 0.05, layerDecay }); // frozen parameters are left out
const optimizer = new AdamW(groups, { lr });
const trainable = groups.reduce((n, g) => n + g.params.reduce((m, p) => m + p.size, 0), 0);
const normalize = DATASET_STATS.imagenet; // the pretrained weights' input statistics
const loader = new DataLoader(trainSet, {
  batchSize: Math.min(batchSize, trainSet.length),
  seed: 0,
  normalize,
  // The paper's augmentation: RandomResizedCrop, flip, RandAugment m9, random erasing 0.25.
  augment: { randomResizedCrop: true, horizontalFlip: true, randAugment: 'rand-m9-mstd0.5-inc1', randomErasing: { probability: 0.25, mode: 'pixel' } },
});
const valLoader = new DataLoader(valSet, { batchSize: 32, shuffle: false, dropLast: false, normalize });
const total = Math.min(maxSteps, epochs * loader.batchesPerEpoch);
const scheduler = new LRScheduler(optimizer, cosineSchedule({ base: lr, final: lr / 100, total, warmup: Math.min(Math.floor(total / 10), loader.batchesPerEpoch) }));
console.log(`${values.freeze ? 'training the head only' : `fine-tuning everything (layer decay ${layerDecay})`}: ${trainable} of ${model.parameters().reduce((n, p) => n + p.size, 0)} parameters; ${total} steps of ${loader.opts.batchSize}, AdamW lr ${lr}`);

function validate(): { loss: number; accuracy: number } {
  model.eval();
  let [loss, correct] = [0, 0];
  for (let b = 0; b < valLoader.batchesPerEpoch; b++) {
    tidy(() =>
      noGrad(() => {
        const { images, labels } = valLoader.batch(0, b);
        const logits = model.forward(images);
        loss += crossEntropy(logits, labels, { reduction: 'sum' }).item();
        correct += sum(eq(argmax(logits, 1), labels)).item();
      }),
    );
  }
  model.train();
  return { loss: loss / valSet.length, accuracy: correct / valSet.length };
}

const before = validate();
console.log(`before: validation loss ${before.loss.toFixed(4)}, accuracy ${(100 * before.accuracy).toFixed(1)}%`);
let step = 0;
const losses: number[] = [];
for (let epoch = 0; epoch < epochs && step < total; epoch++) {
  for (let b = 0; b < loader.batchesPerEpoch && step < total; b++) {
    const loss = tidy(() => {
      const { images, labels } = loader.batch(epoch, b);
      const l = crossEntropy(model.forward(images), labels, { labelSmoothing: 0.1 });
      l.backward();
      optimizer.step();
      optimizer.zeroGrad();
      return l.item();
    });
    if (!Number.isFinite(loss)) throw new Error(`the loss became ${loss} at step ${step + 1}; lower --lr`);
    losses.push(loss);
    scheduler.step();
    step++;
  }
  const v = validate();
  console.log(`epoch ${epoch + 1} (step ${step}/${total}): training loss ${(losses.slice(-loader.batchesPerEpoch).reduce((a, x) => a + x, 0) / Math.min(losses.length, loader.batchesPerEpoch)).toFixed(4)}, validation loss ${v.loss.toFixed(4)}, accuracy ${(100 * v.accuracy).toFixed(1)}%`);
}

// 4. The fine-tuned weights, official names, with what predict needs to name and preprocess.
const bytes = await exportConvNeXtSafetensors(model, {
  metadata: {
    'tsgrad.classes': JSON.stringify(classes),
    'tsgrad.normalization': JSON.stringify(normalize),
    'tsgrad.imageSize': JSON.stringify(imageSize),
    'tsgrad.cropPct': JSON.stringify(0.875),
    'tsgrad.maxSide': JSON.stringify(2 * imageSize), // the folder's validation saw pictures reduced to this first
  },
});
mkdirSync(dirname(values.out), { recursive: true });
writeFileSync(values.out, bytes);
model.dispose();
console.log(`wrote ${values.out}; classify a photo with: tsgrad-convnext predict --weights ${values.out} photo.jpg`);
