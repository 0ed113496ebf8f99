/**
 * Property: gradients of the conv/pool/resampling ops of issue 8 (conv1d, conv3d,
 * convTranspose1d/2d, unfold/fold, pad modes, interpolate, pooling options, adaptive max
 * pooling, maxUnpool2d, 1-D pools) equal float64 central differences, on random
 * geometries and non-contiguous inputs; the transposed convolution gives the same values
 * and gradients through a backend's fused conv kernels as composed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import { FusedJsBackend } from './helpers/fused-js-backend.js';
import { PROPERTY_RUNS, checkGrad, laidOut, layoutArb, leaf } from './helpers/gradcheck.js';

const RUNS = { numRuns: 30 };
const pair = (min: number, max: number) => fc.tuple(fc.integer({ min, max }), fc.integer({ min, max }));

describe('conv1d / conv3d: gradient matches finite differences', () => {
  it('conv1d: stride, padding, dilation, groups, bias, layouts', () => {
    fc.assert(
      fc.property(
        fc.record({ g: fc.integer({ min: 1, max: 2 }), cg: fc.integer({ min: 1, max: 2 }), og: fc.integer({ min: 1, max: 2 }), k: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 2 }), p: fc.integer({ min: 0, max: 2 }), d: fc.integer({ min: 1, max: 2 }), extra: fc.integer({ min: 0, max: 3 }), bias: fc.boolean(), layout: layoutArb, seed: fc.integer() }),
        (c) => {
          const len = Math.max(1, c.d * (c.k - 1) + 1 - 2 * c.p) + c.extra;
          const x = laidOut([2, c.g * c.cg, len], c.layout, c.seed);
          const inputs = [x.base, leaf([c.g * c.og, c.cg, c.k], c.seed + 1)];
          if (c.bias) inputs.push(leaf([c.g * c.og], c.seed + 2));
          checkGrad((xi, w, b) => T.conv1d(x.view(xi!), w!, b ?? null, { stride: c.s, padding: c.p, dilation: c.d, groups: c.g }), inputs, c.seed);
        },
      ),
      RUNS,
    );
  });

  it('conv3d: stride, padding, dilation per axis, groups, bias', () => {
    fc.assert(
      fc.property(
        fc.record({ g: fc.integer({ min: 1, max: 2 }), k: fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 })), s: fc.integer({ min: 1, max: 2 }), p: fc.integer({ min: 0, max: 1 }), d: fc.integer({ min: 1, max: 2 }), bias: fc.boolean(), transposed: fc.boolean(), seed: fc.integer() }),
        (c) => {
          const x = laidOut([1, c.g, 3, 3, 4], c.transposed ? 'transposed' : 'contiguous', c.seed);
          const inputs = [x.base, leaf([2 * c.g, 1, ...c.k], c.seed + 1)];
          if (c.bias) inputs.push(leaf([2 * c.g], c.seed + 2));
          checkGrad((xi, w, b) => T.conv3d(x.view(xi!), w!, b ?? null, { stride: [c.s, 1, c.s], padding: [c.p, c.p, 0], dilation: [c.d, 1, 1], groups: c.g }), inputs, c.seed);
        },
      ),
      { numRuns: 15 },
    );
  });
});

const ctCase = fc.record({
  n: fc.integer({ min: 1, max: 2 }),
  g: fc.integer({ min: 1, max: 2 }),
  cg: fc.integer({ min: 1, max: 2 }),
  og: fc.integer({ min: 1, max: 2 }),
  k: pair(1, 3),
  s: pair(1, 3),
  p: pair(0, 2),
  d: pair(1, 2),
  opRaw: pair(0, 2),
  hw: pair(1, 3),
  bias: fc.boolean(),
  layout: layoutArb,
  seed: fc.integer(),
});

/** A valid convTranspose2d geometry from a draw (output padding below stride or dilation, output non-empty). */
type CtDraw = typeof ctCase extends fc.Arbitrary<infer U> ? U : never;
function ctGeometry(c: CtDraw) {
  const outputPadding = c.opRaw.map((o, i) => o % Math.max(c.s[i]!, c.d[i]!)) as [number, number];
  // Keep the output non-empty: padding at most what the kernel and stride produce.
  const padding = c.p.map((p, i) => Math.min(p, Math.floor(((c.hw[i]! - 1) * c.s[i]! + c.d[i]! * (c.k[i]! - 1)) / 2))) as [number, number];
  return { stride: c.s, padding, outputPadding, dilation: c.d, groups: c.g };
}

