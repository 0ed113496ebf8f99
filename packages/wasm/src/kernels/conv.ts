/**
 * Convolution for NCHW float32:
 *
 * - depthwise (groups = C = O): dedicated SIMD kernels, specialised per kernel size and
 *   dilation: forward (16 outputs per step, the tap loop unrolled along the kernel row),
 *   input gradient (the forward kernel on the output gradient with the flipped kernel and
 *   the complementary padding), weight gradient (per channel, SIMD dot products of the
 *   output gradient with shifted input rows). Planes (forward) or channels (weight grad)
 *   are split across threads. No loop over groups anywhere.
 * - groups = 1 with tiny output maps (the last downsampling layer): pixel rows, one GEMM
 *   for the whole batch with the output's pixels as rows: patches `[N*OH*OW, C*KH*KW]`
 *   times the weight, stored as NCHW by the epilogue GEMM's channels-first layout. One
 *   GEMM per image there would be a thin product (4 columns for a 2x2 map).
 * - everything else: im2col (a strided copy of the padded input's window view; none for
 *   1x1/stride 1/no padding) and batched GEMM over (image, group); the input gradient is
 *   GEMM with the transposed weight then col2im (`embed`-style accumulation); the weight
 *   gradient is one accumulating GEMM over the batch.
 *
 * float64 convolutions run exact TypeScript loops (the reference contract).
 */
import type { BufferHandle, Conv2dParams, View } from '@tsgrad/core';
import { i32, type Local, type ModuleBuilder, OP, SIMD, v128 } from '../emitter.js';
import type { Operand, WasmBackend, WasmBuffer } from '../backend.js';
import type { Gemm } from './gemm.js';
import type { EpilogueSpec } from './epilogue.js';
import type { Runtime } from '../runtime.js';
import { buildDepthwiseSmall, P_WT, smallScratchBytes } from './depthwise-small.js';

/** Byte address of the depthwise kernels' parameter block (reserved low memory). */
const PARAMS = 2048;
// Parameter block fields (i32 each).
const P_X = 0, P_W = 1, P_Y = 2, P_C = 3, P_H = 4, P_W_ = 5, P_OH = 6, P_OW = 7, P_SH = 8, P_PH = 9, P_PW = 10, P_N = 11;

function numel(s: readonly number[]): number {
  return s.reduce((a, b) => a * b, 1);
}

/**
 * Depthwise kernels for a KH x KW kernel with dilation (dh, dw), column stride 1
 * (`relaxed`: the forward taps use `f32x4.relaxed_madd`).
 * `fwd(params, scratch, p0, p1)`: planes `p0 <= p < p1` of `y = dwconv(x, w)`.
 * `bwdw(params, scratch, c0, c1)`: channels `c0 <= c < c1` of the weight gradient (x, gy -> gw).
 */
