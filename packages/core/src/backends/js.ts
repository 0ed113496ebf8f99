/**
 * The `js` backend: plain TypeScript over typed arrays. It is the reference every other
 * backend is tested against, so it favours clarity and exactness (it accumulates in
 * float64) over speed.
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
  ReduceOp,
  SortResult,
  UnaryOp,
  View,
} from '../backend.js';
import { sortComparator } from '../backend.js';
import { allocArray, type DType, type TypedArray } from '../dtype.js';
import { contiguousStrides, numel, type Shape } from '../shape.js';
import { SCALAR_BINARY as BINARY, SCALAR_COMPARE as COMPARE, SCALAR_UNARY as UNARY, truncateIntResult as fixInt } from './scalar.js';
import { offsetsOf, viewOffsets } from './strided.js';
import { adamStepF32, clipCoef, normOf, normOfNorms } from './optim-kernels.js';

/** A js-backend buffer: a typed array. */
interface JsBuffer {
  readonly data: TypedArray;
}

/** The reference CPU backend. */
export class JsBackend implements Backend {
  readonly name: string = 'js';
  readonly canReadSync = true;
  private live = new Set<JsBuffer>();
  private liveBytes = 0;
  private peak = 0;

  private wrap(data: TypedArray): BufferHandle {
    const b: JsBuffer = { data };
    this.live.add(b);
    this.liveBytes += data.byteLength;
    if (this.liveBytes > this.peak) this.peak = this.liveBytes;
    return b;
  }

  private arr(v: View | BufferHandle): TypedArray {
    const b = ('buffer' in v ? v.buffer : v) as JsBuffer;
    return b.data;
  }

  upload(data: TypedArray, dtype: DType): BufferHandle {
    const out = allocArray(dtype, data.length);
    out.set(data);
    return this.wrap(out);
  }

  read(buffer: BufferHandle, dtype: DType, size: number): Promise<TypedArray> {
    return Promise.resolve(this.readSync(buffer, dtype, size));
  }

  readSync(buffer: BufferHandle, _dtype: DType, size: number): TypedArray {
    return this.arr(buffer).slice(0, size);
  }

  free(buffer: BufferHandle): void {
    const b = buffer as JsBuffer;
    if (this.live.delete(b)) this.liveBytes -= b.data.byteLength;
  }

  memory(): BackendMemory {
    return { buffers: this.live.size, bytes: this.liveBytes, peakBytes: this.peak };
  }

  resetPeak(): void {
    this.peak = this.liveBytes;
  }

  /** Reads a view element by element, in row-major order, into a fresh array of its dtype. */
  private gatherView(v: View): TypedArray {
    const src = this.arr(v);
    const n = numel(v.shape);
    const offs = viewOffsets(v);
    const out = allocArray(v.dtype, n);
    if (offs === null) out.set(src.subarray(0, n));
    else for (let i = 0; i < n; i++) out[i] = src[offs[i]!]!;
    return out;
  }

  unary(op: UnaryOp, x: View): BufferHandle {
    const f = UNARY[op];
    const src = this.arr(x);
    const n = numel(x.shape);
    const offs = viewOffsets(x);
    const out = allocArray(x.dtype, n);
    if (offs === null) for (let i = 0; i < n; i++) out[i] = f(src[i]!);
    else for (let i = 0; i < n; i++) out[i] = f(src[offs[i]!]!);
    return this.wrap(out);
  }

  binary(op: BinaryOp, a: View, b: View): BufferHandle {
    const f = fixInt(a.dtype, BINARY[op]);
    const out = allocArray(a.dtype, numel(a.shape));
    this.zip(a, b, (x, y, i) => (out[i] = f(x, y)));
    return this.wrap(out);
  }

  compare(op: CompareOp, a: View, b: View): BufferHandle {
    const f = COMPARE[op];
    const out = allocArray('bool', numel(a.shape));
    this.zip(a, b, (x, y, i) => (out[i] = f(x, y) ? 1 : 0));
    return this.wrap(out);
  }

  private zip(a: View, b: View, f: (x: number, y: number, i: number) => void): void {
    const sa = this.arr(a);
    const sb = this.arr(b);
    const n = numel(a.shape);
    const oa = viewOffsets(a);
    const ob = viewOffsets(b);
    for (let i = 0; i < n; i++) f(sa[oa ? oa[i]! : i]!, sb[ob ? ob[i]! : i]!, i);
  }

