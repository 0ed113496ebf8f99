/**
 * Depthwise convolution for small feature maps, vectorised across four channels instead of
 * along a row: a row of 2, 4 or 8 outputs leaves most of a row-vectorised kernel's lanes and
 * taps in the padding (7x7 on 2x2 touches 4 of 49 taps per output). Here four planes (four
 * consecutive channels of one image; C % 4 == 0) are interleaved into a zero-bordered
 * scratch `[Hp][Wp][4]`, the weights are transposed to `[KH*KW][C]` so a tap's four
 * channel weights are one load, and each output row visits only the kernel rows that land
 * inside the map and, per block of up to four outputs, only the kernel columns that do.
 *
 * `fwd4(params, scratch, g0, g1)`: plane groups `g0 <= g < g1` (planes 4g..4g+3) of
 * `y = dwconv(x, w)`, any row stride, column stride 1, no dilation.
 * `bwdw4(params, scratch, g0, g1)`: channel groups (channels 4g..4g+3) of the weight
 * gradient, summed over the batch in a fixed order (stride 1, no dilation), so every split
 * across threads gives the same bits.
 */
import { i32, type Fn, type Local, type ModuleBuilder, OP, SIMD, v128 } from '../emitter.js';

// Parameter block fields (i32 each), shared with conv.ts's depthwise kernels.
const P_X = 0, P_W = 1, P_Y = 2, P_C = 3, P_H = 4, P_W_ = 5, P_OH = 6, P_OW = 7, P_SH = 8, P_PH = 9, P_PW = 10, P_N = 11;
/** Field of the transposed weights `[KH*KW][C]` (fwd4). */
export const P_WT = 12;

/** Scratch bytes per thread for maps of `h x w` padded by `ph, pw`, outputs `oh x ow`. */
export function smallScratchBytes(h: number, w: number, ph: number, pw: number, oh: number, ow: number, kk: number): number {
  return ((h + 2 * ph) * (w + 2 * pw) + kk + oh * ow) * 16 + 64;
}

