/**
 * Views: ops that re-index storage without copying (reshape of contiguous data, permute,
 * expand, squeeze, slice, flip), their adjoint `embed` (pad, and the gradient of slicing),
 * and `contiguous`, which copies only when needed.
 */
import { withGrad } from '../autograd.js';
import { contiguousStrides, fmtShape, normAxes, normAxis, numel, shapesEqual, type Shape } from '../shape.js';
import { Tensor } from '../tensor.js';
import { full } from './creation.js';
import { where } from './elementwise.js';
import { sum } from './reduce.js';

/** A view of `x` with new geometry, recorded with `vjp`. */
function makeView(x: Tensor, op: string, shape: Shape, strides: readonly number[], offset: number, vjp: (g: Tensor) => Tensor): Tensor {
  return withGrad(Tensor.viewOf(x, shape, strides, offset), op, [x], (g) => [vjp(g)]);
}

/** A contiguous copy, or `x` itself when it is already contiguous (always a copy with `force`). */
export function contiguous(x: Tensor, force = false): Tensor {
  x.assertLive('contiguous');
  if (!force && x.isContiguous) return x;
  const out = Tensor.fromBuffer(x.backend, x.backend.copy(x.asView('contiguous')), x.shape, x.dtype);
  return withGrad(out, 'contiguous', [x], (g) => [g]);
}

/** `x` as a dense row-major buffer from offset 0 (copied unless it already is): what fused kernels read. */
export function packed(x: Tensor): Tensor {
  return x.isContiguous && x.offset === 0 ? x : contiguous(x, true);
}

