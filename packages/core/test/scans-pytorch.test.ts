/**
 * Known answers from PyTorch (float64, torch 2.x) for scans, sorting, selection, norms
 * and the scatter family: values, indices and gradients, including ties, NaN and zeros.
 */
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';

const f64 = { dtype: 'float64' } as const;
const i32 = { dtype: 'int32' } as const;

/** `[y, d/dx sum(y * w)]` for `f` at `x`. */
function valueAndWeightedGrad(f: (x: Tensor) => Tensor, x: Tensor, w: Tensor): [unknown, unknown] {
  const y = f(x);
  const [g] = T.grad((z) => T.sum(T.mul(f(z), w)))(x);
  return [y.toArray(), g!.toArray()];
}

/** Close to PyTorch's float64 answer (the composed order of operations rounds differently). */
function expectClose(ours: unknown, want: unknown): void {
  const a = (ours as number[] | number[][]).flat(2) as number[];
  const b = (want as number[] | number[][]).flat(2) as number[];
  expect(a.length).toBe(b.length);
  a.forEach((v, i) => expect(v).toBeCloseTo(b[i]!, 12));
}

describe('cumsum and cumprod (torch.cumsum / torch.cumprod)', () => {
  const x = () => T.tensor([[1, -2, 0, 3], [2, 0.5, 4, -1]], f64);
  const w = T.tensor([[1, 2, 3, 4], [-1, 0.5, 2, 1]], f64);
  const cases: [string, number[][], number[][]][] = [
    ['cumsum0', [[1.0, -2.0, 0.0, 3.0], [3.0, -1.5, 4.0, 2.0]], [[0.0, 2.5, 5.0, 5.0], [-1.0, 0.5, 2.0, 1.0]]],
    ['cumsum1', [[1.0, -1.0, -1.0, 2.0], [2.0, 2.5, 6.5, 5.5]], [[10.0, 9.0, 7.0, 4.0], [2.5, 3.5, 3.0, 1.0]]],
    ['cumprod0', [[1.0, -2.0, 0.0, 3.0], [2.0, -1.0, 0.0, -3.0]], [[-1.0, 2.25, 11.0, 3.0], [-1.0, -1.0, 0.0, 3.0]]],
    ['cumprod1', [[1.0, -2.0, -0.0, -0.0], [2.0, 1.0, 4.0, -4.0]], [[-3.0, 2.0, -30.0, 0.0], [1.25, 9.0, 1.0, 4.0]]],
  ];
  for (const [name, y, g] of cases) {
    it(`${name.slice(0, -1)} along dim ${name.slice(-1)}: values and gradient (zeros included)`, () => {
      const dim = Number(name.slice(-1));
      const f = name.startsWith('cumsum') ? (z: Tensor) => T.cumsum(z, dim) : (z: Tensor) => T.cumprod(z, dim);
      const [ours, grad] = valueAndWeightedGrad(f, x(), w);
      expectClose(ours, y);
      expectClose(grad, g);
    });
  }

  it('bool counts as int32 (PyTorch: int64), negative dims, 0-d and empty', () => {
    const c = T.cumsum(T.tensor([1, 0, 1], { dtype: 'bool' }), 0);
    expect(c.dtype).toBe('int32');
    expect(c.toArray()).toEqual([1, 1, 2]);
    expect(T.cumprod(T.tensor([[1, 2, 3]], f64), -1).toArray()).toEqual([[1, 2, 6]]);
    expect(T.cumsum(T.tensor(5, f64), 0).item()).toBe(5);
    expect(T.cumsum(T.zeros([2, 0], f64), 1).shape).toEqual([2, 0]);
    expect(() => T.cumsum(T.zeros([2]), 1)).toThrow(/cumsum: axis 1 is out of range/);
  });
});

