/** Property: gradients of conv, pooling and the neural-network functions equal finite differences. */
import fc from 'fast-check';
import { describe, it } from 'vitest';
import * as T from '@tsgrad/core';
import { PROPERTY_RUNS, checkGrad, laidOut, layoutArb, leaf, shapeArb } from './helpers/gradcheck.js';

const convCase = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  groups: fc.integer({ min: 1, max: 3 }),
  cPerGroup: fc.integer({ min: 1, max: 2 }),
  oPerGroup: fc.integer({ min: 1, max: 2 }),
  kh: fc.integer({ min: 1, max: 3 }),
  kw: fc.integer({ min: 1, max: 3 }),
  stride: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  padding: fc.tuple(fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 })),
  dilation: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })),
  extra: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
  bias: fc.boolean(),
  layout: layoutArb,
  seed: fc.integer(),
});

describe('conv2d: gradient matches finite differences', () => {
  it('stride, padding, dilation, groups (depthwise included), bias, non-contiguous input', () => {
    fc.assert(
      fc.property(convCase, (c) => {
        const C = c.groups * c.cPerGroup;
        const O = c.groups * c.oPerGroup;
        // Smallest input the dilated kernel fits, plus a little.
        const h = Math.max(1, c.dilation[0] * (c.kh - 1) + 1 - 2 * c.padding[0]) + c.extra[0];
        const w = Math.max(1, c.dilation[1] * (c.kw - 1) + 1 - 2 * c.padding[1]) + c.extra[1];
        const x = laidOut([c.n, C, h, w], c.layout, c.seed);
        const wt = leaf([O, c.cPerGroup, c.kh, c.kw], c.seed + 1);
        const inputs = [x.base, wt];
        if (c.bias) inputs.push(leaf([O], c.seed + 2));
        const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation, groups: c.groups };
        checkGrad((xi, wi, bi) => T.conv2d(x.view(xi!), wi!, bi ?? null, opts), inputs, c.seed);
      }),
      PROPERTY_RUNS,
    );
  });

  it('depthwise 7x7 with padding 3 (ConvNeXt block)', () => {
    checkGrad((x, w, b) => T.conv2d(x, w, b, { padding: 3, groups: 3 }), [leaf([2, 3, 5, 6], 1), leaf([3, 1, 7, 7], 2), leaf([3], 3)]);
  });
});

const poolCase = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  c: fc.integer({ min: 1, max: 2 }),
  k: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  s: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })),
  padFlags: fc.tuple(fc.boolean(), fc.boolean()),
  extra: fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 3 })),
  countIncludePad: fc.boolean(),
  layout: layoutArb,
  seed: fc.integer(),
});

describe('pooling: gradient matches finite differences', () => {
  for (const kind of ['avgPool2d', 'maxPool2d'] as const) {
    it(kind, () => {
      fc.assert(
        fc.property(poolCase, (c) => {
          const padding: [number, number] = [c.padFlags[0] ? Math.floor(c.k[0] / 2) : 0, c.padFlags[1] ? Math.floor(c.k[1] / 2) : 0];
          const x = laidOut([c.n, c.c, c.k[0] + c.extra[0], c.k[1] + c.extra[1]], c.layout, c.seed);
          const opts = { stride: c.s, padding, countIncludePad: c.countIncludePad };
          checkGrad((xi) => (kind === 'avgPool2d' ? T.avgPool2d(x.view(xi), c.k, opts) : T.maxPool2d(x.view(xi), c.k, opts)), [x.base], c.seed);
        }),
        PROPERTY_RUNS,
      );
    });
  }
  it('adaptiveAvgPool2d (divisible and uneven bins)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer(), (h, w, oh, ow, seed) => {
        const x = laidOut([1, 2, h, w], 'transposed', seed);
        checkGrad((xi) => T.adaptiveAvgPool2d(x.view(xi), [oh, ow]), [x.base], seed);
      }),
      PROPERTY_RUNS,
    );
  });
});

describe('softmax, logSoftmax, layerNorm, dropout: gradient matches finite differences', () => {
  const dimCase = fc.record({ shape: shapeArb(1, 3), layout: layoutArb, seed: fc.integer(), k: fc.nat() });
  it('softmax', () => {
    fc.assert(
      fc.property(dimCase, ({ shape, layout, seed, k }) => {
        const x = laidOut(shape, layout, seed);
        checkGrad((xi) => T.softmax(x.view(xi), k % shape.length), [x.base], seed);
      }),
      PROPERTY_RUNS,
    );
  });
  it('logSoftmax', () => {
    fc.assert(
      fc.property(dimCase, ({ shape, layout, seed, k }) => {
        const x = laidOut(shape, layout, seed);
        checkGrad((xi) => T.logSoftmax(x.view(xi), -1 - (k % shape.length)), [x.base], seed);
      }),
      PROPERTY_RUNS,
    );
  });
  it('layerNorm over 1 or 2 trailing dims, with and without affine', () => {
    fc.assert(
      fc.property(dimCase, fc.boolean(), ({ shape, layout, seed, k }, affine) => {
        const full = [...shape, 3];
        const nd = 1 + (k % Math.min(2, full.length));
        const normShape = full.slice(full.length - nd);
        const x = laidOut(full, layout, seed);
        const inputs = affine ? [x.base, leaf(normShape, seed + 1), leaf(normShape, seed + 2)] : [x.base];
        checkGrad((xi, w, b) => T.layerNorm(x.view(xi!), normShape, w ?? null, b ?? null, 1e-5), inputs, seed);
      }),
      PROPERTY_RUNS,
    );
  });
  it('dropout (same mask for a fixed generator seed)', () => {
    fc.assert(
      fc.property(shapeArb(1, 3), fc.integer(), fc.double({ min: 0, max: 0.9, noNaN: true }), (shape, seed, p) => {
        const x = laidOut(shape, 'contiguous', seed);
        checkGrad((xi) => T.dropout(xi, p, { generator: new T.Generator(seed) }), [x.base], seed);
      }),
      PROPERTY_RUNS,
    );
  });
});

describe('crossEntropy: gradient matches finite differences', () => {
  const ceCase = fc.record({
    n: fc.integer({ min: 1, max: 4 }),
    c: fc.integer({ min: 2, max: 5 }),
    spatial: shapeArb(0, 2, 3),
    smoothing: fc.constantFrom(0, 0.1, 0.3),
    reduction: fc.constantFrom('mean' as const, 'sum' as const, 'none' as const),
    soft: fc.boolean(),
    ignore: fc.boolean(),
    seed: fc.integer(),
  });
  it('class indices or probabilities, label smoothing, reductions, ignoreIndex', () => {
    fc.assert(
      fc.property(ceCase, ({ n, c, spatial, smoothing, reduction, soft, ignore, seed }) => {
        const logits = leaf([n, c, ...spatial], seed);
        const g = new T.Generator(seed + 1);
        let target: T.Tensor;
        if (soft) target = T.softmax(T.randn([n, c, ...spatial], { generator: g, dtype: 'float64' }), 1);
        else {
          target = T.randint(0, c, [n, ...spatial], { generator: g });
          // Ignore the first target when asked (at least one stays counted when n > 1 or spatial > 1).
          if (ignore && target.size > 1) target = T.where(T.eq(T.arange(target.size).reshape(target.shape), 0), -100, target);
        }
        checkGrad((x) => T.crossEntropy(x, target, { labelSmoothing: smoothing, reduction }), [logits], seed);
      }),
      PROPERTY_RUNS,
    );
  });
});
