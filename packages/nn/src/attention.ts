/**
 * `MultiheadAttention` as `torch.nn.MultiheadAttention`: the same parameters
 * (`in_proj_weight`, `in_proj_bias`, `out_proj.weight`, `out_proj.bias`), initialisation,
 * masks and returned weights. As PyTorch's `multi_head_attention_forward`, the attention
 * itself is core's `scaledDotProductAttention` when the weights are not wanted, and the
 * explicit softmax of the scores (the weights it returns) when they are.
 */
import { arange, defaultGenerator, dropout, scaledDotProductAttention, softmax, where, zeros, type Generator, type Tensor } from '@tsgrad/core';
import { xavierUniform_ } from './init.js';
import { fmt, positiveInt } from './layer-utils.js';
import { Linear } from './layers.js';
import { Module } from './module.js';

/** Options of {@link MultiheadAttention} (PyTorch's names and defaults). */
export interface MultiheadAttentionOptions {
  /** Dropout on the attention weights in training (default 0). */
  readonly dropout?: number;
  /** Biases in the input and output projections (default true). */
  readonly bias?: boolean;
  /** Inputs and output are `[N, L, E]` instead of `[L, N, E]` (default false, as PyTorch). */
  readonly batchFirst?: boolean;
  /** Generator for the initialisation and the dropout masks (default: core's default generator). */
  readonly generator?: Generator;
}

/** Options of one {@link MultiheadAttention.attend} call (PyTorch's forward arguments). */
export interface AttendOptions {
  /**
   * `[N, S]`: bool `true` marks keys to ignore (padding); a float mask is added to the
   * scores. Unbatched input takes `[S]`.
   */
  readonly keyPaddingMask?: Tensor | null;
  /** Return the attention weights (default true). */
  readonly needWeights?: boolean;
  /**
   * `[L, S]` or `[N·numHeads, L, S]`: bool `true` marks pairs that may not attend; a float
   * mask is added to the scores.
   */
  readonly attnMask?: Tensor | null;
  /** Average the returned weights over heads (default true): `[N, L, S]`, else `[N, H, L, S]`. */
  readonly averageAttnWeights?: boolean;
  /**
   * A causal mask (position i attends to keys 0..i). Differs from PyTorch, where it is only a
   * hint that `attnMask` is causal: here it builds the mask when `attnMask` is absent.
   */
  readonly isCausal?: boolean;
}

/**
 * Multi-head attention: `softmax(Q Kᵀ / √d + masks) V` per head, heads concatenated and
 * projected. Call {@link MultiheadAttention.attend} with query, key and value (PyTorch's
 * `mha(q, k, v)`), which returns `[output, weights]`; `forward(x)` is self-attention
 * returning the output only. Differs from PyTorch: key and value must have the query's
 * embedding size (no `kdim`/`vdim`), and there is no `addBiasKv` / `addZeroAttn`.
 */
export class MultiheadAttention extends Module {
  /** Stacked Q, K, V projection weights `[3E, E]`. */
  declare readonly in_proj_weight: Tensor;
  /** Stacked Q, K, V projection biases `[3E]`, or null. */
  declare readonly in_proj_bias: Tensor | null;
  /** The output projection `E -> E`. */
  declare readonly out_proj: Linear;
  /** Size of each head, `embedDim / numHeads`. */
  readonly headDim: number;
  /** Dropout probability on the attention weights. */
  readonly dropout: number;
  /** Whether inputs are `[N, L, E]`. */
  readonly batchFirst: boolean;
  private readonly generator: Generator;

