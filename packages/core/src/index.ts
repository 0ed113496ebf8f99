/**
 * @tsgrad/core: tensors with reverse-mode autodiff, a small closed set of backend
 * primitives, every other op composed from them once (with its gradient), and the
 * plain-TypeScript reference backend `js`.
 *
 * @packageDocumentation
 */
export { Tensor, Storage, type TensorLike } from './tensor.js';
export type { DType, TypedArray, TypedArrayFor } from './dtype.js';
export { DTYPES, itemSize, isFloat } from './dtype.js';
export {
  type Shape,
  broadcastShapes,
  contiguousStrides,
  isContiguous,
  numel,
} from './shape.js';

// Backends
export type { Backend, BackendMemory, BackendPeak, BufferHandle, Conv2dParams, FusedKernels, AdamHyper, AdamStepResult, MatmulEpilogue, MatmulEpilogueResult, View, UnaryOp, BinaryOp, CompareOp, ReduceOp, ArgReduceOp, SortResult } from './backend.js';
export { sortComparator } from './backend.js';
export { PRIMITIVES, FUSED_KERNELS, UNARY_OPS, BINARY_OPS, COMPARE_OPS, REDUCE_OPS, ARG_REDUCE_OPS, OTHER_PRIMITIVES } from './backend.js';
export { JsBackend } from './backends/js.js';
// For backend authors: the reference scalar semantics and strided-offset iteration, one copy for every CPU fallback.
export { scalarErf, roundHalfEven, SCALAR_UNARY, SCALAR_BINARY, SCALAR_COMPARE, truncateIntResult } from './backends/scalar.js';
export { offsetsOf, viewOffsets } from './backends/strided.js';
// For backend authors: the optimizer kernels' float32 contract (constants, reference loops).
export { adamConstants, adamStepF32, normOf, normOfNorms, clipCoef, type AdamConstants } from './backends/optim-kernels.js';
export { registerBackend, setBackend, getBackend, initBackend, listBackends } from './registry.js';

// Autodiff
export { backward, gradients, grad, valueAndGrad, vjp, noGrad, isGradEnabled, customOp, type BackwardOptions, type TensorFn, type GradNode, type VjpFn } from './autograd.js';

// Profiling
export { profile, startProfile, recordFunction, Profile, type ProfileSession, type ProfileOptions, type ProfileEvent, type ProfileRow, type TableOptions, type ChromeTrace, type ChromeTraceEvent, type SpanKind } from './profile.js';

// Memory
export { tidy, keep, dispose, memory, resetPeakMemory, type MemoryInfo, type BackendMemoryInfo } from './memory.js';

// Randomness and debugging
export { Generator, manualSeed, defaultGenerator, philox4x32 } from './rng.js';
export { setFlags, getFlags, type Flags } from './flags.js';

// Ops
export {
  tensor,
  fromTypedArray,
  full,
  zeros,
  ones,
  fullLike,
  zerosLike,
  onesLike,
  arange,
  linspace,
  eye,
  rand,
  randn,
  randint,
  randLike,
  randnLike,
  randintLike,
  type CreateOptions,
  type RandomOptions,
  type NestedArray,
} from './ops/creation.js';
export {
  neg, abs, sign, exp, log, sqrt, rsqrt, reciprocal, sin, cos, tanh, erf, square, sigmoid, relu, gelu, clamp,
  log1p, expm1, atan, floor, ceil, trunc, round, atan2,
  add, sub, mul, div, pow, maximum, minimum,
  eq, ne, lt, le, gt, ge, logicalAnd, logicalNot, where, cast,
} from './ops/elementwise.js';
export { log2, log10, tan, asin, acos, sinh, cosh, asinh, acosh, atanh, frac, isnan, isinf, isfinite } from './ops/math.js';
export { softplus, logsigmoid, silu, mish, leakyRelu, elu, selu, celu, hardtanh, relu6, hardsigmoid, hardswish, type SoftplusOptions } from './ops/activations.js';
export { sum, mean, prod, max, min, amax, amin, maxDim, minDim, all, any, norm, argmax, argmin, variance, std, logsumexp, type VarOptions, type ValuesIndices, type NormOrder } from './ops/reduce.js';
export { cumsum, cumprod, type ScanOptions } from './ops/scan.js';
export { sort, argsort, topk, type SortOptions, type TopkOptions } from './ops/sort.js';
export { reshape, flatten, permute, transpose, expand, squeeze, unsqueeze, slice, narrow, flip, contiguous, embed, asStrided, sumTo } from './ops/views.js';
export { pad, PAD_MODES, type PadMode, type PadOptions } from './ops/padding.js';
export { matmul, dot, mv, mm, outer, bmm, addmm, baddbmm, trace, kron, type AddmmOptions } from './ops/linalg.js';
export { linear, fusedLinear, type FusedLinearOptions } from './ops/linear.js';
export { einsum } from './ops/einsum.js';
export { conv2d, type Conv2dOptions, type IntPair } from './ops/conv.js';
export { adamStep, totalNorm, clipScale, type AdamStepOptions, type AdamStepOutput } from './ops/optim.js';
export { conv1d, conv3d, convTranspose1d, convTranspose2d, type Conv1dOptions, type Conv3dOptions, type ConvTranspose1dOptions, type ConvTranspose2dOptions, type IntSingle, type IntTriple } from './ops/conv-nd.js';
export { avgPool2d, maxPool2d, adaptiveAvgPool2d, adaptiveMaxPool2d, maxUnpool2d, avgPool1d, maxPool1d, adaptiveAvgPool1d, adaptiveMaxPool1d, type PoolOptions, type AvgPoolOptions, type MaxPoolOptions, type Pool1dOptions } from './ops/pool.js';
export { unfold, fold, type FoldOptions } from './ops/fold.js';
export { interpolate, type InterpolateMode, type InterpolateOptions } from './ops/resample.js';
export { softmax, logSoftmax, standardize, layerNorm, dropout, embedding, type DropoutOptions, type EmbeddingOptions } from './ops/nn.js';
export * from './ops/norms.js';
export * from './ops/losses.js';
export * from './ops/attention.js';
export { cat, stack, split, gather, scatterAdd, scatter, indexAdd, indexSelect, oneHot, type ScatterOptions, type ScatterReduce } from './ops/indexing.js';
export { select, unbind, chunk, maskedFill, maskedSelect, maskedSelectAsync, roll, repeat, tile, tril, triu, diagonal, diagEmbed, diag, unflatten, movedim, index, sl, ellipsis, type Slice, type IndexItem, type IndexSpec } from './ops/select.js';