export function buildDepthwise(m: ModuleBuilder, KH: number, KW: number, dh: number, dw: number, relaxed = false): void {
  const KK = KH * KW;
  // Shared: pad one input plane into scratch (zeroed, then rows copied).
  const pad = m.fn('pad', [i32, i32, i32, i32, i32, i32, i32]);
  {
    const [src, sp, H, W, Hp, Wp, ph_pw] = pad.params as Local[];
    const f = pad;
    const q = f.local(i32), end = f.local(i32), r = f.local(i32), c = f.local(i32), d = f.local(i32), s = f.local(i32), ph = f.local(i32), pw = f.local(i32);
    f.get(ph_pw).i32c(16).op(OP.i32_shr_u).set(ph);
    f.get(ph_pw).i32c(0xffff).op(OP.i32_and).set(pw);
    f.get(Hp).get(Wp).op(OP.i32_mul).i32c(2).op(OP.i32_shl).i32c(16).op(OP.i32_add).set(end);
    f.for(q, () => f.i32c(0), end, 16, () => {
      f.get(sp).get(q).op(OP.i32_add).f32x4c(0).vstore();
    });
    f.for(r, () => f.i32c(0), H, 1, () => {
      f.get(sp).get(r).get(ph).op(OP.i32_add).get(Wp).op(OP.i32_mul).get(pw).op(OP.i32_add).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(d);
      f.get(src).get(r).get(W).op(OP.i32_mul).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(s);
      f.for(c, () => f.i32c(0), W, 1, () => {
        f.get(d).get(s).mem(OP.f32_load, 2).mem(OP.f32_store, 2);
        f.addTo(d, 4).addTo(s, 4);
      });
    });
  }
  const padIdx = m.indexOf(pad);

  const loadParams = (f: ReturnType<ModuleBuilder['fn']>, params: Local) => {
    const L = (i: number) => {
      const l = f.local(i32);
      f.get(params).mem(OP.i32_load, 2, i * 4).set(l);
      return l;
    };
    return { x: L(P_X), w: L(P_W), y: L(P_Y), C: L(P_C), H: L(P_H), W: L(P_W_), OH: L(P_OH), OW: L(P_OW), sh: L(P_SH), ph: L(P_PH), pw: L(P_PW), N: L(P_N) };
  };

  {
    const f = m.fn('fwd', [i32, i32, i32, i32]);
    const [params, sp, p0, p1] = f.params as Local[];
    const P = loadParams(f, params);
    const p = f.local(i32), Hp = f.local(i32), Wp = f.local(i32), xs = f.local(i32), ys = f.local(i32), wc = f.local(i32);
    const oy = f.local(i32), ox = f.local(i32), i = f.local(i32), j = f.local(i32), xrow = f.local(i32), yrow = f.local(i32), wrow = f.local(i32), lim = f.local(i32);
    const acc = [0, 1, 2, 3].map(() => f.local(v128));
    const wv = f.local(v128);
    f.get(P.H).get(P.ph).get(P.ph).op(OP.i32_add).op(OP.i32_add).set(Hp);
    f.get(P.W).get(P.pw).get(P.pw).op(OP.i32_add).op(OP.i32_add).set(Wp);
    f.for(p, () => f.get(p0), p1, 1, () => {
      f.get(P.x).get(p).get(P.H).op(OP.i32_mul).get(P.W).op(OP.i32_mul).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(xs);
      f.get(P.y).get(p).get(P.OH).op(OP.i32_mul).get(P.OW).op(OP.i32_mul).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(ys);
      f.get(P.w).get(p).get(P.C).op(OP.i32_rem_u).i32c(KK * 4).op(OP.i32_mul).op(OP.i32_add).set(wc);
      f.get(xs).get(sp).get(P.H).get(P.W).get(Hp).get(Wp).get(P.ph).i32c(16).op(OP.i32_shl).get(P.pw).op(OP.i32_or).call(padIdx);
      f.get(P.OW).i32c(-16).op(OP.i32_and).set(lim);
      f.for(oy, () => f.i32c(0), P.OH, 1, () => {
        f.get(ys).get(oy).get(P.OW).op(OP.i32_mul).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(yrow);
        const taps = (vecs: number) => {
          for (let q = 0; q < vecs; q++) f.f32x4c(0).set(acc[q]!);
          f.get(wc).set(wrow);
          f.for(i, () => f.i32c(0), () => f.i32c(KH), 1, () => {
            // xrow = sp + ((oy*sh + i*dh) * Wp + ox) * 4
            f.get(sp).get(oy).get(P.sh).op(OP.i32_mul).get(i).i32c(dh).op(OP.i32_mul).op(OP.i32_add).get(Wp).op(OP.i32_mul).get(ox).op(OP.i32_add).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(xrow);
            // A loop over the kernel row, not unrolled: V8 would hoist the loads of every
            // unrolled tap to the top and spill them.
            f.for(j, () => f.i32c(0), () => f.i32c(KW), 1, () => {
              f.get(wrow).vsplatLoad().set(wv);
              for (let q = 0; q < vecs; q++) {
                f.madd(relaxed, () => f.get(xrow).vload(4 * q * 4), () => f.get(wv), () => f.get(acc[q]!)).set(acc[q]!);
              }
              f.addTo(wrow, 4).addTo(xrow, dw * 4);
            });
          });
        };
        f.for(ox, () => f.i32c(0), lim, 16, () => {
          taps(4);
          for (let q = 0; q < 4; q++) f.get(yrow).get(ox).i32c(2).op(OP.i32_shl).op(OP.i32_add).get(acc[q]!).vstore(q * 16);
        });
        f.for(ox, () => f.get(lim), P.OW, 4, () => {
          taps(1);
          f.get(P.OW).get(ox).op(OP.i32_sub).i32c(4).op(OP.i32_ge_s);
          f.if(
            () => f.get(yrow).get(ox).i32c(2).op(OP.i32_shl).op(OP.i32_add).get(acc[0]!).vstore(),
            () => {
              for (let lane = 0; lane < 3; lane++) {
                f.get(P.OW).get(ox).op(OP.i32_sub).i32c(lane).op(OP.i32_gt_s);
                f.if(() => f.get(yrow).get(ox).i32c(2).op(OP.i32_shl).op(OP.i32_add).get(acc[0]!).lane(SIMD.f32x4_extract_lane, lane).mem(OP.f32_store, 2, lane * 4));
              }
            },
          );
        });
      });
    });
  }

  {
    const f = m.fn('bwdw', [i32, i32, i32, i32]);
    // x in P.x, gy in P.y, gw in P.w
    const [params, sp, c0, c1] = f.params as Local[];
    const P = loadParams(f, params);
    const c = f.local(i32), n = f.local(i32), p = f.local(i32), Hp = f.local(i32), Wp = f.local(i32), xs = f.local(i32), gs = f.local(i32);
    const oy = f.local(i32), ox = f.local(i32), i = f.local(i32), xrow = f.local(i32), grow = f.local(i32), lim = f.local(i32), accs = f.local(i32), t = f.local(i32);
    const gv = f.local(v128), mask = f.local(v128);
    const accJ = Array.from({ length: KW }, () => f.local(v128));
    f.get(P.H).get(P.ph).get(P.ph).op(OP.i32_add).op(OP.i32_add).set(Hp);
    f.get(P.W).get(P.pw).get(P.pw).op(OP.i32_add).op(OP.i32_add).set(Wp);
    // per-tap sums live after the padded plane in scratch
    f.get(sp).get(Hp).get(Wp).op(OP.i32_mul).i32c(2).op(OP.i32_shl).op(OP.i32_add).i32c(64).op(OP.i32_add).set(accs);
    f.get(P.OW).i32c(-4).op(OP.i32_and).set(lim);
    // mask of the tail lanes
    f.simd(SIMD.const);
    for (const q of [0, 1, 2, 3]) f.code.push(...new Uint8Array(new Int32Array([q]).buffer));
    f.get(P.OW).get(lim).op(OP.i32_sub).simd(SIMD.i32x4_splat).simd(SIMD.i32x4_lt_s).set(mask);
    f.for(c, () => f.get(c0), c1, 1, () => {
      f.for(t, () => f.i32c(0), () => f.i32c(KK), 1, () => {
        f.get(accs).get(t).i32c(2).op(OP.i32_shl).op(OP.i32_add).f32c(0).mem(OP.f32_store, 2);
      });
      f.for(n, () => f.i32c(0), P.N, 1, () => {
        f.get(n).get(P.C).op(OP.i32_mul).get(c).op(OP.i32_add).set(p);
        f.get(P.x).get(p).get(P.H).op(OP.i32_mul).get(P.W).op(OP.i32_mul).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(xs);
        f.get(P.y).get(p).get(P.OH).op(OP.i32_mul).get(P.OW).op(OP.i32_mul).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(gs);
        f.get(xs).get(sp).get(P.H).get(P.W).get(Hp).get(Wp).get(P.ph).i32c(16).op(OP.i32_shl).get(P.pw).op(OP.i32_or).call(padIdx);
        f.for(i, () => f.i32c(0), () => f.i32c(KH), 1, () => {
          for (const a of accJ) f.f32x4c(0).set(a);
          f.for(oy, () => f.i32c(0), P.OH, 1, () => {
            f.get(gs).get(oy).get(P.OW).op(OP.i32_mul).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(grow);
            f.get(sp).get(oy).get(P.sh).op(OP.i32_mul).get(i).i32c(dh).op(OP.i32_mul).op(OP.i32_add).get(Wp).op(OP.i32_mul).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(xrow);
            const body = (masked: boolean) => {
              f.get(grow).get(ox).i32c(2).op(OP.i32_shl).op(OP.i32_add).vload();
              f.set(gv);
              f.get(xrow).get(ox).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(t);
              for (let j = 0; j < KW; j++) {
                f.get(t).vload(j * dw * 4).get(gv).simd(SIMD.f32x4_mul);
                // Tail lanes are summed into the tap: mask the product (past the row, gy and x
                // are other data or stale memory, and Inf * 0 is NaN).
                if (masked) f.f32x4c(0).get(mask).simd(SIMD.bitselect);
                f.get(accJ[j]!).simd(SIMD.f32x4_add).set(accJ[j]!);
              }
            };
            f.for(ox, () => f.i32c(0), lim, 4, () => body(false));
            f.get(lim).get(P.OW).op(OP.i32_lt_s);
            f.if(() => {
              f.get(lim).set(ox);
              body(true);
            });
          });
          for (let j = 0; j < KW; j++) {
            // accs[i*KW + j] += hsum(accJ[j])
            f.get(accs).get(i).i32c(KW * 4).op(OP.i32_mul).op(OP.i32_add).set(t);
            f.get(t);
            f.get(t).mem(OP.f32_load, 2, j * 4);
            for (let lane = 0; lane < 4; lane++) f.get(accJ[j]!).lane(SIMD.f32x4_extract_lane, lane).op(OP.f32_add);
            f.mem(OP.f32_store, 2, j * 4);
          }
        });
      });
      f.for(t, () => f.i32c(0), () => f.i32c(KK), 1, () => {
        f.get(P.w).get(c).i32c(KK * 4).op(OP.i32_mul).op(OP.i32_add).get(t).i32c(2).op(OP.i32_shl).op(OP.i32_add);
        f.get(accs).get(t).i32c(2).op(OP.i32_shl).op(OP.i32_add).mem(OP.f32_load, 2);
        f.mem(OP.f32_store, 2);
      });
    });
  }
}

