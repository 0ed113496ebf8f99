/**
 * Helper threads for browsers: dedicated Web Workers running the pool's helper code from a
 * Blob URL (no separate file for a bundler to find, so esbuild and Vite need no settings).
 * They need a cross-origin-isolated context (SharedArrayBuffer, shared WebAssembly.Memory
 * posted to workers). A Web Worker has no synchronous message receive: it learns kernels in
 * its `onmessage`, and the helper code yields to its event loop when a job names a kernel it
 * has not received yet (pool-protocol.ts).
 */
import { helperSource } from './pool-protocol.js';
import type { HelperThreads, PoolKernel } from './pool.js';

const SOURCE = helperSource({
  syncReceive: false,
  prelude: String.raw`
function drain() {}
self.onmessage = (e) => {
  const d = e.data;
  if (I === undefined) {
    ({ memory, ctrl, args, index } = d);
    start();
    self.postMessage('ready');
    setTimeout(pump, 0);
  } else learn(d);
};
`,
});

/** How long a helper may take to start before the pool gives up on threads. */
const START_TIMEOUT_MS = 15_000;

/** The Web Worker surface used here (the DOM lib is not among this package's types). */
interface WebWorker {
  postMessage(v: unknown): void;
  terminate(): void;
  addEventListener(type: 'message' | 'error', f: (e: { data?: unknown; message?: string }) => void): void;
}
type WorkerCtor = new (url: string, opts?: { name?: string }) => WebWorker;
interface UrlStatics {
  createObjectURL(b: unknown): string;
  revokeObjectURL(u: string): void;
}

/** Whether this global scope can start Web Workers from a Blob URL. */
export function hasWebWorkers(): boolean {
  const g = globalThis as { Worker?: unknown; Blob?: unknown; URL?: Partial<UrlStatics> };
  return typeof g.Worker === 'function' && typeof g.Blob === 'function' && typeof g.URL?.createObjectURL === 'function';
}

/**
 * Starts `helpers` Web Workers over `memory` and the pool's control blocks, resolving once
 * every one has started (browsers start a worker only after the creating thread returns to
 * its event loop, so the pool must not be used before), or to the reason they could not.
 */
export async function startWebWorkers(helpers: number, memory: WebAssembly.Memory, ctrl: SharedArrayBuffer, args: SharedArrayBuffer): Promise<HelperThreads | string> {
  const g = globalThis as unknown as { Worker: WorkerCtor; Blob: new (parts: string[], opts: { type: string }) => unknown; URL: UrlStatics };
  const url = g.URL.createObjectURL(new g.Blob([SOURCE], { type: 'text/javascript' }));
  const workers: WebWorker[] = [];
  try {
    const started: Promise<string | null>[] = [];
    for (let i = 0; i < helpers; i++) {
      let w: WebWorker;
      try {
        w = new g.Worker(url, { name: `tsgrad-wasm-${i + 1}` });
      } catch (e) {
        throw new Error(`a Web Worker could not be created (${e instanceof Error ? e.message : String(e)}; a Content-Security-Policy must allow worker-src blob:)`);
      }
      workers.push(w);
      started.push(
        new Promise((resolve) => {
          const timer = setTimeout(() => resolve(`a Web Worker did not start within ${START_TIMEOUT_MS / 1000} s`), START_TIMEOUT_MS);
          w.addEventListener('message', (e) => {
            if (e.data === 'ready') {
              clearTimeout(timer);
              resolve(null);
            }
          });
          w.addEventListener('error', (e) => {
            clearTimeout(timer);
            resolve(`a Web Worker failed to start (${e.message ?? 'error event'}; a Content-Security-Policy must allow worker-src blob:)`);
          });
        }),
      );
      w.postMessage({ memory, ctrl, args, index: i });
    }
    const failed = (await Promise.all(started)).find((r) => r !== null);
    if (failed) throw new Error(failed);
  } catch (e) {
    for (const w of workers) w.terminate();
    return e instanceof Error ? e.message : String(e);
  } finally {
    g.URL.revokeObjectURL(url);
  }
  return {
    kind: 'web-workers',
    post(k: PoolKernel) {
      for (const w of workers) w.postMessage({ id: k.id, module: k.module, names: k.names });
    },
    async terminate() {
      for (const w of workers) w.terminate();
    },
  };
}
