/**
 * The webgpu backend beyond the conformance suite: the registry, clear errors (no adapter,
 * float64, readSync, tensors over the binding limit, device loss, bad indices), the large
 * kernel paths the suite's small shapes do not reach (vec4 and split-K matmul, workgroup
 * tree reductions, long fused lines, dense conv with split-K weight gradient, dispatch
 * grids beyond 65,535 workgroups), batching and the buffer pool.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { gpuBackend } from './gpu-env.js';
import * as T from '@tsgrad/core';
import { createWebGPUBackend, type WebGPUBackend } from '@tsgrad/webgpu';

let gpu: WebGPUBackend;
const js = new T.JsBackend();
// beforeEach, not beforeAll: without an adapter every test fails (a failed beforeAll would skip them).
beforeEach(async () => {
  gpu = await gpuBackend();
});

/** Runs `f` on webgpu and js from the same random inputs; returns the worst relative error. */
async function compare(shapes: number[][], f: (...xs: T.Tensor[]) => T.Tensor | T.Tensor[], seed = 1): Promise<number> {
  const host = shapes.map((s, i) => new T.Generator(seed + i).normal(s.reduce((a, b) => a * b, 1)));
  return T.tidy(async () => {
    const run = (b: T.Backend) => [f(...shapes.map((s, i) => T.fromTypedArray(host[i]!, s, 'float32', b)))].flat();
    const ours = run(gpu);
    const ref = run(js);
    let worst = 0;
    for (let k = 0; k < ref.length; k++) {
      expect(ours[k]!.shape).toEqual(ref[k]!.shape);
      const a = await ours[k]!.data();
      const b = ref[k]!.dataSync();
      let scale = 1;
      for (const v of b) scale = Math.max(scale, Math.abs(v));
      for (let i = 0; i < b.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!) / scale);
      expect(Number.isFinite(worst)).toBe(true);
    }
    return worst;
  });
}

/** Gradients of sum(f(x) * r) for each input, so backward kernels run too. */
function withGrads(f: (...xs: T.Tensor[]) => T.Tensor): (...xs: T.Tensor[]) => T.Tensor[] {
  return (...xs) => {
    const [y, back] = T.vjp(f, ...xs);
    const r = T.fromTypedArray(new T.Generator(99).normal(y.size), y.shape, 'float32', y.backend);
    return [y, ...back(r)];
  };
}

describe('setting up', () => {
  it("registers as 'webgpu' and reports its adapter", async () => {
    await import('@tsgrad/webgpu');
    expect(T.listBackends()).toContain('webgpu');
    const b = await T.setBackend('webgpu');
    try {
      expect(b.name).toBe('webgpu');
      expect((b as WebGPUBackend).adapterName.length).toBeGreaterThan(0);
      const t = T.tensor([1, 2, 3]);
      expect(t.backend).toBe(b);
      expect(Array.from(await T.mul(t, 2).data())).toEqual([2, 4, 6]);
      expect(() => t.dataSync()).toThrow(/cannot read synchronously/);
      expect(() => b.readSync(t.asView().buffer, 'float32', 3)).toThrow(/await tensor.data\(\)/);
    } finally {
      await T.setBackend('js');
    }
  });

  it('fails with a clear message naming what was tried when there is no adapter', async () => {
    const noAdapter = { requestAdapter: async () => null } as unknown as GPU;
    await expect(createWebGPUBackend({ gpu: noAdapter })).rejects.toThrow(/no WebGPU adapter found\. Tried: the GPU object passed in options\.gpu: requestAdapter\(\) returned null/);
  });

  it('refuses float64 with an error naming the dtype', () => {
    expect(() => T.zeros([2], { dtype: 'float64', backend: gpu })).toThrow(/float64 is not supported on the webgpu backend/);
    const x = T.ones([2], { backend: gpu });
    expect(() => x.cast('float64')).toThrow(/float64/);
    x.dispose();
  });

  it('refuses a tensor larger than maxStorageBufferBindingSize', () => {
    const x = T.ones([4], { backend: gpu });
    const huge = Math.ceil(gpu.maxBindingBytes / 4) + 1024;
    expect(() => gpu.embed(x.asView(), huge, 0, [1])).toThrow(/maxStorageBufferBindingSize/);
    x.dispose();
  });

  it('reports device loss as an error, not a hang', async () => {
    const own = await createWebGPUBackend();
    const x = T.tensor([1, 2, 3], { backend: own });
    own.device.destroy();
    const info = await own.device.lost;
    expect(info.reason).toBe('destroyed');
    expect(() => T.add(x, 1)).toThrow(/device was lost/);
    await expect(x.data()).rejects.toThrow(/device was lost/);
  });

  it('reports an out-of-range gather index when the result is read', async () => {
    const x = T.tensor([1, 2, 3], { backend: gpu });
    const bad = T.tensor(new Int32Array([0, 5]), { backend: gpu });
    const y = T.gather(x, 0, bad);
    await expect(y.data()).rejects.toThrow(/gather: an index was out of range/);
    expect(Array.from(await T.gather(x, 0, T.tensor(new Int32Array([2, 0]), { backend: gpu })).data())).toEqual([3, 1]);
    T.dispose([x, bad, y]);
  });
});

