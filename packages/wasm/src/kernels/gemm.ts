/**
 * SGEMM: `C = A B` (or `C += A B`) for float32 with any strides on A and B and a contiguous
 * C. GotoBLAS structure, all in one generated wasm function so that helper threads can run
 * it: blocks of NC columns and KC depth; B packed into panels of 8 columns, A into panels
 * of MR rows (both zero-padded, packed straight from strided views, so transposed operands
 * cost no copy); a register-blocked MR x 8 SIMD128 microkernel (2*MR f32x4 accumulators),
 * unrolled twice along K. A list of (A, B, C) addresses makes it batched; threads split
 * either the list or the columns.
 */
import { type Fn, i32, type Local, type ModuleBuilder, OP, SIMD, v128 } from '../emitter.js';
import type { Kernel, Runtime } from '../runtime.js';
import { EPI, emitEpilogueStore, epilogueKey, type EpilogueSpec } from './epilogue.js';

/** Blocking parameters. */
export interface GemmBlocking {
  /** Rows per microkernel tile. */
  readonly MR: number;
  /** Depth per packed block. */
  readonly KC: number;
  /** Rows per packed A block (a multiple of MR). */
  readonly MC: number;
  /** Columns per packed B block (a multiple of 8). */
  readonly NC: number;
  /**
   * Load each A value with `load32_splat` at each of its two uses instead of keeping the
   * splat in a register: one register fewer (V8 keeps xmm15 as scratch, so 6x8 fits in the
   * remaining 15 only this way), at the cost of loads, which are not the bottleneck.
   */
  readonly reloadA?: boolean;
  /** K-steps per loop iteration (default 1: V8 hoists the loads of unrolled steps and spills). */
  readonly unroll?: number;
}

/** The defaults, tuned on one Zen 4 core: a 4x8 tile (8 accumulators + 2 B + 1 A + 1 product fit the 15 xmm registers V8 allocates, with room for its address temporaries), no unrolling. */
export const DEFAULT_BLOCKING: GemmBlocking = { MR: 4, KC: 256, MC: 96, NC: 1024, unroll: 1 };

const NR = 8;

function min(f: Fn, a: () => void, b: () => void, out: Local): void {
  a();
  b();
  a();
  b();
  f.op(OP.i32_lt_s);
  f.op(OP.select);
  f.set(out);
}

/**
 * `run(list, i0, i1, M, N, K, am, ak, bk, bn, scratch, n0, n1, acc)`: for list entries
 * `i0 <= i < i1` (each three i32 byte addresses A, B, C), computes columns `[n0, n1)` of
 * `C = A B` (`C += A B` when `acc` is 1). Strides are in bytes; C's rows are `N` floats.
 * `scratch` holds the packed panels: see {@link gemmScratchBytes}.
 */
