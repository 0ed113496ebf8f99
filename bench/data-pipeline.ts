/**
 * The image-folder data pipeline's cost: JPEG decode, the paper's per-image augmentation
 * at 224 px, the decode cache (epoch 1 vs 2), and whether worker threads hide the
 * pipeline behind training steps (images/s of real steps, inline vs --workers N).
 *
 *   tsx --conditions=source bench/data-pipeline.ts [steps=12] [batch=16] [size=64]
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Generator, crossEntropy, setBackend, tidy } from '@tsgrad/core';
import '@tsgrad/wasm';
import { createRequire } from 'node:module';
import { DataLoader, PAPER_RANDAUGMENT, Prefetcher, InlineProducer, ConvNeXt, hostBatchToTensors, type HostBatch } from '@tsgrad/convnext';
import { decodeImageFile, openImageFolder } from '../packages/convnext/src/data/node/image-folder-node.js';
import { WorkerPoolProducer } from '../packages/convnext/src/data/node/worker-loader-node.js';

// jpeg-js is @tsgrad/convnext's dependency, resolved from there.
const { encode: encodeJpeg } = createRequire(new URL('../packages/convnext/package.json', import.meta.url))('jpeg-js') as {
  encode(img: { data: Buffer; width: number; height: number }, quality: number): { data: Buffer };
};
const [steps, batch, size] = [Number(process.argv[2] ?? 12), Number(process.argv[3] ?? 16), Number(process.argv[4] ?? 64)];
const dir = mkdtempSync(join(tmpdir(), 'tsgrad-bench-data-'));
const g = new Generator(0);
// 4 classes x 40 photos of 500x375 with smooth texture (JPEG quality 90), like a small photo folder.
for (let c = 0; c < 4; c++) {
  mkdirSync(join(dir, `c${c}`));
  for (let i = 0; i < 40; i++) {
    const [w, h] = [500, 375];
    const d = Buffer.alloc(w * h * 4);
    const u = g.uniform(3);
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) d.set([(x * u[0]! + c * 60) & 255, (y * u[1]! + i * 5) & 255, ((x + y) * u[2]!) & 255, 255], (y * w + x) * 4);
    writeFileSync(join(dir, `c${c}`, `${i}.jpg`), encodeJpeg({ data: d, width: w, height: h }, 90).data);
  }
}
const time = (f: () => void, n = 1) => {
  const t = performance.now();
  for (let i = 0; i < n; i++) f();
  return (performance.now() - t) / n;
};
const file = join(dir, 'c0', '0.jpg');
console.log(`cpus ${cpus().length}; decode 500x375 JPEG: ${time(() => decodeImageFile(file), 10).toFixed(1)} ms`);

const aug = { randomResizedCrop: true, horizontalFlip: true, randAugment: PAPER_RANDAUGMENT, randomErasing: { probability: 0.25 } };
const norm = { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] };
const { train: t224 } = openImageFolder(dir, { imageSize: 224, valFraction: 0.1 });
const l224 = new DataLoader(t224, { batchSize: 16, seed: 0, augment: aug, normalize: norm });
const e1 = time(() => {
  for (let b = 0; b < l224.batchesPerEpoch; b++) l224.hostBatch(0, b);
}) / l224.batchesPerEpoch;
const d1 = t224.decodes;
const e2 = time(() => {
  for (let b = 0; b < l224.batchesPerEpoch; b++) l224.hostBatch(1, b);
}) / l224.batchesPerEpoch;
console.log(`224 px, batch 16 (RRC + flip + ${PAPER_RANDAUGMENT} + erasing 0.25): epoch 1 (decodes) ${e1.toFixed(0)} ms/batch, epoch 2 (cached) ${e2.toFixed(0)} ms/batch = ${(16000 / e2).toFixed(0)} images/s per thread; decodes: epoch 1 ${d1}, epoch 2 ${t224.decodes - d1}`);

// Training steps at `size` px with each producer.
await setBackend('wasm');
const { train } = openImageFolder(dir, { imageSize: size, valFraction: 0.1 });
const loaderOpts = { batchSize: batch, seed: 0, augment: aug, normalize: norm };
const loader = new DataLoader(train, loaderOpts);
for (let e = 0; e < 2; e++) for (let b = 0; b < loader.batchesPerEpoch; b++) loader.hostBatch(e, b); // warm the cache
const model = new ConvNeXt({ variant: 'atto', numClasses: 4, stemStride: 4, generator: new Generator(1) });
const step = (h: HostBatch) =>
  tidy(() => {
    const { images, labels } = hostBatchToTensors(h);
    const l = crossEntropy(model.forward(images), labels);
    l.backward();
    for (const p of model.parameters()) p.grad = null;
    return l.item();
  });
const fixed = loader.hostBatch(0, 0);
step(fixed);
const bare = time(() => step(fixed), steps);
console.log(`ConvNeXt-atto @${size}px batch ${batch} wasm: bare step ${bare.toFixed(0)} ms (${((batch * 1000) / bare).toFixed(1)} images/s); data alone ${time(() => loader.hostBatch(2, 0), 4).toFixed(0)} ms/batch`);
for (const workers of [0, 1, 2]) {
  const spec = { dataset: 'folder' as const, dataDir: dir, trainSize: 1, valSize: 1, imageSize: size, seed: 0, valFraction: 0.1 };
  const producer = workers ? new WorkerPoolProducer(loader, { spec, split: 'train', loader: loaderOpts }, workers) : new InlineProducer(loader);
  const pf = new Prefetcher(producer, { epochs: 100, batchesPerEpoch: loader.batchesPerEpoch, start: { epoch: 0, batch: 0 }, depth: 2, inline: workers === 0 });
  let [e, b] = [0, 0];
  const nextKey = () => ((b = b + 1 < loader.batchesPerEpoch ? b + 1 : 0), b === 0 && e++);
  // Warm up (workers start, decode their share once).
  for (let i = 0; i < loader.batchesPerEpoch; i++) (await pf.next(e, b), nextKey());
  const t = performance.now();
  for (let i = 0; i < steps; i++) {
    step(await pf.next(e, b));
    nextKey();
  }
  const ms = (performance.now() - t) / steps;
  console.log(`  workers ${workers}: ${ms.toFixed(0)} ms/step = ${((batch * 1000) / ms).toFixed(1)} images/s (${((100 * ms) / bare - 100).toFixed(0)}% over the bare step)`);
  await pf.close();
}
rmSync(dir, { recursive: true, force: true });
