/**
 * The `wasm` backend: every primitive of the Backend interface over one WebAssembly.Memory,
 * with generated SIMD128 kernels for float32 (and wasm kernels for float64 where exact),
 * scalar TypeScript loops over the same memory for the rare dtype/op pairs, and the fused
 * kernels (GEMM, conv, depthwise conv, GELU, normalize, log-softmax) that decide speed.
 */
import type {
  AdamHyper,
  AdamStepResult,
  ArgReduceOp,
  Backend,
  BackendMemory,
  BinaryOp,
  BufferHandle,
  CompareOp,
  Conv2dParams,
  DType,
  MatmulEpilogue,
  MatmulEpilogueResult,
  ReduceOp,
  SortResult,
  TypedArray,
  UnaryOp,
  View,
} from '@tsgrad/core';
import { sortComparator } from '@tsgrad/core';
import { OP } from './emitter.js';
import { axisPart, BINARY, COMPARE, fixInt, offsetsOf, UNARY } from './host.js';
import { buildElementwise, EW_RANK, RACC_SCALAR, RACC_VECTOR, type EwSpec, floatBinary, floatCompare, floatUnary, KIND_BYTES, type Kind } from './kernels/elementwise.js';
import { Gemm } from './kernels/gemm.js';
import { matmulEpilogue } from './kernels/linear.js';
import { ConvKernels } from './kernels/conv.js';
import { FusedRows } from './kernels/rows.js';
import { OptimKernels } from './kernels/optim.js';
import type { Runtime } from './runtime.js';
import { fmtBytes, WASM32_MAX_BYTES } from './arena.js';
import { wasmPeakRates } from './peak-rates.js';

/** One buffer in linear memory. */
export interface WasmBuffer {
  /** Byte address. */
  readonly ptr: number;
  /** Rounded block size (bytes). */
  readonly size: number;
  /** Size class (for the free list). */
  readonly cls: number;
  /** Bytes requested. */
  readonly bytes: number;
  live: boolean;
}

const ITEM: Record<DType, number> = { float32: 4, float64: 8, int32: 4, bool: 1 };
const KIND: Record<DType, Kind> = { float32: 'f32', float64: 'f64', int32: 'i32', bool: 'u8' };
/** Kinds that copy bits exactly (float32 copies go through i32 loads). */
const BITS: Record<DType, Kind> = { float32: 'i32', float64: 'f64', int32: 'i32', bool: 'u8' };
/** Byte address of the elementwise kernels' shape/stride block (inside the reserved low memory). */
const META = 1024;
/** A second block, for the tail chunk of a split 1-D kernel. */
const META_TAIL = 1152;

/** A strided operand: byte address of element 0 and byte strides. */
export interface Operand {
  readonly ptr: number;
  readonly st: readonly number[];
}

function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

function contiguousStrides(shape: readonly number[]): number[] {
  const s = new Array<number>(shape.length);
  let acc = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    s[i] = acc;
    acc *= shape[i]!;
  }
  return s;
}

/** The backend. Create it with `createWasmBackend` (index.ts). */
export class WasmBackend implements Backend {
  readonly name: string = 'wasm';
  readonly canReadSync = true;
  private liveBuffers = 0;
  private liveBytes = 0;
  private peakBytes = 0;
  readonly gemm: Gemm;
  /** The convolution kernels (tests move `conv.smallMapMax` to run both depthwise paths). */
  readonly conv: ConvKernels;
  private readonly rows: FusedRows;
  private readonly optim: OptimKernels;
  /**
   * Debug mode: every block handed out (not zeroed) and every block freed is filled with
   * NaN, so a kernel that lets memory it did not write (or memory past a row's end) reach
   * a result gives NaN instead of passing by luck. Tests run the conformance suite with it.
   */
  poisonMemory = false;

  constructor(readonly rt: Runtime) {
    this.gemm = new Gemm(rt);
    this.conv = new ConvKernels(rt, this.gemm);
    this.rows = new FusedRows(rt);
    this.optim = new OptimKernels(rt);
  }

  // ---------------------------------------------------------------- memory

  /** A fresh buffer for `n` elements of `dtype` (contents undefined unless `zero`). */
  alloc(dtype: DType, n: number, zero = false): WasmBuffer {
    const bytes = n * ITEM[dtype];
    // Checked before anything is touched: the arena's own check names what is live.
    if (bytes > this.rt.arena.maxBytes) {
      throw new RangeError(`wasm backend: out of memory: a buffer of ${n} ${dtype} elements needs ${fmtBytes(bytes)}, more than the linear memory limit of ${fmtBytes(this.rt.arena.maxBytes)}${this.rt.arena.maxBytes === WASM32_MAX_BYTES ? ' (wasm32 addresses at most 4 GiB)' : ''}`);
    }
    const b = this.rt.arena.alloc(bytes);
    if (zero) this.rt.heap.u8.fill(0, b.ptr, b.ptr + bytes);
    else if (this.poisonMemory) this.poison(b.ptr, b.size);
    this.liveBuffers++;
    this.liveBytes += bytes;
    if (this.liveBytes > this.peakBytes) this.peakBytes = this.liveBytes;
    return { ptr: b.ptr, size: b.size, cls: b.cls, bytes, live: true };
  }

