/**
 * The Backend interface: the small, closed set of primitives every backend implements.
 *
 * Every other op in tsgrad (softmax, layerNorm, conv2d, pooling, cross-entropy, ...) is
 * composed from these in core, once, with its gradient, so it runs and differentiates on
 * every backend. A backend may also provide the optional fused kernels in
 * {@link FusedKernels}; core then uses them instead of the composed default.
 */
import type { DType, TypedArray } from './dtype.js';
import type { Shape } from './shape.js';

/** A backend's opaque handle to one block of device memory. Only its backend reads it. */
export type BufferHandle = object;

/**
 * A strided view over a buffer: element `(i0, i1, ...)` lives at
 * `offset + i0*strides[0] + i1*strides[1] + ...` (in elements, not bytes).
 * Strides may be 0 (broadcast) or negative (flip).
 */
export interface View {
  /** The memory viewed. */
  readonly buffer: BufferHandle;
  /** Element type. */
  readonly dtype: DType;
  /** Logical shape of the view. */
  readonly shape: Shape;
  /** Elements to step per index of each dimension (0: broadcast, negative: flipped). */
  readonly strides: readonly number[];
  /** Buffer index of element (0, 0, ...). */
  readonly offset: number;
}

/**
 * Elementwise ops of one input; the output has the input's dtype.
 *
 * Beyond the original set, these are primitives because composing them is either
 * inaccurate or many kernels, while JS `Math`, WebAssembly and WGSL have them directly:
 * - `log1p`, `expm1`: `log(1 + x)` and `exp(x) - 1` lose every digit for small `x` in
 *   float32; the accurate compositions (`x * log(u) / (u - 1)`) take seven kernels and
 *   these two are the base of softplus, logsigmoid, mish, elu, celu, selu, asinh, acosh,
 *   atanh and sinh.
 * - `atan`: no accurate composition from the other primitives; asin and acos compose from it.
 * - `floor`, `ceil`, `round` (half to even, as PyTorch), `trunc`: one instruction on every
 *   target (WebAssembly `f32.floor`/`f32x4.floor`, WGSL `floor`/`roundEven`...); a float
 *   composition through casts breaks past 2^31 and at infinities.
 */
export const UNARY_OPS = [
  'neg', 'abs', 'sign', 'exp', 'log', 'sqrt', 'reciprocal', 'sin', 'cos', 'tanh', 'erf',
  'log1p', 'expm1', 'atan', 'floor', 'ceil', 'round', 'trunc',
] as const;
/** A unary primitive's name. */
export type UnaryOp = (typeof UNARY_OPS)[number];

/**
 * Elementwise ops of two same-shaped (already broadcast) inputs of one dtype; the output has that dtype.
 *
 * `atan2(a, b)` (the angle of the point `(x=b, y=a)`) is a primitive because its signed
 * zeros and infinities (`atan2(0, -0) = pi`, `atan2(inf, -inf) = 3pi/4`) would take a
 * dozen kernels of sign tests when composed from `atan`; every target has it or a short
 * exact reduction to `atan`.
 */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div', 'pow', 'maximum', 'minimum', 'atan2'] as const;
/** A binary primitive's name. */
export type BinaryOp = (typeof BINARY_OPS)[number];

/** Elementwise comparisons; the output is `bool`. */
export const COMPARE_OPS = ['eq', 'ne', 'lt', 'le'] as const;
/** A comparison primitive's name. */
export type CompareOp = (typeof COMPARE_OPS)[number];

/** Reductions over a set of axes; the output drops those axes and keeps the dtype. */
export const REDUCE_OPS = ['sum', 'prod', 'max', 'min'] as const;
/** A reduction primitive's name. */
export type ReduceOp = (typeof REDUCE_OPS)[number];

/** Index-of-extreme reductions over one axis; the output is `int32`. */
export const ARG_REDUCE_OPS = ['argmax', 'argmin'] as const;
/** An arg-reduction primitive's name. */
export type ArgReduceOp = (typeof ARG_REDUCE_OPS)[number];

