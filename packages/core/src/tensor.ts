/**
 * The Tensor: a strided view over reference-counted backend storage, with autograd state.
 * Methods are thin forwards to the op functions in `ops/`, where each op and its gradient
 * is defined once.
 */
import * as A from './autograd.js';
import type { Backend, BufferHandle, View } from './backend.js';
import type { DType, TypedArray } from './dtype.js';
import { formatTensor } from './format.js';
import { registerTensorClass, trackTensor, untrackTensor } from './memory.js';
import * as C from './ops/creation.js';
import * as E from './ops/elementwise.js';
import * as I from './ops/indexing.js';
import * as L from './ops/linalg.js';
import * as M from './ops/math.js';
import * as N from './ops/nn.js';
import * as P from './ops/conv.js';
import * as Pad from './ops/padding.js';
import * as R from './ops/reduce.js';
import * as S from './ops/select.js';
import * as SC from './ops/scan.js';
import * as SO from './ops/sort.js';
import * as V from './ops/views.js';
import { backendByName } from './registry.js';
import { contiguousStrides, isContiguous, numel, type Shape } from './shape.js';

// `Symbol.dispose` declared exactly as lib.esnext.disposable and @types/node declare it (identical
// declarations merge), so the shipped .d.ts type-check for consumers with neither.
declare global {
  interface SymbolConstructor {
    readonly dispose: unique symbol;
  }
}

/** A block of backend memory shared by a tensor and its views; freed when the last one goes. */
export class Storage {
  private refs = 1;
  constructor(
    /** The backend that owns the buffer. */
    readonly backend: Backend,
    /** The backend's handle to the memory. */
    readonly buffer: BufferHandle,
    /** Element type of the buffer. */
    readonly dtype: DType,
    /** Number of elements in the buffer. */
    readonly size: number,
  ) {}
  /** Adds an owner. */
  retain(): this {
    this.refs++;
    return this;
  }
  /** Drops an owner; frees the buffer with the last. */
  release(): void {
    if (--this.refs === 0) this.backend.free(this.buffer);
  }
}

let nextId = 0;

/** Something an op accepts where a tensor goes: a tensor, or a number broadcast as a scalar of the other operand's dtype. */
export type TensorLike = Tensor | number;

/**
 * An n-dimensional array on a backend, with reverse-mode autodiff.
 *
 * Views (reshape, permute, expand, slice, flip, ...) share storage; `contiguous()` copies
 * only when needed. Read values with `await t.data()` / `await t.array()` (any backend) or
 * `t.dataSync()` / `t.toArray()` / `t.item()` (CPU backends).
 */
export class Tensor {
  /** Unique id, for debugging and printing graphs. */
  readonly id = nextId++;
  /** Whether gradients flow into this tensor. Set on leaves with {@link Tensor.requiresGrad_}. */
  requiresGrad = false;
  /** The accumulated gradient of a leaf after `backward()`. */
  grad: Tensor | null = null;
  /** The op that made this tensor, when it was recorded for autodiff. */
  gradNode: A.GradNode | null = null;
  private disposed = false;

  /** @internal Use the creation functions (`tensor`, `zeros`, ...) instead. */
  constructor(
    private storageRef: Storage,
    /** Length of each dimension. */
    readonly shape: readonly number[],
    /** Elements to step in storage per index of each dimension (0 for broadcast, negative for flip). */
    readonly strides: readonly number[],
    /** Index of element (0, 0, ...) in storage. */
    readonly offset: number,
  ) {
    trackTensor(this);
  }

  /** Wraps a fresh contiguous buffer that a backend primitive returned. */
  static fromBuffer(backend: Backend, buffer: BufferHandle, shape: Shape, dtype: DType): Tensor {
    const s = [...shape];
    return new Tensor(new Storage(backend, buffer, dtype, numel(s)), s, contiguousStrides(s), 0);
  }

