/** The profiler on an asynchronous backend: primitives are timed at submission, and the table says so. */
import { describe, expect, it } from 'vitest';
import { gpuBackend } from './gpu-env.js';
import * as T from '@tsgrad/core';

describe('profile on webgpu', () => {
  it('times submissions, reads to completion, and names the caveat', async () => {
    const gpu = await gpuBackend();
    const a = T.fromTypedArray(new Float32Array(4096).fill(1.5), [64, 64], 'float32', gpu);
    const p = await T.profile(async () => {
      const y = T.matmul(T.add(a, a), a);
      return (await y.data())[0];
    }, { backends: [gpu] });
    expect(p.value).toBeCloseTo(3 * 1.5 * 64, 3);
    const add = p.rows.find((r) => r.name === 'add' && r.kind === 'prim')!;
    expect(add.calls).toBe(1);
    expect(add.bytesRead).toBe(2 * 4096 * 4);
    expect(p.rows.find((r) => r.name === 'matmul' && r.kind === 'prim')?.flops).toBe(2 * 64 * 64 * 64);
    expect(p.events.filter((e) => e.kind === 'prim' && e.name !== 'read').every((e) => e.backend === 'webgpu')).toBe(true);
    const read = p.events.find((e) => e.name === 'read')!;
    expect(read.async).toBe(true);
    expect(read.backend).toBe('webgpu');
    expect(p.table()).toContain("Backend 'webgpu' runs asynchronously: its times are CPU-side submission time only, not GPU execution.");
    // Afterwards the backend is as it was.
    expect(Object.hasOwn(gpu, 'binary')).toBe(false);
  });
});
