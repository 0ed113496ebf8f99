/**
 * Norms, losses, embedding and attention (issue 8): gradients match float64 finite
 * differences on random cases (fast-check), second derivatives where the ops are used
 * twice, the edge cases PyTorch defines (every target ignored, fully masked attention rows,
 * padding rows), and clear errors.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { PROPERTY_RUNS, checkGrad, laidOut, layoutArb, leaf, positive, shapeArb } from './helpers/gradcheck.js';

const reductionArb = fc.constantFrom('mean' as const, 'sum' as const, 'none' as const);
const f64 = (data: number[], shape: number[]) => T.fromTypedArray(Float64Array.from(data), shape, 'float64');
const i32 = (data: number[], shape = [data.length]) => T.fromTypedArray(Int32Array.from(data), shape, 'int32');
/** Float64 uniform in (lo, hi) from a seed. */
const uniform = (shape: number[], seed: number, lo = 0, hi = 1) => T.add(T.mul(T.rand(shape, { dtype: 'float64', generator: new T.Generator(seed) }), hi - lo), lo);

/**
 * Class indices in [0, c), some set to `ignore`; the first is always class 0 and kept (the
 * all-ignored mean is NaN, tested on its own), so `ignore` must not be 0.
 */
function targets(shape: number[], c: number, seed: number, ignore: number | null): Tensor {
  let t = T.randint(0, c, shape, { generator: new T.Generator(seed) });
  if (ignore === null) return t;
  const first = T.eq(T.arange(t.size).reshape(shape), 0);
  const drop = T.lt(T.rand(shape, { generator: new T.Generator(seed + 3) }), 0.4);
  t = T.where(drop, ignore, t);
  return T.where(first, 0, t);
}

describe('class losses: gradient matches finite differences', () => {
  const classCase = fc.record({
    n: fc.integer({ min: 1, max: 3 }),
    c: fc.integer({ min: 2, max: 4 }),
    spatial: shapeArb(0, 2, 2),
    weighted: fc.boolean(),
    ignore: fc.constantFrom(null, -100, 1),
    smoothing: fc.constantFrom(0, 0.2),
    reduction: reductionArb,
    layout: layoutArb,
    seed: fc.integer(),
  });

  it('crossEntropy: class weight, ignoreIndex, label smoothing, [N, C, d...] inputs, reductions', () => {
    fc.assert(
      fc.property(classCase, ({ n, c, spatial, weighted, ignore, smoothing, reduction, layout, seed }) => {
        const x = laidOut([n, c, ...spatial], layout, seed);
        const t = targets([n, ...spatial], c, seed + 1, ignore);
        const weight = weighted ? uniform([c], seed + 2, 0.2, 2) : null;
        checkGrad((xi) => T.crossEntropy(x.view(xi!), t, { weight, ignoreIndex: ignore ?? -100, labelSmoothing: smoothing, reduction }), [x.base], seed);
      }),
      PROPERTY_RUNS,
    );
  });

  it('crossEntropy with probability targets and a class weight (gradient to the target too)', () => {
    fc.assert(
      fc.property(classCase, ({ n, c, spatial, weighted, smoothing, reduction, seed }) => {
        const weight = weighted ? uniform([c], seed + 2, 0.2, 2) : null;
        checkGrad((x, p) => T.crossEntropy(x!, T.softmax(p!, 1), { weight, labelSmoothing: smoothing, reduction }), [leaf([n, c, ...spatial], seed), leaf([n, c, ...spatial], seed + 1)], seed);
      }),
      PROPERTY_RUNS,
    );
  });

  it('nllLoss: class weight, ignoreIndex, [N, C, d...] inputs, reductions', () => {
    fc.assert(
      fc.property(classCase, ({ n, c, spatial, weighted, ignore, reduction, layout, seed }) => {
        const x = laidOut([n, c, ...spatial], layout, seed);
        const t = targets([n, ...spatial], c, seed + 1, ignore);
        const weight = weighted ? uniform([c], seed + 2, 0.2, 2) : null;
        checkGrad((xi) => T.nllLoss(x.view(xi!), t, { weight, ignoreIndex: ignore ?? -100, reduction }), [x.base], seed);
      }),
      PROPERTY_RUNS,
    );
  });
});

