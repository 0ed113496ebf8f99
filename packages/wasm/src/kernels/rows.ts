/**
 * Fused float32 kernels over contiguous data: GELU (erf and tanh forms) forward and
 * backward, the fast exp/tanh/erf unaries, and the along-axis kernels on
 * `[outer, len, inner]` (normalize and log-softmax, forward and backward). Along-axis
 * kernels have two paths: `inner = 1` (channels-last) runs SIMD along the line with masked
 * tails; `inner > 1` (channels-first) runs four lines at once, one per lane. float64 inputs
 * take exact TypeScript loops that mirror the reference contracts.
 *
 * Tails: a vector at a row's end reads up to 3 floats past it (stale memory, possibly NaN
 * or Inf). Lanes that stay lanes (maps, the column path, stores) are simply not stored; any
 * value that is summed across lanes is masked AFTER its last arithmetic, never before (a
 * masked 0 times a stale NaN is NaN). Tests run with `poisonMemory` to keep it so.
 */
import type { BufferHandle, View } from '@tsgrad/core';
import { f32, f64, type Fn, i32, type Local, type ModuleBuilder, OP, SIMD, v128 } from '../emitter.js';
import { erf } from '../host.js';
import type { Kernel, Runtime } from '../runtime.js';
import type { WasmBackend, WasmBuffer } from '../backend.js';

const LOG2E = Math.LOG2E;

/** 1.5 * 2^23: adding it rounds to an integer and leaves it in the low mantissa bits. */
const EXP_MAGIC = 12582912;
/** The float32 bits of EXP_MAGIC (0x4b400000): subtracting them from `x + MAGIC` as integers leaves the integer. */
const EXP_MAGIC_BITS = 0x4b400000;

/**
 * Pushes `exp(x)` (f32x4, Cephes polynomial, ~1 ulp) for the v128 local `x`; clobbers `x`,
 * `n`, `r`. The power of two comes from the magic-number trick (no float-to-int conversion:
 * V8's `trunc_sat` is a long sequence on x64), applied as two factors `2^h 2^(n-h)` so that
 * both stay normal floats: results overflow to +Inf (x > 88.72) and underflow through the
 * denormals to 0 as the correctly rounded exp does, -Inf gives 0 and NaN stays NaN.
 */
export function vexp(f: Fn, x: Local, n: Local, r: Local): void {
  // Clamp with pmax/pmin (one instruction each; NaN stays NaN): exp(89) is already Inf and
  // exp(-104) already rounds to 0, while n = round(x log2e) stays within [-150, 129].
  f.get(x).f32x4c(-104).simd(SIMD.f32x4_pmax).f32x4c(89).simd(SIMD.f32x4_pmin).set(x);
  // t = x log2e + MAGIC (kept in n); r = x - (t - MAGIC) ln2 (ln2 in two parts, Cody-Waite)
  f.get(x).f32x4c(LOG2E).simd(SIMD.f32x4_mul).f32x4c(EXP_MAGIC).simd(SIMD.f32x4_add).set(n);
  f.get(x).get(n).f32x4c(EXP_MAGIC).simd(SIMD.f32x4_sub).f32x4c(0.693359375).simd(SIMD.f32x4_mul).simd(SIMD.f32x4_sub);
  f.get(n).f32x4c(EXP_MAGIC).simd(SIMD.f32x4_sub).f32x4c(-2.12194440e-4).simd(SIMD.f32x4_mul).simd(SIMD.f32x4_sub).set(r);
  const coeffs = [1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1, 5.0000001201e-1];
  f.f32x4c(coeffs[0]!);
  for (let i = 1; i < coeffs.length; i++) f.get(r).simd(SIMD.f32x4_mul).f32x4c(coeffs[i]!).simd(SIMD.f32x4_add);
  f.get(r).simd(SIMD.f32x4_mul).get(r).simd(SIMD.f32x4_mul).get(r).simd(SIMD.f32x4_add).f32x4c(1).simd(SIMD.f32x4_add);
  // n = the integer itself; scale by 2^h, h = n >> 1, then by 2^(n - h).
  f.get(n).i32x4c(EXP_MAGIC_BITS).simd(SIMD.i32x4_sub).set(n);
  f.get(n).i32c(1).simd(SIMD.i32x4_shr_s).i32x4c(127).simd(SIMD.i32x4_add).i32c(23).simd(SIMD.i32x4_shl);
  f.simd(SIMD.f32x4_mul);
  f.get(n).get(n).i32c(1).simd(SIMD.i32x4_shr_s).simd(SIMD.i32x4_sub).i32x4c(127).simd(SIMD.i32x4_add).i32c(23).simd(SIMD.i32x4_shl);
  f.simd(SIMD.f32x4_mul);
}

