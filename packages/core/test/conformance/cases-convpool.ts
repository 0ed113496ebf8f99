/**
 * Conformance cases of the conv/pool/resampling ops of issue 8: conv1d, conv3d, the
 * transposed convolutions (the fused conv2d input-gradient kernel where a backend has one),
 * unfold/fold, pad modes, interpolate, pooling options, adaptive max pooling, maxUnpool2d
 * and the 1-D pools, on random geometries and layouts.
 */
import fc from 'fast-check';
import * as T from '@tsgrad/core';
import { dim, layout, type OpCase } from './cases.js';

/** The conv/pool/resampling cases. */
export const CONVPOOL_CASES: readonly OpCase[] = [
  {
    name: 'conv1d and convTranspose1d (stride, padding, dilation, groups, outputPadding, bias)',
    draw: fc
      .record({ g: dim(2), cg: dim(2), k: dim(3), s: dim(2), p: fc.nat(1), d: dim(2), o: fc.nat(1), len: dim(4), l: layout })
      .map(({ g, cg, k, s, p, d, o, len, l }) => {
        const L = d * (k - 1) + 1 + len;
        return {
          inputs: [{ shape: [2, g * cg, L], layout: l }, { shape: [g * 2, cg, k] }, { shape: [g * 2] }, { shape: [g * cg, 2, k] }],
          f: (x, w, b, wt) => {
            const y = T.conv1d(x, w, b, { stride: s, padding: p, dilation: d, groups: g });
            return T.convTranspose1d(y.slice(1, 0, g * cg), wt, null, { stride: s, padding: p, dilation: d, groups: g, outputPadding: o % Math.max(s, d) });
          },
        };
      }),
  },
  {
    name: 'convTranspose2d (stride, padding, outputPadding, dilation, groups, bias)',
    draw: fc
      .record({ n: dim(2), g: dim(2), cg: dim(2), og: dim(2), k: fc.tuple(dim(3), dim(3)), s: fc.tuple(dim(3), dim(2)), p: fc.tuple(fc.nat(1), fc.nat(1)), d: fc.tuple(dim(2), dim(2)), o: fc.tuple(fc.nat(2), fc.nat(2)), hw: fc.tuple(dim(3), dim(3)), l: layout })
      .map(({ n, g, cg, og, k, s, p, d, o, hw, l }) => ({
        inputs: [{ shape: [n, g * cg, hw[0] + 1, hw[1] + 1], layout: l }, { shape: [g * cg, og, k[0], k[1]] }, { shape: [g * og] }],
        // Padding at most half of what stride and kernel span, so the output is non-empty.
        f: (x, w, b) => T.convTranspose2d(x, w, b, { stride: s, padding: [0, 1].map((i) => Math.min(p[i]!, ((hw[i]! * s[i]! + d[i]! * (k[i]! - 1)) >> 1))) as [number, number], dilation: d, groups: g, outputPadding: [o[0] % Math.max(s[0], d[0]), o[1] % Math.max(s[1], d[1])] }),
      })),
  },
  {
    name: 'conv3d (stride, padding, dilation, groups, bias)',
    draw: fc.record({ g: dim(2), k: fc.tuple(dim(2), dim(2), dim(2)), s: dim(2), p: fc.nat(1), d: dim(2), l: layout }).map(({ g, k, s, p, d, l }) => ({
      inputs: [{ shape: [2, 2 * g, 3, 4, 3], layout: l }, { shape: [g, 2, ...k] }, { shape: [g] }],
      f: (x, w, b) => T.conv3d(x, w, b, { stride: [s, 1, s], padding: [p, 0, p], dilation: [d, 1, 1], groups: g }),
    })),
  },
  {
    name: 'unfold and fold (kernel, stride, padding, dilation)',
    draw: fc.record({ k: fc.tuple(dim(3), dim(3)), s: fc.tuple(dim(2), dim(2)), p: fc.tuple(fc.nat(1), fc.nat(1)), d: fc.tuple(dim(2), dim(2)), l: layout }).map(({ k, s, p, d, l }) => {
      const h = d[0] * (k[0] - 1) + 2;
      const w = d[1] * (k[1] - 1) + 3;
      const opts = { stride: s, padding: p, dilation: d };
      return {
        inputs: [{ shape: [2, 3, h, w], layout: l }],
        f: (x) => T.fold(T.mul(T.unfold(x, k, opts), 1.5), [h, w], k, opts),
      };
    }),
  },
  {
    name: 'pad modes reflect, replicate, circular',
    draw: fc.record({ s: fc.array(fc.integer({ min: 2, max: 4 }), { minLength: 2, maxLength: 4 }), pads: fc.array(fc.nat(3), { minLength: 2, maxLength: 6 }), l: layout }).map(({ s, pads, l }) => {
      const np = Math.min(s.length, pads.length >> 1);
      const padsFor = (slack: number) => pads.slice(0, 2 * np).map((v, i) => Math.min(v, s[s.length - 1 - (i >> 1)]! - slack));
      return {
        inputs: [{ shape: s, layout: l }],
        f: (x) => T.add(T.add(T.pad(x, padsFor(1), { mode: 'reflect' }), T.pad(x, padsFor(1), { mode: 'replicate' })), T.pad(x, padsFor(1), { mode: 'circular' })),
      };
    }),
  },
  {
    name: 'interpolate (nearest, nearest-exact, bilinear, bicubic; size or scale; alignCorners)',
    draw: fc
      .record({ h: dim(4), w: dim(4), oh: dim(7), ow: dim(7), sf: fc.constantFrom(0.6, 1.5, 2, 2.5), ac: fc.boolean(), byScale: fc.boolean(), l: layout })
      .map(({ h, w, oh, ow, sf, ac, byScale, l }) => {
        const size = byScale ? { scaleFactor: sf } : { size: [oh, ow] };
        return {
          inputs: [{ shape: [2, 2, h + 1, w + 1], layout: l }],
          f: (x) => {
            const a = T.interpolate(x, { ...size, mode: 'nearest' });
            const b = T.interpolate(x, { ...size, mode: 'nearest-exact' });
            const c = T.interpolate(x, { ...size, mode: 'bilinear', alignCorners: ac });
            const d = T.interpolate(x, { ...size, mode: 'bicubic', alignCorners: ac });
            return T.add(T.add(a, T.mul(b, 2)), T.add(T.mul(c, 3), T.mul(d, 4)));
          },
        };
      }),
  },
  {
    name: 'maxPool2d and avgPool2d options (ceilMode, dilation, divisorOverride, countIncludePad)',
    draw: fc.record({ k: fc.tuple(dim(3), dim(3)), s: fc.tuple(dim(2), dim(2)), pf: fc.boolean(), d: fc.tuple(dim(2), dim(2)), ceil: fc.boolean(), div: fc.option(dim(5)), cip: fc.boolean(), extra: fc.tuple(fc.nat(2), fc.nat(2)), l: layout }).map(({ k, s, pf, d, ceil, div, cip, extra, l }) => {
      const padding: [number, number] = pf ? [k[0] >> 1, k[1] >> 1] : [0, 0];
      return {
        inputs: [{ shape: [2, 2, d[0] * (k[0] - 1) + 1 + extra[0], d[1] * (k[1] - 1) + 1 + extra[1]], layout: l }],
        f: (x) => {
          const m = T.maxPool2d(x, k, { stride: s, padding, dilation: d, ceilMode: ceil });
          const a = T.avgPool2d(x, k, { stride: s, padding, ceilMode: ceil, countIncludePad: cip, ...(div !== null ? { divisorOverride: div } : {}) });
          return T.add(m.sum(), a.sum([2, 3]));
        },
      };
    }),
  },
  {
    name: 'pooling indices: maxPool2d / adaptiveMaxPool2d returnIndices, maxUnpool2d',
    draw: fc.record({ h: dim(5), w: dim(5), oh: dim(3), ow: dim(3), k: dim(2), l: layout }).map(({ h, w, oh, ow, k, l }) => ({
      inputs: [{ shape: [2, 2, h + 1, w + 1], layout: l }],
      f: (x) => {
        const [y, idx] = T.maxPool2d(x, k + 1, { stride: k, padding: 1, ceilMode: true, returnIndices: true });
        const [ya, ia] = T.adaptiveMaxPool2d(x, [oh, ow], { returnIndices: true });
        const [y2, i2] = T.maxPool2d(x, 2, { returnIndices: true });
        const un = T.maxUnpool2d(y2, i2, 2, { outputSize: [h + 1, w + 1] });
        return T.add(T.add(T.mul(y.sum(), 0.5), T.mul(idx.cast('float32').sum(), 0.25)), T.add(T.add(un.sum(1), ya.sum()), T.mul(ia.cast('float32').sum(), 0.125)));
      },
    })),
  },
  {
    name: '1-D pools (maxPool1d, avgPool1d, adaptiveAvgPool1d, adaptiveMaxPool1d)',
    draw: fc.record({ k: dim(3), s: dim(2), len: dim(6), o: dim(4), ceil: fc.boolean(), l: layout }).map(({ k, s, len, o, ceil, l }) => ({
      inputs: [{ shape: [2, 3, 2 * k + len], layout: l }],
      f: (x) => {
        const a = T.maxPool1d(x, k, { stride: s, padding: k >> 1, dilation: 2, ceilMode: ceil }).sum(2);
        const b = T.avgPool1d(x, k, { stride: s, padding: k >> 1, ceilMode: ceil, countIncludePad: false }).sum(2);
        return T.add(T.add(a, b), T.add(T.adaptiveAvgPool1d(x, o).sum(2), T.adaptiveMaxPool1d(x, o).sum(2)));
      },
    })),
  },
];