describe('sort, argsort, topk (torch.sort(stable=True), torch.topk)', () => {
  it('NaN last ascending, first descending; stable; -0 equals 0', () => {
    const x = T.tensor([3, NaN, 1, 3, -0, 0], f64);
    const up = T.sort(x);
    expect(Array.from(up.values.dataSync()).map(String)).toEqual(['0', '0', '1', '3', '3', 'NaN']);
    expect(Object.is(up.values.dataSync()[0], -0)).toBe(true);
    expect(up.indices.toArray()).toEqual([4, 5, 2, 0, 3, 1]);
    const down = T.sort(x, 0, { descending: true });
    expect(down.indices.toArray()).toEqual([1, 0, 3, 2, 4, 5]);
    expect(down.indices.dtype).toBe('int32');
  });

  it('argsort of int32 with ties (stable)', () => {
    const x = T.tensor([3, 1, 3, 1, 2], i32);
    expect(T.argsort(x).toArray()).toEqual([1, 3, 4, 0, 2]);
    expect(T.argsort(x, 0, { descending: true }).toArray()).toEqual([0, 2, 4, 1, 3]);
    expect(T.sort(x).values.dtype).toBe('int32');
  });

  it('sort along dim 0 and its gradient goes back through the indices', () => {
    const x = T.tensor([[1, 3, 3, 2]], f64);
    const s = T.sort(x, 1, { descending: true });
    expect(s.indices.toArray()).toEqual([[1, 2, 3, 0]]);
    const [g] = T.grad((z) => T.sum(T.mul(T.sort(z, 1, { descending: true }).values, T.tensor([1, 2, 3, 4], f64))))(x);
    expect(g!.toArray()).toEqual([[4, 1, 2, 3]]);
    const t = T.sort(T.tensor([[2, 1], [0, 3]], f64), 0);
    expect(t.values.toArray()).toEqual([[0, 1], [2, 3]]);
    expect(t.indices.toArray()).toEqual([[1, 0], [0, 1]]);
  });

  it('topk values, indices and gradient', () => {
    const x = T.tensor([[3, 1, 2], [0, -1, 5]], f64);
    const t = T.topk(x, 2, 1);
    expect(t.values.toArray()).toEqual([[3, 2], [5, 0]]);
    expect(t.indices.toArray()).toEqual([[0, 2], [2, 0]]);
    const [g] = T.grad((z) => T.sum(T.mul(T.topk(z, 2, 1).values, T.tensor([1, 10], f64))))(x);
    expect(g!.toArray()).toEqual([[1, 0, 10], [10, 0, 1]]);
    const s = T.topk(x, 1, 0, { largest: false });
    expect(s.values.toArray()).toEqual([[0, -1, 2]]);
    expect(s.indices.toArray()).toEqual([[1, 1, 0]]);
  });

  it('topk ties take the first occurrences (PyTorch: unspecified), and k is checked', () => {
    expect(T.topk(T.tensor([1, 3, 3, 2, 3], f64), 2).indices.toArray()).toEqual([1, 2]);
    expect(() => T.topk(T.tensor([1, 2], f64), 3)).toThrow(/topk: k must be an integer in 0..2/);
    expect(() => T.sort(T.tensor([1, 0], { dtype: 'bool' }))).toThrow(/sort: bool/);
  });
});

describe('maxDim / minDim (torch.max(x, dim)) and amax / amin', () => {
  const x = () => T.tensor([[2, 5, 5, 1], [7, 7, 0, 7]], f64);
  it('values and first indices', () => {
    const mn = T.minDim(x(), 1);
    expect(mn.values.toArray()).toEqual([1, 0]);
    expect(mn.indices.toArray()).toEqual([3, 2]);
    const mx = T.maxDim(x(), 0, true);
    expect(mx.values.toArray()).toEqual([[7, 7, 5, 7]]);
    expect(mx.indices.toArray()).toEqual([[1, 1, 0, 1]]);
    expect(x().maxDim(-1).indices.toArray()).toEqual([1, 0]);
  });
  it('NaN is the maximum and the minimum, with its index (PyTorch: max([1, nan, 3], 0) = (nan, 1))', () => {
    const y = T.tensor([1, NaN, 3], f64);
    expect(T.maxDim(y, 0).values.item()).toBeNaN();
    expect(T.maxDim(y, 0).indices.item()).toBe(1);
    expect(T.minDim(y, 0).indices.item()).toBe(1);
  });
  it('maxDim sends the gradient to the index; amax splits it between ties', () => {
    const [g] = T.grad((z) => T.sum(T.maxDim(z, 1).values))(x());
    expect(g!.toArray()).toEqual([[0, 1, 0, 0], [1, 0, 0, 0]]);
    const [h] = T.grad((z) => T.sum(T.amax(z, 1)))(x());
    expectClose(h!.toArray(), [[0, 0.5, 0.5, 0], [1 / 3, 1 / 3, 0, 1 / 3]]);
    expect(T.amin(x(), [0, 1]).item()).toBe(0);
  });
});

