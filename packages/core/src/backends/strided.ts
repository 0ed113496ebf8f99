/** Index arithmetic for strided views, shared by the CPU reference kernels. */
import type { View } from '../backend.js';
import { isContiguous, numel, type Shape } from '../shape.js';

/**
 * The flat buffer offset of every element of a view, in row-major order of its shape;
 * `null` when the view is contiguous from offset 0 (element i is at i).
 */
export function viewOffsets(v: Pick<View, 'shape' | 'strides' | 'offset'>): Int32Array | null {
  if (v.offset === 0 && isContiguous(v.shape, v.strides)) return null;
  return offsetsOf(v.shape, v.strides, v.offset);
}

/** Flat offsets of every index of `shape` under `strides`, starting at `offset` (an odometer). */
export function offsetsOf(shape: Shape, strides: readonly number[], offset: number): Int32Array {
  const n = numel(shape);
  const out = new Int32Array(n);
  const nd = shape.length;
  if (n === 0) return out;
  if (nd === 0) {
    out[0] = offset;
    return out;
  }
  const last = nd - 1;
  const lastLen = shape[last]!;
  const lastStride = strides[last]!;
  const idx = new Array<number>(nd).fill(0);
  let base = offset;
  let o = 0;
  while (o < n) {
    for (let j = 0, p = base; j < lastLen; j++, p += lastStride) out[o++] = p;
    // Carry into the outer dimensions.
    let d = last - 1;
    while (d >= 0) {
      idx[d]!++;
      base += strides[d]!;
      if (idx[d]! < shape[d]!) break;
      base -= strides[d]! * shape[d]!;
      idx[d] = 0;
      d--;
    }
    if (d < 0) break;
  }
  return out;
}
