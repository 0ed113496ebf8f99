/** Creating tensors: from data, constants, ranges and the seeded random generator. */
import type { Backend } from '../backend.js';
import { allocArray, checkDType, dtypeOfArray, INT32_MAX, INT32_MIN, itemSize, storedValue, toDTypeArray, type DType, type TypedArray } from '../dtype.js';
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

function fmtBytes(n: number): string {
  if (n >= 2 ** 30) return `${(n / 2 ** 30).toFixed(2)} GiB`;
  if (n >= 2 ** 20) return `${(n / 2 ** 20).toFixed(1)} MiB`;
  if (n >= 2 ** 10) return `${(n / 2 ** 10).toFixed(1)} KiB`;
  return `${n} B`;
}

/**
 * Runs one allocation of a tensor of `shape` (host staging or device buffer); a RangeError
 * from it (the backend's memory limit, or the engine refusing a huge host array) is
 * rethrown naming the op, the shape, the dtype and the bytes, with the backend's reason.
 */
function allocating<R>(op: string, shape: Shape, dtype: DType, backend: Backend, make: () => R): R {
  try {
    return make();
  } catch (e) {
    if (!(e instanceof RangeError)) throw e;
    const bytes = numel(shape) * itemSize(dtype);
    throw new RangeError(`${op}: cannot create a tensor of shape ${fmtShape(shape)} (${dtype}, ${fmtBytes(bytes)}) on the '${backend.name}' backend: ${e.message}`, { cause: e });
  }
}

/** Host staging at least this large is preceded by a device-side size check. */
const PROBE_BYTES = 64 * 2 ** 20;

/**
 * Before a large host array is filled for an upload, asks the backend for the buffer
 * (`fill`), so that a tensor too large for it fails at once, before gigabytes are staged.
 * The probe buffer is freed at once (on wasm its block is then reused by the upload).
 */
function checkFits(op: string, shape: Shape, dtype: DType, backend: Backend): void {
  const n = numel(shape);
  if (!backend.fill || n * itemSize(dtype) < PROBE_BYTES) return;
  backend.free(allocating(op, shape, dtype, backend, () => backend.fill!(0, dtype, n)));
}

/**
 * Wraps host values as a tensor of `shape` (copied to the backend). Values are checked for
 * `dtype` (int32: integers in range, no NaN/Inf, truncated toward zero; bool: non-zero is true).
 */
export function fromTypedArray(data: TypedArray | readonly number[], shape: Shape, dtype: DType, backend: Backend = getBackend()): Tensor {
  return upload('tensor', data, shape, dtype, backend);
}