describe('all / any', () => {
  const a = () => T.tensor([[0, 1, NaN], [2, 0, 0]], f64);
  it('over everything, a dim, keepdim; NaN is true; empty all is true', () => {
    expect(T.all(a()).item()).toBe(0);
    expect(T.all(a(), 1).toArray()).toEqual([false, false]);
    expect(T.any(a(), 0, true).toArray()).toEqual([[true, true, true]]);
    expect(T.all(a(), 1).dtype).toBe('bool');
    expect(T.all(T.zeros([0], f64)).item()).toBe(1);
    expect(T.any(T.zeros([0], f64)).item()).toBe(0);
  });
});

describe('norm (torch.linalg.vector_norm / torch.norm)', () => {
  // [p, value, gradient] at x = [0, 1, -2, 0.5]; PyTorch's gradient is 0 at the zero element.
  const cases: [number, number, number[]][] = [
    [2, 2.29128784747792, [0.0, 0.4364357804719848, -0.8728715609439696, 0.2182178902359924]],
    [1, 3.5, [0.0, 1.0, -1.0, 1.0]],
    [Infinity, 2.0, [0.0, 0.0, -1.0, 0.0]],
    [-Infinity, 0.0, [0.0, 0.0, -0.0, 0.0]],
    [0, 3.0, [0, 0, 0, 0]],
    [3, 2.089669598190616, [0.0, 0.2290048874729442, -0.9160195498917768, 0.05725122186823605]],
    [0.5, 9.742640687119284, [0.0, 3.1213203435596424, -2.207106781186547, 4.414213562373094]],
    [-1, 0.0, [0.0, 0.0, -0.0, 0.0]],
  ];
  for (const [p, value, grad] of cases) {
    it(`p = ${p}`, () => {
      const x = T.tensor([0, 1, -2, 0.5], f64);
      expect(T.norm(x, p).item()).toBeCloseTo(value, 12);
      const [g] = T.grad((z) => T.norm(z, p))(x);
      expectClose(g!.toArray(), grad);
    });
  }

  it('gradient 0 at the zero vector for every p (PyTorch: a zero subgradient)', () => {
    for (const p of [2, 1, 3, 0.5, -1, Infinity, -Infinity, 0]) {
      const [g] = T.grad((z) => T.norm(z, p))(T.zeros([3], f64));
      expect(Array.from(g!.dataSync()), `p = ${p}`).toEqual([0, 0, 0]);
    }
  });

  it("'fro' over a dim with keepdim", () => {
    const m = T.tensor([[1, 2], [3, -4]], f64);
    const [y, g] = valueAndWeightedGrad((z) => T.norm(z, 'fro', 1, true), m, T.tensor([[1], [2]], f64));
    expectClose(y, [[2.23606797749979], [5.0]]);
    expectClose(g, [[0.4472135954999579, 0.8944271909999159], [1.2, -1.6]]);
    expect(() => T.norm(m, NaN)).toThrow(/norm: p must be/);
  });
});