describe('convTranspose2d / convTranspose1d: gradient matches finite differences', () => {
  it('convTranspose2d: stride, padding, outputPadding, dilation, groups, bias, layouts', () => {
    fc.assert(
      fc.property(ctCase, (c) => {
        const opts = ctGeometry(c);
        const x = laidOut([c.n, c.g * c.cg, c.hw[0], c.hw[1]], c.layout, c.seed);
        const inputs = [x.base, leaf([c.g * c.cg, c.og, c.k[0], c.k[1]], c.seed + 1)];
        if (c.bias) inputs.push(leaf([c.g * c.og], c.seed + 2));
        checkGrad((xi, w, b) => T.convTranspose2d(x.view(xi!), w!, b ?? null, opts), inputs, c.seed);
      }),
      RUNS,
    );
  });

  it('convTranspose2d is the adjoint of conv2d: <conv2d(y, w), x> = <y, convTranspose2d(x, w)>', () => {
    fc.assert(
      fc.property(ctCase, (c) => {
        T.tidy(() => {
          const opts = ctGeometry(c);
          const x = leaf([c.n, c.g * c.cg, c.hw[0], c.hw[1]], c.seed);
          const w = leaf([c.g * c.cg, c.og, c.k[0], c.k[1]], c.seed + 1);
          const yT = T.convTranspose2d(x, w, null, opts);
          const y = leaf(yT.shape, c.seed + 2);
          // conv2d may see more windows than x has rows (an output padding >= stride): the extra ones pair with nothing.
          const cy = T.conv2d(y, w, null, { stride: opts.stride, padding: opts.padding, dilation: opts.dilation, groups: opts.groups });
          const lhs = T.sum(T.mul(cy.slice(2, 0, x.shape[2]).slice(3, 0, x.shape[3]), x)).item();
          const rhs = T.sum(T.mul(y, yT)).item();
          expect(Math.abs(lhs - rhs)).toBeLessThan(1e-9 * Math.max(1, Math.abs(lhs)));
        });
      }),
      PROPERTY_RUNS,
    );
  });

  it('convTranspose2d: fused conv kernels give the composed values and gradients', () => {
    const fused = new FusedJsBackend();
    fc.assert(
      fc.property(ctCase, (c) => {
        T.tidy(() => {
          const opts = ctGeometry(c);
          const run = (b: T.Backend) => {
            const x = T.fromTypedArray(leaf([c.n, c.g * c.cg, c.hw[0], c.hw[1]], c.seed).dataSync(), [c.n, c.g * c.cg, c.hw[0], c.hw[1]], 'float64', b);
            const w = T.fromTypedArray(leaf([c.g * c.cg, c.og, c.k[0], c.k[1]], c.seed + 1).dataSync(), [c.g * c.cg, c.og, c.k[0], c.k[1]], 'float64', b);
            const [y, back] = T.vjp((xi, wi) => T.convTranspose2d(xi, wi, null, opts), x, w);
            const r = T.fromTypedArray(leaf(y.shape, c.seed + 3).dataSync(), y.shape, 'float64', b);
            return [y, ...back(r)].map((t) => Array.from(t.dataSync()));
          };
          const want = run(T.getBackend());
          const got = run(fused);
          got.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(v - want[i]![j]!)).toBeLessThan(1e-10)));
        });
      }),
      { numRuns: 20 },
    );
  });

  it('convTranspose1d: stride, padding, outputPadding, dilation, groups, bias', () => {
    fc.assert(
      fc.property(fc.record({ k: fc.integer({ min: 1, max: 3 }), s: fc.integer({ min: 1, max: 3 }), d: fc.integer({ min: 1, max: 2 }), o: fc.integer({ min: 0, max: 2 }), g: fc.integer({ min: 1, max: 2 }), len: fc.integer({ min: 1, max: 4 }), seed: fc.integer() }), (c) => {
        const outputPadding = c.o % Math.max(c.s, c.d);
        const padding = Math.min(1, Math.floor(((c.len - 1) * c.s + c.d * (c.k - 1)) / 2));
        checkGrad((x, w, b) => T.convTranspose1d(x, w, b, { stride: c.s, padding, outputPadding, dilation: c.d, groups: c.g }), [leaf([2, 2 * c.g, c.len], c.seed), leaf([2 * c.g, 2, c.k], c.seed + 1), leaf([2 * c.g], c.seed + 2)], c.seed);
      }),
      RUNS,
    );
  });

  it('convTranspose2d: second derivatives (gradient of the input gradient) match finite differences', () => {
    const opts = { stride: 2, padding: 1, outputPadding: 1 } as const;
    const x = leaf([1, 3, 3, 2], 11);
    const r = leaf([1, 3, 3, 2], 10);
    // w -> <d/dx sum(convTranspose2d(x, w)^2), r>: exercises the gradients of both gradients.
    checkGrad((wi) => T.sum(T.mul(T.grad((xi) => T.sum(T.square(T.convTranspose2d(xi, wi, null, opts))))(x)[0]!, r)), [leaf([3, 2, 3, 3], 12)]);
    checkGrad((xi) => T.sum(T.mul(T.grad((wi) => T.sum(T.square(T.convTranspose2d(xi, wi, null, opts))))(leaf([3, 2, 3, 3], 12))[0]!, leaf([3, 2, 3, 3], 13))), [x]);
  });
});