/** The primitives that are methods of their own (not one of the op families above). */
export const OTHER_PRIMITIVES = ['where', 'cast', 'copy', 'embed', 'cat', 'gather', 'scatterAdd', 'matmul', 'sort'] as const;

/** Every primitive by name: what a backend must implement, and what the cross-backend suite checks. */
export const PRIMITIVES: readonly string[] = [
  ...UNARY_OPS,
  ...BINARY_OPS,
  ...COMPARE_OPS,
  ...REDUCE_OPS,
  ...ARG_REDUCE_OPS,
  ...OTHER_PRIMITIVES,
];

/** Parameters of a 2-D convolution, normalised to pairs. */
export interface Conv2dParams {
  /** Window step (height, width). */
  readonly stride: readonly [number, number];
  /** Zero padding on each side (height, width). */
  readonly padding: readonly [number, number];
  /** Spacing between kernel taps (height, width). */
  readonly dilation: readonly [number, number];
  /** Channel groups (`groups = C` is depthwise). */
  readonly groups: number;
}

/**
 * The epilogue of {@link FusedKernels.matmulEpilogue}: `out = residual + scale * act(a b + bias)`.
 *
 * Rows of the output are numbered as `[G, P]` (`groups` = G, so P = M / G). With `layout`
 * `'rows'` the output is a contiguous `[M, N]`; with `'channelsFirst'` it is a contiguous
 * `[G, N, P]` (the NCHW layout of an image batch whose pixels are the rows), which lets a
 * residual add into an NCHW tensor write its result in place of the transposition.
 */
export interface MatmulEpilogue {
  /** Per-column bias `[N]`. */
  readonly bias?: View;
  /** Activation after the bias: GELU in its exact erf form, or the tanh approximation. */
  readonly activation?: 'gelu' | 'gelu_tanh';
  /** Per-column scale `[N]` after the activation (ConvNeXt's layer scale). */
  readonly scale?: View;
  /** Added last: `[G, P, N]`, any strides. */
  readonly residual?: View;
  /** Row groups G of the `[G, P]` row numbering (1 for a plain matrix). */
  readonly groups: number;
  /** Layout of the output (and of `pre`). */
  readonly layout: 'rows' | 'channelsFirst';
  /** Also return `pre = a b + bias` (what the backward pass reads). */
  readonly keepPre: boolean;
  /**
   * With `keepPre` and an activation: the backend may return `geluGrad = gelu'(a b + bias)`
   * in place of `pre` (it has the GELU's erf and exp at hand), so that the backward pass
   * multiplies instead of evaluating the GELU again. One that does not returns `pre`.
   */
  readonly keepGeluGrad?: boolean;
}

/** What {@link FusedKernels.matmulEpilogue} returns: fresh buffers in the requested layout. */
export interface MatmulEpilogueResult {
  /** The output. */
  readonly out: BufferHandle;
  /** `a b + bias`, when asked for (null where `geluGrad` is returned instead). */
  readonly pre: BufferHandle | null;
  /** `gelu'(a b + bias)`, when asked for and the backend computes it (else absent or null). */
  readonly geluGrad?: BufferHandle | null;
}

/**
 * Optional fused kernels. When a backend provides one, core calls it instead of the
 * composed default. Fused backward kernels are used while gradients are not being
 * recorded (the usual backward); a recorded backward (`createGraph`) uses the composed
 * gradient, so gradients of gradients stay exact on every backend.
 *
 * Inputs of gelu, normalize and logSoftmax (and their backwards) are dense: row-major from
 * offset 0. The along-axis kernels see their input as `[outer, len, inner]` and work along
 * the middle axis: `inner = 1` is the last dim (channels-last), `inner = H*W` is the
 * channel dim of NCHW (channels-first).
 */
