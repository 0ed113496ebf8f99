/** `Embedding`: a lookup table of vectors indexed by int32 ids, as `torch.nn.Embedding`; a thin module over core's `embedding`. */
import { arange, defaultGenerator, embedding, noGrad, tidy, zeros, type Tensor } from '@tsgrad/core';
import { normal_ } from './init.js';
import type { LayerInitOptions } from './layers.js';
import { fmt, positiveInt } from './layer-utils.js';
import { Module } from './module.js';

/** Options of {@link Embedding}. */
export interface EmbeddingOptions extends LayerInitOptions {
  /** An id whose row is initialised to zeros and gets no gradient (negative counts from the end). */
  readonly paddingIdx?: number;
}

/**
 * A table `weight [numEmbeddings, embeddingDim]` (initialised N(0, 1), as PyTorch); the
 * output for int32 ids of any shape is `[...ids.shape, embeddingDim]`. The `paddingIdx` row
 * gets a zero gradient. Differs from PyTorch: no `maxNorm` / `sparse`.
 */
export class Embedding extends Module {
  /** The table `[numEmbeddings, embeddingDim]`. */
  declare readonly weight: Tensor;
  /** The padding id (non-negative), or null. */
  readonly paddingIdx: number | null;

  /** N(0, 1) rows; the padding row zero. */
  constructor(
    /** Number of ids. */
    readonly numEmbeddings: number,
    /** Size of each vector. */
    readonly embeddingDim: number,
    opts: EmbeddingOptions = {},
  ) {
    super();
    positiveInt(numEmbeddings, 'numEmbeddings', 'Embedding');
    positiveInt(embeddingDim, 'embeddingDim', 'Embedding');
    this.paddingIdx = checkPadding(opts.paddingIdx, numEmbeddings);
    this.registerParameter('weight', zeros([numEmbeddings, embeddingDim]));
    normal_(this.weight, 0, 1, { generator: opts.generator ?? defaultGenerator });
    if (this.paddingIdx !== null) {
      const p = this.paddingIdx;
      noGrad(() => tidy(() => void this.weight.assign(this.weight.mul(arange(numEmbeddings).ne(p).cast('float32').unsqueeze(1)))));
    }
  }

  /** An embedding over an existing table (`freeze`, default true, turns off its gradient), as `Embedding.from_pretrained`. */
  static fromPretrained(embeddings: Tensor, opts: { readonly freeze?: boolean; readonly paddingIdx?: number } = {}): Embedding {
    if (embeddings.ndim !== 2) throw new RangeError(`Embedding.fromPretrained: expected a 2-D table, got ${fmt(embeddings.shape)}`);
    const [n, d] = embeddings.shape as [number, number];
    const e = new Embedding(n, d, opts.paddingIdx === undefined ? {} : { paddingIdx: opts.paddingIdx });
    e.weight.dispose();
    e.registerParameter('weight', embeddings);
    embeddings.requiresGrad = !(opts.freeze ?? true);
    return e;
  }

  override forward(ids: Tensor): Tensor {
    if (ids.dtype !== 'int32') throw new TypeError(`Embedding: ids must be an int32 tensor (e.g. tensor([1, 2], { dtype: 'int32' })), got ${ids.dtype}`);
    return embedding(ids, this.weight, { paddingIdx: this.paddingIdx });
  }

  override extraRepr(): string {
    return `${this.numEmbeddings}, ${this.embeddingDim}${this.paddingIdx !== null ? `, paddingIdx=${this.paddingIdx}` : ''}`;
  }
}

function checkPadding(p: number | undefined, n: number): number | null {
  if (p === undefined) return null;
  if (!Number.isInteger(p) || p >= n || p < -n) throw new RangeError(`Embedding: paddingIdx must be an integer in [-${n}, ${n}), got ${p}`);
  return p < 0 ? p + n : p;
}