describe('crossEntropy / nllLoss when every target is ignored (issue 8, defect 5b)', () => {
  for (const [name, opts] of [
    ['plain', {}],
    ['class weight', { weight: f64([0.5, 2, 1], [3]) }],
    ['label smoothing and weight', { weight: f64([0.5, 2, 1], [3]), labelSmoothing: 0.3 }],
  ] as const) {
    it(`${name}: mean is NaN as PyTorch, but the gradient is exactly 0 (no NaN reaches the weights)`, () => {
      const x = leaf([2, 3], 5);
      const t = i32([-100, -100]);
      const [loss, back] = T.vjp((xi) => T.crossEntropy(xi, t, opts), x);
      expect(loss.item()).toBeNaN();
      expect(Array.from(back(T.onesLike(loss))[0]!.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
      // A model trained through it keeps finite weights: the gradient through a matmul is 0 too.
      const w = leaf([4, 3], 6).requiresGrad_();
      T.crossEntropy(T.matmul(leaf([2, 4], 7), w), t, opts).backward();
      expect(Array.from(w.grad!.dataSync()).every((v) => v === 0)).toBe(true);
    });
  }

  it("sum and 'none' give 0 loss; nllLoss's mean is NaN with a zero gradient too", () => {
    const x = leaf([2, 3], 5);
    const t = i32([-100, -100]);
    expect(T.crossEntropy(x, t, { reduction: 'sum' }).item()).toBe(0);
    expect(Array.from(T.crossEntropy(x, t, { reduction: 'none' }).dataSync())).toEqual([0, 0]);
    const [loss, back] = T.vjp((xi) => T.nllLoss(xi, t), x);
    expect(loss.item()).toBeNaN();
    expect(Array.from(back(T.onesLike(loss))[0]!.dataSync()).every((v) => v === 0)).toBe(true);
  });
});

describe('elementwise losses: gradient matches finite differences', () => {
  const pairCase = fc.record({ shape: shapeArb(1, 3, 3), layout: layoutArb, reduction: reductionArb, seed: fc.integer() });

  it('binaryCrossEntropy (weight; gradients to input and target)', () => {
    fc.assert(
      fc.property(pairCase, fc.boolean(), ({ shape, layout, reduction, seed }, weighted) => {
        const x = laidOut(shape, layout, seed);
        const weight = weighted ? uniform(shape.slice(-1), seed + 2, 0.2, 2) : null;
        checkGrad((xi, t) => T.binaryCrossEntropy(T.sigmoid(x.view(xi!)), t!, { weight, reduction }), [x.base, uniform(shape, seed + 1, 0.05, 0.95).requiresGrad_()], seed);
      }),
      PROPERTY_RUNS,
    );
  });

  it('binaryCrossEntropyWithLogits (weight, posWeight; gradients to input and target)', () => {
    fc.assert(
      fc.property(pairCase, fc.boolean(), fc.boolean(), ({ shape, layout, reduction, seed }, weighted, pos) => {
        const x = laidOut(shape, layout, seed, (v) => v * 4);
        const weight = weighted ? uniform(shape.slice(-1), seed + 2, 0.2, 2) : null;
        const posWeight = pos ? uniform(shape.slice(-1), seed + 3, 0.2, 3) : null;
        checkGrad((xi, t) => T.binaryCrossEntropyWithLogits(x.view(xi!), t!, { weight, posWeight, reduction }), [x.base, uniform(shape, seed + 1).requiresGrad_()], seed);
      }),
      PROPERTY_RUNS,
    );
  });

  const pairLosses: [string, (a: Tensor, b: Tensor, r: 'mean' | 'sum' | 'none') => Tensor][] = [
    ['l1Loss', (a, b, reduction) => T.l1Loss(a, b, { reduction })],
    ['mseLoss', (a, b, reduction) => T.mseLoss(a, b, { reduction })],
    ['smoothL1Loss beta 0.6', (a, b, reduction) => T.smoothL1Loss(a, b, { reduction, beta: 0.6 })],
    ['smoothL1Loss beta 0', (a, b, reduction) => T.smoothL1Loss(a, b, { reduction, beta: 0 })],
    ['huberLoss delta 0.4', (a, b, reduction) => T.huberLoss(a, b, { reduction, delta: 0.4 })],
    ['klDiv', (a, b, reduction) => T.klDiv(T.logSoftmax(a, -1), T.softmax(b, -1), { reduction })],
    ['klDiv batchmean logTarget', (a, b) => T.klDiv(T.logSoftmax(a, -1), T.logSoftmax(b, -1), { reduction: 'batchmean', logTarget: true })],
  ];
  for (const [name, f] of pairLosses) {
    it(name, () => {
      fc.assert(
        fc.property(pairCase, ({ shape, layout, reduction, seed }) => {
          const a = laidOut(shape, layout, seed);
          checkGrad((ai, b) => f(a.view(ai!), b!, reduction), [a.base, leaf(shape, seed + 1)], seed);
        }),
        PROPERTY_RUNS,
      );
    });
  }

  it('cosineEmbeddingLoss (margin, +1/-1 targets as int32 or float)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.double({ min: -0.5, max: 0.5, noNaN: true }), reductionArb, fc.boolean(), fc.integer(), (n, d, margin, reduction, intY, seed) => {
        const y0 = T.sub(T.mul(T.cast(T.lt(T.rand([n], { generator: new T.Generator(seed) }), 0.5), 'int32'), 2), 1);
        const y = intY ? y0 : T.cast(y0, 'float64');
        checkGrad((a, b) => T.cosineEmbeddingLoss(a!, b!, y, { margin, reduction }), [leaf([n, d], seed + 1), leaf([n, d], seed + 2)], seed);
      }),
      PROPERTY_RUNS,
    );
  });
});

