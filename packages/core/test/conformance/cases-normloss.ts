/**
 * Conformance cases for the norms, losses, embedding and attention of issue 8 (part
 * `normloss`): each composes several of them on random shapes and layouts so every backend
 * computes them, and their gradients, like the js reference.
 */
import fc from 'fast-check';
import * as T from '@tsgrad/core';
import { dim, layout, shape, spreadAlong, type OpCase } from './cases.js';

const reduction = fc.constantFrom('mean' as const, 'sum' as const, 'none' as const);
/** Reduces a loss of any shape to a scalar so several can be added. */
const total = (t: T.Tensor) => (t.ndim === 0 ? t : T.sum(t));

/** The conformance cases of the normloss part. */
export const NORMLOSS_CASES: readonly OpCase[] = [
  {
    name: 'crossEntropy and nllLoss ([N, C, d], class weight, ignoreIndex, label smoothing, reductions)',
    draw: fc.record({ n: dim(3), c: fc.integer({ min: 2, max: 5 }), d: dim(3), l: layout, r: reduction }).map(({ n, c, d, l, r }) => ({
      inputs: [
        { shape: [n, c, d], layout: l },
        { shape: [n, d], dtype: 'int32' as const, values: { intBelow: c } },
        { shape: [c], values: 'positive' as const, grad: false },
      ],
      // Class c - 1 is ignored: some targets drop out (all of them gives the NaN mean with zero gradient).
      f: (x, t, w) =>
        T.add(
          total(T.crossEntropy(x, t, { weight: w, ignoreIndex: c - 1, labelSmoothing: 0.1, reduction: r })),
          total(T.nllLoss(T.logSoftmax(x, 1), t, { weight: w, reduction: r === 'mean' ? 'sum' : r })),
        ),
    })),
  },
  {
    name: 'binaryCrossEntropy and binaryCrossEntropyWithLogits (weight, posWeight)',
    draw: fc.record({ s: shape(1, 3), l: layout, r: reduction }).map(({ s, l, r }) => ({
      inputs: [{ shape: s, layout: l }, { shape: s }, { shape: [s[s.length - 1]!], values: 'positive' as const, grad: false }],
      f: (x, t, w) =>
        T.add(
          total(T.binaryCrossEntropy(T.sigmoid(x), T.sigmoid(t), { weight: w, reduction: r })),
          total(T.binaryCrossEntropyWithLogits(T.mul(x, 3), T.sigmoid(t), { posWeight: w, reduction: r })),
        ),
    })),
  },
  {
    name: 'l1Loss, mseLoss, smoothL1Loss, huberLoss, klDiv',
    draw: fc.record({ s: shape(1, 3), l: layout, r: reduction }).map(({ s, l, r }) => ({
      inputs: [{ shape: s, layout: l }, { shape: s }],
      f: (a, b) =>
        [
          T.l1Loss(a, b, { reduction: r }),
          T.mseLoss(a, b, { reduction: r }),
          T.smoothL1Loss(a, b, { reduction: r, beta: 0.5 }),
          T.huberLoss(a, b, { reduction: r, delta: 0.8 }),
          T.klDiv(T.logSoftmax(a, -1), T.softmax(b, -1), { reduction: r }),
          T.klDiv(T.logSoftmax(a, -1), T.logSoftmax(b, -1), { reduction: 'batchmean', logTarget: true }),
        ]
          .map(total)
          .reduce((acc, t) => T.add(acc, t)),
    })),
  },
  {
    name: 'cosineEmbeddingLoss, cosineSimilarity, pairwiseDistance',
    draw: fc.record({ n: dim(4), d: dim(4), l: layout, r: reduction, margin: fc.constantFrom(0, 0.3) }).map(({ n, d, l, r, margin }) => ({
      inputs: [{ shape: [n, d], layout: l }, { shape: [n, d] }, { shape: [n], dtype: 'int32' as const, values: { intBelow: 2 } }],
      f: (a, b, y) =>
        T.add(
          T.add(total(T.cosineEmbeddingLoss(a, b, T.sub(T.mul(y, 2), 1), { margin, reduction: r })), T.sum(T.cosineSimilarity(a, b))),
          T.sum(T.pairwiseDistance(a, b)),
        ),
    })),
  },
  {
    name: 'normalize (Lp along any dim, p = 1, 2, Infinity)',
    draw: fc.record({ s: shape(1, 3), l: layout, k: fc.nat(), p: fc.constantFrom(1, 2, Infinity) }).map(({ s, l, k, p }) => ({
      inputs: [{ shape: s, layout: l }],
      f: (x) => T.normalize(x, { p, dim: k % s.length }),
    })),
  },
  {
    name: 'batchNorm (training, updating running statistics, and evaluation)',
    draw: fc.record({ n: fc.integer({ min: 2, max: 3 }), c: dim(3), sp: shape(0, 2, 3), l: layout, training: fc.boolean() }).map(({ n, c, sp, l, training }) => ({
      inputs: [{ shape: [n, c, ...sp], layout: l }, { shape: [c], grad: false }, { shape: [c], values: 'positive' as const, grad: false }, { shape: [c] }, { shape: [c] }],
      // The running statistics are copied so that the forward and gradient runs start alike.
      f: (x, rm, rv, w, b) => T.batchNorm(spreadAlong(x, 0), T.mul(rm.detach(), 1), T.mul(rv.detach(), 1), w, b, { training, momentum: 0.2 }),
    })),
  },
  {
    name: 'groupNorm and instanceNorm (through the fused standardize kernel)',
    draw: fc.record({ n: dim(2), g: dim(2), per: dim(2), sp: fc.integer({ min: 2, max: 4 }), l: layout }).map(({ n, g, per, sp, l }) => ({
      inputs: [{ shape: [n, g * per, sp], layout: l }, { shape: [g * per] }, { shape: [g * per] }],
      f: (x, w, b) => T.add(T.groupNorm(spreadAlong(x, -1), g, w, b), T.instanceNorm(spreadAlong(x, -1), null, null, w, b)),
    })),
  },
  {
    name: 'embedding (paddingIdx)',
    draw: fc.record({ v: fc.integer({ min: 2, max: 6 }), d: dim(4), is: shape(1, 2), pad: fc.nat() }).map(({ v, d, is, pad }) => ({
      inputs: [{ shape: is, dtype: 'int32' as const, values: { intBelow: v } }, { shape: [v, d] }],
      f: (i, w) => T.embedding(i, w, { paddingIdx: pad % v }),
    })),
  },
  {
    name: 'scaledDotProductAttention (causal, bool mask, float mask; broadcast heads)',
    draw: fc
      .record({ h: dim(2), l: dim(4), s: dim(4), e: dim(3), ev: dim(3), mode: fc.constantFrom('causal', 'bool', 'float'), lay: layout })
      .map(({ h, l, s, e, ev, mode, lay }) => ({
        inputs: [{ shape: [h, l, e], layout: lay }, { shape: [1, s, e] }, { shape: [1, s, ev] }, { shape: [l, s], grad: mode === 'float' }],
        f: (q, k, v, m) =>
          T.scaledDotProductAttention(q, k, v, mode === 'causal' ? { isCausal: true } : { attnMask: mode === 'bool' ? T.gt(m, -0.5) : m }),
      })),
  },
];
