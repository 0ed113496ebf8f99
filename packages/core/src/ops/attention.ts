/** Scaled dot-product attention, as `torch.nn.functional.scaled_dot_product_attention`. */
import { customOp } from '../autograd.js';
import { fmtShape } from '../shape.js';
import type { Tensor } from '../tensor.js';
import type { Generator } from '../rng.js';
import { arange } from './creation.js';
import { add, div, eq, exp, ge, mul, sub, where } from './elementwise.js';
import { matmul } from './linalg.js';
import { dropout } from './nn.js';
import { requireFloat, sameBackend } from './prim.js';
import { max, sum } from './reduce.js';
import { reshape, transpose } from './views.js';

/** Options of {@link scaledDotProductAttention} (PyTorch's names and defaults). */
export interface AttentionOptions {
  /**
   * Broadcast to `[..., L, S]`: a bool mask (true = may attend, as PyTorch) or a float mask
   * added to the scores (use -Infinity to block).
   */
  readonly attnMask?: Tensor | null;
  /** Dropout probability on the attention weights (default 0). Always applied when > 0, as PyTorch's function. */
  readonly dropoutP?: number;
  /** Query i attends to keys j <= i (a lower-triangular mask aligned top-left, as PyTorch). */
  readonly isCausal?: boolean;
  /** Multiplies the scores (default `1 / sqrt(E)`). */
  readonly scale?: number;
  /** A generator for the dropout other than the default one. */
  readonly generator?: Generator;
}

/**
 * Softmax along the last dim in which a row whose every score is -Infinity gives zeros
 * (PyTorch's `_safe_softmax`, used by its SDPA since 2.5), with a zero gradient there.
 */
function safeSoftmax(x: Tensor): Tensor {
  return customOp(
    'safeSoftmax',
    [x],
    () => {
      const m = max(x, -1, true);
      const e = exp(sub(x, where(eq(m, -Infinity), 0, m)));
      const s = sum(e, -1, true);
      return div(e, where(eq(s, 0), 1, s));
    },
    (g, y) => [mul(y, sub(g, sum(mul(g, y), -1, true)))],
  );
}

/**
 * Attention `softmax(q k^T * scale + mask) v` for `q` `[..., L, E]`, `k` `[..., S, E]`,
 * `v` `[..., S, Ev]` (leading dims broadcast), giving `[..., L, Ev]`, as
 * `torch.nn.functional.scaled_dot_product_attention` (math path). A query row with every
 * key masked gives zeros (PyTorch >= 2.5; before, NaN). `attnMask` and `isCausal` together
 * are an error, as PyTorch.
 */
export function scaledDotProductAttention(q: Tensor, k: Tensor, v: Tensor, opts: AttentionOptions = {}): Tensor {
  const op = 'scaledDotProductAttention';
  requireFloat(op, q);
  sameBackend(op, q, k, v);
  for (const [name, t] of [['k', k], ['v', v]] as const) {
    if (t.dtype !== q.dtype) throw new TypeError(`${op}: ${name} must be ${q.dtype} like q, got ${t.dtype}`);
  }
  if (q.ndim < 2 || k.ndim < 2 || v.ndim < 2) throw new RangeError(`${op}: q, k and v need at least 2 dims [..., L, E], got ${fmtShape(q.shape)}, ${fmtShape(k.shape)}, ${fmtShape(v.shape)}`);
  const L = q.shape[q.ndim - 2]!;
  const E = q.shape[q.ndim - 1]!;
  const S = k.shape[k.ndim - 2]!;
  if (k.shape[k.ndim - 1] !== E) throw new RangeError(`${op}: q ${fmtShape(q.shape)} and k ${fmtShape(k.shape)} must share the last dim (E)`);
  if (v.shape[v.ndim - 2] !== S) throw new RangeError(`${op}: k ${fmtShape(k.shape)} and v ${fmtShape(v.shape)} must share the sequence dim (S)`);
  const p = opts.dropoutP ?? 0;
  if (!(p >= 0 && p <= 1)) throw new RangeError(`${op}: dropoutP must be in [0, 1], got ${p}`);
  const mask = opts.attnMask ?? null;
  if (mask && opts.isCausal) throw new RangeError(`${op}: give attnMask or isCausal, not both (as PyTorch)`);
  const scale = opts.scale ?? 1 / Math.sqrt(E);
  let scores = mul(matmul(q, transpose(k, -2, -1)), scale);
  if (opts.isCausal) {
    const rows = reshape(arange(L, undefined, 1, { dtype: 'int32', backend: q.backend }), [L, 1]);
    const cols = arange(S, undefined, 1, { dtype: 'int32', backend: q.backend });
    scores = where(ge(rows, cols), scores, -Infinity);
    rows.dispose();
    cols.dispose();
  } else if (mask) {
    sameBackend(op, q, mask);
    if (mask.dtype === 'bool') scores = where(mask, scores, -Infinity);
    else if (mask.dtype === q.dtype) scores = add(scores, mask);
    else throw new TypeError(`${op}: attnMask must be bool or ${q.dtype} like q, got ${mask.dtype}`);
  }
  let weights = safeSoftmax(scores);
  if (p > 0) weights = dropout(weights, p, { generator: opts.generator });
  return matmul(weights, v);
}
