/**
 * The conformance suite on the relaxed-SIMD GEMM path (`f32x4.relaxed_madd`), on one
 * thread and on two. Node 20 gates relaxed SIMD behind a V8 flag, which is set here for this
 * test process before any module is compiled; newer engines have it on by default. If the
 * engine still refuses it, creating the backend throws and these tests fail (never skip).
 * Tolerances as in conformance.test.ts: a fused multiply-add rounds once instead of twice,
 * which only makes results closer to the float64 reference.
 */
import { setFlagsFromString } from 'node:v8';
import { afterAll, expect, it } from 'vitest';
import { backendInfo, createWasmBackend, disposeWasmBackend, probeRelaxedSimd, type WasmBackend } from '@tsgrad/wasm';
import { describeConformance } from '../../core/test/conformance/suite.js';

if (!probeRelaxedSimd()) setFlagsFromString('--experimental-wasm-relaxed-simd');

let one: WasmBackend | null = null;
let two: WasmBackend | null = null;
describeConformance('wasm (1 thread, relaxed SIMD)', {
  backend: async () => (one ??= await createWasmBackend({ threads: 1, relaxedSimd: true, name: 'wasm-relaxed' })),
  forwardTol: 1e-4,
  gradTol: 5e-4,
  requireFused: true,
});
describeConformance('wasm (2 threads, relaxed SIMD)', {
  backend: async () => (two ??= await createWasmBackend({ threads: 2, relaxedSimd: true, minParallelWork: 0, name: 'wasm-relaxed-mt' })),
  forwardTol: 1e-4,
  gradTol: 5e-4,
  requireFused: true,
});

it('ran the relaxed path', () => {
  expect(probeRelaxedSimd()).toBe(true);
  expect(backendInfo(one!).relaxedSimd).toBe(true);
  expect(backendInfo(two!).relaxedSimd).toBe(true);
  expect(backendInfo(two!).threads).toBe(2);
});

afterAll(async () => {
  if (two) await disposeWasmBackend(two);
});