export function buildGemm(m: ModuleBuilder, blk: GemmBlocking, relaxed: boolean, ep?: EpilogueSpec): void {
  const { MR, KC, MC, NC } = blk;
  // With an epilogue, a 15th parameter: the address of its parameter block (./epilogue.ts).
  const f = m.fn('run', new Array(ep ? 15 : 14).fill(i32));
  const [list, i0, i1, M, N, K, am, ak, bk, bn, scratch, n0, n1, accFlag, epi] = f.params as Local[];
  const L = () => f.local(i32);
  const bi = L(), aP = L(), bP = L(), cP = L(), jc = L(), ncur = L(), pc = L(), kc = L(), ic = L(), mc = L();
  const jr = L(), ir = L(), ap = L(), bp = L(), k = L(), nr = L(), mr = L(), src = L(), dst = L(), jp = L(), cols = L();
  const rows = L(), ii = L(), jj = L(), cAddr = L(), ldc = L(), apBase = L(), bpBase = L(), tile = L(), first = L(), kEnd = L();
  const rowOff = Array.from({ length: MR }, () => L());
  const acc = Array.from({ length: MR * 2 }, () => f.local(v128));
  const b0 = f.local(v128), b1 = f.local(v128), av = f.local(v128);
  const tr = Array.from({ length: 8 }, () => f.local(v128));
  const tt = Array.from({ length: 4 }, () => f.local(v128));
  const k4 = f.local(i32);

  const mcPad = Math.ceil(MC / MR) * MR;
  f.get(scratch).set(apBase);
  f.get(scratch).i32c(mcPad * KC * 4).op(OP.i32_add).set(bpBase);
  f.get(bpBase).i32c(KC * NC * 4).op(OP.i32_add).set(tile);
  f.get(N).i32c(2).op(OP.i32_shl).set(ldc);

  // Full 8-column panels with unit column stride copy two vectors per k; the rest go lane by lane.
  const packB2 = () => {
    f.for(jp, () => f.i32c(0), ncur, NR, () => {
      f.get(bpBase).get(jp).get(kc).op(OP.i32_mul).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(dst);
      f.get(bP).get(pc).get(bk).op(OP.i32_mul).op(OP.i32_add).get(jc).get(jp).op(OP.i32_add).get(bn).op(OP.i32_mul).op(OP.i32_add).set(src);
      min(f, () => f.i32c(NR), () => f.get(ncur).get(jp).op(OP.i32_sub), cols);
      f.get(cols).i32c(NR).op(OP.i32_eq).get(bn).i32c(4).op(OP.i32_eq).op(OP.i32_and);
      f.if(
        () => {
          f.for(k, () => f.i32c(0), kc, 1, () => {
            f.get(dst).get(src).vload(0).vstore(0);
            f.get(dst).get(src).vload(16).vstore(16);
            f.addTo(dst, 32).addTo(src, bk);
          });
        },
        () => {
          // Full panels of B stored transposed (unit stride along k): 4x4 transposes by shuffles.
          f.i32c(0).set(k4);
          f.get(cols).i32c(NR).op(OP.i32_eq).get(bk).i32c(4).op(OP.i32_eq).op(OP.i32_and);
          f.if(() => {
            f.get(kc).i32c(-4).op(OP.i32_and).set(k4);
            f.for(k, () => f.i32c(0), k4, 4, () => {
              for (let j = 0; j < NR; j++) f.get(src).get(bn).i32c(j).op(OP.i32_mul).op(OP.i32_add).vload().set(tr[j]!);
              for (let h = 0; h < 2; h++) {
                const r = tr.slice(4 * h, 4 * h + 4);
                f.get(r[0]!).get(r[1]!).shuffle32(0, 4, 1, 5).set(tt[0]!);
                f.get(r[0]!).get(r[1]!).shuffle32(2, 6, 3, 7).set(tt[1]!);
                f.get(r[2]!).get(r[3]!).shuffle32(0, 4, 1, 5).set(tt[2]!);
                f.get(r[2]!).get(r[3]!).shuffle32(2, 6, 3, 7).set(tt[3]!);
                f.get(dst).get(tt[0]!).get(tt[2]!).shuffle32(0, 1, 4, 5).vstore(h * 16);
                f.get(dst).get(tt[0]!).get(tt[2]!).shuffle32(2, 3, 6, 7).vstore(32 + h * 16);
                f.get(dst).get(tt[1]!).get(tt[3]!).shuffle32(0, 1, 4, 5).vstore(64 + h * 16);
                f.get(dst).get(tt[1]!).get(tt[3]!).shuffle32(2, 3, 6, 7).vstore(96 + h * 16);
              }
              f.addTo(dst, 128).addTo(src, 16);
            });
          });
          f.for(k, () => f.get(k4), kc, 1, () => {
            f.get(dst).f32x4c(0).vstore(0);
            f.get(dst).f32x4c(0).vstore(16);
            f.for(jj, () => f.i32c(0), cols, 1, () => {
              f.get(dst).get(jj).i32c(2).op(OP.i32_shl).op(OP.i32_add);
              f.get(src).get(jj).get(bn).op(OP.i32_mul).op(OP.i32_add).mem(OP.f32_load, 2);
              f.mem(OP.f32_store, 2);
            });
            f.addTo(dst, 32).addTo(src, bk);
          });
        },
      );
    });
  };

  const packA = () => {
    for (let r = 0; r < MR; r++) f.get(am).i32c(r).op(OP.i32_mul).set(rowOff[r]!);
    f.for(jp, () => f.i32c(0), mc, MR, () => {
      f.get(apBase).get(jp).get(kc).op(OP.i32_mul).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(dst);
      f.get(aP).get(ic).get(jp).op(OP.i32_add).get(am).op(OP.i32_mul).op(OP.i32_add).get(pc).get(ak).op(OP.i32_mul).op(OP.i32_add).set(src);
      min(f, () => f.i32c(MR), () => f.get(mc).get(jp).op(OP.i32_sub), rows);
      f.get(rows).i32c(MR).op(OP.i32_eq);
      f.if(
        () => {
          f.for(k, () => f.i32c(0), kc, 1, () => {
            for (let r = 0; r < MR; r++) {
              f.get(dst);
              f.get(src).get(rowOff[r]!).op(OP.i32_add).mem(OP.f32_load, 2);
              f.mem(OP.f32_store, 2, r * 4);
            }
            f.addTo(dst, MR * 4).addTo(src, ak);
          });
        },
        () => {
          f.for(k, () => f.i32c(0), kc, 1, () => {
            for (let r = 0; r < MR; r++) {
              f.get(dst).f32c(0).mem(OP.f32_store, 2, r * 4);
            }
            f.for(ii, () => f.i32c(0), rows, 1, () => {
              f.get(dst).get(ii).i32c(2).op(OP.i32_shl).op(OP.i32_add);
              f.get(src).get(ii).get(am).op(OP.i32_mul).op(OP.i32_add).mem(OP.f32_load, 2);
              f.mem(OP.f32_store, 2);
            });
            f.addTo(dst, MR * 4).addTo(src, ak);
          });
        },
      );
    });
  };

  const kstep = () => {
    f.get(bp).vload(0).set(b0);
    f.get(bp).vload(16).set(b1);
    for (let r = 0; r < MR; r++) {
      if (blk.reloadA) {
        f.madd(relaxed, () => f.get(ap).vsplatLoad(r * 4), () => f.get(b0), () => f.get(acc[2 * r]!)).set(acc[2 * r]!);
        f.madd(relaxed, () => f.get(ap).vsplatLoad(r * 4), () => f.get(b1), () => f.get(acc[2 * r + 1]!)).set(acc[2 * r + 1]!);
        continue;
      }
      f.get(ap).vsplatLoad(r * 4).set(av);
      f.madd(relaxed, () => f.get(av), () => f.get(b0), () => f.get(acc[2 * r]!)).set(acc[2 * r]!);
      f.madd(relaxed, () => f.get(av), () => f.get(b1), () => f.get(acc[2 * r + 1]!)).set(acc[2 * r + 1]!);
    }
    f.addTo(ap, MR * 4).addTo(bp, 32);
  };

  const micro = () => {
    for (const a of acc) f.f32x4c(0).set(a);
    const U = blk.unroll ?? 1;
    if (U === 1) f.for(k, () => f.i32c(0), kc, 1, kstep);
    else {
      // U k-steps per iteration, then the rest one by one.
      f.get(kc).get(kc).i32c(U).op(OP.i32_rem_u).op(OP.i32_sub).set(kEnd);
      f.for(k, () => f.i32c(0), kEnd, U, () => {
        for (let u = 0; u < U; u++) kstep();
      });
      f.for(k, () => f.get(kEnd), kc, 1, kstep);
    }
    if (ep) {
      emitEpilogueStore(
        {
          f, MR, acc, tile, cP, epi: epi!, mr, nr, first,
          row0: () => f.get(ic).get(ir).op(OP.i32_add),
          col0: () => f.get(jc).get(jr).op(OP.i32_add),
          last: () => f.get(pc).get(kc).op(OP.i32_add).get(K).op(OP.i32_ge_s),
        },
        ep,
      );
      return;
    }
    // Store.
    f.get(mr).i32c(MR).op(OP.i32_eq).get(nr).i32c(NR).op(OP.i32_eq).op(OP.i32_and);
    f.if(
      () => {
        const storeRows = (add: boolean) => {
          for (let r = 0; r < MR; r++) {
            for (let h = 0; h < 2; h++) {
              f.get(cAddr).get(ldc).i32c(r).op(OP.i32_mul).op(OP.i32_add).set(dst);
              f.get(dst);
              if (add) f.get(dst).vload(h * 16).get(acc[2 * r + h]!).simd(SIMD.f32x4_add);
              else f.get(acc[2 * r + h]!);
              f.vstore(h * 16);
            }
          }
        };
        f.get(first);
        f.if(
          () => storeRows(false),
          () => storeRows(true),
        );
      },
      () => {
        for (let r = 0; r < MR; r++) {
          f.get(tile).get(acc[2 * r]!).vstore(r * 32);
          f.get(tile).get(acc[2 * r + 1]!).vstore(r * 32 + 16);
        }
        f.for(ii, () => f.i32c(0), mr, 1, () => {
          f.for(jj, () => f.i32c(0), nr, 1, () => {
            // c[ii*ldc + jj*4] = (first ? 0 : c) + tile[ii*8 + jj]
            f.get(cAddr).get(ii).get(ldc).op(OP.i32_mul).op(OP.i32_add).get(jj).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(dst);
            f.get(dst);
            f.get(tile).get(ii).i32c(5).op(OP.i32_shl).op(OP.i32_add).get(jj).i32c(2).op(OP.i32_shl).op(OP.i32_add).mem(OP.f32_load, 2);
            f.f32c(0);
            f.get(dst).mem(OP.f32_load, 2);
            f.get(first).op(OP.select);
            f.op(OP.f32_add);
            f.mem(OP.f32_store, 2);
          });
        });
      },
    );
  };

  f.for(bi, () => f.get(i0), i1, 1, () => {
    f.get(list).get(bi).i32c(12).op(OP.i32_mul).op(OP.i32_add).set(src);
    f.get(src).mem(OP.i32_load, 2, 0).set(aP);
    f.get(src).mem(OP.i32_load, 2, 4).set(bP);
    f.get(src).mem(OP.i32_load, 2, 8).set(cP);
    f.for(jc, () => f.get(n0), n1, NC, () => {
      min(f, () => f.i32c(NC), () => f.get(n1).get(jc).op(OP.i32_sub), ncur);
      f.for(pc, () => f.i32c(0), K, KC, () => {
        min(f, () => f.i32c(KC), () => f.get(K).get(pc).op(OP.i32_sub), kc);
        // first = pc == 0 && !acc
        f.get(pc).op(OP.i32_eqz).get(accFlag).op(OP.i32_eqz).op(OP.i32_and).set(first);
        packB2();
        f.for(ic, () => f.i32c(0), M, MC, () => {
          min(f, () => f.i32c(MC), () => f.get(M).get(ic).op(OP.i32_sub), mc);
          packA();
          f.for(jr, () => f.i32c(0), ncur, NR, () => {
            min(f, () => f.i32c(NR), () => f.get(ncur).get(jr).op(OP.i32_sub), nr);
            f.for(ir, () => f.i32c(0), mc, MR, () => {
              min(f, () => f.i32c(MR), () => f.get(mc).get(ir).op(OP.i32_sub), mr);
              f.get(apBase).get(ir).get(kc).op(OP.i32_mul).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(ap);
              f.get(bpBase).get(jr).get(kc).op(OP.i32_mul).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(bp);
              f.get(cP).get(ic).get(ir).op(OP.i32_add).get(ldc).op(OP.i32_mul).op(OP.i32_add).get(jc).get(jr).op(OP.i32_add).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(cAddr);
              micro();
            });
          });
        });
      });
    });
  });
}

