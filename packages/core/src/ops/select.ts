/**
 * Indexing and rearranging, composed from views, `where` and `indexSelect`, so each runs
 * on every backend and differentiates (twice) through its parts: select, unbind, chunk,
 * maskedFill, maskedSelect, roll, repeat, tile, tril/triu, diagonal/diag/diagEmbed,
 * unflatten, movedim, and the multi-dimensional indexer {@link index} (NumPy/PyTorch `x[...]`).
 */
import { noGrad, withGrad } from '../autograd.js';
import type { TypedArray } from '../dtype.js';
import { tidy } from '../memory.js';
import { broadcastShapes, contiguousStrides, fmtShape, normAxis, numel, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { arange, fromTypedArray } from './creation.js';
import { add, cast, ge, le, lt, mul, sub, where } from './elementwise.js';
import { cat, indexSelect, split } from './indexing.js';
import { sameBackend } from './prim.js';
import { embed, expand, flip, permute, reshape, slice, unsqueeze } from './views.js';

/** A view of `x` with new geometry, recorded with `vjp`. */
function viewOp(x: Tensor, op: string, shape: Shape, strides: readonly number[], offset: number, vjp: (g: Tensor) => Tensor): Tensor {
  return withGrad(Tensor.viewOf(x, shape, strides, offset), op, [x], (g) => [vjp(g)]);
}

function checkInt(op: string, what: string, v: number): void {
  if (!Number.isInteger(v)) throw new TypeError(`${op}: ${what} must be an integer, got ${v}`);
}

/** Dims other than `skip`, in order. */
function otherDims(ndim: number, skip: readonly number[]): number[] {
  return Array.from({ length: ndim }, (_, i) => i).filter((i) => !skip.includes(i));
}

// ---- select, unbind, chunk ----

/**
 * The slice of `x` at `index` along `dim`, with that dim removed (a view), as `torch.select`
 * and `x[:, index]`. A negative index counts from the end.
 */
export function select(x: Tensor, dim: number, index: number): Tensor {
  x.assertLive('select');
  if (x.ndim === 0) throw new RangeError('select: cannot select from a 0-d tensor');
  const d = normAxis(dim, x.ndim, 'select');
  const n = x.shape[d]!;
  checkInt('select', 'index', index);
  if (index < -n || index >= n) throw new RangeError(`select: index ${index} is out of range for dimension ${d} of size ${n} (shape ${fmtShape(x.shape)})`);
  const i = index < 0 ? index + n : index;
  const keep = otherDims(x.ndim, [d]);
  const xShape = x.shape;
  const cs = contiguousStrides(xShape);
  return viewOp(
    x,
    'select',
    keep.map((k) => x.shape[k]!),
    keep.map((k) => x.strides[k]!),
    x.offset + i * x.strides[d]!,
    (g) => embed(g, xShape, i * cs[d]!, keep.map((k) => cs[k]!)),
  );
}

/** Every slice along `dim` (views), as `torch.unbind`. */
export function unbind(x: Tensor, dim = 0): Tensor[] {
  if (x.ndim === 0) throw new RangeError('unbind: cannot unbind a 0-d tensor');
  const d = normAxis(dim, x.ndim, 'unbind');
  return Array.from({ length: x.shape[d]! }, (_, i) => select(x, d, i));
}

/**
 * Splits `x` into at most `chunks` views along `dim`, as `torch.chunk`: each has
 * `ceil(len / chunks)` entries and the last may be smaller, so fewer than `chunks` pieces
 * can come back (`chunk` of length 5 into 4 gives sizes 2, 2, 1). A dim of length 0 gives
 * `chunks` empty pieces, as PyTorch.
 */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) throw new RangeError(`chunk: chunks must be a positive integer, got ${chunks}`);
  if (x.ndim === 0) throw new RangeError('chunk: expects at least a 1-dimensional tensor');
  const d = normAxis(dim, x.ndim, 'chunk');
  const len = x.shape[d]!;
  if (len === 0) return Array.from({ length: chunks }, () => slice(x, d, 0, 0));
  return split(x, Math.ceil(len / chunks), d);
}

// ---- masks ----

/**
 * `value` where `mask` is true, `x` elsewhere, as `torch.masked_fill`. `mask` is bool and
 * broadcasts with `x` (the output has the broadcast shape, as PyTorch's out-of-place form).
 * `value` is a number or a 0-d tensor; a float tensor value receives the gradient of the
 * positions it fills.
 */
