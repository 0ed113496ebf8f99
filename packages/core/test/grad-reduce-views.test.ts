/** Property: gradients of reductions, views, joins and indexing equal finite differences. */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { PROPERTY_RUNS, checkGrad, laidOut, layoutArb, shapeArb } from './helpers/gradcheck.js';

/** A shape with at least one dim, and a random subset of its axes (possibly negative). */
const axesCase = fc
  .record({ shape: shapeArb(1, 3), layout: layoutArb, seed: fc.integer(), keepdim: fc.boolean(), pick: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), negative: fc.boolean() })
  .map((c) => {
    let axes = c.shape.map((_, i) => i).filter((i) => c.pick[i]);
    if (axes.length === 0) axes = [c.shape.length - 1];
    if (c.negative) axes = axes.map((a) => a - c.shape.length);
    return { ...c, axes };
  });

type Reduction = (x: Tensor, axes: number[], keepdim: boolean) => Tensor;
const reductions: [string, Reduction][] = [
  ['sum', (x, a, k) => T.sum(x, a, k)],
  ['mean', (x, a, k) => T.mean(x, a, k)],
  ['max', (x, a, k) => T.max(x, a, k)],
  ['min', (x, a, k) => T.min(x, a, k)],
  ['prod', (x, a, k) => T.prod(x, a, k)],
  ['var (correction 1)', (x, a, k) => T.variance(x, a, { keepdim: k })],
  ['var (correction 0)', (x, a, k) => T.variance(x, a, { correction: 0, keepdim: k })],
  ['std', (x, a, k) => T.std(x, a, { keepdim: k })],
  ['logsumexp', (x, a, k) => T.logsumexp(x, a, k)],
];

describe('reductions over random axes: gradient matches finite differences', () => {
  for (const [name, f] of reductions) {
    it(name, () => {
      fc.assert(
        fc.property(axesCase, ({ shape, layout, seed, keepdim, axes }) => {
          // var/std with correction 1 need at least 2 elements reduced.
          if (name.startsWith('var (correction 1') || name === 'std') {
            if (axes.reduce((acc, a) => acc * shape[(a + shape.length) % shape.length]!, 1) < 2) return;
          }
          const { base, view } = laidOut(shape, layout, seed);
          checkGrad((x) => f(view(x), axes, keepdim), [base], seed);
        }),
        PROPERTY_RUNS,
      );
    });
  }

  it('prod with zeros (one and two per slice)', () => {
    const x = T.tensor([[0, 2, 3], [0, 0, 5], [1, 2, 4]], { dtype: 'float64' });
    // Finite differences are exact here: prod is multilinear.
    checkGrad((t) => T.prod(t, 1), [x]);
    checkGrad((t) => T.prod(t), [x]);
  });

  it('sum and mean over all dims', () => {
    fc.assert(
      fc.property(shapeArb(0, 3), layoutArb, fc.integer(), (shape, layout, seed) => {
        const { base, view } = laidOut(shape, layout, seed);
        checkGrad((x) => T.add(T.sum(view(x)), T.mean(view(x))), [base], seed);
      }),
      PROPERTY_RUNS,
    );
  });
});

describe('views: gradient matches finite differences', () => {
  const viewCase = fc.record({ shape: shapeArb(1, 3), layout: layoutArb, seed: fc.integer(), k: fc.nat() });
  const views: [string, (x: Tensor, k: number) => Tensor][] = [
    ['reshape (-1)', (x) => x.reshape(-1)],
    ['reshape (split last dim)', (x) => x.reshape([...x.shape.slice(0, -1), 1, x.shape[x.ndim - 1]!])],
    ['permute', (x, k) => x.permute(x.shape.map((_, i) => (i + k) % x.ndim))],
    ['transpose', (x, k) => x.transpose(0, k % x.ndim)],
    ['expand', (x, k) => x.unsqueeze(0).expand([1 + (k % 3), ...x.shape])],
    ['squeeze / unsqueeze', (x, k) => x.unsqueeze(k % (x.ndim + 1)).squeeze()],
    ['slice with step', (x, k) => x.slice(k % x.ndim, k % 2, undefined, 1 + (k % 2))],
    ['narrow', (x, k) => x.narrow(-1, 0, 1 + (k % x.shape[x.ndim - 1]!))],
    ['flip', (x, k) => x.flip(k % x.ndim)],
    ['flatten', (x) => x.flatten()],
    ['pad (zeros)', (x, k) => x.pad([k % 2, 1, 2, k % 3])],
    ['pad (value)', (x) => x.pad([1, 2], 3.5)],
    ['contiguous', (x) => x.contiguous()],
  ];
  for (const [name, f] of views) {
    it(name, () => {
      fc.assert(
        fc.property(viewCase, ({ shape, layout, seed, k }) => {
          if (name.startsWith('pad (zeros)') && shape.length < 2) shape = [2, ...shape];
          const { base, view } = laidOut(shape, layout, seed);
          checkGrad((x) => f(view(x), k), [base], seed);
        }),
        PROPERTY_RUNS,
      );
    });
  }

  it('cast between float dtypes passes the gradient through', () => {
    const x = T.tensor([1, 2, 3], { dtype: 'float32' }).requiresGrad_();
    const y = T.sum(T.mul(x.cast('float64'), T.tensor([1, 2, 3], { dtype: 'float64' })));
    y.backward();
    if (x.grad!.dtype !== 'float32' || x.grad!.toArray()!.toString() !== '1,2,3') throw new Error(`cast gradient ${x.grad!.toString()}`);
  });
});

