/**
 * The fused optimizer kernels (adamStep, totalNorm, clipScale) against PyTorch 1.13 goldens
 * (packages/nn/scripts/gen_optim_fused_fixtures.py) on js, wasm (one thread, two threads
 * splitting every kernel, poisoned memory) and the composed ops (a js backend without the
 * kernels); fused == composed bit for bit on random shapes and hyper-parameters; and the
 * eager cost of a step: one kernel call per parameter, no scalar uploads.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import * as T from '@tsgrad/core';
import type { Backend, Tensor } from '@tsgrad/core';
import { Adam, AdamW, clipGradNorm_, type AdamOptions } from '@tsgrad/nn';
import { createWasmBackend, disposeWasmBackend, type WasmBackend } from '@tsgrad/wasm';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface FT {
  readonly shape: number[];
  readonly data: number[];
}
interface OptimCase {
  name: string;
  optimizer: 'Adam' | 'AdamW';
  hyper: { lr: number; betas?: [number, number]; eps?: number; weight_decay?: number; amsgrad?: boolean; maximize?: boolean };
  init: FT[];
  grads: FT[][];
  after: FT[][];
  state: Record<string, FT>[];
}
interface ClipCase {
  max_norm: number;
  norm_type: number | 'inf';
  grads: FT[];
  total: number;
  clipped: FT[];
}
const fx = JSON.parse(readFileSync(fileURLToPath(new URL('../packages/nn/test/fixtures/torch/optim_fused.json', import.meta.url)), 'utf8')) as { optimizers: OptimCase[]; clip: ClipCase[] };

/** A js backend without the optimizer kernels: core takes the composed ops. */
function composedJs(): Backend {
  const b = new T.JsBackend();
  for (const [k, value] of [['name', 'js-composed'], ['adamStep', undefined], ['totalNorm', undefined], ['clipScale', undefined]] as const) Object.defineProperty(b, k, { value });
  return b;
}

let wasm1: WasmBackend;
let wasm2: WasmBackend;
let poisoned: WasmBackend;
const composed = composedJs();
const js = new T.JsBackend();
beforeAll(async () => {
  wasm1 = await createWasmBackend({ threads: 1, relaxedSimd: false });
  wasm2 = await createWasmBackend({ threads: 2, relaxedSimd: false, minParallelWork: 0 });
  poisoned = await createWasmBackend({ threads: 1, relaxedSimd: 'auto' });
  poisoned.poisonMemory = true;
});
afterAll(async () => {
  await disposeWasmBackend(wasm2);
});

const backends: [string, () => Backend][] = [
  ['js', () => js],
  ['js composed', () => composed],
  ['wasm', () => wasm1],
  ['wasm 2 threads', () => wasm2],
  ['wasm poisoned', () => poisoned],
];

const on = (t: FT, b: Backend): Tensor => T.fromTypedArray(Float32Array.from(t.data), t.shape, 'float32', b);

/** max |a - e| <= tol * max(1, max |e|), else a message. */
function close(label: string, a: ArrayLike<number>, e: readonly number[], tol: number): string | null {
  let scale = 1e-30;
  for (const v of e) scale = Math.max(scale, Math.abs(v));
  let err = 0;
  let at = -1;
  for (let i = 0; i < e.length; i++) {
    const d = Math.abs(a[i]! - e[i]!);
    if (!(d <= err)) [err, at] = [Number.isNaN(d) ? Infinity : d, i];
  }
  return a.length === e.length && err <= tol * scale ? null : `${label}: error ${err} at ${at} (ours ${a[at]}, torch ${e[at]}) of scale ${scale}`;
}

function counting(b: Backend, name: 'adamStep' | 'totalNorm' | 'clipScale'): { calls: number; restore: () => void } {
  const c = { calls: 0, restore: () => {} };
  const orig = b[name] as ((...a: unknown[]) => unknown) | undefined;
  if (!orig) return c;
  Object.defineProperty(b, name, { configurable: true, writable: true, value: (...a: unknown[]) => (c.calls++, orig.apply(b, a)) });
  c.restore = () => delete (b as unknown as Record<string, unknown>)[name];
  return c;
}