  /**
   * Fills a whole block (`bytes` is its rounded size, a multiple of 64, so the rounding
   * past the requested size is poisoned too) with the float32 quiet NaN 0x7fc00000, which
   * read as float64 is also a NaN.
   */
  private poison(ptr: number, bytes: number): void {
    this.rt.heap.i32.fill(0x7fc00000, ptr >>> 2, (ptr + bytes) >>> 2);
  }

  private bufOf(v: View | BufferHandle): WasmBuffer {
    const b = ('buffer' in v ? (v as View).buffer : v) as WasmBuffer;
    if (!b.live) throw new Error('wasm backend: use of a freed buffer');
    return b;
  }

  /** The heap view for a dtype. */
  heapOf(dtype: DType): TypedArray {
    const h = this.rt.heap;
    return dtype === 'float32' ? h.f32 : dtype === 'float64' ? h.f64 : dtype === 'int32' ? h.i32 : h.u8;
  }

  /** Element index (into the heap view of its dtype) of a view's element 0. */
  private base(v: View): number {
    return this.bufOf(v).ptr / ITEM[v.dtype] + v.offset;
  }

  /** A view as an operand in bytes. */
  private operand(v: View): Operand {
    const it = ITEM[v.dtype];
    return { ptr: this.bufOf(v).ptr + v.offset * it, st: v.strides.map((s) => s * it) };
  }

  private outOperand(b: WasmBuffer, dtype: DType, shape: readonly number[]): Operand {
    const it = ITEM[dtype];
    return { ptr: b.ptr, st: contiguousStrides(shape).map((s) => s * it) };
  }

  upload(data: TypedArray, dtype: DType): BufferHandle {
    const b = this.alloc(dtype, data.length);
    this.heapOf(dtype).set(data, b.ptr / ITEM[dtype]);
    return b;
  }

  /** A buffer of `size` elements of `value`, filled in linear memory (no host staging array). */
  fill(value: number, dtype: DType, size: number): BufferHandle {
    const b = this.alloc(dtype, size);
    const at = b.ptr / ITEM[dtype];
    this.heapOf(dtype).fill(value, at, at + size);
    return b;
  }

  read(buffer: BufferHandle, dtype: DType, size: number): Promise<TypedArray> {
    return Promise.resolve(this.readSync(buffer, dtype, size));
  }

  readSync(buffer: BufferHandle, dtype: DType, size: number): TypedArray {
    const b = this.bufOf(buffer);
    const s = b.ptr / ITEM[dtype];
    return this.heapOf(dtype).slice(s, s + size);
  }

  free(buffer: BufferHandle): void {
    const b = buffer as WasmBuffer;
    if (!b.live) return;
    b.live = false;
    if (this.poisonMemory) this.poison(b.ptr, b.size);
    this.rt.arena.release(b);
    this.liveBuffers--;
    this.liveBytes -= b.bytes;
  }

  memory(): BackendMemory {
    return { buffers: this.liveBuffers, bytes: this.liveBytes, peakBytes: this.peakBytes };
  }

  resetPeak(): void {
    this.peakBytes = this.liveBytes;
  }

  /** The profiler's peaks: measured SIMD GFLOP/s and copy GB/s on one thread (once per process) times threads. */
  peakRates(): ReturnType<typeof wasmPeakRates> {
    return wasmPeakRates(this.rt.threads, this.gemm.relaxed && this.rt.relaxed);
  }

  // ---------------------------------------------------------------- the elementwise engine