/** The convolution kernels. */
export class ConvKernels {
  constructor(
    private readonly rt: Runtime,
    private readonly gemm: Gemm,
  ) {}

  private isDepthwise(xShape: readonly number[], wShape: readonly number[], p: Conv2dParams): boolean {
    const c = xShape[1]!;
    return p.groups === c && wShape[0] === c && wShape[1] === 1 && p.stride[1] === 1;
  }

  private writeParams(v: Partial<Record<number, number>>): void {
    const i32 = this.rt.heap.i32;
    for (const [k, val] of Object.entries(v)) i32[PARAMS / 4 + Number(k)] = val!;
  }

  private dwKernel(kh: number, kw: number, dh: number, dw: number) {
    const relaxed = this.rt.relaxed;
    return this.rt.kernel(`dw|${kh}|${kw}|${dh}|${dw}|${relaxed}`, (m) => buildDepthwise(m, kh, kw, dh, dw, relaxed));
  }

  /**
   * Output maps of at most this many positions (`oh * ow`) take the channel-vectorised
   * small-map kernels (depthwise-small.ts) when C % 4 == 0 and there is no dilation;
   * larger maps the row-vectorised ones. Tests move it to run both on the same shapes.
   */
  smallMapMax = 100;

  /**
   * groups-1 convolutions whose output maps have at most this many positions (`oh * ow`)
   * take the pixel-rows path: fewer than the GEMM's 8-column panel, where a product per
   * image leaves most of each panel empty. Larger maps stay per image: the patches'
   * transposing copy costs more there than the GEMM gains (measured on ConvNeXt's 2x2
   * downsampling layers: 2.4x faster at 2x2 maps, slower at 4x4 and 8x8). Tests move it to
   * run both paths on the same shapes.
   */
  pixelRowsMax = 7;

