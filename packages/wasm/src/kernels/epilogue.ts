/**
 * The GEMM epilogue: what the SGEMM of ./gemm.ts does with a finished register tile when
 * it runs as a fused linear layer, `out = residual + scale * act(A B + bias)` (bias and
 * scale per column, act GELU in the erf or tanh form), optionally also storing for the
 * backward pass the pre-activation `pre = A B + bias`, or the GELU's derivative at it
 * (computed from the erf and exp the GELU already has: the backward pass then multiplies,
 * with the same bits as the GELU backward kernel, instead of evaluating the GELU again).
 * Every step is the same float32 operation, in the same order, as the composed kernels
 * (matmul, add, the GELU kernel of ./rows.ts, mul, add), so the fused result equals the
 * composed one bit for bit.
 *
 * The output (and `pre`, and the residual, each with its own strides) is addressed by rows
 * grouped as `[G, P]` (row `m` is `(m / P, m % P)`) and columns: a contiguous `[M, N]` is
 * `P = M`, and channels-first `[G, N, P]` (an NCHW image's pixels as rows, its channels as
 * columns) is row stride 4 and column stride `4P`. The tile is stored along rows of 8
 * columns (unit column stride), along columns of 4 rows (unit row stride, four rows of one
 * group: the 4x8 tile is transposed by shuffles), or element by element (any other case,
 * and the edges).
 */
import { f32, type Fn, i32, type Local, OP, SIMD, v128 } from '../emitter.js';
import { emitGeluParts, type GeluRegs, pushGelu, pushGeluGrad } from './rows.js';

/** Which epilogue steps a kernel has (each combination is its own kernel). */
export interface EpilogueSpec {
  /** Adds a per-column bias. */
  readonly bias: boolean;
  /** The activation after the bias. */
  readonly act: 'none' | 'gelu' | 'gelu_tanh';
  /** Multiplies by a per-column scale after the activation. */
  readonly scale: boolean;
  /** Adds a residual (any strides) last. */
  readonly residual: boolean;
  /** Also stores `A B + bias` (same strides as the output). */
  readonly pre: boolean;
  /** With `pre` and an activation: stores the GELU's derivative at `A B + bias` instead. */
  readonly geluGrad: boolean;
}

/** The key of a spec, for kernel caches. */
export function epilogueKey(s: EpilogueSpec): string {
  return `${s.bias ? 'b' : ''}${s.act === 'none' ? '' : s.act}${s.scale ? 's' : ''}${s.residual ? 'r' : ''}${s.pre ? 'p' : ''}${s.geluGrad ? 'd' : ''}`;
}

/** Byte offsets of the fields of the epilogue's parameter block (i32 each). */
export const EPI = { P: 0, cs0: 4, cs1: 8, cs2: 12, rs0: 16, rs1: 20, rs2: 24, res: 28, pre: 32, bias: 36, scale: 40, bytes: 64 } as const;

/** The GEMM's locals the epilogue reads (see buildGemm). */
export interface GemmTileCtx {
  readonly f: Fn;
  /** Rows per tile (the microkernel's MR). */
  readonly MR: number;
  /** The 2*MR accumulators: row r, columns 4h..4h+3 in `acc[2r + h]`. */
  readonly acc: readonly Local[];
  /** Scratch for the tile: MR*32 bytes of values, as many of pre values, then 3*MR i32 row addresses. */
  readonly tile: Local;
  /** The output's base address (the list entry's C). */
  readonly cP: Local;
  /** The epilogue's parameter block. */
  readonly epi: Local;
  /** Valid rows and columns of this tile. */
  readonly mr: Local;
  readonly nr: Local;
  /** First row and column of the tile in the output. */
  readonly row0: () => void;
  readonly col0: () => void;
  /** 1 when this K block starts the sum (store), 0 when it adds to what the output holds. */
  readonly first: Local;
  /** 1 when this K block ends the sum (apply the epilogue). */
  readonly last: () => void;
}

/**
 * Emits the tile store of an epilogue GEMM: partial sums of the first K blocks go to the
 * output as they are (added to what is there after the first), and the last block's sums
 * go through the epilogue.
 */
