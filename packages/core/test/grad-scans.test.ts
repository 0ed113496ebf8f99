/** Property: gradients of scans, sorting, selection, norms and scatters equal finite differences (float64, js). */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { PROPERTY_RUNS, checkGrad, laidOut, layoutArb, leaf, shapeArb } from './helpers/gradcheck.js';

/** A shape of 1..3 dims, a layout, a dim of it (maybe negative), a seed and a keepdim flag. */
const dimCase = fc
  .record({ shape: shapeArb(1, 3, 4), layout: layoutArb, seed: fc.integer(), k: fc.nat(), negative: fc.boolean(), keepdim: fc.boolean() })
  .map((c) => {
    const d = c.k % c.shape.length;
    return { ...c, dim: c.negative ? d - c.shape.length : d };
  });

type DimOp = (x: Tensor, dim: number, keepdim: boolean, k: number) => Tensor;
const ops: [string, DimOp][] = [
  ['cumsum', (x, d) => T.cumsum(x, d)],
  ['cumsum (reverse, exclusive)', (x, d) => T.cumsum(x, d, { reverse: true, exclusive: true })],
  ['cumprod', (x, d) => T.cumprod(x, d)],
  ['cumprod (exclusive)', (x, d) => T.cumprod(x, d, { exclusive: true })],
  ['cumprod (reverse)', (x, d) => T.cumprod(x, d, { reverse: true })],
  ['sort values', (x, d) => T.sort(x, d).values],
  ['sort values (descending)', (x, d) => T.sort(x, d, { descending: true }).values],
  ['topk values', (x, d, _, k) => T.topk(x, 1 + (k % x.shape[(d + x.ndim) % x.ndim]!), d).values],
  ['topk values (smallest)', (x, d, _, k) => T.topk(x, 1 + (k % x.shape[(d + x.ndim) % x.ndim]!), d, { largest: false }).values],
  ['maxDim values', (x, d, keepdim) => T.maxDim(x, d, keepdim).values],
  ['minDim values', (x, d, keepdim) => T.minDim(x, d, keepdim).values],
  ['amax', (x, d, keepdim) => T.amax(x, d, keepdim)],
  ['amin', (x, d, keepdim) => T.amin(x, d, keepdim)],
  ['norm p=2', (x, d, keepdim) => T.norm(x, 2, d, keepdim)],
  ['norm fro over all', (x) => T.norm(x, 'fro')],
  ['norm p=1', (x, d, keepdim) => T.norm(x, 1, d, keepdim)],
  ['norm p=3', (x, d, keepdim) => T.norm(x, 3, d, keepdim)],
  ['norm p=0.5', (x, d, keepdim) => T.norm(x, 0.5, d, keepdim)],
  ['norm p=-2', (x, d, keepdim) => T.norm(x, -2, d, keepdim)],
  ['norm p=inf', (x, d, keepdim) => T.norm(x, Infinity, d, keepdim)],
  ['norm p=-inf', (x, d, keepdim) => T.norm(x, -Infinity, d, keepdim)],
  ['prod', (x, d, keepdim) => T.prod(x, d, keepdim)],
];

describe('scans, sorting and selection: gradient matches finite differences', () => {
  for (const [name, f] of ops) {
    it(name, () => {
      fc.assert(
        fc.property(dimCase, ({ shape, layout, seed, dim, keepdim, k }) => {
          const { base, view } = laidOut(shape, layout, seed);
          checkGrad((x) => f(view(x), dim, keepdim, k), [base], seed);
        }),
        PROPERTY_RUNS,
      );
    });
  }

  it('cumprod and prod with zeros injected (exact: both are multilinear)', () => {
    fc.assert(
      fc.property(dimCase, fc.array(fc.nat(63), { maxLength: 3 }), ({ shape, seed, dim }, zeroAt) => {
        const data = leaf(shape, seed).dataSync() as Float64Array;
        for (const z of zeroAt) data[z % data.length] = 0;
        const x = T.fromTypedArray(data, shape, 'float64');
        checkGrad((z) => T.cumprod(z, dim), [x], seed);
        checkGrad((z) => T.cumprod(z, dim, { exclusive: true, reverse: true }), [x], seed);
      }),
      PROPERTY_RUNS,
    );
  });

  it('second derivatives of cumprod, sort and norm', () => {
    fc.assert(
      fc.property(shapeArb(1, 2, 4), fc.integer(), (shape, seed) => {
        const x = leaf(shape, seed);
        const r = leaf(shape, seed + 1);
        const hvp = (f: (z: Tensor) => Tensor) => (z: Tensor) => T.sum(T.mul(T.grad((w) => T.sum(f(w)))(z)[0]!, r));
        checkGrad(hvp((z) => T.cumprod(z, -1)), [x], seed);
        checkGrad(hvp((z) => T.pow(T.sort(z, -1).values, 3)), [x], seed);
        checkGrad(hvp((z) => T.norm(z, 2, -1)), [x], seed);
        checkGrad(hvp((z) => T.norm(z, 3)), [x], seed);
      }),
      PROPERTY_RUNS,
    );
  });
});