describe('normalize, distances, norms: gradient matches finite differences', () => {
  it('normalize (Lp along any dim; p = 1, 2, 3, Infinity)', () => {
    fc.assert(
      fc.property(shapeArb(1, 3, 3), layoutArb, fc.constantFrom(1, 2, 3, Infinity), fc.nat(), fc.integer(), (shape, layout, p, k, seed) => {
        const x = laidOut(shape, layout, seed);
        checkGrad((xi) => T.normalize(x.view(xi!), { p, dim: k % shape.length }), [x.base], seed);
      }),
      PROPERTY_RUNS,
    );
  });

  it('normalize of a zero vector stays 0 with a finite gradient (the eps clamp, as PyTorch)', () => {
    const [y, back] = T.vjp((x) => T.normalize(x, { dim: 0 }), T.zeros([3], { dtype: 'float64' }));
    expect(Array.from(y.dataSync())).toEqual([0, 0, 0]);
    expect(Array.from(back(f64([1, 2, 3], [3]))[0]!.dataSync()).every(Number.isFinite)).toBe(true);
  });

  it('cosineSimilarity (broadcast) and pairwiseDistance (p = 1, 2, 3)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom(1, 2, 3), fc.integer(), (n, d, p, seed) => {
        checkGrad((a, b) => T.cosineSimilarity(a!, b!, { dim: -1 }), [leaf([n, d], seed), leaf([1, d], seed + 1)], seed);
        checkGrad((a, b) => T.pairwiseDistance(a!, b!, { p }), [leaf([n, d], seed), leaf([n, d], seed + 1)], seed);
      }),
      PROPERTY_RUNS,
    );
  });

  const normCase = fc.record({
    n: fc.integer({ min: 2, max: 3 }),
    groups: fc.integer({ min: 1, max: 2 }),
    perGroup: fc.integer({ min: 1, max: 2 }),
    spatial: shapeArb(1, 2, 3).filter((s) => s.reduce((a, b) => a * b, 1) > 1),
    affine: fc.boolean(),
    layout: layoutArb,
    seed: fc.integer(),
  });

  it('batchNorm in training (batch statistics) and evaluation (running statistics)', () => {
    fc.assert(
      fc.property(normCase, fc.boolean(), ({ n, groups, perGroup, spatial, affine, layout, seed }, training) => {
        const c = groups * perGroup;
        const x = laidOut([n, c, ...spatial], layout, seed);
        const inputs = [x.base, ...(affine ? [leaf([c], seed + 1), leaf([c], seed + 2)] : [])];
        const rm = leaf([c], seed + 3);
        const rv = leaf([c], seed + 4, positive);
        // Running statistics change on every training call; finite differences need them fixed.
        checkGrad((xi, w, b) => T.batchNorm(x.view(xi!), training ? null : rm, training ? null : rv, w ?? null, b ?? null, { training, eps: 1e-3 }), inputs, seed);
      }),
      PROPERTY_RUNS,
    );
  });

  it('groupNorm and instanceNorm (per-channel affine)', () => {
    fc.assert(
      fc.property(normCase, ({ n, groups, perGroup, spatial, affine, layout, seed }) => {
        const c = groups * perGroup;
        const x = laidOut([n, c, ...spatial], layout, seed);
        const inputs = [x.base, ...(affine ? [leaf([c], seed + 1), leaf([c], seed + 2)] : [])];
        checkGrad((xi, w, b) => T.groupNorm(x.view(xi!), groups, w ?? null, b ?? null, 1e-4), inputs, seed);
        checkGrad((xi, w, b) => T.instanceNorm(x.view(xi!), null, null, w ?? null, b ?? null, { eps: 1e-4 }), inputs, seed);
      }),
      PROPERTY_RUNS,
    );
  });

  it('batchNorm updates the running statistics in place with the unbiased variance (PyTorch)', () => {
    const x = f64([1, 2, 3, 5, -1, 0, 4, 4], [4, 2]);
    const rm = f64([0, 1], [2]);
    const rv = f64([1, 2], [2]);
    T.batchNorm(x, rm, rv, null, null, { training: true, momentum: 0.5 });
    // channel 0: [1, 3, -1, 4], mean 1.75, unbiased var 4.9167; channel 1: [2, 5, 0, 4], mean 2.75, var 4.9167
    const m = Array.from(rm.dataSync());
    const v = Array.from(rv.dataSync());
    expect(m[0]).toBeCloseTo(0.875, 12);
    expect(m[1]).toBeCloseTo(1.875, 12);
    expect(v[0]).toBeCloseTo(0.5 + 0.5 * (59 / 12), 12);
    expect(v[1]).toBeCloseTo(1 + 0.5 * (59 / 12), 12);
  });

  it('batchNorm takes a 0-d tensor momentum (nn.BatchNorm*d cumulative average 1/num_batches_tracked, no read-back) like the same number', () => {
    const x = f64([1, 2, 3, 5, -1, 0, 4, 4], [4, 2]);
    const stats = () => [f64([0, 1], [2]), f64([1, 2], [2])] as const;
    const [rmN, rvN] = stats();
    const [rmT, rvT] = stats();
    const yN = T.batchNorm(x, rmN, rvN, null, null, { training: true, momentum: 1 / 3 });
    const yT = T.batchNorm(x, rmT, rvT, null, null, { training: true, momentum: T.reciprocal(T.full([], 3, { dtype: 'float64' })) });
    expect(Array.from(yT.dataSync())).toEqual(Array.from(yN.dataSync()));
    for (const [a, b] of [[rmT, rmN], [rvT, rvN]] as const) {
      Array.from(a.dataSync()).forEach((v, i) => expect(v).toBeCloseTo(b.dataSync()[i]!, 14));
    }
    expect(() => T.batchNorm(x, rmT, rvT, null, null, { training: true, momentum: f64([0.1, 0.1], [2]) })).toThrow(/batchNorm: momentum must be a number or a 0-d float64 tensor like the input, got a float64 tensor of shape \[2\]/);
    expect(() => T.batchNorm(x, rmT, rvT, null, null, { training: true, momentum: T.full([], 0.5) })).toThrow(/0-d float64 tensor like the input, got a float32 tensor of shape \[\]/);
  });
});