export function maskedFill(x: Tensor, mask: Tensor, value: number | Tensor): Tensor {
  sameBackend('maskedFill', x, mask);
  if (mask.dtype !== 'bool') throw new TypeError(`maskedFill: mask must be a bool tensor, got ${mask.dtype}`);
  broadcastShapes(x.shape, mask.shape, 'maskedFill');
  if (typeof value === 'number') return where(mask, value, x);
  sameBackend('maskedFill', x, value);
  if (value.ndim !== 0) throw new RangeError(`maskedFill: value must be a number or a 0-d tensor, got a tensor of shape ${fmtShape(value.shape)}`);
  return where(mask, value.dtype === x.dtype ? value : cast(value, x.dtype), x);
}

function maskedSelectChecks(x: Tensor, mask: Tensor, op: string): number[] {
  sameBackend(op, x, mask);
  if (mask.dtype !== 'bool') throw new TypeError(`${op}: mask must be a bool tensor, got ${mask.dtype}`);
  return broadcastShapes(x.shape, mask.shape, op);
}

/** The elements of `x` (broadcast to `shape`) at the flat positions where `bits` is non-zero. */
function pickFlat(x: Tensor, shape: Shape, bits: TypedArray): Tensor {
  const flat = reshape(expand(x, shape), [-1]);
  const at: number[] = [];
  for (let i = 0; i < bits.length; i++) if (bits[i]) at.push(i);
  if (at.length === 0) return slice(flat, 0, 0, 0);
  const idx = fromTypedArray(Int32Array.from(at), [at.length], 'int32', x.backend);
  const y = indexSelect(flat, 0, idx);
  if (!y.requiresGrad) idx.dispose(); // else gather's gradient still needs it
  return y;
}

/**
 * The elements of `x` where the bool `mask` is true, as a 1-D tensor in row-major order,
 * as `torch.masked_select` (`x` and `mask` broadcast together). The output's length depends
 * on the mask's values, so this reads the mask back synchronously: on a backend that cannot
 * (WebGPU) it throws and {@link maskedSelectAsync} is the way.
 */
export function maskedSelect(x: Tensor, mask: Tensor): Tensor {
  const shape = maskedSelectChecks(x, mask, 'maskedSelect');
  if (!mask.backend.canReadSync) {
    throw new Error(
      `maskedSelect: the output's length depends on the mask's values, and backend '${mask.backend.name}' cannot read them synchronously; use await maskedSelectAsync(x, mask)`,
    );
  }
  const bits = noGrad(() => tidy(() => expand(mask, shape).dataSync()));
  return pickFlat(x, shape, bits);
}

/** {@link maskedSelect} on any backend: awaits the mask's values. Differentiable like it. */
export async function maskedSelectAsync(x: Tensor, mask: Tensor): Promise<Tensor> {
  const shape = maskedSelectChecks(x, mask, 'maskedSelectAsync');
  const m = noGrad(() => expand(mask, shape));
  const bits = await m.data();
  m.dispose();
  x.assertLive('maskedSelectAsync');
  return pickFlat(x, shape, bits);
}

// ---- roll, repeat, tile ----

function rollDim(x: Tensor, d: number, shift: number): Tensor {
  const n = x.shape[d]!;
  if (n === 0) return x;
  const k = ((shift % n) + n) % n;
  if (k === 0) return x;
  return cat([slice(x, d, n - k), slice(x, d, 0, n - k)], d);
}

/**
 * Rotates `x` by `shifts` along `dims` (elements shifted past the end come back at the
 * start), as `torch.roll`. Without `dims` the tensor is rolled as if flattened, then
 * restored to its shape. Where a shift is 0 (mod the length) the result may be `x` itself.
 */
export function roll(x: Tensor, shifts: number | readonly number[], dims?: number | readonly number[]): Tensor {
  x.assertLive('roll');
  const s = typeof shifts === 'number' ? [shifts] : [...shifts];
  for (const v of s) checkInt('roll', 'shifts', v);
  if (dims === undefined) {
    if (s.length !== 1) throw new RangeError(`roll: without dims, shifts must be a single number, got ${fmtShape(s)}`);
    return reshape(rollDim(reshape(x, [-1]), 0, s[0]!), x.shape);
  }
  const d = typeof dims === 'number' ? [dims] : [...dims];
  if (d.length !== s.length) throw new RangeError(`roll: shifts and dims must align: ${s.length} shifts ${fmtShape(s)} for ${d.length} dims ${fmtShape(d)}`);
  if (d.length === 0) throw new RangeError('roll: give at least one shift');
  let y = x;
  d.forEach((dim, i) => (y = rollDim(y, normAxis(dim, x.ndim, 'roll'), s[i]!)));
  return y;
}