  /**
   * Runs an elementwise template over `shape` with operands (output first). Unit dims are
   * dropped, mergeable dims merged (`reorder` first sorts dims by the first input's stride,
   * for accumulations), up to EW_RANK dims go to the kernel and any more are looped here.
   */
  private ew(key: string, spec: EwSpec, shape: readonly number[], ops: readonly Operand[], opts: { reorder?: boolean; parallel?: boolean } = {}): void {
    const total = numel(shape);
    if (total === 0) return;
    let dims = shape.map((_, i) => i).filter((i) => shape[i] !== 1);
    if (opts.reorder) {
      const s = ops[1]!.st;
      dims = dims.sort((a, b) => Math.abs(s[b]!) - Math.abs(s[a]!) || Math.abs(ops[0]!.st[b]!) - Math.abs(ops[0]!.st[a]!));
    }
    const sh: number[] = [];
    const sts: number[][] = ops.map(() => []);
    for (const d of dims) {
      const last = sh.length - 1;
      if (last >= 0 && ops.every((o, k) => sts[k]![last] === o.st[d]! * shape[d]!)) {
        sh[last]! *= shape[d]!;
        ops.forEach((o, k) => (sts[k]![last] = o.st[d]!));
      } else {
        sh.push(shape[d]!);
        ops.forEach((o, k) => sts[k]!.push(o.st[d]!));
      }
    }
    while (sh.length < EW_RANK) {
      sh.unshift(1);
      sts.forEach((s) => s.unshift(0));
    }
    const outerN = sh.length - EW_RANK;
    const kinds = [spec.out, ...spec.ins];
    let mask = -1;
    const innerOut = sts[0]![sts[0]!.length - 1]!;
    if (spec.acc && spec.identity !== undefined && innerOut === 0 && sh[sh.length - 1]! > 1) {
      // An accumulation along the inner dim into one element: keep it in a register.
      mask = spec.vector && sts[1]![sts[1]!.length - 1] === 4 && sh[sh.length - 1]! >= 8 ? RACC_VECTOR : RACC_SCALAR;
    } else if (spec.vector && sh[sh.length - 1]! >= 4) {
      const inner = sts.map((s) => s[s.length - 1]!);
      if (inner[0] === 4 && KIND_BYTES[kinds[0]!] === 4) {
        mask = 0;
        for (let k = 1; k < ops.length; k++) {
          if (inner[k] === 0) mask |= 1 << (k - 1);
          else if (!(inner[k] === 4 && KIND_BYTES[kinds[k]!] === 4)) mask = -1;
          if (mask < 0) break;
        }
      }
    }
    const kern = this.rt.kernel(`ew|${key}|${mask}`, (m) => buildElementwise(m, spec, mask));
    const mk = sh.slice(outerN);
    const kst = sts.map((s) => s.slice(outerN));
    this.writeMeta(META, mk, kst);
    const n0 = mk[0]!;
    const call = (ptrs: number[]) => {
      const p = [0, 1, 2, 3].map((k) => ptrs[k] ?? 0);
      // Split across threads only a kernel that is the whole op (never per call of a
      // TypeScript outer loop: each dispatch wakes the helpers).
      if (opts.parallel && outerN === 0 && this.rt.worth(total) && this.ewSplit(kern, spec, mk, kst, p, total)) return;
      kern.fns['run']!(p[0]!, p[1]!, p[2]!, p[3]!, META, 0, n0);
    };
    if (outerN === 0) {
      call(ops.map((o) => o.ptr));
      return;
    }
    const oshape = sh.slice(0, outerN);
    const idx = new Array<number>(outerN).fill(0);
    const on = numel(oshape);
    for (let c = 0; c < on; c++) {
      const ptrs = ops.map((o, k) => {
        let p = o.ptr;
        for (let d = 0; d < outerN; d++) p += idx[d]! * sts[k]![d]!;
        return p;
      });
      call(ptrs);
      for (let d = outerN - 1; d >= 0; d--) {
        if (++idx[d]! < oshape[d]!) break;
        idx[d] = 0;
      }
    }
  }

  /** Writes an elementwise kernel's shape/stride block (extents of dims 1.., then byte strides per operand) at `at`. */
  private writeMeta(at: number, mk: readonly number[], kst: readonly (readonly number[])[]): void {
    const i32 = this.rt.heap.i32;
    for (let d = 1; d < EW_RANK; d++) i32[at / 4 + d - 1] = mk[d]!;
    for (let k = 0; k < 4; k++) for (let d = 0; d < EW_RANK; d++) i32[at / 4 + EW_RANK - 1 + k * EW_RANK + d] = kst[k]?.[d] ?? 0;
  }

