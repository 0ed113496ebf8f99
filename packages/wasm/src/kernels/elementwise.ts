/**
 * The strided elementwise template: up to four nested loops over an iteration space of
 * rank 5 (larger ranks are looped over in TypeScript), with every operand at its own byte
 * strides. The innermost loop is SIMD128 when all operands are float32 at unit stride (or
 * stride 0, splatted once), scalar otherwise. One template serves map ops (unary, binary,
 * compare, where, copy) and accumulation (`out = op(out, a)`: reductions and embed).
 */
import { f32, f64, type Fn, i32, type Local, type ModuleBuilder, OP, SIMD, v128 } from '../emitter.js';

/** Dims the generated loops handle (more are looped in TypeScript). */
export const EW_RANK = 5;
const R = EW_RANK;

/** How an operand's elements are stored. */
export type Kind = 'f32' | 'f64' | 'i32' | 'u8';

/** Bytes per element of a kind. */
export const KIND_BYTES: Record<Kind, number> = { f32: 4, f64: 8, i32: 4, u8: 1 };

function load(f: Fn, k: Kind): void {
  if (k === 'f32') f.mem(OP.f32_load, 2);
  else if (k === 'f64') f.mem(OP.f64_load, 3);
  else if (k === 'i32') f.mem(OP.i32_load, 2);
  else f.mem(OP.i32_load8_u, 0);
}
function store(f: Fn, k: Kind): void {
  if (k === 'f32') f.mem(OP.f32_store, 2);
  else if (k === 'f64') f.mem(OP.f64_store, 3);
  else if (k === 'i32') f.mem(OP.i32_store, 2);
  else f.mem(OP.i32_store8, 0);
}

/** What one template instance computes. */
export interface EwSpec {
  /** Output kind, then input kinds (1 to 3). */
  readonly out: Kind;
  readonly ins: readonly Kind[];
  /** `acc`: the output is read and combined (`out = op(out, in0)`), e.g. reductions. */
  readonly acc: boolean;
  /** Pushes the scalar result from the pushed operand values (for `acc`: current out, then in0). */
  readonly scalar: (f: Fn, operands: readonly (() => void)[]) => void;
  /** The same on f32x4 lanes, when the op has a SIMD form (all kinds f32, or a bit copy). */
  readonly vector?: (f: Fn, operands: readonly (() => void)[]) => void;
  /** For `acc` ops: the identity (0 for sums, -inf for max, inf for min), for register accumulation. */
  readonly identity?: number;
}

/** `simdMask` value selecting the register-accumulator inner loop (acc ops whose output is at stride 0 there). */
export const RACC_SCALAR = -2;
/** The same with f32x4 partial results (input at unit stride). */
export const RACC_VECTOR = -3;

/**
 * Emits `run(pOut, pIn0, pIn1, pIn2, meta, start0, end0)`. `meta` points at i32s
 * `[n1 .. n4, strides of out (5), of in0 (5), in1 (5), in2 (5)]` in bytes; dim 0 runs
 * over `[start0, end0)`. `simdMask` (bit i: input i is at stride 0, splatted) selects the
 * SIMD inner loop; pass -1 for the scalar one, {@link RACC_SCALAR} / {@link RACC_VECTOR}
 * for accumulations into one output element along the inner dim (kept in a register).
 */
