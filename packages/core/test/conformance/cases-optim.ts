/**
 * Conformance cases of the optimizer ops (adamStep; totalNorm and clipScale): every
 * backend's fused kernels (or the composed ops, where it has none) against the js reference,
 * on any layout of the inputs and random hyper-parameters.
 */
import fc from 'fast-check';
import * as T from '@tsgrad/core';
import { layout, shape, type OpCase } from './cases.js';

const flat = (t: T.Tensor) => t.reshape([-1]);

/** Every case of this file. */
export const OPTIM_CASES: readonly OpCase[] = [
  {
    name: 'adamStep (Adam and AdamW, AMSGrad, maximize)',
    differentiable: false,
    draw: fc
      .record({
        s: shape(0, 3, 6),
        l: fc.array(layout, { minLength: 5, maxLength: 5 }),
        h: fc.record({
          lr: fc.double({ min: 1e-4, max: 0.5, noNaN: true }),
          betas: fc.tuple(fc.double({ min: 0, max: 0.99, noNaN: true }), fc.double({ min: 0.5, max: 0.9999, noNaN: true })),
          eps: fc.constantFrom(1e-8, 1e-3),
          weightDecay: fc.constantFrom(0, 0.05),
          decoupled: fc.boolean(),
          step: fc.integer({ min: 1, max: 20 }),
          amsgrad: fc.boolean(),
          maximize: fc.boolean(),
        }),
      })
      .map(({ s, l, h }) => ({
        inputs: [
          { shape: s, layout: l[0] },
          { shape: s, layout: l[1] },
          { shape: s, layout: l[2] },
          { shape: s, layout: l[3], values: 'positive' as const },
          { shape: s, layout: l[4], values: 'positive' as const },
        ],
        f: (p: T.Tensor, g: T.Tensor, m: T.Tensor, v: T.Tensor, vm: T.Tensor) => {
          const r = T.adamStep(p, g, m, v, h.amsgrad ? vm : null, h);
          return T.cat([r.param, r.expAvg, r.expAvgSq, ...(r.maxExpAvgSq ? [r.maxExpAvgSq] : [])].map(flat), 0);
        },
      })),
  },
  {
    name: 'totalNorm and clipScale (norm types 1, 2, inf)',
    differentiable: false,
    draw: fc
      .record({
        ss: fc.array(fc.record({ s: shape(0, 3, 6), l: layout }), { minLength: 1, maxLength: 3 }),
        normType: fc.constantFrom(1, 2, Infinity),
        maxNorm: fc.double({ min: 0.1, max: 20, noNaN: true }),
      })
      .map(({ ss, normType, maxNorm }) => ({
        inputs: ss.map(({ s, l }) => ({ shape: s, layout: l })),
        f: (...xs: T.Tensor[]) => {
          const total = T.totalNorm(xs, normType);
          return T.cat([flat(total), ...T.clipScale(xs, maxNorm, total).map(flat)], 0);
        },
      })),
  },
];
