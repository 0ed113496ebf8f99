/**
 * A small custom ConvNeXt trained with the library alone (no CLI, no engine): the model,
 * the data, AdamW, the loss, the loop and the accuracy, on the built-in shapes dataset.
 *
 *   node --import tsx --conditions=source examples/custom-convnext.ts [--steps 300] [--batch 32] [--lr 0.003] [--val 512]
 */
import { parseArgs } from 'node:util';
import { argmax, crossEntropy, eq, noGrad, setBackend, sum, tidy } from '@tsgrad/core';
import '@tsgrad/wasm';
import { AdamW } from '@tsgrad/nn';
import { ConvNeXt, DataLoader, ShapesDataset, convnextParamGroups, datasetNormalization } from '@tsgrad/convnext';

const { values } = parseArgs({ options: { steps: { type: 'string', default: '300' }, batch: { type: 'string', default: '32' }, lr: { type: 'string', default: '0.003' }, val: { type: 'string', default: '512' } } });
const [steps, batchSize, lr, valSize] = [Number(values.steps), Number(values.batch), Number(values.lr), Number(values.val)];
if (![steps, batchSize, valSize].every((n) => Number.isInteger(n) && n > 0) || !(lr > 0)) throw new Error(`--steps, --batch and --val must be positive integers and --lr positive, got ${values.steps}, ${values.batch}, ${values.val}, ${values.lr}`);
await setBackend('wasm');

// Four stages of 1-1-2-1 blocks, 16-128 channels, a 2x2 stem for 32x32 pictures: 0.3M parameters.
const model = new ConvNeXt({ depths: [1, 1, 2, 1], dims: [16, 32, 64, 128], numClasses: 10, stemStride: 2 });
const normalize = datasetNormalization('shapes', 3);
const train = new DataLoader(new ShapesDataset({ length: 8192, seed: 1 }), { batchSize, seed: 0, normalize, augment: { horizontalFlip: true, cropPadding: 2 } });
const val = new DataLoader(new ShapesDataset({ length: valSize, seed: 2 }), { batchSize: 128, shuffle: false, dropLast: false, normalize });
const optimizer = new AdamW(convnextParamGroups(model, { weightDecay: 0.05 }), { lr });
console.log(`ConvNeXt [1,1,2,1] x [16,32,64,128]: ${model.parameters().reduce((n, p) => n + p.size, 0)} parameters; ${steps} steps of ${batchSize} shapes`);

const losses: number[] = [];
for (let step = 1; step <= steps; step++) {
  const loss = tidy(() => {
    // Batch b of epoch e is the same on every run: a seeded shuffle and seeded augmentation.
    const { images, labels } = train.batch(Math.floor((step - 1) / train.batchesPerEpoch), (step - 1) % train.batchesPerEpoch);
    const l = crossEntropy(model.forward(images), labels, { labelSmoothing: 0.1 });
    l.backward();
    optimizer.step();
    optimizer.zeroGrad();
    return l.item();
  });
  losses.push(loss);
  if (step === 1 || step % Math.max(1, Math.floor(steps / 10)) === 0) console.log(`step ${step}/${steps}  loss ${loss.toFixed(4)}`);
}

const avg = (xs: number[]) => (xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(4);
const n = Math.min(10, Math.ceil(steps / 2));
console.log(`training loss (with label smoothing 0.1): first ${n} steps ${avg(losses.slice(0, n))} -> last ${n} steps ${avg(losses.slice(-n))}`);
model.eval();
const correct = tidy(() => noGrad(() => [...val].reduce((n, [images, labels]) => n + sum(eq(argmax(model.forward(images), 1), labels)).item(), 0)));
console.log(`validation accuracy: ${((100 * correct) / val.dataset.length).toFixed(1)}% of ${val.dataset.length} images`);
