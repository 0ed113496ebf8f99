/**
 * Conformance cases of the issue-8 elementwise ops: math (log1p ... atanh, rounding, frac),
 * atan2, clamp with tensor bounds, the NaN/infinity tests and the activations, on random
 * shapes and layouts; plus one case of edge values (NaN, infinities, signed zeros, domain
 * ends) uploaded bit-exactly, so each backend's primitives are held to the reference there.
 */
import fc from 'fast-check';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { binary, broadcastPair, layout, shape, unary, type OpCase } from './cases.js';

/** Into `(-s, s)` (asin, acos, atanh domains; tan away from its poles). */
const inside = (x: Tensor, s: number): Tensor => T.mul(T.tanh(x), s);

/** Edge values every primitive of this family is checked on (finite ones small: the tolerance scales with the largest). */
const EDGES = [0, -0, Infinity, -Infinity, NaN, 1, -1, 0.5, -0.5, 1.5, -2.5, 2.5, 1e-7, -1e-7, 7, -7.5];

/** The cases of the issue-8 elementwise ops. */
export const ELEMENTWISE_CASES: readonly OpCase[] = [
  unary('log1p', (x) => T.add(T.log1p(x), T.log1p(inside(x, 0.9))), 'positive'),
  unary('expm1', T.expm1),
  // Scaled back up so that the tolerance sees the relative error: a plain log(1 + x) is off by percents here.
  unary('log1p and expm1 near 0', (x) => T.mul(T.add(T.log1p(T.mul(x, 1e-6)), T.expm1(T.mul(x, 1e-6))), 1e6)),
  unary('log2 and log10', (x) => T.add(T.log2(x), T.log10(x)), 'positive'),
  unary('tan', (x) => T.tan(inside(x, 1.2))),
  unary('asin and acos', (x) => T.add(T.asin(inside(x, 0.9)), T.acos(inside(x, 0.8)))),
  unary('atan', (x) => T.atan(T.mul(x, 3))),
  unary('sinh and cosh', (x) => T.add(T.sinh(x), T.cosh(x))),
  unary('asinh', (x) => T.asinh(T.mul(x, 3))),
  unary('acosh', (x) => T.acosh(T.add(x, 0.5)), 'positive'),
  unary('atanh', (x) => T.atanh(inside(x, 0.9))),
  unary('floor, ceil, round, trunc, frac', (x) => {
    const y = T.mul(x, 3);
    return T.add(T.add(T.add(T.floor(y), T.mul(T.ceil(y), 2)), T.add(T.mul(T.round(y), 3), T.mul(T.trunc(y), 5))), T.mul(T.frac(y), 7));
  }),
  unary('round (decimals 2 and -1)', (x) => T.add(T.round(x, 2), T.round(T.mul(x, 100), -1))),
  binary('atan2', T.atan2),
  {
    name: 'clamp with broadcasting tensor bounds',
    draw: broadcastPair.chain(({ a, b, la, lb }) =>
      fc.constantFrom('both', 'min', 'max').map((which) => ({
        inputs: [{ shape: a, layout: la }, { shape: b, layout: lb }, { shape: b }],
        f: (x: Tensor, lo: Tensor, hi: Tensor) =>
          which === 'both' ? T.clamp(x, T.sub(lo, 0.3), T.add(hi, 0.3)) : which === 'min' ? T.clamp(x, lo) : T.clamp(x, undefined, hi),
      })),
    ),
  },
  unary('softplus (default, and beta 2 threshold 1)', (x) => T.add(T.softplus(x), T.softplus(x, { beta: 2, threshold: 1 }))),
  unary('logsigmoid', T.logsigmoid),
  unary('silu', T.silu),
  unary('mish', T.mish),
  unary('leakyRelu', (x) => T.leakyRelu(x, 0.1)),
  unary('elu, selu, celu', (x) => T.add(T.add(T.elu(x, 0.7), T.selu(x)), T.celu(x, 1.5))),
  unary('hardtanh and relu6', (x) => T.add(T.hardtanh(x, -0.8, 0.6), T.relu6(T.mul(x, 4)))),
  unary('hardsigmoid and hardswish', (x) => T.add(T.hardsigmoid(T.mul(x, 3)), T.hardswish(T.mul(x, 3)))),
  {
    name: 'edge values: NaN, infinities, signed zeros, domain ends (log1p ... atan2, isnan/isinf/isfinite)',
    differentiable: false,
    draw: fc.record({ s: shape(1, 2), l: layout }).map(({ s, l }) => ({
      inputs: [{ shape: s, layout: l }],
      f: (x: Tensor) => {
        const e = T.tensor(EDGES, { backend: x.backend });
        const v = T.cat([T.mul(x.reshape(-1), 4), e]);
        // Every (y, x) pair of edge values for atan2: signed zeros and infinities on both sides.
        const n = EDGES.length;
        const a2 = T.atan2(e.reshape([n, 1]).expand([n, n]), e.reshape([1, n]).expand([n, n])).reshape(-1);
        const flags = T.add(T.add(T.isnan(v).cast('float32'), T.mul(T.isinf(v).cast('float32'), 2)), T.mul(T.isfinite(v).cast('float32'), 4));
        const prims = [T.log1p(v), T.log1p(T.neg(v)), T.expm1(v), T.atan(v), T.floor(v), T.ceil(v), T.round(v), T.trunc(v)];
        return T.cat([...prims, a2, flags]);
      },
    })),
  },
];