/** Pushes `erf(x)` (Abramowitz-Stegun 7.1.26, |error| < 1.5e-7); leaves `exp(-x^2)` in `e`; clobbers `t`, `n`, `r`. */
export function verf(f: Fn, x: Local, t: Local, e: Local, n: Local, r: Local): void {
  // t = 1 / (1 + p|x|); e = exp(-x^2)
  f.f32x4c(1).f32x4c(1).get(x).simd(SIMD.f32x4_abs).f32x4c(0.3275911).simd(SIMD.f32x4_mul).simd(SIMD.f32x4_add).simd(SIMD.f32x4_div).set(t);
  f.get(x).get(x).simd(SIMD.f32x4_mul).simd(SIMD.f32x4_neg).set(e);
  vexp(f, e, n, r);
  f.set(e);
  const a = [1.061405429, -1.453152027, 1.421413741, -0.284496736, 0.254829592];
  f.f32x4c(a[0]!);
  for (let i = 1; i < a.length; i++) f.get(t).simd(SIMD.f32x4_mul).f32x4c(a[i]!).simd(SIMD.f32x4_add);
  f.get(t).simd(SIMD.f32x4_mul).get(e).simd(SIMD.f32x4_mul);
  // y = 1 - poly; erf = copysign(y, x)
  f.set(t);
  f.f32x4c(1).get(t).simd(SIMD.f32x4_sub);
  f.get(x).i32x4c(0x80000000 | 0).simd(SIMD.and).simd(SIMD.or);
}

/** Pushes `tanh(x)` as `1 - 2 / (exp(2x) + 1)`; clobbers the temps. */
export function vtanh(f: Fn, x: Local, e: Local, n: Local, r: Local): void {
  f.get(x).get(x).simd(SIMD.f32x4_add).set(e);
  vexp(f, e, n, r);
  f.set(e);
  f.f32x4c(1).f32x4c(2).get(e).f32x4c(1).simd(SIMD.f32x4_add).simd(SIMD.f32x4_div).simd(SIMD.f32x4_sub);
}

type MapOp = 'exp' | 'tanh' | 'erf' | 'gelu' | 'gelu_tanh' | 'gelub' | 'gelub_tanh';
const SQRT1_2 = Math.SQRT1_2;
const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);
const K_TANH = Math.sqrt(2 / Math.PI);
const C_TANH = 0.044715;

/** Temporaries of the GELU emitters. */
export interface GeluRegs {
  readonly t: Local;
  readonly e: Local;
  readonly n: Local;
  readonly r: Local;
  readonly u: Local;
}

/**
 * What GELU and its derivative are made of, for the f32x4 local `v` (kept): the erf form
 * leaves the CDF `0.5 (1 + erf(v / sqrt2))` in `u` and `exp(-v^2 / 2)` in `e` (which erf
 * computes anyway), the tanh form `tanh(k (v + c v^3))` in `t`. The GELU kernels here and
 * the GEMM epilogue (./epilogue.ts) share these emitters, so they agree bit for bit.
 */
export function emitGeluParts(f: Fn, v: Local, g: GeluRegs, tanh: boolean): void {
  const { t, e, n, r, u } = g;
  if (!tanh) {
    f.get(v).f32x4c(SQRT1_2).simd(SIMD.f32x4_mul).set(u);
    verf(f, u, t, e, n, r);
    f.f32x4c(1).simd(SIMD.f32x4_add).f32x4c(0.5).simd(SIMD.f32x4_mul).set(u);
    return;
  }
  f.get(v).get(v).simd(SIMD.f32x4_mul).get(v).simd(SIMD.f32x4_mul).f32x4c(C_TANH).simd(SIMD.f32x4_mul).get(v).simd(SIMD.f32x4_add).f32x4c(K_TANH).simd(SIMD.f32x4_mul).set(u);
  vtanh(f, u, e, n, r);
  f.set(t);
}

/** Pushes `gelu(v)` after {@link emitGeluParts}: `v * cdf`, or `0.5 v (1 + th)`. */
export function pushGelu(f: Fn, v: Local, g: GeluRegs, tanh: boolean): void {
  if (!tanh) f.get(v).get(g.u).simd(SIMD.f32x4_mul);
  else f.get(v).f32x4c(0.5).simd(SIMD.f32x4_mul).get(g.t).f32x4c(1).simd(SIMD.f32x4_add).simd(SIMD.f32x4_mul);
}