  /** PyTorch's init: xavier-uniform `in_proj_weight`, zero biases, default Linear weight for `out_proj`. */
  constructor(
    /** Model width E. */
    readonly embedDim: number,
    /** Heads; must divide E. */
    readonly numHeads: number,
    opts: MultiheadAttentionOptions = {},
  ) {
    super();
    positiveInt(embedDim, 'embedDim', 'MultiheadAttention');
    positiveInt(numHeads, 'numHeads', 'MultiheadAttention');
    if (embedDim % numHeads) throw new RangeError(`MultiheadAttention: embedDim ${embedDim} must divide by numHeads ${numHeads}`);
    this.headDim = embedDim / numHeads;
    this.dropout = opts.dropout ?? 0;
    if (!(this.dropout >= 0 && this.dropout <= 1)) throw new RangeError(`MultiheadAttention: dropout must be in [0, 1], got ${this.dropout}`);
    this.batchFirst = opts.batchFirst ?? false;
    this.generator = opts.generator ?? defaultGenerator;
    const bias = opts.bias ?? true;
    this.registerParameter('in_proj_weight', zeros([3 * embedDim, embedDim]));
    this.registerParameter('in_proj_bias', bias ? zeros([3 * embedDim]) : null);
    this.registerModule('out_proj', new Linear(embedDim, embedDim, { bias, generator: this.generator }));
    xavierUniform_(this.in_proj_weight, 1, { generator: this.generator });
    if (this.out_proj.bias) this.out_proj.bias.assign(zeros([embedDim]));
  }

  /** Self-attention (`attend(x, x, x)`) without masks, returning the output only. */
  override forward(x: Tensor): Tensor {
    return this.attend(x, x, x, { needWeights: false })[0];
  }

  /**
   * Attention of `query` `[L, N, E]` over `key`/`value` `[S, N, E]` (`[N, L, E]` / `[N, S, E]`
   * with `batchFirst`; `[L, E]` / `[S, E]` unbatched). Returns the output, shaped like the
   * query, and the attention weights (null unless `needWeights`).
   */
  attend(query: Tensor, key: Tensor, value: Tensor, opts: AttendOptions = {}): [Tensor, Tensor | null] {
    const E = this.embedDim;
    const H = this.numHeads;
    const D = this.headDim;
    const unbatched = query.ndim === 2;
    const want = unbatched ? 2 : 3;
    for (const [t, what] of [[query, 'query'], [key, 'key'], [value, 'value']] as const) {
      if (t.ndim !== want || t.shape[want - 1] !== E) {
        throw new RangeError(`MultiheadAttention: ${what} must be ${unbatched ? '[len, E]' : this.batchFirst ? '[N, len, E]' : '[len, N, E]'} with E = ${E}, got ${fmt(t.shape)}`);
      }
    }
    // To [N, len, E].
    const toNLE = (t: Tensor) => (unbatched ? t.unsqueeze(0) : this.batchFirst ? t : t.transpose(0, 1));
    const q0 = toNLE(query);
    const k0 = toNLE(key);
    const v0 = toNLE(value);
    const [N, L] = [q0.shape[0]!, q0.shape[1]!];
    const S = k0.shape[1]!;
    if (k0.shape[0] !== N || v0.shape[0] !== N || v0.shape[1] !== S) {
      throw new RangeError(`MultiheadAttention: query ${fmt(query.shape)}, key ${fmt(key.shape)} and value ${fmt(value.shape)} disagree on batch or key length`);
    }
    const proj = (t: Tensor, i: number) => {
      const w = this.in_proj_weight.slice(0, i * E, (i + 1) * E);
      let y = t.matmul(w.T);
      if (this.in_proj_bias) y = y.add(this.in_proj_bias.slice(0, i * E, (i + 1) * E));
      return y.reshape([N, -1, H, D]).permute(0, 2, 1, 3); // [N, H, len, D]
    };
    const q = proj(q0, 0);
    const k = proj(k0, 1);
    const v = proj(v0, 2);
    const mask = this.mergeMasks(q, N, L, S, opts, unbatched);
    const p = this.training ? this.dropout : 0;
    const needWeights = opts.needWeights ?? true;
    let ctx: Tensor; // [N, H, L, D]
    let attn: Tensor | null = null;
    if (needWeights) {
      let scores = q.matmul(k.transpose(-2, -1)).mul(1 / Math.sqrt(D)); // [N, H, L, S]
      if (mask) scores = scores.add(mask);
      attn = softmax(scores, -1);
      // The returned weights are the dropped ones, as PyTorch's.
      if (p > 0) attn = dropout(attn, p, { generator: this.generator });
      ctx = attn.matmul(v);
    } else {
      ctx = scaledDotProductAttention(q, k, v, { attnMask: mask, dropoutP: p, generator: this.generator });
    }
    let out = this.out_proj.forward(ctx.permute(0, 2, 1, 3).reshape([N, L, E]));
    out = unbatched ? out.squeeze(0) : this.batchFirst ? out : out.transpose(0, 1);
    if (!attn) return [out, null];
    let weights = (opts.averageAttnWeights ?? true) ? attn.mean(1) : attn;
    if (unbatched) weights = weights.squeeze(0);
    return [out, weights];
  }

