/**
 * The fused pointwise layers of ConvNeXt (`fusedLinear`: the GEMM epilogue) against the same
 * block run as separate ops (`Block.fusedPointwise = false`), in one process: the
 * ConvNeXt-atto AdamW training step (32x32, 2x2 stem, batch 64) on wasm, the two modes
 * alternated so that the machine's noise falls on both; then the activation bytes each
 * holds for backward, and a profile of each mode's step (the GEMM, GELU, mul and add rows).
 *
 *   npx tsx --conditions=source bench/fused-linear.ts [rounds=5] [threads=1] [layerRuns=15]
 */
import { loadavg } from 'node:os';
import * as T from '@tsgrad/core';
import { AdamW } from '@tsgrad/nn';
import { Block, ConvNeXt, convnextParamGroups } from '@tsgrad/convnext';
import { createWasmBackend } from '@tsgrad/wasm';

const rounds = Number(process.argv[2] ?? 5);
const threads = Number(process.argv[3] ?? 1);
const be = await createWasmBackend({ threads });
T.registerBackend('wasm-bench', () => be);
await T.setBackend('wasm-bench');
T.manualSeed(0);
const model = new ConvNeXt({ variant: 'atto', numClasses: 10, stemStride: 2 });
const opt = new AdamW(convnextParamGroups(model, { weightDecay: 0.05 }), { lr: 1e-3 });
const x = T.keep(T.randn([64, 3, 32, 32]));
const y = T.keep(T.randint(0, 10, [64]));

const step = (): void =>
  T.tidy(() => {
    const loss = T.crossEntropy(model.forward(x), y, { labelSmoothing: 0.1 });
    loss.backward();
    opt.step();
    opt.zeroGrad();
    loss.dataSync();
  });
const held = (): number =>
  T.tidy(() => {
    const before = T.memory().bytes;
    const loss = T.crossEntropy(model.forward(x), y, { labelSmoothing: 0.1 });
    const bytes = T.memory().bytes - before;
    loss.backward();
    model.zeroGrad();
    return bytes;
  });

// The two pointwise layers alone (forward, no gradient), stage 1 and stage 3 shapes: the
// fastest of many alternated runs, which load spikes cannot lower.
const layerRuns = Number(process.argv[4] ?? 15);
for (const [c, hw] of [[40, 16], [160, 4]] as const) {
  T.tidy(() => {
    const xn = T.randn([64, c, hw, hw]);
    const h = T.randn([64, hw, hw, c]);
    const w1 = T.randn([4 * c, c]);
    const b1 = T.randn([4 * c]);
    const a = T.randn([64, hw, hw, 4 * c]);
    const w2 = T.randn([c, 4 * c]);
    const b2 = T.randn([c]);
    const gamma = T.randn([c]);
    const variants: [string, () => T.Tensor][] = [
      ['pwconv1 fused', () => T.fusedLinear(h, w1, { bias: b1, activation: 'gelu' })],
      ['pwconv1 separate', () => T.gelu(T.add(T.matmul(h, w1.T), b1))],
      ['pwconv2 fused', () => T.fusedLinear(a, w2, { bias: b2, scale: gamma, residual: xn.permute(0, 2, 3, 1) }).permute(0, 3, 1, 2)],
      ['pwconv2 separate', () => T.add(xn, T.mul(T.add(T.matmul(a, w2.T), b2), gamma).permute(0, 3, 1, 2))],
    ];
    const best = new Map<string, number>();
    for (let r = 0; r < layerRuns; r++) {
      for (const [name, f] of r % 2 ? [...variants].reverse() : variants) {
        const t0 = performance.now();
        T.noGrad(() => T.tidy(() => void f()));
        const t = performance.now() - t0;
        best.set(name, Math.min(best.get(name) ?? Infinity, t));
      }
    }
    console.log(`pointwise layers at C=${c}, ${hw}x${hw}, batch 64 (forward, best of ${layerRuns}):`);
    for (const [name] of variants) console.log(`  ${name.padEnd(17)} ${best.get(name)!.toFixed(2)} ms`);
    console.log(`  speedup: pwconv1 ${(best.get('pwconv1 separate')! / best.get('pwconv1 fused')!).toFixed(2)}x, pwconv2 ${(best.get('pwconv2 separate')! / best.get('pwconv2 fused')!).toFixed(2)}x`);
  });
}

const modes = [true, false] as const;
const times = new Map<boolean, number[]>(modes.map((m) => [m, []]));
for (const m of modes) {
  Block.fusedPointwise = m;
  step(); // warm-up: kernels compiled, buffers allocated
}
for (let r = 0; r < rounds; r++) {
  for (const m of r % 2 ? [...modes].reverse() : modes) {
    Block.fusedPointwise = m;
    const t0 = performance.now();
    step();
    times.get(m)!.push(performance.now() - t0);
  }
}
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
const label = (m: boolean) => (m ? 'fused' : 'separate ops');
console.log(`ConvNeXt-atto AdamW step, 32x32, batch 64, wasm ${threads} thread(s), ${rounds} alternated rounds; load average ${loadavg().map((v) => v.toFixed(1)).join(' ')}`);
for (const m of modes) console.log(`  ${label(m).padEnd(12)} median ${median(times.get(m)!).toFixed(0)} ms  (${times.get(m)!.map((t) => t.toFixed(0)).join(', ')})`);
console.log(`  speedup: ${(median(times.get(false)!) / median(times.get(true)!)).toFixed(3)}x`);
for (const m of modes) {
  Block.fusedPointwise = m;
  console.log(`  ${label(m).padEnd(12)} activations held for backward: ${(held() / 2 ** 20).toFixed(1)} MiB`);
}
for (const m of modes) {
  Block.fusedPointwise = m;
  const prof = T.profile(step);
  const rows = prof.rows.filter((r) => r.kind === 'prim' && ['matmul', 'matmulEpilogue', 'gelu', 'geluBackward', 'mul', 'add', 'copy', 'sum'].includes(r.name));
  const total = prof.rows.filter((r) => r.kind === 'prim').reduce((a, r) => a + r.selfMs, 0);
  console.log(`  profile, ${label(m)}: ${total.toFixed(0)} ms of primitive self time`);
  for (const r of rows.sort((a, b) => b.selfMs - a.selfMs)) {
    console.log(`    ${r.name.padEnd(15)} ${(r.phase === 'forward' ? 'fwd' : 'bwd')} calls ${String(r.calls).padStart(5)}  self ${r.selfMs.toFixed(0).padStart(6)} ms (${((100 * r.selfMs) / total).toFixed(1)}%)  read ${(r.bytesRead / 2 ** 20).toFixed(0)} MB`);
  }
}
process.exit(0);