  /** A new tensor object over the same storage with another shape/strides/offset. */
  static viewOf(base: Tensor, shape: Shape, strides: readonly number[], offset: number): Tensor {
    base.assertLive('view');
    return new Tensor(base.storageRef.retain(), [...shape], [...strides], offset);
  }

  /** The storage behind this view. */
  get storage(): Storage {
    return this.storageRef;
  }
  /** Element type. */
  get dtype(): DType {
    return this.storageRef.dtype;
  }
  /** The backend holding the data. */
  get backend(): Backend {
    return this.storageRef.backend;
  }
  /** Number of dimensions. */
  get ndim(): number {
    return this.shape.length;
  }
  /** Number of elements. */
  get size(): number {
    return numel(this.shape);
  }
  /** Whether the view is row-major without gaps. */
  get isContiguous(): boolean {
    return isContiguous(this.shape, this.strides);
  }
  /** Whether `dispose()` has been called. */
  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Throws a clear error if this tensor was disposed; `op` names the caller. */
  assertLive(op: string): void {
    if (this.disposed) {
      throw new Error(`${op}: tensor #${this.id} (shape [${this.shape.join(', ')}], ${this.dtype}) was used after dispose()`);
    }
  }

  /** The strided view a backend primitive reads; `op` names the caller in errors. */
  asView(op = 'op'): View {
    this.assertLive(op);
    return { buffer: this.storageRef.buffer, dtype: this.dtype, shape: this.shape, strides: this.strides, offset: this.offset };
  }

  /** Frees this handle (the storage goes when its last view does). Idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.storageRef.release();
    untrackTensor(this);
    this.gradNode = null;
  }

  /** Frees this tensor at the end of a `using` block. */
  [Symbol.dispose](): void {
    this.dispose();
  }

  /**
   * Makes this tensor hold `value`'s data (same shape and dtype), keeping its identity: how
   * optimizers update parameters. Not recorded for autodiff.
   */
  assign(value: Tensor): this {
    this.assertLive('assign');
    value.assertLive('assign');
    if (value.dtype !== this.dtype || value.shape.length !== this.shape.length || value.shape.some((d, i) => d !== this.shape[i])) {
      throw new Error(`assign: value of shape [${value.shape.join(', ')}] ${value.dtype} does not match [${this.shape.join(', ')}] ${this.dtype}`);
    }
    if (value.backend !== this.backend) throw new Error(`assign: value is on '${value.backend.name}', this tensor on '${this.backend.name}'`);
    const src = value.isContiguous && value.offset === 0 && value.storage.size === value.size ? value : value.contiguous();
    src.storageRef.retain();
    this.storageRef.release();
    this.storageRef = src.storageRef;
    (this as { strides: readonly number[] }).strides = src.strides;
    (this as { offset: number }).offset = src.offset;
    if (src !== value) src.dispose();
    return this;
  }

  // ---- data out ----

  /** The values as a typed array in row-major order (a copy). Works on every backend. */
  async data(): Promise<TypedArray> {
    this.assertLive('data');
    const c = this.isContiguous && this.offset === 0 ? this : this.contiguousCopy();
    const out = await c.backend.read(c.storageRef.buffer, c.dtype, c.size);
    if (c !== this) c.dispose();
    return out;
  }

  // ---- reading values (API consistency: the same names on every backend) ----

  /**
   * The values synchronously; only on backends that can read synchronously (`js`, `wasm`).
   * On a GPU backend it throws, naming the async form: `await tensor.data()`.
   */
  dataSync(): TypedArray {
    return this.readSync('dataSync', 'await tensor.data()');
  }

  /** Reads synchronously, or throws saying which async call `op` should be replaced with. */
  private readSync(op: string, asyncForm: string): TypedArray {
    this.assertLive(op);
    if (!this.backend.canReadSync) {
      throw new Error(`${op}: backend '${this.backend.name}' cannot read synchronously; use ${asyncForm} instead`);
    }
    const c = this.isContiguous && this.offset === 0 ? this : this.contiguousCopy();
    const out = c.backend.readSync(c.storageRef.buffer, c.dtype, c.size);
    if (c !== this) c.dispose();
    return out;
  }