/** The small-map depthwise kernels for a KH x KW kernel (`relaxed`: fused multiply-add). */
export function buildDepthwiseSmall(m: ModuleBuilder, KH: number, KW: number, relaxed: boolean): void {
  const KK = KH * KW;
  const params4 = [i32, i32, i32, i32] as const;

  const loadParams = (f: Fn, params: Local) => {
    const L = (i: number) => {
      const l = f.local(i32);
      f.get(params).mem(OP.i32_load, 2, i * 4).set(l);
      return l;
    };
    return { x: L(P_X), w: L(P_W), y: L(P_Y), C: L(P_C), H: L(P_H), W: L(P_W_), OH: L(P_OH), OW: L(P_OW), sh: L(P_SH), ph: L(P_PH), pw: L(P_PW), N: L(P_N), wt: L(P_WT) };
  };
  type P = ReturnType<typeof loadParams>;
  /** `out = select(a, b, a > b)` for two i32 computations. */
  const imax = (f: Fn, t: Local, a: () => void, b: () => void, out: Local) => {
    a();
    f.set(out);
    b();
    f.set(t);
    f.get(out).get(t).get(out).get(t).op(OP.i32_gt_s).op(OP.select).set(out);
  };
  const imin = (f: Fn, t: Local, a: () => void, b: () => void, out: Local) => {
    a();
    f.set(out);
    b();
    f.set(t);
    f.get(out).get(t).get(out).get(t).op(OP.i32_lt_s).op(OP.select).set(out);
  };
  /** Zero `bytes` (a multiple of 16) at `at`. */
  const zero = (f: Fn, at: Local, bytes: Local, q: Local) => {
    f.for(q, () => f.i32c(0), bytes, 16, () => {
      f.get(at).get(q).op(OP.i32_add).f32x4c(0).vstore();
    });
  };
  /** Interleave four planes of `rows x cols` at `src` (plane stride `pst` bytes) into `dst` rows of `dstRow` bytes. */
  const interleave = (f: Fn, src: Local, pst: Local, rows: Local, cols: Local, dst: Local, dstRow: Local, r: Local, col: Local, d: Local, s: Local) => {
    f.for(r, () => f.i32c(0), rows, 1, () => {
      f.get(dst).get(r).get(dstRow).op(OP.i32_mul).op(OP.i32_add).set(d);
      f.get(src).get(r).get(cols).op(OP.i32_mul).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(s);
      f.for(col, () => f.i32c(0), cols, 1, () => {
        for (let l = 0; l < 4; l++) {
          f.get(d);
          f.get(s);
          if (l > 0) f.get(pst).i32c(l).op(OP.i32_mul).op(OP.i32_add);
          f.mem(OP.f32_load, 2).mem(OP.f32_store, 2, l * 4);
        }
        f.addTo(d, 16).addTo(s, 4);
      });
    });
  };
  const prologue = (f: Fn, P: P) => {
    const Hp = f.local(i32), Wp = f.local(i32), rowB = f.local(i32), padB = f.local(i32);
    f.get(P.H).get(P.ph).get(P.ph).op(OP.i32_add).op(OP.i32_add).set(Hp);
    f.get(P.W).get(P.pw).get(P.pw).op(OP.i32_add).op(OP.i32_add).set(Wp);
    f.get(Wp).i32c(4).op(OP.i32_shl).set(rowB);
    f.get(Hp).get(rowB).op(OP.i32_mul).set(padB);
    return { Hp, Wp, rowB, padB };
  };

  {
    const f = m.fn('fwd4', [...params4]);
    const [params, sp, g0, g1] = f.params as Local[];
    const P = loadParams(f, params);
    const { rowB, padB } = prologue(f, P);
    const g = f.local(i32), c = f.local(i32), xs = f.local(i32), ys = f.local(i32), pst = f.local(i32), ost = f.local(i32), wc = f.local(i32), cB = f.local(i32);
    const r = f.local(i32), col = f.local(i32), d = f.local(i32), s = f.local(i32), t = f.local(i32), q = f.local(i32), inner = f.local(i32);
    const oy = f.local(i32), ox = f.local(i32), r0 = f.local(i32), i0 = f.local(i32), i1 = f.local(i32), j0 = f.local(i32), j1 = f.local(i32), i = f.local(i32), j = f.local(i32);
    const xrow = f.local(i32), wrow = f.local(i32), xa = f.local(i32), wa = f.local(i32), left = f.local(i32);
    const acc = [0, 1, 2, 3].map(() => f.local(v128));
    const wv = f.local(v128);
    zero(f, sp, padB, q);
    f.get(P.H).get(P.W).op(OP.i32_mul).i32c(2).op(OP.i32_shl).set(pst);
    f.get(P.OH).get(P.OW).op(OP.i32_mul).i32c(2).op(OP.i32_shl).set(ost);
    f.get(P.C).i32c(2).op(OP.i32_shl).set(cB);
    // interior of the padded scratch
    f.get(sp).get(P.ph).get(rowB).op(OP.i32_mul).op(OP.i32_add).get(P.pw).i32c(4).op(OP.i32_shl).op(OP.i32_add).set(inner);
    f.for(g, () => f.get(g0), g1, 1, () => {
      f.get(g).i32c(2).op(OP.i32_shl).get(P.C).op(OP.i32_rem_u).set(c);
      f.get(P.x).get(g).i32c(2).op(OP.i32_shl).get(pst).op(OP.i32_mul).op(OP.i32_add).set(xs);
      f.get(P.y).get(g).i32c(2).op(OP.i32_shl).get(ost).op(OP.i32_mul).op(OP.i32_add).set(ys);
      f.get(P.wt).get(c).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(wc);
      interleave(f, xs, pst, P.H, P.W, inner, rowB, r, col, d, s);
      f.for(oy, () => f.i32c(0), P.OH, 1, () => {
        f.get(oy).get(P.sh).op(OP.i32_mul).set(r0);
        imax(f, t, () => f.i32c(0), () => f.get(P.ph).get(r0).op(OP.i32_sub), i0);
        imin(f, t, () => f.i32c(KH), () => f.get(P.ph).get(P.H).op(OP.i32_add).get(r0).op(OP.i32_sub), i1);
        const block = (B: number) => {
          // kernel columns that reach the map for some output of the block
          imax(f, t, () => f.i32c(0), () => f.get(P.pw).get(ox).op(OP.i32_sub).i32c(B - 1).op(OP.i32_sub), j0);
          imin(f, t, () => f.i32c(KW), () => f.get(P.pw).get(P.W).op(OP.i32_add).get(ox).op(OP.i32_sub), j1);
          for (let k = 0; k < B; k++) f.f32x4c(0).set(acc[k]!);
          f.for(i, () => f.get(i0), i1, 1, () => {
            f.get(sp).get(r0).get(i).op(OP.i32_add).get(rowB).op(OP.i32_mul).op(OP.i32_add).get(ox).i32c(4).op(OP.i32_shl).op(OP.i32_add).set(xrow);
            f.get(wc).get(i).i32c(KW).op(OP.i32_mul).get(cB).op(OP.i32_mul).op(OP.i32_add).set(wrow);
            f.get(xrow).get(j0).i32c(4).op(OP.i32_shl).op(OP.i32_add).set(xa);
            f.get(wrow).get(j0).get(cB).op(OP.i32_mul).op(OP.i32_add).set(wa);
            f.for(j, () => f.get(j0), j1, 1, () => {
              f.get(wa).vload().set(wv);
              for (let k = 0; k < B; k++) {
                f.madd(relaxed, () => f.get(xa).vload(k * 16), () => f.get(wv), () => f.get(acc[k]!)).set(acc[k]!);
              }
              f.addTo(xa, 16).addTo(wa, cB);
            });
          });
          // de-interleave: lane l of acc[k] is plane 4g+l at (oy, ox+k)
          f.get(ys).get(oy).get(P.OW).op(OP.i32_mul).get(ox).op(OP.i32_add).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(d);
          for (let l = 0; l < 4; l++) {
            for (let k = 0; k < B; k++) f.get(d).get(acc[k]!).lane(SIMD.f32x4_extract_lane, l).mem(OP.f32_store, 2, k * 4);
            if (l < 3) f.get(d).get(ost).op(OP.i32_add).set(d);
          }
        };
        f.i32c(0).set(ox);
        f.block(() => {
          f.loop(() => {
            f.get(P.OW).get(ox).op(OP.i32_sub).tee(left).i32c(4).op(OP.i32_ge_s);
            f.if(
              () => block(4),
              () => {
                f.get(left).i32c(3).op(OP.i32_eq);
                f.if(
                  () => block(3),
                  () => {
                    f.get(left).i32c(2).op(OP.i32_eq);
                    f.if(
                      () => block(2),
                      () => {
                        f.get(left).i32c(1).op(OP.i32_eq);
                        f.if(() => block(1));
                      },
                    );
                  },
                );
              },
            );
            f.addTo(ox, 4);
            f.get(ox).get(P.OW).op(OP.i32_lt_s).brIf(0);
          });
        });
      });
    });
  }

  {
    const f = m.fn('bwdw4', [...params4]);
    // x in P.x, gy in P.y, gw ([C, KH*KW]) in P.w; stride 1
    const [params, sp, g0, g1] = f.params as Local[];
    const P = loadParams(f, params);
    const { rowB, padB } = prologue(f, P);
    const g = f.local(i32), c = f.local(i32), n = f.local(i32), xs = f.local(i32), gs = f.local(i32), pst = f.local(i32), ost = f.local(i32), accs = f.local(i32), gys = f.local(i32), owB = f.local(i32);
    const r = f.local(i32), col = f.local(i32), d = f.local(i32), s = f.local(i32), t = f.local(i32), q = f.local(i32), inner = f.local(i32), kkB = f.local(i32);
    const oy = f.local(i32), ox = f.local(i32), oy0 = f.local(i32), oy1 = f.local(i32), ox0 = f.local(i32), ox1 = f.local(i32), i = f.local(i32), j = f.local(i32), ga = f.local(i32), xa = f.local(i32), cnt = f.local(i32);
    const a = f.local(v128), b = f.local(v128);
    zero(f, sp, padB, q);
    f.get(sp).get(padB).op(OP.i32_add).set(accs);
    f.i32c(KK * 16).set(kkB);
    f.get(accs).get(kkB).op(OP.i32_add).set(gys);
    f.get(P.H).get(P.W).op(OP.i32_mul).i32c(2).op(OP.i32_shl).set(pst);
    f.get(P.OH).get(P.OW).op(OP.i32_mul).i32c(2).op(OP.i32_shl).set(ost);
    f.get(P.OW).i32c(4).op(OP.i32_shl).set(owB);
    f.get(sp).get(P.ph).get(rowB).op(OP.i32_mul).op(OP.i32_add).get(P.pw).i32c(4).op(OP.i32_shl).op(OP.i32_add).set(inner);
    f.for(g, () => f.get(g0), g1, 1, () => {
      f.get(g).i32c(2).op(OP.i32_shl).set(c);
      zero(f, accs, kkB, q);
      f.for(n, () => f.i32c(0), P.N, 1, () => {
        // planes n*C + c .. +3
        f.get(P.x).get(n).get(P.C).op(OP.i32_mul).get(c).op(OP.i32_add).get(pst).op(OP.i32_mul).op(OP.i32_add).set(xs);
        f.get(P.y).get(n).get(P.C).op(OP.i32_mul).get(c).op(OP.i32_add).get(ost).op(OP.i32_mul).op(OP.i32_add).set(gs);
        interleave(f, xs, pst, P.H, P.W, inner, rowB, r, col, d, s);
        interleave(f, gs, ost, P.OH, P.OW, gys, owB, r, col, d, s);
        f.for(i, () => f.i32c(0), () => f.i32c(KH), 1, () => {
          // output rows whose tap row i lands inside the map
          imax(f, t, () => f.i32c(0), () => f.get(P.ph).get(i).op(OP.i32_sub), oy0);
          imin(f, t, () => f.get(P.OH), () => f.get(P.ph).get(P.H).op(OP.i32_add).get(i).op(OP.i32_sub), oy1);
          f.for(j, () => f.i32c(0), () => f.i32c(KW), 1, () => {
            imax(f, t, () => f.i32c(0), () => f.get(P.pw).get(j).op(OP.i32_sub), ox0);
            imin(f, t, () => f.get(P.OW), () => f.get(P.pw).get(P.W).op(OP.i32_add).get(j).op(OP.i32_sub), ox1);
            f.get(ox1).get(ox0).op(OP.i32_sub).set(cnt);
            f.f32x4c(0).set(a);
            f.f32x4c(0).set(b);
            f.for(oy, () => f.get(oy0), oy1, 1, () => {
              f.get(gys).get(oy).get(owB).op(OP.i32_mul).op(OP.i32_add).get(ox0).i32c(4).op(OP.i32_shl).op(OP.i32_add).set(ga);
              f.get(sp).get(oy).get(i).op(OP.i32_add).get(rowB).op(OP.i32_mul).op(OP.i32_add).get(ox0).get(j).op(OP.i32_add).i32c(4).op(OP.i32_shl).op(OP.i32_add).set(xa);
              // two accumulators, for two multiply-adds in flight
              f.i32c(0).set(ox);
              f.for(ox, () => f.i32c(0), () => f.get(cnt).i32c(1).op(OP.i32_sub), 2, () => {
                f.madd(relaxed, () => f.get(ga).vload(), () => f.get(xa).vload(), () => f.get(a)).set(a);
                f.madd(relaxed, () => f.get(ga).vload(16), () => f.get(xa).vload(16), () => f.get(b)).set(b);
                f.addTo(ga, 32).addTo(xa, 32);
              });
              f.get(ox).get(cnt).op(OP.i32_lt_s);
              f.if(() => {
                f.madd(relaxed, () => f.get(ga).vload(), () => f.get(xa).vload(), () => f.get(a)).set(a);
              });
            });
            // accs[i*KW + j] += a + b
            f.get(accs).get(i).i32c(KW).op(OP.i32_mul).get(j).op(OP.i32_add).i32c(4).op(OP.i32_shl).op(OP.i32_add).set(t);
            f.get(t).get(t).vload().get(a).get(b).simd(SIMD.f32x4_add).simd(SIMD.f32x4_add).vstore();
          });
        });
      });
      // gw[c + l][t] = lane l of accs[t]
      f.get(P.w).get(c).i32c(KK * 4).op(OP.i32_mul).op(OP.i32_add).set(d);
      f.get(accs).set(s);
      f.for(q, () => f.i32c(0), () => f.i32c(KK), 1, () => {
        f.get(s).vload().set(a);
        for (let l = 0; l < 4; l++) f.get(d).get(a).lane(SIMD.f32x4_extract_lane, l).mem(OP.f32_store, 2, l * KK * 4);
        f.addTo(d, 4).addTo(s, 16);
      });
    });
  }
}