/**
 * Pushes `gelu'(v)` after {@link emitGeluParts}: `cdf + v exp(-v^2/2) / sqrt(2 pi)`, or
 * `0.5 (1 + th) + 0.5 v (1 - th^2) k (1 + 3 c v^2)`.
 */
export function pushGeluGrad(f: Fn, v: Local, g: GeluRegs, tanh: boolean): void {
  const { t, e, u } = g;
  if (!tanh) {
    f.get(e);
    f.get(v).simd(SIMD.f32x4_mul).f32x4c(INV_SQRT_2PI).simd(SIMD.f32x4_mul).get(u).simd(SIMD.f32x4_add);
    return;
  }
  f.f32x4c(0.5).get(t).f32x4c(1).simd(SIMD.f32x4_add).simd(SIMD.f32x4_mul);
  f.get(v).f32x4c(0.5).simd(SIMD.f32x4_mul);
  f.f32x4c(1).get(t).get(t).simd(SIMD.f32x4_mul).simd(SIMD.f32x4_sub).simd(SIMD.f32x4_mul);
  f.f32x4c(K_TANH).simd(SIMD.f32x4_mul);
  f.get(v).get(v).simd(SIMD.f32x4_mul).f32x4c(3 * C_TANH).simd(SIMD.f32x4_mul).f32x4c(1).simd(SIMD.f32x4_add).simd(SIMD.f32x4_mul);
  f.simd(SIMD.f32x4_add);
}

/**
 * `run(x, g, y, start, end)`: `y[i] = op(x[i] (, g[i]))` for `start <= i < end` (start a
 * multiple of 8). Two independent vectors per iteration, for instruction-level parallelism;
 * the last iteration may compute up to 7 lanes past `end` (inside the output's block).
 */
function buildMap(m: ModuleBuilder, op: MapOp): void {
  const f = m.fn('run', [i32, i32, i32, i32, i32]);
  const [x, g, y, start, end] = f.params as Local[];
  const i = f.local(i32);
  const a = f.local(i32);
  const regs = [0, 1].map(() => ({ v: f.local(v128), t: f.local(v128), e: f.local(v128), n: f.local(v128), r: f.local(v128), u: f.local(v128) }));
  f.for(i, () => f.get(start), end, 8, () => {
    for (const [half, { v, t, e, n, r, u }] of regs.entries()) {
      const gr: GeluRegs = { t, e, n, r, u };
      f.get(i).i32c(2).op(OP.i32_shl).i32c(half * 16).op(OP.i32_add).set(a);
      f.get(y).get(a).op(OP.i32_add);
      f.get(x).get(a).op(OP.i32_add).vload().set(v);
      switch (op) {
        case 'exp':
          vexp(f, v, n, r);
          break;
        case 'tanh':
          vtanh(f, v, e, n, r);
          break;
        case 'erf':
          verf(f, v, t, e, n, r);
          break;
        case 'gelu':
        case 'gelu_tanh':
          emitGeluParts(f, v, gr, op === 'gelu_tanh');
          pushGelu(f, v, gr, op === 'gelu_tanh');
          break;
        case 'gelub':
        case 'gelub_tanh':
          // g * gelu'(x)
          emitGeluParts(f, v, gr, op === 'gelub_tanh');
          pushGeluGrad(f, v, gr, op === 'gelub_tanh');
          f.get(g).get(a).op(OP.i32_add).vload().simd(SIMD.f32x4_mul);
          break;
      }
      f.vstore();
    }
  });
}

