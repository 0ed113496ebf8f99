/**
 * Regressions of issue 8, defects 6 and 7, on wasm: the SIMD exp (alone and inside
 * logsumexp, tanh, erf, GELU and log-softmax) at overflow, underflow, +-Inf and NaN against
 * PyTorch's float32 values; `full` filled in linear memory (every dtype, never through
 * `upload`); and a tensor too large for the heap failing at once with the shape, the bytes
 * and the limit, before any host array of its size exists.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import { createWasmBackend, type WasmBackend } from '@tsgrad/wasm';

let w: WasmBackend;
beforeAll(async () => {
  w = await createWasmBackend({ threads: 1, relaxedSimd: false });
});
const t = (v: number[][] | number[], dtype: T.DType = 'float32') => T.tensor(v, { dtype, backend: w });
const vals = (x: T.Tensor) => Array.from(x.dataSync());

/** Equal, or within `rel` relative error for finite non-zero values. */
function expectValues(got: number[], want: number[], rel = 2e-6): void {
  expect(got.length).toBe(want.length);
  got.forEach((g, i) => {
    if (!Number.isFinite(want[i]!) || want[i] === 0) expect(g, `element ${i}`).toBe(want[i]);
    else expect(Math.abs(g - want[i]!) / Math.abs(want[i]!), `element ${i}: ${g} vs ${want[i]}`).toBeLessThan(rel);
  });
}

describe('wasm exp and the kernels built on it at the edges', () => {
  it('exp overflows to Inf, underflows to 0 (through the denormals), keeps NaN', () => {
    // torch.exp(torch.tensor([...], dtype=torch.float32))
    const x = [Infinity, -Infinity, NaN, 100, 88.72, 88.5, 0, -87.5, -88, -100, -104, 50];
    const want = [Infinity, 0, NaN, Infinity, 3.3931806003874245e38, 2.723087918012828e38, 1, 9.982351397596697e-39, 6.054601485195952e-39, 3.783505853677006e-44, 0, 5.184705457665547e21];
    const got = vals(T.exp(t(x)));
    // Denormal results are exact to within a denormal ulp (1.4e-45), normal ones to 2e-6.
    got.forEach((g, i) => {
      if (Math.abs(want[i]!) < 1.2e-38 && want[i] !== 0) expect(Math.abs(g - want[i]!), `element ${i}`).toBeLessThanOrEqual(1.5e-45);
      else expectValues([g], [want[i]!]);
    });
    // float32 exp is within 2 ulp of the rounded true value over the whole range.
    const xs = Array.from({ length: 4001 }, (_, i) => -87 + (175.7 * i) / 4000);
    const e = vals(T.exp(t(xs)));
    xs.forEach((v, i) => expect(Math.abs(e[i]! - Math.exp(Math.fround(v))) / Math.exp(Math.fround(v))).toBeLessThan(3e-7));
  });

  it('logsumexp: [inf, 0] is inf (was 88), all -inf is -inf, large finite values do not overflow', () => {
    expectValues(vals(T.logsumexp(t([[Infinity, 0], [-Infinity, -Infinity], [-Infinity, 0], [100, 100]]), 1)), [Infinity, -Infinity, 0, 100.69314575195312]);
  });

  it('tanh, erf and GELU at +-inf and NaN (as PyTorch)', () => {
    const x = [Infinity, -Infinity, NaN, 0, 100, -100];
    expect(vals(T.tanh(t(x)))).toEqual([1, -1, NaN, 0, 1, -1]);
    expect(vals(T.erf(t(x)))).toEqual([1, -1, NaN, 0, 1, -1]);
    expect(vals(T.gelu(t(x)))).toEqual([Infinity, NaN, NaN, 0, 100, -0]);
    expect(vals(T.gelu(t(x), 'tanh'))).toEqual([Infinity, NaN, NaN, 0, 100, -0]);
  });

  it('log-softmax rows with infinities (as PyTorch)', () => {
    // F.log_softmax(torch.tensor([[-inf, 0], [-inf, -inf], [1000, 0]]), 1)
    expect(vals(T.logSoftmax(t([[-Infinity, 0], [-Infinity, -Infinity], [1000, 0]]), 1))).toEqual([-Infinity, 0, NaN, NaN, 0, -1000]);
    // A NaN anywhere in a row (here in the first vector of a 6-long row) makes the row NaN.
    expect(vals(T.logSoftmax(t([[NaN, 0, 0, 0, 0, 1]]), 1)).every(Number.isNaN)).toBe(true);
    expect(vals(T.logSoftmax(t([[0, 0, 0, 0, 0, NaN]]), 1)).every(Number.isNaN)).toBe(true);
  });
});