/**
 * `x` repeated `sizes[i]` times along each dim, as `torch.Tensor.repeat` (not
 * `numpy.repeat`, which is `repeatInterleave`): `sizes` has at least `x.ndim` entries, and
 * extra leading entries add new leading dims. Copies.
 */
export function repeat(x: Tensor, sizes: readonly number[]): Tensor {
  x.assertLive('repeat');
  if (sizes.length < x.ndim) {
    throw new RangeError(`repeat: the number of repeat sizes (${sizes.length}, ${fmtShape(sizes)}) cannot be smaller than the number of dimensions of the tensor (${x.ndim}, shape ${fmtShape(x.shape)})`);
  }
  for (const r of sizes) if (!Number.isInteger(r) || r < 0) throw new RangeError(`repeat: sizes must be non-negative integers, got ${fmtShape(sizes)}`);
  const xs = [...new Array<number>(sizes.length - x.ndim).fill(1), ...x.shape];
  // [s0, s1] -> [1, s0, 1, s1] -> expand [r0, s0, r1, s1] -> [r0*s0, r1*s1]: the gradient sums the copies.
  const inter = reshape(x, xs.flatMap((d) => [1, d]));
  const wide = expand(inter, xs.flatMap((d, i) => [sizes[i]!, d]));
  return reshape(wide, xs.map((d, i) => d * sizes[i]!));
}

/**
 * `x` tiled `dims[i]` times along each dim, as `torch.tile`: like {@link repeat}, except
 * that fewer entries than dims are allowed (the leading dims are then repeated once).
 */
export function tile(x: Tensor, dims: readonly number[]): Tensor {
  const full = dims.length < x.ndim ? [...new Array<number>(x.ndim - dims.length).fill(1), ...dims] : dims;
  return repeat(x, full);
}

// ---- triangles and diagonals ----

function triangle(op: 'tril' | 'triu', x: Tensor, diagonal: number): Tensor {
  x.assertLive(op);
  if (x.ndim < 2) throw new RangeError(`${op}: input must have at least 2 dimensions, got shape ${fmtShape(x.shape)}`);
  checkInt(op, 'diagonal', diagonal);
  const m = x.shape[x.ndim - 2]!;
  const n = x.shape[x.ndim - 1]!;
  const keep = noGrad(() =>
    tidy(() => {
      const colMinusRow = sub(reshape(arange(n, undefined, 1, { backend: x.backend }), [1, n]), reshape(arange(m, undefined, 1, { backend: x.backend }), [m, 1]));
      return op === 'tril' ? le(colMinusRow, diagonal) : ge(colMinusRow, diagonal);
    }),
  );
  const y = where(keep, x, 0);
  if (!y.requiresGrad) keep.dispose(); // else where's gradient still needs it
  return y;
}

/**
 * The lower triangle of the last two dims (batched over the others), zeros above, as
 * `torch.tril`: entry `(i, j)` is kept where `j - i <= diagonal` (positive `diagonal`
 * keeps diagonals above the main one, negative drops more).
 */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return triangle('tril', x, diagonal);
}

/** The upper triangle of the last two dims, zeros below, as `torch.triu`: keeps `j - i >= diagonal`. */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return triangle('triu', x, diagonal);
}

/**
 * The diagonal `offset` of the plane `(dim1, dim2)` as a view, appended as the last dim,
 * as `torch.diagonal` (offset > 0: above the main diagonal). An offset past the edge gives
 * an empty last dim.
 */