  /**
   * Runs one elementwise kernel call split across threads, or returns false (then the
   * caller runs it whole). The split dim is the first of extent >= 2, moved to the front
   * (the dims before it are 1, so the order of the others is kept); when only the innermost
   * dim is longer than 1, it becomes rows of a multiple of 16 elements plus a tail chunk.
   * Elementwise ops give the same bits on any split. An accumulation (`spec.acc`: a
   * reduction) split along a dim its output does not move along gets one partial output
   * per chunk (the first chunk's is the output itself), combined here in chunk order:
   * the same result up to the order of the partial sums.
   */
  private ewSplit(kern: ReturnType<Runtime['kernel']>, spec: EwSpec, mk: readonly number[], kst: readonly (readonly number[])[], p: readonly number[], total: number): boolean {
    const R = EW_RANK;
    const lead = mk.findIndex((v) => v >= 2);
    if (lead < 0) return false;
    let shape = mk.slice();
    let st = kst.map((s) => s.slice());
    let tail: { len: number; at: number } | null = null;
    if (lead === R - 1) {
      const n = mk[R - 1]!;
      const len = Math.max(16, Math.ceil(n / (this.rt.threads * this.rt.chunksPerThread(total)) / 16) * 16);
      const rows = Math.floor(n / len);
      if (rows < 1 || (rows === 1 && rows * len === n)) return false;
      shape = [rows, ...new Array<number>(R - 2).fill(1), len];
      st = kst.map((s) => [s[R - 1]! * len, ...new Array<number>(R - 2).fill(0), s[R - 1]!]);
      if (n > rows * len) tail = { len: n - rows * len, at: rows * len };
    } else if (lead > 0) {
      [shape[0], shape[lead]] = [shape[lead]!, shape[0]!];
      for (const s of st) [s[0], s[lead]] = [s[lead]!, s[0]!];
    }
    const jobs: number[][] = this.rt.ranges(shape[0]!, 1, 1, this.rt.chunksPerThread(total)).map(([a, b]) => [p[0]!, p[1]!, p[2]!, p[3]!, META, a, b]);
    if (tail) {
      const t = tail;
      this.writeMeta(META_TAIL, [1, ...new Array<number>(R - 2).fill(1), t.len], kst.map((s) => [0, ...new Array<number>(R - 2).fill(0), s[R - 1]!]));
      jobs.push([0, 1, 2, 3].map((k) => p[k]! + t.at * (kst[k]?.[R - 1] ?? 0)).concat([META_TAIL, 0, 1]));
    }
    if (spec.acc && st[0]![0] !== 0) {
      // Chunks along this dim must write disjoint outputs (an `embed` may repeat positions).
      let rest = 0;
      for (let d = 1; d < R; d++) rest += (shape[d]! - 1) * Math.abs(st[0]![d]!);
      if (rest >= Math.abs(st[0]![0]!)) return false;
    }
    const partial = spec.acc && st[0]![0] === 0;
    let temps: { buf: WasmBuffer; n: number; item: number; at: number }[] = [];
    if (partial) {
      // The output's extent: every dim it moves along (its stride is not 0).
      let n = 1;
      let span = 0;
      for (let d = 0; d < R; d++)
        if (st[0]![d] !== 0) {
          n *= shape[d]!;
          span += (shape[d]! - 1) * Math.abs(st[0]![d]!);
        }
      const item = KIND_BYTES[spec.out];
      // Contiguous outputs only (a reduction's are), and partials small next to the work.
      if (spec.identity === undefined || span !== (n - 1) * item || n * (jobs.length - 1) * 4 > total || (spec.out !== 'f32' && spec.out !== 'f64')) return false;
      temps = jobs.slice(1).map((job) => {
        const buf = this.alloc(spec.out === 'f32' ? 'float32' : 'float64', n);
        this.heapOf(spec.out === 'f32' ? 'float32' : 'float64').fill(spec.identity!, buf.ptr / item, buf.ptr / item + n);
        job[0] = buf.ptr;
        return { buf, n, item, at: p[0]! };
      });
    }
    this.writeMeta(META, shape, st);
    try {
      this.rt.parallel(kern, 'run', jobs);
    } finally {
      this.writeMeta(META, mk, kst);
    }
    for (const t of temps) {
      const h = this.heapOf(t.item === 4 ? 'float32' : 'float64');
      const o = t.at / t.item;
      const q = t.buf.ptr / t.item;
      // Sum, or IEEE maximum/minimum as f32.max/f32.min compute them (NaN wins; +0 > -0).
      const f = spec.identity === 0 ? (x: number, y: number) => x + y : spec.identity === -Infinity ? Math.max : Math.min;
      for (let i = 0; i < t.n; i++) h[o + i] = f(h[o + i]!, h[q + i]!);
      this.free(t.buf);
    }
    return true;
  }

  // ---------------------------------------------------------------- host loops

  private offs(v: View): Int32Array {
    return offsetsOf(v.shape, v.strides, this.base(v));
  }

  // ---------------------------------------------------------------- primitives