/** Emits `log(x)` for f64 `x > 0` as a function (series in atanh after splitting off the exponent). */
function buildLog(m: ModuleBuilder): Fn {
  const f = m.fn('log64', [f64], [f64]);
  const [x] = f.params as Local[];
  const bits = f.local(i32), ex = f.local(i32), mant = f.local(f64), z = f.local(f64), z2 = f.local(f64);
  // f32 bits of x (enough: sums of exps and such are well inside f32 range).
  f.get(x).op(OP.f32_demote_f64).op(OP.i32_reinterpret_f32).set(bits);
  f.get(bits).i32c(23).op(OP.i32_shr_u).i32c(255).op(OP.i32_and).i32c(127).op(OP.i32_sub).set(ex);
  // mantissa in [1, 2) from x / 2^ex (exact in f64)
  f.get(x);
  f.get(ex).i32c(127).op(OP.i32_add).i32c(23).op(OP.i32_shl).op(OP.f32_reinterpret_i32).op(OP.f64_promote_f32);
  f.op(OP.f64_div).set(mant);
  // keep the mantissa in [sqrt(1/2), sqrt(2))
  f.get(mant).f64c(Math.SQRT2).op(OP.f64_gt);
  f.if(() => {
    f.get(mant).f64c(0.5).op(OP.f64_mul).set(mant);
    f.addTo(ex, 1);
  });
  f.get(mant).f64c(1).op(OP.f64_sub).get(mant).f64c(1).op(OP.f64_add).op(OP.f64_div).set(z);
  f.get(z).get(z).op(OP.f64_mul).set(z2);
  // 2 (z + z^3/3 + ... + z^15/15)
  f.f64c(1 / 15);
  for (const k of [13, 11, 9, 7, 5, 3, 1]) f.get(z2).op(OP.f64_mul).f64c(1 / k).op(OP.f64_add);
  f.get(z).op(OP.f64_mul).f64c(2).op(OP.f64_mul);
  f.get(ex).op(OP.f64_convert_i32_s).f64c(Math.LN2).op(OP.f64_mul).op(OP.f64_add);
  return f;
}

type AxisOp = 'norm' | 'normb' | 'lsm' | 'lsmb';

/**
 * `run(x, g, y, o0, o1, len, inner, eps)` for outer rows `o0 <= o < o1` of
 * `[outer, len, inner]`: the normalize / log-softmax kernels forward (`g` unused) and backward.
 */