export function diagonal(x: Tensor, offset = 0, dim1 = 0, dim2 = 1): Tensor {
  x.assertLive('diagonal');
  if (x.ndim < 2) throw new RangeError(`diagonal: input must have at least 2 dimensions, got shape ${fmtShape(x.shape)}`);
  checkInt('diagonal', 'offset', offset);
  const a = normAxis(dim1, x.ndim, 'diagonal');
  const b = normAxis(dim2, x.ndim, 'diagonal');
  if (a === b) throw new RangeError(`diagonal: dim1 and dim2 must be different dims, both are ${a}`);
  const n1 = x.shape[a]!;
  const n2 = x.shape[b]!;
  const len = Math.max(0, offset >= 0 ? Math.min(n1, n2 - offset) : Math.min(n1 + offset, n2));
  const rest = otherDims(x.ndim, [a, b]);
  const at = (s: readonly number[]) => (len === 0 ? 0 : offset >= 0 ? offset * s[b]! : -offset * s[a]!);
  const xShape = x.shape;
  const cs = contiguousStrides(xShape);
  return viewOp(
    x,
    'diagonal',
    [...rest.map((d) => x.shape[d]!), len],
    [...rest.map((d) => x.strides[d]!), x.strides[a]! + x.strides[b]!],
    x.offset + at(x.strides),
    (g) => embed(g, xShape, at(cs), [...rest.map((d) => cs[d]!), cs[a]! + cs[b]!]),
  );
}

/**
 * Zeros with the last dim of `x` written on diagonal `offset` of the plane `(dim1, dim2)` of
 * the output (which has one more dim, of size `len + |offset|` at both), as
 * `torch.diag_embed`; `diagonal(diagEmbed(x, o, d1, d2), o, d1, d2)` gives `x` back.
 */
export function diagEmbed(x: Tensor, offset = 0, dim1 = -2, dim2 = -1): Tensor {
  x.assertLive('diagEmbed');
  if (x.ndim === 0) throw new RangeError('diagEmbed: input must have at least 1 dimension, got a 0-d tensor');
  checkInt('diagEmbed', 'offset', offset);
  const outNd = x.ndim + 1;
  const a = normAxis(dim1, outNd, 'diagEmbed');
  const b = normAxis(dim2, outNd, 'diagEmbed');
  if (a === b) throw new RangeError(`diagEmbed: dim1 and dim2 must be different dims, both are ${a}`);
  const len = x.shape[x.ndim - 1]!;
  const n = len + Math.abs(offset);
  const restAt = otherDims(outNd, [a, b]);
  const outShape = new Array<number>(outNd);
  outShape[a] = n;
  outShape[b] = n;
  restAt.forEach((p, i) => (outShape[p] = x.shape[i]!));
  const cs = contiguousStrides(outShape);
  const at = len === 0 ? 0 : offset >= 0 ? offset * cs[b]! : -offset * cs[a]!;
  return embed(x, outShape, at, [...restAt.map((p) => cs[p]!), cs[a]! + cs[b]!]);
}

/**
 * As `torch.diag`: a 1-D `x` becomes the square matrix with `x` on diagonal `offset`; a
 * 2-D `x` gives its diagonal `offset` as 1-D. Unlike PyTorch the 2-D case returns a view
 * (no copy), and an offset past the edge gives an empty result rather than an error.
 */
export function diag(x: Tensor, offset = 0): Tensor {
  if (x.ndim === 1) return diagEmbed(x, offset, 0, 1);
  if (x.ndim === 2) return diagonal(x, offset, 0, 1);
  throw new RangeError(`diag: expected a 1-D or 2-D tensor, got shape ${fmtShape(x.shape)}`);
}

// ---- reshaping dims ----

/**
 * Splits dim `dim` into `sizes` (one of them may be -1, inferred), as `torch.unflatten`;
 * the inverse of `flatten`. A view when the strides allow.
 */
export function unflatten(x: Tensor, dim: number, sizes: readonly number[]): Tensor {
  x.assertLive('unflatten');
  if (x.ndim === 0) throw new RangeError('unflatten: cannot unflatten a 0-d tensor');
  const d = normAxis(dim, x.ndim, 'unflatten');
  if (sizes.length === 0) throw new RangeError('unflatten: sizes must be non-empty');
  const len = x.shape[d]!;
  const s = [...sizes];
  const unknown = s.indexOf(-1);
  const bad = () => new RangeError(`unflatten: sizes ${fmtShape(sizes)} don't multiply up to the size of dim ${d} (${len}) of the input ${fmtShape(x.shape)}`);
  if (s.lastIndexOf(-1) !== unknown) throw new RangeError(`unflatten: only one size can be -1, got ${fmtShape(sizes)}`);
  for (const v of s) if (v !== -1 && (!Number.isInteger(v) || v < 0)) throw new RangeError(`unflatten: sizes must be non-negative integers or -1, got ${fmtShape(sizes)}`);
  if (unknown >= 0) {
    const known = numel(s.filter((v) => v !== -1));
    if (known === 0 || len % known !== 0) throw bad();
    s[unknown] = len / known;
  }
  if (numel(s) !== len) throw bad();
  return reshape(x, [...x.shape.slice(0, d), ...s, ...x.shape.slice(d + 1)]);
}

