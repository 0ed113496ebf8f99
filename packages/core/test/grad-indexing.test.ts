/**
 * Properties of the indexing and linear-algebra ops: gradients equal float64 finite
 * differences on random shapes, layouts and arguments; `index` agrees with a direct
 * element-by-element reading of NumPy/PyTorch's rules; `einsum` agrees with a brute-force
 * sum over all label values on random equations.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { PROPERTY_RUNS, checkGrad, laidOut, layoutArb, leaf, shapeArb } from './helpers/gradcheck.js';

/** A bool tensor of `shape` from `seed` (about half true). */
function boolMask(shape: readonly number[], seed: number): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const u = new T.Generator(seed).uniform(n);
  return T.fromTypedArray(Uint8Array.from(u, (v) => (v < 0.5 ? 1 : 0)), shape, 'bool');
}

/** Int32 positions in `[-n, n)` of `shape` from `seed`. */
function positions(shape: readonly number[], n: number, seed: number): Tensor {
  const m = shape.reduce((a, b) => a * b, 1);
  const u = new T.Generator(seed).uniform(m);
  return T.fromTypedArray(Int32Array.from(u, (v) => Math.floor(v * 2 * n) - n), shape, 'int32');
}

const viewCase = fc.record({ shape: shapeArb(1, 3), layout: layoutArb, seed: fc.integer(), k: fc.nat(), j: fc.integer({ min: -3, max: 3 }) });
const matCase = fc.record({ shape: shapeArb(2, 4, 3), layout: layoutArb, seed: fc.integer(), k: fc.nat(), j: fc.integer({ min: -3, max: 3 }) });

/** One-input ops and how each uses the drawn `k` (a natural number) and `j` (a small integer). */
const oneInput: [string, fc.Arbitrary<{ shape: number[]; layout: 'contiguous' | 'transposed' | 'flipped' | 'strided'; seed: number; k: number; j: number }>, (x: Tensor, k: number, j: number, seed: number) => Tensor][] = [
  ['select', viewCase, (x, k, j) => T.select(x, k % x.ndim, j % x.shape[k % x.ndim]!)],
  ['narrow (negative start)', viewCase, (x, k) => T.narrow(x, -1, -1 - (k % x.shape[x.ndim - 1]!), 1)],
  ['unbind (weighted)', viewCase, (x, k) => T.stack(T.unbind(x, k % x.ndim).map((p, i) => T.mul(p, i + 1)))],
  ['chunk (weighted)', viewCase, (x, k) => T.cat(T.chunk(x, 1 + (k % 3), k % x.ndim).map((p, i) => T.mul(p, i + 1)), k % x.ndim)],
  ['maskedFill (number)', viewCase, (x, k, _j, seed) => T.maskedFill(x, boolMask(x.shape.slice(k % x.ndim), seed), -2.5)],
  ['maskedSelect (broadcast mask)', viewCase, (x, k, _j, seed) => T.maskedSelect(x, boolMask(k % 2 ? [2, ...x.shape] : x.shape.slice((k >> 1) % x.ndim), seed))],
  ['roll (dims)', viewCase, (x, k, j) => T.roll(x, [j, k], [k % x.ndim, -1])],
  ['roll (flattened)', viewCase, (x, _k, j) => T.roll(x, j)],
  ['repeat', viewCase, (x, k) => x.repeat([1 + (k % 2), ...x.shape.map((_, i) => 1 + ((k >> i) % 2))])],
  ['tile (fewer dims)', viewCase, (x, k) => T.tile(x, [1 + (k % 3)])],
  ['unflatten', viewCase, (x, k) => T.unflatten(x, k % x.ndim, [1, -1, 1])],
  ['movedim', viewCase, (x, k) => T.movedim(x, [0], [k % x.ndim])],
  ['diag (1-D to 2-D)', viewCase, (x, _k, j) => T.diag(x.reshape(-1), j)],
  ['diagEmbed', viewCase, (x, k, j) => T.diagEmbed(x, j, k % (x.ndim + 1), (k + 1) % (x.ndim + 1))],
  ['tril', matCase, (x, _k, j) => T.tril(x, j)],
  ['triu', matCase, (x, _k, j) => T.triu(x, j)],
  ['diagonal', matCase, (x, k, j) => T.diagonal(x, j, k % x.ndim, (k + 1) % x.ndim)],
  ['diag (2-D to 1-D)', matCase, (x, _k, j) => T.diag(x.reshape(x.shape[0]!, -1), j)],
  ['trace', matCase, (x) => T.trace(x.reshape(x.shape[0]!, -1))],
];