  unary(op: UnaryOp, x: View): BufferHandle {
    const n = numel(x.shape);
    const out = this.alloc(x.dtype, n);
    const k = KIND[x.dtype];
    if ((k === 'f32' || k === 'f64') && floatUnary(op, k)) {
      const s = floatUnary(op, k)!;
      this.ew(`u|${op}|${k}`, { out: k, ins: [k], acc: false, ...s }, x.shape, [this.outOperand(out, x.dtype, x.shape), this.operand(x)], { parallel: true });
      return out;
    }
    if (k === 'f32' && (op === 'exp' || op === 'tanh' || op === 'erf') && this.rows.fastUnary(this, op, x, out)) return out;
    const f = UNARY[op];
    const src = this.heapOf(x.dtype);
    const dst = this.heapOf(x.dtype);
    const o = out.ptr / ITEM[x.dtype];
    const offs = this.offs(x);
    for (let i = 0; i < n; i++) dst[o + i] = f(src[offs[i]!]!);
    return out;
  }

  binary(op: BinaryOp, a: View, b: View): BufferHandle {
    const n = numel(a.shape);
    const out = this.alloc(a.dtype, n);
    const k = KIND[a.dtype];
    const s = (k === 'f32' || k === 'f64') && floatBinary(op, k);
    if (s) {
      this.ew(`b|${op}|${k}`, { out: k, ins: [k, k], acc: false, ...s }, a.shape, [this.outOperand(out, a.dtype, a.shape), this.operand(a), this.operand(b)], { parallel: true });
      return out;
    }
    const f = fixInt(a.dtype, BINARY[op]);
    const h = this.heapOf(a.dtype);
    const oa = this.offs(a);
    const ob = this.offs(b);
    const o = out.ptr / ITEM[a.dtype];
    for (let i = 0; i < n; i++) h[o + i] = f(h[oa[i]!]!, h[ob[i]!]!);
    return out;
  }

  compare(op: CompareOp, a: View, b: View): BufferHandle {
    const n = numel(a.shape);
    const out = this.alloc('bool', n);
    const k = KIND[a.dtype];
    if (k === 'f32' || k === 'f64') {
      this.ew(`c|${op}|${k}`, { out: 'u8', ins: [k, k], acc: false, scalar: floatCompare(op, k) }, a.shape, [this.outOperand(out, 'bool', a.shape), this.operand(a), this.operand(b)], { parallel: true });
      return out;
    }
    const f = COMPARE[op];
    const h = this.heapOf(a.dtype);
    const oa = this.offs(a);
    const ob = this.offs(b);
    const u8 = this.rt.heap.u8;
    for (let i = 0; i < n; i++) u8[out.ptr + i] = f(h[oa[i]!]!, h[ob[i]!]!) ? 1 : 0;
    return out;
  }

  where(cond: View, a: View, b: View): BufferHandle {
    const n = numel(a.shape);
    const out = this.alloc(a.dtype, n);
    const k = BITS[a.dtype];
    const spec: EwSpec = {
      out: k,
      ins: ['u8', k, k],
      acc: false,
      scalar: (f, [c, x, y]) => {
        x!();
        y!();
        c!();
        f.op(OP.select);
      },
    };
    this.ew(`where|${k}`, spec, a.shape, [this.outOperand(out, a.dtype, a.shape), this.operand(cond), this.operand(a), this.operand(b)], { parallel: true });
    return out;
  }

  reduce(op: ReduceOp, x: View, axes: readonly number[]): BufferHandle {
    const outShape = x.shape.filter((_, i) => !axes.includes(i));
    const n = numel(outShape);
    const out = this.alloc(x.dtype, n);
    const k = KIND[x.dtype];
    const init = op === 'sum' ? 0 : op === 'prod' ? 1 : op === 'max' ? -Infinity : Infinity;
    if ((k === 'f32' || k === 'f64') && op !== 'prod') {
      const h = this.heapOf(x.dtype);
      h.fill(init, out.ptr / ITEM[x.dtype], out.ptr / ITEM[x.dtype] + n);
      const s = floatBinary(op === 'sum' ? 'add' : op === 'max' ? 'maximum' : 'minimum', k)!;
      // Output strides over the input's dims: 0 along reduced axes.
      const cs = contiguousStrides(outShape);
      let j = 0;
      const ost = x.shape.map((_, i) => (axes.includes(i) ? 0 : cs[j++]! * ITEM[x.dtype]));
      this.ew(`r|${op}|${k}`, { out: k, ins: [k], acc: true, identity: init, ...s }, x.shape, [{ ptr: out.ptr, st: ost }, this.operand(x)], { reorder: true, parallel: true });
      return out;
    }
    const { offs, outer, inner } = this.reducedOrder(x, axes);
    const src = this.heapOf(x.dtype);
    const dst = src;
    const o0 = out.ptr / ITEM[x.dtype];
    for (let o = 0; o < outer; o++) {
      let acc = init;
      const base = o * inner;
      if (op === 'sum') for (let j = 0; j < inner; j++) acc += src[offs[base + j]!]!;
      else if (op === 'prod') for (let j = 0; j < inner; j++) acc *= src[offs[base + j]!]!;
      else if (op === 'max')
        for (let j = 0; j < inner; j++) {
          const v = src[offs[base + j]!]!;
          if (v > acc || v !== v) acc = v;
          if (acc !== acc) break;
        }
      else
        for (let j = 0; j < inner; j++) {
          const v = src[offs[base + j]!]!;
          if (v < acc || v !== v) acc = v;
          if (acc !== acc) break;
        }
      dst[o0 + o] = acc;
    }
    return out;
  }