export function buildElementwise(m: ModuleBuilder, spec: EwSpec, simdMask: number): void {
  const f = m.fn('run', [i32, i32, i32, i32, i32, i32, i32]);
  const [pOut, pIn0, pIn1, pIn2, meta, start0, end0] = f.params as [Local, Local, Local, Local, Local, Local, Local];
  const nOps = 1 + spec.ins.length;
  const bases = [pOut, pIn0, pIn1, pIn2].slice(0, nOps);
  const kinds: Kind[] = [spec.out, ...spec.ins];
  // Load meta into locals.
  const n = [null, ...Array.from({ length: R - 1 }, () => f.local(i32))] as (Local | null)[];
  for (let d = 1; d < R; d++) f.get(meta).mem(OP.i32_load, 2, (d - 1) * 4).set(n[d]!);
  const st: Local[][] = [];
  for (let o = 0; o < nOps; o++) {
    st.push([]);
    for (let d = 0; d < R; d++) {
      const l = f.local(i32);
      f.get(meta).mem(OP.i32_load, 2, (R - 1 + o * R + d) * 4).set(l);
      st[o]!.push(l);
    }
  }
  // Pointers per level.
  const ptr: Local[][] = [];
  for (let o = 0; o < nOps; o++) ptr.push(Array.from({ length: R }, () => f.local(i32)));
  const idx = Array.from({ length: R }, () => f.local(i32));
  // Level-0 pointers start at base + start0 * stride0.
  for (let o = 0; o < nOps; o++) f.get(bases[o]!).get(start0).get(st[o]![0]!).op(OP.i32_mul).op(OP.i32_add).set(ptr[o]![0]!);

  const splat = spec.ins.map(() => f.local(v128));

  const inner = (): void => {
    const p = ptr.map((l) => l[R - 1]!);
    const i = idx[R - 1]!;
    const elem = (o: number) => () => {
      f.get(p[o]!);
      load(f, kinds[o]!);
    };
    const scalarBody = () => {
      f.get(p[0]!);
      const operands = spec.acc ? [elem(0), elem(1)] : spec.ins.map((_, j) => elem(j + 1));
      spec.scalar(f, operands);
      store(f, kinds[0]!);
      for (let o = 0; o < nOps; o++) f.addTo(p[o]!, st[o]![R - 1]!);
    };
    if (simdMask === RACC_SCALAR || simdMask === RACC_VECTOR) {
      // r = out; (vector partials v = identity; v = op(v, x) four lanes at a time; r = op(r, lanes));
      // r = op(r, x) for the rest; out = r.
      const r = f.local(kinds[0] === 'f64' ? f64 : kinds[0] === 'f32' ? f32 : i32);
      f.get(p[0]!);
      load(f, kinds[0]!);
      f.set(r);
      let from: () => void = () => f.i32c(0);
      if (simdMask === RACC_VECTOR) {
        const v = f.local(v128);
        const lim = f.local(i32);
        f.f32x4c(spec.identity!).set(v);
        f.get(n[R - 1]!).i32c(-4).op(OP.i32_and).set(lim);
        f.for(i, () => f.i32c(0), lim, 4, () => {
          spec.vector!(f, [() => f.get(v), () => f.get(p[1]!).vload()]);
          f.set(v);
          f.addTo(p[1]!, 16);
        });
        for (let lane = 0; lane < 4; lane++) {
          spec.scalar(f, [() => f.get(r), () => f.get(v).lane(SIMD.f32x4_extract_lane, lane)]);
          f.set(r);
        }
        from = () => f.get(lim);
      }
      f.for(i, from, n[R - 1]!, 1, () => {
        spec.scalar(f, [() => f.get(r), elem(1)]);
        f.set(r);
        f.addTo(p[1]!, st[1]![R - 1]!);
      });
      f.get(p[0]!).get(r);
      store(f, kinds[0]!);
    } else if (simdMask >= 0 && spec.vector) {
      // Splat stride-0 inputs once.
      spec.ins.forEach((_, j) => {
        if (simdMask & (1 << j)) f.get(p[j + 1]!).vsplatLoad().set(splat[j]!);
      });
      const lim = f.local(i32);
      f.get(n[R - 1]!).i32c(-4).op(OP.i32_and).set(lim);
      f.for(i, () => f.i32c(0), lim, 4, () => {
        f.get(p[0]!);
        const vop = (o: number) => () => {
          if (o > 0 && simdMask & (1 << (o - 1))) f.get(splat[o - 1]!);
          else f.get(p[o]!).vload();
        };
        const operands = spec.acc ? [vop(0), vop(1)] : spec.ins.map((_, j) => vop(j + 1));
        spec.vector!(f, operands);
        f.vstore();
        for (let o = 0; o < nOps; o++) if (o === 0 || !(simdMask & (1 << (o - 1)))) f.addTo(p[o]!, 16);
      });
      f.for(i, () => f.get(lim), n[R - 1]!, 1, scalarBody);
    } else {
      f.for(i, () => f.i32c(0), n[R - 1]!, 1, scalarBody);
    }
  };

  const level = (d: number): void => {
    if (d === R - 1) {
      inner();
      return;
    }
    const body = () => {
      for (let o = 0; o < nOps; o++) f.get(ptr[o]![d]!).set(ptr[o]![d + 1]!);
      level(d + 1);
      for (let o = 0; o < nOps; o++) f.addTo(ptr[o]![d]!, st[o]![d]!);
    };
    if (d === 0) f.for(idx[0]!, () => f.get(start0), end0, 1, body);
    else f.for(idx[d]!, () => f.i32c(0), n[d]!, 1, body);
  };
  level(0);
}

