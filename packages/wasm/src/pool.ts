/**
 * The worker pool: `threads - 1` worker_threads over the backend's shared WebAssembly.Memory,
 * plus the calling thread. A job is one exported kernel function over a list of chunks
 * (typically ranges of rows), each with its own arguments. Every participant, the caller
 * included, claims chunks one at a time with a compare-and-swap on a shared counter, so
 * work balances itself and a helper that the OS has not scheduled yet delays nothing: the
 * caller then simply runs the remaining chunks. The caller returns when every chunk is
 * done, so dispatch stays synchronous like the Backend interface.
 *
 * Workers learn kernels as compiled WebAssembly.Modules posted on a MessagePort, which they
 * drain synchronously (`receiveMessageOnPort`) when a job starts, so a worker never needs
 * its event loop and sleeps in `Atomics.wait` between jobs.
 */
import { nodeBuiltin } from './node-builtin.js';

// Control block layout (Int32Array indices).
const DONE = 0; // chunks finished in the current job
const ERROR = 1; // set when a chunk threw on a helper
const SEQ = 2; // job generation; helpers wait on it
const NEXT = 3; // (seq & 0x7fff) << 16 | next chunk index
const TOTAL = 4; // chunks in the current job
const KERNEL = 5; // kernel id (-1: stop)
const FN = 6; // function index in the kernel's names
const NARGS = 7; // arguments per chunk
const SCRATCH_ARG = 8; // argument replaced by the executor's scratch pointer (-1: none)
const SCRATCH = 16; // SCRATCH + t: scratch pointer of executor t (0: the caller)
/** Arguments per chunk, and chunks per job, at most. */
const MAX_ARGS = 16;
export const MAX_CHUNKS = 1024;

/** The worker's code: plain JavaScript, run with `eval: true` so no file or loader is needed. */
const WORKER_SOURCE = String.raw`
const { workerData, receiveMessageOnPort } = require('node:worker_threads');
const { memory, ctrl, args, port, index } = workerData;
const I = new Int32Array(ctrl);
const A = new Float64Array(args);
const kernels = new Map();
function drain() {
  let m;
  while ((m = receiveMessageOnPort(port))) {
    const d = m.message;
    const inst = new WebAssembly.Instance(d.module, { env: { mem: memory } });
    kernels.set(d.id, d.names.map((n) => inst.exports[n]));
  }
}
function work(seq) {
  const id = I[${KERNEL}];
  if (id === -1) return false;
  drain();
  let fns = kernels.get(id);
  for (let tries = 0; !fns && tries < 100000 && Atomics.load(I, ${SEQ}) === seq; tries++) { drain(); fns = kernels.get(id); }
  if (!fns) return true; // a stale job: the caller has moved on
  const f = fns[I[${FN}]];
  const n = I[${NARGS}];
  const sArg = I[${SCRATCH_ARG}];
  const total = I[${TOTAL}];
  const tag = (seq & 0x7fff) << 16;
  for (;;) {
    const cur = Atomics.load(I, ${NEXT});
    if ((cur & 0x7fff0000) !== tag) return true;
    const i = cur & 0xffff;
    if (i >= total) return true;
    if (Atomics.compareExchange(I, ${NEXT}, cur, cur + 1) !== cur) continue;
    const a = new Array(n);
    for (let k = 0; k < n; k++) a[k] = A[i * ${MAX_ARGS} + k];
    if (sArg >= 0) a[sArg] = I[${SCRATCH} + 1 + index];
    try {
      f(...a);
    } catch (e) {
      Atomics.store(I, ${ERROR}, 1);
    }
    Atomics.add(I, ${DONE}, 1);
    Atomics.notify(I, ${DONE});
  }
}
let seen = 0;
for (;;) {
  Atomics.wait(I, ${SEQ}, seen);
  seen = Atomics.load(I, ${SEQ});
  if (!work(seen)) break;
}
`;

/** A kernel module as the pool knows it. */
export interface PoolKernel {
  readonly id: number;
  readonly module: WebAssembly.Module;
  readonly names: readonly string[];
}

interface NodeWorker {
  unref(): void;
  terminate(): Promise<number>;
}
interface NodePort {
  postMessage(v: unknown): void;
  close(): void;
}

/** The pool of helper threads. */
export class Pool {
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private readonly ports: NodePort[] = [];
  private readonly workers: NodeWorker[] = [];
  private readonly posted = new Set<number>();
  private closed = false;
  private seq = 0;
  /** Chunks run on helper threads so far. */
  helperJobs = 0;
  /**
   * Whether the calling thread claims chunks too (default true). Tests turn it off so that
   * every chunk of every parallel kernel runs on a helper thread.
   */
  callerClaims = true;