  private reducedOrder(x: View, axes: readonly number[]): { offs: Int32Array; outer: number; inner: number } {
    const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const order = [...kept, ...axes];
    const shape = order.map((i) => x.shape[i]!);
    const strides = order.map((i) => x.strides[i]!);
    const inner = numel(axes.map((i) => x.shape[i]!));
    return { offs: offsetsOf(shape, strides, this.base(x)), outer: numel(kept.map((i) => x.shape[i]!)), inner };
  }

  argReduce(op: ArgReduceOp, x: View, axis: number): BufferHandle {
    const { offs, outer, inner } = this.reducedOrder(x, [axis]);
    const src = this.heapOf(x.dtype);
    const out = this.alloc('int32', outer);
    const dst = this.rt.heap.i32;
    const o0 = out.ptr / 4;
    const better = op === 'argmax' ? (v: number, b: number) => v > b : (v: number, b: number) => v < b;
    for (let o = 0; o < outer; o++) {
      const base = o * inner;
      let best = src[offs[base]!]!;
      let at = 0;
      for (let j = 1; j < inner && best === best; j++) {
        const v = src[offs[base + j]!]!;
        if (better(v, best) || v !== v) {
          best = v;
          at = j;
        }
      }
      dst[o0 + o] = at;
    }
    return out;
  }

  cast(x: View, dtype: DType): BufferHandle {
    if (dtype === x.dtype) return this.copy(x);
    const n = numel(x.shape);
    const out = this.alloc(dtype, n);
    const src = this.heapOf(x.dtype);
    const dst = this.heapOf(dtype);
    const o = out.ptr / ITEM[dtype];
    const offs = this.offs(x);
    if (dtype === 'bool') for (let i = 0; i < n; i++) dst[o + i] = src[offs[i]!]! !== 0 ? 1 : 0;
    else if (dtype === 'int32') for (let i = 0; i < n; i++) dst[o + i] = Math.trunc(src[offs[i]!]!);
    else for (let i = 0; i < n; i++) dst[o + i] = src[offs[i]!]!;
    return out;
  }

  private copySpec(dtype: DType, acc = false): EwSpec {
    const k = BITS[dtype];
    return { out: k, ins: [k], acc, scalar: (_f, [a]) => a!(), vector: KIND_BYTES[k] === 4 ? (_f, [a]) => a!() : undefined };
  }

  copy(x: View): BufferHandle {
    const out = this.alloc(x.dtype, numel(x.shape));
    this.ew(`copy|${BITS[x.dtype]}`, this.copySpec(x.dtype), x.shape, [this.outOperand(out, x.dtype, x.shape), this.operand(x)], { parallel: true });
    return out;
  }

  embed(x: View, size: number, offset: number, strides: readonly number[]): BufferHandle {
    const out = this.alloc(x.dtype, size, true);
    const k = KIND[x.dtype];
    const it = ITEM[x.dtype];
    if (k === 'f32' || k === 'f64') {
      const s = floatBinary('add', k)!;
      // Split across threads only where chunks write disjoint positions (they may repeat).
      this.ew(`embed|${k}`, { out: k, ins: [k], acc: true, ...s }, x.shape, [{ ptr: out.ptr + offset * it, st: strides.map((v) => v * it) }, this.operand(x)], { parallel: true });
      return out;
    }
    const h = this.heapOf(x.dtype);
    const src = this.offs(x);
    const dst = offsetsOf(x.shape, strides, out.ptr / it + offset);
    for (let i = 0; i < src.length; i++) h[dst[i]!] += h[src[i]!]!;
    return out;
  }

  cat(xs: readonly View[], axis: number): BufferHandle {
    const first = xs[0]!;
    const total = xs.reduce((acc, x) => acc + x.shape[axis]!, 0);
    const shape = first.shape.map((d, i) => (i === axis ? total : d));
    const out = this.alloc(first.dtype, numel(shape));
    const it = ITEM[first.dtype];
    const ost = contiguousStrides(shape).map((s) => s * it);
    let at = 0;
    for (const x of xs) {
      this.ew(`copy|${BITS[x.dtype]}`, this.copySpec(x.dtype), x.shape, [{ ptr: out.ptr + at * ost[axis]!, st: ost }, this.operand(x)], { parallel: true });
      at += x.shape[axis]!;
    }
    return out;
  }

