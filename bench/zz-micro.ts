import * as T from '@tsgrad/core';
import { createWasmBackend } from '@tsgrad/wasm';
const be = await createWasmBackend({ threads: 1 });
T.registerBackend('wb', () => be);
await T.setBackend('wb');
const c = Number(process.argv[2] ?? 40), hw = Number(process.argv[3] ?? 16);
const h = T.randn([64, hw, hw, c]);
const w1 = T.randn([4 * c, c]);
const b1 = T.randn([4 * c]);
const z = T.randn([64, hw, hw, 4 * c]);
const variants: [string, () => T.Tensor][] = [
  ['matmul only', () => T.matmul(h, w1.T)],
  ['fused bias', () => T.fusedLinear(h, w1, { bias: b1 })],
  ['fused bias gelu', () => T.fusedLinear(h, w1, { bias: b1, activation: 'gelu' })],
  ['gelu pass', () => T.gelu(z)],
  ['separate', () => T.gelu(T.add(T.matmul(h, w1.T), b1))],
];
const best = new Map<string, number>();
for (let r = 0; r < 25; r++) for (const [n, f] of variants) { const t0 = performance.now(); T.noGrad(() => T.tidy(() => void f())); best.set(n, Math.min(best.get(n) ?? 1e9, performance.now() - t0)); }
for (const [n] of variants) console.log(n.padEnd(22), best.get(n)!.toFixed(2));
process.exit(0);