function buildAxis(m: ModuleBuilder, op: AxisOp): void {
  const log = op === 'lsm' ? buildLog(m) : null;
  const logIdx = log ? m.indexOf(log) : -1;
  const f = m.fn('run', [i32, i32, i32, i32, i32, i32, i32, f32]);
  const [x, g, y, o0, o1, len, inner, eps] = f.params as Local[];
  const o = f.local(i32), k = f.local(i32), b = f.local(i32), rem = f.local(i32);
  const xr = f.local(i32), gr = f.local(i32), yr = f.local(i32), step = f.local(i32), p = f.local(i32);
  const acc = f.local(v128), mean = f.local(v128), rstd = f.local(v128), v = f.local(v128), w = f.local(v128), mask = f.local(v128);
  const n = f.local(v128), r = f.local(v128), s = f.local(f32), lanes = f.local(v128);
  const hsum = (l: Local) => {
    for (let lane = 0; lane < 4; lane++) {
      f.get(l).lane(SIMD.f32x4_extract_lane, lane);
      if (lane > 0) f.op(OP.f32_add);
    }
  };
  const hmax = (l: Local) => {
    for (let lane = 0; lane < 4; lane++) {
      f.get(l).lane(SIMD.f32x4_extract_lane, lane);
      if (lane > 0) f.op(OP.f32_max);
    }
  };
  const splat = () => f.simd(SIMD.f32x4_splat);
  /** Loops over the line in vectors; `body(addrOffset)` sees `mask` (lanes in range) set. */
  const line = (body: () => void) => {
    f.for(k, () => f.i32c(0), len, 4, () => {
      // mask lanes k + lane < len
      f.get(lanes).get(len).get(k).op(OP.i32_sub).simd(SIMD.i32x4_splat).simd(SIMD.i32x4_lt_s).set(mask);
      f.get(k).i32c(2).op(OP.i32_shl).set(p);
      body();
    });
  };
  const ld = (base: Local) => f.get(base).get(p).op(OP.i32_add).vload();
  const masked = (fill: number) => {
    f.f32x4c(fill).get(mask).simd(SIMD.bitselect);
  };
  /** Stores the vector on the stack at base + p, lane by lane where the mask is partial. */
  const st = (base: Local) => {
    f.set(w);
    f.get(len).get(k).op(OP.i32_sub).i32c(4).op(OP.i32_ge_s);
    f.if(
      () => {
        f.get(base).get(p).op(OP.i32_add).get(w).vstore();
      },
      () => {
        for (let lane = 0; lane < 3; lane++) {
          f.get(len).get(k).op(OP.i32_sub).i32c(lane).op(OP.i32_gt_s);
          f.if(() => {
            f.get(base).get(p).op(OP.i32_add).get(w).lane(SIMD.f32x4_extract_lane, lane).mem(OP.f32_store, 2, lane * 4);
          });
        }
      },
    );
  };
  f.simd(SIMD.const);
  for (const c of [0, 1, 2, 3]) f.code.push(...new Uint8Array(new Int32Array([c]).buffer));
  f.set(lanes);

  // ---------- inner = 1: SIMD along the line
  const rowPath = () => {
    f.for(o, () => f.get(o0), o1, 1, () => {
      f.get(o).get(len).op(OP.i32_mul).i32c(2).op(OP.i32_shl).set(step);
      f.get(x).get(step).op(OP.i32_add).set(xr);
      f.get(g).get(step).op(OP.i32_add).set(gr);
      f.get(y).get(step).op(OP.i32_add).set(yr);
      if (op === 'norm' || op === 'normb') {
        f.f32x4c(0).set(acc);
        line(() => {
          ld(xr);
          masked(0);
          f.get(acc).simd(SIMD.f32x4_add).set(acc);
        });
        hsum(acc);
        f.get(len).op(OP.f32_convert_i32_s).op(OP.f32_div);
        splat();
        f.set(mean);
        f.f32x4c(0).set(acc);
        line(() => {
          ld(xr);
          f.get(mean).simd(SIMD.f32x4_sub);
          masked(0);
          f.set(v);
          f.get(v).get(v).simd(SIMD.f32x4_mul).get(acc).simd(SIMD.f32x4_add).set(acc);
        });
        f.f32c(1);
        hsum(acc);
        f.get(len).op(OP.f32_convert_i32_s).op(OP.f32_div).get(eps).op(OP.f32_add).op(OP.f32_sqrt).op(OP.f32_div);
        splat();
        f.set(rstd);
        if (op === 'norm') {
          line(() => {
            ld(xr);
            f.get(mean).simd(SIMD.f32x4_sub).get(rstd).simd(SIMD.f32x4_mul);
            st(yr);
          });
        } else {
          // gm = mean(g), gx = mean(g * xhat)
          f.f32x4c(0).set(acc);
          f.f32x4c(0).set(n);
          line(() => {
            ld(gr);
            masked(0);
            f.set(v);
            f.get(acc).get(v).simd(SIMD.f32x4_add).set(acc);
            // Mask the product, not only g: past the row, x is stale memory (NaN/Inf * 0 is NaN).
            ld(xr);
            f.get(mean).simd(SIMD.f32x4_sub).get(rstd).simd(SIMD.f32x4_mul).get(v).simd(SIMD.f32x4_mul);
            masked(0);
            f.get(n).simd(SIMD.f32x4_add).set(n);
          });
          hsum(acc);
          f.get(len).op(OP.f32_convert_i32_s).op(OP.f32_div);
          splat();
          f.set(acc);
          hsum(n);
          f.get(len).op(OP.f32_convert_i32_s).op(OP.f32_div);
          splat();
          f.set(n);
          line(() => {
            // r (g - gm - xhat gx)
            ld(gr);
            f.get(acc).simd(SIMD.f32x4_sub);
            ld(xr);
            f.get(mean).simd(SIMD.f32x4_sub).get(rstd).simd(SIMD.f32x4_mul).get(n).simd(SIMD.f32x4_mul);
            f.simd(SIMD.f32x4_sub).get(rstd).simd(SIMD.f32x4_mul);
            st(yr);
          });
        }
      } else if (op === 'lsm') {
        f.f32x4c(-Infinity).set(acc);
        line(() => {
          ld(xr);
          masked(-Infinity);
          f.get(acc).simd(SIMD.f32x4_pmax).set(acc);
        });
        hmax(acc);
        splat();
        f.set(mean);
        f.f32x4c(0).set(acc);
        line(() => {
          ld(xr);
          f.get(mean).simd(SIMD.f32x4_sub).set(v);
          vexp(f, v, n, r);
          masked(0);
          f.get(acc).simd(SIMD.f32x4_add).set(acc);
        });
        hsum(acc);
        f.op(OP.f64_promote_f32).call(logIdx).op(OP.f32_demote_f64).set(s);
        f.get(mean).get(s).simd(SIMD.f32x4_splat).simd(SIMD.f32x4_add).set(mean); // lse
        line(() => {
          ld(xr);
          f.get(mean).simd(SIMD.f32x4_sub);
          st(yr);
        });
      } else {
        // lsmb: g - exp(y) sum(g)
        f.f32x4c(0).set(acc);
        line(() => {
          ld(gr);
          masked(0);
          f.get(acc).simd(SIMD.f32x4_add).set(acc);
        });
        hsum(acc);
        splat();
        f.set(mean);
        line(() => {
          ld(xr);
          f.set(v);
          ld(gr);
          vexp(f, v, n, r);
          f.get(mean).simd(SIMD.f32x4_mul).simd(SIMD.f32x4_sub);
          st(yr);
        });
      }
    });
  };

  // ---------- inner > 1: one line per lane, four lines at a time
  const colPath = () => {
    f.get(inner).i32c(2).op(OP.i32_shl).set(step); // byte stride between line elements
    f.for(o, () => f.get(o0), o1, 1, () => {
      f.for(b, () => f.i32c(0), inner, 4, () => {
        // base of these four lines
        f.get(o).get(len).op(OP.i32_mul).get(inner).op(OP.i32_mul).get(b).op(OP.i32_add).i32c(2).op(OP.i32_shl).set(p);
        f.get(x).get(p).op(OP.i32_add).set(xr);
        f.get(g).get(p).op(OP.i32_add).set(gr);
        f.get(y).get(p).op(OP.i32_add).set(yr);
        const col = (body: (off: () => void) => void) => {
          f.i32c(0).set(rem);
          f.for(k, () => f.i32c(0), len, 1, () => {
            body(() => f.get(rem).op(OP.i32_add));
            f.addTo(rem, step);
          });
        };
        const ldc = (base: Local) => {
          f.get(base).get(rem).op(OP.i32_add).vload();
        };
        const stc = (base: Local) => {
          // value on stack
          f.set(w);
          f.get(inner).get(b).op(OP.i32_sub).i32c(4).op(OP.i32_ge_s);
          f.if(
            () => f.get(base).get(rem).op(OP.i32_add).get(w).vstore(),
            () => {
              for (let lane = 0; lane < 3; lane++) {
                f.get(inner).get(b).op(OP.i32_sub).i32c(lane).op(OP.i32_gt_s);
                f.if(() => f.get(base).get(rem).op(OP.i32_add).get(w).lane(SIMD.f32x4_extract_lane, lane).mem(OP.f32_store, 2, lane * 4));
              }
            },
          );
        };
        const lenV = () => f.get(len).op(OP.f32_convert_i32_s).simd(SIMD.f32x4_splat);
        if (op === 'norm' || op === 'normb') {
          f.f32x4c(0).set(acc);
          col(() => {
            ldc(xr);
            f.get(acc).simd(SIMD.f32x4_add).set(acc);
          });
          f.get(acc);
          lenV();
          f.simd(SIMD.f32x4_div).set(mean);
          f.f32x4c(0).set(acc);
          col(() => {
            ldc(xr);
            f.get(mean).simd(SIMD.f32x4_sub).set(v);
            f.get(v).get(v).simd(SIMD.f32x4_mul).get(acc).simd(SIMD.f32x4_add).set(acc);
          });
          f.f32x4c(1).get(acc);
          lenV();
          f.simd(SIMD.f32x4_div).get(eps).simd(SIMD.f32x4_splat).simd(SIMD.f32x4_add).simd(SIMD.f32x4_sqrt).simd(SIMD.f32x4_div).set(rstd);
          if (op === 'norm') {
            col(() => {
              ldc(xr);
              f.get(mean).simd(SIMD.f32x4_sub).get(rstd).simd(SIMD.f32x4_mul);
              stc(yr);
            });
          } else {
            f.f32x4c(0).set(acc);
            f.f32x4c(0).set(n);
            col(() => {
              ldc(gr);
              f.set(v);
              f.get(acc).get(v).simd(SIMD.f32x4_add).set(acc);
              ldc(xr);
              f.get(mean).simd(SIMD.f32x4_sub).get(rstd).simd(SIMD.f32x4_mul).get(v).simd(SIMD.f32x4_mul).get(n).simd(SIMD.f32x4_add).set(n);
            });
            f.get(acc);
            lenV();
            f.simd(SIMD.f32x4_div).set(acc);
            f.get(n);
            lenV();
            f.simd(SIMD.f32x4_div).set(n);
            col(() => {
              ldc(gr);
              f.get(acc).simd(SIMD.f32x4_sub);
              ldc(xr);
              f.get(mean).simd(SIMD.f32x4_sub).get(rstd).simd(SIMD.f32x4_mul).get(n).simd(SIMD.f32x4_mul);
              f.simd(SIMD.f32x4_sub).get(rstd).simd(SIMD.f32x4_mul);
              stc(yr);
            });
          }
        } else if (op === 'lsm') {
          f.f32x4c(-Infinity).set(acc);
          col(() => {
            ldc(xr);
            f.get(acc).simd(SIMD.f32x4_pmax).set(acc);
          });
          f.get(acc).set(mean);
          f.f32x4c(0).set(acc);
          col(() => {
            ldc(xr);
            f.get(mean).simd(SIMD.f32x4_sub).set(v);
            vexp(f, v, n, r);
            f.get(acc).simd(SIMD.f32x4_add).set(acc);
          });
          // lse per lane
          for (let lane = 0; lane < 4; lane++) {
            f.get(mean);
            f.get(acc).lane(SIMD.f32x4_extract_lane, lane).op(OP.f64_promote_f32).call(logIdx).op(OP.f32_demote_f64);
            f.get(mean).lane(SIMD.f32x4_extract_lane, lane).op(OP.f32_add);
            f.lane(SIMD.f32x4_replace_lane, lane).set(mean);
          }
          col(() => {
            ldc(xr);
            f.get(mean).simd(SIMD.f32x4_sub);
            stc(yr);
          });
        } else {
          f.f32x4c(0).set(acc);
          col(() => {
            ldc(gr);
            f.get(acc).simd(SIMD.f32x4_add).set(acc);
          });
          col(() => {
            ldc(xr);
            f.set(v);
            ldc(gr);
            vexp(f, v, n, r);
            f.get(acc).simd(SIMD.f32x4_mul).simd(SIMD.f32x4_sub);
            stc(yr);
          });
        }
      });
    });
  };

  f.get(inner).i32c(1).op(OP.i32_eq);
  f.if(rowPath, colPath);
}