  gather(x: View, axis: number, index: View): BufferHandle {
    const src = this.heapOf(x.dtype);
    const ih = this.rt.heap.i32;
    const idx = this.offs(index);
    const base = offsetsOf(index.shape, x.strides, this.base(x));
    const out = this.alloc(x.dtype, idx.length);
    const o = out.ptr / ITEM[x.dtype];
    const st = x.strides[axis]!;
    const len = x.shape[axis]!;
    for (let i = 0; i < idx.length; i++) {
      const k = ih[idx[i]!]!;
      if (k < 0 || k >= len) {
        this.free(out);
        throw new RangeError(`gather: index ${k} is out of range for dimension ${axis} of length ${len}`);
      }
      src[o + i] = src[base[i]! - axisPart(i, index.shape, axis) * st + k * st]!;
    }
    return out;
  }

  scatterAdd(src: View, axis: number, index: View, shape: readonly number[]): BufferHandle {
    const n = numel(shape);
    const out = this.alloc(src.dtype, n, true);
    const h = this.heapOf(src.dtype);
    const ih = this.rt.heap.i32;
    const vals = this.offs(src);
    const idx = this.offs(index);
    const strides = contiguousStrides(shape);
    const o = out.ptr / ITEM[src.dtype];
    const base = offsetsOf(index.shape, strides, o);
    const st = strides[axis]!;
    const len = shape[axis]!;
    for (let i = 0; i < idx.length; i++) {
      const k = ih[idx[i]!]!;
      if (k < 0 || k >= len) {
        this.free(out);
        throw new RangeError(`scatterAdd: index ${k} is out of range for dimension ${axis} of length ${len}`);
      }
      h[base[i]! - axisPart(i, index.shape, axis) * st + k * st] += h[vals[i]!]!;
    }
    return out;
  }

  /** Host-side: each row is read from the heap, sorted with the stable `Array.prototype.sort`, and written back. */
  sort(x: View, descending: boolean): SortResult {
    const n = numel(x.shape);
    const len = x.shape.length ? x.shape[x.shape.length - 1]! : 1;
    const values = this.alloc(x.dtype, n);
    const indices = this.alloc('int32', n);
    const offs = this.offs(x); // heap element offsets, row-major
    const h = this.heapOf(x.dtype); // taken after the allocations, which may grow the heap
    const ih = this.rt.heap.i32;
    const vo = values.ptr / ITEM[x.dtype];
    const io = indices.ptr / 4;
    const row = new Float64Array(len);
    const order = Array.from({ length: len }, (_, i) => i);
    for (let r = 0; r * len < n; r++) {
      for (let i = 0; i < len; i++) {
        row[i] = h[offs[r * len + i]!]!;
        order[i] = i;
      }
      order.sort(sortComparator(row, descending));
      for (let i = 0; i < len; i++) {
        h[vo + r * len + i] = row[order[i]!]!;
        ih[io + r * len + i] = order[i]!;
      }
    }
    return { values, indices };
  }

