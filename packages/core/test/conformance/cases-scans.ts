/**
 * Conformance cases for scans, sorting and selection, norms, and the scatter family:
 * every backend must compute them (values, indices and gradients) like the js reference.
 * The `sort` primitive is exercised here.
 */
import fc from 'fast-check';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { axesDraw, dim, layout, reduction, shape, type OpCase } from './cases.js';

/** A shape, a layout, one of its dims and a keepdim flag. */
const dimDraw = shape(1, 3).chain((s) => fc.record({ s: fc.constant(s), l: layout, d: fc.integer({ min: 0, max: s.length - 1 }), keepdim: fc.boolean(), k: fc.nat() }));

/** A case of an op along one dim of any shape and layout. */
function alongDim(name: string, f: (x: Tensor, d: number, keepdim: boolean, k: number) => Tensor, values: 'normal' | 'positive' = 'normal'): OpCase {
  return { name, draw: dimDraw.map(({ s, l, d, keepdim, k }) => ({ inputs: [{ shape: s, layout: l, values }], f: (x) => f(x, d, keepdim, k) })) };
}

/** Indices as float32, so a case can return them beside values (and they compare exactly). */
const asFloat = (t: Tensor) => T.cast(t, 'float32');

/** The cases of this part. */
export const SCANS_CASES: readonly OpCase[] = [
  alongDim('cumsum (and reverse exclusive)', (x, d) => T.add(T.cumsum(x, d), T.cumsum(x, d, { reverse: true, exclusive: true }))),
  alongDim('cumprod (and exclusive)', (x, d) => T.add(T.cumprod(x, d), T.cumprod(x, d, { exclusive: true }))),
  alongDim('sort: values and indices, both orders', (x, d) => {
    const up = T.sort(x, d);
    const down = T.sort(x, d, { descending: true });
    return T.add(T.add(up.values, T.mul(down.values, 2)), T.add(asFloat(up.indices), T.mul(asFloat(down.indices), 10)));
  }),
  {
    ...alongDim('sort with NaN (NaN last ascending, first descending)', (x, d) => {
      const withNaN = T.where(T.gt(x, 0.8), NaN, x);
      return T.add(asFloat(T.argsort(withNaN, d)), T.mul(asFloat(T.argsort(withNaN, d, { descending: true })), 10));
    }),
    differentiable: false,
  },
  {
    name: 'sort of long rows (rank kernel, and the bitonic network past 1024 on webgpu) and of int32 with ties',
    draw: fc.record({ n: fc.integer({ min: 200, max: 600 }), m: fc.integer({ min: 1025, max: 2100 }), rows: dim(3), up: fc.boolean() }).map(({ n, m, rows, up }) => ({
      inputs: [{ shape: [rows, n] }, { shape: [rows, m], dtype: 'int32' as const, values: { intBelow: 7 } }, { shape: [m, rows], layout: 'transposed' as const }],
      // int32 output: compared exactly, so a single misplaced position fails.
      f: (x, ints, long) => {
        const s = T.sort(x, -1, { descending: true });
        const si = T.sort(ints, -1, { descending: !up });
        const sl = T.sort(T.where(T.gt(long, 1.5), NaN, long), 0, { descending: up });
        return T.cat([s.indices, si.indices, si.values, sl.indices].map((t) => t.reshape([-1])), 0);
      },
    })),
    differentiable: false,
  },
  alongDim('topk (largest and smallest)', (x, d, _, k) => {
    const n = 1 + (k % x.shape[d]!);
    const hi = T.topk(x, n, d);
    const lo = T.topk(x, n, d, { largest: false });
    return T.add(T.add(hi.values, asFloat(hi.indices)), T.mul(T.add(lo.values, asFloat(lo.indices)), 3));
  }),
  alongDim('maxDim / minDim: values and indices', (x, d, keepdim) => {
    const mx = T.maxDim(x, d, keepdim);
    const mn = T.minDim(x, d, keepdim);
    return T.add(T.add(mx.values, asFloat(mx.indices)), T.mul(T.add(mn.values, asFloat(mn.indices)), 3));
  }),
  reduction('amax + amin', (x, a, k) => T.add(T.amax(x, a, k), T.amin(x, a, k))),
  reduction('norm p = 2, 1, inf, -inf, 0', (x, a, k) =>
    T.add(T.add(T.norm(x, 2, a, k), T.norm(x, 1, a, k)), T.add(T.add(T.norm(x, Infinity, a, k), T.norm(x, -Infinity, a, k)), T.norm(x, 0, a, k))),
  ),
  reduction('norm p = 3, 0.5', (x, a, k) => T.add(T.norm(x, 3, a, k), T.norm(x, 0.5, a, k)), 'positive'),
  reduction('prod (exact gradient via cumprod)', (x, a, k) => T.prod(x, a, k)),
  {
    name: 'all / any',
    draw: axesDraw.map(({ s, l, axes, keepdim }) => ({
      inputs: [{ shape: s, layout: l }],
      f: (x: Tensor) => {
        const b = T.gt(x, 0);
        return T.add(T.cast(T.all(b, axes, keepdim), 'float32'), T.mul(T.cast(T.any(T.gt(x, 1), axes, keepdim), 'float32'), 2));
      },
    })),
    differentiable: false,
  },
  {
    name: 'scatterAdd (src larger than index), scatter reduce modes, indexAdd',
    draw: fc
      .record({ s: shape(1, 3), l: layout, k: fc.nat(), m: dim(3), grow: fc.nat(1), mode: fc.constantFrom('sum', 'prod', 'mean', 'amax', 'amin'), self: fc.boolean() })
      .map(({ s, l, k, m, grow, mode, self }) => {
        const d = k % s.length;
        const idx = s.map((n, i) => (i === d ? m : n));
        const src = idx.map((n) => n + grow);
        return {
          inputs: [
            { shape: s, layout: l },
            { shape: idx, dtype: 'int32' as const, values: { intBelow: s[d]! } },
            { shape: src },
            { shape: [m], dtype: 'int32' as const, values: { intBelow: s[d]! } },
          ],
          f: (x: Tensor, index: Tensor, sv: Tensor, sel: Tensor) => {
            const reduce = mode as T.ScatterReduce;
            const a = T.scatterAdd(x, d, index, sv);
            const b = T.scatter(x, d, index, sv, { reduce, includeSelf: self });
            // indexAdd's source: the corner of src of x's shape with dim d of length m.
            let source = sv;
            idx.forEach((n, i) => (source = T.slice(source, i, 0, n)));
            const c = T.indexAdd(x, d, sel, source, 0.5);
            return T.add(T.add(a, b), c);
          },
        };
      }),
  },
];
