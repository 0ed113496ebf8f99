/**
 * The optimizer's fused float32 kernels: one Adam/AdamW step per parameter in a single
 * SIMD pass (decay, both moments, AMSGrad maximum, update), and the two passes of
 * gradient-norm clipping (a norm per tensor, then the scaling). Hyper-parameters are
 * kernel arguments, never uploads. The arithmetic is core's `adamConstants`/`adamStepF32`
 * contract, one rounding per operation in the same order, so the result is bit-identical
 * to the composed ops (no FMA, even with relaxed SIMD).
 *
 * Tails: maps run whole vectors, so the last one reads and writes up to 3 floats past the
 * end, inside the 64-byte-rounded blocks of dense buffers (the lanes past the end are never
 * read as results). Reductions run whole vectors then a scalar tail, never past the end.
 */
import { adamConstants, clipCoef, normOfNorms, type AdamHyper, type AdamStepResult, type BufferHandle, type View } from '@tsgrad/core';
import { f32, type Fn, i32, type Local, type ModuleBuilder, OP, SIMD, v128 } from '../emitter.js';
import type { Kernel, Runtime } from '../runtime.js';
import type { WasmBackend } from '../backend.js';

interface AdamVariant {
  readonly l2: boolean;
  readonly amsgrad: boolean;
  readonly maximize: boolean;
}

/** The float32 constants of a step, in the order the Adam kernel reads them from `consts`. */
const ADAM_CONSTS = ['decay', 'l2', 'b1', 'omb1', 'b2', 'omb2', 'sbc2', 'eps', 'stepSize'] as const;

/**
 * `run(p, g, m, v, vm, po, mo, vo, vmo, start, end, consts)` over elements `start <= i < end`
 * (start a multiple of 4); `consts` points at the nine float32 constants (the worker pool
 * passes at most 16 arguments, so they travel through the backend's constant block).
 */
function buildAdam(m: ModuleBuilder, o: AdamVariant): void {
  const f = m.fn('run', [i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32]);
  const [p, g, mm, v, vm, po, mo, vo, vmo, start, end, cptr] = f.params as Local[];
  const consts = ADAM_CONSTS.map((_, k) => {
    const l = f.local(v128);
    f.get(cptr!).vsplatLoad(k * 4).set(l);
    return l;
  });
  const [decay, l2, b1, omb1, b2, omb2, sbc2, eps, stepSize] = consts as [Local, Local, Local, Local, Local, Local, Local, Local, Local];
  const i = f.local(i32), a = f.local(i32);
  const pv = f.local(v128), gv = f.local(v128), m1 = f.local(v128), v1 = f.local(v128);
  const ld = (base: Local) => f.get(base).get(a).op(OP.i32_add).vload();
  f.for(i, () => f.get(start), end, 4, () => {
    f.get(i).i32c(2).op(OP.i32_shl).set(a);
    ld(p).set(pv);
    ld(g);
    if (o.maximize) f.simd(SIMD.f32x4_neg);
    f.set(gv);
    if (o.l2) f.get(gv).get(pv).get(l2).simd(SIMD.f32x4_mul).simd(SIMD.f32x4_add).set(gv);
    // m' = m b1 + g (1 - b1)
    ld(mm).get(b1).simd(SIMD.f32x4_mul).get(gv).get(omb1).simd(SIMD.f32x4_mul).simd(SIMD.f32x4_add).set(m1);
    f.get(mo).get(a).op(OP.i32_add).get(m1).vstore();
    // v' = v b2 + (g (1 - b2)) g
    ld(v).get(b2).simd(SIMD.f32x4_mul).get(gv).get(omb2).simd(SIMD.f32x4_mul).get(gv).simd(SIMD.f32x4_mul).simd(SIMD.f32x4_add).set(v1);
    f.get(vo).get(a).op(OP.i32_add).get(v1).vstore();
    if (o.amsgrad) {
      ld(vm).get(v1).simd(SIMD.f32x4_max).set(v1);
      f.get(vmo).get(a).op(OP.i32_add).get(v1).vstore();
    }
    // p' = p decay - (m' / (sqrt(s) / sqrt(bc2) + eps)) stepSize
    f.get(po).get(a).op(OP.i32_add);
    f.get(pv).get(decay).simd(SIMD.f32x4_mul);
    f.get(m1).get(v1).simd(SIMD.f32x4_sqrt).get(sbc2).simd(SIMD.f32x4_div).get(eps).simd(SIMD.f32x4_add).simd(SIMD.f32x4_div);
    f.get(stepSize).simd(SIMD.f32x4_mul).simd(SIMD.f32x4_sub);
    f.vstore();
  });
}

