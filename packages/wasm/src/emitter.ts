/**
 * A small typed WebAssembly bytecode emitter: modules that import one linear memory and
 * export functions, with i32/i64/f32/f64/v128 locals and the SIMD128 (and relaxed SIMD)
 * opcodes the kernels use. Kernels are written as TypeScript that calls these methods, so
 * each shape class gets straight-line code with no foreign toolchain.
 */

/** A WebAssembly value type (its binary code). */
export type ValType = 0x7f | 0x7e | 0x7d | 0x7c | 0x7b;
/** i32 */
export const i32: ValType = 0x7f;
/** i64 */
export const i64: ValType = 0x7e;
/** f32 */
export const f32: ValType = 0x7d;
/** f64 */
export const f64: ValType = 0x7c;
/** v128 */
export const v128: ValType = 0x7b;

/** A local variable (or parameter) of a function under construction. */
export interface Local {
  readonly index: number;
  readonly type: ValType;
}

function uleb(out: number[], v: number): void {
  v >>>= 0;
  do {
    let b = v & 0x7f;
    v >>>= 7;
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
}

function sleb(out: number[], v: number): void {
  v |= 0;
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (b & 0x40) === 0) || (v === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return;
    }
    out.push(b | 0x80);
  }
}

const f32buf = new Float32Array(1);
const f64buf = new Float64Array(1);

/** SIMD opcodes (after the 0xfd prefix) by name. */
export const SIMD = {
  load: 0x00,
  load32_splat: 0x09,
  store: 0x0b,
  const: 0x0c,
  i32x4_splat: 0x11,
  f32x4_splat: 0x13,
  f64x2_splat: 0x14,
  f32x4_extract_lane: 0x1f,
  f32x4_replace_lane: 0x20,
  f32x4_eq: 0x41,
  f32x4_ne: 0x42,
  f32x4_lt: 0x43,
  f32x4_gt: 0x44,
  f32x4_le: 0x45,
  f32x4_ge: 0x46,
  i32x4_lt_s: 0x39,
  not: 0x4d,
  and: 0x4e,
  andnot: 0x4f,
  or: 0x50,
  xor: 0x51,
  bitselect: 0x52,
  f32x4_ceil: 0x67,
  f32x4_floor: 0x68,
  f32x4_trunc: 0x69,
  f32x4_nearest: 0x6a,
  i32x4_shl: 0xab,
  i32x4_shr_s: 0xac,
  i32x4_add: 0xae,
  i32x4_sub: 0xb1,
  i32x4_max_s: 0xb8,
  i32x4_min_s: 0xb6,
  f32x4_abs: 0xe0,
  f32x4_neg: 0xe1,
  f32x4_sqrt: 0xe3,
  f32x4_add: 0xe4,
  f32x4_sub: 0xe5,
  f32x4_mul: 0xe6,
  f32x4_div: 0xe7,
  f32x4_min: 0xe8,
  f32x4_max: 0xe9,
  /** `b < a ? b : a`: one instruction on x64 (f32x4.min is six, for NaN and -0). */
  f32x4_pmin: 0xea,
  /** `a < b ? b : a`. */
  f32x4_pmax: 0xeb,
  i32x4_trunc_sat_f32x4_s: 0xf8,
  f32x4_convert_i32x4_s: 0xfa,
  f32x4_relaxed_madd: 0x105,
} as const;

