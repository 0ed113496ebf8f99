/**
 * Regressions of issue 8, defects 6 and 7, on webgpu: WGSL leaves exp of out-of-range or
 * infinite arguments (and clamp/tanh of NaN) indeterminate, so the kernels spell out exp's
 * overflow to Inf, underflow to 0 and NaN; logsumexp, tanh, erf and GELU at the edges match
 * PyTorch; `full` fills on the device (every dtype, no upload); oneHot's range check is
 * flagged on the device and reported at the next read.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { gpuBackend } from './gpu-env.js';
import * as T from '@tsgrad/core';
import type { WebGPUBackend } from '@tsgrad/webgpu';

let gpu: WebGPUBackend;
beforeEach(async () => {
  gpu = await gpuBackend();
});
const t = (v: number[][] | number[], dtype: T.DType = 'float32') => T.tensor(v, { dtype, backend: gpu });
const vals = async (x: T.Tensor) => Array.from(await x.data());

describe('webgpu exp and the kernels built on it at the edges', () => {
  it('exp overflows to Inf, underflows to 0, keeps NaN', async () => {
    const got = await vals(T.exp(t([Infinity, -Infinity, NaN, 100, 89, 0, -104, -200, 10])));
    expect(got.slice(0, 6)).toEqual([Infinity, 0, NaN, Infinity, Infinity, 1]);
    expect(got.slice(6, 8)).toEqual([0, 0]);
    expect(Math.abs(got[8]! - 22026.465794806718) / 22026.465794806718).toBeLessThan(1e-5);
  });

  it('logsumexp: [inf, 0] is inf, all -inf is -inf, [-inf, 0] is 0', async () => {
    const got = await vals(T.logsumexp(t([[Infinity, 0], [-Infinity, -Infinity], [-Infinity, 0], [100, 100]]), 1));
    expect(got.slice(0, 3)).toEqual([Infinity, -Infinity, 0]);
    expect(Math.abs(got[3]! - 100.69314575195312)).toBeLessThan(1e-4);
  });

  it('tanh, erf and GELU at +-inf and NaN (as PyTorch)', async () => {
    const x = [Infinity, -Infinity, NaN, 0, 100, -100];
    expect(await vals(T.tanh(t(x)))).toEqual([1, -1, NaN, 0, 1, -1]);
    expect(await vals(T.erf(t(x)))).toEqual([1, -1, NaN, 0, 1, -1]);
    const g = await vals(T.gelu(t(x)));
    expect([g[0], g[2], g[3], g[4]]).toEqual([Infinity, NaN, 0, 100]);
    expect(Math.abs(g[5]!)).toBe(0);
  });
});

describe('webgpu log-softmax at the edges', () => {
  it('rows with -inf, a huge spread and NaN (as PyTorch)', async () => {
    // F.log_softmax(torch.tensor([[-inf, 0], [1000, 0], [nan, 0]]), 1)
    expect(await vals(T.logSoftmax(t([[-Infinity, 0], [1000, 0], [NaN, 0]]), 1))).toEqual([-Infinity, 0, 0, -1000, NaN, NaN]);
  });
});

describe('webgpu full fills on the device', () => {
  it('gives the right values for every dtype without uploading a host array', async () => {
    const uploads: number[] = [];
    const upload = gpu.upload.bind(gpu);
    gpu.upload = (data, dtype) => {
      uploads.push(data.length);
      return upload(data, dtype);
    };
    try {
      expect(await vals(T.full([2, 3], -2.5, { backend: gpu }))).toEqual([-2.5, -2.5, -2.5, -2.5, -2.5, -2.5]);
      expect(await vals(T.full([3], -(2 ** 31), { dtype: 'int32', backend: gpu }))).toEqual([-(2 ** 31), -(2 ** 31), -(2 ** 31)]);
      expect(await vals(T.full([5], 3, { dtype: 'bool', backend: gpu }))).toEqual([1, 1, 1, 1, 1]);
      expect((await vals(T.zeros([70000], { backend: gpu }))).every((v) => v === 0)).toBe(true);
      expect(await vals(T.zeros([0], { backend: gpu }))).toEqual([]);
    } finally {
      gpu.upload = upload;
    }
    expect(uploads).toEqual([]);
  });
});

describe('webgpu oneHot', () => {
  it('an out-of-range class index is reported at the next read', async () => {
    const ok = T.oneHot(t([2, 0], 'int32'), 3);
    expect(await vals(ok)).toEqual([0, 0, 1, 1, 0, 0]);
    const bad = T.oneHot(t([0, 3], 'int32'), 3);
    await expect(bad.data()).rejects.toThrow(/index was out of range/);
  });
});

describe('webgpu log at the edges', () => {
  it('log(0) = -inf, log(-1) = NaN, log(inf) = inf, log(NaN) = NaN', async () => {
    const got = await vals(T.log(t([0, -0, -1, Infinity, NaN, Math.E])));
    expect(got.slice(0, 5)).toEqual([-Infinity, -Infinity, NaN, Infinity, NaN]);
    expect(Math.abs(got[5]! - 1)).toBeLessThan(1e-6);
  });
});
