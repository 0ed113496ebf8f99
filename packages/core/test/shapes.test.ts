/** Properties of shapes, views and reductions, checked against straightforward loops. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import { shapeArb } from './helpers/gradcheck.js';

const permutationOf = (n: number) => fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n });
const tensorCase = shapeArb(1, 4, 4).chain((shape) => fc.record({ shape: fc.constant(shape), seed: fc.integer(), perm: permutationOf(shape.length), perm2: permutationOf(shape.length) }));

/** Value of `t` at a multi-index, read through the public nested array. */
function at(nested: unknown, idx: readonly number[]): number {
  let v = nested;
  for (const i of idx) v = (v as unknown[])[i];
  return v as number;
}

function* indices(shape: readonly number[]): Generator<number[]> {
  const idx = shape.map(() => 0);
  if (shape.some((d) => d === 0)) return;
  for (;;) {
    yield [...idx];
    let d = shape.length - 1;
    while (d >= 0 && ++idx[d]! === shape[d]!) idx[d--] = 0;
    if (d < 0) return;
  }
}

describe('views', () => {
  it('permute moves each element to the permuted index, and a permute of a permute composes', () => {
    fc.assert(
      fc.property(tensorCase, ({ shape, seed, perm, perm2 }) => {
        const x = T.randn(shape, { generator: new T.Generator(seed) });
        const y = x.permute(perm);
        expect(y.shape).toEqual(perm.map((p) => shape[p]));
        const xs = x.toArray();
        const ys = y.toArray();
        for (const idx of indices(y.shape)) {
          const src = new Array<number>(shape.length);
          perm.forEach((p, i) => (src[p] = idx[i]!));
          expect(at(ys, idx)).toBe(at(xs, src));
        }
        // permute(permute(x, p), q) == permute(x, p[q])
        expect(y.permute(perm2).toArray()).toEqual(x.permute(perm2.map((q) => perm[q]!)).toArray());
        // Views share storage; no copy was made.
        expect(y.storage).toBe(x.storage);
      }),
      { numRuns: 50 },
    );
  });

  it('reshape round-trips, and is a view whenever the data is contiguous', () => {
    fc.assert(
      fc.property(tensorCase, ({ shape, seed, perm }) => {
        const x = T.randn(shape, { generator: new T.Generator(seed) });
        const flat = x.reshape(-1);
        expect(flat.storage).toBe(x.storage);
        expect(flat.reshape(shape).toArray()).toEqual(x.toArray());
        const p = x.permute(perm);
        expect(p.reshape(-1).dataSync()).toEqual(p.contiguous().dataSync());
        expect(p.reshape(-1).reshape(p.shape).toArray()).toEqual(p.toArray());
      }),
      { numRuns: 50 },
    );
  });

  it('broadcasting follows NumPy rules (and expand is a zero-stride view)', () => {
    fc.assert(
      fc.property(shapeArb(0, 4, 3), fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), fc.nat(4), (shape, ones, drop) => {
        const other = shape.slice(Math.min(drop, shape.length)).map((d, i) => (ones[i] ? 1 : d));
        expect(T.broadcastShapes(shape, other, 't')).toEqual(shape);
        expect(T.broadcastShapes(other, shape, 't')).toEqual(shape);
        const a = T.randn(shape);
        const b = T.randn(other);
        const s = T.add(a, b);
        const e = b.expand(shape);
        expect(e.storage).toBe(b.storage);
        const as = a.toArray();
        const es = e.toArray();
        const ss = s.toArray();
        for (const idx of indices(shape)) expect(at(ss, idx)).toBeCloseTo(at(as, idx) + at(es, idx), 5);
      }),
      { numRuns: 50 },
    );
  });

  it('slice with step, flip and narrow agree with index arithmetic', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: -14, max: 14 }), fc.integer({ min: -14, max: 14 }), fc.integer({ min: 1, max: 4 }), (n, start, end, step) => {
        const x = T.arange(n);
        const want: number[] = [];
        const norm = (i: number) => Math.min(Math.max(i < 0 ? i + n : i, 0), n);
        for (let i = norm(start); i < norm(end); i += step) want.push(i);
        expect(x.slice(0, start, end, step).toArray()).toEqual(want);
        expect(x.flip(0).toArray()).toEqual([...Array(n).keys()].reverse());
        expect(x.flip(0).slice(0, 0, undefined, 2).toArray()).toEqual([...Array(n).keys()].reverse().filter((_, i) => i % 2 === 0));
      }),
      { numRuns: 100 },
    );
  });
});

describe('reductions agree with straightforward loops', () => {
  const ops = {
    sum: (v: number[]) => v.reduce((a, b) => a + b, 0),
    prod: (v: number[]) => v.reduce((a, b) => a * b, 1),
    max: (v: number[]) => Math.max(...v),
    min: (v: number[]) => Math.min(...v),
    mean: (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length,
  } as const;
  for (const [name, loop] of Object.entries(ops)) {
    it(name, () => {
      fc.assert(
        fc.property(tensorCase, fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), fc.boolean(), ({ shape, seed, perm }, pick, keepdim) => {
          const x = T.randn(shape, { generator: new T.Generator(seed), dtype: 'float64' }).permute(perm);
          let axes = x.shape.map((_, i) => i).filter((i) => pick[i]);
          if (axes.length === 0) axes = [0];
          const y = (T[name as keyof typeof ops] as (t: T.Tensor, d: number[], k: boolean) => T.Tensor)(x, axes, keepdim);
          const kept = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
          expect(y.shape).toEqual(keepdim ? kept : x.shape.filter((_, i) => !axes.includes(i)));
          const xs = x.toArray();
          const ys = y.reshape(kept).toArray();
          for (const out of indices(kept)) {
            const vals: number[] = [];
            for (const inner of indices(axes.map((a) => x.shape[a]!))) {
              const idx = [...out];
              axes.forEach((a, j) => (idx[a] = inner[j]!));
              vals.push(at(xs, idx));
            }
            expect(at(ys, out)).toBeCloseTo(loop(vals), 10);
          }
        }),
        { numRuns: 40 },
      );
    });
  }

  it('argmax and argmin give the first extreme index', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -3, max: 3 }), { minLength: 1, maxLength: 10 }), (v) => {
        const x = T.tensor(v);
        expect(x.argmax().item()).toBe(v.indexOf(Math.max(...v)));
        expect(x.argmin().item()).toBe(v.indexOf(Math.min(...v)));
      }),
    );
  });

  it('var/std with correction match the textbook formulas', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: -10, max: 10, noNaN: true }), { minLength: 2, maxLength: 10 }), fc.constantFrom(0, 1), (v, correction) => {
        const x = T.tensor(v, { dtype: 'float64' });
        const m = v.reduce((a, b) => a + b, 0) / v.length;
        const want = v.reduce((a, b) => a + (b - m) ** 2, 0) / (v.length - correction);
        expect(x.var(undefined, { correction }).item()).toBeCloseTo(want, 9);
        expect(x.std(undefined, { correction }).item()).toBeCloseTo(Math.sqrt(want), 9);
      }),
    );
  });
});