describe('scatter / scatter_reduce / index_add', () => {
  const input = () => T.tensor([1, 2, 3, 4], f64);
  const src = () => T.tensor([5, 2, 7, 2, 0.5], f64);
  const index = () => T.tensor([0, 1, 0, 1, 2], i32);
  const w = T.tensor([1, 2, 3, 4], f64);
  // reduce, includeSelf, value, input gradient, src gradient (of sum(y * [1,2,3,4])).
  const table: [T.ScatterReduce, boolean, number[], number[], number[]][] = [
    ['sum', true, [13, 6, 3.5, 4], [1, 2, 3, 4], [1, 2, 1, 2, 3]],
    ['sum', false, [12, 4, 0.5, 4], [0, 0, 0, 4], [1, 2, 1, 2, 3]],
    ['prod', true, [35, 8, 1.5, 4], [35, 8, 1.5, 4], [7, 8, 5, 8, 9]],
    ['prod', false, [35, 4, 0.5, 4], [0, 0, 0, 4], [7, 4, 5, 4, 3]],
    ['mean', true, [13 / 3, 2, 1.75, 4], [1 / 3, 2 / 3, 1.5, 4], [1 / 3, 2 / 3, 1 / 3, 2 / 3, 1.5]],
    ['mean', false, [6, 2, 0.5, 4], [0, 0, 0, 4], [0.5, 1, 0.5, 1, 3]],
    ['amax', true, [7, 2, 3, 4], [0, 2 / 3, 3, 4], [0, 2 / 3, 1, 2 / 3, 0]],
    ['amax', false, [7, 2, 0.5, 4], [0, 0, 0, 4], [0, 2 / 3, 1, 2 / 3, 3]],
    ['amin', true, [1, 2, 0.5, 4], [1, 2 / 3, 0, 4], [0, 2 / 3, 0, 2 / 3, 3]],
    ['amin', false, [5, 2, 0.5, 4], [0, 0, 0, 4], [1, 2 / 3, 0, 2 / 3, 3]],
  ];
  for (const [reduce, includeSelf, value, gIn, gSrc] of table) {
    it(`reduce '${reduce}', includeSelf ${includeSelf}`, () => {
      const opts = { reduce, includeSelf };
      expectClose(T.scatter(input(), 0, index(), src(), opts).toArray(), value);
      const [gi, gs] = T.grad((a, b) => T.sum(T.mul(T.scatter(a, 0, index(), b, opts), w)))(input(), src());
      expectClose(gi!.toArray(), gIn);
      expectClose(gs!.toArray(), gSrc);
    });
  }

  it('replace: values and PyTorch gradients', () => {
    const idx = T.tensor([0, 1, 0], i32);
    // PyTorch: input.scatter(0, [0,1,0], src[:3]) with a repeated index; tsgrad takes the last.
    expect(T.scatter(input(), 0, idx, src()).toArray()).toEqual([7, 2, 3, 4]);
    const [gi, gs] = T.grad((a, b) => T.sum(T.mul(T.scatter(a, 0, idx, b), w)))(input(), src());
    expect(gi!.toArray()).toEqual([0, 0, 3, 4]);
    expect(gs!.toArray()).toEqual([1, 2, 1, 0, 0]);
  });

  it("a scalar value, 'add'/'multiply' aliases, and bad reduce names", () => {
    expect(T.scatter(T.zeros([2, 3], f64), 1, T.tensor([[2], [0]], i32), 1.5).toArray()).toEqual([[0, 0, 1.5], [1.5, 0, 0]]);
    expect(T.scatter(input(), 0, index(), src(), { reduce: 'multiply' }).toArray()).toEqual([35, 8, 1.5, 4]);
    expect(T.scatter(input(), 0, index(), src(), { reduce: 'add' }).toArray()).toEqual([13, 6, 3.5, 4]);
    expect(() => T.scatter(input(), 0, index(), src(), { reduce: 'max' as T.ScatterReduce })).toThrow(/scatter: reduce must be one of/);
    expect(() => T.scatter(input(), 0, T.tensor([0, 1, 0, 1, 2, 3], i32), src())).toThrow(/scatter: index \[6\] is larger than src \[5\]/);
  });

  it('indexAdd (torch.index_add with alpha)', () => {
    const y = T.indexAdd(T.ones([3, 2], f64), 0, T.tensor([0, 2, 0], i32), T.tensor([[1, 2], [3, 4], [5, 6]], f64), 2);
    expect(y.toArray()).toEqual([[13, 17], [1, 1], [7, 9]]);
    expect(() => T.indexAdd(T.ones([3, 2], f64), 0, T.tensor([0], i32), T.ones([2, 2], f64))).toThrow(/indexAdd: source \[2, 2\] must have shape \[1, 2\]/);
  });
});

describe('keepdim is positional after dim in every reduction', () => {
  it('sum, mean, prod, max, min, amax, amin, var, std, logsumexp, norm, all, any, argmax, argmin, maxDim', () => {
    const x = T.tensor([[1, 2, 3], [4, 5, 7]], f64);
    const reductions: [string, Tensor][] = [
      ['sum', T.sum(x, 1, true)],
      ['mean', T.mean(x, 1, true)],
      ['prod', T.prod(x, 1, true)],
      ['max', T.max(x, 1, true)],
      ['min', T.min(x, 1, true)],
      ['amax', T.amax(x, 1, true)],
      ['amin', T.amin(x, 1, true)],
      ['var', T.variance(x, 1, true)],
      ['std', T.std(x, 1, true, { correction: 0 })],
      ['logsumexp', T.logsumexp(x, 1, true)],
      ['norm', T.norm(x, 2, 1, true)],
      ['all', T.all(x, 1, true)],
      ['any', T.any(x, 1, true)],
      ['argmax', T.argmax(x, 1, true)],
      ['argmin', T.argmin(x, 1, true)],
      ['maxDim', T.maxDim(x, 1, true).values],
      ['minDim', T.minDim(x, 1, true).indices],
    ];
    for (const [name, y] of reductions) expect(y.shape, name).toEqual([2, 1]);
    expect(T.std(x, 1, true, { correction: 0 }).toArray()).toEqual(T.std(x, 1, { correction: 0, keepdim: true }).toArray());
    expect(x.var(1, true).shape).toEqual([2, 1]);
  });
});