  private constructor(
    readonly helpers: number,
    wt: typeof import('node:worker_threads'),
    memory: WebAssembly.Memory,
  ) {
    const ctrlBuf = new SharedArrayBuffer((SCRATCH + helpers + 1) * 4);
    const argsBuf = new SharedArrayBuffer(MAX_CHUNKS * MAX_ARGS * 8);
    this.ctrl = new Int32Array(ctrlBuf);
    this.args = new Float64Array(argsBuf);
    for (let i = 0; i < helpers; i++) {
      const { port1, port2 } = new wt.MessageChannel();
      const w = new wt.Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { memory, ctrl: ctrlBuf, args: argsBuf, port: port2, index: i },
        transferList: [port2],
      });
      w.unref();
      this.workers.push(w as unknown as NodeWorker);
      this.ports.push(port1 as unknown as NodePort);
    }
  }

  /**
   * A pool of `threads - 1` helpers, or the reason there can be none (no
   * SharedArrayBuffer, no worker_threads): then the backend runs on one thread.
   */
  static async create(threads: number, memory: WebAssembly.Memory): Promise<Pool | string> {
    if (threads <= 1) return 'one thread requested';
    if (typeof SharedArrayBuffer === 'undefined') return 'SharedArrayBuffer is unavailable (browsers need cross-origin isolation: COOP same-origin + COEP require-corp)';
    if (!(memory.buffer instanceof SharedArrayBuffer)) return 'the memory is not shared';
    const wt = await nodeBuiltin<typeof import('node:worker_threads')>('worker_threads');
    if (!wt) return 'worker_threads is unavailable (the pool is implemented for Node; browsers run single-threaded)';
    return new Pool(threads - 1, wt, memory);
  }

  /** Threads including the caller. */
  get threads(): number {
    return this.helpers + 1;
  }

  /**
   * Runs `kernel.names[fn]` once per chunk, chunks claimed by the caller and the helpers;
   * with `scratch`, argument `scratch.arg` of each chunk is replaced by the executing
   * thread's pointer (`scratch.ptrs[0]` for the caller, `[t]` for helper t-1).
   */
  run(kernel: PoolKernel, fn: number, chunks: readonly (readonly number[])[], local: (...a: number[]) => unknown, scratch?: { arg: number; ptrs: readonly number[] }): void {
    if (this.closed) throw new Error('wasm backend: the thread pool was disposed');
    const total = chunks.length;
    if (total > MAX_CHUNKS) throw new RangeError(`wasm backend: ${total} chunks in one job (at most ${MAX_CHUNKS})`);
    const nargs = chunks[0]!.length;
    if (nargs > MAX_ARGS) throw new RangeError(`wasm backend: ${nargs} kernel arguments (at most ${MAX_ARGS})`);
    if (!this.posted.has(kernel.id)) {
      for (const p of this.ports) p.postMessage({ id: kernel.id, module: kernel.module, names: kernel.names });
      this.posted.add(kernel.id);
    }
    const I = this.ctrl;
    const seq = ++this.seq;
    const tag = (seq & 0x7fff) << 16;
    // Close the counter first (the new tag, an index past any job): a helper still holding
    // the previous job's tag can then claim nothing while the fields below are rewritten.
    Atomics.store(I, NEXT, tag | 0xffff);
    for (let i = 0; i < total; i++) {
      const c = chunks[i]!;
      for (let k = 0; k < nargs; k++) this.args[i * MAX_ARGS + k] = c[k]!;
    }
    I[TOTAL] = total;
    I[KERNEL] = kernel.id;
    I[FN] = fn;
    I[NARGS] = nargs;
    I[SCRATCH_ARG] = scratch ? scratch.arg : -1;
    if (scratch) for (let t = 0; t <= this.helpers; t++) I[SCRATCH + t] = scratch.ptrs[t]!;
    Atomics.store(I, DONE, 0);
    Atomics.store(I, ERROR, 0);
    Atomics.store(I, NEXT, tag);
    Atomics.store(I, SEQ, seq);
    if (total > 1) Atomics.notify(I, SEQ, this.helpers);
    // Claim chunks here too.
    let mine = 0;
    while (this.callerClaims) {
      const cur = Atomics.load(I, NEXT);
      const i = cur & 0xffff;
      if (i >= total) break;
      if (Atomics.compareExchange(I, NEXT, cur, cur + 1) !== cur) continue;
      const a = chunks[i]!.slice();
      if (scratch) a[scratch.arg] = scratch.ptrs[0]!;
      local(...a);
      mine++;
      Atomics.add(I, DONE, 1);
    }
    this.helperJobs += total - mine;
    let spins = 0;
    for (;;) {
      const done = Atomics.load(I, DONE);
      if (done >= total) break;
      if (spins++ < 4000) continue;
      Atomics.wait(I, DONE, done, 20);
    }
    if (Atomics.load(I, ERROR) !== 0) throw new Error('wasm backend: a kernel failed on a helper thread');
  }

  /** Stops the helpers. */
  async dispose(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.ctrl[KERNEL] = -1;
    Atomics.store(this.ctrl, SEQ, ++this.seq);
    Atomics.notify(this.ctrl, SEQ);
    await Promise.all(this.workers.map((w) => w.terminate()));
    for (const p of this.ports) p.close();
  }
}