/** Runs `f` on both backends from the same host values; results must be identical (NaN == NaN). */
async function exact(inputs: { data: number[]; dtype: T.DType; shape?: number[] }[], f: (...xs: T.Tensor[]) => T.Tensor): Promise<void> {
  await T.tidy(async () => {
    const run = (b: T.Backend) => f(...inputs.map((i) => T.fromTypedArray(i.data, i.shape ?? [i.data.length], i.dtype, b)));
    const ours = run(gpu);
    const ref = run(js);
    expect(ours.dtype).toBe(ref.dtype);
    expect(Array.from(await ours.data())).toEqual(Array.from(ref.dataSync()));
  });
}

describe('edge values match js exactly', () => {
  const ints = [-7, -3, -1, 0, 1, 2, 5, 2147483647];
  const other = [2, -2, 0, 3, -1, 0, 2, 1];
  it('int32 arithmetic: truncating division, division by zero, powers, wrapping', async () => {
    const a = { data: ints, dtype: 'int32' as const };
    const b = { data: other, dtype: 'int32' as const };
    await exact([a, b], (x, y) => T.div(x, y));
    await exact([a, b], (x, y) => T.pow(x, y));
    await exact([a, { data: [-1, -2, 0, 1, 3, 2, 2, 1], dtype: 'int32' }], (x, y) => T.pow(x, y));
    await exact([a, b], (x, y) => T.add(T.mul(x, y), T.sub(x, y)));
    await exact([a, b], (x, y) => T.maximum(T.minimum(x, y), T.neg(T.abs(x))));
    await exact([a], (x) => T.sign(x));
    await exact([a, b], (x, y) => T.where(T.le(x, y), x, y));
    await exact([{ data: ints, dtype: 'int32', shape: [2, 4] }, { data: other, dtype: 'int32', shape: [4, 2] }], (x, y) => T.matmul(x, y));
  });

  it('float32 specials: NaN, infinities, signed zero, pow of negative bases', async () => {
    const f = (data: number[]) => ({ data, dtype: 'float32' as const });
    const v = [NaN, Infinity, -Infinity, 0, -0, 1, -2, 0.5];
    await exact([f(v), f([1, NaN, 2, 3, 0, Infinity, -Infinity, -0.5])], (x, y) => T.maximum(x, y));
    await exact([f(v), f([1, NaN, 2, 3, 0, Infinity, -Infinity, -0.5])], (x, y) => T.minimum(x, y));
    await exact([f([-2, -2, -2, 0, 0, -0, 1, 4]), f([2, 3, 0.5, -1, 2, 3, NaN, 0])], (x, y) => T.pow(x, y));
    await exact([f(v)], (x) => T.cast(x, 'int32'));
    await exact([f(v)], (x) => T.cast(x, 'bool'));
    await exact([f(v), f([0, 0, 1, 0, -0, 1, 0, 2])], (x, y) => T.lt(x, y));
    await exact([f(v), f([NaN, 0, 1, 0, -0, 1, 0, 2])], (x, y) => T.eq(x, y));
    await exact([f([3, -1, 0, 5]), f([0, 0, 0, 0])], (x, y) => T.div(x, y));
    await exact([f([1, 2, NaN, 3, -1])], (x) => T.max(x));
    await exact([f([1, 2, NaN, 3, -1])], (x) => T.argmax(x, 0));
  });
});

