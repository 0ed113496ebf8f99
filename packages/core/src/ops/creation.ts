/** Creating tensors: from data, constants, ranges and the seeded random generator. */
import type { Backend } from '../backend.js';
import { allocArray, checkDType, dtypeOfArray, type DType, type TypedArray } from '../dtype.js';
import { getBackend } from '../registry.js';
import { defaultGenerator, type Generator } from '../rng.js';
import { checkShape, fmtShape, numel, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';

/** Options for creating a tensor. */
export interface CreateOptions {
  /** Element type; `float32` unless the data says otherwise. */
  readonly dtype?: DType;
  /** Backend (defaults to the current one). */
  readonly backend?: Backend;
}

/** Options for random creation. */
export interface RandomOptions extends CreateOptions {
  /** A generator other than the default one. */
  readonly generator?: Generator;
}

/** Nested arrays of numbers or booleans. */
export type NestedArray = number | boolean | readonly NestedArray[];

/** Wraps a typed array as a tensor of `shape` (the data is copied to the backend). */
export function fromTypedArray(data: TypedArray | readonly number[], shape: Shape, dtype: DType, backend: Backend = getBackend()): Tensor {
  const s = checkShape(shape, 'tensor');
  if (data.length !== numel(s)) {
    throw new RangeError(`tensor: data has ${data.length} elements but shape ${fmtShape(s)} needs ${numel(s)}`);
  }
  const arr = allocArray(dtype, data.length);
  arr.set(data as ArrayLike<number>);
  return Tensor.fromBuffer(backend, backend.upload(arr, dtype), s, dtype);
}

function inferShape(data: NestedArray): number[] {
  const shape: number[] = [];
  let d: NestedArray = data;
  while (Array.isArray(d)) {
    shape.push(d.length);
    d = (d as readonly NestedArray[])[0]!;
  }
  return shape;
}

function flattenNested(data: NestedArray, shape: readonly number[], dim: number, out: number[]): void {
  if (dim === shape.length) {
    if (Array.isArray(data)) throw new RangeError('tensor: nested arrays are ragged (deeper than the first element)');
    out.push(typeof data === 'boolean' ? Number(data) : (data as number));
    return;
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new RangeError(`tensor: nested arrays are ragged: expected length ${shape[dim]} at depth ${dim}`);
  }
  for (const x of data as readonly NestedArray[]) flattenNested(x, shape, dim + 1, out);
}

/**
 * A tensor from nested arrays, a flat array with `shape`, a typed array, or a number.
 * The dtype is taken from a typed array, `bool` for booleans, `float32` otherwise.
 *
 * Differs from PyTorch: numbers give `float32` even when all are integers (`torch.tensor([0, 1])`
 * is int64). JavaScript has no integer literals — `1.0` and `1` are the same number — so
 * inferring int32 would turn `tensor([1.0, 2.0])` into integers. Ask for integers with
 * `{ dtype: 'int32' }` (class indices, gather/scatter indices), or pass an `Int32Array`.
 */
export function tensor(data: NestedArray | TypedArray, opts: CreateOptions & { shape?: Shape } = {}): Tensor {
  if (ArrayBuffer.isView(data)) {
    const dtype = opts.dtype ?? dtypeOfArray(data as TypedArray);
    return fromTypedArray(data as TypedArray, opts.shape ?? [(data as TypedArray).length], checkDType(dtype, 'tensor'), opts.backend);
  }
  const shape = inferShape(data);
  const flat: number[] = [];
  flattenNested(data, shape, 0, flat);
  const first = Array.isArray(data) ? flat.length > 0 && typeof leftmost(data) === 'boolean' : typeof data === 'boolean';
  const dtype = checkDType(opts.dtype ?? (first ? 'bool' : 'float32'), 'tensor');
  return fromTypedArray(flat, opts.shape ?? shape, dtype, opts.backend);
}

function leftmost(d: NestedArray): NestedArray {
  while (Array.isArray(d)) d = (d as readonly NestedArray[])[0]!;
  return d;
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  const s = checkShape(shape, 'full');
  const dtype = opts.dtype ?? 'float32';
  const arr = allocArray(dtype, numel(s));
  arr.fill(dtype === 'bool' ? Number(value !== 0) : value);
  return fromTypedArray(arr, s, dtype, opts.backend);
}

/** Zeros of `shape`. */
export function zeros(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 0, opts);
}

/** Ones of `shape`. */
export function ones(shape: Shape, opts: CreateOptions = {}): Tensor {
  return full(shape, 1, opts);
}