/** Scalar opcodes by name. */
export const OP = {
  unreachable: 0x00,
  nop: 0x01,
  drop: 0x1a,
  select: 0x1b,
  return: 0x0f,
  i32_load: 0x28,
  i64_load: 0x29,
  f32_load: 0x2a,
  f64_load: 0x2b,
  i32_load8_u: 0x2d,
  i32_store: 0x36,
  i64_store: 0x37,
  f32_store: 0x38,
  f64_store: 0x39,
  i32_store8: 0x3a,
  i32_eqz: 0x45,
  i32_eq: 0x46,
  i32_ne: 0x47,
  i32_lt_s: 0x48,
  i32_lt_u: 0x49,
  i32_gt_s: 0x4a,
  i32_le_s: 0x4c,
  i32_ge_s: 0x4e,
  f32_eq: 0x5b,
  f32_ne: 0x5c,
  f32_lt: 0x5d,
  f32_gt: 0x5e,
  f32_le: 0x5f,
  f32_ge: 0x60,
  f64_eq: 0x61,
  f64_ne: 0x62,
  f64_lt: 0x63,
  f64_gt: 0x64,
  f64_le: 0x65,
  f64_ge: 0x66,
  i32_add: 0x6a,
  i32_sub: 0x6b,
  i32_mul: 0x6c,
  i32_div_s: 0x6d,
  i32_div_u: 0x6e,
  i32_rem_u: 0x70,
  i32_and: 0x71,
  i32_or: 0x72,
  i32_shl: 0x74,
  i32_shr_s: 0x75,
  i32_shr_u: 0x76,
  i32_xor: 0x73,
  f32_abs: 0x8b,
  f32_neg: 0x8c,
  f32_ceil: 0x8d,
  f32_floor: 0x8e,
  f32_trunc: 0x8f,
  f32_nearest: 0x90,
  f32_sqrt: 0x91,
  f32_add: 0x92,
  f32_sub: 0x93,
  f32_mul: 0x94,
  f32_div: 0x95,
  f32_min: 0x96,
  f32_max: 0x97,
  f64_abs: 0x99,
  f64_neg: 0x9a,
  f64_ceil: 0x9b,
  f64_floor: 0x9c,
  f64_trunc: 0x9d,
  f64_nearest: 0x9e,
  f64_sqrt: 0x9f,
  f64_add: 0xa0,
  f64_sub: 0xa1,
  f64_mul: 0xa2,
  f64_div: 0xa3,
  f64_min: 0xa4,
  f64_max: 0xa5,
  i32_trunc_f32_s: 0xa8,
  f32_convert_i32_s: 0xb2,
  f32_demote_f64: 0xb6,
  f64_convert_i32_s: 0xb7,
  f64_promote_f32: 0xbb,
  i32_reinterpret_f32: 0xbc,
  f32_reinterpret_i32: 0xbe,
} as const;

/** Builds one function body. Methods push instructions and return `this` for chaining. */
export class Fn {
  readonly code: number[] = [];
  private readonly localTypes: ValType[] = [];
  readonly params: Local[];
  private depth = 0;

  constructor(
    readonly name: string,
    paramTypes: readonly ValType[],
    readonly results: readonly ValType[] = [],
  ) {
    this.params = paramTypes.map((type, index) => ({ index, type }));
  }

  /** Declares a new local of `type`. */
  local(type: ValType): Local {
    const l = { index: this.params.length + this.localTypes.length, type };
    this.localTypes.push(type);
    return l;
  }