export interface FusedKernels {
  /** NCHW input `[N, C, H, W]` and weight `[O, C/groups, KH, KW]` to output `[N, O, OH, OW]`. */
  conv2d?(x: View, w: View, p: Conv2dParams): BufferHandle;
  /** Gradient of conv2d for its input: `gy` `[N, O, OH, OW]`, weight, the input's shape. */
  conv2dBackwardInput?(gy: View, w: View, xShape: Shape, p: Conv2dParams): BufferHandle;
  /** Gradient of conv2d for its weight: input, `gy`, the weight's shape. */
  conv2dBackwardWeight?(x: View, gy: View, wShape: Shape, p: Conv2dParams): BufferHandle;
  /**
   * `a` `[M, K]` (any strides) times `b` `[K, N]` (any strides) with the epilogue `ep` applied
   * as the result is stored (core's `fusedLinear`). Returns null where the backend has no
   * kernel for the case (dtype, sizes): core then composes the op.
   */
  matmulEpilogue?(a: View, b: View, ep: MatmulEpilogue): MatmulEpilogueResult | null;
  /** GELU of a contiguous float buffer (`'none'`: exact erf form; `'tanh'`: approximation). */
  gelu?(x: View, approximate: 'none' | 'tanh'): BufferHandle;
  /** `g * gelu'(x)` for contiguous `x` and `g` of one shape. */
  geluBackward?(x: View, g: View, approximate: 'none' | 'tanh'): BufferHandle;
  /**
   * `(x - mean) / sqrt(var + eps)` along the middle axis of `[outer, len, inner]` (biased
   * variance): the kernel of core's `standardize`. The name is internal; the public
   * `normalize` op is PyTorch's Lp normalization, which does not use this kernel.
   */
  normalize?(x: View, outer: number, len: number, inner: number, eps: number): BufferHandle;
  /** Gradient of {@link FusedKernels.normalize} for its input, given `x` and the output gradient `g`. */
  normalizeBackward?(x: View, g: View, outer: number, len: number, inner: number, eps: number): BufferHandle;
  /** `x - logsumexp(x)` along the middle axis of `[outer, len, inner]`. */
  logSoftmax?(x: View, outer: number, len: number, inner: number): BufferHandle;
  /** Gradient of logSoftmax for its input: `g - exp(y) * sum(g)` along the axis, given the output `y`. */
  logSoftmaxBackward?(y: View, g: View, outer: number, len: number, inner: number): BufferHandle;
  /**
   * One Adam/AdamW step of one parameter in a single pass (see {@link AdamHyper} for the
   * arithmetic). Views are dense float32 of one shape; `maxExpAvgSq` is given exactly when
   * `h.amsgrad`. Returns fresh buffers (the inputs are not written: buffers stay immutable,
   * and the optimizer swaps them in with `assign`).
   */
  adamStep?(param: View, grad: View, expAvg: View, expAvgSq: View, maxExpAvgSq: View | null, h: AdamHyper): AdamStepResult;
  /**
   * The total `normType`-norm (1, 2 or Infinity) of dense float32 tensors, as
   * `torch.nn.utils.clip_grad_norm_` computes it: each tensor's norm in float32, then the
   * norm of those norms. A fresh 0-d float32 buffer; an empty list gives 0.
   */
  totalNorm?(xs: readonly View[], normType: number): BufferHandle;
  /**
   * Each dense float32 `xs[i]` times `min(1, maxNorm / (total + 1e-6))`, with `total` a 0-d
   * float32 view read on the device (no host read): the scaling pass of `clip_grad_norm_`.
   */
  clipScale?(xs: readonly View[], total: View, maxNorm: number): BufferHandle[];
}

/**
 * Hyper-parameters of one {@link FusedKernels.adamStep}, passed as kernel arguments (never
 * uploaded). In float32, element by element, the kernel computes exactly what core's
 * composed `adamStep` does, one rounding per operation in this order (constants rounded
 * to float32 once): `p1 = p * (1 - lr wd)` when decoupled; `g = maximize ? -grad : grad`;
 * `g = g + p wd` when not decoupled and `wd != 0`; `m' = m b1 + g (1 - b1)`;
 * `v' = v b2 + (g (1 - b2)) g`; `s = amsgrad ? max(vmax, v') : v'`;
 * `p' = p1 - (m' / (sqrt(s) / sqrt(1 - b2^t) + eps)) * (lr / (1 - b1^t))`.
 */