describe('embedding: gradient to the weight', () => {
  it('matches finite differences; with paddingIdx that row gets none (the others the same) but is still looked up', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 3 }), shapeArb(1, 2, 3), fc.option(fc.nat()), fc.integer(), (v, d, ishape, pad, seed) => {
        const idx = T.randint(0, v, ishape, { generator: new T.Generator(seed) });
        const paddingIdx = pad === null ? null : pad % v;
        const w = leaf([v, d], seed + 1);
        checkGrad((wi) => T.embedding(idx, wi!), [w], seed);
        if (paddingIdx !== null) {
          const r = leaf([...ishape, d], seed + 2);
          const [y, back] = T.vjp((wi) => T.embedding(idx, wi, { paddingIdx }), w);
          expect(Array.from(y.dataSync())).toEqual(Array.from(T.embedding(idx, w).dataSync()));
          const gw = back(r)[0]!.dataSync();
          const full = T.vjp((wi) => T.embedding(idx, wi), w)[1](r)[0]!.dataSync();
          for (let j = 0; j < v * d; j++) expect(gw[j]).toBe(Math.floor(j / d) === paddingIdx ? 0 : full[j]);
        }
      }),
      PROPERTY_RUNS,
    );
  });

  it('maxNorm rescales the looked-up rows in place (torch.embedding_renorm_) and leaves the others', () => {
    const w = f64([3, 4, 0.3, 0.4, 6, 8], [3, 2]);
    const y = T.embedding(i32([0, 1]), w, { maxNorm: 1 });
    const scale = 1 / (5 + 1e-7);
    const got = Array.from(w.dataSync());
    [3 * scale, 4 * scale, 0.3, 0.4, 6, 8].forEach((e, j) => expect(got[j]).toBeCloseTo(e, 12));
    expect(Array.from(y.dataSync())).toEqual(got.slice(0, 4));
  });
});