/**
 * Moves dims `source` to positions `destination` (numbers or lists of one length), the
 * others keeping their order, as `torch.movedim`. A view.
 */
export function movedim(x: Tensor, source: number | readonly number[], destination: number | readonly number[]): Tensor {
  const src = (typeof source === 'number' ? [source] : [...source]).map((a) => normAxis(a, x.ndim, 'movedim'));
  const dst = (typeof destination === 'number' ? [destination] : [...destination]).map((a) => normAxis(a, x.ndim, 'movedim'));
  if (src.length !== dst.length) {
    throw new RangeError(`movedim: source ${fmtShape(src)} and destination ${fmtShape(dst)} must name the same number of dims`);
  }
  if (new Set(src).size !== src.length) throw new RangeError(`movedim: repeated dim in source ${fmtShape(src)}`);
  if (new Set(dst).size !== dst.length) throw new RangeError(`movedim: repeated dim in destination ${fmtShape(dst)}`);
  const perm = new Array<number>(x.ndim).fill(-1);
  src.forEach((s, i) => (perm[dst[i]!] = s));
  const rest = otherDims(x.ndim, src);
  let r = 0;
  for (let i = 0; i < x.ndim; i++) if (perm[i] === -1) perm[i] = rest[r++]!;
  return permute(x, perm);
}

// ---- x[...]: the multi-dimensional indexer ----

/** A slice `start:stop:step` of one dim, as Python's; `undefined`/`null` parts take the defaults. */
export interface Slice {
  /** Marks the object as a slice. */
  readonly kind: 'slice';
  /** First position (negative counts from the end); `null`: the start (the end for negative steps). */
  readonly start: number | null;
  /** Position to stop before; `null`: past the end (before the start for negative steps). */
  readonly stop: number | null;
  /** Step, not 0; negative steps walk backwards (NumPy semantics); `null`: 1. */
  readonly step: number | null;
}

/**
 * A slice for {@link index}: `sl()` is `:`, `sl(1)` is `1:`, `sl(1, -1, 2)` is `1:-1:2`,
 * `sl(null, null, -1)` is `::-1`. Bounds clamp and count from the end as in Python.
 */
export function sl(start: number | null = null, stop: number | null = null, step: number | null = null): Slice {
  return { kind: 'slice', start, stop, step };
}

/** Python's `...` in an {@link index} spec: as many full slices as the other entries leave dims. */
export const ellipsis = '...';

/**
 * One entry of an {@link index} spec, as one entry of Python's `x[a, b, ...]`:
 * - a number: that position (negative counts from the end); the dim goes away.
 * - `null`: a new dim of length 1 (Python's `None`).
 * - {@link sl}`(start, stop, step)` or a string `'1:-1:2'`, `':'`, `'::-1'`: a slice (a view).
 * - `'...'` ({@link ellipsis}): the dims not otherwise named.
 * - an int32 tensor or an array of numbers: advanced indexing along that dim (a copy).
 * - a bool tensor or an array of booleans: a mask over as many dims as it has.
 */
export type IndexItem = number | null | string | Slice | Tensor | readonly number[] | readonly boolean[];

/** An {@link index} spec: a list of entries, or one string of comma-separated ones (`':, 3, None, ..., 1:-1:2'`). */
export type IndexSpec = readonly IndexItem[] | string;

/** An entry after parsing: a position, a new dim, a slice, the ellipsis, or an index tensor. */
type Item = { k: 'int'; i: number } | { k: 'new' } | { k: 'slice'; s: Slice } | { k: 'ellipsis' } | { k: 'tensor'; t: Tensor; owned: boolean };

const INT_RE = /^[+-]?\d+$/;

