/**
 * @tsgrad/wasm: the SIMD128 WebAssembly backend. Importing this package registers it as
 * `'wasm'`:
 *
 * ```ts
 * import '@tsgrad/wasm';
 * import { setBackend } from '@tsgrad/core';
 * await setBackend('wasm');
 * ```
 *
 * Kernels are WebAssembly bytecode generated at run time by a small typed emitter (no
 * foreign toolchain, no prebuilt blobs), specialised per op and shape class and cached.
 * Buffers live in one WebAssembly.Memory managed by a size-class allocator; with threads,
 * that memory is shared with a pool of workers.
 *
 * @packageDocumentation
 */
import { registerBackend } from '@tsgrad/core';
import type { ArenaStats } from './arena.js';
import { WasmBackend } from './backend.js';
import { probeRelaxedSimd, probeSimd } from './emitter.js';
import { Runtime } from './runtime.js';
import { nodeBuiltin } from './node-builtin.js';

export { WasmBackend, type WasmBuffer } from './backend.js';
export { type ArenaStats } from './arena.js';
export { probeSimd, probeRelaxedSimd } from './emitter.js';
/** The SIMD128 peak on one thread (GFLOP/s), for stating GEMM as a fraction of it. */
export { measureSimdPeak } from './peak.js';
// The code emitter, the allocator and the GEMM blocking are internal: `@tsgrad/wasm/internals` (unstable).

/** Options of {@link createWasmBackend}. */
export interface WasmBackendOptions {
  /**
   * Threads for parallel kernels, including the calling thread (default: the number of
   * CPU cores: `navigator.hardwareConcurrency` in browsers, `os.availableParallelism()` in
   * Node). Above 1 needs SharedArrayBuffer and helper threads: Node `worker_threads`, or Web
   * Workers in a cross-origin-isolated browser context (a page or a dedicated Worker served
   * with COOP `same-origin` and COEP `require-corp`); without them the backend runs on one
   * thread and {@link WasmBackendInfo.singleThreadReason} says why.
   */
  readonly threads?: number;
  /**
   * Use `f32x4.relaxed_madd` in GEMM: `'auto'` (default) when the engine validates it
   * (Node 20 needs `--experimental-wasm-relaxed-simd`), `false` for plain mul+add.
   */
  readonly relaxedSimd?: 'auto' | boolean;
  /** Cap on linear memory in bytes (default and at most 4 GiB, the wasm32 limit). */
  readonly maxMemoryBytes?: number;
  /** Initial linear memory in bytes (default 16 MiB; it grows on demand). */
  readonly initialMemoryBytes?: number;
  /**
   * Work below which a kernel stays on the calling thread (elements; GEMM counts flops/64;
   * default 65536). 0 splits every kernel that can be split (tests use it).
   */
  readonly minParallelWork?: number;
  /** The backend's name (default `'wasm'`). */
  readonly name?: string;
  /**
   * Debug/test mode (default false): fill every freshly allocated (not yet written) and
   * every freed block with NaN, so that a kernel reading memory it should not (a SIMD
   * tail past a row's end, an output it never wrote) shows up as NaN in its results.
   * Costs a memset per allocation and free.
   */
  readonly poisonMemory?: boolean;
}