  private contiguousCopy(): Tensor {
    return A.noGrad(() => V.contiguous(this, true));
  }

  /** Row-major values as nested arrays of this tensor's shape (a number for a 0-d tensor). */
  private nest(flat: TypedArray): unknown {
    const isBool = this.dtype === 'bool';
    const build = (dim: number, at: number): unknown => {
      if (dim === this.ndim) return isBool ? flat[at] !== 0 : flat[at];
      const step = numel(this.shape.slice(dim + 1));
      return Array.from({ length: this.shape[dim]! }, (_, i) => build(dim + 1, at + i * step));
    };
    return build(0, 0);
  }

  /**
   * The values as nested arrays (numbers; bools as booleans; a number for a 0-d tensor), on
   * every backend: the async counterpart of {@link Tensor.toArray}, like tfjs's `array()`.
   */
  async array(): Promise<unknown> {
    return this.nest(await this.data());
  }

  /** The values as nested arrays, synchronously; on a GPU backend use `await tensor.array()`. */
  toArray(): unknown {
    return this.nest(this.readSync('toArray', 'await tensor.array()'));
  }

  /** The single value of a one-element tensor, synchronously; on a GPU backend use `(await tensor.data())[0]`. */
  item(): number {
    if (this.size !== 1) throw new Error(`item: tensor has ${this.size} elements, not 1 (shape [${this.shape.join(', ')}])`);
    return this.readSync('item', '(await tensor.data())[0]')[0]!;
  }

  /** A readable rendering like PyTorch's (values only on backends that read synchronously). */
  toString(): string {
    return formatTensor(this);
  }