  private usePixelRows(p: Conv2dParams, oh: number, ow: number): boolean {
    return p.groups === 1 && oh * ow <= this.pixelRowsMax;
  }

  /** `gy` `[N, O, Q]` (contiguous) transposed to pixel rows `[N, Q, O]`. */
  private pixelRowsOf(be: WasmBackend, gy: number, n: number, o: number, q: number): WasmBuffer {
    const out = be.alloc('float32', n * q * o);
    be.copyStrided('float32', [n, q, o], { ptr: out.ptr, st: [q * o * 4, o * 4, 4] }, { ptr: gy, st: [o * q * 4, 4, q * 4] });
    return out;
  }

  private useSmall(c: number, oh: number, ow: number, dh: number, dw: number): boolean {
    return c % 4 === 0 && dh === 1 && dw === 1 && oh * ow <= this.smallMapMax;
  }

  private dwSmallKernel(kh: number, kw: number) {
    const relaxed = this.rt.relaxed;
    return this.rt.kernel(`dws|${kh}|${kw}|${relaxed}`, (m) => buildDepthwiseSmall(m, kh, kw, relaxed));
  }

  /**
   * Depthwise forward on contiguous addresses; `w` at `wPtr` is `[C, KH*KW]` (read with its
   * taps reversed when `flip`: the input gradient is this correlation with the flipped kernel).
   */
  private dwForward(be: WasmBackend, x: number, wPtr: number, y: number, n: number, c: number, h: number, wd: number, kh: number, kw: number, oh: number, ow: number, sh: number, ph: number, pw: number, dh: number, dw: number, flip: boolean): void {
    const kk = kh * kw;
    const small = this.useSmall(c, oh, ow, dh, dw);
    // Small maps: weights transposed to [KK][C]; large maps with flip: flipped [C][KK].
    const wtmp = small || flip ? be.alloc('float32', c * kk) : null;
    if (wtmp) {
      const f32 = this.rt.heap.f32;
      const src = wPtr / 4;
      const dst = wtmp.ptr / 4;
      for (let ch = 0; ch < c; ch++)
        for (let t = 0; t < kk; t++) {
          const v = f32[src + ch * kk + (flip ? kk - 1 - t : t)]!;
          if (small) f32[dst + t * c + ch] = v;
          else f32[dst + ch * kk + t] = v;
        }
    }
    this.writeParams({ [P_X]: x, [P_W]: small || !wtmp ? wPtr : wtmp.ptr, [P_Y]: y, [P_C]: c, [P_H]: h, [P_W_]: wd, [P_OH]: oh, [P_OW]: ow, [P_SH]: sh, [P_PH]: ph, [P_PW]: pw, [P_N]: n, [P_WT]: wtmp ? wtmp.ptr : 0 });
    const planes = n * c;
    const work = planes * oh * ow * kh * kw;
    if (small) {
      const k = this.dwSmallKernel(kh, kw);
      const scratch = this.rt.scratchFor(smallScratchBytes(h, wd, ph, pw, oh, ow, kk));
      const groups = planes / 4;
      const r = this.rt.worth(work) ? this.rt.ranges(groups, 1, 1, this.rt.chunksPerThread(work / 64)) : [[0, groups] as [number, number]];
      this.rt.parallel(k, 'fwd4', r.map(([s, e]) => [PARAMS, 0, s, e]), { arg: 1, ptrs: scratch });
    } else {
      const k = this.dwKernel(kh, kw, dh, dw);
      const hp = h + 2 * ph;
      const wp = wd + 2 * pw;
      const scratch = this.rt.scratchFor((hp * wp + 64) * 4 + 64 * 4 + kh * kw * 4);
      const r = this.rt.worth(work) ? this.rt.ranges(planes, 1, 1, this.rt.chunksPerThread(work / 64)) : [[0, planes] as [number, number]];
      this.rt.parallel(k, 'fwd', r.map(([s, e]) => [PARAMS, 0, s, e]), { arg: 1, ptrs: scratch });
    }
    if (wtmp) be.free(wtmp);
  }

