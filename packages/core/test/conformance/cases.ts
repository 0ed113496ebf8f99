/**
 * The catalogue of op cases every backend must compute like the `js` reference: each case
 * draws its inputs (shapes, non-contiguous layouts, values) with fast-check and names the
 * function to run. Between them the cases call every primitive of the Backend interface.
 */
import fc from 'fast-check';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';

/** How an input is laid out in memory before the op sees it. */
export type Layout = 'contiguous' | 'transposed' | 'flipped' | 'strided' | 'broadcast';

/** One input: its logical shape, dtype, layout and the value distribution. */
export interface InputSpec {
  readonly shape: readonly number[];
  readonly dtype?: 'float32' | 'int32' | 'bool';
  readonly layout?: Layout;
  /** normal (default), positive (|x|+0.5), or integers in [0, high). */
  readonly values?: 'normal' | 'positive' | { readonly intBelow: number };
  /** Whether the gradient for this input is compared (float inputs only; default true). */
  readonly grad?: boolean;
}

/** A drawn case: its inputs and the op to apply to them. */
export interface Drawn {
  readonly inputs: readonly InputSpec[];
  readonly f: (...xs: Tensor[]) => Tensor;
}

/** A family of cases. */
export interface OpCase {
  readonly name: string;
  readonly draw: fc.Arbitrary<Drawn>;
  /** Compare gradients too (default: when some input is float). */
  readonly differentiable?: boolean;
}

/** A dim length in `1..max`. */
export const dim = (max = 4) => fc.integer({ min: 1, max });
/** A shape of `min..max` dims of `1..len`. */
export const shape = (min = 1, max = 3, len = 4) => fc.array(dim(len), { minLength: min, maxLength: max });
/** Any layout. */
export const layout: fc.Arbitrary<Layout> = fc.constantFrom('contiguous', 'transposed', 'flipped', 'strided', 'broadcast');

/** A case of one unary op on any shape and layout. */
export function unary(name: string, f: (x: Tensor) => Tensor, values: InputSpec['values'] = 'normal'): OpCase {
  return { name, draw: fc.record({ s: shape(0, 3), l: layout }).map(({ s, l }) => ({ inputs: [{ shape: s, layout: l, values }], f })) };
}

/** Two shapes that broadcast: `b` is a suffix of `a` with some dims set to 1 (sides may swap). */
export const broadcastPair = fc
  .record({ a: shape(0, 3), drop: fc.nat(3), ones: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), swap: fc.boolean(), la: layout, lb: layout })
  .map(({ a, drop, ones, swap, la, lb }) => {
    const b = a.slice(Math.min(drop, a.length)).map((d, i) => (ones[i] ? 1 : d));
    return swap ? { a: b, b: a, la, lb } : { a, b, la, lb };
  });

/** A case of one broadcasting binary op. */
export function binary(name: string, f: (a: Tensor, b: Tensor) => Tensor, vb: InputSpec['values'] = 'normal', va: InputSpec['values'] = 'normal'): OpCase {
  return {
    name,
    draw: broadcastPair.map(({ a, b, la, lb }) => ({ inputs: [{ shape: a, layout: la, values: va }, { shape: b, layout: lb, values: vb }], f })),
  };
}

/** A shape, a layout, a non-empty set of its axes and a keepdim flag. */
export const axesDraw = shape(1, 3).chain((s) =>
  fc.record({
    s: fc.constant(s),
    l: layout,
    axes: fc.subarray(s.map((_, i) => i), { minLength: 1 }),
    keepdim: fc.boolean(),
  }),
);

/** A case of one reduction over random axes. */
export function reduction(name: string, f: (x: Tensor, axes: number[], keepdim: boolean) => Tensor, values: InputSpec['values'] = 'normal'): OpCase {
  return { name, draw: axesDraw.map(({ s, l, axes, keepdim }) => ({ inputs: [{ shape: s, layout: l, values }], f: (x) => f(x, axes, keepdim) })) };
}

/**
 * Adds a ramp of step 10 along `dim` (ten standard deviations of the inputs) so that no
 * line is nearly constant: a normalization's gradient scales with 1/std, and two float32
 * algorithms may only be compared where that factor is tame.
 */
export function spreadAlong(x: Tensor, dim: number): Tensor {
  const d = dim < 0 ? dim + x.ndim : dim;
  const len = x.shape[d]!;
  const ramp = T.arange(0, 10 * len, 10, { dtype: x.dtype, backend: x.backend });
  return T.add(x, ramp.reshape(x.shape.map((n, i) => (i === d ? n : 1))));
}