  /** What Node's `console.log(t)` and `util.inspect(t)` show: {@link Tensor.toString}, not the internals. */
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }

  // ---- autograd ----

  /** Marks this tensor as a leaf that gradients flow into; returns it. */
  requiresGrad_(flag = true): this {
    if (flag && this.dtype !== 'float32' && this.dtype !== 'float64') {
      throw new Error(`requiresGrad_: only floating point tensors can require gradients, not ${this.dtype}`);
    }
    this.requiresGrad = flag;
    return this;
  }
  /** Backpropagates into the `.grad` of every leaf; see {@link A.backward}. */
  backward(gradient?: Tensor, opts?: A.BackwardOptions): void {
    A.backward(this, gradient, opts);
  }
  /** The same data, cut from the graph (shares storage). */
  detach(): Tensor {
    return Tensor.viewOf(this, this.shape, this.strides, this.offset);
  }
  /** Drops `.grad`. */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  // ---- moving and converting ----

  /**
   * A copy on another backend (initialised with `setBackend` or `initBackend`); this
   * tensor when it is already there. Reads synchronously, so the source must be a CPU
   * backend; use {@link Tensor.toAsync} from a GPU. Not recorded for autodiff.
   */
  to(backend: string | Backend): Tensor {
    const b = typeof backend === 'string' ? backendByName(backend) : backend;
    if (b === this.backend) return this;
    if (!this.backend.canReadSync) {
      throw new Error(`to: tensor is on '${this.backend.name}', which cannot read synchronously; use await tensor.toAsync('${b.name}')`);
    }
    return C.fromTypedArray(this.dataSync(), this.shape, this.dtype, b);
  }
  /** A copy on another backend, from any backend (reads back with `await data()`). */
  async toAsync(backend: string | Backend): Promise<Tensor> {
    const b = typeof backend === 'string' ? backendByName(backend) : backend;
    if (b === this.backend) return this;
    return C.fromTypedArray(await this.data(), this.shape, this.dtype, b);
  }
  /** Converts to `dtype` (differentiable between float dtypes). */
  cast(dtype: DType): Tensor {
    return E.cast(this, dtype);
  }
  /** A contiguous tensor with the same values (this one if already contiguous). */
  contiguous(): Tensor {
    return V.contiguous(this);
  }
  /** A copy that owns its storage. */
  clone(): Tensor {
    return V.contiguous(this, true);
  }

  // ---- creation like this ----

  /** Zeros of this shape, dtype and backend. */
  zerosLike(): Tensor {
    return C.zerosLike(this);
  }
  /** Ones of this shape, dtype and backend. */
  onesLike(): Tensor {
    return C.onesLike(this);
  }

  // ---- views ----

  /** Same data, new shape (one dimension may be -1); a view when the strides allow. */
  reshape(...shape: number[] | [readonly number[]]): Tensor {
    return V.reshape(this, flatArgs(shape));
  }
  /** Reorders dimensions. */
  permute(...dims: number[] | [readonly number[]]): Tensor {
    return V.permute(this, flatArgs(dims));
  }
  /** Swaps two dimensions (default: the last two). */
  transpose(dim0 = -2, dim1 = -1): Tensor {
    return V.transpose(this, dim0, dim1);
  }
  /** The transpose of a matrix (reverses all dims otherwise). */
  get T(): Tensor {
    return V.permute(this, this.shape.map((_, i) => this.ndim - 1 - i));
  }
  /** Broadcasts to `shape` without copying (-1 keeps a dimension). */
  expand(...shape: number[] | [readonly number[]]): Tensor {
    return V.expand(this, flatArgs(shape));
  }
  /** Broadcasts to `shape` without copying. */
  broadcastTo(shape: readonly number[]): Tensor {
    return V.expand(this, shape);
  }
  /** Removes dimensions of length 1 (all, or the ones named). */
  squeeze(dim?: number | readonly number[]): Tensor {
    return V.squeeze(this, dim);
  }
  /** Inserts a dimension of length 1 at `dim`. */
  unsqueeze(dim: number): Tensor {
    return V.unsqueeze(this, dim);
  }
  /** Elements `start, start+step, ...` before `end` along `dim` (negative bounds count from the end). */
  slice(dim: number, start?: number, end?: number, step?: number): Tensor {
    return V.slice(this, dim, start, end, step);
  }
  /** `length` elements from `start` along `dim`. */
  narrow(dim: number, start: number, length: number): Tensor {
    return V.narrow(this, dim, start, length);
  }
  /** Reverses the order along the given dimensions. */
  flip(dims: number | readonly number[]): Tensor {
    return V.flip(this, dims);
  }
  /** Flattens dimensions `startDim..endDim` into one. */
  flatten(startDim = 0, endDim = -1): Tensor {
    return V.flatten(this, startDim, endDim);
  }
  /**
   * Pads the last dimensions: `[left, right, top, bottom, ...]` as in `torch.nn.functional.pad`,
   * with a constant `value` or `{ mode: 'reflect' | 'replicate' | 'circular' | 'constant', value }`.
   */
  pad(pads: readonly number[], value: number | Pad.PadOptions = 0): Tensor {
    return Pad.pad(this, pads, value);
  }

  // ---- elementwise ----

  /** `-x`. */ neg(): Tensor { return E.neg(this); }
  /** `|x|`. */ abs(): Tensor { return E.abs(this); }
  /** Sign: -1, 0 or 1. */ sign(): Tensor { return E.sign(this); }
  /** `e^x`. */ exp(): Tensor { return E.exp(this); }
  /** Natural log. */ log(): Tensor { return E.log(this); }
  /** Square root. */ sqrt(): Tensor { return E.sqrt(this); }
  /** `1/sqrt(x)`. */ rsqrt(): Tensor { return E.rsqrt(this); }
  /** Sine. */ sin(): Tensor { return E.sin(this); }
  /** Cosine. */ cos(): Tensor { return E.cos(this); }
  /** Hyperbolic tangent. */ tanh(): Tensor { return E.tanh(this); }
  /** Logistic sigmoid. */ sigmoid(): Tensor { return E.sigmoid(this); }
  /** `max(x, 0)`. */ relu(): Tensor { return E.relu(this); }
  /** GELU, exact (erf) or with the tanh approximation. */ gelu(approximate: 'none' | 'tanh' = 'none'): Tensor { return E.gelu(this, approximate); }
  /** The error function. */ erf(): Tensor { return E.erf(this); }
  /** `x*x`. */ square(): Tensor { return E.square(this); }
  /** `1/x`. */ reciprocal(): Tensor { return E.reciprocal(this); }
  /** Limits values to `[min, max]` (numbers or broadcasting tensors). */ clamp(min?: TensorLike, max?: TensorLike): Tensor { return E.clamp(this, min, max); }
  /** `log(1 + x)`, accurate near 0. */ log1p(): Tensor { return E.log1p(this); }
  /** `e^x - 1`, accurate near 0. */ expm1(): Tensor { return E.expm1(this); }
  /** Base-2 logarithm. */ log2(): Tensor { return M.log2(this); }
  /** Base-10 logarithm. */ log10(): Tensor { return M.log10(this); }
  /** Tangent. */ tan(): Tensor { return M.tan(this); }
  /** Arcsine. */ asin(): Tensor { return M.asin(this); }
  /** Arccosine. */ acos(): Tensor { return M.acos(this); }
  /** Arctangent. */ atan(): Tensor { return E.atan(this); }
  /** Angle of `(x = other, y = this)`, as `torch.atan2`. */ atan2(other: TensorLike): Tensor { return E.atan2(this, other); }
  /** Hyperbolic sine. */ sinh(): Tensor { return M.sinh(this); }
  /** Hyperbolic cosine. */ cosh(): Tensor { return M.cosh(this); }
  /** Inverse hyperbolic sine. */ asinh(): Tensor { return M.asinh(this); }
  /** Inverse hyperbolic cosine. */ acosh(): Tensor { return M.acosh(this); }
  /** Inverse hyperbolic tangent. */ atanh(): Tensor { return M.atanh(this); }
  /** Round down. */ floor(): Tensor { return E.floor(this); }
  /** Round up. */ ceil(): Tensor { return E.ceil(this); }
  /** Round half to even, optionally to `decimals` places. */ round(decimals = 0): Tensor { return E.round(this, decimals); }
  /** Round toward zero. */ trunc(): Tensor { return E.trunc(this); }
  /** `x - trunc(x)`. */ frac(): Tensor { return M.frac(this); }
  /** Where NaN (bool). */ isnan(): Tensor { return M.isnan(this); }
  /** Where `+-inf` (bool). */ isinf(): Tensor { return M.isinf(this); }
  /** Where finite (bool). */ isfinite(): Tensor { return M.isfinite(this); }
  /** `x + y` with broadcasting. */ add(y: TensorLike): Tensor { return E.add(this, y); }
  /** `x - y` with broadcasting. */ sub(y: TensorLike): Tensor { return E.sub(this, y); }
  /** `x * y` with broadcasting. */ mul(y: TensorLike): Tensor { return E.mul(this, y); }
  /** `x / y` with broadcasting. */ div(y: TensorLike): Tensor { return E.div(this, y); }
  /** `x ** y` with broadcasting. */ pow(y: TensorLike): Tensor { return E.pow(this, y); }
  /** Elementwise maximum. */ maximum(y: TensorLike): Tensor { return E.maximum(this, y); }
  /** Elementwise minimum. */ minimum(y: TensorLike): Tensor { return E.minimum(this, y); }
  /** `x == y` (bool). */ eq(y: TensorLike): Tensor { return E.eq(this, y); }
  /** `x != y` (bool). */ ne(y: TensorLike): Tensor { return E.ne(this, y); }
  /** `x < y` (bool). */ lt(y: TensorLike): Tensor { return E.lt(this, y); }
  /** `x <= y` (bool). */ le(y: TensorLike): Tensor { return E.le(this, y); }
  /** `x > y` (bool). */ gt(y: TensorLike): Tensor { return E.gt(this, y); }
  /** `x >= y` (bool). */ ge(y: TensorLike): Tensor { return E.ge(this, y); }
  /** `this ? a : b` elementwise (this must be bool). */ where(a: TensorLike, b: TensorLike): Tensor { return E.where(this, a, b); }

  // ---- reductions ----

  /** Sum over `dim` (all when omitted). */ sum(dim?: number | readonly number[], keepdim = false): Tensor { return R.sum(this, dim, keepdim); }
  /** Mean over `dim`. */ mean(dim?: number | readonly number[], keepdim = false): Tensor { return R.mean(this, dim, keepdim); }
  /** Product over `dim`. */ prod(dim?: number | readonly number[], keepdim = false): Tensor { return R.prod(this, dim, keepdim); }
  /** Maximum over `dim`. */ max(dim?: number | readonly number[], keepdim = false): Tensor { return R.max(this, dim, keepdim); }
  /** Minimum over `dim`. */ min(dim?: number | readonly number[], keepdim = false): Tensor { return R.min(this, dim, keepdim); }
  /** Index of the maximum along `dim` (of the flattened tensor when omitted). */ argmax(dim?: number, keepdim = false): Tensor { return R.argmax(this, dim, keepdim); }
  /** Index of the minimum along `dim`. */ argmin(dim?: number, keepdim = false): Tensor { return R.argmin(this, dim, keepdim); }
  /** Variance with `correction` (default 1): `var(dim, keepdim, { correction })` (or `var(dim, { correction, keepdim })`). */ var(dim?: number | readonly number[], keepdimOrOpts?: boolean | R.VarOptions, opts?: R.VarOptions): Tensor { return R.variance(this, dim, keepdimOrOpts, opts); }
  /** Standard deviation with `correction` (default 1); arguments as `var`. */ std(dim?: number | readonly number[], keepdimOrOpts?: boolean | R.VarOptions, opts?: R.VarOptions): Tensor { return R.std(this, dim, keepdimOrOpts, opts); }
  /** `torch.amax`: maximum over `dim`, ties share the gradient. */ amax(dim?: number | readonly number[], keepdim = false): Tensor { return R.amax(this, dim, keepdim); }
  /** `torch.amin`: minimum over `dim`, ties share the gradient. */ amin(dim?: number | readonly number[], keepdim = false): Tensor { return R.amin(this, dim, keepdim); }
  /** `torch.max(x, dim)`: values and (first) indices of the maximum along `dim`. */ maxDim(dim: number, keepdim = false): R.ValuesIndices { return R.maxDim(this, dim, keepdim); }
  /** `torch.min(x, dim)`: values and (first) indices of the minimum along `dim`. */ minDim(dim: number, keepdim = false): R.ValuesIndices { return R.minDim(this, dim, keepdim); }
  /** Whether all elements over `dim` are non-zero (bool). */ all(dim?: number | readonly number[], keepdim = false): Tensor { return R.all(this, dim, keepdim); }
  /** Whether any element over `dim` is non-zero (bool). */ any(dim?: number | readonly number[], keepdim = false): Tensor { return R.any(this, dim, keepdim); }
  /** The p-norm over `dim` (default: 2-norm of everything). */ norm(p: R.NormOrder = 2, dim?: number | readonly number[], keepdim = false): Tensor { return R.norm(this, p, dim, keepdim); }
  /** Cumulative sum along `dim`. */ cumsum(dim: number, opts?: SC.ScanOptions): Tensor { return SC.cumsum(this, dim, opts); }
  /** Cumulative product along `dim` (exact gradient at zeros). */ cumprod(dim: number, opts?: SC.ScanOptions): Tensor { return SC.cumprod(this, dim, opts); }
  /** Stable sort along `dim`: values and int32 indices. */ sort(dim = -1, opts?: SO.SortOptions): R.ValuesIndices { return SO.sort(this, dim, opts); }
  /** The int32 positions that sort along `dim` (stable). */ argsort(dim = -1, opts?: SO.SortOptions): Tensor { return SO.argsort(this, dim, opts); }
  /** The k largest (or smallest) values along `dim` and their indices. */ topk(k: number, dim = -1, opts?: SO.TopkOptions): R.ValuesIndices { return SO.topk(this, k, dim, opts); }
  /** `log(sum(exp(x)))`, computed stably. */ logsumexp(dim: number | readonly number[], keepdim = false): Tensor { return R.logsumexp(this, dim, keepdim); }

  // ---- linear algebra, conv, nn ----

  /** Matrix product with batch broadcasting (1-D operands as in NumPy). */ matmul(y: Tensor): Tensor { return L.matmul(this, y); }
  /** Inner product of two 1-D tensors. */ dot(y: Tensor): Tensor { return L.dot(this, y); }
  /** Matrix-vector product. */ mv(v: Tensor): Tensor { return L.mv(this, v); }
  /** 2-D matrix product (no broadcasting). */ mm(y: Tensor): Tensor { return L.mm(this, y); }
  /** Outer product of two 1-D tensors. */ outer(y: Tensor): Tensor { return L.outer(this, y); }
  /** Batched product of two 3-D tensors (no broadcasting). */ bmm(y: Tensor): Tensor { return L.bmm(this, y); }
  /** `beta * this + alpha * (a @ b)` for 2-D `a`, `b`. */ addmm(a: Tensor, b: Tensor, opts?: L.AddmmOptions): Tensor { return L.addmm(this, a, b, opts); }
  /** `beta * this + alpha * (b1 @ b2)` for 3-D batches. */ baddbmm(b1: Tensor, b2: Tensor, opts?: L.AddmmOptions): Tensor { return L.baddbmm(this, b1, b2, opts); }
  /** Sum of the main diagonal of a matrix. */ trace(): Tensor { return L.trace(this); }
  /** Kronecker product. */ kron(y: Tensor): Tensor { return L.kron(this, y); }
  /**
   * 2-D convolution of NCHW input with an `[O, C/groups, KH, KW]` weight: the same arguments
   * as the function {@link P.conv2d} (`F.conv2d(input, weight, bias, ...)`), bias second.
   */
  conv2d(weight: Tensor, bias: Tensor | null = null, opts: P.Conv2dOptions = {}): Tensor {
    return P.conv2d(this, weight, bias, opts);
  }
  /** Average pooling over NCHW input. */ avgPool2d(kernelSize: number | readonly [number, number], opts?: P.PoolOptions): Tensor { return P.avgPool2d(this, kernelSize, opts); }
  /** Max pooling over NCHW input. */ maxPool2d(kernelSize: number | readonly [number, number], opts?: P.PoolOptions): Tensor { return P.maxPool2d(this, kernelSize, opts); }
  /** Adaptive average pooling to `outputSize`. */ adaptiveAvgPool2d(outputSize: number | readonly [number, number]): Tensor { return P.adaptiveAvgPool2d(this, outputSize); }
  /** Softmax along `dim`. */ softmax(dim = -1): Tensor { return N.softmax(this, dim); }
  /** Log-softmax along `dim`. */ logSoftmax(dim = -1): Tensor { return N.logSoftmax(this, dim); }

  // ---- indexing ----

  /** Values along `dim` at `index` (same rank as this tensor). */ gather(dim: number, index: Tensor): Tensor { return I.gather(this, dim, index); }
  /** Rows (entries along `dim`) picked by a 1-D index. */ indexSelect(dim: number, index: Tensor): Tensor { return I.indexSelect(this, dim, index); }
  /** `torch.Tensor.scatter_add`: a copy with `src` added at `index` along `dim`. */ scatterAdd(dim: number, index: Tensor, src: Tensor): Tensor { return I.scatterAdd(this, dim, index, src); }
  /** `torch.Tensor.scatter` / `scatter_reduce`: a copy with `src` (or a number) written or reduced at `index`. */ scatter(dim: number, index: Tensor, src: Tensor | number, opts?: I.ScatterOptions): Tensor { return I.scatter(this, dim, index, src, opts); }
  /** `torch.Tensor.index_add`: a copy with `alpha * source` added at the 1-D `index` along `dim`. */ indexAdd(dim: number, index: Tensor, source: Tensor, alpha = 1): Tensor { return I.indexAdd(this, dim, index, source, alpha); }
  /** Splits into chunks of `size` (or the given sizes) along `dim`. */ split(sizes: number | readonly number[], dim = 0): Tensor[] { return I.split(this, sizes, dim); }
  /** Splits into at most `chunks` pieces of `ceil(len / chunks)` along `dim`. */ chunk(chunks: number, dim = 0): Tensor[] { return S.chunk(this, chunks, dim); }
  /** Every slice along `dim`. */ unbind(dim = 0): Tensor[] { return S.unbind(this, dim); }
  /** The slice at `index` along `dim`, that dim removed (a view). */ select(dim: number, index: number): Tensor { return S.select(this, dim, index); }
  /** NumPy/PyTorch `x[...]`: entries are numbers, `null`, slices (`sl(1, -1, 2)` or `'1:-1:2'`), `'...'`, int32 or bool tensors; see the `index` function. */ index(spec: S.IndexSpec): Tensor { return S.index(this, spec); }
  /** `value` where the bool `mask` is true. */ maskedFill(mask: Tensor, value: number | Tensor): Tensor { return S.maskedFill(this, mask, value); }
  /** The elements where the bool `mask` is true, as 1-D (reads the mask synchronously). */ maskedSelect(mask: Tensor): Tensor { return S.maskedSelect(this, mask); }
  /** Rotates by `shifts` along `dims` (flattened when `dims` is omitted). */ roll(shifts: number | readonly number[], dims?: number | readonly number[]): Tensor { return S.roll(this, shifts, dims); }
  /** Repeats along each dim, as `torch.Tensor.repeat`. */ repeat(...sizes: number[] | [readonly number[]]): Tensor { return S.repeat(this, flatArgs(sizes)); }
  /** Tiles along each dim, as `torch.tile`. */ tile(...dims: number[] | [readonly number[]]): Tensor { return S.tile(this, flatArgs(dims)); }
  /** Lower triangle of the last two dims. */ tril(diagonal = 0): Tensor { return S.tril(this, diagonal); }
  /** Upper triangle of the last two dims. */ triu(diagonal = 0): Tensor { return S.triu(this, diagonal); }
  /** 1-D to a diagonal matrix, or 2-D to its diagonal. */ diag(offset = 0): Tensor { return S.diag(this, offset); }
  /** The diagonal of the plane `(dim1, dim2)` as the last dim (a view). */ diagonal(offset = 0, dim1 = 0, dim2 = 1): Tensor { return S.diagonal(this, offset, dim1, dim2); }
  /** The last dim written on a diagonal of a new plane `(dim1, dim2)`. */ diagEmbed(offset = 0, dim1 = -2, dim2 = -1): Tensor { return S.diagEmbed(this, offset, dim1, dim2); }
  /** Splits dim `dim` into `sizes` (one may be -1). */ unflatten(dim: number, sizes: readonly number[]): Tensor { return S.unflatten(this, dim, sizes); }
  /** Moves dims `source` to `destination`. */ movedim(source: number | readonly number[], destination: number | readonly number[]): Tensor { return S.movedim(this, source, destination); }
}

function flatArgs(args: number[] | [readonly number[]]): number[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as readonly number[])] : (args as number[]);
}

registerTensorClass(Tensor);