/** Scratch bytes one thread needs for {@link buildGemm}. */
export function gemmScratchBytes(blk: GemmBlocking): number {
  const mcPad = Math.ceil(blk.MC / blk.MR) * blk.MR;
  // The tile: MR x 8 values, room for an epilogue's transposed tile and pre values, its row addresses.
  return mcPad * blk.KC * 4 + blk.KC * blk.NC * 4 + Math.max(2 * blk.MR * NR * 4, 256) + 3 * blk.MR * 4 + 64;
}

/** Dimensions and byte strides of one GEMM (C is contiguous `[M, N]`). */
export interface GemmDims {
  readonly M: number;
  readonly N: number;
  readonly K: number;
  readonly am: number;
  readonly ak: number;
  readonly bk: number;
  readonly bn: number;
}

/** The GEMM driver: builds the kernel, lays out the batch list, splits work over threads. */
export class Gemm {
  blocking: GemmBlocking = DEFAULT_BLOCKING;
  /** Use relaxed madd when the runtime allows (tests flip this to cover both paths). */
  relaxed: boolean;

  constructor(readonly rt: Runtime) {
    this.relaxed = rt.relaxed;
  }

  kernel(): Kernel {
    const b = this.blocking;
    const relaxed = this.relaxed && this.rt.relaxed;
    return this.rt.kernel(`gemm|${b.MR}|${b.KC}|${b.MC}|${b.NC}|${b.reloadA ?? false}|${b.unroll ?? 1}|t|${relaxed}`, (m) => buildGemm(m, b, relaxed));
  }

