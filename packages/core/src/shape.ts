/** Shapes, strides, axes and broadcasting: pure functions on integer arrays. */

/** A tensor's shape: one non-negative length per dimension. */
export type Shape = readonly number[];

/** Number of elements of a shape (1 for a scalar). */
export function numel(shape: Shape): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major (C-order) strides of a contiguous tensor of this shape. */
export function contiguousStrides(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

/** Whether a view with these strides is laid out row-major without gaps. */
export function isContiguous(shape: Shape, strides: readonly number[]): boolean {
  let expected = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    if (shape[i] !== 1 && strides[i] !== expected) return false;
    expected *= shape[i]!;
  }
  return true;
}

/** Formats a shape as `[2, 3]` for error messages. */
export function fmtShape(shape: Shape): string {
  return `[${shape.join(', ')}]`;
}

/** Whether two shapes are equal. */
export function shapesEqual(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** Resolves a possibly negative axis against `ndim`, naming the op when it is out of range. */
export function normAxis(axis: number, ndim: number, op: string): number {
  if (!Number.isInteger(axis) || axis < -Math.max(ndim, 1) || axis >= Math.max(ndim, 1)) {
    throw new RangeError(
      `${op}: axis ${axis} is out of range for a tensor with ${ndim} dimension${ndim === 1 ? '' : 's'} (expected ${-Math.max(ndim, 1)}..${Math.max(ndim, 1) - 1})`,
    );
  }
  return axis < 0 ? axis + Math.max(ndim, 1) : axis;
}

/** Resolves a list of axes (or all axes when undefined), sorted and without repeats. */
export function normAxes(axes: number | readonly number[] | undefined, ndim: number, op: string): number[] {
  if (axes === undefined) return Array.from({ length: ndim }, (_, i) => i);
  const list = typeof axes === 'number' ? [axes] : axes;
  const out = list.map((a) => normAxis(a, ndim, op));
  if (new Set(out).size !== out.length) throw new RangeError(`${op}: repeated axis in ${fmtShape(list)}`);
  return out.sort((a, b) => a - b);
}

/** The broadcast shape of two shapes (NumPy rules), or an error naming both shapes. */
export function broadcastShapes(a: Shape, b: Shape, op: string): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new RangeError(
        `${op}: shapes ${fmtShape(a)} and ${fmtShape(b)} cannot be broadcast together (dimension ${i - n}: ${da} vs ${db})`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Checks that a shape is a list of non-negative integers. */
export function checkShape(shape: Shape, op: string): number[] {
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`${op}: invalid shape ${fmtShape(shape)}: lengths must be non-negative integers`);
  }
  return [...shape];
}
