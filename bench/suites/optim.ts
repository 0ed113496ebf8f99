/**
 * The optimizer on wasm (one thread) over ConvNeXt-atto's parameters (3.7M, 32x32 with the
 * 2x2 stem, 10 classes, the recipe's parameter groups): one AdamW step and one
 * clip_grad_norm_, the fused kernels (one pass per parameter) beside the composed ops of
 * the same backend (the kernels hidden). The notes give the backend calls of each, from
 * `T.profile`. The whole training step with either is bench/optim-ab.ts: it alternates the
 * two step by step, which a shared machine's load needs at seconds a step.
 */
import * as T from '@tsgrad/core';
import { AdamW, clipGradNorm_ } from '@tsgrad/nn';
import { ConvNeXt, convnextParamGroups } from '@tsgrad/convnext';
import { createWasmBackend } from '@tsgrad/wasm';
import type { Case, Suite } from './types.js';

const KERNELS = ['adamStep', 'totalNorm', 'clipScale'] as const;

/** Runs `fn` with the optimizer kernels of `b` hidden, so core composes the same arithmetic. */
function composed<R>(b: T.Backend, fn: () => R): R {
  for (const k of KERNELS) Object.defineProperty(b, k, { value: undefined, configurable: true, writable: true });
  try {
    return fn();
  } finally {
    for (const k of KERNELS) delete (b as unknown as Record<string, unknown>)[k];
  }
}

/** Backend calls (primitives, uploads, frees) of one run of `fn`. */
function calls(fn: () => unknown): { total: number; uploads: number; frees: number } {
  const p = T.profile(fn);
  const prim = p.rows.filter((r) => r.kind === 'prim');
  const n = (name: string) => prim.find((r) => r.name === name)?.calls ?? 0;
  return { total: prim.reduce((a, r) => a + r.calls, 0), uploads: n('upload') + n('fill'), frees: n('free') };
}

export async function optimSuite(): Promise<Suite> {
  T.registerBackend('wasm-optim-1t', () => createWasmBackend({ threads: 1, name: 'wasm-optim-1t' }));
  const b = await T.setBackend('wasm-optim-1t');
  T.manualSeed(0);
  const atto = new ConvNeXt({ variant: 'atto', numClasses: 10, stemStride: 2 });
  const params = atto.parameters();
  const opt = new AdamW(convnextParamGroups(atto, { weightDecay: 0.05 }), { lr: 1e-3 });
  const setGrads = () => {
    for (const p of params) {
      p.grad?.dispose();
      p.grad = T.keep(T.mul(T.randnLike(p), 1e-3));
    }
  };
  setGrads();
  opt.step(); // the state exists before anything is timed
  const step = () => opt.step();
  const clip = () => clipGradNorm_(params, 1e9).dispose(); // a bound that never clips: the same work every run
  const fusedCalls = calls(step);
  const composedCalls = composed(b, () => calls(step));
  const clipFused = calls(clip);
  const clipComposed = composed(b, () => calls(clip));
  const nParams = params.reduce((a, p) => a + p.size, 0);
  const cases: Case[] = [
    {
      name: `AdamW step over ConvNeXt-atto's ${params.length} parameters (${(nParams / 1e6).toFixed(2)}M)`,
      oursLabel: 'fused adamStep',
      anchorLabel: 'composed ops (same backend)',
      ours: step,
      anchor: () => composed(b, step),
      note: `backend calls per step: ${fusedCalls.total} (${fusedCalls.uploads} uploads, ${fusedCalls.frees} frees) vs ${composedCalls.total} (${composedCalls.uploads} uploads, ${composedCalls.frees} frees)`,
    },
    {
      name: `clip_grad_norm_ over ConvNeXt-atto's ${params.length} gradients`,
      oursLabel: 'fused totalNorm + clipScale',
      anchorLabel: 'composed ops (same backend)',
      ours: clip,
      anchor: () => composed(b, clip),
      note: `backend calls: ${clipFused.total} vs ${clipComposed.total}`,
    },
  ];
  return {
    cases,
    note: 'wasm on one thread. Both sides run in this process on the same backend; the composed side hides the three optimizer kernels, so core computes the same float32 values with one primitive per operation.',
    dispose: () => opt.dispose(),
  };
}
