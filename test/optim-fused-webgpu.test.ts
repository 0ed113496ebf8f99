/**
 * The fused optimizer kernels on webgpu (SwiftShader without a GPU) against the PyTorch 1.13
 * goldens of packages/nn/scripts/gen_optim_fused_fixtures.py: five Adam/AdamW steps (weight
 * decay, AMSGrad, maximize) and clip_grad_norm_, one kernel call per parameter and one
 * norm and one scale call for all gradients. WGSL's division and square root are not
 * correctly rounded, so the tolerance is 1e-5 of each tensor's scale (js and wasm: 2e-6).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Backend, Tensor } from '@tsgrad/core';
import { Adam, AdamW, clipGradNorm_, type AdamOptions } from '@tsgrad/nn';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gpuBackend } from '../packages/webgpu/test/gpu-env.js';

interface FT {
  readonly shape: number[];
  readonly data: number[];
}
const fx = JSON.parse(readFileSync(fileURLToPath(new URL('../packages/nn/test/fixtures/torch/optim_fused.json', import.meta.url)), 'utf8')) as {
  optimizers: { name: string; optimizer: 'Adam' | 'AdamW'; hyper: { lr: number; betas?: [number, number]; eps?: number; weight_decay?: number; amsgrad?: boolean; maximize?: boolean }; init: FT[]; grads: FT[][]; after: FT[][] }[];
  clip: { max_norm: number; norm_type: number | 'inf'; grads: FT[]; total: number; clipped: FT[] }[];
};

let gpu: Backend;
beforeAll(async () => {
  gpu = await gpuBackend();
});
const on = (t: FT): Tensor => T.fromTypedArray(Float32Array.from(t.data), t.shape, 'float32', gpu);

async function close(label: string, t: Tensor, e: FT, tol = 1e-5): Promise<string | null> {
  const a = await t.data();
  let scale = 1e-30;
  for (const v of e.data) scale = Math.max(scale, Math.abs(v));
  let err = 0;
  for (let i = 0; i < e.data.length; i++) err = Math.max(err, Number.isNaN(a[i]!) ? Infinity : Math.abs(a[i]! - e.data[i]!));
  return a.length === e.data.length && err <= tol * scale ? null : `${label}: error ${err} of scale ${scale}`;
}

function counting(b: Backend, name: 'adamStep' | 'totalNorm' | 'clipScale'): { calls: number; restore: () => void } {
  const orig = b[name] as (...a: unknown[]) => unknown;
  const c = { calls: 0, restore: () => delete (b as unknown as Record<string, unknown>)[name] };
  Object.defineProperty(b, name, { configurable: true, writable: true, value: (...a: unknown[]) => (c.calls++, orig.apply(b, a)) });
  return c;
}

describe('fused optimizer kernels on webgpu vs PyTorch', () => {
  for (const c of fx.optimizers) {
    it(`${c.name}: five steps`, async () => {
      const ps = c.init.map((t) => on(t).requiresGrad_());
      const h = c.hyper;
      const opts: AdamOptions = { lr: h.lr, betas: h.betas, eps: h.eps, weightDecay: h.weight_decay ?? (c.optimizer === 'AdamW' ? 0.01 : 0), amsgrad: h.amsgrad, maximize: h.maximize };
      const opt = c.optimizer === 'AdamW' ? new AdamW(ps, opts) : new Adam(ps, opts);
      const calls = counting(gpu, 'adamStep');
      const problems: (string | null)[] = [];
      try {
        for (let step = 0; step < c.grads.length; step++) {
          ps.forEach((p, i) => {
            p.zeroGrad();
            p.grad = on(c.grads[step]![i]!);
          });
          opt.step();
          for (let i = 0; i < ps.length; i++) problems.push(await close(`step ${step + 1} param ${i}`, ps[i]!, c.after[step]![i]!));
        }
      } finally {
        calls.restore();
      }
      expect(problems.filter(Boolean)).toEqual([]);
      expect(calls.calls).toBe(c.grads.length * ps.length);
      opt.zeroGrad();
      opt.dispose();
      ps.forEach((p) => p.dispose());
    });
  }

  for (const c of fx.clip) {
    it(`clipGradNorm_: maxNorm ${c.max_norm}, norm ${c.norm_type}`, async () => {
      const ps = c.grads.map((g) => T.zeros(g.shape, { backend: gpu }).requiresGrad_());
      ps.forEach((p, i) => (p.grad = on(c.grads[i]!)));
      const norms = counting(gpu, 'totalNorm');
      const scales = counting(gpu, 'clipScale');
      let total: Tensor;
      try {
        total = clipGradNorm_(ps, c.max_norm, c.norm_type === 'inf' ? Infinity : c.norm_type);
      } finally {
        norms.restore();
        scales.restore();
      }
      expect([norms.calls, scales.calls]).toEqual([1, 1]);
      expect(Math.abs((await total.data())[0]! - c.total)).toBeLessThanOrEqual(1e-5 * c.total);
      const problems = await Promise.all(ps.map((p, i) => close(`grad ${i}`, p.grad!, c.clipped[i]!)));
      expect(problems.filter(Boolean)).toEqual([]);
      expect(() => clipGradNorm_(ps, 1, 2, { errorIfNonfinite: true })).toThrow("backend 'webgpu' cannot");
      total.dispose();
      ps.forEach((p) => p.dispose());
    });
  }
});