describe('large kernel paths against js', () => {
  it('matmul: vec4 loads with ragged tiles, strided operands, batches, split-K', async () => {
    expect(await compare([[70, 36], [36, 68]], (a, b) => T.matmul(a, b))).toBeLessThan(1e-5);
    expect(await compare([[3, 36, 70], [68, 36]], (a, b) => T.matmul(a.transpose(), b.T))).toBeLessThan(1e-5);
    expect(await compare([[2, 3, 33, 20], [3, 20, 9]], (a, b) => T.matmul(a, b))).toBeLessThan(1e-5);
    // Few output tiles, long K: split-K with a second summing pass.
    expect(await compare([[8, 3000], [3000, 12]], (a, b) => T.matmul(a, b))).toBeLessThan(1e-5);
    expect(await compare([[5, 2048], [2048, 8]], withGrads((a, b) => T.matmul(a, b)))).toBeLessThan(1e-5);
  });

  it('reductions with workgroup trees (long rows) and argmax over long axes', async () => {
    expect(await compare([[6, 1000]], (x) => [T.sum(x, 1), T.max(x, 1), T.min(x, 0), T.mean(x)])).toBeLessThan(1e-5);
    expect(await compare([[40, 3, 50]], (x) => [T.sum(x.permute(1, 0, 2), [1, 2]), T.prod(T.add(T.mul(x, 0.01), 1), [0, 2])])).toBeLessThan(1e-5);
    expect(await compare([[5, 777]], (x) => [T.argmax(x, 1).cast('float32'), T.argmin(x.T, 0).cast('float32')])).toBe(0);
  });

  it('fused layer norm, log-softmax and GELU on long lines, forward and backward', async () => {
    expect(await compare([[6, 768]], withGrads((x) => T.layerNorm(x, [768], null, null, 1e-6)))).toBeLessThan(1e-4);
    expect(await compare([[2, 96, 4, 4]], withGrads((x) => T.standardize(x, 1, 1e-6)))).toBeLessThan(1e-4);
    expect(await compare([[4, 1000]], withGrads((x) => T.logSoftmax(x, -1)))).toBeLessThan(1e-4);
    expect(await compare([[3, 500]], withGrads((x) => T.gelu(T.mul(x, 3))))).toBeLessThan(1e-4);
  });

  it('dense conv as implicit GEMM with a split-K weight gradient; depthwise 7x7 with stride', async () => {
    const dense = withGrads((x, w) => T.conv2d(x, w, null, { padding: 1 }));
    expect(await compare([[4, 8, 20, 20], [16, 8, 3, 3]], dense)).toBeLessThan(1e-4);
    const dw = withGrads((x, w) => T.conv2d(x, w, null, { padding: 3, stride: 2, groups: 12 }));
    expect(await compare([[2, 12, 15, 15], [24, 1, 7, 7]], dw)).toBeLessThan(1e-4);
    // Batch x output pixels >= 4096: the weight gradient reduces in workgroup trees.
    const dwTree = withGrads((x, w) => T.conv2d(x, w, null, { padding: 3, groups: 4 }));
    expect(await compare([[2, 4, 48, 48], [4, 1, 7, 7]], dwTree)).toBeLessThan(1e-4);
  });

  it('dispatch grids beyond 65,535 workgroups (2-D grids)', async () => {
    // 65,537 workgroups of 256 threads in an elementwise kernel.
    const n = 65_537 * 256;
    const x = T.full([n], 1.5, { backend: gpu });
    const y = T.mul(x, 2);
    const d = await y.data();
    expect(d.length).toBe(n);
    expect(d[0]).toBe(3);
    expect(d[n - 1]).toBe(3);
    expect(d.every((v) => v === 3)).toBe(true);
    T.dispose([x, y]);
  });
});