/** The fused row kernels and their float64 fallbacks. */
export class FusedRows {
  constructor(private readonly rt: Runtime) {}

  private mapKernel(op: MapOp): Kernel {
    return this.rt.kernel(`map|${op}`, (m) => buildMap(m, op));
  }

  private runMap(op: MapOp, x: number, g: number, y: number, n: number): void {
    const k = this.mapKernel(op);
    const jobs = this.rt.worth(n) ? this.rt.ranges(n, 8).map(([s, e]) => [x, g, y, s, e]) : [[x, g, y, 0, n]];
    this.rt.parallel(k, 'run', jobs);
  }

  /** exp/tanh/erf of a contiguous float32 view into `out`; false when `x` is not contiguous. */
  fastUnary(be: WasmBackend, op: 'exp' | 'tanh' | 'erf', x: View, out: WasmBuffer): boolean {
    let acc = 1;
    for (let i = x.shape.length - 1; i >= 0; i--) {
      if (x.shape[i] !== 1 && x.strides[i] !== acc) return false;
      acc *= x.shape[i]!;
    }
    this.runMap(op, be.addr(x), 0, out.ptr, acc);
    return true;
  }

  gelu(be: WasmBackend, x: View, approximate: 'none' | 'tanh'): BufferHandle {
    const n = numel(x.shape);
    if (x.dtype !== 'float32') {
      const v = be.hostValues(x);
      if (approximate === 'tanh') return be.fromHost(x.dtype, v.map((t) => 0.5 * t * (1 + Math.tanh(K_TANH * (t + C_TANH * t ** 3)))));
      return be.fromHost(x.dtype, v.map((t) => 0.5 * t * (1 + erf(t * SQRT1_2))));
    }
    const out = be.alloc('float32', n);
    this.runMap(approximate === 'tanh' ? 'gelu_tanh' : 'gelu', be.addr(x), 0, out.ptr, n);
    return out;
  }