describe('indexing ops: gradient matches finite differences', () => {
  for (const [name, arb, f] of oneInput) {
    it(name, () => {
      fc.assert(
        fc.property(arb, ({ shape, layout, seed, k, j }) => {
          const { base, view } = laidOut(shape, layout, seed);
          checkGrad((x) => f(view(x), k, j, seed), [base], seed);
        }),
        PROPERTY_RUNS,
      );
    });
  }

  it('maskedFill with a 0-d tensor value: gradients for both', () => {
    fc.assert(
      fc.property(viewCase, ({ shape, layout, seed, k }) => {
        const { base, view } = laidOut(shape, layout, seed);
        const mask = boolMask(shape.slice(k % shape.length), seed + 1);
        checkGrad((x, v) => T.maskedFill(view(x), mask, v), [base, leaf([], seed + 2)], seed);
      }),
      PROPERTY_RUNS,
    );
  });
});

// ---- index: random specs against a direct reading of the rules ----

type Entry = { kind: 'int'; i: number } | { kind: 'slice'; start: number | null; stop: number | null; step: number | null } | { kind: 'new' } | { kind: 'ints'; shape: number[]; seed: number } | { kind: 'mask'; seed: number };

/** A random spec for a tensor of `shape`: one entry per dim, new axes between, maybe an ellipsis for the tail. */
const specCase = shapeArb(1, 3).chain((shape) =>
  fc.record({
    shape: fc.constant(shape),
    layout: layoutArb,
    seed: fc.integer(),
    entries: fc.tuple(
      ...shape.map((n) =>
        fc.oneof(
          fc.integer({ min: -n, max: n - 1 }).map((i): Entry => ({ kind: 'int', i })),
          fc
            .record({
              start: fc.option(fc.integer({ min: -n - 1, max: n + 1 })),
              stop: fc.option(fc.integer({ min: -n - 1, max: n + 1 })),
              step: fc.option(fc.constantFrom(1, 2, 3, -1, -2)),
            })
            .map((s): Entry => ({ kind: 'slice', ...s })),
          fc.record({ shape: shapeArb(0, 2, 3), seed: fc.integer() }).map((s): Entry => ({ kind: 'ints', ...s })),
          fc.integer().map((seed): Entry => ({ kind: 'mask', seed })),
        ),
      ),
    ),
    newAt: fc.array(fc.nat(3), { maxLength: 2 }),
    ellipsisFrom: fc.nat(3),
  }),
).map((c) => ({ ...c, entries: broadcastable(c.entries) }));

/**
 * Makes the index tensors of a drawn spec broadcast together: one mask at most (its length
 * is data-dependent), then every int index is 0-d; otherwise each takes the first one's
 * shape or is 0-d.
 */
function broadcastable(entries: readonly Entry[]): Entry[] {
  let masks = 0;
  const out = entries.map((e): Entry => (e.kind === 'mask' && masks++ > 0 ? { kind: 'slice', start: null, stop: null, step: null } : e));
  const common = masks ? [] : (out.find((e) => e.kind === 'ints') as { shape: number[] } | undefined)?.shape;
  return out.map((e) => (e.kind === 'ints' ? { ...e, shape: e.seed % 2 ? [...(common ?? [])] : [] } : e));
}

/** The spec in tsgrad's form, and the same entries for the reference. */
function buildSpec(shape: readonly number[], entries: readonly Entry[], newAt: readonly number[], ellipsisFrom: number): { spec: T.IndexItem[]; ref: Entry[] } {
  const ref: Entry[] = [];
  entries.forEach((e, d) => {
    for (const at of newAt) if (at === d) ref.push({ kind: 'new' });
    ref.push(e);
  });
  const spec: T.IndexItem[] = ref.map((e, i) => {
    const d = ref.slice(0, i).filter((r) => r.kind !== 'new').length;
    const n = shape[d]!;
    switch (e.kind) {
      case 'int':
        return e.i;
      case 'new':
        return null;
      case 'slice':
        return i % 2 ? T.sl(e.start, e.stop, e.step) : `${e.start ?? ''}:${e.stop ?? ''}:${e.step ?? ''}`;
      case 'ints':
        return positions(e.shape, n, e.seed);
      case 'mask':
        return boolMask([n], e.seed);
    }
  });
  // Trailing full slices may be written as one ellipsis.
  const full = (e: Entry) => e.kind === 'slice' && e.start === null && e.stop === null && (e.step === null || e.step === 1);
  if (ellipsisFrom < ref.length && ref.slice(ellipsisFrom).every(full)) return { spec: [...spec.slice(0, ellipsisFrom), '...'], ref };
  return { spec, ref };
}