  forward(be: WasmBackend, x: View, w: View, p: Conv2dParams): BufferHandle {
    const [n, c, h, wd] = x.shape as [number, number, number, number];
    const [o, cg, kh, kw] = w.shape as [number, number, number, number];
    const oh = Math.floor((h + 2 * p.padding[0] - p.dilation[0] * (kh - 1) - 1) / p.stride[0]) + 1;
    const ow = Math.floor((wd + 2 * p.padding[1] - p.dilation[1] * (kw - 1) - 1) / p.stride[1]) + 1;
    if (x.dtype !== 'float32') return hostConv(be, 'fwd', x, w, [n, c, h, wd], [o, cg, kh, kw], [n, o, oh, ow], p);
    const out = be.alloc('float32', n * o * oh * ow);
    if (n * o * oh * ow === 0) return out;
    const xc = be.contiguousView(x);
    const wc = be.contiguousView(w);
    if (this.isDepthwise(x.shape, w.shape, p)) {
      this.dwForward(be, xc.ptr, wc.ptr, out.ptr, n, c, h, wd, kh, kw, oh, ow, p.stride[0], p.padding[0], p.padding[1], p.dilation[0], p.dilation[1], false);
    } else if (this.usePixelRows(p, oh, ow)) {
      // [N*Q, C*KH*KW] @ weight^T, rows grouped by image and stored channels-first (NCHW).
      const kk = c * kh * kw;
      const q = oh * ow;
      const patches = this.windows(be, xc.ptr, [n, c, h, wd], kh, kw, oh, ow, p, true);
      this.gemm.epilogue(patches.ptr, wc.ptr, out.ptr, { M: n * q, N: o, K: kk, am: kk * 4, ak: 4, bk: 4, bn: kk * 4 }, { spec: PLAIN, P: q, cs: [o * q * 4, 4, q * 4] });
      be.free(patches);
    } else {
      const g = p.groups;
      const og = o / g;
      const kk = cg * kh * kw;
      const cols = this.im2col(be, xc.ptr, [n, c, h, wd], kh, kw, oh, ow, p);
      const colPtr = cols ? cols.ptr : xc.ptr;
      const aPtrs: number[] = [];
      const bPtrs: number[] = [];
      for (let b = 0; b < n; b++)
        for (let gi = 0; gi < g; gi++) {
          aPtrs.push(wc.ptr + gi * og * kk * 4);
          bPtrs.push(colPtr + (b * c * kh * kw + gi * kk) * oh * ow * 4);
        }
      this.gemm.batched(aPtrs, bPtrs, out.ptr, { M: og, N: oh * ow, K: kk, am: kk * 4, ak: 4, bk: oh * ow * 4, bn: 4 });
      if (cols) be.free(cols);
    }
    if (xc.tmp) be.free(xc.tmp);
    if (wc.tmp) be.free(wc.tmp);
    return out;
  }