/** A scatter case: input and src shapes, an index of the drawn extent with values below input.size(dim). */
const scatterCase = fc
  .record({ shape: shapeArb(1, 3, 4), seed: fc.integer(), k: fc.nat(), m: fc.integer({ min: 1, max: 4 }), grow: fc.array(fc.nat(1), { minLength: 3, maxLength: 3 }), shrink: fc.array(fc.nat(1), { minLength: 3, maxLength: 3 }) })
  .map((c) => {
    const dim = c.k % c.shape.length;
    const idxShape = c.shape.map((d, i) => (i === dim ? c.m : Math.max(1, d - c.shrink[i]!)));
    const srcShape = idxShape.map((d, i) => d + c.grow[i]!);
    const g = new T.Generator(c.seed);
    const index = T.randint(0, c.shape[dim]!, idxShape, { generator: g });
    return { ...c, dim, idxShape, srcShape, index };
  });

describe('scatter family: gradient matches finite differences', () => {
  const modes: [string, T.ScatterOptions | undefined][] = [
    ['replace', undefined],
    ['sum', { reduce: 'sum' }],
    ['sum without self', { reduce: 'sum', includeSelf: false }],
    ['prod', { reduce: 'prod' }],
    ['prod without self', { reduce: 'prod', includeSelf: false }],
    ['mean', { reduce: 'mean' }],
    ['mean without self', { reduce: 'mean', includeSelf: false }],
    ['amax', { reduce: 'amax' }],
    ['amin without self', { reduce: 'amin', includeSelf: false }],
  ];
  for (const [name, opts] of modes) {
    it(`scatter (${name})`, () => {
      fc.assert(
        fc.property(scatterCase, ({ shape, seed, dim, index, idxShape, srcShape }) => {
          // Replace matches PyTorch's gradient only where no index repeats (PyTorch's winner is
          // unspecified): take distinct positions per row from an argsort.
          const perm = T.argsort(T.randn(idxShape.map((d, i) => (i === dim ? shape[dim]! : d)), { generator: new T.Generator(seed) }), dim);
          const fit = name === 'replace' ? perm.slice(dim, 0, Math.min(idxShape[dim]!, shape[dim]!)) : index;
          checkGrad((x, s) => T.scatter(x, dim, fit, s, opts), [leaf(shape, seed), leaf(srcShape, seed + 1)], seed);
        }),
        PROPERTY_RUNS,
      );
    });
  }

  it('scatterAdd and indexAdd', () => {
    fc.assert(
      fc.property(scatterCase, ({ shape, seed, dim, index, srcShape, m }) => {
        checkGrad((x, s) => T.scatterAdd(x, dim, index, s), [leaf(shape, seed), leaf(srcShape, seed + 1)], seed);
        const sel = T.randint(0, shape[dim]!, [m], { generator: new T.Generator(seed + 2) });
        const srcShape2 = shape.map((d, i) => (i === dim ? m : d));
        checkGrad((x, s) => T.indexAdd(x, dim, sel, s, 0.5), [leaf(shape, seed), leaf(srcShape2, seed + 1)], seed);
      }),
      PROPERTY_RUNS,
    );
  });
});