function likeOpts(t: Tensor, opts: CreateOptions): CreateOptions {
  return { dtype: opts.dtype ?? t.dtype, backend: opts.backend ?? t.backend };
}

/** `value` in the shape, dtype and backend of `t`. */
export function fullLike(t: Tensor, value: number, opts: CreateOptions = {}): Tensor {
  return full(t.shape, value, likeOpts(t, opts));
}
/** Zeros in the shape, dtype and backend of `t`. */
export function zerosLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return full(t.shape, 0, likeOpts(t, opts));
}
/** Ones in the shape, dtype and backend of `t`. */
export function onesLike(t: Tensor, opts: CreateOptions = {}): Tensor {
  return full(t.shape, 1, likeOpts(t, opts));
}

/** `start, start+step, ...` below `end`; `arange(n)` is `0..n-1` (int32 for integer arguments). */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0) throw new RangeError('arange: step must not be 0');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const ints = [start, end, step].every(Number.isInteger);
  const dtype = opts.dtype ?? (ints ? 'int32' : 'float32');
  const arr = allocArray(dtype, n);
  for (let i = 0; i < n; i++) arr[i] = start + i * step;
  return fromTypedArray(arr, [n], dtype, opts.backend);
}

/** `steps` evenly spaced values from `start` to `end` inclusive. */
export function linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const dtype = opts.dtype ?? 'float32';
  const arr = allocArray(dtype, steps);
  const delta = steps > 1 ? (end - start) / (steps - 1) : 0;
  // Symmetric formula, as PyTorch, so that both ends are exact.
  for (let i = 0; i < steps; i++) arr[i] = i < steps / 2 ? start + i * delta : end - (steps - 1 - i) * delta;
  return fromTypedArray(arr, [steps], dtype, opts.backend);
}

/** The `n x m` identity matrix (`m` defaults to `n`). */
export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  const dtype = opts.dtype ?? 'float32';
  const arr = allocArray(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) arr[i * m + i] = 1;
  return fromTypedArray(arr, [n, m], dtype, opts.backend);
}

function floatDtype(opts: CreateOptions, op: string): DType {
  const dtype = opts.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') throw new TypeError(`${op}: dtype must be float32 or float64, not ${dtype}`);
  return dtype;
}

/** Uniform values in `[0, 1)` from the seeded Philox generator. */
export function rand(shape: Shape, opts: RandomOptions = {}): Tensor {
  const s = checkShape(shape, 'rand');
  const g = opts.generator ?? defaultGenerator;
  return fromTypedArray(g.uniform(numel(s)), s, floatDtype(opts, 'rand'), opts.backend);
}

/** Standard normal values from the seeded Philox generator. */
export function randn(shape: Shape, opts: RandomOptions = {}): Tensor {
  const s = checkShape(shape, 'randn');
  const g = opts.generator ?? defaultGenerator;
  return fromTypedArray(g.normal(numel(s)), s, floatDtype(opts, 'randn'), opts.backend);
}

/** Integers uniform in `[low, high)` (int32 unless `dtype` says otherwise). */
export function randint(low: number, high: number, shape: Shape, opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new RangeError(`randint: need integers low < high, got low=${low}, high=${high}`);
  }
  const s = checkShape(shape, 'randint');
  const g = opts.generator ?? defaultGenerator;
  const u = g.uniform(numel(s));
  const out = new Float64Array(u.length);
  for (let i = 0; i < u.length; i++) out[i] = low + Math.floor(u[i]! * (high - low));
  return fromTypedArray(out, s, opts.dtype ?? 'int32', opts.backend);
}

/** Uniform values in `[0, 1)` shaped like `t`. */
export function randLike(t: Tensor, opts: RandomOptions = {}): Tensor {
  return rand(t.shape, { ...likeOpts(t, opts), generator: opts.generator });
}
/** Standard normal values shaped like `t`. */
export function randnLike(t: Tensor, opts: RandomOptions = {}): Tensor {
  return randn(t.shape, { ...likeOpts(t, opts), generator: opts.generator });
}
/** Random integers in `[low, high)` shaped like `t`. */
export function randintLike(t: Tensor, low: number, high: number, opts: RandomOptions = {}): Tensor {
  return randint(low, high, t.shape, { backend: t.backend, ...opts });
}

/** A scalar (0-d) tensor of `value` with the dtype and backend of `like`. */
export function scalarLike(value: number, like: Tensor): Tensor {
  return full([], value, { dtype: like.dtype, backend: like.backend });
}