describe.each(backends)('Adam/AdamW vs PyTorch on %s', (_label, backend) => {
  for (const c of fx.optimizers) {
    it(`${c.name}: five steps and the final state`, () => {
      const b = backend();
      const ps = c.init.map((t) => on(t, b).requiresGrad_());
      const h = c.hyper;
      const opts: AdamOptions = { lr: h.lr, betas: h.betas, eps: h.eps, weightDecay: h.weight_decay ?? (c.optimizer === 'AdamW' ? 0.01 : 0), amsgrad: h.amsgrad, maximize: h.maximize };
      const opt = c.optimizer === 'AdamW' ? new AdamW(ps, opts) : new Adam(ps, opts);
      const calls = counting(b, 'adamStep');
      const problems: string[] = [];
      try {
        c.grads.forEach((gs, step) => {
          ps.forEach((p, i) => {
            p.zeroGrad();
            p.grad = on(gs[i]!, b);
          });
          opt.step();
          ps.forEach((p, i) => problems.push(close(`step ${step + 1} param ${i}`, p.dataSync(), c.after[step]![i]!.data, 2e-6) ?? ''));
        });
      } finally {
        calls.restore();
      }
      ps.forEach((p, i) => {
        for (const [k, want] of Object.entries(c.state[i]!)) problems.push(close(`state ${k} of param ${i}`, (opt.state.get(p)![k] as Tensor).dataSync(), want.data, 2e-6) ?? '');
      });
      expect(problems.filter(Boolean)).toEqual([]);
      expect(calls.calls).toBe(b.adamStep ? c.grads.length * ps.length : 0);
      opt.zeroGrad();
      opt.dispose();
      ps.forEach((p) => p.dispose());
    });
  }
});

describe.each(backends)('clipGradNorm_ vs PyTorch on %s', (_label, backend) => {
  for (const c of fx.clip) {
    it(`maxNorm ${c.max_norm}, norm ${c.norm_type}`, () => {
      const b = backend();
      const ps = c.grads.map((g) => T.zeros(g.shape, { backend: b }).requiresGrad_());
      ps.forEach((p, i) => (p.grad = on(c.grads[i]!, b)));
      const norms = counting(b, 'totalNorm');
      const scales = counting(b, 'clipScale');
      let total: Tensor;
      try {
        total = clipGradNorm_(ps, c.max_norm, c.norm_type === 'inf' ? Infinity : c.norm_type);
      } finally {
        norms.restore();
        scales.restore();
      }
      expect(Math.abs(total.item() - c.total)).toBeLessThanOrEqual(2e-6 * c.total);
      expect(ps.map((p, i) => close(`grad ${i}`, p.grad!.dataSync(), c.clipped[i]!.data, 2e-6)).filter(Boolean)).toEqual([]);
      // One call each for all the gradients.
      expect([norms.calls, scales.calls]).toEqual(b.totalNorm ? [1, 1] : [0, 0]);
      total.dispose();
      ps.forEach((p) => p.dispose());
    });
  }

  it('errorIfNonfinite throws on an infinite or NaN norm and leaves the gradients; without it they are scaled as PyTorch does', () => {
    const b = backend();
    for (const bad of [Infinity, NaN]) {
      const ps = [T.zeros([5], { backend: b }).requiresGrad_(), T.zeros([2], { backend: b }).requiresGrad_()];
      ps[0]!.grad = T.fromTypedArray(Float32Array.of(1, 2, bad, 4, 5), [5], 'float32', b);
      ps[1]!.grad = T.fromTypedArray(Float32Array.of(3, 4), [2], 'float32', b);
      expect(() => clipGradNorm_(ps, 1, 2, { errorIfNonfinite: true })).toThrow(`the total norm of order 2 of the gradients is ${bad}`);
      expect(Array.from(ps[1]!.grad!.dataSync())).toEqual([3, 4]);
      const total = clipGradNorm_(ps, 1);
      expect(total.item()).toBe(bad);
      // torch: coef = 1 / (inf + 1e-6) = 0 (gradients zeroed, inf * 0 = NaN); NaN spreads.
      expect(Array.from(ps[1]!.grad!.dataSync())).toEqual(Number.isNaN(bad) ? [NaN, NaN] : [0, 0]);
      total.dispose();
      ps.forEach((p) => p.dispose());
    }
  });
});

/** The bits of a float32 tensor (NaNs of any payload compare equal). */
function bits(t: Tensor): number[] {
  return Array.from(new Int32Array(Float32Array.from(t.dataSync(), (v) => (Number.isNaN(v) ? NaN : v)).buffer));
}