describe('wasm full fills on the device', () => {
  it('gives the right values for every dtype without uploading a host array', () => {
    const uploads: number[] = [];
    const upload = w.upload.bind(w);
    w.upload = (data, dtype) => {
      uploads.push(data.length);
      return upload(data, dtype);
    };
    try {
      expect(vals(T.full([2, 3], -2.5, { backend: w }))).toEqual([-2.5, -2.5, -2.5, -2.5, -2.5, -2.5]);
      expect(vals(T.full([3], 0.1, { dtype: 'float64', backend: w }))).toEqual([0.1, 0.1, 0.1]);
      expect(vals(T.full([3], -(2 ** 31), { dtype: 'int32', backend: w }))).toEqual([-(2 ** 31), -(2 ** 31), -(2 ** 31)]);
      expect(vals(T.full([5], 3, { dtype: 'bool', backend: w }))).toEqual([1, 1, 1, 1, 1]);
      expect(vals(T.zeros([1000], { backend: w })).every((v) => v === 0)).toBe(true);
      expect(vals(T.ones([7], { dtype: 'int32', backend: w }))).toEqual([1, 1, 1, 1, 1, 1, 1]);
      expect(vals(T.zeros([0], { backend: w }))).toEqual([]);
    } finally {
      w.upload = upload;
    }
    expect(uploads).toEqual([]);
  });

  it('reuses poisoned blocks correctly (every element written)', async () => {
    const p = await createWasmBackend({ threads: 1, poisonMemory: true });
    for (const n of [1, 3, 17, 1000]) {
      T.randn([n], { backend: p }).dispose();
      expect(vals(T.zeros([n], { backend: p })).every((v) => v === 0)).toBe(true);
    }
  });
});

describe('a tensor too large for the wasm heap', () => {
  it('zeros([2**31]) throws at once naming the shape, the bytes and the limit, without an 8 GiB host array', () => {
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    expect(() => T.zeros([2 ** 31], { backend: w })).toThrow(/^full: cannot create a tensor of shape \[2147483648\] \(float32, 8\.00 GiB\) on the 'wasm' backend: .*8\.00 GiB.*limit of 4\.00 GiB/);
    expect(() => T.ones([2 ** 20, 2 ** 11], { dtype: 'int32', backend: w })).toThrow(/shape \[1048576, 2048\] \(int32, 8\.00 GiB\)/);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(64 * 2 ** 20);
  });

  it('staged creations (rand, arange, eye) are checked before their host arrays are filled', async () => {
    const small = await createWasmBackend({ threads: 1, maxMemoryBytes: 64 << 20, initialMemoryBytes: 1 << 20 });
    const t0 = performance.now();
    expect(() => T.rand([2 ** 31], { backend: w })).toThrow(/^rand: cannot create a tensor of shape \[2147483648\] \(float32, 8\.00 GiB\) on the 'wasm' backend/);
    expect(() => T.randn([1 << 25], { backend: small })).toThrow(/^randn: cannot create a tensor of shape \[33554432\] \(float32, 128\.0 MiB\).*limit of 64\.0 MiB/);
    expect(() => T.arange(1 << 25, undefined, 1, { backend: small })).toThrow(/^arange: cannot create a tensor of shape \[33554432\] \(int32, 128\.0 MiB\)/);
    expect(() => T.eye(1 << 13, 1 << 13, { backend: small })).toThrow(/^eye: cannot create a tensor of shape \[8192, 8192\] \(float32, 256\.0 MiB\)/);
    expect(performance.now() - t0).toBeLessThan(2000);
    // What fits still works, and the failed attempts left nothing live.
    expect(small.memory().buffers).toBe(0);
    const ok = T.full([1 << 20], 2, { backend: small });
    expect(vals(ok.slice(0, 0, 3))).toEqual([2, 2, 2]);
  });
});