describe('scaledDotProductAttention', () => {
  const attnCase = fc.record({
    batch: shapeArb(0, 2, 2),
    l: fc.integer({ min: 1, max: 4 }),
    s: fc.integer({ min: 1, max: 4 }),
    e: fc.integer({ min: 1, max: 3 }),
    ev: fc.integer({ min: 1, max: 3 }),
    mode: fc.constantFrom('none', 'causal', 'bool', 'float'),
    scale: fc.option(fc.double({ min: 0.1, max: 2, noNaN: true })),
    seed: fc.integer(),
  });

  it('gradient to q, k, v (and a float mask) matches finite differences: no mask, causal, bool and float masks', () => {
    fc.assert(
      fc.property(attnCase, ({ batch, l, s, e, ev, mode, scale, seed }) => {
        const inputs = [leaf([...batch, l, e], seed), leaf([...batch, s, e], seed + 1), leaf([...batch, s, ev], seed + 2)];
        let attnMask: Tensor | null = null;
        if (mode === 'bool') attnMask = T.lt(T.rand([l, s], { generator: new T.Generator(seed + 3) }), 0.6);
        if (mode === 'float') inputs.push(leaf([l, s], seed + 3));
        checkGrad(
          (q, k, v, m) => T.scaledDotProductAttention(q!, k!, v!, { attnMask: m ?? attnMask, isCausal: mode === 'causal', scale: scale ?? undefined }),
          inputs,
          seed,
        );
      }),
      PROPERTY_RUNS,
    );
  });

  it('second derivative (gradient of the q gradient) matches finite differences', () => {
    const r = leaf([2, 3], 9);
    const k = leaf([4, 3], 10);
    const v = leaf([4, 2], 11);
    checkGrad((q) => T.sum(T.mul(T.grad((z: Tensor) => T.sum(T.scaledDotProductAttention(z, k, v, { isCausal: true })))(q!)[0]!, r)), [leaf([2, 3], 12)]);
  });

  it('a query row with every key masked gives zeros and a zero gradient (PyTorch >= 2.5 _safe_softmax)', () => {
    const q = leaf([2, 3], 1);
    const k = leaf([3, 3], 2);
    const v = leaf([3, 2], 3);
    const mask = T.cast(i32([1, 0, 1, 0, 0, 0], [2, 3]), 'bool');
    const [y, back] = T.vjp((qi, ki, vi) => T.scaledDotProductAttention(qi, ki, vi, { attnMask: mask }), q, k, v);
    const yd = Array.from(y.dataSync());
    expect(yd.slice(2)).toEqual([0, 0]);
    expect(yd.slice(0, 2).every((t) => Number.isFinite(t) && t !== 0)).toBe(true);
    for (const g of back(T.onesLike(y))) expect(Array.from(g.dataSync()).every(Number.isFinite)).toBe(true);
  });

  it('causal mask is aligned top-left as PyTorch (row i sees keys 0..i, also when L > S)', () => {
    const q = T.zeros([3, 1], { dtype: 'float64' });
    const k = T.zeros([2, 1], { dtype: 'float64' });
    const v = f64([1, 3], [2, 1]);
    // Equal scores: each row averages the values it may see.
    expect(Array.from(T.scaledDotProductAttention(q, k, v, { isCausal: true }).dataSync())).toEqual([1, 2, 2]);
  });

  it('dropoutP drops attention weights with the given generator, and 1 gives zeros', () => {
    const q = leaf([2, 3], 1);
    const k = leaf([4, 3], 2);
    const v = leaf([4, 2], 3);
    const a = T.scaledDotProductAttention(q, k, v, { dropoutP: 0.5, generator: new T.Generator(7) });
    const ref = T.matmul(T.dropout(T.softmax(T.mul(T.matmul(q, k.T), 1 / Math.sqrt(3)), -1), 0.5, { generator: new T.Generator(7) }), v).dataSync();
    Array.from(a.dataSync()).forEach((e, j) => expect(e).toBeCloseTo(ref[j]!, 12));
    expect(Array.from(T.scaledDotProductAttention(q, k, v, { dropoutP: 1 }).dataSync())).toEqual([0, 0, 0, 0]);
  });
});