function parseSliceText(text: string): Slice {
  const parts = text.split(':').map((p) => p.trim());
  if (parts.length > 3) throw new SyntaxError(`index: '${text}' is not a slice (at most start:stop:step)`);
  const num = (p: string | undefined): number | null => {
    if (p === undefined || p === '') return null;
    if (!INT_RE.test(p)) throw new SyntaxError(`index: '${p}' in slice '${text}' is not an integer`);
    return Number(p);
  };
  return sl(num(parts[0]), num(parts[1]), num(parts[2]));
}

function parseText(text: string): Item {
  const t = text.trim();
  if (t === '...') return { k: 'ellipsis' };
  if (t === 'None' || t === 'null' || t === 'newaxis') return { k: 'new' };
  if (t.includes(':')) return { k: 'slice', s: parseSliceText(t) };
  if (INT_RE.test(t)) return { k: 'int', i: Number(t) };
  throw new SyntaxError(`index: cannot read '${text}' as an index: expected an integer, a slice like '1:-1:2', '...' or 'None'`);
}

function parseItem(v: IndexItem, x: Tensor): Item {
  if (v === null) return { k: 'new' };
  if (typeof v === 'number') {
    checkInt('index', 'an integer index', v);
    return { k: 'int', i: v };
  }
  if (typeof v === 'string') return parseText(v);
  if (v instanceof Tensor) {
    sameBackend('index', x, v);
    if (v.dtype !== 'int32' && v.dtype !== 'bool') throw new TypeError(`index: a tensor index must be int32 (positions) or bool (a mask), got ${v.dtype}`);
    return { k: 'tensor', t: v, owned: false };
  }
  if (Array.isArray(v)) {
    const arr = v as readonly (number | boolean)[];
    if (arr.length > 0 && arr.every((e) => typeof e === 'boolean')) {
      return { k: 'tensor', t: fromTypedArray(Uint8Array.from(arr, Number), [arr.length], 'bool', x.backend), owned: true };
    }
    if (!arr.every((e) => typeof e === 'number' && Number.isInteger(e))) throw new TypeError('index: an array index must hold only integers or only booleans');
    return { k: 'tensor', t: fromTypedArray(Int32Array.from(arr as readonly number[]), [arr.length], 'int32', x.backend), owned: true };
  }
  if (typeof v === 'object' && (v as { kind?: unknown }).kind === 'slice') return { k: 'slice', s: v as Slice };
  throw new TypeError(`index: cannot use ${String(v)} as an index`);
}

/** Python's `slice.indices(len)` and the count: the normalised start, step and number of elements. */
function sliceBounds(s: Slice, len: number): { start: number; step: number; n: number } {
  const step = s.step ?? 1;
  checkInt('index', 'a slice step', step);
  if (step === 0) throw new RangeError('index: slice step cannot be zero');
  const norm = (v: number | null, dflt: number): number => {
    if (v === null) return dflt;
    checkInt('index', 'a slice bound', v);
    if (v < 0) return Math.max(v + len, step < 0 ? -1 : 0);
    return Math.min(v, step < 0 ? len - 1 : len);
  };
  const start = norm(s.start, step < 0 ? len - 1 : 0);
  const stop = norm(s.stop, step < 0 ? -1 : len);
  const n = step > 0 ? (start < stop ? Math.floor((stop - start - 1) / step) + 1 : 0) : stop < start ? Math.floor((start - stop - 1) / -step) + 1 : 0;
  return { start, step, n };
}

function applySlice(y: Tensor, d: number, s: Slice): Tensor {
  const len = y.shape[d]!;
  const { start, step, n } = sliceBounds(s, len);
  if (n === 0) return slice(y, d, 0, 0);
  if (step > 0) return slice(y, d, start, start + (n - 1) * step + 1, step);
  // A negative step is a positive one over the flipped dim.
  const from = len - 1 - start;
  return slice(flip(y, d), d, from, from + (n - 1) * -step + 1, -step);
}

/** The int32 positions of the true entries of a bool mask, one 1-D tensor per mask dim (a sync read). */
function maskPositions(mask: Tensor): Tensor[] {
  if (!mask.backend.canReadSync) {
    throw new Error(`index: a bool mask index needs its values, and backend '${mask.backend.name}' cannot read synchronously; read the mask with await and index with int32 positions, or use maskedSelectAsync`);
  }
  const bits = mask.dataSync();
  const cs = contiguousStrides(mask.shape);
  const cols: number[][] = mask.shape.map(() => []);
  for (let f = 0; f < bits.length; f++) {
    if (!bits[f]) continue;
    let rest = f;
    cs.forEach((c, j) => {
      cols[j]!.push(Math.floor(rest / c));
      rest %= c;
    });
  }
  return cols.map((c) => fromTypedArray(Int32Array.from(c), [c.length], 'int32', mask.backend));
}

