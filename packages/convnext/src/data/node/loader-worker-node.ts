/** The worker thread of {@link WorkerPoolProducer}: opens the dataset and makes the examples it is asked for. */
import { parentPort, workerData } from 'node:worker_threads';
import { DataLoader } from '../loader.js';
import { openDatasetNode } from './open-datasets-node.js';
import type { WorkerInit } from './worker-loader-node.js';

const init = workerData as WorkerInit;
let loader: DataLoader | null = null;
let openError: string | null = null;
try {
  loader = new DataLoader(openDatasetNode(init.spec, init.split), init.loader);
} catch (e) {
  openError = (e as Error).message;
}

parentPort!.on('message', (m: { id: number; epoch: number; indices: Int32Array; positions: Int32Array }) => {
  try {
    if (!loader) throw new Error(openError ?? 'the dataset did not open');
    const [c, h, w] = loader.dataset.shape;
    const per = c * h * w;
    const pixels = new Float32Array(m.indices.length * per);
    const labels = new Int32Array(m.indices.length);
    m.indices.forEach((i, j) => {
      const ex = loader!.example(m.epoch, i);
      pixels.set(ex.image, j * per);
      labels[j] = ex.label;
    });
    parentPort!.postMessage({ id: m.id, positions: m.positions, pixels, labels }, [pixels.buffer, labels.buffer]);
  } catch (e) {
    parentPort!.postMessage({ id: m.id, error: (e as Error).message });
  }
});