  geluBackward(be: WasmBackend, x: View, g: View, approximate: 'none' | 'tanh'): BufferHandle {
    const n = numel(x.shape);
    if (x.dtype !== 'float32') {
      const v = be.hostValues(x);
      const gs = be.hostValues(g);
      if (approximate === 'tanh') {
        return be.fromHost(x.dtype, v.map((t, i) => {
          const th = Math.tanh(K_TANH * (t + C_TANH * t ** 3));
          return gs[i]! * (0.5 * (1 + th) + 0.5 * t * (1 - th * th) * K_TANH * (1 + 3 * C_TANH * t * t));
        }));
      }
      return be.fromHost(x.dtype, v.map((t, i) => gs[i]! * (0.5 * (1 + erf(t * SQRT1_2)) + t * Math.exp(-0.5 * t * t) * INV_SQRT_2PI)));
    }
    const out = be.alloc('float32', n);
    this.runMap(approximate === 'tanh' ? 'gelub_tanh' : 'gelub', be.addr(x), be.addr(g), out.ptr, n);
    return out;
  }

  private runAxis(op: AxisOp, be: WasmBackend, x: View, g: View | null, outer: number, len: number, inner: number, eps: number): BufferHandle {
    const out = be.alloc('float32', outer * len * inner);
    if (outer * len * inner === 0) return out;
    const k = this.rt.kernel(`axis|${op}`, (m) => buildAxis(m, op));
    const xa = be.addr(x);
    const ga = g ? be.addr(g) : 0;
    const work = outer * len * inner;
    const jobs = outer >= 2 && this.rt.worth(work) ? this.rt.ranges(outer).map(([s, e]) => [xa, ga, out.ptr, s, e, len, inner, eps]) : [[xa, ga, out.ptr, 0, outer, len, inner, eps]];
    this.rt.parallel(k, 'run', jobs);
    return out;
  }