/** Checks the positions of an int32 index against `n` (where they can be read) and wraps negative ones. */
function wrapIndex(idx: Tensor, n: number, dim: number): Tensor {
  if (idx.backend.canReadSync) {
    const v = idx.dataSync();
    for (const i of v) {
      if (i < -n || i >= n) throw new RangeError(`index: index ${i} is out of bounds for dimension ${dim} with size ${n}`);
    }
  }
  return noGrad(() => tidy(() => where(lt(idx, 0), add(idx, n), idx)));
}

/**
 * Python/NumPy-style indexing, `x[...]` of PyTorch, with a typed spec (or a string):
 *
 * ```ts
 * index(x, [sl(), 3, null, ellipsis, sl(1, -1, 2)])  // x[:, 3, None, ..., 1:-1:2]
 * index(x, ':, 3, None, ..., 1:-1:2')                // the same, as one string
 * index(x, [-1])                                      // x[-1]: the last row, a view
 * index(x, ['::-1'])                                  // x[::-1]: reversed (NumPy; PyTorch has no negative steps)
 * index(x, [ellipsis, ids])                           // x[..., ids] with an int32 tensor: gathers along the last dim
 * index(x, [rows, cols])                              // x[rows, cols]: the pairs (rows[i], cols[i]), broadcast
 * index(x, [mask])                                    // x[mask] with a bool mask over the leading dims
 * ```
 *
 * Integers, slices, `null` and the ellipsis give a view of `x`. Integer tensors (or arrays)
 * and bool masks are advanced indexing, as in PyTorch: index tensors broadcast together;
 * when they sit next to each other the result's index dims take their place, otherwise
 * they go first; a bool mask of k dims is its k arrays of true positions. Plain integers
 * are applied first, as PyTorch does (`x[0, :, [1, 2]]` of a `[3, 4, 5]` tensor has shape
 * `[4, 2]`; NumPy, which counts the 0 as an advanced index, gives `[2, 4]`).
 *
 * Advanced indexing copies (through `indexSelect`) and differentiates back to `x`.
 * Negative positions count from the end everywhere; tensor positions are bounds-checked
 * where the backend reads synchronously (on WebGPU an out-of-range position is not
 * detected). A bool mask needs a synchronous read of its values, so on WebGPU use int32
 * positions or {@link maskedSelectAsync}. Negative slice steps follow NumPy (PyTorch
 * rejects them).
 */
export function index(x: Tensor, spec: IndexSpec): Tensor {
  x.assertLive('index');
  const rawItems: readonly IndexItem[] = typeof spec === 'string' ? (spec.trim() === '' ? [] : spec.split(',')) : spec;
  if (!Array.isArray(rawItems)) throw new TypeError('index: the spec must be an array of entries (wrap a single entry, e.g. [t] or [3]) or a string');
  const parsed = rawItems.map((v) => parseItem(v, x));
  try {
    return indexParsed(x, parsed);
  } finally {
    for (const p of parsed) if (p.k === 'tensor' && p.owned) p.t.dispose();
  }
}