export interface AdamHyper {
  /** Learning rate. */
  readonly lr: number;
  /** First-moment decay. */
  readonly beta1: number;
  /** Second-moment decay. */
  readonly beta2: number;
  /** Added to the denominator. */
  readonly eps: number;
  /** Weight decay (decoupled for AdamW, L2 on the gradient for Adam). */
  readonly weightDecay: number;
  /** AdamW's decoupled decay (`p *= 1 - lr wd`) instead of Adam's L2 term. */
  readonly decoupled: boolean;
  /** The step number `t >= 1`, for the bias corrections. */
  readonly step: number;
  /** AMSGrad: divide by the running maximum of the second moment. */
  readonly amsgrad: boolean;
  /** Ascend instead of descend (the gradient is negated first). */
  readonly maximize: boolean;
}

/** What {@link FusedKernels.adamStep} returns: fresh contiguous buffers of the parameter's shape. */
export interface AdamStepResult {
  /** The updated parameter. */
  readonly param: BufferHandle;
  /** The updated first moment. */
  readonly expAvg: BufferHandle;
  /** The updated second moment. */
  readonly expAvgSq: BufferHandle;
  /** The updated running maximum of the second moment (AMSGrad only). */
  readonly maxExpAvgSq: BufferHandle | null;
}

/** Names of the optional fused kernels. */
export const FUSED_KERNELS = [
  'conv2d',
  'conv2dBackwardInput',
  'conv2dBackwardWeight',
  'matmulEpilogue',
  'gelu',
  'geluBackward',
  'normalize',
  'normalizeBackward',
  'logSoftmax',
  'logSoftmaxBackward',
  'adamStep',
  'totalNorm',
  'clipScale',
] as const;

/** The most a backend can do, for stating rates as a fraction of it. */
export interface BackendPeak {
  /** Arithmetic peak in GFLOP/s (e.g. wasm's measured SIMD128 peak on one thread). */
  readonly gflops?: number;
  /** Memory bandwidth in GB/s. */
  readonly gbps?: number;
}

/** Memory a backend holds, as reported by {@link Backend.memory}. */
export interface BackendMemory {
  /** Buffers currently allocated for live tensors. */
  readonly buffers: number;
  /** Bytes in those buffers. */
  readonly bytes: number;
  /** The most bytes held at once since the backend started or since `resetPeak` (if tracked). */
  readonly peakBytes?: number;
}

/**
 * A compute backend. Buffers are allocated by the primitives that produce them and
 * released by {@link Backend.free}; every output is a fresh contiguous (row-major) buffer.
 * Inputs are strided {@link View}s, so views never force a copy before an op.
 */
export interface Backend extends FusedKernels {
  /** The name `setBackend` knows it by. */
  readonly name: string;
  /** Whether `readSync` works (CPU backends). */
  readonly canReadSync: boolean;

  /** Copies host data into a new buffer. */
  upload(data: TypedArray, dtype: DType): BufferHandle;
  /**
   * Optional: a new buffer of `size` elements, every one `value` (already as `dtype` stores
   * it: an in-range integer for int32, 0 or 1 for bool). `zeros`/`ones`/`full` use it so that
   * a constant never goes through a host array of its size (which for a tensor too large for
   * the backend would be filled before failing); a backend also checks its size limit here
   * first. Without it, core fills a host array and uploads it.
   */
  fill?(value: number, dtype: DType, size: number): BufferHandle;
  /** Reads a whole buffer back (a copy the caller owns). */
  read(buffer: BufferHandle, dtype: DType, size: number): Promise<TypedArray>;
  /** Reads a whole buffer back synchronously; only where `canReadSync`. */
  readSync(buffer: BufferHandle, dtype: DType, size: number): TypedArray;
  /** Releases a buffer; the handle is never used again. */
  free(buffer: BufferHandle): void;
  /** What this backend holds now. */
  memory(): BackendMemory;
  /** Starts a new peak measurement at the current bytes (backends that track `peakBytes`). */
  resetPeak?(): void;
  /** The most this backend can do (measured or known), for the profiler's "% of peak" (optional). */
  peakRates?(): BackendPeak;

