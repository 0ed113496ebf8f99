/**
 * Conformance cases of the indexing and linear-algebra ops composed in core (select,
 * index, roll, repeat, triangles, diagonals, einsum, bmm, addmm, ...): each backend must
 * compute them, and their gradients, like the `js` reference. `maskedSelect` and bool-mask
 * indexing read the mask synchronously, which WebGPU cannot, so they are not here (their
 * int32-position forms are).
 */
import fc from 'fast-check';
import * as T from '@tsgrad/core';
import { dim, layout, shape, type OpCase } from './cases.js';

/** The cases of the indexing and linear-algebra ops. */
export const INDEXING_CASES: readonly OpCase[] = [
  {
    name: 'select, unbind, chunk, roll, movedim, unflatten',
    draw: fc.record({ s: shape(2, 3), l: layout, k: fc.nat(), j: fc.integer({ min: -5, max: 5 }) }).map(({ s, l, k, j }) => ({
      inputs: [{ shape: s, layout: l }],
      f: (x) => {
        const d = k % x.ndim;
        const rolled = T.roll(x, [j, k % 7], [d, -1]);
        const pieces = T.chunk(rolled, 1 + (k % 3), d).map((p, i) => T.mul(p, i + 1));
        const joined = T.movedim(T.cat(pieces, d), d, 0);
        const first = T.select(joined, 0, -1);
        const parts = T.stack(T.unbind(joined, 0).map((p, i) => T.mul(p, i - 1)));
        return T.add(T.unflatten(parts.flatten(), 0, [-1, first.size]).sum(0), T.roll(first, j).reshape(-1));
      },
    })),
  },
  {
    name: 'repeat and tile',
    draw: fc.record({ s: shape(1, 3, 3), l: layout, k: fc.nat() }).map(({ s, l, k }) => ({
      inputs: [{ shape: s, layout: l }],
      f: (x) => T.cat([x.repeat([1 + (k % 2), ...x.shape.map((_, i) => 1 + ((k >> i) % 3))]).reshape(-1), T.tile(x, [1 + (k % 2)]).reshape(-1)]),
    })),
  },
  {
    name: 'maskedFill (number and 0-d tensor value), tril, triu',
    draw: fc.record({ s: shape(2, 3), l: layout, j: fc.integer({ min: -3, max: 3 }) }).map(({ s, l, j }) => ({
      inputs: [{ shape: s, layout: l }, { shape: s.slice(1), dtype: 'bool' as const, values: { intBelow: 2 } }, { shape: [] }],
      f: (x, mask, v) => T.add(T.tril(T.maskedFill(x, mask!, v!), j), T.triu(T.maskedFill(x, mask!, -1.5), -j)),
    })),
  },
  {
    name: 'diagonal, diag, diagEmbed, trace',
    draw: fc.record({ s: shape(2, 3), l: layout, k: fc.nat(), j: fc.integer({ min: -3, max: 3 }) }).map(({ s, l, k, j }) => ({
      inputs: [{ shape: s, layout: l }],
      f: (x) => {
        const d = T.diagonal(x, j, k % x.ndim, (k + 1) % x.ndim);
        const m = x.reshape(x.shape[0]!, -1);
        const e = T.diagEmbed(d, -j, 0, -1);
        return T.add(T.add(e.sum(), T.diag(T.diag(m, j), 1).sum()), T.trace(m));
      },
    })),
  },
  {
    name: 'index: ints, slices with negative steps, None, ellipsis, int32 positions',
    draw: fc.record({ s: shape(3, 3), l: layout, m: dim(3), k: fc.nat() }).map(({ s, l, m, k }) => ({
      inputs: [
        { shape: s, layout: l },
        { shape: [m], dtype: 'int32' as const, values: { intBelow: s[0]! } },
        { shape: [m], dtype: 'int32' as const, values: { intBelow: s[1]! } },
        { shape: [1, m], dtype: 'int32' as const, values: { intBelow: s[2]! } },
      ],
      f: (x, first, rows, cols) => {
        const basic = T.index(x, [T.sl(null, null, k % 2 ? -1 : 2), null, T.ellipsis, -1 - (k % s[2]!)]);
        const adjacent = T.index(x, [':', rows!, cols!]); // [s0, 1, m]
        const apart = T.index(x, [first!, '::-1', cols!]); // index dims apart go first: [1, m, s1]
        return T.add(T.add(basic.sum(), adjacent.sum(0)), apart.sum(-1));
      },
    })),
  },
  {
    name: 'einsum (contractions, diagonals, ellipsis, three operands)',
    draw: fc.record({ a: dim(3), b: dim(3), c: dim(3), batch: shape(0, 2, 3), l: layout, k: fc.nat(3) }).map(({ a, b, c, batch, l, k }) => {
      const eqs: [string, number[][]][] = [
        ['...ij,...jk->...ik', [[...batch, a, b], [...batch, b, c]]],
        ['ii,ij->j', [[a, a], [a, c]]],
        ['bn,anm,bm->ba', [[b, c], [a, c, a], [b, a]]],
        ['ijk->kj', [[a, b, c]]],
      ];
      const [eq, shapes] = eqs[k]!;
      return { inputs: shapes.map((s, i) => ({ shape: s, layout: i === 0 ? l : ('contiguous' as const) })), f: (...xs) => T.einsum(eq, ...xs) };
    }),
  },
  {
    name: 'bmm, addmm, baddbmm, dot, outer, mv, kron',
    draw: fc.record({ b: dim(3), n: dim(4), m: dim(4), p: dim(4), la: layout, lb: layout }).map(({ b, n, m, p, la, lb }) => ({
      inputs: [{ shape: [b, n, m], layout: la }, { shape: [b, m, p], layout: lb }, { shape: [p] }, { shape: [n, p], layout: la }],
      f: (x, y, v, inp) => {
        const bm = T.baddbmm(T.bmm(x, y), x, y, { beta: 0.5, alpha: -2 });
        const am = T.addmm(v!, T.select(x, 0, 0), T.select(y!, 0, -1), { beta: 2, alpha: 0.5 });
        const vec = T.add(T.mv(T.select(y!, 0, 0), v!).sum(), T.dot(v!, v!));
        const o = T.outer(T.select(T.select(x, 0, 0), 1, 0), v!);
        const kr = T.kron(inp!, T.select(x, 0, 0)).sum();
        return T.add(T.add(bm.sum(0), T.add(am, o)), T.add(vec, kr));
      },
    })),
  },
];