function indexParsed(x: Tensor, parsedIn: readonly Item[]): Tensor {
  let parsed = [...parsedIn];
  const advanced = parsed.some((p) => p.k === 'tensor');
  const made: Tensor[] = [];
  try {
    // Bool masks become their positions (integers stay basic indexing, as PyTorch: NumPy would count them as advanced).
    if (advanced) {
      parsed = parsed.flatMap((p): Item[] => {
        if (p.k === 'tensor' && p.t.dtype === 'bool') {
          if (p.t.ndim === 0) throw new RangeError('index: a 0-d bool index is not supported');
          const cols = maskPositions(p.t);
          made.push(...cols);
          return [{ k: 'tensor', t: p.t, owned: false }, ...cols.map((t): Item => ({ k: 'tensor', t, owned: false }))];
        }
        return [p];
      });
    }
    // A bool mask stands for its position arrays; the mask entry itself is a marker checked for shape below.
    const dimsOf = (p: Item): number => (p.k === 'int' || p.k === 'slice' ? 1 : p.k === 'tensor' ? (p.t.dtype === 'bool' ? 0 : 1) : 0);
    const ellipses = parsed.filter((p) => p.k === 'ellipsis').length;
    if (ellipses > 1) throw new SyntaxError("index: an index can only have a single ellipsis ('...')");
    const used = parsed.reduce((acc, p) => acc + dimsOf(p), 0);
    if (used > x.ndim) throw new RangeError(`index: too many indices for a tensor of ${x.ndim} dimension${x.ndim === 1 ? '' : 's'} (shape ${fmtShape(x.shape)}): the spec names ${used}`);
    const fill = Array.from({ length: x.ndim - used }, (): Item => ({ k: 'slice', s: sl() }));
    const at = parsed.findIndex((p) => p.k === 'ellipsis');
    const items = at >= 0 ? [...parsed.slice(0, at), ...fill, ...parsed.slice(at + 1)] : [...parsed, ...fill];

    let y = x;
    let d = 0; // the dim of y the next entry applies to
    let srcDim = 0; // the dim of x it came from (for messages)
    const adv: { dim: number; t: Tensor }[] = [];
    for (const p of items) {
      if (p.k === 'new') {
        y = unsqueeze(y, d++);
      } else if (p.k === 'int') {
        const n = y.shape[d]!;
        if (p.i < -n || p.i >= n) throw new RangeError(`index: index ${p.i} is out of bounds for dimension ${srcDim} with size ${n}`);
        y = select(y, d, p.i);
        srcDim++;
      } else if (p.k === 'slice') {
        y = applySlice(y, d++, p.s);
        srcDim++;
      } else if (p.k === 'tensor' && p.t.dtype === 'bool') {
        const span = x.shape.slice(srcDim, srcDim + p.t.ndim);
        if (p.t.shape.some((n, j) => n !== span[j])) {
          throw new RangeError(`index: the shape of the mask ${fmtShape(p.t.shape)} at index ${srcDim} does not match the shape of the indexed tensor ${fmtShape(x.shape)} at index ${srcDim}`);
        }
      } else if (p.k === 'tensor') {
        const n = y.shape[d]!;
        const w = wrapIndex(p.t, n, srcDim);
        made.push(w);
        adv.push({ dim: d++, t: w });
        srcDim++;
      }
    }
    if (adv.length === 0) return y;
    return advancedIndex(y, adv);
  } finally {
    for (const t of made) t.dispose();
  }
}

/** Gathers `y` at the broadcast index tensors on `adv` dims, placing the index dims as PyTorch does. */
function advancedIndex(y: Tensor, adv: readonly { dim: number; t: Tensor }[]): Tensor {
  const B = adv.slice(1).reduce((s, a) => broadcastShapes(s, a.t.shape, 'index (index tensors)'), [...adv[0]!.t.shape] as number[]);
  const dims = adv.map((a) => a.dim);
  const adjacent = dims.every((v, i) => i === 0 || v === dims[i - 1]! + 1);
  // Advanced dims first, flattened into one, addressed by one linear position.
  const rest = otherDims(y.ndim, dims);
  const moved = permute(y, [...dims, ...rest]);
  const sizes = dims.map((v) => y.shape[v]!);
  const flat = reshape(moved, [numel(sizes), ...rest.map((v) => y.shape[v]!)]);
  const flatIdx = noGrad(() =>
    tidy(() => {
      let lin: Tensor = adv[adv.length - 1]!.t;
      let stride = sizes[sizes.length - 1]!;
      for (let j = adv.length - 2; j >= 0; j--) {
        lin = add(mul(adv[j]!.t, stride), lin);
        stride *= sizes[j]!;
      }
      return reshape(expand(lin, B), [-1]).contiguous();
    }),
  );
  const picked = indexSelect(flat, 0, flatIdx);
  if (!picked.requiresGrad) flatIdx.dispose(); // else gather's gradient still reads it
  let out = reshape(picked, [...B, ...picked.shape.slice(1)]);
  const p = dims[0]!;
  if (adjacent && p > 0) {
    // The index dims go back where the first advanced index was.
    const nb = B.length;
    const restDims = Array.from({ length: rest.length }, (_, i) => nb + i);
    const bDims = Array.from({ length: nb }, (_, i) => i);
    out = permute(out, [...restDims.slice(0, p), ...bDims, ...restDims.slice(p)]);
  }
  return out;
}
