/**
 * Prefetching: host batches requested ahead of the training step, so that decoding and
 * augmentation (in worker threads, see `data/node/worker-loader-node.ts`) overlap the
 * step instead of adding to it. Batches come out in order, each exactly the loader's
 * `hostBatch(epoch, b)` (augmentation is seeded per example, so where it is made does not
 * matter).
 */
import type { DataLoader, HostBatch } from './loader.js';

/** Makes host batches; `request` may start work in the background and resolve later. */
export interface BatchProducer {
  /** Batch `b` of `epoch`. */
  request(epoch: number, b: number): Promise<HostBatch>;
  /** Stops background work (workers); no request may follow. */
  close(): Promise<void>;
}

/** A producer on this thread: each batch is made when it is awaited (no overlap; no threads). */
export class InlineProducer implements BatchProducer {
  constructor(readonly loader: DataLoader) {}
  /** Makes the batch now (as a resolved promise). */
  request(epoch: number, b: number): Promise<HostBatch> {
    try {
      return Promise.resolve(this.loader.hostBatch(epoch, b));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }
  /** Nothing to stop. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Walks `(epoch, batch)` from a start position to the end of training, keeping `depth`
 * batches requested ahead of the one being consumed. {@link Prefetcher.next} names the
 * batch it expects, so a mismatch is an error, never a silent misalignment.
 */
export class Prefetcher {
  private readonly queue: { epoch: number; b: number; p: Promise<HostBatch> }[] = [];
  private cursor: { epoch: number; b: number };

  constructor(
    private readonly producer: BatchProducer,
    private readonly plan: { readonly epochs: number; readonly batchesPerEpoch: number; readonly start: { epoch: number; batch: number }; readonly depth?: number; readonly inline?: boolean },
  ) {
    if (!(plan.batchesPerEpoch > 0)) throw new RangeError(`Prefetcher: batchesPerEpoch must be positive, got ${plan.batchesPerEpoch}`);
    this.cursor = { epoch: plan.start.epoch, b: plan.start.batch };
    if (!plan.inline) this.fill();
  }

  private fill(): void {
    const depth = this.plan.inline ? 1 : Math.max(1, this.plan.depth ?? 2);
    while (this.queue.length < depth && this.cursor.epoch < this.plan.epochs) {
      const { epoch, b } = this.cursor;
      const p = this.producer.request(epoch, b);
      p.catch(() => undefined); // surfaced by next(); avoid an unhandled rejection meanwhile
      this.queue.push({ epoch, b, p });
      this.cursor = b + 1 < this.plan.batchesPerEpoch ? { epoch, b: b + 1 } : { epoch: epoch + 1, b: 0 };
    }
  }

  /** The batch `b` of `epoch` (must be the next in order), and requests more ahead. */
  async next(epoch: number, b: number): Promise<HostBatch> {
    if (this.queue.length === 0) this.fill();
    const head = this.queue.shift();
    if (!head || head.epoch !== epoch || head.b !== b) throw new Error(`Prefetcher: asked for batch ${b} of epoch ${epoch}, but the next planned is ${head ? `batch ${head.b} of epoch ${head.epoch}` : 'none (past the end)'}`);
    if (!this.plan.inline) this.fill(); // request the following batches before waiting: they run during this step
    return head.p;
  }

  /** Stops the producer (pending batches are dropped). */
  async close(): Promise<void> {
    this.queue.length = 0;
    await this.producer.close();
  }
}