/** NumPy slice positions (Python's slice.indices). */
function slicePositions(n: number, start: number | null, stop: number | null, step: number | null): number[] {
  const s = step ?? 1;
  const norm = (v: number | null, dflt: number) => (v === null ? dflt : v < 0 ? Math.max(v + n, s < 0 ? -1 : 0) : Math.min(v, s < 0 ? n - 1 : n));
  const out: number[] = [];
  for (let i = norm(start, s < 0 ? n - 1 : 0); s > 0 ? i < norm(stop, n) : i > norm(stop, -1); i += s) out.push(i);
  return out;
}

/**
 * The reference: PyTorch's rules read directly. Ints are applied first (basic); each slice
 * is its list of positions; index tensors (masks as their true positions) broadcast; their
 * dims go where the first one was if they are adjacent, else in front.
 */
function referenceIndex(x: number[], shape: readonly number[], ref: readonly Entry[]): { data: number[]; shape: number[] } {
  type Dim = { kind: 'basic'; pos: number[] } | { kind: 'new' } | { kind: 'adv'; pos: number[]; shape: number[] };
  const dims: Dim[] = [];
  const src: number[] = []; // which source dim each non-new Dim indexes, and the fixed ints
  const fixed = new Map<number, number>();
  let d = 0;
  for (const e of ref) {
    if (e.kind === 'new') {
      dims.push({ kind: 'new' });
      continue;
    }
    const n = shape[d]!;
    if (e.kind === 'int') fixed.set(d, e.i < 0 ? e.i + n : e.i);
    else if (e.kind === 'slice') {
      dims.push({ kind: 'basic', pos: slicePositions(n, e.start, e.stop, e.step) });
      src.push(d);
    } else if (e.kind === 'ints') {
      const t = positions(e.shape, n, e.seed);
      dims.push({ kind: 'adv', pos: Array.from(t.dataSync(), (v) => (v < 0 ? v + n : v)), shape: [...e.shape] });
      src.push(d);
    } else {
      const bits = boolMask([n], e.seed).dataSync();
      const pos = [...bits].flatMap((b, i) => (b ? [i] : []));
      dims.push({ kind: 'adv', pos, shape: [pos.length] });
      src.push(d);
    }
    d++;
  }
  const advIdx = dims.flatMap((x, i) => (x.kind === 'adv' ? [i] : []));
  const advDims = advIdx.map((i) => dims[i] as Extract<Dim, { kind: 'adv' }>);
  // Broadcast the index shapes.
  let B: number[] = [];
  for (const a of advDims) {
    const nd = Math.max(B.length, a.shape.length);
    const pa = [...new Array<number>(nd - a.shape.length).fill(1), ...a.shape];
    const pb = [...new Array<number>(nd - B.length).fill(1), ...B];
    B = pa.map((v, i) => (v === 1 ? pb[i]! : v));
  }
  // Positions of dims (advanced ones counting once) after basic removal: adjacency among the kept dims.
  const adjacent = advIdx.every((v, i) => i === 0 || v === advIdx[i - 1]! + 1);
  const outDims: ({ kind: 'dim'; i: number } | { kind: 'B' })[] = [];
  dims.forEach((x, i) => {
    if (x.kind !== 'adv') outDims.push({ kind: 'dim', i });
    else if (i === advIdx[0] && adjacent) outDims.push({ kind: 'B' });
  });
  if (advIdx.length && !adjacent) outDims.unshift({ kind: 'B' });
  const outShape = outDims.flatMap((o) => (o.kind === 'B' ? B : [dims[o.i]!.kind === 'new' ? 1 : (dims[o.i] as { pos: number[] }).pos.length]));
  const total = outShape.reduce((a, b) => a * b, 1);
  const strides = shape.map((_, i) => shape.slice(i + 1).reduce((a, b) => a * b, 1));
  const data: number[] = [];
  for (let f = 0; f < total; f++) {
    // Unravel f over outShape.
    const idx: number[] = [];
    let rest = f;
    for (let i = outShape.length - 1; i >= 0; i--) {
      idx.unshift(rest % outShape[i]!);
      rest = Math.floor(rest / outShape[i]!);
    }
    let at = 0;
    const bIdx: number[] = [];
    const dimIdx = new Map<number, number>();
    for (const o of outDims) {
      if (o.kind === 'B') bIdx.push(...idx.splice(0, B.length));
      else dimIdx.set(o.i, idx.shift()!);
    }
    let s = 0;
    dims.forEach((x, i) => {
      if (x.kind === 'new') return;
      const sd = src[s++]!;
      let p: number;
      if (x.kind === 'basic') p = x.pos[dimIdx.get(i)!]!;
      else {
        const pad = [...new Array<number>(B.length - x.shape.length).fill(1), ...x.shape];
        let lin = 0;
        pad.forEach((n, j) => (lin = lin * n + (n === 1 ? 0 : bIdx[j]!)));
        p = x.pos[lin]!;
      }
      at += p * strides[sd]!;
    });
    for (const [fd, v] of fixed) at += v * strides[fd]!;
    data.push(x[at]!);
  }
  return { data, shape: outShape };
}