function upload(op: string, data: ArrayLike<number>, shape: Shape, dtype: DType, backend: Backend): Tensor {
  const s = checkShape(shape, op);
  checkDType(dtype, op);
  if (data.length !== numel(s)) {
    throw new RangeError(`${op}: data has ${data.length} elements but shape ${fmtShape(s)} needs ${numel(s)}`);
  }
  const arr = toDTypeArray(data, dtype, op);
  return Tensor.fromBuffer(backend, allocating(op, s, dtype, backend, () => backend.upload(arr, dtype)), s, dtype);
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

function describe(v: unknown): string {
  if (typeof v === 'string') return `the string '${v}'`;
  if (v === null) return 'null';
  if (typeof v === 'object') return `an object (${Object.prototype.toString.call(v)})`;
  return `${typeof v === 'undefined' ? 'undefined' : `a ${typeof v}`}`;
}

/**
 * Writes nested arrays' elements, checked, straight into `out` (a typed array of `dtype`,
 * or float32 while the dtype is being inferred); returns whether every element was a boolean.
 */
function flattenNested(data: NestedArray, shape: readonly number[], dim: number, out: TypedArray, at: { k: number }, dtype: DType | null, path: number[]): boolean {
  if (dim === shape.length) {
    if (Array.isArray(data)) throw new RangeError('tensor: nested arrays are ragged (deeper than the first element)');
    if (typeof data !== 'number' && typeof data !== 'boolean') {
      throw new TypeError(`tensor: element ${where(path)} is ${describe(data)}; elements must be numbers or booleans`);
    }
    const v = Number(data);
    out[at.k++] = dtype ? storedValue(v, dtype, 'tensor', () => ` at ${where(path)}`) : v;
    return typeof data === 'boolean';
  }
  if (!Array.isArray(data) || data.length !== shape[dim]) {
    throw new RangeError(`tensor: nested arrays are ragged: expected length ${shape[dim]} at depth ${dim}`);
  }
  let bools = true;
  const items = data as readonly NestedArray[];
  for (let i = 0; i < items.length; i++) {
    path.push(i);
    bools = flattenNested(items[i]!, shape, dim + 1, out, at, dtype, path) && bools;
    path.pop();
  }
  return bools;
}

function where(path: readonly number[]): string {
  return path.length ? `[${path.join('][')}]` : '(the scalar)';
}

/**
 * A tensor from nested arrays, a flat array with `shape`, a typed array, or a number.
 * The dtype is taken from a typed array, `bool` when every element is a boolean, `float32`
 * otherwise. Elements must be numbers or booleans (a TypeError names the first that is not);
 * int32 values must fit int32 (a RangeError otherwise: typed arrays would wrap them).
 * Nested arrays are written straight into one typed array, which the backend copies.
 *
 * Differs from PyTorch: numbers give `float32` even when all are integers (`torch.tensor([0, 1])`
 * is int64). JavaScript has no integer literals — `1.0` and `1` are the same number — so
 * inferring int32 would turn `tensor([1.0, 2.0])` into integers. Ask for integers with
 * `{ dtype: 'int32' }` (class indices, gather/scatter indices), or pass an `Int32Array`.
 */
export function tensor(data: NestedArray | TypedArray, opts: CreateOptions & { shape?: Shape } = {}): Tensor {
  const backend = opts.backend ?? getBackend();
  if (ArrayBuffer.isView(data)) {
    const dtype = checkDType(opts.dtype ?? dtypeOfArray(data as TypedArray), 'tensor');
    return upload('tensor', data as TypedArray, opts.shape ?? [(data as TypedArray).length], dtype, backend);
  }
  const shape = inferShape(data);
  const given = opts.dtype === undefined ? null : checkDType(opts.dtype, 'tensor');
  const n = numel(shape);
  const flat = allocating('tensor', shape, given ?? 'float32', backend, () => allocArray(given ?? 'float32', n));
  const bools = flattenNested(data, shape, 0, flat, { k: 0 }, given, []);
  // Only booleans: the inferred dtype is bool (the float32 array holds exact 0s and 1s).
  const dtype = given ?? (bools && n > 0 ? 'bool' : 'float32');
  return upload('tensor', flat, opts.shape ?? shape, dtype, backend);
}

/**
 * A tensor of `shape` filled with `value` (int32: truncated toward zero, and it must fit;
 * bool: non-zero is true). Filled on the device where the backend can (`Backend.fill`), so
 * no host array of the tensor's size is made; a tensor too large for the backend fails at
 * once with the shape, the bytes and the backend's limit.
 */
export function full(shape: Shape, value: number, opts: CreateOptions = {}): Tensor {
  const s = checkShape(shape, 'full');
  const dtype = checkDType(opts.dtype ?? 'float32', 'full');
  if (typeof value !== 'number' && typeof value !== 'boolean') throw new TypeError(`full: value must be a number or boolean, got ${describe(value)}`);
  const v = storedValue(Number(value), dtype, 'full');
  const backend = opts.backend ?? getBackend();
  const n = numel(s);
  if (backend.fill) return Tensor.fromBuffer(backend, allocating('full', s, dtype, backend, () => backend.fill!(v, dtype, n)), s, dtype);
  const arr = allocating('full', s, dtype, backend, () => allocArray(dtype, n));
  arr.fill(v);
  return Tensor.fromBuffer(backend, allocating('full', s, dtype, backend, () => backend.upload(arr, dtype)), s, dtype);
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

/**
 * `start, start+step, ...` below `end`; `arange(n)` is `0..n-1` (int32 for integer
 * arguments). Arguments must be finite; int32 values past 2^31 - 1 throw (as PyTorch's
 * int64 would not wrap, we do not either) rather than wrap.
 */
export function arange(start: number, end?: number, step = 1, opts: CreateOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  for (const [name, v] of [['start', start], ['end', end], ['step', step]] as const) {
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new RangeError(`arange: ${name} must be a finite number, got ${String(v)}`);
  }
  if (step === 0) throw new RangeError('arange: step must not be 0');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const ints = [start, end, step].every(Number.isInteger);
  const dtype = checkDType(opts.dtype ?? (ints ? 'int32' : 'float32'), 'arange');
  if (dtype === 'int32' && n > 0) {
    const last = start + (n - 1) * step;
    for (const v of [start, last]) {
      if (Math.trunc(v) > INT32_MAX || Math.trunc(v) < INT32_MIN) {
        throw new RangeError(`arange: the values from ${start} to ${last} do not fit int32 (${INT32_MIN} to ${INT32_MAX}); pass { dtype: 'float64' } or a smaller range`);
      }
    }
  }
  const backend = opts.backend ?? getBackend();
  checkFits('arange', [n], dtype, backend);
  const arr = allocating('arange', [n], dtype, backend, () => allocArray(dtype, n));
  if (dtype === 'bool') for (let i = 0; i < n; i++) arr[i] = start + i * step !== 0 ? 1 : 0;
  else for (let i = 0; i < n; i++) arr[i] = start + i * step;
  return upload('arange', arr, [n], dtype, backend);
}

/** `steps` evenly spaced values from `start` to `end` inclusive. */
export function linspace(start: number, end: number, steps: number, opts: CreateOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new RangeError(`linspace: steps must be a non-negative integer, got ${steps}`);
  const dtype = checkDType(opts.dtype ?? 'float32', 'linspace');
  const backend = opts.backend ?? getBackend();
  checkFits('linspace', [steps], dtype, backend);
  const arr = allocating('linspace', [steps], 'float64', backend, () => new Float64Array(steps));
  const delta = steps > 1 ? (end - start) / (steps - 1) : 0;
  // Symmetric formula, as PyTorch, so that both ends are exact.
  for (let i = 0; i < steps; i++) arr[i] = i < steps / 2 ? start + i * delta : end - (steps - 1 - i) * delta;
  return upload('linspace', arr, [steps], dtype, backend);
}

/** The `n x m` identity matrix (`m` defaults to `n`). */
export function eye(n: number, m = n, opts: CreateOptions = {}): Tensor {
  const s = checkShape([n, m], 'eye');
  const dtype = checkDType(opts.dtype ?? 'float32', 'eye');
  const backend = opts.backend ?? getBackend();
  checkFits('eye', s, dtype, backend);
  const arr = allocating('eye', s, dtype, backend, () => allocArray(dtype, n * m));
  for (let i = 0; i < Math.min(n, m); i++) arr[i * m + i] = 1;
  return upload('eye', arr, s, dtype, backend);
}

function floatDtype(opts: CreateOptions, op: string): DType {
  const dtype = checkDType(opts.dtype ?? 'float32', op);
  if (dtype !== 'float32' && dtype !== 'float64') throw new TypeError(`${op}: dtype must be float32 or float64, not ${dtype}`);
  return dtype;
}

/** Uniform values in `[0, 1)` from the seeded Philox generator. */
export function rand(shape: Shape, opts: RandomOptions = {}): Tensor {
  const s = checkShape(shape, 'rand');
  const dtype = floatDtype(opts, 'rand');
  const backend = opts.backend ?? getBackend();
  checkFits('rand', s, dtype, backend);
  const g = opts.generator ?? defaultGenerator;
  return upload('rand', allocating('rand', s, 'float64', backend, () => g.uniform(numel(s))), s, dtype, backend);
}

/** Standard normal values from the seeded Philox generator. */
export function randn(shape: Shape, opts: RandomOptions = {}): Tensor {
  const s = checkShape(shape, 'randn');
  const dtype = floatDtype(opts, 'randn');
  const backend = opts.backend ?? getBackend();
  checkFits('randn', s, dtype, backend);
  const g = opts.generator ?? defaultGenerator;
  return upload('randn', allocating('randn', s, 'float64', backend, () => g.normal(numel(s))), s, dtype, backend);
}

/** Integers uniform in `[low, high)` (int32 unless `dtype` says otherwise). */
export function randint(low: number, high: number, shape: Shape, opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new RangeError(`randint: need integers low < high, got low=${low}, high=${high}`);
  }
  const s = checkShape(shape, 'randint');
  const dtype = checkDType(opts.dtype ?? 'int32', 'randint');
  if (dtype === 'int32' && (low < INT32_MIN || high - 1 > INT32_MAX)) {
    throw new RangeError(`randint: the range [${low}, ${high}) does not fit int32 (${INT32_MIN} to ${INT32_MAX}); pass { dtype: 'float64' }`);
  }
  const backend = opts.backend ?? getBackend();
  checkFits('randint', s, dtype, backend);
  const g = opts.generator ?? defaultGenerator;
  const u = allocating('randint', s, 'float64', backend, () => g.uniform(numel(s)));
  for (let i = 0; i < u.length; i++) u[i] = low + Math.floor(u[i]! * (high - low));
  return upload('randint', u, s, dtype, backend);
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
