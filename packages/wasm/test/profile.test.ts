/** The profiler on the wasm backend: its fused kernels (convolutions, GELU, layer norm) are timed with exact flops and bytes. */
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import { createWasmBackend, disposeWasmBackend, measureSimdPeak } from '@tsgrad/wasm';

describe('profile on wasm', () => {
  it('counts convolution flops forward and backward, and GELU bytes', async () => {
    const b = await createWasmBackend({ threads: 1 });
    const g = new T.Generator(3);
    const x = T.fromTypedArray(g.normal(2 * 4 * 9 * 9), [2, 4, 9, 9], 'float32', b).requiresGrad_();
    const w = T.fromTypedArray(g.normal(6 * 4 * 3 * 3), [6, 4, 3, 3], 'float32', b).requiresGrad_();
    const dw = T.fromTypedArray(g.normal(6 * 1 * 7 * 7), [6, 1, 7, 7], 'float32', b).requiresGrad_();
    const peak = { gflops: 1 };
    const p = T.profile(() => {
      const y = T.conv2d(x, w, null, { padding: 1, stride: 2 });          // [2, 6, 5, 5]
      const z = T.conv2d(T.gelu(y), dw, null, { padding: 3, groups: 6 });  // depthwise, [2, 6, 5, 5]
      T.sum(z).backward();
      T.zeros([3, 5], { backend: b });
    }, { backends: [b], peak });
    const prim = (name: string, phase: 'forward' | 'backward') => p.rows.find((r) => r.kind === 'prim' && r.name === name && r.phase === phase)!;
    const dense = 2 * (2 * 6 * 5 * 5) * 4 * 3 * 3;
    const depthwise = 2 * (2 * 6 * 5 * 5) * 1 * 7 * 7;
    expect(prim('conv2d', 'forward').calls).toBe(2);
    expect(prim('conv2d', 'forward').flops).toBe(dense + depthwise);
    expect(prim('conv2d', 'forward').bytesWritten).toBe(2 * (2 * 6 * 5 * 5) * 4);
    // Both weight gradients; the input gradient of both (the dense one feeds x).
    expect(prim('conv2dBackwardWeight', 'backward').flops).toBe(dense + depthwise);
    expect(prim('conv2dBackwardInput', 'backward').flops).toBe(dense + depthwise);
    expect(prim('conv2dBackwardInput', 'backward').bytesWritten).toBe((2 * 4 * 9 * 9 + 2 * 6 * 5 * 5) * 4);
    expect(prim('gelu', 'forward').bytesRead).toBe(2 * 6 * 5 * 5 * 4);
    expect(prim('geluBackward', 'backward').bytesRead).toBe(2 * 2 * 6 * 5 * 5 * 4);
    expect(p.rows.find((r) => r.kind === 'grad' && r.name === 'conv2d')?.calls).toBe(2);
    // zeros fills on the backend (no host array): 15 float32 written.
    expect(p.events.filter((e) => e.name === 'fill').map((e) => e.bytesWritten)).toContain(60);
    expect(prim('conv2d', 'forward').peakFraction).toBeCloseTo(prim('conv2d', 'forward').gflops!, 12);
    for (const m of ['conv2d', 'gelu', 'matmul', 'binary']) expect(Object.hasOwn(b, m)).toBe(false);
    expect(measureSimdPeak({ iters: 10_000, reps: 1 })).toBeGreaterThan(0);
  });

  it('peakRates: measured GFLOP/s and GB/s, once per process, times the threads; T.profile rates against them', async () => {
    const one = await createWasmBackend({ threads: 1, relaxedSimd: false });
    const two = await createWasmBackend({ threads: 2, relaxedSimd: false });
    try {
      const p1 = one.peakRates();
      expect(p1.gflops).toBeGreaterThan(0.1);
      expect(p1.gbps).toBeGreaterThan(0.1);
      expect(one.peakRates()).toEqual(p1); // cached: the same figures, not a new measurement
      const t2 = two.rt.threads;
      expect(two.peakRates().gbps).toBeCloseTo(p1.gbps! * t2, 9);
      expect(two.peakRates().gflops).toBeCloseTo(p1.gflops! * t2, 9);
      T.registerBackend('wasm-peak-rates', () => one);
      await T.setBackend('wasm-peak-rates');
      try {
        const a = T.randn([64, 64]);
        const prof = T.profile(() => void T.matmul(a, a));
        const mm = prof.rows.find((r) => r.kind === 'prim' && r.name === 'matmul')!;
        expect(mm.peakFraction).toBeCloseTo(mm.gflops! / p1.gflops!, 12);
      } finally {
        await T.setBackend('js');
      }
    } finally {
      await disposeWasmBackend(two);
    }
  });
});
