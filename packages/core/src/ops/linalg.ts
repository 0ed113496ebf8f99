/** Matrix products. */
import { withGrad } from '../autograd.js';
import { broadcastShapes, fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { primOut, sameBackend, sameDtype } from './prim.js';
import { expand, reshape, sumTo, transpose } from './views.js';

/** `[..., M, K] @ [..., K, N]` with batch broadcasting, on tensors of 2 or more dims. */
function matmulNd(a: Tensor, b: Tensor, shapes: string): Tensor {
  const M = a.shape[a.ndim - 2]!;
  const K = a.shape[a.ndim - 1]!;
  const N = b.shape[b.ndim - 1]!;
  if (b.shape[b.ndim - 2] !== K) {
    throw new RangeError(`matmul: shapes ${shapes} do not match: the first has ${K} columns but the second has ${b.shape[b.ndim - 2]} rows`);
  }
  const batch = broadcastShapes(a.shape.slice(0, -2), b.shape.slice(0, -2), 'matmul (batch dimensions)');
  const ab = expand(a, [...batch, M, K]);
  const bb = expand(b, [...batch, K, N]);
  const y = primOut('matmul', a.backend, a.backend.matmul(ab.asView('matmul'), bb.asView('matmul')), [...batch, M, N], a.dtype);
  return withGrad(y, 'matmul', [a, b], (g) => [sumTo(matmul(g, transpose(bb, -1, -2)), a.shape), sumTo(matmul(transpose(ab, -1, -2), g), b.shape)]);
}

/**
 * Matrix product with NumPy/PyTorch semantics: 2-D by 2-D, batched with broadcasting of
 * the leading dims, and 1-D operands treated as a row (left) or column (right) vector.
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  sameBackend('matmul', a, b);
  sameDtype('matmul', a, b);
  if (a.dtype === 'bool') throw new TypeError('matmul: not defined for bool tensors');
  const shapes = `${fmtShape(a.shape)} and ${fmtShape(b.shape)}`;
  if (a.ndim === 0 || b.ndim === 0) throw new RangeError(`matmul: both operands need at least 1 dimension, got ${shapes}`);
  const a2 = a.ndim === 1 ? reshape(a, [1, a.shape[0]!]) : a;
  const b2 = b.ndim === 1 ? reshape(b, [b.shape[0]!, 1]) : b;
  let y = matmulNd(a2, b2, shapes);
  if (a.ndim === 1) y = reshape(y, [...y.shape.slice(0, -2), y.shape[y.ndim - 1]!]);
  if (b.ndim === 1) y = reshape(y, y.shape.slice(0, -1));
  return y;
}