type NormKind = 1 | 2 | 'inf';

/** Pushes the horizontal combination (`op`: f32 add or max) of the four lanes of `l`. */
function horizontal(f: Fn, l: Local, op: number): void {
  for (let lane = 0; lane < 4; lane++) {
    f.get(l).lane(SIMD.f32x4_extract_lane, lane);
    if (lane > 0) f.op(op);
  }
}

/** `run(x, n) -> f32`: sum of squares, sum of |x| or max |x| (NaN propagates) of `n` floats. */
function buildNorm(m: ModuleBuilder, kind: NormKind): void {
  const f = m.fn('run', [i32, i32], [f32]);
  const [x, n] = f.params as Local[];
  const i = f.local(i32), whole = f.local(i32), a = f.local(i32);
  const acc = [0, 1, 2, 3].map(() => f.local(v128));
  const s = f.local(f32), e = f.local(f32);
  const vop = kind === 'inf' ? SIMD.f32x4_max : SIMD.f32x4_add;
  for (const l of acc) f.f32x4c(0).set(l);
  // 16 floats a round in four independent accumulators.
  f.get(n).i32c(-16).op(OP.i32_and).set(whole);
  f.for(i, () => f.i32c(0), whole, 16, () => {
    f.get(i).i32c(2).op(OP.i32_shl).get(x).op(OP.i32_add).set(a);
    acc.forEach((l, k) => {
      f.get(l).get(a).vload(k * 16);
      if (kind === 2) f.get(a).vload(k * 16).simd(SIMD.f32x4_mul);
      else f.simd(SIMD.f32x4_abs);
      f.simd(vop).set(l);
    });
  });
  f.get(acc[0]!).get(acc[1]!).simd(vop).get(acc[2]!).get(acc[3]!).simd(vop).simd(vop).set(acc[0]!);
  horizontal(f, acc[0]!, kind === 'inf' ? OP.f32_max : OP.f32_add);
  f.set(s);
  f.for(i, () => f.get(whole), n, 1, () => {
    f.get(i).i32c(2).op(OP.i32_shl).get(x).op(OP.i32_add).mem(OP.f32_load, 2).set(e);
    f.get(s);
    if (kind === 2) f.get(e).get(e).op(OP.f32_mul);
    else f.get(e).op(OP.f32_abs);
    f.op(kind === 'inf' ? OP.f32_max : OP.f32_add).set(s);
  });
  f.get(s);
}

