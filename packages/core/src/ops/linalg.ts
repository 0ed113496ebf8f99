/** Matrix products: matmul (the primitive), and the PyTorch forms composed on it (dot, mv, mm, bmm, addmm, ...). */
import { withGrad } from '../autograd.js';
import { broadcastShapes, fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { add, mul } from './elementwise.js';
import { primOut, sameBackend, sameDtype } from './prim.js';
import { sum } from './reduce.js';
import { diagonal } from './select.js';
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

function need(op: string, x: Tensor, nd: number, name: string): void {
  x.assertLive(op);
  if (x.ndim !== nd) throw new RangeError(`${op}: ${name} must be a ${nd}-D tensor, got shape ${fmtShape(x.shape)}`);
}

/** The inner product of two 1-D tensors of one length, as `torch.dot` (no broadcasting). */
export function dot(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 1 || b.ndim !== 1) throw new RangeError(`dot: 1-D tensors expected, got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  if (a.shape[0] !== b.shape[0]) throw new RangeError(`dot: the tensors must have the same number of elements, got ${a.shape[0]} and ${b.shape[0]}`);
  return matmul(a, b);
}

/** The matrix-vector product of a 2-D `[n, m]` and a 1-D `[m]` tensor, as `torch.mv`. */
export function mv(a: Tensor, v: Tensor): Tensor {
  need('mv', a, 2, 'the matrix');
  need('mv', v, 1, 'the vector');
  if (a.shape[1] !== v.shape[0]) throw new RangeError(`mv: size mismatch: matrix ${fmtShape(a.shape)} and vector ${fmtShape(v.shape)}`);
  return matmul(a, v);
}

/** The outer product `a[i] * b[j]` of two 1-D tensors, as `torch.outer`. */
export function outer(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 1 || b.ndim !== 1) throw new RangeError(`outer: 1-D tensors expected, got shapes ${fmtShape(a.shape)} and ${fmtShape(b.shape)}`);
  return mul(reshape(a, [a.shape[0]!, 1]), reshape(b, [1, b.shape[0]!]));
}

/** The 2-D matrix product `[n, m] @ [m, p]`, as `torch.mm` (no broadcasting, no 1-D operands). */
export function mm(a: Tensor, b: Tensor): Tensor {
  need('mm', a, 2, 'the first operand');
  need('mm', b, 2, 'the second operand');
  if (a.shape[1] !== b.shape[0]) throw new RangeError(`mm: shapes cannot be multiplied (${a.shape[0]}x${a.shape[1]} and ${b.shape[0]}x${b.shape[1]})`);
  return matmul(a, b);
}

/**
 * Batched matrix product of two 3-D tensors `[B, n, m] @ [B, m, p]`, as `torch.bmm`: the
 * batch sizes must be equal (no broadcasting; {@link matmul} broadcasts).
 */
export function bmm(a: Tensor, b: Tensor): Tensor {
  need('bmm', a, 3, 'batch1');
  need('bmm', b, 3, 'batch2');
  if (b.shape[0] !== a.shape[0] || b.shape[1] !== a.shape[2]) {
    throw new RangeError(`bmm: expected batch2 of shape [${a.shape[0]}, ${a.shape[2]}, *] for batch1 ${fmtShape(a.shape)}, got ${fmtShape(b.shape)}`);
  }
  return matmul(a, b);
}

/** Scale factors of {@link addmm} and {@link baddbmm}. */
export interface AddmmOptions {
  /** Multiplies `input` (default 1). With 0, `input` is ignored: its NaN and Inf do not propagate, as PyTorch. */
  readonly beta?: number;
  /** Multiplies the product (default 1). */
  readonly alpha?: number;
}

function scaledSum(op: string, input: Tensor, product: Tensor, opts: AddmmOptions): Tensor {
  const beta = opts.beta ?? 1;
  const alpha = opts.alpha ?? 1;
  if (!Number.isFinite(beta) || !Number.isFinite(alpha)) throw new RangeError(`${op}: beta and alpha must be finite numbers, got beta=${beta}, alpha=${alpha}`);
  broadcastShapes(input.shape, product.shape, op);
  if (input.ndim > product.ndim || input.shape.some((d, i) => d !== 1 && d !== product.shape[product.ndim - input.ndim + i])) {
    throw new RangeError(`${op}: input of shape ${fmtShape(input.shape)} does not broadcast to the product's shape ${fmtShape(product.shape)}`);
  }
  const p = alpha === 1 ? product : mul(product, alpha);
  if (beta === 0) return expand(p, product.shape);
  return add(beta === 1 ? input : mul(input, beta), p);
}

/**
 * `beta * input + alpha * (a @ b)` for 2-D `a` `[n, m]` and `b` `[m, p]`, with `input`
 * broadcast to `[n, p]`, as `torch.addmm`.
 */
export function addmm(input: Tensor, a: Tensor, b: Tensor, opts: AddmmOptions = {}): Tensor {
  sameBackend('addmm', input, a, b);
  need('addmm', a, 2, 'mat1');
  need('addmm', b, 2, 'mat2');
  if (a.shape[1] !== b.shape[0]) throw new RangeError(`addmm: mat1 and mat2 shapes cannot be multiplied (${a.shape[0]}x${a.shape[1]} and ${b.shape[0]}x${b.shape[1]})`);
  return scaledSum('addmm', input, matmul(a, b), opts);
}

/**
 * `beta * input + alpha * (b1 @ b2)` for 3-D batches `[B, n, m]` and `[B, m, p]`, with
 * `input` broadcast to `[B, n, p]`, as `torch.baddbmm`.
 */
export function baddbmm(input: Tensor, b1: Tensor, b2: Tensor, opts: AddmmOptions = {}): Tensor {
  sameBackend('baddbmm', input, b1, b2);
  return scaledSum('baddbmm', input, bmm(b1, b2), opts);
}

/** The sum of the main diagonal of a 2-D tensor, as `torch.trace`. */
export function trace(x: Tensor): Tensor {
  need('trace', x, 2, 'the input');
  return sum(diagonal(x, 0, 0, 1));
}

/**
 * The Kronecker product, as `torch.kron`: the operands' shapes are padded with leading 1s
 * to one rank, and `out[i*B + k] = a[i] * b[k]` along each dim.
 */
export function kron(a: Tensor, b: Tensor): Tensor {
  sameBackend('kron', a, b);
  const nd = Math.max(a.ndim, b.ndim);
  const as = [...new Array<number>(nd - a.ndim).fill(1), ...a.shape];
  const bs = [...new Array<number>(nd - b.ndim).fill(1), ...b.shape];
  const prod = mul(reshape(a, as.flatMap((d) => [d, 1])), reshape(b, bs.flatMap((d) => [1, d])));
  return reshape(prod, as.map((d, i) => d * bs[i]!));
}
