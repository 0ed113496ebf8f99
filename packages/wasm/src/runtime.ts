/**
 * The runtime under the backend: the arena (one WebAssembly.Memory), the cache of
 * generated kernels (one module per key: op and shape class), typed-array views over the
 * memory, and parallel dispatch through the worker pool.
 */
import { Arena } from './arena.js';
import { ModuleBuilder } from './emitter.js';
import { Pool, type PoolKernel } from './pool.js';

/** A compiled, instantiated kernel module. */
export interface Kernel extends PoolKernel {
  /** Exported functions by name. */
  readonly fns: Record<string, (...a: number[]) => number | void>;
}

/** Typed views over the whole memory, remade when it grows. */
export interface Heap {
  f32: Float32Array;
  f64: Float64Array;
  i32: Int32Array;
  u8: Uint8Array;
}

/** Options of the runtime. */
export interface RuntimeOptions {
  /** Threads including the caller (1: no pool). */
  readonly threads: number;
  /** Use `f32x4.relaxed_madd` (only when the engine validates it). */
  readonly relaxed: boolean;
  /** Cap on linear memory in bytes (default and at most 4 GiB). */
  readonly maxBytes?: number;
  /** Initial linear memory in bytes. */
  readonly initialBytes?: number;
}

/** The runtime. */
export class Runtime {
  readonly arena: Arena;
  readonly heap: Heap;
  readonly relaxed: boolean;
  pool: Pool | null = null;
  /** Why there is no pool (when there is none). */
  singleThreadReason = '';
  private readonly cache = new Map<string, Kernel>();
  private nextId = 1;
  /** Bytes of scratch for packing panels, per thread. */
  private scratch: { ptr: number; bytes: number }[] = [];

  private constructor(opts: RuntimeOptions, shared: boolean) {
    this.relaxed = opts.relaxed;
    this.arena = new Arena({ shared, maxBytes: opts.maxBytes, initialBytes: opts.initialBytes });
    this.heap = { f32: new Float32Array(0), f64: new Float64Array(0), i32: new Int32Array(0), u8: new Uint8Array(0) };
    this.remakeViews();
    this.arena.onGrow = () => this.remakeViews();
  }

  /** A runtime, with a worker pool when `threads > 1` and the platform allows. */
  static async create(opts: RuntimeOptions): Promise<Runtime> {
    const shared = opts.threads > 1 && typeof SharedArrayBuffer !== 'undefined';
    const rt = new Runtime(opts, shared);
    if (opts.threads > 1) {
      const p = await Pool.create(opts.threads, rt.arena.memory);
      if (typeof p === 'string') rt.singleThreadReason = p;
      else rt.pool = p;
    } else rt.singleThreadReason = 'one thread requested';
    return rt;
  }

  /**
   * Work (elements, or flops/64 for GEMM) below which a kernel stays on one thread: waking
   * helpers costs tens of microseconds. Tests set it to 0 to split even tiny kernels.
   */
  parallelMin = 1 << 16;

  /** Whether work of this size is split across threads. */
  worth(work: number): boolean {
    return this.pool !== null && work >= this.parallelMin;
  }

  /** Threads used for parallel kernels (including the caller). */
  get threads(): number {
    return this.pool ? this.pool.threads : 1;
  }

  private remakeViews(): void {
    const b = this.arena.memory.buffer;
    this.heap.f32 = new Float32Array(b);
    this.heap.f64 = new Float64Array(b, 0, Math.floor(b.byteLength / 8));
    this.heap.i32 = new Int32Array(b);
    this.heap.u8 = new Uint8Array(b);
  }

  /** The kernel module for `key`, built by `build` on first use. */
  kernel(key: string, build: (m: ModuleBuilder) => void): Kernel {
    const have = this.cache.get(key);
    if (have) return have;
    const m = new ModuleBuilder({ initial: 1, maximum: this.arena.maxPages, shared: this.arena.shared });
    build(m);
    const bytes = m.bytes();
    let module: WebAssembly.Module;
    try {
      module = new WebAssembly.Module(bytes);
    } catch (e) {
      throw new Error(`wasm backend: generated kernel '${key}' failed to compile: ${String(e)}`);
    }
    const inst = new WebAssembly.Instance(module, { env: { mem: this.arena.memory } });
    const fns = inst.exports as unknown as Kernel['fns'];
    const k: Kernel = { id: this.nextId++, module, names: Object.keys(fns), fns };
    this.cache.set(key, k);
    return k;
  }

  /** Number of kernel modules compiled so far. */
  get kernelCount(): number {
    return this.cache.size;
  }

  /**
   * Calls `fn` of `k` once per job (chunk), chunks claimed by all threads. With `scratch`,
   * argument `scratch.arg` is replaced by the executing thread's scratch pointer. With no
   * pool, runs them one after another here.
   */
  parallel(k: Kernel, fn: string, jobs: readonly (readonly number[])[], scratch?: { arg: number; ptrs: readonly number[] }): void {
    const f = k.fns[fn]!;
    if (!this.pool || jobs.length === 1) {
      for (const j of jobs) {
        if (!scratch) f(...j);
        else {
          const a = j.slice();
          a[scratch.arg] = scratch.ptrs[0]!;
          f(...a);
        }
      }
      return;
    }
    this.pool.run(k, k.names.indexOf(fn), jobs, f, scratch);
  }

  /** Per-thread scratch blocks of at least `bytes` each (kept and reused; grown on demand). */
  scratchFor(bytes: number): number[] {
    const n = this.threads;
    const out: number[] = [];
    for (let t = 0; t < n; t++) {
      let s = this.scratch[t];
      if (!s || s.bytes < bytes) {
        const b = this.arena.alloc(Math.max(bytes, s ? s.bytes * 2 : 0));
        if (s) this.arena.release({ ptr: s.ptr, size: s.bytes, cls: this.clsOf.get(s.ptr)! });
        this.clsOf.set(b.ptr, b.cls);
        s = { ptr: b.ptr, bytes: b.size };
        this.scratch[t] = s;
      }
      out.push(s.ptr);
    }
    return out;
  }
  private readonly clsOf = new Map<number, number>();

  /**
   * Chunks per thread for a split kernel of `work` (elements or taps): two for work near
   * the threshold, up to eight for large kernels, so that a helper the OS deschedules
   * mid-kernel holds back only a small chunk (the others take the rest).
   */
  chunksPerThread(work: number): number {
    return Math.max(2, Math.min(8, Math.floor(work / Math.max(this.parallelMin, 1 << 14))));
  }

  /**
   * Splits `[0, n)` into ranges of multiples of `quantum` (at least `minPer` each):
   * `perThread` per thread (default two), so that threads that finish early take more
   * (chunks are claimed dynamically).
   */
  ranges(n: number, quantum = 1, minPer = 1, perThread = 2): [number, number][] {
    const t = Math.max(1, Math.min(this.threads * (this.pool ? perThread : 1), Math.floor(n / Math.max(minPer, 1))));
    const units = Math.ceil(n / quantum);
    const per = Math.ceil(units / t);
    const out: [number, number][] = [];
    for (let s = 0; s < units; s += per) out.push([s * quantum, Math.min(n, (s + per) * quantum)]);
    return out.length ? out : [[0, n]];
  }

  async dispose(): Promise<void> {
    await this.pool?.dispose();
    this.pool = null;
  }
}