describe('joins and indexing: gradient matches finite differences', () => {
  const joinCase = fc.record({ shape: shapeArb(1, 3), seed: fc.integer(), n: fc.integer({ min: 1, max: 3 }), k: fc.nat() });
  it('cat', () => {
    fc.assert(
      fc.property(joinCase, ({ shape, seed, n, k }) => {
        const dim = k % shape.length;
        const parts = Array.from({ length: n }, (_, i) => {
          const s = [...shape];
          s[dim] = 1 + ((k + i) % 3);
          return laidOut(s, i % 2 ? 'transposed' : 'contiguous', seed + i);
        });
        checkGrad((...xs) => T.cat(xs.map((x, i) => parts[i]!.view(x)), dim), parts.map((p) => p.base), seed);
      }),
      PROPERTY_RUNS,
    );
  });
  it('stack', () => {
    fc.assert(
      fc.property(joinCase, ({ shape, seed, n, k }) => {
        const parts = Array.from({ length: n }, (_, i) => laidOut(shape, 'flipped', seed + i));
        checkGrad((...xs) => T.stack(xs.map((x, i) => parts[i]!.view(x)), k % (shape.length + 1)), parts.map((p) => p.base), seed);
      }),
      PROPERTY_RUNS,
    );
  });
  it('split', () => {
    fc.assert(
      fc.property(joinCase, ({ shape, seed, k }) => {
        const { base, view } = laidOut(shape, 'strided', seed);
        const dim = k % shape.length;
        // Weight the pieces differently so that each piece's gradient must land in its own place.
        checkGrad((x) => T.cat(T.split(view(x), 1 + (k % 2), dim).map((p, i) => T.mul(p, i + 1)), dim), [base], seed);
      }),
      PROPERTY_RUNS,
    );
  });
  it('gather, indexSelect and scatterAdd', () => {
    fc.assert(
      fc.property(joinCase, ({ shape, seed, k }) => {
        const dim = k % shape.length;
        const len = shape[dim]!;
        const g = new T.Generator(seed);
        const idxShape = [...shape];
        idxShape[dim] = 1 + (k % 4);
        const index = T.randint(0, len, idxShape, { generator: g });
        const sel = T.randint(0, len, [1 + (k % 5)], { generator: g });
        const { base, view } = laidOut(shape, 'transposed', seed);
        checkGrad((x) => T.gather(view(x), dim, index), [base], seed);
        checkGrad((x) => T.indexSelect(view(x), dim, sel), [base], seed);
        const src = laidOut(idxShape, 'contiguous', seed + 3);
        checkGrad((s) => T.scatterAdd(T.zeros(shape, { dtype: 'float64' }), dim, index, s), [src.base], seed);
      }),
      PROPERTY_RUNS,
    );
  });
});

describe('matmul: gradient matches finite differences', () => {
  it('1-D, 2-D and batched with broadcasting', () => {
    const mmCase = fc.record({
      m: fc.integer({ min: 1, max: 4 }),
      k: fc.integer({ min: 1, max: 4 }),
      n: fc.integer({ min: 1, max: 4 }),
      batchA: shapeArb(0, 2, 3),
      bOnes: fc.array(fc.boolean(), { minLength: 2, maxLength: 2 }),
      vecA: fc.boolean(),
      vecB: fc.boolean(),
      layout: layoutArb,
      seed: fc.integer(),
    });
    fc.assert(
      fc.property(mmCase, ({ m, k, n, batchA, bOnes, vecA, vecB, layout, seed }) => {
        const batchB = batchA.map((d, i) => (bOnes[i] ? 1 : d)).slice(bOnes[0] ? 1 : 0);
        const sa = vecA ? [k] : [...batchA, m, k];
        const sb = vecB ? [k] : [...batchB, k, n];
        const a = laidOut(sa, layout, seed);
        const b = laidOut(sb, 'contiguous', seed + 1);
        checkGrad((x, y) => T.matmul(a.view(x), b.view(y)), [a.base, b.base], seed);
      }),
      PROPERTY_RUNS,
    );
  });
});
