/**
 * Cases of the fused linear op (`fusedLinear`, `linear`): every combination of bias, GELU
 * (erf and tanh), layer scale and residual, with the residual laid out contiguously, in any
 * other layout, or channels-first (`nchw.permute(0, 2, 3, 1)`, as ConvNeXt's block adds it),
 * which makes the output channels-first too. Backends with `matmulEpilogue` run it there.
 */
import fc from 'fast-check';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { dim, layout, type InputSpec, type OpCase } from './cases.js';

/** Every case of the fused linear op. */
export const LINEAR_CASES: readonly OpCase[] = [
  {
    name: 'fusedLinear (bias, GELU erf/tanh, scale, residual: any layout or channels-first) and linear',
    draw: fc
      .record({
        g: dim(2), h: dim(3), w: dim(3), k: dim(6), n: dim(6),
        bias: fc.boolean(), act: fc.constantFrom('gelu' as const, 'gelu_tanh' as const, null), scale: fc.boolean(),
        residual: fc.constantFrom('none' as const, 'any' as const, 'channelsFirst' as const),
        lx: layout, lw: layout, lr: layout,
      })
      .map((d) => {
        const inputs: InputSpec[] = [{ shape: [d.g, d.h, d.w, d.k], layout: d.lx }, { shape: [d.n, d.k], layout: d.lw }];
        if (d.bias) inputs.push({ shape: [d.n] });
        if (d.scale) inputs.push({ shape: [d.n] });
        if (d.residual === 'any') inputs.push({ shape: [d.g, d.h, d.w, d.n], layout: d.lr });
        if (d.residual === 'channelsFirst') inputs.push({ shape: [d.g, d.n, d.h, d.w] });
        return {
          inputs,
          f: (x: Tensor, w: Tensor, ...rest: Tensor[]) => {
            const bias = d.bias ? rest.shift()! : null;
            const scale = d.scale ? rest.shift()! : null;
            const r = rest.shift();
            const residual = r ? (d.residual === 'channelsFirst' ? r.permute(0, 2, 3, 1) : r) : null;
            if (!d.act && !scale && !residual) return T.linear(x, w, bias);
            return T.fusedLinear(x, w, { bias, activation: d.act, scale, residual });
          },
        };
      }),
  },
];
