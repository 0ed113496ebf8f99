/** Calling backend primitives: operand checks, and wrapping their output buffers as tensors. */
import type { Backend, BufferHandle } from '../backend.js';
import type { DType } from '../dtype.js';
import { getFlags } from '../flags.js';
import { fmtShape, type Shape } from '../shape.js';
import { Tensor, type TensorLike } from '../tensor.js';
import { full } from './creation.js';

/** Wraps a primitive's fresh output buffer, checking for NaN when asked to. */
export function primOut(op: string, backend: Backend, buffer: BufferHandle, shape: Shape, dtype: DType): Tensor {
  const out = Tensor.fromBuffer(backend, buffer, shape, dtype);
  if (getFlags().checkNaN && (dtype === 'float32' || dtype === 'float64')) {
    if (!backend.canReadSync) throw new Error(`checkNaN: backend '${backend.name}' cannot read synchronously; turn checkNaN off there`);
    const data = backend.readSync(buffer, dtype, out.size);
    const at = data.findIndex((v) => Number.isNaN(v));
    if (at >= 0) {
      out.dispose();
      throw new Error(`${op}: produced NaN (first at flat index ${at} of output shape ${fmtShape(shape)}); checkNaN is on`);
    }
  }
  return out;
}

/** Checks that tensors are live and share a backend, naming the op otherwise. */
export function sameBackend(op: string, ...ts: Tensor[]): Backend {
  const b = ts[0]!.backend;
  for (const t of ts) {
    t.assertLive(op);
    if (t.backend !== b) {
      throw new Error(`${op}: tensors are on different backends ('${b.name}' and '${t.backend.name}'); move one with .to('${b.name}')`);
    }
  }
  return b;
}

/** Checks that two tensors have one dtype, naming the op otherwise. */
export function sameDtype(op: string, a: Tensor, b: Tensor): void {
  if (a.dtype !== b.dtype) {
    throw new TypeError(`${op}: dtype mismatch: ${a.dtype} ${fmtShape(a.shape)} vs ${b.dtype} ${fmtShape(b.shape)}; convert one with .cast()`);
  }
}

/**
 * Turns two operands into tensors of one dtype and backend: a number takes the dtype of
 * the tensor beside it. Returns the scalar tensors made, so the caller can free them.
 */
export function coerce(op: string, a: TensorLike, b: TensorLike): { a: Tensor; b: Tensor; made: Tensor[] } {
  if (typeof a === 'number' && typeof b === 'number') throw new TypeError(`${op}: at least one operand must be a tensor`);
  const made: Tensor[] = [];
  const scalar = (v: number, like: Tensor): Tensor => {
    if (like.dtype === 'int32' && !Number.isInteger(v)) throw new TypeError(`${op}: cannot combine an int32 tensor with the non-integer ${v}; cast the tensor first`);
    const t = full([], v, { dtype: like.dtype, backend: like.backend });
    made.push(t);
    return t;
  };
  const ta = typeof a === 'number' ? scalar(a, b as Tensor) : a;
  const tb = typeof b === 'number' ? scalar(b, ta) : b;
  sameBackend(op, ta, tb);
  sameDtype(op, ta, tb);
  return { a: ta, b: tb, made };
}

/** Throws unless `x` is floating point, naming the op. */
export function requireFloat(op: string, x: Tensor): void {
  if (x.dtype !== 'float32' && x.dtype !== 'float64') throw new TypeError(`${op}: expected a float32 or float64 tensor, got ${x.dtype}`);
}