  /** The im2col matrix `[N, C*KH*KW, OH*OW]` of contiguous `x`, or null when it is `x` itself (1x1, stride 1, no padding). */
  private im2col(be: WasmBackend, x: number, xs: readonly number[], kh: number, kw: number, oh: number, ow: number, p: Conv2dParams): WasmBuffer | null {
    if (kh === 1 && kw === 1 && p.stride[0] === 1 && p.stride[1] === 1 && p.padding[0] === 0 && p.padding[1] === 0) return null;
    return this.windows(be, x, xs, kh, kw, oh, ow, p, false);
  }

  /**
   * The windows of contiguous `x` (zero padding included), copied out as
   * `[N, C, KH, KW, OH, OW]` (im2col: a GEMM per image) or, with `pixelRows`, as
   * `[N, OH, OW, C, KH, KW]` (each output pixel's patch a row: one GEMM for the batch).
   */
  private windows(be: WasmBackend, x: number, xs: readonly number[], kh: number, kw: number, oh: number, ow: number, p: Conv2dParams, pixelRows: boolean): WasmBuffer {
    const [n, c, h, wd] = xs as [number, number, number, number];
    const [ph, pw] = p.padding;
    const hp = h + 2 * ph;
    const wp = wd + 2 * pw;
    let src = x;
    let padded: WasmBuffer | null = null;
    if (ph || pw) {
      padded = be.alloc('float32', n * c * hp * wp, true);
      be.copyStrided('float32', [n * c, h, wd], { ptr: padded.ptr + (ph * wp + pw) * 4, st: [hp * wp * 4, wp * 4, 4] }, { ptr: x, st: [h * wd * 4, wd * 4, 4] });
      src = padded.ptr;
    }
    const { shape, st } = windowView(xs, kh, kw, oh, ow, p, pixelRows);
    const out = be.alloc('float32', numel(shape));
    be.copyStrided('float32', shape, { ptr: out.ptr, st: contiguous(shape).map((v) => v * 4) }, { ptr: src, st });
    if (padded) be.free(padded);
    return out;
  }

  /**
   * col2im, the adjoint of {@link windows}: window gradients laid out as `windows` copies
   * them out are added into a zero input gradient of shape `xs` (windows may overlap),
   * then the padding is cut off. Frees `cols`.
   */
  private addWindows(be: WasmBackend, cols: WasmBuffer, xs: readonly number[], kh: number, kw: number, oh: number, ow: number, p: Conv2dParams, pixelRows: boolean): WasmBuffer {
    const [n, c, h, wd] = xs as [number, number, number, number];
    const [ph, pw] = p.padding;
    const hp = h + 2 * ph;
    const wp = wd + 2 * pw;
    const { shape, st } = windowView(xs, kh, kw, oh, ow, p, pixelRows);
    const gxp = be.alloc('float32', n * c * hp * wp, true);
    be.addStrided(shape, { ptr: gxp.ptr, st }, { ptr: cols.ptr, st: contiguous(shape).map((v) => v * 4) });
    be.free(cols);
    if (!ph && !pw) return gxp;
    const out = be.alloc('float32', n * c * h * wd);
    be.copyStrided('float32', [n * c, h, wd], { ptr: out.ptr, st: [h * wd * 4, wd * 4, 4] }, { ptr: gxp.ptr + (ph * wp + pw) * 4, st: [hp * wp * 4, wp * 4, 4] });
    be.free(gxp);
    return out;
  }

