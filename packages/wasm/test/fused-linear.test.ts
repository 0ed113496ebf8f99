/**
 * The GEMM epilogue (core's `fusedLinear` on wasm): on random shapes, options and residual
 * layouts (contiguous, channels-first as ConvNeXt's `x.permute(0, 2, 3, 1)`, any other
 * strides), with small blockings that split K, M and N into several blocks, on one and two
 * threads, the fused result equals the composed ops on the same backend bit for bit (same
 * float32 operations in the same order), and the gradients equal the composed gradients.
 * The GELU's derivative kept for the backward pass gives the GELU backward kernel's bits.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { createWasmBackend, disposeWasmBackend, type WasmBackend } from '@tsgrad/wasm';
import { DEFAULT_BLOCKING } from '../src/kernels/gemm.js';

let one: WasmBackend;
let two: WasmBackend;

beforeAll(async () => {
  one = await createWasmBackend({ threads: 1, relaxedSimd: false });
  two = await createWasmBackend({ threads: 2, relaxedSimd: false, minParallelWork: 0 });
});
afterAll(async () => {
  await disposeWasmBackend(two);
});

function randn(shape: readonly number[], seed: number, backend: T.Backend): Tensor {
  return T.fromTypedArray(new T.Generator(seed).normal(shape.reduce((x, y) => x * y, 1)), [...shape], 'float32', backend);
}

interface Case {
  readonly lead: number[];
  readonly k: number;
  readonly n: number;
  readonly bias: boolean;
  readonly act: 'gelu' | 'gelu_tanh' | null;
  readonly scale: boolean;
  readonly residual: 'none' | 'rows' | 'channelsFirst' | 'strided';
  readonly small: boolean;
  readonly seed: number;
}

const caseArb: fc.Arbitrary<Case> = fc.record({
  lead: fc.oneof(fc.tuple(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 6 })).map((t) => [...t]), fc.tuple(fc.integer({ min: 1, max: 40 })).map((t) => [...t])),
  k: fc.integer({ min: 1, max: 40 }),
  n: fc.integer({ min: 1, max: 27 }),
  bias: fc.boolean(),
  act: fc.constantFrom('gelu' as const, 'gelu_tanh' as const, null),
  scale: fc.boolean(),
  residual: fc.constantFrom('none' as const, 'rows' as const, 'channelsFirst' as const, 'strided' as const),
  small: fc.boolean(),
  seed: fc.integer({ min: 0, max: 1e6 }),
});

/** The inputs of a case on `b`: x, weight, bias, scale, residual (a view of the asked layout). */
function inputs(c: Case, b: T.Backend): { x: Tensor; w: Tensor; bias: Tensor | null; scale: Tensor | null; residual: Tensor | null } {
  const x = randn([...c.lead, c.k], c.seed, b);
  const w = randn([c.n, c.k], c.seed + 1, b);
  const bias = c.bias ? randn([c.n], c.seed + 2, b) : null;
  const scale = c.scale ? randn([c.n], c.seed + 3, b) : null;
  let residual: Tensor | null = null;
  const nd = c.lead.length + 1;
  if (c.residual === 'rows') residual = randn([...c.lead, c.n], c.seed + 4, b);
  else if (c.residual === 'channelsFirst') {
    // Memory [lead0, n, rest...] seen as [lead..., n].
    const [g, ...rest] = c.lead;
    residual = randn(nd === 2 ? [c.n, g!] : [g!, c.n, ...rest], c.seed + 4, b);
    residual = nd === 2 ? residual.permute(1, 0) : residual.permute(0, ...rest.map((_, i) => i + 2), 1);
  } else if (c.residual === 'strided') {
    residual = randn([...c.lead, c.n].reverse(), c.seed + 4, b).permute(...Array.from({ length: nd }, (_, i) => nd - 1 - i));
  }
  return { x, w, bias, scale, residual };
}

function composed(x: Tensor, w: Tensor, bias: Tensor | null, act: Case['act'], scale: Tensor | null, residual: Tensor | null): Tensor {
  let y = x.matmul(w.T);
  if (bias) y = y.add(bias);
  if (act) y = T.gelu(y, act === 'gelu_tanh' ? 'tanh' : 'none');
  if (scale) y = y.mul(scale);
  return residual ? residual.add(y) : y;
}