  /** Raw opcode bytes. */
  op(...bytes: number[]): this {
    this.code.push(...bytes);
    return this;
  }
  get(l: Local): this {
    this.code.push(0x20);
    uleb(this.code, l.index);
    return this;
  }
  set(l: Local): this {
    this.code.push(0x21);
    uleb(this.code, l.index);
    return this;
  }
  tee(l: Local): this {
    this.code.push(0x22);
    uleb(this.code, l.index);
    return this;
  }
  i32c(v: number): this {
    this.code.push(0x41);
    sleb(this.code, v);
    return this;
  }
  f32c(v: number): this {
    f32buf[0] = v;
    this.code.push(0x43, ...new Uint8Array(f32buf.buffer));
    return this;
  }
  f64c(v: number): this {
    f64buf[0] = v;
    this.code.push(0x44, ...new Uint8Array(f64buf.buffer));
    return this;
  }
  /** A memory access: `opcode` with alignment log2 and byte offset. */
  mem(opcode: number, alignLog2: number, offset = 0): this {
    this.code.push(opcode);
    uleb(this.code, alignLog2);
    uleb(this.code, offset);
    return this;
  }
  /** A SIMD instruction (0xfd prefix). */
  simd(opcode: number): this {
    this.code.push(0xfd);
    uleb(this.code, opcode);
    return this;
  }
  /** v128.load at byte `offset` from the address on the stack. */
  vload(offset = 0): this {
    this.simd(SIMD.load);
    uleb(this.code, 0);
    uleb(this.code, offset);
    return this;
  }
  /** v128.store at byte `offset` (address, value on the stack). */
  vstore(offset = 0): this {
    this.simd(SIMD.store);
    uleb(this.code, 0);
    uleb(this.code, offset);
    return this;
  }
  /** v128.load32_splat at byte `offset`. */
  vsplatLoad(offset = 0): this {
    this.simd(SIMD.load32_splat);
    uleb(this.code, 2);
    uleb(this.code, offset);
    return this;
  }
  /**
   * A v128 constant of four equal lanes (`bytes` one lane). V8 rebuilds a `v128.const`
   * with three instructions wherever it appears, loops included, so constants are hoisted:
   * each distinct one is set once into a local in the function's prologue.
   */
  private vconst(bytes: Uint8Array): this {
    const key = bytes.join(',');
    let l = this.consts.get(key);
    if (!l) {
      l = this.local(v128);
      this.consts.set(key, l);
      this.prologue.push(0xfd);
      uleb(this.prologue, SIMD.const);
      for (let i = 0; i < 4; i++) this.prologue.push(...bytes);
      this.prologue.push(0x21);
      uleb(this.prologue, l.index);
    }
    return this.get(l);
  }
  private readonly consts = new Map<string, Local>();
  private readonly prologue: number[] = [];
  /** f32x4 of one constant. */
  f32x4c(v: number): this {
    f32buf[0] = v;
    return this.vconst(new Uint8Array(f32buf.buffer.slice(0)));
  }
  /** i32x4 of one constant. */
  i32x4c(v: number): this {
    return this.vconst(new Uint8Array(new Int32Array([v]).buffer));
  }
  /** `i8x16.shuffle` picking four 32-bit lanes (0-3 from the first operand, 4-7 from the second). */
  shuffle32(l0: number, l1: number, l2: number, l3: number): this {
    this.code.push(0xfd, 0x0d);
    for (const l of [l0, l1, l2, l3]) for (let b = 0; b < 4; b++) this.code.push(l * 4 + b);
    return this;
  }
  lane(opcode: number, lane: number): this {
    this.simd(opcode);
    this.code.push(lane);
    return this;
  }
  /** `a*b + c` on f32x4 (operands a, b, c on the stack): relaxed fused multiply-add or mul then add. */
  madd(relaxed: boolean, a: () => void, b: () => void, c: () => void): this {
    if (relaxed) {
      a();
      b();
      c();
      this.simd(SIMD.f32x4_relaxed_madd);
    } else {
      a();
      b();
      this.simd(SIMD.f32x4_mul);
      c();
      this.simd(SIMD.f32x4_add);
    }
    return this;
  }

  /** `block ... end`; `br(0)` inside leaves it. */
  block(body: () => void): this {
    this.code.push(0x02, 0x40);
    this.depth++;
    body();
    this.depth--;
    this.code.push(0x0b);
    return this;
  }
  /** `loop ... end`; `br(0)` inside jumps back to the top. */
  loop(body: () => void): this {
    this.code.push(0x03, 0x40);
    this.depth++;
    body();
    this.depth--;
    this.code.push(0x0b);
    return this;
  }
  /** `if ... else ... end` on the i32 on the stack. */
  if(then: () => void, otherwise?: () => void): this {
    this.code.push(0x04, 0x40);
    this.depth++;
    then();
    if (otherwise) {
      this.code.push(0x05);
      otherwise();
    }
    this.depth--;
    this.code.push(0x0b);
    return this;
  }
  br(depth: number): this {
    this.code.push(0x0c);
    uleb(this.code, depth);
    return this;
  }
  brIf(depth: number): this {
    this.code.push(0x0d);
    uleb(this.code, depth);
    return this;
  }
  call(fnIndex: number): this {
    this.code.push(0x10);
    uleb(this.code, fnIndex);
    return this;
  }

  /**
   * `for (i = from; i < to; i += step) body()` over i32 locals; `from`/`to` push i32s.
   * The body runs inside a block+loop pair (depth 2 from the body's point of view).
   */
  for(i: Local, from: () => void, to: Local | (() => void), step: number, body: () => void): this {
    from();
    this.set(i);
    this.block(() => {
      this.loop(() => {
        this.get(i);
        if (typeof to === 'function') to();
        else this.get(to);
        this.op(OP.i32_ge_s).brIf(1);
        body();
        this.get(i).i32c(step).op(OP.i32_add).set(i);
        this.br(0);
      });
    });
    return this;
  }

  /** `l += v` for i32 locals, with `v` a constant or another local. */
  addTo(l: Local, v: number | Local): this {
    this.get(l);
    if (typeof v === 'number') this.i32c(v);
    else this.get(v);
    return this.op(OP.i32_add).set(l);
  }

