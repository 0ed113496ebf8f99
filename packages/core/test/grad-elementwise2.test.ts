/**
 * Property: autodiff gradients of the issue-8 elementwise ops (math, rounding, activations,
 * atan2, clamp with tensor bounds) equal float64 finite differences over random shapes and
 * views, and their second derivatives do too.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { PROPERTY_RUNS, awayFromZero, broadcastPartner, checkGrad, laidOut, layoutArb, leaf, positive, shapeArb } from './helpers/gradcheck.js';

/** Values moved at least 0.05 away from each kink (finite differences straddle none). */
const awayFrom =
  (...kinks: number[]) =>
  (v: number): number =>
    kinks.some((k) => Math.abs(v - k) < 0.05) ? v + 0.1 : v;
/** Into `(-s, s)`: the domain of asin, acos, atanh (s < 1) or away from tan's poles. */
const inside = (s: number) => (v: number): number => s * Math.tanh(v);
/** A quarter away from integers and halves (rounding ops are flat there). */
const offGrid = (v: number): number => Math.round(3 * v) + 0.25;

type Unary = (x: Tensor) => Tensor;
const unaries: [string, Unary, ((v: number) => number)?][] = [
  ['log1p', T.log1p, inside(0.9)],
  ['expm1', T.expm1],
  ['log2', T.log2, positive],
  ['log10', T.log10, positive],
  ['tan', T.tan, inside(1.2)],
  ['asin', T.asin, inside(0.9)],
  ['acos', T.acos, inside(0.9)],
  ['atan', T.atan],
  ['sinh', T.sinh],
  ['cosh', T.cosh],
  ['asinh', T.asinh],
  ['acosh', T.acosh, (v) => Math.abs(v) + 1.1],
  ['atanh', T.atanh, inside(0.9)],
  ['floor', T.floor, offGrid],
  ['ceil', T.ceil, offGrid],
  ['round', (x) => T.round(x), offGrid],
  ['round (decimals 1)', (x) => T.round(x, 1), (v) => Math.round(30 * v) / 10 + 0.025],
  ['trunc', T.trunc, offGrid],
  ['frac', T.frac, offGrid],
  ['softplus', (x) => T.softplus(x)],
  ['softplus (beta 2, threshold 1)', (x) => T.softplus(x, { beta: 2, threshold: 1 }), awayFrom(0.5)],
  ['logsigmoid', T.logsigmoid],
  ['silu', T.silu],
  ['mish', T.mish],
  ['leakyRelu', (x) => T.leakyRelu(x, 0.1), awayFromZero],
  ['elu', (x) => T.elu(x, 0.7), awayFromZero],
  ['selu', T.selu, awayFromZero],
  ['celu', (x) => T.celu(x, 1.5), awayFromZero],
  ['hardtanh', (x) => T.hardtanh(x, -0.8, 0.6), awayFrom(-0.8, 0.6)],
  ['relu6', (x) => T.relu6(T.mul(x, 4)), awayFrom(0, 1.5)],
  ['hardsigmoid', (x) => T.hardsigmoid(T.mul(x, 2)), awayFrom(-1.5, 1.5)],
  ['hardswish', (x) => T.hardswish(T.mul(x, 2)), awayFrom(-1.5, 1.5)],
];

describe('issue-8 unary ops: gradient matches finite differences over random shapes and views', () => {
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

const broadcastCase = fc.record({
  shape: shapeArb(0, 3),
  drop: fc.integer({ min: 0, max: 3 }),
  ones: fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }),
  swap: fc.boolean(),
  layout: layoutArb,
  seed: fc.integer(),
});

