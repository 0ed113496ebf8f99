/** Property: autodiff gradients of elementwise ops equal finite differences (float64, js backend). */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { PROPERTY_RUNS, awayFromZero, broadcastPartner, checkGrad, laidOut, layoutArb, positive, shapeArb } from './helpers/gradcheck.js';

type Unary = (x: Tensor) => Tensor;
const unaries: [string, Unary, ((v: number) => number)?][] = [
  ['neg', T.neg],
  ['abs', T.abs, awayFromZero],
  ['sign', T.sign, awayFromZero],
  ['exp', T.exp],
  ['log', T.log, positive],
  ['sqrt', T.sqrt, positive],
  ['rsqrt', T.rsqrt, positive],
  ['reciprocal', T.reciprocal, positive],
  ['sin', T.sin],
  ['cos', T.cos],
  ['tanh', T.tanh],
  ['erf', T.erf],
  ['sigmoid', T.sigmoid],
  ['relu', T.relu, awayFromZero],
  ['gelu (erf)', (x) => T.gelu(x)],
  ['gelu (tanh)', (x) => T.gelu(x, 'tanh')],
  ['square', T.square],
  ['clamp', (x) => T.clamp(x, -0.5, 0.7), (v) => (Math.abs(v + 0.5) < 0.02 || Math.abs(v - 0.7) < 0.02 ? v + 0.1 : v)],
  ['clamp (min only)', (x) => T.clamp(x, -0.5), (v) => (Math.abs(v + 0.5) < 0.02 ? v + 0.1 : v)],
];

describe('unary ops: gradient matches finite differences over random shapes and views', () => {
  for (const [name, f, map] of unaries) {
    it(name, () => {
      fc.assert(
        fc.property(shapeArb(0, 3), layoutArb, fc.integer(), (shape, layout, seed) => {
          const { base, view } = laidOut(shape, layout, seed, map);
          checkGrad((x) => f(view(x)), [base], seed);
        }),
        PROPERTY_RUNS,
      );
    });
  }
});

type Binary = (a: Tensor, b: Tensor) => Tensor;
const binaries: [string, Binary, ((v: number) => number)?, ((v: number) => number)?][] = [
  ['add', T.add],
  ['sub', T.sub],
  ['mul', T.mul],
  ['div', T.div, undefined, positive],
  ['pow', T.pow, positive],
  ['maximum', T.maximum],
  ['minimum', T.minimum],
];

const broadcastCase = fc.record({
  shape: shapeArb(0, 3),
  drop: fc.integer({ min: 0, max: 3 }),
  ones: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  swap: fc.boolean(),
  layout: layoutArb,
  seed: fc.integer(),
});

describe('binary ops with broadcasting: gradient matches finite differences', () => {
  for (const [name, f, mapA, mapB] of binaries) {
    it(name, () => {
      fc.assert(
        fc.property(broadcastCase, ({ shape, drop, ones, swap, layout, seed }) => {
          const other = broadcastPartner(shape, drop, ones);
          const [sa, sb] = swap ? [other, shape] : [shape, other];
          const a = laidOut(sa, layout, seed, mapA);
          const b = laidOut(sb, 'contiguous', seed + 1, mapB);
          checkGrad((x, y) => f(a.view(x), b.view(y)), [a.base, b.base], seed);
        }),
        PROPERTY_RUNS,
      );
    });
  }

  it('with a number operand on either side', () => {
    fc.assert(
      fc.property(shapeArb(1, 3), fc.integer(), (shape, seed) => {
        const { base } = laidOut(shape, 'contiguous', seed, positive);
        checkGrad((x) => T.add(T.mul(2.5, x), T.div(x, 3)).sub(T.pow(x, 1.5)).add(T.pow(2, x)), [base], seed);
      }),
      PROPERTY_RUNS,
    );
  });

  it('where (gradient routed by the condition)', () => {
    fc.assert(
      fc.property(broadcastCase, ({ shape, drop, ones, seed }) => {
        const other = broadcastPartner(shape, drop, ones);
        const a = laidOut(shape, 'contiguous', seed);
        const b = laidOut(other, 'contiguous', seed + 1);
        const cond = T.gt(T.randn(shape, { generator: new T.Generator(seed + 2) }), 0);
        checkGrad((x, y) => T.where(cond, x, y), [a.base, b.base], seed);
      }),
      PROPERTY_RUNS,
    );
  });
});