describe('standardize (renamed from normalize) and the new normalize', () => {
  it('standardize is (x - mean) / sqrt(var + eps); normalize is x / ||x||_p as torch.nn.functional.normalize', () => {
    const x = f64([3, 4, 0, 5], [2, 2]);
    const s = Array.from(T.standardize(x, 1, 0).dataSync());
    [-1, 1, -1, 1].forEach((e, j) => expect(s[j]).toBeCloseTo(e, 12));
    const n = Array.from(T.normalize(x).dataSync());
    [0.6, 0.8, 0, 1].forEach((e, j) => expect(n[j]).toBeCloseTo(e, 12));
  });
});

describe('second derivatives (the backward passes are differentiable) match finite differences', () => {
  const t = i32([2, -100, 0]);
  const w = f64([0.5, 2, 1.5], [3]);
  const cases: [string, (x: Tensor) => Tensor, number[]][] = [
    ['crossEntropy with weight, ignoreIndex, smoothing', (x) => T.crossEntropy(x, t, { weight: w, labelSmoothing: 0.2 }), [3, 3]],
    ['binaryCrossEntropyWithLogits with posWeight', (x) => T.binaryCrossEntropyWithLogits(x, T.sigmoid(T.flip(x, [0])), { posWeight: w }), [2, 3]],
    ['binaryCrossEntropy', (x) => T.binaryCrossEntropy(T.sigmoid(x), f64([0.1, 0.5, 0.9, 0.3, 0.7, 0.2], [2, 3])), [2, 3]],
    ['batchNorm training', (x) => T.pow(T.batchNorm(x, null, null, w, w, { training: true }), 3), [3, 3]],
    ['groupNorm', (x) => T.pow(T.groupNorm(x, 1, w, null), 3), [2, 3, 2]],
    ['normalize p = 3', (x) => T.pow(T.normalize(x, { p: 3 }), 3), [2, 3]],
    ['smoothL1Loss + klDiv', (x) => T.add(T.smoothL1Loss(x, T.flip(x, [1]), { beta: 0.5 }), T.klDiv(T.logSoftmax(x, 1), T.softmax(T.flip(x, [0]), 1))), [2, 3]],
  ];
  for (const [name, f, shape] of cases) {
    it(name, () => {
      fc.assert(
        fc.property(fc.integer(), (seed) => {
          const r = leaf(shape, seed + 1);
          checkGrad((x) => T.sum(T.mul(T.grad((z: Tensor) => T.sum(f(z)))(x!)[0]!, r)), [leaf(shape, seed)], seed);
        }),
        { numRuns: 10 },
      );
    });
  }
});