function resolveShape(x: Tensor, shape: readonly number[]): number[] {
  const out = [...shape];
  const unknown = out.indexOf(-1);
  if (out.lastIndexOf(-1) !== unknown) throw new RangeError(`reshape: only one dimension can be -1, got ${fmtShape(shape)}`);
  for (const d of out) if (d !== -1 && (!Number.isInteger(d) || d < 0)) throw new RangeError(`reshape: invalid shape ${fmtShape(shape)}`);
  if (unknown >= 0) {
    const known = numel(out.filter((d) => d !== -1));
    if (known === 0 || x.size % known !== 0) throw new RangeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)}`);
    out[unknown] = x.size / known;
  }
  if (numel(out) !== x.size) throw new RangeError(`reshape: cannot reshape ${fmtShape(x.shape)} (${x.size} elements) into ${fmtShape(shape)} (${numel(out)} elements)`);
  return out;
}

/**
 * Strides that let a view of `oldShape`/`oldStrides` be seen as `shape` without copying,
 * or null when a copy is needed. Matches dimension chunks as PyTorch's `computeStride`.
 */
function reshapeStrides(oldShape: Shape, oldStrides: readonly number[], shape: Shape): number[] | null {
  if (oldShape.length === 0 || numel(oldShape) === 0) return contiguousStrides(shape);
  const out = new Array<number>(shape.length);
  let viewD = shape.length - 1;
  let chunkStride = oldStrides[oldStrides.length - 1]!;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = oldShape.length - 1; d >= 0; d--) {
    tensorNumel *= oldShape[d]!;
    const chunkEnds = d === 0 || (oldShape[d - 1] !== 1 && oldStrides[d - 1] !== tensorNumel * chunkStride);
    if (!chunkEnds) continue;
    while (viewD >= 0 && (viewNumel < tensorNumel || shape[viewD] === 1)) {
      out[viewD] = viewNumel * chunkStride;
      viewNumel *= shape[viewD]!;
      viewD--;
    }
    if (viewNumel !== tensorNumel) return null;
    if (d > 0) {
      chunkStride = oldStrides[d - 1]!;
      tensorNumel = 1;
      viewNumel = 1;
    }
  }
  return viewD === -1 ? out : null;
}

/** Same data in a new shape (one entry may be -1): a view when the strides allow, else a copy. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  x.assertLive('reshape');
  const s = resolveShape(x, shape);
  const xShape = x.shape;
  const strides = reshapeStrides(x.shape, x.strides, s);
  if (strides) return makeView(x, 'reshape', s, strides, x.offset, (g) => reshape(g, xShape));
  return reshape(contiguous(x), s);
}

/** Flattens dims `startDim..endDim` into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const a = normAxis(startDim, x.ndim, 'flatten');
  const b = normAxis(endDim, x.ndim, 'flatten');
  if (a > b) throw new RangeError(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  return reshape(x, [...x.shape.slice(0, a), numel(x.shape.slice(a, b + 1)), ...x.shape.slice(b + 1)]);
}

/** Reorders dimensions: output dim i is input dim `dims[i]`. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  x.assertLive('permute');
  if (dims.length !== x.ndim) throw new RangeError(`permute: got ${dims.length} dims ${fmtShape(dims)} for a tensor with ${x.ndim}`);
  const d = dims.map((a) => normAxis(a, x.ndim, 'permute'));
  if (new Set(d).size !== d.length) throw new RangeError(`permute: repeated dim in ${fmtShape(dims)}`);
  const inverse = new Array<number>(d.length);
  d.forEach((a, i) => (inverse[a] = i));
  return makeView(x, 'permute', d.map((a) => x.shape[a]!), d.map((a) => x.strides[a]!), x.offset, (g) => permute(g, inverse));
}

/** Swaps two dimensions. */
export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const dims = x.shape.map((_, i) => i);
  const a = normAxis(dim0, x.ndim, 'transpose');
  const b = normAxis(dim1, x.ndim, 'transpose');
  [dims[a], dims[b]] = [dims[b]!, dims[a]!];
  return permute(x, dims);
}

/** Sums `g` down to `shape`, undoing a broadcast (the adjoint of expand). */
export function sumTo(g: Tensor, shape: Shape): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < g.ndim; i++) if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) axes.push(i);
  return reshape(sum(g, axes, false), shape);
}

/** Broadcasts to `shape` without copying (-1 keeps a dimension). */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  x.assertLive('expand');
  const lead = shape.length - x.ndim;
  if (lead < 0) throw new RangeError(`expand: cannot expand ${fmtShape(x.shape)} to fewer dimensions ${fmtShape(shape)}`);
  const strides: number[] = [];
  const out: number[] = [];
  for (let i = 0; i < shape.length; i++) {
    const want = shape[i]!;
    if (i < lead) {
      if (want < 0) throw new RangeError(`expand: -1 is not allowed for new leading dimension ${i} in ${fmtShape(shape)}`);
      out.push(want);
      strides.push(0);
      continue;
    }
    const have = x.shape[i - lead]!;
    const target = want === -1 ? have : want;
    if (have !== target && have !== 1) throw new RangeError(`expand: shape ${fmtShape(x.shape)} cannot be expanded to ${fmtShape(shape)} (dimension ${i}: ${have} vs ${target})`);
    out.push(target);
    strides.push(have === target ? x.strides[i - lead]! : 0);
  }
  const xShape = x.shape;
  return makeView(x, 'expand', out, strides, x.offset, (g) => sumTo(g, xShape));
}

/** Removes dims of length 1 (all, or those named; naming one that is not 1 is an error). */
export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  const axes = dim === undefined ? x.shape.flatMap((d, i) => (d === 1 ? [i] : [])) : normAxes(dim, x.ndim, 'squeeze');
  for (const a of axes) if (x.shape[a] !== 1) throw new RangeError(`squeeze: dimension ${a} has length ${x.shape[a]}, not 1 (shape ${fmtShape(x.shape)})`);
  return reshape(x, x.shape.filter((_, i) => !axes.includes(i)));
}

/** Inserts a dim of length 1 at `dim` (`-1` appends). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normAxis(dim, x.ndim + 1, 'unsqueeze');
  const s = [...x.shape];
  s.splice(d, 0, 1);
  return reshape(x, s);
}

/**
 * Checks that the strided region `(shape, strides, offset)` stays inside `size` elements,
 * as `torch.as_strided` does for its storage: without it a backend would read (or, in the
 * adjoint, write) memory that belongs to other tensors. Negative strides are allowed
 * (tsgrad's views flip with them) as long as every element stays in bounds.
 */
function checkStridedBounds(op: string, shape: Shape, strides: readonly number[], offset: number, size: number, what: string): void {
  const geometry = `sizes ${fmtShape(shape)}, strides ${fmtShape(strides)} and offset ${offset}`;
  if (strides.length !== shape.length) throw new RangeError(`${op}: ${geometry}: sizes and strides must have the same length`);
  for (const d of shape) if (!Number.isInteger(d) || d < 0) throw new RangeError(`${op}: ${geometry}: sizes must be non-negative integers`);
  for (const st of strides) if (!Number.isInteger(st)) throw new RangeError(`${op}: ${geometry}: strides must be integers`);
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`${op}: ${geometry}: the offset must be a non-negative integer`);
  if (numel(shape) === 0) return;
  let lo = offset;
  let hi = offset;
  shape.forEach((d, i) => {
    const reach = (d - 1) * strides[i]!;
    if (reach < 0) lo += reach;
    else hi += reach;
  });
  if (lo < 0 || hi >= size) {
    throw new RangeError(`${op}: ${geometry} reach elements ${lo}..${hi}, out of bounds for ${what} (${size} elements)`);
  }
}

/**
 * A zero tensor of `shape` with `g` written at the strided region `(offset, strides)` of
 * its row-major layout: the adjoint of taking such a view. Differentiable both ways.
 */
export function embed(g: Tensor, shape: Shape, offset: number, strides: readonly number[]): Tensor {
  g.assertLive('embed');
  for (const d of shape) if (!Number.isInteger(d) || d < 0) throw new RangeError(`embed: shape ${fmtShape(shape)} must hold non-negative integers`);
  checkStridedBounds('embed', g.shape, strides, offset, numel(shape), `a tensor of shape ${fmtShape(shape)}`);
  const out = Tensor.fromBuffer(g.backend, g.backend.embed(g.asView('embed'), numel(shape), offset, strides), shape, g.dtype);
  const gShape = g.shape;
  return withGrad(out, 'embed', [g], (gg) => [asStrided(gg, gShape, strides, offset)]);
}

/**
 * A view `(shape, strides, offset)` over the row-major layout of `x` (copied first if not
 * contiguous). Elements may overlap (sliding windows); the gradient is {@link embed},
 * which adds overlapping positions up.
 */
export function asStrided(x: Tensor, shape: Shape, strides: readonly number[], offset = 0): Tensor {
  x.assertLive('asStrided');
  checkStridedBounds('asStrided', shape, strides, offset, x.size, `the input of shape ${fmtShape(x.shape)}`);
  const xc = contiguous(x);
  const xShape = x.shape;
  return makeView(xc, 'asStrided', shape, strides, xc.offset + offset, (g) => embed(g, xShape, offset, strides));
}

/** Elements `start, start+step, ...` before `end` along `dim`, as a view. Bounds clamp as in Python. */
export function slice(x: Tensor, dim: number, start = 0, end = Infinity, step = 1): Tensor {
  x.assertLive('slice');
  const d = normAxis(dim, x.ndim, 'slice');
  if (!Number.isInteger(step) || step <= 0) throw new RangeError(`slice: step must be a positive integer, got ${step}`);
  const len = x.shape[d]!;
  const clampIdx = (i: number) => Math.min(Math.max(i < 0 ? i + len : i, 0), len);
  const a = clampIdx(start);
  const b = Math.max(clampIdx(end), a);
  const n = Math.ceil((b - a) / step);
  const shape = [...x.shape];
  shape[d] = n;
  const strides = [...x.strides];
  strides[d] = x.strides[d]! * step;
  const xShape = x.shape;
  const cs = contiguousStrides(xShape);
  const embedStrides = [...cs];
  embedStrides[d] = cs[d]! * step;
  return makeView(x, 'slice', shape, strides, x.offset + a * x.strides[d]!, (g) => embed(g, xShape, a * cs[d]!, embedStrides));
}

/** `length` elements from `start` along `dim`. */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normAxis(dim, x.ndim, 'narrow');
  const len = x.shape[d]!;
  const s = start < 0 ? start + len : start;
  if (s < 0 || length < 0 || s + length > len) throw new RangeError(`narrow: start ${start} and length ${length} do not fit dimension ${d} of length ${len}`);
  return slice(x, d, s, s + length);
}

/** Reverses the order along `dims`, as a view with negative strides. */
export function flip(x: Tensor, dims: number | readonly number[]): Tensor {
  x.assertLive('flip');
  const axes = normAxes(dims, x.ndim, 'flip');
  const strides = [...x.strides];
  let offset = x.offset;
  for (const a of axes) {
    offset += (x.shape[a]! - 1) * x.strides[a]!;
    strides[a] = -x.strides[a]!;
  }
  return makeView(x, 'flip', x.shape, strides, offset, (g) => flip(g, axes));
}

/**
 * Pads the last dims as `torch.nn.functional.pad`: `pads = [left, right, top, bottom, ...]`
 * (pairs from the last dim backwards), filled with `value`.
 */
export function pad(x: Tensor, pads: readonly number[], value = 0): Tensor {
  x.assertLive('pad');
  if (pads.length % 2 !== 0 || pads.length / 2 > x.ndim) {
    throw new RangeError(`pad: pads must come in pairs for at most ${x.ndim} dims, got ${fmtShape(pads)}`);
  }
  if (pads.some((p) => !Number.isInteger(p) || p < 0)) throw new RangeError(`pad: pads must be non-negative integers, got ${fmtShape(pads)}`);
  const shape = [...x.shape];
  const offsetIdx = new Array<number>(x.ndim).fill(0);
  for (let i = 0; i < pads.length / 2; i++) {
    const d = x.ndim - 1 - i;
    shape[d]! += pads[2 * i]! + pads[2 * i + 1]!;
    offsetIdx[d] = pads[2 * i]!;
  }
  const cs = contiguousStrides(shape);
  const offset = offsetIdx.reduce((acc, o, i) => acc + o * cs[i]!, 0);
  const inner = embed(x, shape, offset, cs);
  if (value === 0) return inner;
  // Fill the border by a mask, so that infinite fills (max pooling's -inf) stay exact.
  const ones = full(x.shape, 1, { dtype: 'bool', backend: x.backend });
  const inside = embed(ones, shape, offset, cs);
  ones.dispose();
  return where(inside, inner, value); // the mask lives on in where's gradient
}