  normalize(be: WasmBackend, x: View, outer: number, len: number, inner: number, eps: number): BufferHandle {
    if (x.dtype !== 'float32') return hostAxis(be, 'norm', x, null, outer, len, inner, eps);
    return this.runAxis('norm', be, x, null, outer, len, inner, eps);
  }
  normalizeBackward(be: WasmBackend, x: View, g: View, outer: number, len: number, inner: number, eps: number): BufferHandle {
    if (x.dtype !== 'float32') return hostAxis(be, 'normb', x, g, outer, len, inner, eps);
    return this.runAxis('normb', be, x, g, outer, len, inner, eps);
  }
  logSoftmax(be: WasmBackend, x: View, outer: number, len: number, inner: number): BufferHandle {
    if (x.dtype !== 'float32') return hostAxis(be, 'lsm', x, null, outer, len, inner, 0);
    return this.runAxis('lsm', be, x, null, outer, len, inner, 0);
  }
  logSoftmaxBackward(be: WasmBackend, y: View, g: View, outer: number, len: number, inner: number): BufferHandle {
    if (y.dtype !== 'float32') return hostAxis(be, 'lsmb', y, g, outer, len, inner, 0);
    return this.runAxis('lsmb', be, y, g, outer, len, inner, 0);
  }
}

function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** The along-axis kernels as exact float64 loops (the reference contracts). */
function hostAxis(be: WasmBackend, op: AxisOp, x: View, g: View | null, outer: number, len: number, inner: number, eps: number): BufferHandle {
  const v = be.hostValues(x);
  const gs = g ? be.hostValues(g) : null;
  const out = new Float64Array(v.length);
  for (let a = 0; a < outer; a++)
    for (let b = 0; b < inner; b++) {
      const at = (k: number) => (a * len + k) * inner + b;
      if (op === 'norm' || op === 'normb') {
        let m = 0;
        for (let k = 0; k < len; k++) m += v[at(k)]!;
        m /= len;
        let s = 0;
        for (let k = 0; k < len; k++) s += (v[at(k)]! - m) ** 2;
        const r = 1 / Math.sqrt(s / len + eps);
        if (op === 'norm') for (let k = 0; k < len; k++) out[at(k)] = (v[at(k)]! - m) * r;
        else {
          let gm = 0;
          let gx = 0;
          for (let k = 0; k < len; k++) {
            gm += gs![at(k)]!;
            gx += gs![at(k)]! * (v[at(k)]! - m) * r;
          }
          gm /= len;
          gx /= len;
          for (let k = 0; k < len; k++) out[at(k)] = r * (gs![at(k)]! - gm - (v[at(k)]! - m) * r * gx);
        }
      } else if (op === 'lsm') {
        let m = -Infinity;
        for (let k = 0; k < len; k++) m = Math.max(m, v[at(k)]!);
        let s = 0;
        for (let k = 0; k < len; k++) s += Math.exp(v[at(k)]! - m);
        const lse = m + Math.log(s);
        for (let k = 0; k < len; k++) out[at(k)] = v[at(k)]! - lse;
      } else {
        let s = 0;
        for (let k = 0; k < len; k++) s += gs![at(k)]!;
        for (let k = 0; k < len; k++) out[at(k)] = gs![at(k)]! - Math.exp(v[at(k)]!) * s;
      }
    }
  return be.fromHost(x.dtype, out);
}