describe('unfold / fold: gradient matches finite differences', () => {
  const geom = fc.record({ k: pair(1, 3), s: pair(1, 2), p: pair(0, 1), d: pair(1, 2), extra: pair(0, 2), layout: layoutArb, seed: fc.integer() });
  const size = (c: { k: [number, number]; p: [number, number]; d: [number, number]; extra: [number, number] }, i: 0 | 1) => Math.max(1, c.d[i] * (c.k[i] - 1) + 1 - 2 * c.p[i]) + c.extra[i];
  it('unfold (im2col), and fold(unfold(x)) = x times the window count', () => {
    fc.assert(
      fc.property(geom, (c) => {
        const x = laidOut([2, 2, size(c, 0), size(c, 1)], c.layout, c.seed);
        const opts = { stride: c.s, padding: c.p, dilation: c.d };
        checkGrad((xi) => T.unfold(x.view(xi), c.k, opts), [x.base], c.seed);
        checkGrad((xi) => T.fold(T.unfold(x.view(xi), c.k, opts), [size(c, 0), size(c, 1)], c.k, opts), [x.base], c.seed);
      }),
      RUNS,
    );
  });
  it('fold (col2im), unbatched too', () => {
    fc.assert(
      fc.property(geom, fc.boolean(), (c, unbatched) => {
        const [h, w] = [size(c, 0), size(c, 1)];
        const opts = { stride: c.s, padding: c.p, dilation: c.d };
        const l = T.unfold(T.zeros([1, 1, h, w], { dtype: 'float64' }), c.k, opts).shape[2]!;
        const cols = leaf(unbatched ? [2 * c.k[0] * c.k[1], l] : [2, 2 * c.k[0] * c.k[1], l], c.seed);
        checkGrad((t) => T.fold(t, [h, w], c.k, opts), [cols], c.seed);
      }),
      RUNS,
    );
  });
});

describe('pad modes: gradient matches finite differences', () => {
  it('reflect, replicate, circular over 1 to 3 trailing dims, layouts', () => {
    fc.assert(
      fc.property(
        fc.record({ mode: fc.constantFrom('reflect' as const, 'replicate' as const, 'circular' as const), shape: fc.array(fc.integer({ min: 2, max: 4 }), { minLength: 2, maxLength: 4 }), pads: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 2, maxLength: 6 }), layout: layoutArb, seed: fc.integer() }),
        (c) => {
          const npairs = Math.min(c.shape.length, Math.floor(c.pads.length / 2));
          const pads = c.pads.slice(0, 2 * npairs).map((p, i) => Math.min(p, c.shape[c.shape.length - 1 - (i >> 1)]! - (c.mode === 'reflect' ? 1 : 0)));
          const x = laidOut(c.shape, c.layout, c.seed);
          checkGrad((xi) => T.pad(x.view(xi), pads, { mode: c.mode }), [x.base], c.seed);
        },
      ),
      RUNS,
    );
  });
});

describe('interpolate: gradient matches finite differences', () => {
  it('every mode, size or scale factor, alignCorners, layouts', () => {
    fc.assert(
      fc.property(
        fc.record({
          mode: fc.constantFrom('nearest' as const, 'nearest-exact' as const, 'linear' as const, 'bilinear' as const, 'bicubic' as const, 'trilinear' as const, 'area' as const),
          inSize: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 3, maxLength: 3 }),
          outSize: fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 3, maxLength: 3 }),
          scale: fc.constantFrom(0.5, 0.7, 1, 1.5, 2, 2.5),
          byScale: fc.boolean(),
          alignCorners: fc.boolean(),
          layout: layoutArb,
          seed: fc.integer(),
        }),
        (c) => {
          const dims = c.mode === 'linear' ? 1 : c.mode === 'trilinear' ? 2 + 1 : c.mode === 'nearest' || c.mode === 'nearest-exact' ? 1 + (c.seed & 1) + (c.seed & 2 ? 1 : 0) : 2;
          const inSize = c.inSize.slice(0, dims).map((n) => (c.byScale ? n + 1 : n));
          const x = laidOut([1, 2, ...inSize], c.layout, c.seed);
          const interpolating = ['linear', 'bilinear', 'bicubic', 'trilinear'].includes(c.mode);
          const opts = { mode: c.mode, ...(interpolating ? { alignCorners: c.alignCorners } : {}), ...(c.byScale ? { scaleFactor: c.scale } : { size: c.outSize.slice(0, dims) }) };
          checkGrad((xi) => T.interpolate(x.view(xi), opts), [x.base], c.seed);
        },
      ),
      { numRuns: 60 },
    );
  });
});

