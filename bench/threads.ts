/**
 * Thread scaling of the wasm backend, 1 thread against 2 in one process (interleaved
 * rounds, best of each): the ConvNeXt-atto AdamW step (32x32, 2x2 stem, batch 64), the
 * ConvNeXt-T forward (224, batch 1), and depthwise 7x7 forward + both gradients at the
 * atto stage shapes; then the atto step's primitives by self time on 1 and 2 threads.
 *
 *   node --import tsx --conditions=source bench/threads.ts [rounds] [name filter]
 */
import { loadavg } from 'node:os';
import * as T from '@tsgrad/core';
import { createWasmBackend, backendInfo } from '@tsgrad/wasm';
import { convnext } from '../packages/convnext/src/index.js';
import { attoStep } from './browser/atto-step.js';

const rounds = Number(process.argv[2] ?? 5);
const one = await createWasmBackend({ threads: 1, name: 'wasm-1t' });
const two = await createWasmBackend({ threads: 2, name: 'wasm-2t' });
// DW_SMALL_MAX moves the map size (oh*ow) up to which depthwise takes the four-channel kernels.
if (process.env['DW_SMALL_MAX']) for (const b of [one, two]) b.conv.smallMapMax = Number(process.env['DW_SMALL_MAX']);
console.log(`relaxed SIMD: ${backendInfo(two).relaxedSimd}; load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);

async function on<R>(b: T.Backend, f: () => R): Promise<R> {
  T.registerBackend(`bench-${b.name}`, () => b);
  await T.setBackend(`bench-${b.name}`);
  return f();
}

type Case = { name: string; make: () => () => unknown };
const cases: Case[] = [
  {
    name: 'atto step b64',
    make: attoStep,
  },
  {
    name: 'convnext-t fwd b1',
    make: () => {
      const model = convnext('tiny', { generator: new T.Generator(0) });
      const x = T.keep(T.randn([1, 3, 224, 224], { generator: new T.Generator(1) }));
      return () => T.tidy(() => T.noGrad(() => model.forward(x).dataSync()[0]));
    },
  },
  ...([[40, 16], [80, 8], [160, 4], [320, 2]] as const).map(([c, s]) => ({
    name: `dw7x7 fwd+bwd 64x${c}x${s}x${s}`,
    make: () => {
      const g = new T.Generator(0);
      const x = T.keep(T.randn([64, c, s, s], { generator: g })).requiresGrad_();
      const w = T.keep(T.randn([c, 1, 7, 7], { generator: g })).requiresGrad_();
      return () => T.tidy(() => {
        T.conv2d(x, w, null, { padding: 3, groups: c }).sum().backward();
        x.zeroGrad();
        w.zeroGrad();
      });
    },
  })),
];

const only = process.argv[3];
for (const c of cases.filter((k) => !only || k.name.includes(only))) {
  const f1 = await on(one, c.make);
  const f2 = await on(two, c.make);
  const best = [Infinity, Infinity];
  for (let r = 0; r < rounds + 1; r++) {
    for (const [i, b, f] of [[0, one, f1], [1, two, f2]] as const) {
      await on(b, () => 0);
      const t0 = performance.now();
      f();
      const dt = performance.now() - t0;
      if (r > 0) best[i] = Math.min(best[i]!, dt);
    }
  }
  console.log(`${c.name}: 1T ${best[0]!.toFixed(1)} ms, 2T ${best[1]!.toFixed(1)} ms, ${(best[0]! / best[1]!).toFixed(2)}x`);
}

if (process.env['PROFILE']) {
  for (const b of [one, two]) {
    const step = await on(b, cases[0]!.make);
    step();
    const prof = T.profile(() => step());
    console.log(`--- ${b.name}`);
    console.log(prof.table({ top: 18 }));
  }
}
console.log(`load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`);
process.exit(0);
