/** The page's side of the training worker: typed sends and one listener per message type. */
import type { FromWorker, ToWorker } from './protocol.js';

type Handler<T extends FromWorker['type']> = (msg: Extract<FromWorker, { type: T }>) => void;

/** The training worker, started as a module Worker. */
export class WorkerClient {
  private readonly worker: Worker;
  private readonly handlers = new Map<string, ((msg: FromWorker) => void)[]>();

  constructor() {
    this.worker = new Worker(new URL('./worker/train-worker.ts', import.meta.url), { type: 'module', name: 'tsgrad-train' });
    this.worker.onmessage = (e: MessageEvent<FromWorker>) => {
      for (const h of this.handlers.get(e.data.type) ?? []) h(e.data);
    };
    this.worker.onerror = (e) => {
      for (const h of this.handlers.get('error') ?? []) h({ type: 'error', message: `the worker failed: ${e.message || 'it could not start'}` });
    };
  }

  /** Sends a message (buffers in `transfer` move to the worker). */
  send(msg: ToWorker, transfer: Transferable[] = []): void {
    this.worker.postMessage(msg, transfer);
  }

  /** Calls `handler` for every message of `type`. */
  on<T extends FromWorker['type']>(type: T, handler: Handler<T>): void {
    const list = this.handlers.get(type) ?? [];
    list.push(handler as (msg: FromWorker) => void);
    this.handlers.set(type, list);
  }
}