  backwardInput(be: WasmBackend, gy: View, w: View, xShape: readonly number[], p: Conv2dParams): BufferHandle {
    const [n, c, h, wd] = xShape as [number, number, number, number];
    const [o, cg, kh, kw] = w.shape as [number, number, number, number];
    const [, , oh, ow] = gy.shape as [number, number, number, number];
    if (gy.dtype !== 'float32') return hostConv(be, 'bwdx', gy, w, [n, c, h, wd], [o, cg, kh, kw], [n, o, oh, ow], p);
    const [dh, dw] = p.dilation;
    const ph2 = dh * (kh - 1) - p.padding[0];
    const pw2 = dw * (kw - 1) - p.padding[1];
    const gc = be.contiguousView(gy);
    const wc = be.contiguousView(w);
    let out: WasmBuffer;
    if (this.isDepthwise(xShape, w.shape, p) && p.stride[0] === 1 && ph2 >= 0 && pw2 >= 0) {
      // Full correlation of gy with the flipped kernel.
      out = be.alloc('float32', n * c * h * wd);
      if (n * c * h * wd > 0) this.dwForward(be, gc.ptr, wc.ptr, out.ptr, n, c, oh, ow, kh, kw, h, wd, 1, ph2, pw2, dh, dw, true);
    } else if (this.usePixelRows(p, oh, ow) && n * c * h * wd > 0 && n * oh * ow > 0) {
      // Patch gradients [N*Q, O] @ weight, then added into place (windows may overlap).
      const kk = c * kh * kw;
      const q = oh * ow;
      const rows = this.pixelRowsOf(be, gc.ptr, n, o, q);
      const gpatch = be.alloc('float32', n * q * kk);
      this.gemm.batched([rows.ptr], [wc.ptr], gpatch.ptr, { M: n * q, N: kk, K: o, am: o * 4, ak: 4, bk: kk * 4, bn: 4 });
      be.free(rows);
      out = this.addWindows(be, gpatch, [n, c, h, wd], kh, kw, oh, ow, p, true);
    } else {
      const g = p.groups;
      const og = o / g;
      const kk = cg * kh * kw;
      const q = oh * ow;
      const direct = kh === 1 && kw === 1 && p.stride[0] === 1 && p.stride[1] === 1 && p.padding[0] === 0 && p.padding[1] === 0;
      const gcols = be.alloc('float32', n * c * kh * kw * q);
      const aPtrs: number[] = [];
      const bPtrs: number[] = [];
      for (let b = 0; b < n; b++)
        for (let gi = 0; gi < g; gi++) {
          aPtrs.push(wc.ptr + gi * og * kk * 4);
          bPtrs.push(gc.ptr + (b * o + gi * og) * q * 4);
        }
      if (n * c * kh * kw * q > 0) this.gemm.batched(aPtrs, bPtrs, gcols.ptr, { M: kk, N: q, K: og, am: 4, ak: kk * 4, bk: q * 4, bn: 4 });
      out = direct ? gcols : this.addWindows(be, gcols, [n, c, h, wd], kh, kw, oh, ow, p, false);
    }
    if (gc.tmp) be.free(gc.tmp);
    if (wc.tmp) be.free(wc.tmp);
    return out;
  }

  backwardWeight(be: WasmBackend, x: View, gy: View, wShape: readonly number[], p: Conv2dParams): BufferHandle {
    const [n, c, h, wd] = x.shape as [number, number, number, number];
    const [o, cg, kh, kw] = wShape as [number, number, number, number];
    const [, , oh, ow] = gy.shape as [number, number, number, number];
    if (x.dtype !== 'float32') return hostConv(be, 'bwdw', x, gy, [n, c, h, wd], [o, cg, kh, kw], [n, o, oh, ow], p);
    const out = be.alloc('float32', o * cg * kh * kw);
    const xc = be.contiguousView(x);
    const gc = be.contiguousView(gy);
    if (n * oh * ow === 0) this.rt.heap.f32.fill(0, out.ptr / 4, out.ptr / 4 + o * cg * kh * kw);
    else if (this.isDepthwise(x.shape, wShape, p)) {
      const small = p.stride[0] === 1 && this.useSmall(c, oh, ow, p.dilation[0], p.dilation[1]);
      const k = small ? this.dwSmallKernel(kh, kw) : this.dwKernel(kh, kw, p.dilation[0], p.dilation[1]);
      this.writeParams({ [P_X]: xc.ptr, [P_W]: out.ptr, [P_Y]: gc.ptr, [P_C]: c, [P_H]: h, [P_W_]: wd, [P_OH]: oh, [P_OW]: ow, [P_SH]: p.stride[0], [P_PH]: p.padding[0], [P_PW]: p.padding[1], [P_N]: n });
      const hp = h + 2 * p.padding[0];
      const wp = wd + 2 * p.padding[1];
      const scratch = this.rt.scratchFor(small ? smallScratchBytes(h, wd, p.padding[0], p.padding[1], oh, ow, kh * kw) : (hp * wp + 64) * 4 + 64 * 4 + kh * kw * 4);
      // Split by channels (groups of four on the small path): each thread owns whole sums.
      const units = small ? c / 4 : c;
      const r = this.rt.worth(n * c * oh * ow * kh * kw) ? this.rt.ranges(units) : [[0, units] as [number, number]];
      this.rt.parallel(k, small ? 'bwdw4' : 'bwdw', r.map(([s, e]) => [PARAMS, 0, s, e]), { arg: 1, ptrs: scratch });
    } else if (this.usePixelRows(p, oh, ow)) {
      // [O, N*Q] (gy's pixel rows, transposed) @ patches [N*Q, C*KH*KW]: the batch is the sum.
      const kk = c * kh * kw;
      const q = oh * ow;
      const rows = this.pixelRowsOf(be, gc.ptr, n, o, q);
      const patches = this.windows(be, xc.ptr, [n, c, h, wd], kh, kw, oh, ow, p, true);
      this.gemm.batched([rows.ptr], [patches.ptr], out.ptr, { M: o, N: kk, K: n * q, am: 4, ak: o * 4, bk: kk * 4, bn: 4 });
      be.free(rows);
      be.free(patches);
    } else {
      const g = p.groups;
      const og = o / g;
      const kk = cg * kh * kw;
      const q = oh * ow;
      const cols = this.im2col(be, xc.ptr, [n, c, h, wd], kh, kw, oh, ow, p);
      const colPtr = cols ? cols.ptr : xc.ptr;
      for (let gi = 0; gi < g; gi++) {
        const aPtrs: number[] = [];
        const bPtrs: number[] = [];
        for (let b = 0; b < n; b++) {
          aPtrs.push(gc.ptr + (b * o + gi * og) * q * 4);
          bPtrs.push(colPtr + (b * c * kh * kw + gi * kk) * q * 4);
        }
        this.gemm.batched(aPtrs, bPtrs, out.ptr + gi * og * kk * 4, { M: og, N: kk, K: q, am: q * 4, ak: 4, bk: 4, bn: q * 4 }, true);
      }
      if (cols) be.free(cols);
    }
    if (xc.tmp) be.free(xc.tmp);
    if (gc.tmp) be.free(gc.tmp);
    return out;
  }
}

