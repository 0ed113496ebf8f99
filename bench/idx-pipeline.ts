/**
 * The data pipeline's cost on an IDX dataset (Fashion-MNIST / MNIST), as `train` runs it:
 * images/s of the full training step (the loader's shuffle, pad-and-crop, flip and
 * normalisation, the upload, label smoothing, forward, backward, AdamW) against the bare
 * step (forward, backward, AdamW on a batch already on the backend), same model and batch.
 * Blocks of each alternate, so a busy machine slows both alike; the ratio is what counts.
 *
 *   tsx --conditions=source bench/idx-pipeline.ts [dataset=fashion-mnist] [rounds=6] [block=5] [batch=128] [depths=2,2,2,2] [dims=24,48,96,192] [workers=0]
 */
import { Generator, crossEntropy, setBackend, tidy } from '@tsgrad/core';
import { AdamW } from '@tsgrad/nn';
import '@tsgrad/wasm';
import { DataLoader, InlineProducer, Prefetcher, convnextParamGroups, datasetNormalization, defaultTrainConfig, hostBatchToTensors, mixBatch, resolveAugmentDefaults, type TrainConfig } from '@tsgrad/convnext';
import { openDatasetsNode, runModel, trainAugment } from '@tsgrad/convnext/node';
import { WorkerPoolProducer } from '../packages/convnext/src/data/node/worker-loader-node.js';

const a = process.argv.slice(2);
const [rounds, block, batch] = [Number(a[1] ?? 6), Number(a[2] ?? 5), Number(a[3] ?? 128)];
const workers = Number(a[6] ?? 0);
const c: TrainConfig = resolveAugmentDefaults({
  ...defaultTrainConfig,
  dataset: (a[0] ?? 'fashion-mnist') as TrainConfig['dataset'],
  depths: (a[4] ?? '2,2,2,2').split(',').map(Number),
  dims: (a[5] ?? '24,48,96,192').split(',').map(Number),
  batchSize: batch,
  workers,
});
await setBackend('wasm');
const { train: ds } = openDatasetsNode(c);
const norm = datasetNormalization(c.dataset, ds.shape[0]);
const loaderOpts = { batchSize: batch, seed: 0, augment: trainAugment(c), normalize: norm };
const loader = new DataLoader(ds, loaderOpts);
const model = runModel(c, ds.classes.length, ds.shape[0]);
const opt = new AdamW(convnextParamGroups(model, { weightDecay: c.weightDecay }), { lr: 1e-4 });
const g = new Generator(1);
const step = (images: Parameters<typeof mixBatch>[0], labels: Parameters<typeof mixBatch>[1]) => {
  const { images: x, targets } = mixBatch(images, labels, ds.classes.length, { labelSmoothing: c.labelSmoothing }, g);
  const l = crossEntropy(model.forward(x), targets);
  const v = l.item();
  l.backward();
  opt.step();
  opt.zeroGrad();
  return v;
};
const fixed = hostBatchToTensors(loader.hostBatch(0, 0));
const steps = loader.batchesPerEpoch;
const producer = workers > 0 ? new WorkerPoolProducer(loader, { spec: c, split: 'train', loader: loaderOpts }, workers) : new InlineProducer(loader);
const prefetch = new Prefetcher(producer, { epochs: 1_000, batchesPerEpoch: steps, start: { epoch: 0, batch: 0 }, depth: 2, inline: workers === 0 });
let next = 0;
const full = async () => {
  const e = Math.floor(next / steps);
  const host = await prefetch.next(e, next % steps);
  next++;
  tidy(() => {
    const { images, labels } = hostBatchToTensors(host);
    step(images, labels);
  });
  await new Promise<void>((r) => setImmediate(r)); // the engine yields once a step
};
const bare = async () => {
  tidy(() => step(fixed.images, fixed.labels));
  await new Promise<void>((r) => setImmediate(r));
};
await bare();
await full();
const t = { bare: 0, full: 0 };
const ratios: number[] = [];
for (let r = 0; r < rounds; r++) {
  const t0 = performance.now();
  for (let i = 0; i < block; i++) await bare();
  const t1 = performance.now();
  for (let i = 0; i < block; i++) await full();
  const t2 = performance.now();
  t.bare += t1 - t0;
  t.full += t2 - t1;
  ratios.push((t1 - t0) / (t2 - t1));
}
await prefetch.close();
// The loader alone (shuffle, augment, normalise on the host), what the step would wait for without overlap.
const tl = performance.now();
for (let i = 0; i < rounds * block; i++) loader.hostBatch(2, i % steps);
const loaderMs = (performance.now() - tl) / (rounds * block);
const ips = (ms: number) => ((rounds * block * batch * 1000) / ms).toFixed(0);
ratios.sort((x, y) => x - y);
console.log(`${c.dataset}, ConvNeXt ${c.depths!.join(',')}/${c.dims!.join(',')} stem ${c.stemStride}, batch ${batch}, augment ${JSON.stringify(loaderOpts.augment)}, workers ${workers}`);
console.log(`loader alone ${loaderMs.toFixed(1)} ms/batch = ${((100 * loaderMs) / (t.bare / (rounds * block))).toFixed(1)}% of a bare step (${(t.bare / (rounds * block)).toFixed(0)} ms)`);
console.log(`bare step ${ips(t.bare)} images/s; full step (loader + augment + upload + step) ${ips(t.full)} images/s; full/bare ${(t.bare / t.full).toFixed(3)} (median of ${rounds} rounds ${ratios[rounds >> 1]!.toFixed(3)})`);
