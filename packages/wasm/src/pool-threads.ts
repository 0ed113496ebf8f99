/**
 * Helper threads for Node: `worker_threads` running the pool's helper code with
 * `eval: true` (no file or loader needed). Kernels travel on a MessagePort that the helper
 * drains synchronously with `receiveMessageOnPort`, so it never needs its event loop.
 * `node:worker_threads` is handed in (loaded through node-builtin.ts), so nothing here
 * imports a Node built-in and browser bundles stay clean.
 */
import { helperSource } from './pool-protocol.js';
import type { HelperThreads, PoolKernel } from './pool.js';

const SOURCE = helperSource({
  syncReceive: true,
  prelude: String.raw`
const wt = require('node:worker_threads');
const port = wt.workerData.port;
({ memory, ctrl, args, index } = wt.workerData);
function drain() {
  let m;
  while ((m = wt.receiveMessageOnPort(port))) learn(m.message);
}
start();
pump();
`,
});

interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
}
interface NodePort {
  postMessage(v: unknown): void;
  close(): void;
}

/** Starts `helpers` worker_threads over `memory` and the pool's control blocks. */
export function startWorkerThreads(
  wt: typeof import('node:worker_threads'),
  helpers: number,
  memory: WebAssembly.Memory,
  ctrl: SharedArrayBuffer,
  args: SharedArrayBuffer,
): HelperThreads {
  const workers: NodeWorker[] = [];
  const ports: NodePort[] = [];
  for (let i = 0; i < helpers; i++) {
    const { port1, port2 } = new wt.MessageChannel();
    const w = new wt.Worker(SOURCE, { eval: true, workerData: { memory, ctrl, args, port: port2, index: i }, transferList: [port2] });
    // Helpers sleep in Atomics.wait between jobs; they must not keep the process alive.
    w.unref();
    workers.push(w as unknown as NodeWorker);
    ports.push(port1 as unknown as NodePort);
  }
  return {
    kind: 'worker_threads',
    post(k: PoolKernel) {
      for (const p of ports) p.postMessage({ id: k.id, module: k.module, names: k.names });
    },
    async terminate() {
      await Promise.all(workers.map((w) => w.terminate()));
      for (const p of ports) p.close();
    },
  };
}