async function check(c: Case, be: WasmBackend): Promise<void> {
  be.gemm.blocking = c.small ? { MR: 4, KC: 8, MC: 8, NC: 16 } : DEFAULT_BLOCKING;
  try {
    await T.tidy(async () => {
      const { x, w, bias, scale, residual } = inputs(c, be);
      const leaves = [x, w, bias, scale, residual].filter((t): t is Tensor => t !== null);
      for (const t of leaves) t.requiresGrad = true;
      const ours = T.fusedLinear(x, w, { bias, activation: c.act, scale, residual });
      const ref = composed(x, w, bias, c.act, scale, residual);
      expect(ours.shape).toEqual(ref.shape);
      // Bit for bit (toEqual tells -0 from +0).
      expect(Array.from(await ours.data())).toEqual(Array.from(await ref.data()));
      const gy = randn(ref.shape, c.seed + 9, be);
      const g1 = T.gradients(ours.mul(gy).sum(), leaves);
      const g2 = T.gradients(ref.mul(gy).sum(), leaves);
      for (let i = 0; i < leaves.length; i++) {
        const a = await g1[i]!.data();
        const r = await g2[i]!.data();
        let scaleR = 1;
        for (const v of r) scaleR = Math.max(scaleR, Math.abs(v));
        let err = 0;
        for (let j = 0; j < r.length; j++) err = Math.max(err, Math.abs(a[j]! - r[j]!));
        expect(err / scaleR, `gradient ${i}`).toBeLessThan(1e-5);
      }
    });
  } finally {
    be.gemm.blocking = DEFAULT_BLOCKING;
  }
}

describe('fusedLinear on wasm: the GEMM epilogue', () => {
  it('equals the composed ops bit for bit, gradients too (1 thread)', async () => {
    await fc.assert(fc.asyncProperty(caseArb, (c) => check(c, one)), { numRuns: 60 });
  });
  it('equals the composed ops bit for bit, gradients too (2 threads, every kernel split)', async () => {
    await fc.assert(fc.asyncProperty(caseArb, (c) => check(c, two)), { numRuns: 25 });
    // ConvNeXt's pointwise layers: too few columns to split well, so the rows are split
    // (pwconv2's channels-first output by whole images, pwconv1's rows anywhere).
    const base = { bias: true, scale: true, small: false, seed: 7 };
    await check({ ...base, lead: [6, 5, 5], k: 40, n: 12, act: null, residual: 'channelsFirst' }, two);
    await check({ ...base, lead: [6, 5, 5], k: 12, n: 20, act: 'gelu', residual: 'none' }, two);
  });
  it("keeps the GELU's derivative: the gradient times it equals the GELU backward kernel bit for bit", async () => {
    const arb = fc.record({
      m: fc.integer({ min: 1, max: 70 }),
      k: fc.integer({ min: 1, max: 40 }),
      n: fc.integer({ min: 1, max: 27 }),
      bias: fc.boolean(),
      act: fc.constantFrom('gelu' as const, 'gelu_tanh' as const),
      layout: fc.constantFrom('rows' as const, 'channelsFirst' as const),
      small: fc.boolean(),
      seed: fc.integer({ min: 0, max: 1e6 }),
    });
    await fc.assert(
      fc.asyncProperty(arb, async (c) => {
        for (const be of [one, two]) {
          be.gemm.blocking = c.small ? { MR: 4, KC: 8, MC: 8, NC: 16 } : DEFAULT_BLOCKING;
          try {
            T.tidy(() => {
              // Scaled so that the GELU's curved part (|z| < 3) is well covered.
              const a = randn([c.m, c.k], c.seed, be).mul(1 / Math.sqrt(c.k));
              const w = randn([c.k, c.n], c.seed + 1, be);
              const bias = c.bias ? randn([c.n], c.seed + 2, be) : null;
              const g = randn([c.m * c.n], c.seed + 3, be);
              const groups = c.layout === 'channelsFirst' && c.m % 2 === 0 ? 2 : 1;
              const ep = { ...(bias ? { bias: bias.asView() } : {}), activation: c.act, groups, layout: c.layout, keepPre: true };
              const withPre = be.matmulEpilogue(a.asView(), w.asView(), ep)!;
              const withGrad = be.matmulEpilogue(a.asView(), w.asView(), { ...ep, keepGeluGrad: true })!;
              expect(withGrad.pre).toBeNull();
              const flat = (h: T.BufferHandle): T.View => ({ buffer: h, dtype: 'float32', shape: [c.m * c.n], strides: [1], offset: 0 });
              const read = (h: T.BufferHandle) => Array.from(be.readSync(h, 'float32', c.m * c.n));
              expect(read(withGrad.out)).toEqual(read(withPre.out));
              const viaKernel = be.geluBackward(flat(withPre.pre!), g.asView(), c.act === 'gelu_tanh' ? 'tanh' : 'none');
              const viaKept = be.binary('mul', g.asView(), flat(withGrad.geluGrad!));
              expect(read(viaKept)).toEqual(read(viaKernel));
              for (const h of [withPre.out, withPre.pre!, withGrad.out, withGrad.geluGrad!, viaKernel, viaKept]) be.free(h);
            });
          } finally {
            be.gemm.blocking = DEFAULT_BLOCKING;
          }
        }
      }),
      { numRuns: 40 },
    );
  });
  it('ran the fused kernel, channels-first output as the residual', async () => {
    await T.tidy(async () => {
      const x = randn([2, 3, 4, 8], 1, one);
      const r = randn([2, 5, 3, 4], 2, one).permute(0, 2, 3, 1);
      const y = T.fusedLinear(x, randn([5, 8], 3, one), { residual: r, activation: 'gelu' });
      // Laid out as the residual: the NCHW permutation is contiguous.
      expect(y.permute(0, 3, 1, 2).isContiguous).toBe(true);
    });
  });
});