const poolCase = fc.record({
  k: pair(1, 3),
  s: pair(1, 3),
  padFlags: fc.tuple(fc.boolean(), fc.boolean()),
  d: pair(1, 2),
  extra: pair(0, 3),
  ceilMode: fc.boolean(),
  countIncludePad: fc.boolean(),
  divisor: fc.option(fc.integer({ min: 1, max: 5 })),
  layout: layoutArb,
  seed: fc.integer(),
});

describe('pooling options: gradient matches finite differences', () => {
  it('maxPool2d with ceilMode, dilation, padding (returnIndices changes nothing)', () => {
    fc.assert(
      fc.property(poolCase, (c) => {
        const padding: [number, number] = [c.padFlags[0] ? c.k[0] >> 1 : 0, c.padFlags[1] ? c.k[1] >> 1 : 0];
        const h = c.d[0] * (c.k[0] - 1) + 1 + c.extra[0];
        const w = c.d[1] * (c.k[1] - 1) + 1 + c.extra[1];
        const x = laidOut([2, 2, h, w], c.layout, c.seed);
        const opts = { stride: c.s, padding, dilation: c.d, ceilMode: c.ceilMode };
        checkGrad((xi) => T.maxPool2d(x.view(xi), c.k, opts), [x.base], c.seed);
        checkGrad((xi) => T.maxPool2d(x.view(xi), c.k, { ...opts, returnIndices: true })[0], [x.base], c.seed);
      }),
      RUNS,
    );
  });
  it('avgPool2d with ceilMode, countIncludePad, divisorOverride', () => {
    fc.assert(
      fc.property(poolCase, (c) => {
        const padding: [number, number] = [c.padFlags[0] ? c.k[0] >> 1 : 0, c.padFlags[1] ? c.k[1] >> 1 : 0];
        const x = laidOut([1, 2, c.k[0] + c.extra[0], c.k[1] + c.extra[1]], c.layout, c.seed);
        const opts = { stride: c.s, padding, ceilMode: c.ceilMode, countIncludePad: c.countIncludePad, ...(c.divisor !== null ? { divisorOverride: c.divisor } : {}) };
        checkGrad((xi) => T.avgPool2d(x.view(xi), c.k, opts), [x.base], c.seed);
      }),
      RUNS,
    );
  });
  it('adaptiveMaxPool2d (divisible and uneven bins), adaptiveMaxPool1d', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), layoutArb, fc.integer(), (h, w, oh, ow, layout, seed) => {
        const x = laidOut([1, 2, h, w], layout, seed);
        checkGrad((xi) => T.adaptiveMaxPool2d(x.view(xi), [oh, ow]), [x.base], seed);
        checkGrad((xi) => T.adaptiveMaxPool1d(x.view(xi).reshape([1, 2 * h, w]), ow), [x.base], seed);
      }),
      RUNS,
    );
  });
  it('maxUnpool2d of maxPool2d indices', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 2, max: 6 }), fc.integer({ min: 2, max: 6 }), fc.integer(), (k, h, w, seed) => {
        const kk = Math.min(k, h, w);
        const [, idx] = T.maxPool2d(leaf([1, 2, h, w], seed + 5), kk, { returnIndices: true });
        checkGrad((y) => T.maxUnpool2d(y, idx, kk, { outputSize: [h, w] }), [leaf(idx.shape, seed)], seed);
      }),
      RUNS,
    );
  });
  it('maxPool1d, avgPool1d, adaptiveAvgPool1d', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.boolean(), fc.boolean(), fc.integer({ min: 0, max: 4 }), fc.integer(), (k, s, padded, ceilMode, extra, seed) => {
        const x = leaf([2, 2, 2 * k + extra], seed);
        const padding = padded ? k >> 1 : 0;
        checkGrad((xi) => T.maxPool1d(xi, k, { stride: s, padding, dilation: 2, ceilMode }), [x], seed);
        checkGrad((xi) => T.avgPool1d(xi, k, { stride: s, padding, ceilMode, countIncludePad: padded }), [x], seed);
        checkGrad((xi) => T.adaptiveAvgPool1d(xi, k + 1), [x], seed);
      }),
      RUNS,
    );
  });
});