/** `run(x, y, start, end, c)`: `y[i] = x[i] * c` (start a multiple of 4). */
function buildScale(m: ModuleBuilder): void {
  const f = m.fn('run', [i32, i32, i32, i32, f32]);
  const [x, y, start, end, c] = f.params as Local[];
  const i = f.local(i32), a = f.local(i32), cv = f.local(v128);
  f.get(c).simd(SIMD.f32x4_splat).set(cv);
  f.for(i, () => f.get(start), end, 4, () => {
    f.get(i).i32c(2).op(OP.i32_shl).set(a);
    f.get(y).get(a).op(OP.i32_add);
    f.get(x).get(a).op(OP.i32_add).vload().get(cv).simd(SIMD.f32x4_mul);
    f.vstore();
  });
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The optimizer kernels of the wasm backend (float32, dense views). */
export class OptimKernels {
  /** A block of linear memory for the Adam constants, written before each call (plain stores, no buffer). */
  private constPtr = -1;
  constructor(private readonly rt: Runtime) {}

  /** Splits `n` elements over the threads when worth it (ranges are multiples of 8). */
  private jobs(n: number, job: (s: number, e: number) => number[]): number[][] {
    return this.rt.worth(n) ? this.rt.ranges(n, 8).map(([s, e]) => job(s, e)) : [job(0, n)];
  }

  adamStep(be: WasmBackend, param: View, grad: View, expAvg: View, expAvgSq: View, maxExpAvgSq: View | null, h: AdamHyper): AdamStepResult {
    for (const x of [param, grad, expAvg, expAvgSq, ...(maxExpAvgSq ? [maxExpAvgSq] : [])]) {
      if (x.dtype !== 'float32') throw new TypeError(`wasm backend: adamStep takes float32 views, got ${x.dtype}`);
    }
    if (h.amsgrad !== (maxExpAvgSq !== null)) throw new Error('wasm backend: adamStep needs max_exp_avg_sq exactly when amsgrad is on');
    const n = numel(param.shape);
    const po = be.alloc('float32', n), mo = be.alloc('float32', n), vo = be.alloc('float32', n);
    const vmo = maxExpAvgSq ? be.alloc('float32', n) : null;
    const c = adamConstants(h);
    const variant: AdamVariant = { l2: c.l2 !== 0, amsgrad: h.amsgrad, maximize: h.maximize };
    const k = this.rt.kernel(`adam|${+variant.l2}${+variant.amsgrad}${+variant.maximize}`, (m) => buildAdam(m, variant));
    const ptrs = [be.addr(param), be.addr(grad), be.addr(expAvg), be.addr(expAvgSq), maxExpAvgSq ? be.addr(maxExpAvgSq) : 0, po.ptr, mo.ptr, vo.ptr, vmo ? vmo.ptr : 0];
    if (this.constPtr < 0) this.constPtr = this.rt.arena.alloc(64).ptr;
    ADAM_CONSTS.forEach((name, i) => (this.rt.heap.f32[(this.constPtr >>> 2) + i] = c[name]));
    if (n > 0) this.rt.parallel(k, 'run', this.jobs(n, (s, e) => [...ptrs, s, e, this.constPtr]));
    return { param: po, expAvg: mo, expAvgSq: vo, maxExpAvgSq: vmo };
  }

  totalNorm(be: WasmBackend, xs: readonly View[], normType: number): BufferHandle {
    const kind: NormKind = normType === Infinity ? 'inf' : normType === 1 ? 1 : normType === 2 ? 2 : (() => {
      throw new RangeError(`wasm backend: totalNorm supports norm types 1, 2 and Infinity, got ${normType}`);
    })();
    const k: Kernel = this.rt.kernel(`norm|${kind}`, (m) => buildNorm(m, kind));
    const run = k.fns['run']!;
    const norms = xs.map((x) => {
      if (x.dtype !== 'float32') throw new TypeError(`wasm backend: totalNorm takes float32 views, got ${x.dtype}`);
      const r = run(be.addr(x), numel(x.shape)) as number;
      return kind === 2 ? Math.fround(Math.sqrt(r)) : r;
    });
    const out = be.alloc('float32', 1);
    be.rt.heap.f32[out.ptr >>> 2] = normOfNorms(norms, normType);
    return out;
  }

  clipScale(be: WasmBackend, xs: readonly View[], total: View, maxNorm: number): BufferHandle[] {
    if (total.dtype !== 'float32') throw new TypeError(`wasm backend: clipScale takes a float32 total, got ${total.dtype}`);
    // The total is in linear memory: read in place, no host round trip through a copy.
    const c = clipCoef(be.rt.heap.f32[be.addr(total) >>> 2]!, maxNorm);
    const k = this.rt.kernel('clipscale', buildScale);
    return xs.map((x) => {
      if (x.dtype !== 'float32') throw new TypeError(`wasm backend: clipScale takes float32 views, got ${x.dtype}`);
      const n = numel(x.shape);
      const out = be.alloc('float32', n);
      const xa = be.addr(x);
      if (n > 0) this.rt.parallel(k, 'run', this.jobs(n, (s, e) => [xa, out.ptr, s, e, c]));
      return out;
    });
  }
}