/** What a wasm backend runs with, from {@link backendInfo}. */
export interface WasmBackendInfo {
  /** Threads parallel kernels use (1: single-threaded). */
  readonly threads: number;
  /** Why there is only one thread, when there is ('' otherwise). */
  readonly singleThreadReason: string;
  /** What the helper threads are: Node `worker_threads`, browser Web Workers, or none (one thread). */
  readonly helperThreads: 'worker_threads' | 'web-workers' | 'none';
  /**
   * How the calling thread waits for helpers to finish a kernel's last chunks: `'block'`
   * (spins briefly, then sleeps in `Atomics.wait`: Node, Web Workers) or `'spin'` (a page's
   * main thread, where `Atomics.wait` is forbidden); `'none'` with one thread.
   */
  readonly callerWait: 'block' | 'spin' | 'none';
  /** Whether the linear memory is a SharedArrayBuffer. */
  readonly sharedMemory: boolean;
  /** Whether GEMM uses `f32x4.relaxed_madd`. */
  readonly relaxedSimd: boolean;
  /** Whether the engine supports relaxed SIMD at all. */
  readonly relaxedSimdAvailable: boolean;
  /** Jobs run on helper threads so far. */
  readonly helperJobs: number;
  /** Kernel modules generated and cached so far. */
  readonly kernels: number;
  /** The allocator's view of linear memory. */
  readonly arena: ArenaStats;
  /** The memory limit in bytes. */
  readonly maxMemoryBytes: number;
}

/** The core count: `navigator.hardwareConcurrency` in browsers, `os.availableParallelism()` in Node. */
async function defaultThreads(): Promise<number> {
  const nav = (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator;
  if (nav?.hardwareConcurrency) return nav.hardwareConcurrency;
  const os = await nodeBuiltin<typeof import('node:os')>('os');
  if (!os) return 1;
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/**
 * Creates a wasm backend (async: it may start worker threads, and in browsers Web Workers
 * start only once the caller returns to its event loop). Most code uses
 * `setBackend('wasm')` instead.
 */
export async function createWasmBackend(opts: WasmBackendOptions = {}): Promise<WasmBackend> {
  if (!probeSimd()) throw new Error('wasm backend: this engine does not support WebAssembly SIMD128');
  const threads = opts.threads ?? (await defaultThreads());
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`wasm backend: threads must be a positive integer, got ${threads}`);
  const relaxedAvailable = probeRelaxedSimd();
  const relaxed = opts.relaxedSimd === undefined || opts.relaxedSimd === 'auto' ? relaxedAvailable : opts.relaxedSimd;
  if (relaxed && !relaxedAvailable) throw new Error('wasm backend: relaxedSimd was requested but this engine does not validate f32x4.relaxed_madd (Node 20: run with --experimental-wasm-relaxed-simd)');
  const rt = await Runtime.create({ threads, relaxed, maxBytes: opts.maxMemoryBytes, initialBytes: opts.initialMemoryBytes });
  if (opts.minParallelWork !== undefined) rt.parallelMin = opts.minParallelWork;
  const b = new WasmBackend(rt);
  if (opts.name) (b as { name: string }).name = opts.name;
  if (opts.poisonMemory) b.poisonMemory = true;
  return b;
}

/** What a wasm backend runs with: threads (and why only one), SIMD paths, kernels, memory. */
export function backendInfo(b: WasmBackend): WasmBackendInfo {
  const rt = b.rt;
  return {
    threads: rt.threads,
    singleThreadReason: rt.singleThreadReason,
    helperThreads: rt.pool?.kind ?? 'none',
    callerWait: rt.pool ? (rt.pool.callerBlocks ? 'block' : 'spin') : 'none',
    sharedMemory: rt.arena.shared,
    relaxedSimd: b.gemm.relaxed && rt.relaxed,
    relaxedSimdAvailable: probeRelaxedSimd(),
    helperJobs: rt.pool?.helperJobs ?? 0,
    kernels: rt.kernelCount,
    arena: rt.arena.stats(),
    maxMemoryBytes: rt.arena.maxBytes,
  };
}

/** Stops a backend's worker threads (its buffers stay readable; parallel kernels run on one thread after). */
export async function disposeWasmBackend(b: WasmBackend): Promise<void> {
  await b.rt.dispose();
}

registerBackend('wasm', async () => {
  const b = await createWasmBackend();
  const info = backendInfo(b);
  if (info.threads === 1 && info.singleThreadReason && info.singleThreadReason !== 'one thread requested') {
    console.warn(`@tsgrad/wasm: running on one thread: ${info.singleThreadReason}`);
  }
  return b;
});