  /**
   * `C_i = A_i B_i` for each i (C_i at `c + i*M*N*4`), or, with `accumulate`, one
   * `C += sum_i A_i B_i` into `c` (the list then shares C and only columns are split).
   */
  batched(aPtrs: readonly number[], bPtrs: readonly number[], c: number, d: GemmDims, accumulate = false, cStep = d.M * d.N * 4): void {
    const n = aPtrs.length;
    if (n === 0 || d.M === 0 || d.N === 0) return;
    const k = this.kernel();
    const threads = this.rt.threads;
    const flops = 2 * d.M * d.N * d.K * n;
    const worth = this.rt.worth(flops / 64);
    const rows = worth ? this.rowRanges(d, n) : null;
    // One list entry per (row range, product): a row range is the same GEMM on the rows
    // [r0, r1) of A and C, so its entries are the addresses moved down r0 rows.
    const parts = rows ?? [[0, d.M] as [number, number]];
    const listBlock = this.rt.arena.alloc(parts.length * n * 12);
    const i32 = this.rt.heap.i32;
    parts.forEach(([r0], r) => {
      for (let i = 0; i < n; i++) {
        const e = listBlock.ptr / 4 + (r * n + i) * 3;
        i32[e] = aPtrs[i]! + r0 * d.am;
        i32[e + 1] = bPtrs[i]!;
        i32[e + 2] = (accumulate ? c : c + i * cStep) + r0 * d.N * 4;
      }
    });
    const scratch = { arg: 10, ptrs: this.rt.scratchFor(gemmScratchBytes(this.blocking)) };
    const job = (i0: number, i1: number, m: number, n0: number, n1: number, acc: number) => [listBlock.ptr, i0, i1, m, d.N, d.K, d.am, d.ak, d.bk, d.bn, 0, n0, n1, acc];
    if (rows) {
      // Chunks own disjoint rows of every C; with `accumulate`, entry 0 stores, then the rest accumulate.
      const m = (r: number) => rows[r]![1] - rows[r]![0];
      if (!accumulate) this.rt.parallel(k, 'run', rows.map((_, r) => job(r * n, r * n + n, m(r), 0, d.N, 0)), scratch);
      else {
        this.rt.parallel(k, 'run', rows.map((_, r) => job(r * n, r * n + 1, m(r), 0, d.N, 0)), scratch);
        if (n > 1) this.rt.parallel(k, 'run', rows.map((_, r) => job(r * n + 1, r * n + n, m(r), 0, d.N, 1)), scratch);
      }
    } else {
      // Column ranges (multiples of the panel width), or, for many independent products, ranges of the list.
      const cols = worth ? this.rt.ranges(d.N, NR) : [[0, d.N] as [number, number]];
      if (accumulate) {
        // Entry 0 stores, the rest accumulate; chunks own disjoint columns of the shared C.
        this.rt.parallel(k, 'run', cols.map(([s, e]) => job(0, 1, d.M, s, e, 0)), scratch);
        if (n > 1) this.rt.parallel(k, 'run', cols.map(([s, e]) => job(1, n, d.M, s, e, 1)), scratch);
      } else if (worth && n >= threads * 2) {
        this.rt.parallel(k, 'run', this.rt.ranges(n).map(([s, e]) => job(s, e, d.M, 0, d.N, 0)), scratch);
      } else {
        this.rt.parallel(k, 'run', cols.map(([s, e]) => job(0, n, d.M, s, e, 0)), scratch);
      }
    }
    this.rt.arena.release(listBlock);
  }

