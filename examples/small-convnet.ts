/**
 * A core-only example: a small convnet written with @tsgrad/core ops and autodiff alone
 * (no nn package), trained with SGD + momentum on grayscale shapes; prints the loss falling
 * and writes the loss curve to metrics.json.
 *
 *   pnpm tsx --conditions=source examples/small-convnet.ts [--steps 300] [--batch 32] [--lr 0.05] [--seed 0] [--out runs/small-convnet]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as T from '@tsgrad/core';
import { SHAPE_CLASSES, shapesBatch } from './lib/shapes-dataset.js';

const { values: args } = parseArgs({
  options: {
    steps: { type: 'string', default: '300' },
    batch: { type: 'string', default: '32' },
    lr: { type: 'string', default: '0.05' },
    seed: { type: 'string', default: '0' },
    size: { type: 'string', default: '16' },
    out: { type: 'string', default: 'runs/small-convnet' },
  },
});

function positiveInt(name: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got '${v}'`);
  return n;
}

const steps = positiveInt('steps', args.steps);
const batch = positiveInt('batch', args.batch);
const size = positiveInt('size', args.size);
if (size % 4 !== 0) throw new Error(`--size must be a multiple of 4 (two 2x2 poolings), got ${size}`);
const lr = Number(args.lr);
if (!(lr > 0)) throw new Error(`--lr must be a positive number, got '${args.lr}'`);
const seed = Number(args.seed);
const outDir = resolve(args.out);

// Model: conv3x3(1->8) GELU maxpool, conv3x3(8->16) GELU maxpool, linear -> 4 classes.
T.manualSeed(seed);
const init = (shape: number[], fanIn: number) => T.mul(T.randn(shape), Math.sqrt(2 / fanIn)).requiresGrad_();
const params = {
  conv1: init([8, 1, 3, 3], 9),
  bias1: T.zeros([8]).requiresGrad_(),
  conv2: init([16, 8, 3, 3], 72),
  bias2: T.zeros([16]).requiresGrad_(),
  fc: init([SHAPE_CLASSES.length, 16 * (size / 4) ** 2], 16 * (size / 4) ** 2),
  fcBias: T.zeros([SHAPE_CLASSES.length]).requiresGrad_(),
};
const velocity = new Map(Object.values(params).map((p) => [p, T.keep(T.zerosLike(p))]));

function model(x: T.Tensor): T.Tensor {
  let h = T.maxPool2d(T.gelu(T.conv2d(x, params.conv1, params.bias1, { padding: 1 })), 2);
  h = T.maxPool2d(T.gelu(T.conv2d(h, params.conv2, params.bias2, { padding: 1 })), 2);
  return T.add(T.matmul(h.flatten(1), params.fc.T), params.fcBias);
}

const data = new T.Generator(seed + 1);
const evalSet = T.tidy(() => {
  const b = shapesBatch(256, size, new T.Generator(seed + 2));
  return [b.images, b.labels] as const;
});

function accuracy(): number {
  return T.tidy(() => T.noGrad(() => T.mean(T.eq(T.argmax(model(evalSet[0]), 1), evalSet[1]).cast('float32')).item()));
}

console.log(`tsgrad: training a small convnet on the built-in shapes dataset (${SHAPE_CLASSES.join(', ')}), ${size}x${size} images`);
console.log(`backend ${T.getBackend().name}, ${steps} steps, batch ${batch}, SGD lr ${lr} momentum 0.9, seed ${seed}`);
console.log(`accuracy before training: ${(accuracy() * 100).toFixed(1)}%`);

const losses: [number, number][] = [];
let smooth = NaN;
for (let step = 1; step <= steps; step++) {
  const loss = T.tidy(() => {
    const { images, labels } = shapesBatch(batch, size, data);
    const l = T.crossEntropy(model(images), labels);
    l.backward();
    T.noGrad(() => {
      for (const p of Object.values(params)) {
        const v = velocity.get(p)!;
        v.assign(T.add(T.mul(v, 0.9), p.grad!));
        p.assign(T.sub(p, T.mul(v, lr)));
        p.zeroGrad();
      }
    });
    return l.item();
  });
  if (!Number.isFinite(loss)) throw new Error(`training diverged at step ${step} (loss ${loss}); try a smaller --lr`);
  losses.push([step, loss]);
  smooth = Number.isNaN(smooth) ? loss : 0.9 * smooth + 0.1 * loss;
  if (step % Math.max(1, Math.floor(steps / 10)) === 0 || step === steps) console.log(`step ${step}/${steps}: loss ${smooth.toFixed(4)}`);
}

const acc = accuracy();
const first = losses.slice(0, 10).reduce((a, [, l]) => a + l, 0) / Math.min(10, losses.length);
const last = losses.slice(-10).reduce((a, [, l]) => a + l, 0) / Math.min(10, losses.length);
console.log(`loss: first 10 steps ${first.toFixed(4)} -> last 10 steps ${last.toFixed(4)}`);
console.log(`accuracy after training: ${(acc * 100).toFixed(1)}%`);

mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'metrics.json'), JSON.stringify({ steps, batch, lr, seed, firstLoss: first, lastLoss: last, accuracy: acc, losses }, null, 1));
console.log(`wrote ${join(outDir, 'metrics.json')}`);
