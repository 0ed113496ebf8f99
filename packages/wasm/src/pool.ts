/**
 * The worker pool: `threads - 1` helper threads over the backend's shared
 * WebAssembly.Memory, plus the calling thread. The helpers are Node `worker_threads`
 * (pool-threads.ts) or, in a cross-origin-isolated browser context, Web Workers
 * (pool-web.ts); both run the same helper code over the same protocol (pool-protocol.ts).
 *
 * A job is one exported kernel function over a list of chunks (typically ranges of rows),
 * each with its own arguments. Every participant, the caller included, claims chunks one at
 * a time with a compare-and-swap on a shared counter, so work balances itself and a helper
 * that the OS has not scheduled yet delays nothing: the caller then simply runs the
 * remaining chunks. The caller returns when every chunk is done, so dispatch stays
 * synchronous like the Backend interface.
 *
 * Waiting for the last chunks: the caller spins on `Atomics.load` a few thousand times,
 * then sleeps in `Atomics.wait` with a short timeout (helpers `Atomics.notify` each
 * finished chunk). Where the caller may not block (a page's main thread, where
 * `Atomics.wait` throws), it only spins: it has claimed chunks itself until none were
 * left, so it spins at most for the chunks helpers are still running, i.e. about one chunk.
 */
import { nodeBuiltin } from './node-builtin.js';
import { ARGS_BYTES, DONE, ERROR, FN, KERNEL, MAX_ARGS, MAX_CHUNKS, NARGS, NEXT, PROBE, SCRATCH, SCRATCH_ARG, SEQ, TOTAL, ctrlBytes } from './pool-protocol.js';
import { startWorkerThreads } from './pool-threads.js';
import { hasWebWorkers, startWebWorkers } from './pool-web.js';

export { MAX_CHUNKS };

/** A kernel module as the pool knows it. */
export interface PoolKernel {
  readonly id: number;
  readonly module: WebAssembly.Module;
  readonly names: readonly string[];
}

/** Started helper threads, as the pool drives them (beyond the shared control block). */
export interface HelperThreads {
  /** What the helpers are. */
  readonly kind: 'worker_threads' | 'web-workers';
  /** Sends a kernel's compiled module to every helper. */
  post(k: PoolKernel): void;
  /** Stops the helpers. */
  terminate(): Promise<void>;
}

/** The reason for one thread in a browser context that is not cross-origin isolated. */
export const NOT_ISOLATED =
  'not cross-origin isolated: serve the page (and its scripts) with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, so that SharedArrayBuffer and shared WebAssembly memory are available';

/** Whether this thread may block in `Atomics.wait` (a page's main thread may not). */
function canBlock(ctrl: Int32Array): boolean {
  try {
    // The cell holds 0, so this returns 'not-equal' at once where waiting is allowed.
    Atomics.wait(ctrl, PROBE, 1, 0);
    return true;
  } catch {
    return false;
  }
}

/** The pool of helper threads. */
export class Pool {
  private readonly ctrl: Int32Array;
  private readonly args: Float64Array;
  private readonly posted = new Set<number>();
  private closed = false;
  private seq = 0;
  /** Whether the caller may sleep in `Atomics.wait` while helpers finish (else it spins). */
  readonly callerBlocks: boolean;
  /** Chunks run on helper threads so far. */
  helperJobs = 0;
  /**
   * Whether the calling thread claims chunks too (default true). Tests turn it off so that
   * every chunk of every parallel kernel runs on a helper thread.
   */
  callerClaims = true;

  private constructor(
    readonly helpers: number,
    private readonly threadsOf: HelperThreads,
    ctrl: SharedArrayBuffer,
    args: SharedArrayBuffer,
  ) {
    this.ctrl = new Int32Array(ctrl);
    this.args = new Float64Array(args);
    this.callerBlocks = canBlock(this.ctrl);
  }

  /**
   * A pool of `threads - 1` helpers, or the reason there can be none (not cross-origin
   * isolated, no SharedArrayBuffer, no worker_threads or Web Workers): then the backend
   * runs on one thread.
   */
  static async create(threads: number, memory: WebAssembly.Memory): Promise<Pool | string> {
    if (threads <= 1) return 'one thread requested';
    // Browsers (pages and workers) define crossOriginIsolated; Node does not.
    if ((globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === false) return NOT_ISOLATED;
    if (typeof SharedArrayBuffer === 'undefined') return 'SharedArrayBuffer is unavailable (browsers need cross-origin isolation: COOP same-origin + COEP require-corp)';
    if (!(memory.buffer instanceof SharedArrayBuffer)) return 'the memory is not shared';
    const helpers = threads - 1;
    const ctrl = new SharedArrayBuffer(ctrlBytes(helpers));
    const args = new SharedArrayBuffer(ARGS_BYTES);
    const isNode = typeof (globalThis as { process?: { versions?: { node?: unknown } } }).process?.versions?.node === 'string';
    if (isNode) {
      const wt = await nodeBuiltin<typeof import('node:worker_threads')>('worker_threads');
      if (!wt) return 'worker_threads is unavailable';
      return new Pool(helpers, startWorkerThreads(wt, helpers, memory, ctrl, args), ctrl, args);
    }
    if (!hasWebWorkers()) return 'no worker threads here: neither Node worker_threads nor Web Workers (Worker, Blob, URL.createObjectURL)';
    const web = await startWebWorkers(helpers, memory, ctrl, args);
    if (typeof web === 'string') return web;
    return new Pool(helpers, web, ctrl, args);
  }

  /** Threads including the caller. */
  get threads(): number {
    return this.helpers + 1;
  }

  /** What the helper threads are: Node `worker_threads` or browser Web Workers. */
  get kind(): HelperThreads['kind'] {
    return this.threadsOf.kind;
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
      this.threadsOf.post(kernel);
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
      if (!this.callerBlocks || spins++ < 4000) continue;
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
    await this.threadsOf.terminate();
  }
}