describe('clear errors', () => {
  const x = leaf([4, 3], 1);
  it('crossEntropy / nllLoss with class indices of the wrong dtype say that they must be int32', () => {
    const floatIdx = T.tensor([0, 1, 2, 1], { dtype: 'float32' });
    expect(() => T.crossEntropy(x, floatIdx)).toThrow(/crossEntropy: class indices must be an int32 tensor \(e\.g\. T\.tensor\(\[0, 1, 2\], \{ dtype: 'int32' \}\)\), got float32/);
    expect(() => T.nllLoss(x, floatIdx)).toThrow(/nllLoss: class indices must be an int32 tensor/);
  });
  it('shapes, weights, options', () => {
    const t = i32([0, 1, 2, 1]);
    expect(() => T.crossEntropy(x, t, { weight: f64([1, 2], [2]) })).toThrow(/crossEntropy: weight must be 1-D with one entry per class \(3\), got shape \[2\]/);
    expect(() => T.crossEntropy(x, t, { reduction: 'avg' as 'mean' })).toThrow(/crossEntropy: reduction must be 'mean', 'sum', 'none', got 'avg'/);
    expect(() => T.nllLoss(x, i32([0, 1]))).toThrow(/nllLoss: class-index target must have shape \[4\] for input \[4, 3\], got \[2\]/);
    expect(() => T.l1Loss(x, leaf([3, 4], 2))).toThrow(/l1Loss: input \[4, 3\] and target \[3, 4\] must have the same shape/);
    expect(() => T.klDiv(x, x, { reduction: 'batchmean2' as 'batchmean' })).toThrow(/klDiv: reduction must be .*'batchmean'/);
    expect(() => T.huberLoss(x, x, { delta: 0 })).toThrow(/huberLoss: delta must be positive/);
    expect(() => T.binaryCrossEntropy(x, T.cast(x, 'float32'))).toThrow(/binaryCrossEntropy: target must be float64 like the input, got float32/);
    expect(() => T.cosineEmbeddingLoss(x, x, i32([1, -1]))).toThrow(/cosineEmbeddingLoss: target must have shape \[4\]/);
  });
  it('norms, embedding, attention', () => {
    const img = leaf([2, 4, 3], 3);
    expect(() => T.batchNorm(img, null, null)).toThrow(/batchNorm: runningMean and runningVar must be given in evaluation mode/);
    expect(() => T.batchNorm(leaf([1, 4], 1), null, null, null, null, { training: true })).toThrow(/batchNorm: expected more than 1 value per channel when training/);
    expect(() => T.batchNorm(img, leaf([3], 1), leaf([4], 2))).toThrow(/batchNorm: runningMean must have shape \[4\]/);
    expect(() => T.groupNorm(img, 3)).toThrow(/groupNorm: numGroups must be a positive integer dividing the 4 channels, got 3/);
    expect(() => T.instanceNorm(leaf([2, 4, 1], 1))).toThrow(/instanceNorm: expected more than 1 spatial element per channel/);
    expect(() => T.normalize(img, { p: 0 })).toThrow(/normalize: p must be positive/);
    // Old call sites normalize(x, dim, eps) from JavaScript must not silently Lp-normalize.
    expect(() => (T.normalize as unknown as (x: Tensor, d: number, e: number) => Tensor)(img, 1, 1e-5)).toThrow(/normalize: the second argument is \{ p, dim, eps \}.*use standardize\(x, dim, eps\)/);
    expect(() => T.embedding(T.tensor([0, 1], { dtype: 'float32' }), leaf([3, 2], 1))).toThrow(/embedding: indices must be an int32 tensor/);
    expect(() => T.embedding(i32([0]), leaf([3, 2], 1), { paddingIdx: 3 })).toThrow(/embedding: paddingIdx must be an integer in \[-3, 3\), got 3/);
    const q = leaf([2, 3], 1);
    expect(() => T.scaledDotProductAttention(q, leaf([4, 2], 2), leaf([4, 2], 3))).toThrow(/scaledDotProductAttention: q \[2, 3\] and k \[4, 2\] must share the last dim/);
    expect(() => T.scaledDotProductAttention(q, leaf([4, 3], 2), leaf([4, 2], 3), { isCausal: true, attnMask: leaf([2, 4], 4) })).toThrow(/give attnMask or isCausal, not both/);
    expect(() => T.scaledDotProductAttention(q, leaf([4, 3], 2), leaf([4, 2], 3), { attnMask: i32([0, 0, 0, 0, 0, 0, 0, 0], [2, 4]) })).toThrow(/attnMask must be bool or float64 like q, got int32/);
  });
});