  matmul(a: View, b: View): BufferHandle {
    const nd = a.shape.length;
    const M = a.shape[nd - 2]!;
    const K = a.shape[nd - 1]!;
    const N = b.shape[nd - 1]!;
    const batchShape = a.shape.slice(0, nd - 2);
    const batches = numel(batchShape);
    const out = this.alloc(a.dtype, batches * M * N);
    const aBase = offsetsOf(batchShape, a.strides.slice(0, nd - 2), this.base(a));
    const bBase = offsetsOf(batchShape, b.strides.slice(0, nd - 2), this.base(b));
    const [am, ak] = [a.strides[nd - 2]!, a.strides[nd - 1]!];
    const [bk, bn] = [b.strides[nd - 2]!, b.strides[nd - 1]!];
    if (a.dtype === 'float32') {
      if (M * N === 0) return out;
      if (K === 0) {
        this.rt.heap.f32.fill(0, out.ptr / 4, out.ptr / 4 + batches * M * N);
        return out;
      }
      this.gemm.batched(
        Array.from(aBase, (v) => v * 4),
        Array.from(bBase, (v) => v * 4),
        out.ptr,
        { M, N, K, am: am * 4, ak: ak * 4, bk: bk * 4, bn: bn * 4 },
      );
      return out;
    }
    const sa = this.heapOf(a.dtype);
    const o = out.ptr / ITEM[a.dtype];
    const row = new Float64Array(N);
    for (let batch = 0; batch < batches; batch++) {
      const ao = aBase[batch]!;
      const bo = bBase[batch]!;
      for (let i = 0; i < M; i++) {
        row.fill(0);
        for (let k = 0; k < K; k++) {
          const av = sa[ao + i * am + k * ak]!;
          const bRow = bo + k * bk;
          for (let j = 0; j < N; j++) row[j]! += av * sa[bRow + j * bn]!;
        }
        sa.set(row, o + (batch * M + i) * N);
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- fused kernels

  conv2d(x: View, w: View, p: Conv2dParams): BufferHandle {
    return this.conv.forward(this, x, w, p);
  }
  conv2dBackwardInput(gy: View, w: View, xShape: readonly number[], p: Conv2dParams): BufferHandle {
    return this.conv.backwardInput(this, gy, w, xShape, p);
  }
  conv2dBackwardWeight(x: View, gy: View, wShape: readonly number[], p: Conv2dParams): BufferHandle {
    return this.conv.backwardWeight(this, x, gy, wShape, p);
  }
  matmulEpilogue(a: View, b: View, ep: MatmulEpilogue): MatmulEpilogueResult | null {
    return matmulEpilogue(this, a, b, ep);
  }
  gelu(x: View, approximate: 'none' | 'tanh'): BufferHandle {
    return this.rows.gelu(this, x, approximate);
  }
  geluBackward(x: View, g: View, approximate: 'none' | 'tanh'): BufferHandle {
    return this.rows.geluBackward(this, x, g, approximate);
  }
  normalize(x: View, outer: number, len: number, inner: number, eps: number): BufferHandle {
    return this.rows.normalize(this, x, outer, len, inner, eps);
  }
  normalizeBackward(x: View, g: View, outer: number, len: number, inner: number, eps: number): BufferHandle {
    return this.rows.normalizeBackward(this, x, g, outer, len, inner, eps);
  }
  logSoftmax(x: View, outer: number, len: number, inner: number): BufferHandle {
    return this.rows.logSoftmax(this, x, outer, len, inner);
  }
  logSoftmaxBackward(y: View, g: View, outer: number, len: number, inner: number): BufferHandle {
    return this.rows.logSoftmaxBackward(this, y, g, outer, len, inner);
  }

  adamStep(param: View, grad: View, expAvg: View, expAvgSq: View, maxExpAvgSq: View | null, h: AdamHyper): AdamStepResult {
    return this.optim.adamStep(this, param, grad, expAvg, expAvgSq, maxExpAvgSq, h);
  }
  totalNorm(xs: readonly View[], normType: number): BufferHandle {
    return this.optim.totalNorm(this, xs, normType);
  }
  clipScale(xs: readonly View[], total: View, maxNorm: number): BufferHandle[] {
    return this.optim.clipScale(this, xs, total, maxNorm);
  }

  // ---------------------------------------------------------------- helpers for kernels

  /** Copies `shape` elements from `src` to `dst` (byte addresses and byte strides). */
  copyStrided(dtype: DType, shape: readonly number[], dst: Operand, src: Operand): void {
    this.ew(`copy|${BITS[dtype]}`, this.copySpec(dtype), shape, [dst, src], { parallel: true });
  }

  /** `dst += src` over `shape` (float32; `dst` positions may repeat: split only into chunks that write disjoint positions). */
  addStrided(shape: readonly number[], dst: Operand, src: Operand): void {
    this.ew('embed|f32', { out: 'f32', ins: ['f32'], acc: true, ...floatBinary('add', 'f32')! }, shape, [dst, src], { parallel: true });
  }

  /** Byte address of a view's element 0. */
  addr(v: View): number {
    return this.bufOf(v).ptr + v.offset * ITEM[v.dtype];
  }

  /** A contiguous copy of `v` when it is not contiguous from its element 0 (caller frees `tmp`). */
  contiguousView(v: View): { ptr: number; tmp: WasmBuffer | null } {
    const cs = contiguousStrides(v.shape);
    if (v.shape.every((d, i) => d === 1 || v.strides[i] === cs[i])) return { ptr: this.addr(v), tmp: null };
    const b = this.copy(v) as WasmBuffer;
    return { ptr: b.ptr, tmp: b };
  }

  /** Host values of a view (any strides, any dtype) as float64, row-major. */
  hostValues(v: View): Float64Array {
    const h = this.heapOf(v.dtype);
    const offs = this.offs(v);
    const out = new Float64Array(offs.length);
    for (let i = 0; i < offs.length; i++) out[i] = h[offs[i]!]!;
    return out;
  }

  /** A new buffer of `dtype` holding `data`. */
  fromHost(dtype: DType, data: Float64Array): WasmBuffer {
    const b = this.alloc(dtype, data.length);
    this.heapOf(dtype).set(data, b.ptr / ITEM[dtype]);
    return b;
  }
}