describe('dispatch and memory', () => {
  it('batches many dispatches per submission and reads back only on data()', async () => {
    const before = gpu.stats();
    let x = T.ones([64], { backend: gpu });
    const start = x;
    for (let i = 0; i < 300; i++) {
      const next = T.add(x, 1);
      if (x !== start) x.dispose();
      x = next;
    }
    const mid = gpu.stats();
    expect(mid.dispatches - before.dispatches).toBeGreaterThanOrEqual(300);
    expect(mid.submits - before.submits).toBeLessThanOrEqual(Math.ceil((mid.dispatches - before.dispatches) / 128) + 1);
    expect((await x.data())[0]).toBe(301);
    T.dispose([x, start]);
  });

  it('reuses a freed buffer safely while commands that read it are not yet submitted', async () => {
    const x = T.tensor([1, 2, 3, 4], { backend: gpu });
    const y = T.mul(x, 2); // recorded, not submitted: it still has to read x
    x.dispose(); // x's buffer goes back to the pool
    const z = T.tensor([10, 20, 30, 40], { backend: gpu }); // an upload into that buffer must wait for y
    const x2 = T.tensor([5, 6, 7, 8], { backend: gpu });
    const w = T.add(y, 1);
    y.dispose(); // y's buffer may be reused by the next kernel output in the same pass
    const v = T.mul(x2, 3);
    expect(Array.from(await w.data())).toEqual([3, 5, 7, 9]);
    expect(Array.from(await z.data())).toEqual([10, 20, 30, 40]);
    expect(Array.from(await v.data())).toEqual([15, 18, 21, 24]);
    T.dispose([z, x2, w, v]);
  });

  it('data() captures the values when called, even if the tensor is freed and its buffer reused at once', async () => {
    const own = await createWebGPUBackend(); // empty pipeline cache: builds are still being validated during the read
    const x = T.tensor([0, 1, 2], { backend: own });
    const y = T.exp(x);
    const pending = y.data();
    y.dispose();
    const z = T.neg(x); // its output reuses y's buffer
    const got = Array.from(await pending);
    [1, Math.E, Math.E ** 2].forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
    expect(Array.from(await z.data())).toEqual([-0, -1, -2]);
    own.destroy();
  });

  it('turns a kernel that fails to build into an error on the next read', async () => {
    const own = await createWebGPUBackend(); // its own device: a failed build poisons the backend that saw it
    const x = T.tensor([1, 2], { backend: own });
    const dispatch = (own as unknown as { dispatch: (...a: unknown[]) => void }).dispatch.bind(own);
    const out = own.upload(new Float32Array(2), 'float32');
    dispatch('broken', () => '@compute @workgroup_size(1) fn main() { let a: f32 = undefined_thing; }', out, [], { i32: new Int32Array(64) }, [1, 1, 1]);
    await expect(x.data()).rejects.toThrow(/kernel 'broken' failed to build/);
    own.destroy();
  });

  it('reuses pooled buffers: a 200-step loop holds a flat memory line', async () => {
    const w = T.randn([32, 32], { backend: gpu });
    const step = () =>
      T.tidy(() => {
        const x = T.randn([16, 32], { backend: gpu });
        return T.sum(T.gelu(T.matmul(x, w))).mul(0);
      });
    const s0 = step();
    await s0.data();
    s0.dispose();
    const m0 = T.memory().backends['webgpu']!;
    const created0 = gpu.stats().created;
    for (let i = 0; i < 200; i++) step().dispose();
    const last = step();
    await last.data();
    last.dispose();
    const m1 = T.memory().backends['webgpu']!;
    expect(m1.buffers).toBe(m0.buffers);
    expect(m1.bytes).toBe(m0.bytes);
    expect(gpu.stats().created - created0).toBeLessThanOrEqual(2);
    expect(gpu.stats().reused).toBeGreaterThan(1000);
    w.dispose();
    gpu.emptyCache();
    expect(gpu.stats().pooledBuffers).toBe(0);
  });
});
