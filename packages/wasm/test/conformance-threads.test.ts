/**
 * The conformance suite with two threads and every kernel split, however small
 * (`minParallelWork: 0`), and every chunk of a split kernel run on the helper thread (the
 * caller only dispatches and waits), so the range-splitting and the worker pool are what is
 * tested, not the caller's share. Tolerances as in conformance.test.ts (the arithmetic per
 * element is the same).
 */
import { afterAll, expect, it } from 'vitest';
import { backendInfo, createWasmBackend, disposeWasmBackend, type WasmBackend } from '@tsgrad/wasm';
import { describeConformance } from '../../core/test/conformance/suite.js';

let backend: WasmBackend | null = null;
const make = async () => {
  if (!backend) {
    backend = await createWasmBackend({ threads: 2, relaxedSimd: false, minParallelWork: 0, name: 'wasm-mt' });
    backend.rt.pool!.callerClaims = false;
  }
  return backend;
};

describeConformance('wasm (2 threads, plain SIMD)', { backend: make, forwardTol: 1e-4, gradTol: 5e-4, requireFused: true });

it('really ran with a helper thread', async () => {
  const info = backendInfo(await make());
  expect(info.threads).toBe(2);
  expect(info.sharedMemory).toBe(true);
  expect(info.singleThreadReason).toBe('');
  expect(info.helperJobs).toBeGreaterThan(100);
});

afterAll(async () => {
  if (backend) await disposeWasmBackend(backend);
});