/** The cases of the original op set. */
export const CORE_CASES: readonly OpCase[] = [
  unary('neg', T.neg),
  unary('abs', T.abs),
  unary('sign', T.sign),
  unary('exp', T.exp),
  unary('log', T.log, 'positive'),
  unary('sqrt', T.sqrt, 'positive'),
  unary('rsqrt', T.rsqrt, 'positive'),
  unary('reciprocal', T.reciprocal, 'positive'),
  unary('sin', T.sin),
  unary('cos', T.cos),
  unary('tanh', T.tanh),
  unary('erf', T.erf),
  unary('sigmoid', T.sigmoid),
  unary('relu', T.relu),
  unary('gelu (erf)', (x) => T.gelu(x)),
  unary('gelu (tanh)', (x) => T.gelu(x, 'tanh')),
  unary('square', T.square),
  unary('clamp', (x) => T.clamp(x, -0.5, 0.8)),
  unary('contiguous copy', (x) => T.mul(x.contiguous(), x.clone())),
  binary('add', T.add),
  binary('sub', T.sub),
  binary('mul', T.mul),
  binary('div', T.div, 'positive'),
  binary('pow', T.pow, 'normal', 'positive'),
  binary('maximum', T.maximum),
  binary('minimum', T.minimum),
  binary('comparisons and where', (a, b) => T.add(T.add(T.where(T.lt(a, b), a, b), T.where(T.le(a, b), b, 0)), T.add(T.where(T.eq(a, b), 1, a), T.where(T.ne(a, b), b, 2)))),
  reduction('sum', (x, a, k) => T.sum(x, a, k)),
  reduction('mean', (x, a, k) => T.mean(x, a, k)),
  reduction('max', (x, a, k) => T.max(x, a, k)),
  reduction('min', (x, a, k) => T.min(x, a, k)),
  reduction('prod', (x, a, k) => T.prod(x, a, k), 'positive'),
  reduction('var', (x, a, k) => T.variance(x, a, { correction: 0, keepdim: k })),
  reduction('logsumexp', (x, a, k) => T.logsumexp(x, a, k)),
  {
    name: 'argmax / argmin',
    differentiable: false,
    draw: axesDraw.map(({ s, l, axes }) => ({ inputs: [{ shape: s, layout: l }], f: (x) => T.add(T.argmax(x, axes[0]), T.argmin(x, axes[0])) })),
  },
  {
    name: 'cast float32 -> int32 -> bool and back',
    differentiable: false,
    draw: fc.record({ s: shape(0, 3), l: layout }).map(({ s, l }) => ({
      inputs: [{ shape: s, layout: l }],
      f: (x) => T.add(T.mul(x, 3).cast('int32').cast('float32'), T.gt(x, 0).cast('int32').cast('bool').cast('float32')),
    })),
  },
  {
    name: 'int32 and bool arithmetic and sums',
    differentiable: false,
    draw: fc.record({ s: shape(1, 3), l: layout }).map(({ s, l }) => ({
      inputs: [{ shape: s, layout: l, dtype: 'int32', values: { intBelow: 9 } }, { shape: s, dtype: 'int32', values: { intBelow: 9 } }],
      f: (a, b) => T.add(T.div(T.mul(a, 7), T.add(b, 1)), T.sum(T.gt(a, b), -1, true).cast('int32')),
    })),
  },
  {
    name: 'views: permute, slice with step, flip, expand, reshape',
    draw: fc.record({ s: shape(2, 3), l: layout, k: fc.nat() }).map(({ s, l, k }) => ({
      inputs: [{ shape: s, layout: l }],
      f: (x) => {
        const p = x.permute(x.shape.map((_, i) => (i + 1 + k) % x.ndim));
        const v = p.slice(0, k % 2, undefined, 1 + (k % 2)).flip(-1);
        return T.mul(v.unsqueeze(0).expand([2, ...v.shape]), 1.5).reshape(-1);
      },
    })),
  },
  {
    name: 'pad (zeros and value), cat, stack, split',
    draw: fc.record({ s: shape(2, 3), l: layout, k: fc.nat() }).map(({ s, l, k }) => ({
      inputs: [{ shape: s, layout: l }, { shape: s, layout: 'contiguous' }],
      f: (a, b) => {
        const d = k % a.ndim;
        const joined = T.cat([a, T.mul(b, 2), ...T.split(a, 1, d)], d);
        return T.add(T.stack([joined, joined], 0).sum(0).pad([1, k % 3]), T.pad(joined, [1, k % 3], -2));
      },
    })),
  },
  {
    name: 'gather, indexSelect, scatterAdd, oneHot',
    draw: fc.record({ s: shape(1, 3), l: layout, k: fc.nat(), m: dim(3) }).map(({ s, l, k, m }) => {
      const d = k % s.length;
      const idx = [...s];
      idx[d] = m;
      return {
        inputs: [{ shape: s, layout: l }, { shape: idx, dtype: 'int32' as const, values: { intBelow: s[d]! } }, { shape: [m], dtype: 'int32' as const, values: { intBelow: s[d]! } }],
        f: (x, index, sel) => {
          const g = T.gather(x, d, index);
          const back = T.scatterAdd(T.mul(x, 0.5), d, index, g);
          const hot = T.oneHot(sel, s[d]!, 'float32').sum(0);
          return T.add(T.add(back, T.indexSelect(x, d, sel).sum(d, true)), T.mul(x, hot.reshape(s.map((n, i) => (i === d ? n : 1)))));
        },
      };
    }),
  },
  {
    name: 'matmul (1-D, 2-D, batched with broadcasting)',
    draw: fc
      .record({ m: dim(5), k: dim(5), n: dim(5), batch: shape(0, 2, 3), ones: fc.boolean(), vec: fc.nat(2), la: layout, lb: layout })
      .map(({ m, k, n, batch, ones, vec, la, lb }) => ({
        inputs: [
          { shape: vec === 1 ? [k] : [...batch, m, k], layout: la },
          { shape: vec === 2 ? [k] : [...(ones ? batch.map(() => 1) : batch), k, n], layout: lb },
        ],
        f: T.matmul,
      })),
  },
  {
    name: 'conv2d (stride, padding, dilation, groups, depthwise, bias)',
    draw: fc
      .record({
        n: dim(2),
        g: dim(3),
        cg: dim(2),
        og: dim(2),
        kh: dim(3),
        kw: dim(3),
        s: fc.tuple(dim(2), dim(2)),
        p: fc.tuple(fc.nat(2), fc.nat(2)),
        dl: fc.tuple(dim(2), dim(2)),
        extra: fc.tuple(fc.nat(3), fc.nat(3)),
        l: layout,
      })
      .map(({ n, g, cg, og, kh, kw, s, p, dl, extra, l }) => {
        const h = Math.max(1, dl[0] * (kh - 1) + 1 - 2 * p[0]) + extra[0];
        const w = Math.max(1, dl[1] * (kw - 1) + 1 - 2 * p[1]) + extra[1];
        return {
          inputs: [{ shape: [n, g * cg, h, w], layout: l }, { shape: [g * og, cg, kh, kw] }, { shape: [g * og] }],
          f: (x, wt, b) => T.conv2d(x, wt, b, { stride: s, padding: p, dilation: dl, groups: g }),
        };
      }),
  },
  {
    name: 'pooling (avg, max, adaptive)',
    draw: fc.record({ h: dim(6), w: dim(6), k: fc.tuple(dim(2), dim(2)), l: layout }).map(({ h, w, k, l }) => ({
      inputs: [{ shape: [2, 2, h + 2, w + 2], layout: l }],
      f: (x) => T.add(T.add(T.avgPool2d(x, k, { padding: [k[0] >> 1, k[1] >> 1], countIncludePad: false }).sum(), T.maxPool2d(x, k).sum()), T.adaptiveAvgPool2d(x, [2, 3]).sum()),
    })),
  },
  {
    name: 'softmax, logSoftmax, layerNorm',
    draw: fc.record({ s: shape(1, 3), l: layout, k: fc.nat() }).map(({ s, l, k }) => ({
      inputs: [{ shape: s, layout: l }, { shape: [s[s.length - 1]!] }, { shape: [s[s.length - 1]!] }],
      f: (x, w, b) => T.add(T.add(T.softmax(x, k % s.length), T.logSoftmax(x, -1)), T.layerNorm(spreadAlong(x, -1), [s[s.length - 1]!], w, b, 1e-5)),
    })),
  },
  {
    name: 'standardize along any dim (channels-first layer norm)',
    draw: fc.record({ s: shape(1, 4), l: layout, k: fc.nat() }).map(({ s, l, k }) => ({
      inputs: [{ shape: s, layout: l }],
      f: (x) => T.standardize(spreadAlong(x, k % s.length), k % s.length, 1e-6),
    })),
  },
  {
    name: 'crossEntropy (indices with smoothing, and probabilities)',
    draw: fc.record({ n: dim(4), c: fc.integer({ min: 2, max: 6 }), l: layout }).map(({ n, c, l }) => ({
      inputs: [{ shape: [n, c], layout: l }, { shape: [n], dtype: 'int32' as const, values: { intBelow: c } }, { shape: [n, c], grad: false }],
      f: (x, y, p) => T.add(T.crossEntropy(x, y, { labelSmoothing: 0.1 }), T.crossEntropy(x, T.softmax(p, 1), { reduction: 'sum' })),
    })),
  },
  {
    name: 'dropout with a fixed generator',
    draw: fc.record({ s: shape(1, 3), seed: fc.integer() }).map(({ s, seed }) => ({
      inputs: [{ shape: s }],
      f: (x) => T.dropout(x, 0.3, { generator: new T.Generator(seed) }),
    })),
  },
];