  /** Row ranges for `n` products of `d` (see {@link gemmRowRanges}); null: split columns or the list. */
  rowRanges(d: GemmDims, n: number): [number, number][] | null {
    return n >= this.rt.threads * 2 ? null : gemmRowRanges(this.rt, this.blocking.MR, d, this.blocking.MR);
  }

  /** `C = residual + scale * act(A B + bias)`: one GEMM with an epilogue (see {@link EpilogueCall}). */
  epilogue(a: number, b: number, c: number, d: GemmDims, e: EpilogueCall): void {
    gemmEpilogue(this, a, b, c, d, e);
  }
}

/** Operands of one epilogue GEMM (byte addresses and byte strides). */
export interface EpilogueCall {
  /** Which steps (compile-time). */
  readonly spec: EpilogueSpec;
  /** Rows per group of the output's `[G, P]` row numbering (`M` for one plain matrix). */
  readonly P: number;
  /** Output (and pre) strides: group, row in group, column. */
  readonly cs: readonly [number, number, number];
  /** Per-column bias and scale (contiguous float32), when the spec has them. */
  readonly bias?: number;
  readonly scale?: number;
  /** Residual address and strides (group, row in group, column). */
  readonly residual?: { readonly ptr: number; readonly st: readonly [number, number, number] };
  /** Where pre values go (laid out as the output). */
  readonly pre?: number;
}