  /** The encoded body (locals + code + end). */
  body(): number[] {
    const out: number[] = [];
    // Run-length encode the local declarations.
    const groups: [number, ValType][] = [];
    for (const t of this.localTypes) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]++;
      else groups.push([1, t]);
    }
    uleb(out, groups.length);
    for (const [n, t] of groups) {
      uleb(out, n);
      out.push(t);
    }
    out.push(...this.prologue, ...this.code, 0x0b);
    const sized: number[] = [];
    uleb(sized, out.length);
    return sized.concat(out);
  }

  signature(): number[] {
    const out = [0x60];
    uleb(out, this.params.length);
    for (const p of this.params) out.push(p.type);
    uleb(out, this.results.length);
    out.push(...this.results);
    return out;
  }
}

function section(out: number[], id: number, content: number[]): void {
  out.push(id);
  uleb(out, content.length);
  for (const b of content) out.push(b);
}

function name(out: number[], s: string): void {
  const bytes = new TextEncoder().encode(s);
  uleb(out, bytes.length);
  out.push(...bytes);
}

/** Options of the imported memory. */
export interface MemoryImport {
  /** Initial pages (64 KiB each). */
  readonly initial: number;
  /** Maximum pages. */
  readonly maximum: number;
  /** Whether the memory is shared (threads). */
  readonly shared: boolean;
}

/** A module of functions over the imported memory `env.mem`; every function is exported by name. */
export class ModuleBuilder {
  private readonly fns: Fn[] = [];

  constructor(private readonly memory: MemoryImport) {}

  /** Adds a function; its index (for `call`) is its position. */
  fn(name: string, params: readonly ValType[], results: readonly ValType[] = []): Fn {
    const f = new Fn(name, params, results);
    this.fns.push(f);
    return f;
  }

  /** The index of a function added earlier. */
  indexOf(f: Fn): number {
    return this.fns.indexOf(f);
  }

  /** The binary module. */
  bytes(): Uint8Array<ArrayBuffer> {
    const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
    const sigs: string[] = [];
    const sigIndex: number[] = [];
    const types: number[] = [];
    for (const f of this.fns) {
      const s = f.signature();
      const key = s.join(',');
      let at = sigs.indexOf(key);
      if (at < 0) {
        at = sigs.length;
        sigs.push(key);
        types.push(...s);
      }
      sigIndex.push(at);
    }
    const typeSec: number[] = [];
    uleb(typeSec, sigs.length);
    typeSec.push(...types);
    section(out, 1, typeSec);

    const imp: number[] = [];
    uleb(imp, 1);
    name(imp, 'env');
    name(imp, 'mem');
    imp.push(0x02, this.memory.shared ? 0x03 : 0x01);
    uleb(imp, this.memory.initial);
    uleb(imp, this.memory.maximum);
    section(out, 2, imp);

    const funcSec: number[] = [];
    uleb(funcSec, this.fns.length);
    for (const s of sigIndex) uleb(funcSec, s);
    section(out, 3, funcSec);

    const exp: number[] = [];
    uleb(exp, this.fns.length);
    this.fns.forEach((f, i) => {
      name(exp, f.name);
      exp.push(0x00);
      uleb(exp, i);
    });
    section(out, 7, exp);

    const codeSec: number[] = [];
    uleb(codeSec, this.fns.length);
    for (const f of this.fns) codeSec.push(...f.body());
    section(out, 10, codeSec);
    return new Uint8Array(out);
  }
}

/** Whether this engine validates a module that uses `f32x4.relaxed_madd`. */
export function probeRelaxedSimd(): boolean {
  const m = new ModuleBuilder({ initial: 1, maximum: 1, shared: false });
  const f = m.fn('f', [], [v128]);
  f.f32x4c(1).f32x4c(2).f32x4c(3).simd(SIMD.f32x4_relaxed_madd);
  try {
    return WebAssembly.validate(m.bytes());
  } catch {
    return false;
  }
}

/** Whether this engine validates SIMD128 at all. */
export function probeSimd(): boolean {
  const m = new ModuleBuilder({ initial: 1, maximum: 1, shared: false });
  const f = m.fn('f', [], [v128]);
  f.f32x4c(1).f32x4c(2).simd(SIMD.f32x4_add);
  try {
    return WebAssembly.validate(m.bytes());
  } catch {
    return false;
  }
}