describe('atan2 and clamp with tensor bounds: gradients with broadcasting', () => {
  it('atan2 (x > 0, away from the branch cut)', () => {
    fc.assert(
      fc.property(broadcastCase, ({ shape, drop, ones, swap, layout, seed }) => {
        const other = broadcastPartner(shape, drop, ones);
        const [sa, sb] = swap ? [other, shape] : [shape, other];
        const a = laidOut(sa, layout, seed);
        const b = laidOut(sb, 'contiguous', seed + 1, positive);
        checkGrad((y, x) => T.atan2(a.view(y), b.view(x)), [a.base, b.base], seed);
      }),
      PROPERTY_RUNS,
    );
  });

  it('atan2 with a number on either side', () => {
    fc.assert(
      fc.property(shapeArb(0, 3), fc.integer(), (shape, seed) => {
        checkGrad((y) => T.atan2(y, 0.7), [leaf(shape, seed)], seed);
        checkGrad((x) => T.atan2(-1.3, x), [leaf(shape, seed, positive)], seed);
      }),
      PROPERTY_RUNS,
    );
  });

  it('clamp with min and max tensors (either order) broadcasting against x', () => {
    fc.assert(
      fc.property(broadcastCase, fc.boolean(), ({ shape, drop, ones, swap, layout, seed }, onlyMin) => {
        const other = broadcastPartner(shape, drop, ones);
        const [sx, sb] = swap ? [other, shape] : [shape, other];
        const x = laidOut(sx, layout, seed);
        const lo = leaf(sb, seed + 1, (v) => v - 0.3);
        const hi = leaf(sb, seed + 2, (v) => v + 0.3);
        if (onlyMin) checkGrad((a, b) => T.clamp(x.view(a), b), [x.base, lo], seed);
        else checkGrad((a, b, c) => T.clamp(x.view(a), b, c), [x.base, lo, hi], seed);
      }),
      PROPERTY_RUNS,
    );
  });

  it('clamp with a max tensor only, and a number min with a max tensor', () => {
    fc.assert(
      fc.property(shapeArb(1, 3), fc.integer(), (shape, seed) => {
        const hi = leaf([shape[shape.length - 1]!], seed + 1);
        checkGrad((a, c) => T.clamp(a, undefined, c), [leaf(shape, seed), hi], seed);
        checkGrad((a, c) => T.clamp(a, -0.2, c), [leaf(shape, seed), hi], seed);
      }),
      PROPERTY_RUNS,
    );
  });
});

/** `x -> <grad f(x), r>`: its gradient is the Hessian-vector product. */
function gradDot(f: (x: Tensor) => Tensor, r: Tensor): (x: Tensor) => Tensor {
  return (x) => T.sum(T.mul(T.grad((z: Tensor) => T.sum(f(z)))(x)[0]!, r));
}

const twice: [string, Unary, ((v: number) => number)?][] = [
  ['log1p', T.log1p, inside(0.9)],
  ['expm1', T.expm1],
  ['tan', T.tan, inside(1.2)],
  ['asin', T.asin, inside(0.9)],
  ['acos', T.acos, inside(0.9)],
  ['sinh', T.sinh],
  ['asinh', T.asinh],
  ['acosh', T.acosh, (v) => Math.abs(v) + 1.1],
  ['atanh', T.atanh, inside(0.9)],
  ['softplus', (x) => T.softplus(x)],
  ['logsigmoid', T.logsigmoid],
  ['silu', T.silu],
  ['mish', T.mish],
  ['elu', (x) => T.elu(x, 0.7), awayFromZero],
  ['hardswish', (x) => T.hardswish(T.mul(x, 2)), awayFrom(-1.5, 1.5)],
  ['atan2 (first argument)', (x) => T.atan2(x, T.add(T.abs(x), 0.5))],
];

describe('issue-8 ops: second derivatives match finite differences of the first', () => {
  for (const [name, f, map] of twice) {
    it(name, () => {
      fc.assert(
        fc.property(shapeArb(1, 2, 3), fc.integer(), (shape, seed) => {
          checkGrad(gradDot(f, leaf(shape, seed + 1)), [leaf(shape, seed, map)], seed);
        }),
        { numRuns: 15 },
      );
    });
  }

  it('gradients at the kinks are PyTorch\'s', () => {
    T.tidy(() => {
      const g = (f: Unary, v: number) => T.grad((t: Tensor) => T.sum(f(t)))(T.tensor([v], { dtype: 'float64' }))[0]!.item();
      // torch.autograd at the kinks (PyTorch 1.13, float64):
      expect(g(T.floor, 2)).toBe(0);
      expect(g(T.frac, 2)).toBe(1);
      expect(g((x) => T.leakyRelu(x, 0.2), 0)).toBe(0.2);
      expect(g((x) => T.elu(x, 0.5), 0)).toBe(0.5);
      expect(g((x) => T.celu(x, 3), 0)).toBe(1);
      expect(g(T.hardswish, -3)).toBe(-0.5);
      expect(g(T.hardswish, 3)).toBe(1.5);
      expect(g(T.hardsigmoid, 3)).toBe(0);
      expect(g(T.relu6, 0)).toBe(0);
      expect(g(T.relu6, 6)).toBe(0);
      expect(g((x) => T.clamp(x, 0, 6), 6)).toBe(1);
      expect(g((x) => T.clamp(x, 0, 6), 0)).toBe(1);
      expect(g((x) => T.softplus(x, { threshold: 2 }), 2)).toBeCloseTo(0.8807970779778823, 15);
    });
  });
});
