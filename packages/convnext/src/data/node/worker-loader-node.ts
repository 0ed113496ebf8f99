/**
 * A pool of worker threads that make a loader's batches: each worker opens the same
 * dataset and loader options, and makes the examples whose index is `k mod workers` (so
 * each worker's image cache holds only its share); the main thread assembles the batch.
 * Examples are seeded per (seed, epoch, index), so the batches equal `hostBatch` on the
 * main thread, whatever the number of workers.
 */
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { BatchProducer } from '../prefetch.js';
import type { DataLoader, HostBatch, LoaderOptions } from '../loader.js';
import type { NodeDatasetSpec } from './open-datasets-node.js';

/** What a worker is started with. */
export interface WorkerInit {
  readonly spec: NodeDatasetSpec;
  readonly split: 'train' | 'val';
  readonly loader: LoaderOptions;
}

/** A worker's answer: the examples at `positions` of the batch. */
interface WorkerReply {
  readonly id: number;
  readonly positions?: Int32Array;
  readonly pixels?: Float32Array;
  readonly labels?: Int32Array;
  readonly error?: string;
}

/**
 * Starts the worker script: the built `.js` directly; from source (tsx, vitest) through
 * tsx's `tsImport`, with the `source` export condition that resolves the workspace
 * packages to their TypeScript.
 */
function spawnWorker(init: WorkerInit): Worker {
  const ts = import.meta.url.endsWith('.ts');
  const url = new URL(`./loader-worker-node.${ts ? 'ts' : 'js'}`, import.meta.url);
  if (!ts) return new Worker(url, { workerData: init });
  let api: string;
  try {
    api = createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs');
  } catch {
    throw new Error('--workers from TypeScript sources needs tsx (a devDependency); build the package or install tsx');
  }
  const boot = `import(${JSON.stringify(pathToFileURL(api).href)}).then((m) => m.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(url.href)})).catch((e) => { console.error(e); process.exit(3); });`;
  return new Worker(boot, { eval: true, workerData: init, execArgv: ['--conditions=source'] });
}

/** Worker threads making the batches of `loader` (which must have been built from `init`). */
export class WorkerPoolProducer implements BatchProducer {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, { resolve: (r: WorkerReply) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private closed = false;

  constructor(
    readonly loader: DataLoader,
    init: WorkerInit,
    count: number,
  ) {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`WorkerPoolProducer: count must be a positive integer, got ${count}`);
    this.workers = Array.from({ length: count }, () => {
      const w = spawnWorker(init);
      w.on('message', (r: WorkerReply) => {
        const p = this.pending.get(r.id);
        this.pending.delete(r.id);
        if (!p) return;
        if (r.error) p.reject(new Error(r.error));
        else p.resolve(r);
      });
      w.on('error', (e) => this.failAll(e));
      w.on('exit', (code) => {
        if (!this.closed && code !== 0) this.failAll(new Error(`a data loader worker exited with code ${code}`));
      });
      return w;
    });
  }

  private failAll(e: Error): void {
    for (const p of this.pending.values()) p.reject(e);
    this.pending.clear();
  }

  private ask(w: Worker, epoch: number, indices: Int32Array, positions: Int32Array): Promise<WorkerReply> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, epoch, indices, positions });
    });
  }

  /** Sends each worker its share of batch `b` and assembles the replies. */
  async request(epoch: number, b: number): Promise<HostBatch> {
    if (this.closed) throw new Error('WorkerPoolProducer: closed');
    const idx = this.loader.batchIndices(epoch, b);
    const n = this.workers.length;
    const shares = this.workers.map((_, k) => {
      const pos: number[] = [];
      idx.forEach((i, p) => i % n === k && pos.push(p));
      return Int32Array.from(pos);
    });
    const replies = await Promise.all(shares.map((pos, k) => (pos.length ? this.ask(this.workers[k]!, epoch, Int32Array.from(pos, (p) => idx[p]!), pos) : null)));
    const [c, h, w] = this.loader.dataset.shape;
    const per = c * h * w;
    const pixels = new Float32Array(idx.length * per);
    const labels = new Int32Array(idx.length);
    for (const r of replies) {
      if (!r) continue;
      r.positions!.forEach((p, j) => {
        pixels.set(r.pixels!.subarray(j * per, (j + 1) * per), p * per);
        labels[p] = r.labels![j]!;
      });
    }
    return { pixels, labels, shape: [idx.length, c, h, w] };
  }

  /** Terminates the workers. */
  async close(): Promise<void> {
    this.closed = true;
    this.failAll(new Error('WorkerPoolProducer: closed'));
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