/**
 * The windows of the zero-padded input of shape `xs` as a view of the padded buffer: shape
 * `[N, C, KH, KW, OH, OW]` (im2col's order) or, for pixel rows, `[N, OH, OW, C, KH, KW]`,
 * with byte strides.
 */
function windowView(xs: readonly number[], kh: number, kw: number, oh: number, ow: number, p: Conv2dParams, pixelRows: boolean): { shape: number[]; st: number[] } {
  const [n, c, h, wd] = xs as [number, number, number, number];
  const hp = h + 2 * p.padding[0];
  const wp = wd + 2 * p.padding[1];
  const dims = [n, c, kh, kw, oh, ow];
  const st = [c * hp * wp, hp * wp, p.dilation[0] * wp, p.dilation[1], p.stride[0] * wp, p.stride[1]];
  const order = pixelRows ? [0, 4, 5, 1, 2, 3] : [0, 1, 2, 3, 4, 5];
  return { shape: order.map((i) => dims[i]!), st: order.map((i) => st[i]! * 4) };
}

/** An epilogue GEMM that only stores (for its output layouts). */
const PLAIN: EpilogueSpec = { bias: false, act: 'none', scale: false, residual: false, pre: false, geluGrad: false };

function contiguous(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** Direct loops over every tap (float64; the reference contract). */
function hostConv(be: WasmBackend, which: 'fwd' | 'bwdx' | 'bwdw', a: View, b: View, xs: number[], ws: number[], ys: number[], p: Conv2dParams): BufferHandle {
  const [n, c, h, wd] = xs as [number, number, number, number];
  const [o, cg, kh, kw] = ws as [number, number, number, number];
  const [, , oh, ow] = ys as [number, number, number, number];
  const av = be.hostValues(a);
  const bv = be.hostValues(b);
  const out = new Float64Array(numel(which === 'fwd' ? ys : which === 'bwdx' ? xs : ws));
  const og = o / p.groups;
  for (let bi = 0; bi < n; bi++)
    for (let oc = 0; oc < o; oc++) {
      const g = Math.floor(oc / og);
      for (let ic = 0; ic < cg; ic++)
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++)
            for (let y = 0; y < oh; y++) {
              const iy = y * p.stride[0] - p.padding[0] + i * p.dilation[0];
              if (iy < 0 || iy >= h) continue;
              for (let x = 0; x < ow; x++) {
                const ix = x * p.stride[1] - p.padding[1] + j * p.dilation[1];
                if (ix < 0 || ix >= wd) continue;
                const yi = ((bi * o + oc) * oh + y) * ow + x;
                const xi = ((bi * c + g * cg + ic) * h + iy) * wd + ix;
                const wi = ((oc * cg + ic) * kh + i) * kw + j;
                if (which === 'fwd') out[yi]! += av[xi]! * bv[wi]!;
                else if (which === 'bwdx') out[xi]! += av[yi]! * bv[wi]!;
                else out[wi]! += bv[yi]! * av[xi]!;
              }
            }
    }
  return be.fromHost(a.dtype, out);
}

export type { Operand };
