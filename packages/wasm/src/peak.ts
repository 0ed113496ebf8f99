/**
 * The machine's SIMD128 peak on one thread, measured with a trivial kernel: independent
 * f32x4 multiply-add chains on registers only (no memory traffic), so GEMM can be stated
 * as a fraction of what this engine and CPU can do at all.
 */
import { i32, type Local, ModuleBuilder, OP, SIMD, v128 } from './emitter.js';

/**
 * GFLOP/s of `chains` independent f32x4 `acc = acc * m + a` chains (mul then add, or one
 * `relaxed_madd` when `relaxed`), best of `reps` timed runs of `iters` iterations; for the
 * plain form also of `acc += x * y` with `x` loaded each iteration (only the adds chain), the higher.
 */
export function measureSimdPeak(opts: { relaxed?: boolean; chains?: number; iters?: number; reps?: number } = {}): number {
  // The best of dependent mul+add chains and of GEMM-like independent products added into chains.
  const a = peakOf(opts, false);
  return opts.relaxed ? a : Math.max(a, peakOf(opts, true));
}

function peakOf(opts: { relaxed?: boolean; chains?: number; iters?: number; reps?: number }, split: boolean): number {
  const relaxed = opts.relaxed ?? false;
  const chains = opts.chains ?? 12;
  const iters = opts.iters ?? 2_000_000;
  const m = new ModuleBuilder({ initial: 1, maximum: 1, shared: false });
  const f = m.fn('run', [i32], [i32]);
  const [n] = f.params as Local[];
  const i = f.local(i32);
  const acc = Array.from({ length: chains }, () => f.local(v128));
  const mul = f.local(v128);
  const add = f.local(v128);
  f.f32x4c(0.999999).set(mul);
  f.f32x4c(1e-6).set(add);
  acc.forEach((a, k) => f.f32x4c(1 + k * 1e-3).set(a));
  f.for(i, () => f.i32c(0), n, 1, () => {
    if (split && !relaxed) {
      // GEMM-like: acc_k += x_(k%2) * y, with x reloaded each iteration (so nothing is loop-invariant);
      // only the adds form dependency chains.
      const x0 = f.local(v128);
      const x1 = f.local(v128);
      f.i32c(0).vload(0).set(x0);
      f.i32c(0).vload(16).set(x1);
      acc.forEach((a, k) => {
        f.get(a).get(k % 2 ? x1 : x0).get(mul).simd(SIMD.f32x4_mul).simd(SIMD.f32x4_add).set(a);
      });
      return;
    }
    for (const a of acc) f.madd(relaxed, () => f.get(a), () => f.get(mul), () => f.get(add)).set(a);
  });
  // Fold the chains so nothing is dead code.
  f.get(acc[0]!);
  for (let k = 1; k < chains; k++) f.get(acc[k]!).simd(SIMD.f32x4_add);
  f.lane(SIMD.f32x4_extract_lane, 0).op(OP.i32_reinterpret_f32);
  const mem = new WebAssembly.Memory({ initial: 1, maximum: 1 });
  const inst = new WebAssembly.Instance(new WebAssembly.Module(m.bytes()), { env: { mem } });
  const run = inst.exports['run'] as (n: number) => number;
  run(1000);
  let best = 0;
  for (let r = 0; r < (opts.reps ?? 5); r++) {
    const t0 = performance.now();
    run(iters);
    const s = (performance.now() - t0) / 1000;
    best = Math.max(best, (iters * chains * 8) / s / 1e9);
  }
  return best;
}