  where(cond: View, a: View, b: View): BufferHandle {
    const c = this.gatherView(cond);
    const out = allocArray(a.dtype, numel(a.shape));
    this.zip(a, b, (x, y, i) => (out[i] = c[i] ? x : y));
    return this.wrap(out);
  }

  reduce(op: ReduceOp, x: View, axes: readonly number[]): BufferHandle {
    const { offs, outer, inner } = this.reducedOrder(x, axes);
    const src = this.arr(x);
    const out = allocArray(x.dtype, outer);
    const init = op === 'sum' ? 0 : op === 'prod' ? 1 : op === 'max' ? -Infinity : Infinity;
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
      out[o] = acc;
    }
    return this.wrap(out);
  }

  argReduce(op: ArgReduceOp, x: View, axis: number): BufferHandle {
    const { offs, outer, inner } = this.reducedOrder(x, [axis]);
    const src = this.arr(x);
    const out = allocArray('int32', outer);
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
      out[o] = at;
    }
    return this.wrap(out);
  }

  /** Offsets of `x` permuted so that the reduced axes come last: `outer` rows of `inner` values. */
  private reducedOrder(x: View, axes: readonly number[]): { offs: Int32Array; outer: number; inner: number } {
    const kept = x.shape.map((_, i) => i).filter((i) => !axes.includes(i));
    const order = [...kept, ...axes];
    const shape = order.map((i) => x.shape[i]!);
    const strides = order.map((i) => x.strides[i]!);
    const inner = numel(axes.map((i) => x.shape[i]!));
    return { offs: offsetsOf(shape, strides, x.offset), outer: numel(kept.map((i) => x.shape[i]!)), inner };
  }

  cast(x: View, dtype: DType): BufferHandle {
    const src = this.gatherView(x);
    const out = allocArray(dtype, src.length);
    if (dtype === 'bool') for (let i = 0; i < src.length; i++) out[i] = src[i] !== 0 ? 1 : 0;
    else if (dtype === 'int32') for (let i = 0; i < src.length; i++) out[i] = Math.trunc(src[i]!);
    else out.set(src);
    return this.wrap(out);
  }

  copy(x: View): BufferHandle {
    return this.wrap(this.gatherView(x));
  }

  embed(x: View, size: number, offset: number, strides: readonly number[]): BufferHandle {
    const out = allocArray(x.dtype, size);
    const src = this.gatherView(x);
    const dst = offsetsOf(x.shape, strides, offset);
    for (let i = 0; i < src.length; i++) out[dst[i]!] += src[i]!;
    return this.wrap(out);
  }

  cat(xs: readonly View[], axis: number): BufferHandle {
    const first = xs[0]!;
    const outer = numel(first.shape.slice(0, axis));
    const inner = numel(first.shape.slice(axis + 1));
    const total = xs.reduce((acc, x) => acc + x.shape[axis]!, 0);
    const out = allocArray(first.dtype, outer * total * inner);
    let at = 0;
    for (const x of xs) {
      const part = this.gatherView(x);
      const chunk = x.shape[axis]! * inner;
      for (let o = 0; o < outer; o++) out.set(part.subarray(o * chunk, (o + 1) * chunk), o * total * inner + at);
      at += chunk;
    }
    return this.wrap(out);
  }

  gather(x: View, axis: number, index: View): BufferHandle {
    const src = this.arr(x);
    const idx = this.gatherView(index);
    // Offsets of x at the index's positions with the gathered axis pinned to 0.
    const base = offsetsOf(index.shape, x.strides, x.offset);
    const out = allocArray(x.dtype, idx.length);
    const st = x.strides[axis]!;
    const len = x.shape[axis]!;
    for (let i = 0; i < idx.length; i++) {
      const k = idx[i]!;
      if (k < 0 || k >= len) throw new RangeError(`gather: index ${k} is out of range for dimension ${axis} of length ${len}`);
      out[i] = src[base[i]! - this.axisPart(i, index.shape, axis) * st + k * st]!;
    }
    return this.wrap(out);
  }

  /** The coordinate along `axis` of flat index `i` in `shape`. */
  private axisPart(i: number, shape: Shape, axis: number): number {
    let inner = 1;
    for (let d = axis + 1; d < shape.length; d++) inner *= shape[d]!;
    return Math.floor(i / inner) % shape[axis]!;
  }

  scatterAdd(src: View, axis: number, index: View, shape: Shape): BufferHandle {
    const out = allocArray(src.dtype, numel(shape));
    const vals = this.gatherView(src);
    const idx = this.gatherView(index);
    const strides = contiguousStrides(shape);
    const base = offsetsOf(index.shape, strides, 0);
    const st = strides[axis]!;
    const len = shape[axis]!;
    for (let i = 0; i < idx.length; i++) {
      const k = idx[i]!;
      if (k < 0 || k >= len) throw new RangeError(`scatterAdd: index ${k} is out of range for dimension ${axis} of length ${len}`);
      out[base[i]! - this.axisPart(i, index.shape, axis) * st + k * st] += vals[i]!;
    }
    return this.wrap(out);
  }

  matmul(a: View, b: View): BufferHandle {
    const nd = a.shape.length;
    const M = a.shape[nd - 2]!;
    const K = a.shape[nd - 1]!;
    const N = b.shape[nd - 1]!;
    const batchShape = a.shape.slice(0, nd - 2);
    const aBase = offsetsOf(batchShape, a.strides.slice(0, nd - 2), a.offset);
    const bBase = offsetsOf(batchShape, b.strides.slice(0, nd - 2), b.offset);
    const [am, ak] = [a.strides[nd - 2]!, a.strides[nd - 1]!];
    const [bk, bn] = [b.strides[nd - 2]!, b.strides[nd - 1]!];
    const sa = this.arr(a);
    const sb = this.arr(b);
    const out = allocArray(a.dtype, aBase.length * M * N);
    const row = new Float64Array(N);
    for (let batch = 0; batch < aBase.length; batch++) {
      const ao = aBase[batch]!;
      const bo = bBase[batch]!;
      for (let i = 0; i < M; i++) {
        row.fill(0);
        for (let k = 0; k < K; k++) {
          const av = sa[ao + i * am + k * ak]!;
          const bRow = bo + k * bk;
          for (let j = 0; j < N; j++) row[j]! += av * sb[bRow + j * bn]!;
        }
        out.set(row, (batch * M + i) * N);
      }
    }
    return this.wrap(out);
  }

  sort(x: View, descending: boolean): SortResult {
    const src = this.gatherView(x);
    const len = x.shape.length ? x.shape[x.shape.length - 1]! : 1;
    const vals = allocArray(x.dtype, src.length);
    const idx = new Int32Array(src.length);
    const order = Array.from({ length: len }, (_, i) => i);
    for (let r = 0; r * len < src.length; r++) {
      const row = src.subarray(r * len, (r + 1) * len);
      for (let i = 0; i < len; i++) order[i] = i;
      order.sort(sortComparator(row, descending)); // Array.prototype.sort is stable
      for (let i = 0; i < len; i++) {
        vals[r * len + i] = row[order[i]!]!;
        idx[r * len + i] = order[i]!;
      }
    }
    return { values: this.wrap(vals), indices: this.wrap(idx) };
  }

  // ---- fused optimizer kernels (dense float32 views, see FusedKernels)

  private f32(v: View): Float32Array {
    return (this.arr(v) as Float32Array).subarray(0, numel(v.shape));
  }

  adamStep(param: View, grad: View, expAvg: View, expAvgSq: View, maxExpAvgSq: View | null, h: AdamHyper): AdamStepResult {
    const n = numel(param.shape);
    const [p, m, v] = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
    const vm = maxExpAvgSq ? new Float32Array(n) : null;
    adamStepF32(this.f32(param), this.f32(grad), this.f32(expAvg), this.f32(expAvgSq), maxExpAvgSq ? this.f32(maxExpAvgSq) : null, p, m, v, vm, h);
    return { param: this.wrap(p), expAvg: this.wrap(m), expAvgSq: this.wrap(v), maxExpAvgSq: vm ? this.wrap(vm) : null };
  }

  totalNorm(xs: readonly View[], normType: number): BufferHandle {
    const norms = xs.map((x) => Math.fround(normOf(this.f32(x), normType)));
    return this.wrap(Float32Array.of(normOfNorms(norms, normType)));
  }

  clipScale(xs: readonly View[], total: View, maxNorm: number): BufferHandle[] {
    const c = clipCoef(this.f32(total)[0]!, maxNorm);
    return xs.map((x) => this.wrap(this.f32(x).map((e) => e * c)));
  }
}