/** Scalar and vector forms of the float ops the template knows, for f32 and f64. */
export function floatBinary(op: string, k: 'f32' | 'f64'): Pick<EwSpec, 'scalar' | 'vector'> | null {
  const s = k === 'f32';
  const code: Record<string, [number, number, number]> = {
    add: [OP.f32_add, OP.f64_add, SIMD.f32x4_add],
    sub: [OP.f32_sub, OP.f64_sub, SIMD.f32x4_sub],
    mul: [OP.f32_mul, OP.f64_mul, SIMD.f32x4_mul],
    div: [OP.f32_div, OP.f64_div, SIMD.f32x4_div],
    maximum: [OP.f32_max, OP.f64_max, SIMD.f32x4_max],
    minimum: [OP.f32_min, OP.f64_min, SIMD.f32x4_min],
  };
  const c = code[op];
  if (!c) return null;
  return {
    scalar: (f, [a, b]) => {
      a!();
      b!();
      f.op(s ? c[0] : c[1]);
    },
    vector: s
      ? (f, [a, b]) => {
          a!();
          b!();
          f.simd(c[2]);
        }
      : undefined,
  };
}

/** Float unary ops with exact wasm forms. */
export function floatUnary(op: string, k: 'f32' | 'f64'): Pick<EwSpec, 'scalar' | 'vector'> | null {
  const s = k === 'f32';
  const one = (f: Fn) => (s ? f.f32c(1) : f.f64c(1));
  switch (op) {
    case 'neg':
    case 'abs':
    case 'sqrt':
    case 'floor':
    case 'ceil':
    case 'trunc':
    case 'round': {
      // WebAssembly's `nearest` rounds half to even, as torch.round.
      const c = {
        neg: [OP.f32_neg, OP.f64_neg, SIMD.f32x4_neg],
        abs: [OP.f32_abs, OP.f64_abs, SIMD.f32x4_abs],
        sqrt: [OP.f32_sqrt, OP.f64_sqrt, SIMD.f32x4_sqrt],
        floor: [OP.f32_floor, OP.f64_floor, SIMD.f32x4_floor],
        ceil: [OP.f32_ceil, OP.f64_ceil, SIMD.f32x4_ceil],
        trunc: [OP.f32_trunc, OP.f64_trunc, SIMD.f32x4_trunc],
        round: [OP.f32_nearest, OP.f64_nearest, SIMD.f32x4_nearest],
      }[op];
      return {
        scalar: (f, [a]) => {
          a!();
          f.op(s ? c[0]! : c[1]!);
        },
        vector: (f, [a]) => {
          a!();
          f.simd(c[2]!);
        },
      };
    }
    case 'reciprocal':
      return {
        scalar: (f, [a]) => {
          one(f);
          a!();
          f.op(s ? OP.f32_div : OP.f64_div);
        },
        vector: (f, [a]) => {
          f.f32x4c(1);
          a!();
          f.simd(SIMD.f32x4_div);
        },
      };
    default:
      return null;
  }
}

/** Float comparisons to bool (u8). */
export function floatCompare(op: string, k: 'f32' | 'f64'): EwSpec['scalar'] {
  const c = { eq: [OP.f32_eq, OP.f64_eq], ne: [OP.f32_ne, OP.f64_ne], lt: [OP.f32_lt, OP.f64_lt], le: [OP.f32_le, OP.f64_le] }[op as 'eq']!;
  return (f, [a, b]) => {
    a!();
    b!();
    f.op(k === 'f32' ? c[0] : c[1]);
  };
}
