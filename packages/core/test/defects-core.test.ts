/**
 * Regression tests for issue 8's defects 2, 3, 4 and the std/var half of 5 (each failed
 * before its fix), on the js backend; expected values are PyTorch's (float64).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { PROPERTY_RUNS, checkGrad, leaf, shapeArb } from './helpers/gradcheck.js';

const f64 = { dtype: 'float64' } as const;

/** The Hessian of scalar `f` at `x` (1-D), row by row from gradients of gradients. */
function hessian(f: (x: Tensor) => Tensor, x: Tensor): number[][] {
  const n = x.shape[0]!;
  const rows: number[][] = [];
  for (let i = 0; i < n; i++) {
    const e = T.oneHot(T.tensor([i], { dtype: 'int32' }), n, 'float64').reshape([n]);
    const [h] = T.grad((z) => T.sum(T.mul(T.grad((w) => f(w))(z)[0]!, e)))(x);
    rows.push(Array.from(h!.dataSync()));
  }
  return rows;
}

describe('defect 2: prod is twice differentiable at exact zeros', () => {
  it('Hessian of x0*x1*x2 at [0, 2, 3] (PyTorch: [[0,3,2],[3,0,0],[2,0,0]])', () => {
    const x = T.tensor([0, 2, 3], f64);
    expect(hessian((z) => T.prod(z), x)).toEqual([
      [0, 3, 2],
      [3, 0, 0],
      [2, 0, 0],
    ]);
  });

  it('Hessian with two zeros, and over a dim with keepdim', () => {
    // d2/dx0dx1 of x0*x1*x2*x3 at [0,0,2,5] is x2*x3 = 10; every other entry with a zero left is 0.
    const x = T.tensor([0, 0, 2, 5], f64);
    const h = hessian((z) => T.prod(z.reshape([2, 2]), 1, true).prod(), x);
    expect(h).toEqual([
      [0, 10, 0, 0],
      [10, 0, 0, 0],
      [0, 0, 0, 0],
      [0, 0, 0, 0],
    ]);
  });

  it('property: gradient of the gradient matches finite differences with zeros injected', () => {
    fc.assert(
      fc.property(shapeArb(1, 3, 3), fc.integer(), fc.array(fc.nat(40), { maxLength: 3 }), fc.boolean(), (shape, seed, zeroAt, keepdim) => {
        const n = shape.reduce((a, b) => a * b, 1);
        const data = leaf(shape, seed).dataSync() as Float64Array;
        for (const z of zeroAt) data[z % n] = 0;
        const x = T.fromTypedArray(data, shape, 'float64');
        const r = leaf(shape, seed + 1);
        const dim = seed % 2 === 0 ? undefined : Math.abs(seed) % shape.length;
        // prod is multilinear, so central differences of its gradient are exact up to rounding.
        checkGrad((z) => T.sum(T.mul(T.grad((w) => T.sum(T.prod(w, dim, keepdim)))(z)[0]!, r)), [x], seed);
        checkGrad((z) => T.prod(z, dim, keepdim), [x], seed);
      }),
      PROPERTY_RUNS,
    );
  });
});

describe('defect 3: scatterAdd follows torch.scatter_add', () => {
  const src = () => T.tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]], f64);
  const index = () => T.tensor([[0], [1], [0]], { dtype: 'int32' });

  it('uses only the index extent of a larger src (PyTorch: [[8,0],[4,0]])', () => {
    const out = T.scatterAdd(T.zeros([2, 2], f64), 0, index(), src());
    expect(out.toArray()).toEqual([[8, 0], [4, 0]]);
  });

  it('the src gradient has src shape, zero outside the index extent', () => {
    const s = src();
    const input = T.ones([2, 2], f64);
    const [gi, gs] = T.grad((a, b) => T.sum(T.mul(T.scatterAdd(a, 0, index(), b), T.tensor([[1, 2], [3, 4]], f64))))(input, s);
    expect(gs!.shape).toEqual([3, 3]);
    expect(gs!.toArray()).toEqual([[1, 0, 0], [3, 0, 0], [1, 0, 0]]);
    expect(gi!.toArray()).toEqual([[1, 2], [3, 4]]);
  });

  it('adds into input, as torch.scatter_add(input, dim, index, src)', () => {
    const out = T.scatterAdd(T.tensor([[10, 20], [30, 40]], f64), 1, T.tensor([[1, 1], [0, 1]], { dtype: 'int32' }), T.tensor([[1, 2], [3, 4]], f64));
    expect(out.toArray()).toEqual([[10, 23], [33, 44]]);
  });

  it('rejects an index larger than src, or than input outside dim, naming the op', () => {
    expect(() => T.scatterAdd(T.zeros([4, 4], f64), 0, T.zeros([3, 2], { dtype: 'int32' }), T.ones([2, 2], f64))).toThrow(/scatterAdd: index \[3, 2\] is larger than src \[2, 2\] in dimension 0/);
    expect(() => T.scatterAdd(T.zeros([2, 2], f64), 0, T.zeros([1, 3], { dtype: 'int32' }), T.ones([3, 3], f64))).toThrow(/larger than input \[2, 2\] in dimension 1/);
    expect(() => T.scatterAdd(T.zeros([2, 2], f64), 0, T.zeros([2], { dtype: 'int32' }), T.ones([2, 2], f64))).toThrow(/as many dimensions/);
    expect(() => T.scatterAdd(T.zeros([2, 2], f64), 0, T.zeros([2, 2]), T.ones([2, 2], f64))).toThrow(/int32/);
    expect(() => T.scatterAdd(T.zeros([2, 2], f64), 0, T.full([1, 1], 2, { dtype: 'int32' }), T.ones([2, 2], f64))).toThrow(/out of range/);
  });
});