/**
 * Row ranges (multiples of `quantum`, at least the tile height `MR`) for a product too
 * narrow to split well by columns: fewer than four 8-column panels per thread leaves
 * threads idle or unbalanced (a 24-column C has three), and each column chunk packs all of
 * A again, so rows win for those and for any product with eight times more rows than
 * columns. Null when the columns split well or there are too few rows.
 */
function gemmRowRanges(rt: Runtime, MR: number, d: GemmDims, quantum: number): [number, number][] | null {
  const threads = rt.threads;
  if (Math.ceil(d.N / NR) >= threads * 4 && d.M < 8 * d.N) return null;
  if (d.M < threads * 2 * MR || d.M / quantum < threads * 2) return null;
  return rt.ranges(d.M, quantum, quantum, rt.chunksPerThread((d.M * d.N) / 16));
}

/**
 * `out = residual + scale * act(A B + bias)` (see ./epilogue.ts) for one `[M, K] @ [K, N]`
 * (K > 0) into `c` laid out by `e.cs`, split across threads by rows (tall, narrow products)
 * or by columns.
 */
function gemmEpilogue(g: Gemm, a: number, b: number, c: number, d: GemmDims, e: EpilogueCall): void {
  if (d.M === 0 || d.N === 0) return;
  if (d.K === 0) throw new RangeError('gemmEpilogue: K must be positive');
  const rt = g.rt;
  const blk = g.blocking;
  const relaxed = g.relaxed && rt.relaxed;
  const key = `gemm|${blk.MR}|${blk.KC}|${blk.MC}|${blk.NC}|${blk.reloadA ?? false}|${blk.unroll ?? 1}|e${epilogueKey(e.spec)}|${relaxed}`;
  const k = rt.kernel(key, (m) => buildGemm(m, blk, relaxed, e.spec));
  // Per chunk of rows a parameter block and a list entry; then the bias and scale with 8
  // zero floats of padding (whole vectors are read at the edge), shared by all chunks.
  const flops = 2 * d.M * d.N * d.K;
  const worth = rt.worth(flops / 64);
  // Whole groups of P rows, unless all rows are one group.
  const rows = worth ? gemmRowRanges(rt, blk.MR, d, e.P >= d.M ? blk.MR : e.P) : null;
  const parts = rows ?? [[0, d.M] as [number, number]];
  const per = EPI.bytes + 16;
  const vecBytes = (d.N + 8) * 4;
  const block = rt.arena.alloc(parts.length * per + 2 * vecBytes);
  const vecs = block.ptr + parts.length * per;
  const i32 = rt.heap.i32;
  const f32 = rt.heap.f32;
  const vec = (slot: number, src: number | undefined) => {
    const dst = vecs + slot * vecBytes;
    if (src === undefined) return dst;
    f32.copyWithin(dst >>> 2, src >>> 2, (src >>> 2) + d.N);
    f32.fill(0, (dst >>> 2) + d.N, (dst >>> 2) + d.N + 8);
    return dst;
  };
  const bias = vec(0, e.bias);
  const scale = vec(1, e.scale);
  // Row r0 starts a whole group ([G, P] numbering), or lies in the only one: its offset is
  // r0 / P groups and r0 % P rows, and the chunk's own rows number from 0 as the kernel expects.
  const shift = (r0: number, st: readonly [number, number, number]) => Math.floor(r0 / e.P) * st[0] + (r0 % e.P) * st[1];
  const jobs = parts.map(([r0, r1], r) => {
    const epi = block.ptr + r * per;
    const list = epi + EPI.bytes;
    const at = (off: number, v: number) => (i32[(epi + off) >>> 2] = v);
    at(EPI.P, e.P);
    at(EPI.cs0, e.cs[0]);
    at(EPI.cs1, e.cs[1]);
    at(EPI.cs2, e.cs[2]);
    at(EPI.rs0, e.residual?.st[0] ?? 0);
    at(EPI.rs1, e.residual?.st[1] ?? 0);
    at(EPI.rs2, e.residual?.st[2] ?? 0);
    at(EPI.res, e.residual ? e.residual.ptr + shift(r0, e.residual.st) : 0);
    at(EPI.pre, e.pre !== undefined ? e.pre + shift(r0, e.cs) : 0);
    at(EPI.bias, bias);
    at(EPI.scale, scale);
    i32[list >>> 2] = a + r0 * d.am;
    i32[(list >>> 2) + 1] = b;
    i32[(list >>> 2) + 2] = c + shift(r0, e.cs);
    return { list, epi, m: r1 - r0 };
  });
  const scratch = { arg: 10, ptrs: rt.scratchFor(gemmScratchBytes(blk)) };
  if (rows) {
    rt.parallel(k, 'run', jobs.map((j) => [j.list, 0, 1, j.m, d.N, d.K, d.am, d.ak, d.bk, d.bn, 0, 0, d.N, 0, j.epi]), scratch);
  } else {
    const j = jobs[0]!;
    const cols = worth ? rt.ranges(d.N, NR) : [[0, d.N] as [number, number]];
    rt.parallel(k, 'run', cols.map(([s, t]) => [j.list, 0, 1, d.M, d.N, d.K, d.am, d.ak, d.bk, d.bn, 0, s, t, 0, j.epi]), scratch);
  }
  rt.arena.release(block);
}
