/**
 * A/B of the fused optimizer on the whole ConvNeXt-atto training step (32x32, 2x2 stem,
 * batch 64, clip 5, AdamW with the recipe's groups) on wasm, one thread: the fused kernels
 * and the composed ops (the kernels hidden) alternate step by step in one process, so load
 * on a shared machine hits both alike. Prints ms per step of each (median) and the backend
 * calls of one optimizer step (clip + AdamW + zeroGrad) of each from `T.profile`.
 *
 *   pnpm tsx --conditions=source bench/optim-ab.ts [pairs=8]
 */
import * as T from '@tsgrad/core';
import { AdamW, clipGradNorm_ } from '@tsgrad/nn';
import { ConvNeXt, convnextParamGroups } from '@tsgrad/convnext';
import { createWasmBackend } from '@tsgrad/wasm';
import { loadavg } from 'node:os';

const KERNELS = ['adamStep', 'totalNorm', 'clipScale'] as const;
const pairs = Number(process.argv[2] ?? 8);
T.registerBackend('wasm-ab', () => createWasmBackend({ threads: 1, name: 'wasm-ab' }));
const b = await T.setBackend('wasm-ab');
const composed = <R>(fn: () => R): R => {
  for (const k of KERNELS) Object.defineProperty(b, k, { value: undefined, configurable: true, writable: true });
  try {
    return fn();
  } finally {
    for (const k of KERNELS) delete (b as unknown as Record<string, unknown>)[k];
  }
};
T.manualSeed(0);
const atto = new ConvNeXt({ variant: 'atto', numClasses: 10, stemStride: 2 });
const params = atto.parameters();
const opt = new AdamW(convnextParamGroups(atto, { weightDecay: 0.05 }), { lr: 1e-3 });
const x = T.keep(T.randn([64, 3, 32, 32]));
const y = T.keep(T.randint(0, 10, [64]));
const optimizerStep = () => {
  clipGradNorm_(params, 5).dispose();
  opt.step();
  opt.zeroGrad();
};
const step = () =>
  T.tidy(() => {
    const loss = T.crossEntropy(atto.forward(x), y, { labelSmoothing: 0.1 });
    loss.backward();
    optimizerStep();
    return loss.item();
  });
const timed = (fn: () => unknown) => {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
};
const median = (v: number[]) => [...v].sort((a, b) => a - b)[v.length >> 1]!;
step(); // warm-up: kernels compiled, state made
composed(step);
const prof = (fn: () => void) => {
  T.tidy(() => T.crossEntropy(atto.forward(x), y).backward());
  const p = T.profile(fn);
  const prims = p.rows.filter((r) => r.kind === 'prim');
  const n = (name: string) => prims.find((r) => r.name === name)?.calls ?? 0;
  return { calls: prims.reduce((a, r) => a + r.calls, 0), uploads: n('upload') + n('fill'), frees: n('free'), ms: p.wallMs };
};
const pf = prof(optimizerStep);
const pc = composed(() => prof(optimizerStep));
const fusedMs: number[] = [];
const composedMs: number[] = [];
const optF: number[] = [];
const optC: number[] = [];
for (let i = 0; i < pairs; i++) {
  fusedMs.push(timed(step));
  composedMs.push(timed(() => composed(step)));
  T.tidy(() => T.crossEntropy(atto.forward(x), y).backward());
  optF.push(timed(optimizerStep));
  T.tidy(() => T.crossEntropy(atto.forward(x), y).backward());
  optC.push(timed(() => composed(optimizerStep)));
}
const f = median(fusedMs);
const c = median(composedMs);
console.log(`load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}; ${pairs} alternating pairs, wasm 1 thread, ${params.length} parameters`);
console.log(`optimizer step (clip + AdamW + zeroGrad): backend calls ${pf.calls} (uploads ${pf.uploads}, frees ${pf.frees}) fused vs ${pc.calls} (uploads ${pc.uploads}, frees ${pc.frees}) composed`);
console.log(`optimizer step: ${median(optF).toFixed(1)} ms fused vs ${median(optC).toFixed(1)} ms composed (${(median(optC) / median(optF)).toFixed(2)}x)`);
console.log(`training step: ${f.toFixed(1)} ms fused vs ${c.toFixed(1)} ms composed (${(c / f).toFixed(3)}x; median)`);
