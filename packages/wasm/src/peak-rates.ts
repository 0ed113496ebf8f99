/**
 * The wasm backend's `peakRates()` for the profiler's "% of peak": arithmetic from
 * {@link measureSimdPeak} (the instruction GEMM uses: relaxed_madd or mul+add) times the
 * backend's threads, and memory bandwidth from a short SIMD copy kernel. Both are measured
 * once per process on one thread (about 0.1-0.3 s together, on the first profile) and scaled by threads; the
 * bandwidth so scaled is an upper bound (cores share the memory bus), so memory-bound ops
 * on several threads read a little low against it.
 */
import type { BackendPeak } from '@tsgrad/core';
import { i32, type Local, ModuleBuilder, OP } from './emitter.js';
import { measureSimdPeak } from './peak.js';

/**
 * Bytes copied per pass: 16 MiB into another 16 MiB, past L2 and most of L3 (on CPUs with
 * a larger L3 it partly reads the L3's bandwidth, which is what activations of that size
 * see). Larger buffers cost more in first-touch page faults than the measurement itself.
 */
const COPY_BYTES = 16 << 20;

const oneThread = new Map<string, number>();
function once(key: string, measure: () => number): number {
  let v = oneThread.get(key);
  if (v === undefined) {
    v = measure();
    oneThread.set(key, v);
  }
  return v;
}

/**
 * GB/s of a v128 load/store copy of {@link COPY_BYTES} between two buffers on one thread,
 * counting bytes read plus bytes written, best of `reps` passes after one warm-up.
 */
export function measureCopyBandwidth(reps = 4): number {
  const pages = (2 * COPY_BYTES) >> 16;
  const m = new ModuleBuilder({ initial: pages, maximum: pages, shared: false });
  const f = m.fn('copy', [i32], []);
  const [n] = f.params as Local[];
  const i = f.local(i32);
  // Four vectors a step (unrolled), so the loop is bound by memory, not by its own overhead.
  f.for(i, () => f.i32c(0), n, 64, () => {
    for (let k = 0; k < 4; k++) f.get(i).i32c(COPY_BYTES).op(OP.i32_add).get(i).vload(16 * k).vstore(16 * k);
  });
  const mem = new WebAssembly.Memory({ initial: pages, maximum: pages });
  // Touch every page so the first timed pass does not pay for page faults.
  new Uint8Array(mem.buffer).fill(1);
  const copy = new WebAssembly.Instance(new WebAssembly.Module(m.bytes()), { env: { mem } }).exports['copy'] as (n: number) => void;
  copy(COPY_BYTES);
  let best = 0;
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    copy(COPY_BYTES);
    const s = (performance.now() - t0) / 1000;
    if (s > 0) best = Math.max(best, (2 * COPY_BYTES) / s / 1e9);
  }
  return best;
}

/** Peaks of a wasm backend with `threads` threads, GEMM on relaxed SIMD or not; measured once per process. */
export function wasmPeakRates(threads: number, relaxed: boolean): BackendPeak {
  const gflops = once(relaxed ? 'relaxed' : 'plain', () => measureSimdPeak({ relaxed }));
  const gbps = once('copy', () => measureCopyBandwidth());
  return { gflops: gflops * threads, gbps: gbps * threads };
}
