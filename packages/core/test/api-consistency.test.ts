/** Reading values the same way on every backend, printing in Node, and the dtype of number literals. */
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { getBackend, tensor, zeros, type Backend } from '@tsgrad/core';
import * as T from '@tsgrad/core';

/** The current backend, posing as one that cannot read synchronously (as WebGPU). */
function asyncOnly(): Backend {
  const b = getBackend();
  return new Proxy(b, {
    get(target, key) {
      if (key === 'canReadSync') return false;
      if (key === 'name') return 'gpu-like';
      const v = Reflect.get(target, key, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}

describe('reading values', () => {
  it('array() gives nested arrays like toArray(), on every backend', async () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]]);
    expect(await t.array()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(await t.array()).toEqual(t.toArray());
    expect(await t.T.array()).toEqual([[1, 4], [2, 5], [3, 6]]); // a strided view
    expect(await tensor(7).array()).toBe(7); // 0-d: a number
    expect(await tensor([true, false]).array()).toEqual([true, false]);
    expect(await zeros([2, 0]).array()).toEqual([[], []]);
    const g = tensor([[1, 2], [3, 4]], { backend: asyncOnly() });
    expect(await g.array()).toEqual([[1, 2], [3, 4]]);
  });

  it('the synchronous reads on an async-only backend name the async form', () => {
    const g = tensor([5], { backend: asyncOnly() });
    expect(() => g.item()).toThrow("item: backend 'gpu-like' cannot read synchronously; use (await tensor.data())[0] instead");
    expect(() => g.toArray()).toThrow("toArray: backend 'gpu-like' cannot read synchronously; use await tensor.array() instead");
    expect(() => g.dataSync()).toThrow("dataSync: backend 'gpu-like' cannot read synchronously; use await tensor.data() instead");
    expect(() => tensor([1, 2]).item()).toThrow(/tensor has 2 elements, not 1/);
  });
});

describe('printing', () => {
  it("console.log / util.inspect show the values as toString(), not the internals", () => {
    const t = tensor([[1, 2], [3, 4]]);
    expect(inspect(t)).toBe(t.toString());
    expect(inspect(t)).toBe('tensor([[1.0000, 2.0000],\n        [3.0000, 4.0000]])');
    expect(inspect({ x: tensor([1], { dtype: 'int32' }) })).toContain('tensor([1], dtype=int32)');
    const g = tensor([1, 2], { backend: asyncOnly() });
    expect(inspect(g)).toBe(g.toString());
    expect(inspect(g)).not.toContain('storageRef');
  });
});

describe('number literals', () => {
  it('are float32 even when all are integers (JavaScript has no integer literals); int32 on request', () => {
    expect(tensor([0, 1, 2]).dtype).toBe('float32');
    expect(tensor([1.0, 2.0]).dtype).toBe('float32');
    expect(tensor(3).dtype).toBe('float32');
    expect(tensor([0, 1, 2], { dtype: 'int32' }).dtype).toBe('int32');
    expect(tensor(Int32Array.from([0, 1])).dtype).toBe('int32');
    expect(tensor([true]).dtype).toBe('bool');
  });
});

describe('conv2d: bias in one place for the function and the method', () => {
  it('x.conv2d(w, bias, opts) equals conv2d(x, w, bias, opts)', () => {
    T.manualSeed(3);
    const x = T.randn([1, 2, 5, 5]);
    const w = T.randn([3, 2, 3, 3]);
    const b = T.randn([3]);
    const f = T.conv2d(x, w, b, { padding: 1, stride: 2 }).dataSync();
    const m = x.conv2d(w, b, { padding: 1, stride: 2 }).dataSync();
    expect(Array.from(m)).toEqual(Array.from(f));
  });
  it('options passed where the bias goes are refused with a clear error', () => {
    const x = T.randn([1, 2, 5, 5]);
    const w = T.randn([3, 2, 3, 3]);
    const opts = { padding: 1 } as unknown as T.Tensor;
    expect(() => x.conv2d(w, opts)).toThrow(/bias must be a Tensor or null; options go after it/);
  });
});
