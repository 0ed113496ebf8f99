/**
 * The whole conformance suite on a wasm backend with `poisonMemory`: every block is NaN
 * when handed out (unless zeroed) and again when freed, so a kernel whose SIMD tail reads
 * past a row or buffer and lets it reach a result (even times 0: NaN * 0 is NaN), or that
 * reads an output it never wrote, fails here instead of passing on lucky zeros
 * (issue 8, defect 1). Two threads with every kernel split, so chunk edges are tails too.
 * Tolerances as in conformance.test.ts.
 */
import { afterAll } from 'vitest';
import { createWasmBackend, disposeWasmBackend, type WasmBackend } from '@tsgrad/wasm';
import { describeConformance } from '../../core/test/conformance/suite.js';

let one: WasmBackend | null = null;
let two: WasmBackend | null = null;
describeConformance('wasm (1 thread, poisoned memory)', {
  backend: async () => (one ??= await createWasmBackend({ threads: 1, relaxedSimd: false, poisonMemory: true, name: 'wasm-poison' })),
  forwardTol: 1e-4,
  gradTol: 5e-4,
  requireFused: true,
});
describeConformance('wasm (2 threads, poisoned memory)', {
  backend: async () => (two ??= await createWasmBackend({ threads: 2, relaxedSimd: false, minParallelWork: 0, poisonMemory: true, name: 'wasm-poison-mt' })),
  forwardTol: 1e-4,
  gradTol: 5e-4,
  requireFused: true,
});

afterAll(async () => {
  if (two) await disposeWasmBackend(two);
});