describe('fused == composed, bit for bit', () => {
  const hyper = fc.record({
    lr: fc.double({ min: 1e-5, max: 1, noNaN: true }),
    betas: fc.tuple(fc.double({ min: 0, max: 0.999, noNaN: true }), fc.double({ min: 0, max: 0.9999, noNaN: true })),
    eps: fc.constantFrom(1e-8, 1e-6, 0.1),
    weightDecay: fc.constantFrom(0, 0.01, 0.3),
    decoupled: fc.boolean(),
    step: fc.integer({ min: 1, max: 50 }),
    amsgrad: fc.boolean(),
    maximize: fc.boolean(),
  });
  const shape = fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 0, maxLength: 3 });
  for (const [label, get] of [['js', () => js], ['wasm', () => wasm1], ['wasm 2 threads', () => wasm2]] as const) {
    it(`adamStep on ${label}`, () => {
      fc.assert(
        fc.property(shape, hyper, fc.integer({ min: 0, max: 1e6 }), (s, h, seed) => {
          const n = s.reduce((a, d) => a * d, 1);
          const g = new T.Generator(seed);
          const vals = [g.normal(n), g.normal(n), g.normal(n).map((v) => v * 0.1), g.normal(n).map((v) => v * v), g.normal(n).map((v) => v * v * 1.5)];
          vals[1]![0] = 0; // a zero gradient
          const run = (b: Backend) => {
            const [p, gr, m, v, vm] = vals.map((x) => T.fromTypedArray(x, s, 'float32', b));
            const r = T.adamStep(p!, gr!, m!, v!, h.amsgrad ? vm! : null, h);
            const out = [r.param, r.expAvg, r.expAvgSq, ...(r.maxExpAvgSq ? [r.maxExpAvgSq] : [])].map(bits);
            for (const t of [p, gr, m, v, vm, r.param, r.expAvg, r.expAvgSq, r.maxExpAvgSq]) t?.dispose();
            return out;
          };
          expect(run(get())).toEqual(run(composed));
        }),
        { numRuns: 40 },
      );
    });

    it(`clipScale bit for bit and totalNorm within float32 rounding on ${label}`, () => {
      fc.assert(
        fc.property(fc.array(shape, { minLength: 1, maxLength: 4 }), fc.constantFrom(1, 2, Infinity), fc.double({ min: 0.01, max: 10, noNaN: true }), fc.integer({ min: 0, max: 1e6 }), (shapes, normType, maxNorm, seed) => {
          const g = new T.Generator(seed);
          const vals = shapes.map((s) => g.normal(s.reduce((a, d) => a * d, 1)));
          const run = (b: Backend) => {
            const xs = vals.map((v, i) => T.fromTypedArray(v, shapes[i]!, 'float32', b));
            const total = T.totalNorm(xs, normType);
            const fixedTotal = T.fromTypedArray(Float32Array.of(1.75), [], 'float32', b);
            const scaled = T.clipScale(xs, maxNorm, fixedTotal);
            const out = { total: total.item(), scaled: scaled.map(bits) };
            for (const t of [...xs, total, fixedTotal, ...scaled]) t.dispose();
            return out;
          };
          const a = run(get());
          const e = run(composed);
          expect(a.scaled).toEqual(e.scaled);
          expect(Math.abs(a.total - e.total)).toBeLessThanOrEqual(1e-6 * e.total);
        }),
        { numRuns: 30 },
      );
    });
  }
});

describe('the eager cost of a fused step on wasm', () => {
  it('AdamW: one adamStep per parameter, no uploads and no elementwise primitives; clipping: one totalNorm, one clipScale', () => {
    const b = wasm1;
    const ps = [[8, 3, 2, 2], [8], [16, 8], [16]].map((s, i) => T.fromTypedArray(new T.Generator(i).normal(s.reduce((x, y) => x * y, 1)), s, 'float32', b).requiresGrad_());
    const opt = new AdamW(ps, { lr: 1e-3, weightDecay: 0.05 });
    const step = () => {
      ps.forEach((p, i) => (p.grad = T.fromTypedArray(new T.Generator(10 + i).normal(p.size), p.shape, 'float32', b)));
      clipGradNorm_(ps, 1).dispose();
      opt.step();
      opt.zeroGrad();
    };
    step(); // state created
    const prof = T.profile(step, { backends: [b] });
    const calls = new Map(prof.rows.filter((r) => r.kind === 'prim').map((r) => [r.name, r.calls]));
    expect(calls.get('adamStep')).toBe(ps.length);
    expect(calls.get('totalNorm')).toBe(1);
    expect(calls.get('clipScale')).toBe(1);
    // The step's own uploads are the four gradients set above; nothing per hyper-parameter.
    expect(calls.get('upload')).toBe(ps.length);
    for (const op of ['mul', 'add', 'sub', 'div', 'sqrt', 'maximum', 'fill']) expect(calls.get(op), op).toBeUndefined();
    opt.dispose();
    ps.forEach((p) => p.dispose());
  });
});