describe('defect 4: asStrided and embed check their bounds', () => {
  it('asStrided past the end, before the start, or with bad geometry throws', () => {
    const x = T.arange(0, 6, 1, f64);
    expect(() => T.asStrided(x, [3], [1], 4)).toThrow(/asStrided: sizes \[3\], strides \[1\] and offset 4 reach elements 4\.\.6, out of bounds for the input of shape \[6\] \(6 elements\)/);
    expect(() => T.asStrided(x, [2, 2], [3, 3], 0)).toThrow(/out of bounds/);
    expect(() => T.asStrided(x, [3], [-1], 1)).toThrow(/reach elements -1\.\.1/);
    expect(() => T.asStrided(x, [2], [1, 1], 0)).toThrow(/same length/);
    expect(() => T.asStrided(x, [2], [1], -1)).toThrow(/non-negative/);
    expect(() => T.asStrided(x, [2.5], [1], 0)).toThrow(/non-negative integers/);
  });

  it('in-bounds views (overlapping, negative strides, empty) still work, with gradients', () => {
    const x = T.arange(0, 6, 1, f64);
    expect(T.asStrided(x, [2, 3], [2, 1], 1).toArray()).toEqual([[1, 2, 3], [3, 4, 5]]);
    expect(T.asStrided(x, [3], [-2], 5).toArray()).toEqual([5, 3, 1]);
    expect(T.asStrided(x, [0, 4], [100, 100], 6).shape).toEqual([0, 4]);
    checkGrad((z) => T.asStrided(z, [2, 3], [2, 1], 1), [leaf([6], 3)]);
  });

  it('embed past the output size throws', () => {
    expect(() => T.embed(T.ones([3], f64), [4], 2, [1])).toThrow(/embed: .*reach elements 2\.\.4, out of bounds for a tensor of shape \[4\]/);
    expect(() => T.embed(T.ones([3], f64), [4], 0, [1, 1])).toThrow(/same length/);
    expect(T.embed(T.ones([2], f64), [4], 3, [-2]).toArray()).toEqual([0, 1, 0, 1]);
  });
});

describe('defect 5 (std/var): constant slices give PyTorch gradients', () => {
  // torch.std/var(x, dim=0, correction=c) of torch.full((n,), 2.0): value and gradient.
  const cases: [number, number, number, number][] = [
    // correction, n, std gradient entry, var gradient entry (NaN: PyTorch gives NaN too)
    [0, 1, 0, 0],
    [0, 3, 0, 0],
    [1, 1, NaN, NaN],
    [1, 2, 0, 0],
    [1, 3, 0, 0],
    [2, 2, NaN, NaN],
    [2, 3, 0, 0],
  ];
  for (const [c, n, gStd, gVar] of cases) {
    it(`correction ${c}, ${n} elements`, () => {
      const x = T.full([n], 2, f64);
      const s = T.std(x, 0, false, { correction: c });
      const v = T.variance(x, 0, { correction: c });
      const expected = n - c > 0 ? 0 : NaN;
      expect(s.item()).toEqual(expected);
      expect(v.item()).toEqual(expected);
      expect(Array.from(T.grad((z) => T.std(z, 0, { correction: c }))(x)[0]!.dataSync())).toEqual(new Array(n).fill(gStd));
      expect(Array.from(T.grad((z) => T.variance(z, 0, false, { correction: c }))(x)[0]!.dataSync())).toEqual(new Array(n).fill(gVar));
    });
  }

  it('a constant row beside a varying one: finite gradient, exact elsewhere', () => {
    const x = T.tensor([[3, 3, 3], [1, 2, 4]], f64);
    const [g] = T.grad((z) => T.sum(T.std(z, 1)))(x);
    const d = g!.toArray() as number[][];
    expect(d[0]).toEqual([0, 0, 0]);
    checkGrad((z) => T.std(z, 1), [T.tensor([[1, 2, 4]], f64)]);
  });

  it('second derivative through std stays finite at a constant slice (PyTorch: 0)', () => {
    const x = T.full([3], 2, f64);
    const r = T.tensor([1, -2, 0.5], f64);
    const [h] = T.grad((z) => T.sum(T.mul(T.grad((w) => T.std(w))(z)[0]!, r)))(x);
    expect(Array.from(h!.dataSync())).toEqual([0, 0, 0]);
  });
});