  /**
   * `attnMask` (or the causal mask) and `keyPaddingMask` as one float mask added to the
   * scores (bool `true` becomes -inf), broadcasting to `[N, H, L, S]`; null without masks.
   */
  private mergeMasks(q: Tensor, N: number, L: number, S: number, opts: AttendOptions, unbatched: boolean): Tensor | null {
    const H = this.numHeads;
    let merged: Tensor | null = null;
    let attnMask = opts.attnMask ?? null;
    if (!attnMask && opts.isCausal) {
      // Key j > query i may not be attended: the triangle above the diagonal.
      const opt = { backend: q.backend } as const;
      attnMask = arange(S, undefined, 1, opt).unsqueeze(0).gt(arange(L, undefined, 1, opt).unsqueeze(1));
    }
    if (attnMask) {
      let m = attnMask;
      if (m.ndim === 2) {
        if (m.shape[0] !== L || m.shape[1] !== S) throw new RangeError(`MultiheadAttention: attnMask must be [${L}, ${S}] or [${N * H}, ${L}, ${S}], got ${fmt(m.shape)}`);
      } else if (m.ndim === 3 && m.shape[0] === N * H && m.shape[1] === L && m.shape[2] === S) {
        m = m.reshape([N, H, L, S]);
      } else {
        throw new RangeError(`MultiheadAttention: attnMask must be [${L}, ${S}] or [${N * H}, ${L}, ${S}], got ${fmt(m.shape)}`);
      }
      merged = additiveMask(m, 'attnMask', q);
    }
    const kpm = opts.keyPaddingMask ?? null;
    if (kpm) {
      const ok = unbatched ? kpm.ndim === 1 && kpm.shape[0] === S : kpm.ndim === 2 && kpm.shape[0] === N && kpm.shape[1] === S;
      if (!ok) throw new RangeError(`MultiheadAttention: keyPaddingMask must be ${unbatched ? `[${S}]` : `[${N}, ${S}]`}, got ${fmt(kpm.shape)}`);
      const k = additiveMask(kpm.reshape([N, 1, 1, S]), 'keyPaddingMask', q);
      merged = merged ? merged.add(k) : k;
    }
    return merged;
  }

  override extraRepr(): string {
    return `embedDim=${this.embedDim}, numHeads=${this.numHeads}, dropout=${this.dropout}, batchFirst=${this.batchFirst}`;
  }
}

/** A mask to add to the scores: bool `true` becomes -inf (and `false` 0); a float mask (of q's dtype) as it is. */
function additiveMask(m: Tensor, what: string, q: Tensor): Tensor {
  if (m.dtype === 'bool') {
    const zero = zeros([], { dtype: q.dtype, backend: q.backend });
    const out = where(m, -Infinity, zero);
    zero.dispose();
    return out;
  }
  if (m.dtype !== q.dtype) throw new TypeError(`MultiheadAttention: ${what} must be bool or ${q.dtype}, got ${m.dtype}`);
  return m;
}