  /** `out[i] = op(x[i])`. */
  unary(op: UnaryOp, x: View): BufferHandle;
  /** `out[i] = op(a[i], b[i])`; `a` and `b` have the same shape and dtype (broadcast by strides). */
  binary(op: BinaryOp, a: View, b: View): BufferHandle;
  /** `out[i] = a[i] op b[i]` as bool. */
  compare(op: CompareOp, a: View, b: View): BufferHandle;
  /** `out[i] = cond[i] ? a[i] : b[i]`; all three have the same shape. */
  where(cond: View, a: View, b: View): BufferHandle;
  /** Reduces over `axes` (sorted, unique); the output shape drops them. Empty reductions give the identity. */
  reduce(op: ReduceOp, x: View, axes: readonly number[]): BufferHandle;
  /** Index (int32) of the first max/min along `axis`; the output shape drops it. */
  argReduce(op: ArgReduceOp, x: View, axis: number): BufferHandle;
  /** Converts to another dtype (float to int truncates toward zero; to bool tests for non-zero). */
  cast(x: View, dtype: DType): BufferHandle;
  /** A contiguous copy of a view. */
  copy(x: View): BufferHandle;
  /**
   * A zero buffer of `size` elements into which `x` is added at the strided positions
   * `offset + sum(i_d * strides[d])` (shaped like `x`; positions may repeat, and then
   * their values add up). This is the adjoint of taking a strided view: pad, the gradient
   * of slicing, and the gradient of overlapping windows (conv, pooling) are all this.
   */
  embed(x: View, size: number, offset: number, strides: readonly number[]): BufferHandle;
  /** Concatenation along `axis` of views that agree on every other dim and share a dtype. */
  cat(xs: readonly View[], axis: number): BufferHandle;
  /** `out[..., i, ...] = x[..., index[..., i, ...], ...]` along `axis`; out has the index's shape. */
  gather(x: View, axis: number, index: View): BufferHandle;
  /** Zeros of `shape`, then `out[..., index[j], ...] += src[j]` along `axis`: the adjoint of gather. */
  scatterAdd(src: View, axis: number, index: View, shape: Shape): BufferHandle;
  /** Batched matrix product `[..., M, K] @ [..., K, N]`; both have the same batch dims. */
  matmul(a: View, b: View): BufferHandle;
  /**
   * Sorts every row along the last axis, stably (equal values keep their order), as
   * `torch.sort(stable=True)`: ascending with NaN last, or `descending` with NaN first;
   * -0 and 0 are equal. Returns the sorted values (`x`'s dtype) and each value's int32
   * position in its row, both contiguous of `x`'s shape. A primitive because a sort
   * composed from the others costs O(n^2) per row (a rank count), where a backend sorts
   * in O(n log n).
   */
  sort(x: View, descending: boolean): SortResult;
}

/** What {@link Backend.sort} returns: two fresh contiguous buffers of the input's shape. */
export interface SortResult {
  /** The sorted values. */
  readonly values: BufferHandle;
  /** int32 positions of the sorted values in their row. */
  readonly indices: BufferHandle;
}

/**
 * A stable comparison of two row positions for {@link Backend.sort} (ascending: NaN last;
 * descending: NaN first), for host-side sorts with `Array.prototype.sort` (stable).
 */
export function sortComparator(v: ArrayLike<number>, descending: boolean): (a: number, b: number) => number {
  return (a, b) => {
    const x = v[a]!;
    const y = v[b]!;
    const nx = x !== x ? 1 : 0;
    const ny = y !== y ? 1 : 0;
    if (nx || ny) return descending ? ny - nx : nx - ny;
    if (descending) return y < x ? -1 : y > x ? 1 : 0;
    return x < y ? -1 : x > y ? 1 : 0;
  };
}