describe('index: random specs', () => {
  it('agree with a direct reading of the indexing rules', () => {
    fc.assert(
      fc.property(specCase, ({ shape, layout, seed, entries, newAt, ellipsisFrom }) => {
        T.tidy(() => {
          const { base, view } = laidOut(shape, layout, seed);
          const x = view(base);
          const { spec, ref } = buildSpec(shape, entries, newAt, ellipsisFrom);
          const want = referenceIndex([...x.contiguous().dataSync()], shape, ref);
          const got = T.index(x, spec);
          expect(got.shape).toEqual(want.shape);
          expect([...got.dataSync()]).toEqual(want.data);
        });
      }),
      { numRuns: 300 },
    );
  });
  it('gradient matches finite differences', () => {
    fc.assert(
      fc.property(specCase, ({ shape, layout, seed, entries, newAt, ellipsisFrom }) => {
        const { base, view } = laidOut(shape, layout, seed);
        const { spec } = buildSpec(shape, entries, newAt, ellipsisFrom);
        checkGrad((x) => T.index(view(x), spec), [base], seed);
      }),
      PROPERTY_RUNS,
    );
  });
});

// ---- einsum: random equations against brute force ----

const LETTERS = 'abcdeB';
const einsumCase = fc
  .record({
    sizes: fc.array(fc.integer({ min: 1, max: 3 }), { minLength: LETTERS.length, maxLength: LETTERS.length }),
    operands: fc.array(fc.array(fc.nat(LETTERS.length - 1), { minLength: 0, maxLength: 3 }), { minLength: 1, maxLength: 3 }),
    outPick: fc.array(fc.boolean(), { minLength: LETTERS.length, maxLength: LETTERS.length }),
    implicit: fc.boolean(),
    seed: fc.integer(),
  })
  .map(({ sizes, operands, outPick, implicit, seed }) => {
    const terms = operands.map((o) => o.map((i) => LETTERS[i]!).join(''));
    const used = [...new Set(terms.join(''))];
    const out = used.filter((c) => outPick[LETTERS.indexOf(c)]);
    const equation = implicit ? terms.join(',') : `${terms.join(',')}->${out.join('')}`;
    const size = (c: string) => sizes[LETTERS.indexOf(c)]!;
    return { equation, terms, shapes: terms.map((t) => [...t].map(size)), size, seed };
  });

/** `einsum` by its definition: the sum over every assignment of label values of the product of the operands' entries. */
function bruteEinsum(equation: string, xs: readonly number[][], shapes: readonly number[][], size: (c: string) => number): { data: number[]; shape: number[] } {
  const [lhs, rhs] = equation.split('->');
  const terms = lhs!.split(',');
  const all = [...new Set(terms.join(''))].sort();
  const counts = new Map<string, number>();
  for (const c of terms.join('')) counts.set(c, (counts.get(c) ?? 0) + 1);
  const out = rhs !== undefined ? [...rhs] : all.filter((c) => counts.get(c) === 1);
  const outShape = out.map(size);
  const data = new Array<number>(outShape.reduce((a, b) => a * b, 1)).fill(0);
  const total = all.reduce((a, c) => a * size(c), 1);
  for (let f = 0; f < total; f++) {
    const val = new Map<string, number>();
    let rest = f;
    for (let i = all.length - 1; i >= 0; i--) {
      val.set(all[i]!, rest % size(all[i]!));
      rest = Math.floor(rest / size(all[i]!));
    }
    let p = 1;
    terms.forEach((t, k) => {
      let at = 0;
      [...t].forEach((c, j) => (at = at * shapes[k]![j]! + val.get(c)!));
      p *= xs[k]![at]!;
    });
    let o = 0;
    out.forEach((c) => (o = o * size(c) + val.get(c)!));
    data[o]! += p;
  }
  return { data, shape: outShape };
}