export function emitEpilogueStore(c: GemmTileCtx, s: EpilogueSpec): void {
  const { f, MR, acc, tile, cP, epi, mr, nr, first } = c;
  const L = (t: typeof i32 | typeof v128) => f.local(t);
  const P = L(i32), q = L(i32), p = L(i32), col = L(i32), colB = L(i32), isLast = L(i32), r = L(i32), j = L(i32);
  const cs2 = L(i32), rs2 = L(i32), addr = L(i32), rAddr = L(i32), pAddr = L(i32), tmp = L(i32);
  const v = L(v128);
  const activated = L(v128);
  const fv = f.local(f32);
  const g: GeluRegs = { t: L(v128), e: L(v128), n: L(v128), r: L(v128), u: L(v128) };
  const tt = [L(v128), L(v128), L(v128), L(v128)];
  const T = MR * 32; // bytes of the tile's values; pre values (or the transposed tile) follow
  const ROWS = 2 * T; // byte offset of the row-address arrays in the tile scratch
  const rowSlot = (kind: number, rr: () => void) => {
    // tile + ROWS + (kind * MR + rr) * 4
    f.get(tile);
    rr();
    f.i32c(kind * MR).op(OP.i32_add).i32c(2).op(OP.i32_shl).op(OP.i32_add).i32c(ROWS).op(OP.i32_add);
  };

  // Dump the accumulators: tile[r*32 + h*16].
  for (let rr = 0; rr < MR; rr++) for (let h = 0; h < 2; h++) f.get(tile).get(acc[2 * rr + h]!).vstore(rr * 32 + h * 16);
  c.last();
  f.set(isLast);
  f.get(epi).mem(OP.i32_load, 2, EPI.P).set(P);
  f.get(epi).mem(OP.i32_load, 2, EPI.cs2).set(cs2);
  if (s.residual) f.get(epi).mem(OP.i32_load, 2, EPI.rs2).set(rs2);
  c.col0();
  f.set(col);
  f.get(col).i32c(2).op(OP.i32_shl).set(colB);
  // Row addresses (output, residual, pre) of the tile's rows, one division per tile.
  c.row0();
  f.get(P).op(OP.i32_div_u).set(q);
  c.row0();
  f.get(q).get(P).op(OP.i32_mul).op(OP.i32_sub).set(p);
  const field = (off: number) => f.get(epi).mem(OP.i32_load, 2, off);
  for (let rr = 0; rr < MR; rr++) {
    const slot = (kind: number, base: () => void, s0: number, s1: number) => {
      rowSlot(kind, () => f.i32c(rr));
      base();
      f.get(q);
      field(s0);
      f.op(OP.i32_mul).op(OP.i32_add).get(p);
      field(s1);
      f.op(OP.i32_mul).op(OP.i32_add).mem(OP.i32_store, 2);
    };
    slot(0, () => f.get(cP), EPI.cs0, EPI.cs1);
    if (s.residual) slot(1, () => field(EPI.res), EPI.rs0, EPI.rs1);
    if (s.pre) slot(2, () => field(EPI.pre), EPI.cs0, EPI.cs1);
    f.addTo(p, 1);
    f.get(p).get(P).op(OP.i32_ge_s);
    f.if(() => {
      f.i32c(0).set(p);
      f.addTo(q, 1);
    });
  }
  const rowOf = (kind: number, rr: () => void) => {
    rowSlot(kind, rr);
    f.mem(OP.i32_load, 2);
  };

  /**
   * The epilogue on `v` (in place): bias and scale pushed by `vec(base)` (a vector at
   * `base + colOffset`, or a splat), pre (or the GELU's derivative, pushed by the callback
   * it is given) stored by `storePre`, residual added by `addRes`.
   */
  const geluGrad = s.pre && s.geluGrad && s.act !== 'none';
  const epilogue = (vec: (base: number) => void, storePre: (value: () => void) => void, addRes: (() => void) | null) => {
    if (s.bias) {
      f.get(v);
      vec(EPI.bias);
      f.simd(SIMD.f32x4_add).set(v);
    }
    if (s.pre && !geluGrad) storePre(() => f.get(v));
    if (s.act !== 'none') {
      const tanh = s.act === 'gelu_tanh';
      emitGeluParts(f, v, g, tanh);
      pushGelu(f, v, g, tanh);
      if (geluGrad) {
        f.set(activated);
        storePre(() => pushGeluGrad(f, v, g, tanh));
        f.get(activated);
      }
      f.set(v);
    }
    if (s.scale) {
      f.get(v);
      vec(EPI.scale);
      f.simd(SIMD.f32x4_mul).set(v);
    }
    if (addRes) addRes();
  };

  // Path A, along rows: unit column strides and 8 valid columns.
  f.get(nr).i32c(8).op(OP.i32_eq).get(cs2).i32c(4).op(OP.i32_eq).op(OP.i32_and);
  if (s.residual) f.get(rs2).i32c(4).op(OP.i32_eq).op(OP.i32_and);
  f.if(
    () => {
      f.for(r, () => f.i32c(0), mr, 1, () => {
        rowOf(0, () => f.get(r));
        f.get(colB).op(OP.i32_add).set(addr);
        if (s.residual) {
          rowOf(1, () => f.get(r));
          f.get(colB).op(OP.i32_add).set(rAddr);
        }
        if (s.pre) {
          rowOf(2, () => f.get(r));
          f.get(colB).op(OP.i32_add).set(pAddr);
        }
        for (let h = 0; h < 2; h++) {
          f.get(tile).get(r).i32c(5).op(OP.i32_shl).op(OP.i32_add).vload(h * 16).set(v);
          f.get(first).op(OP.i32_eqz);
          f.if(() => f.get(addr).vload(h * 16).get(v).simd(SIMD.f32x4_add).set(v));
          f.get(isLast);
          f.if(() =>
            epilogue(
              (base) => f.get(epi).mem(OP.i32_load, 2, base).get(colB).op(OP.i32_add).vload(h * 16),
              (value) => {
                f.get(pAddr);
                value();
                f.vstore(h * 16);
              },
              s.residual ? () => f.get(rAddr).vload(h * 16).get(v).simd(SIMD.f32x4_add).set(v) : null,
            ),
          );
          f.get(addr).get(v).vstore(h * 16);
        }
      });
    },
    () => {
      // Path B, along columns: four full rows of one group, unit row strides.
      if (MR === 4) {
        const cs1 = () => f.get(epi).mem(OP.i32_load, 2, EPI.cs1);
        f.get(mr).i32c(4).op(OP.i32_eq);
        cs1();
        f.i32c(4).op(OP.i32_eq).op(OP.i32_and);
        if (s.residual) f.get(epi).mem(OP.i32_load, 2, EPI.rs1).i32c(4).op(OP.i32_eq).op(OP.i32_and);
        // Same group: the last row's address is the first's + 12.
        rowOf(0, () => f.i32c(3));
        rowOf(0, () => f.i32c(0));
        f.op(OP.i32_sub).i32c(12).op(OP.i32_eq).op(OP.i32_and);
        if (s.residual) {
          rowOf(1, () => f.i32c(3));
          rowOf(1, () => f.i32c(0));
          f.op(OP.i32_sub).i32c(12).op(OP.i32_eq).op(OP.i32_and);
        }
      } else f.i32c(0);
      f.if(
        () => {
          if (MR !== 4) return;
          // Transpose the two 4x4 halves in place: tile[j*16] = column j's four rows.
          for (let h = 0; h < 2; h++) {
            const rows = [0, 1, 2, 3].map((rr) => () => f.get(tile).vload(rr * 32 + h * 16));
            rows[0]!(); rows[1]!(); f.shuffle32(0, 4, 1, 5).set(tt[0]!);
            rows[0]!(); rows[1]!(); f.shuffle32(2, 6, 3, 7).set(tt[1]!);
            rows[2]!(); rows[3]!(); f.shuffle32(0, 4, 1, 5).set(tt[2]!);
            rows[2]!(); rows[3]!(); f.shuffle32(2, 6, 3, 7).set(tt[3]!);
            // Columns 4h..4h+3 go after the tile (T = 128 bytes), so no value is overwritten before it is read.
            f.get(tile).get(tt[0]!).get(tt[2]!).shuffle32(0, 1, 4, 5).vstore(128 + h * 64);
            f.get(tile).get(tt[0]!).get(tt[2]!).shuffle32(2, 3, 6, 7).vstore(128 + h * 64 + 16);
            f.get(tile).get(tt[1]!).get(tt[3]!).shuffle32(0, 1, 4, 5).vstore(128 + h * 64 + 32);
            f.get(tile).get(tt[1]!).get(tt[3]!).shuffle32(2, 3, 6, 7).vstore(128 + h * 64 + 48);
          }
          rowOf(0, () => f.i32c(0));
          f.get(col).get(cs2).op(OP.i32_mul).op(OP.i32_add).set(addr);
          if (s.residual) {
            rowOf(1, () => f.i32c(0));
            f.get(col).get(rs2).op(OP.i32_mul).op(OP.i32_add).set(rAddr);
          }
          if (s.pre) {
            rowOf(2, () => f.i32c(0));
            f.get(col).get(cs2).op(OP.i32_mul).op(OP.i32_add).set(pAddr);
          }
          f.for(j, () => f.i32c(0), nr, 1, () => {
            f.get(tile).get(j).i32c(4).op(OP.i32_shl).op(OP.i32_add).vload(128).set(v);
            f.get(first).op(OP.i32_eqz);
            f.if(() => f.get(addr).vload().get(v).simd(SIMD.f32x4_add).set(v));
            f.get(isLast);
            f.if(() =>
              epilogue(
                (base) => f.get(epi).mem(OP.i32_load, 2, base).get(colB).op(OP.i32_add).get(j).i32c(2).op(OP.i32_shl).op(OP.i32_add).vsplatLoad(),
                (value) => {
                  f.get(pAddr);
                  value();
                  f.vstore();
                },
                s.residual ? () => f.get(rAddr).vload().get(v).simd(SIMD.f32x4_add).set(v) : null,
              ),
            );
            f.get(addr).get(v).vstore();
            f.get(addr).get(cs2).op(OP.i32_add).set(addr);
            if (s.residual) f.get(rAddr).get(rs2).op(OP.i32_add).set(rAddr);
            if (s.pre) f.get(pAddr).get(cs2).op(OP.i32_add).set(pAddr);
          });
        },
        () => {
          // Path C, element by element (vectors along the tile's rows for the arithmetic).
          f.for(r, () => f.i32c(0), mr, 1, () => {
            f.get(first).op(OP.i32_eqz);
            f.if(() => {
              f.for(j, () => f.i32c(0), nr, 1, () => {
                // tile[r][j] = out[r][j] + tile[r][j]
                f.get(tile).get(r).i32c(5).op(OP.i32_shl).op(OP.i32_add).get(j).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(tmp);
                f.get(tmp);
                rowOf(0, () => f.get(r));
                f.get(col).get(j).op(OP.i32_add).get(cs2).op(OP.i32_mul).op(OP.i32_add).mem(OP.f32_load, 2);
                f.get(tmp).mem(OP.f32_load, 2).op(OP.f32_add);
                f.mem(OP.f32_store, 2);
              });
            });
            f.get(isLast);
            f.if(() => {
              for (let h = 0; h < 2; h++) {
                f.get(tile).get(r).i32c(5).op(OP.i32_shl).op(OP.i32_add).set(tmp);
                f.get(tmp).vload(h * 16).set(v);
                epilogue(
                  (base) => f.get(epi).mem(OP.i32_load, 2, base).get(colB).op(OP.i32_add).vload(h * 16),
                  (value) => {
                    f.get(tmp);
                    value();
                    f.vstore(T + h * 16);
                  },
                  null,
                );
                f.get(tmp).get(v).vstore(h * 16);
              }
            });
            f.for(j, () => f.i32c(0), nr, 1, () => {
              f.get(tile).get(r).i32c(5).op(OP.i32_shl).op(OP.i32_add).get(j).i32c(2).op(OP.i32_shl).op(OP.i32_add).set(tmp);
              f.get(tmp).mem(OP.f32_load, 2).set(fv);
              if (s.residual) {
                // out = residual + value, on the last block only
                f.get(isLast);
                f.if(() => {
                  rowOf(1, () => f.get(r));
                  f.get(col).get(j).op(OP.i32_add).get(rs2).op(OP.i32_mul).op(OP.i32_add).mem(OP.f32_load, 2);
                  f.get(fv).op(OP.f32_add).set(fv);
                });
              }
              rowOf(0, () => f.get(r));
              f.get(col).get(j).op(OP.i32_add).get(cs2).op(OP.i32_mul).op(OP.i32_add);
              f.get(fv);
              f.mem(OP.f32_store, 2);
              if (s.pre) {
                f.get(isLast);
                f.if(() => {
                  rowOf(2, () => f.get(r));
                  f.get(col).get(j).op(OP.i32_add).get(cs2).op(OP.i32_mul).op(OP.i32_add);
                  f.get(tmp).mem(OP.f32_load, 2, T);
                  f.mem(OP.f32_store, 2);
                });
              }
            });
          });
        },
      );
    },
  );
}