describe('einsum: random equations', () => {
  it('agree with the brute-force sum (implicit and explicit outputs, repeated labels, 1 to 3 operands)', () => {
    fc.assert(
      fc.property(einsumCase, ({ equation, shapes, size, seed }) => {
        T.tidy(() => {
          const xs = shapes.map((s, k) => leaf(s, seed + k));
          const got = T.einsum(equation, ...xs);
          const want = bruteEinsum(equation, xs.map((x) => [...x.dataSync()]), shapes, size);
          expect(got.shape).toEqual(want.shape);
          const g = got.dataSync();
          want.data.forEach((w, i) => expect(Math.abs(g[i]! - w)).toBeLessThan(1e-9 * Math.max(1, Math.abs(w))));
        });
      }),
      { numRuns: 300 },
    );
  });
  it('gradient matches finite differences', () => {
    fc.assert(
      fc.property(einsumCase, ({ equation, shapes, seed }) => {
        checkGrad((...xs) => T.einsum(equation, ...xs), shapes.map((s, k) => leaf(s, seed + k)), seed);
      }),
      PROPERTY_RUNS,
    );
  });
  it('with ellipses that broadcast: gradient matches finite differences', () => {
    fc.assert(
      fc.property(shapeArb(0, 2, 3), fc.boolean(), layoutArb, fc.integer(), (batch, ones, layout, seed) => {
        const a = laidOut([...batch, 2, 3], layout, seed);
        const b = leaf([...batch.map((d) => (ones ? 1 : d)), 3, 2], seed + 1);
        checkGrad((x, y) => T.einsum('...ij,...jk', a.view(x), y), [a.base, b], seed);
        checkGrad((x) => T.einsum('i...j->j...', a.view(x)), [a.base], seed);
      }),
      PROPERTY_RUNS,
    );
  });
  it('second derivative through einsum and index matches finite differences of the first', () => {
    const w = leaf([3, 3], 5);
    const g = (x: Tensor) => T.grad((y: Tensor) => T.sum(T.square(T.einsum('ij,jk->ik', y, T.index(y, [sl(null, null, -1), [2, 0, 1]])))))(x)[0]!;
    const sl = T.sl;
    checkGrad(g, [w]);
  });
});

// ---- linear algebra ----

describe('linear algebra: gradient matches finite differences', () => {
  const dims = fc.record({ b: fc.integer({ min: 1, max: 3 }), n: fc.integer({ min: 1, max: 4 }), m: fc.integer({ min: 1, max: 4 }), p: fc.integer({ min: 1, max: 4 }), layout: layoutArb, seed: fc.integer(), alpha: fc.constantFrom(1, -0.5, 2), beta: fc.constantFrom(1, 0, 0.5), row: fc.boolean() });
  it('dot, outer, mv, mm', () => {
    fc.assert(
      fc.property(dims, ({ n, m, p, layout, seed }) => {
        const a = laidOut([n, m], layout, seed);
        checkGrad((x, y) => T.dot(T.select(a.view(x), 0, 0), y), [a.base, leaf([m], seed + 1)], seed);
        checkGrad((x, y) => T.outer(T.select(a.view(x), 0, -1), y), [a.base, leaf([p], seed + 1)], seed);
        checkGrad((x, y) => T.mv(a.view(x), y), [a.base, leaf([m], seed + 1)], seed);
        checkGrad((x, y) => T.mm(a.view(x), y), [a.base, leaf([m, p], seed + 1)], seed);
      }),
      PROPERTY_RUNS,
    );
  });
  it('bmm, addmm, baddbmm (beta, alpha, broadcast input)', () => {
    fc.assert(
      fc.property(dims, ({ b, n, m, p, layout, seed, alpha, beta, row }) => {
        const a = laidOut([b, n, m], layout, seed);
        checkGrad((x, y) => T.bmm(a.view(x), y), [a.base, leaf([b, m, p], seed + 1)], seed);
        const inp = leaf(row ? [p] : [n, p], seed + 2);
        checkGrad((i, x, y) => T.addmm(i, T.select(a.view(x), 0, 0), y, { alpha, beta }), [inp, a.base, leaf([m, p], seed + 1)], seed);
        const inb = leaf(row ? [1, p] : [b, n, p], seed + 3);
        checkGrad((i, x, y) => T.baddbmm(i, a.view(x), y, { alpha, beta }), [inb, a.base, leaf([b, m, p], seed + 1)], seed);
      }),
      PROPERTY_RUNS,
    );
  });
  it('kron', () => {
    fc.assert(
      fc.property(shapeArb(1, 3, 3), shapeArb(1, 2, 3), layoutArb, fc.integer(), (sa, sb, layout, seed) => {
        const a = laidOut(sa, layout, seed);
        checkGrad((x, y) => T.kron(a.view(x), y), [a.base, leaf(sb, seed + 1)], seed);
      }),
      PROPERTY_RUNS,
    );
  });
});
