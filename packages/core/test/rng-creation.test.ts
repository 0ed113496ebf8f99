/** The seeded Philox generator, creation functions, data access and printing. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';

describe('Philox 4x32-10', () => {
  it('matches the Random123 known-answer vectors', () => {
    const out = new Uint32Array(4);
    const hex = () => [...out].map((v) => v.toString(16).padStart(8, '0'));
    T.philox4x32(0, 0, 0, 0, 0, 0, out, 0);
    expect(hex()).toEqual(['6627e8d5', 'e169c58d', 'bc57ac4c', '9b00dbd8']);
    T.philox4x32(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, out, 0);
    expect(hex()).toEqual(['408f276d', '41c83b0e', 'a20bc7c6', '6d5451fd']);
    T.philox4x32(0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, out, 0);
    expect(hex()).toEqual(['d16cfe09', '94fdcceb', '5001e420', '24126ea1']);
  });

  it('the same seed gives the same numbers; draws advance the stream', () => {
    T.manualSeed(42);
    const a = T.randn([5]).dataSync();
    const b = T.rand([3]).dataSync();
    T.manualSeed(42);
    expect(T.randn([5]).dataSync()).toEqual(a);
    expect(T.rand([3]).dataSync()).toEqual(b);
    expect(T.randn([5]).dataSync()).not.toEqual(a);
  });

  it('uniform values lie in [0, 1); normals have mean 0 and variance 1; randint stays in range', () => {
    const g = new T.Generator(7);
    const u = T.rand([20000], { generator: g });
    expect(u.min().item()).toBeGreaterThanOrEqual(0);
    expect(u.max().item()).toBeLessThan(1);
    expect(u.mean().item()).toBeCloseTo(0.5, 2);
    const n = T.randn([20000], { generator: g, dtype: 'float64' });
    expect(n.mean().item()).toBeCloseTo(0, 1);
    expect(n.var().item()).toBeCloseTo(1, 1);
    const r = T.randint(-3, 4, [5000], { generator: g });
    expect(r.dtype).toBe('int32');
    expect(r.min().item()).toBe(-3);
    expect(r.max().item()).toBe(3);
  });
});

describe('creation', () => {
  it('tensor() infers shape and dtype from nested arrays and typed arrays', () => {
    expect(T.tensor([[1, 2], [3, 4]]).shape).toEqual([2, 2]);
    expect(T.tensor([[1, 2], [3, 4]]).dtype).toBe('float32');
    expect(T.tensor([true, false]).dtype).toBe('bool');
    expect(T.tensor(new Int32Array([1, 2, 3])).dtype).toBe('int32');
    expect(T.tensor(new Float64Array([1, 2, 3, 4]), { shape: [2, 2] }).toArray()).toEqual([[1, 2], [3, 4]]);
    expect(T.tensor(5).shape).toEqual([]);
    expect(T.tensor(5).item()).toBe(5);
  });

  it('zeros, ones, full, eye, arange, linspace and the *Like forms', () => {
    expect(T.zeros([2, 1]).toArray()).toEqual([[0], [0]]);
    expect(T.ones([2], { dtype: 'int32' }).toArray()).toEqual([1, 1]);
    expect(T.full([2], 7, { dtype: 'float64' }).toArray()).toEqual([7, 7]);
    expect(T.eye(2, 3).toArray()).toEqual([[1, 0, 0], [0, 1, 0]]);
    expect(T.arange(4).toArray()).toEqual([0, 1, 2, 3]);
    expect(T.arange(1, 2, 0.25).toArray()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(T.arange(5, 0, -2).toArray()).toEqual([5, 3, 1]);
    expect(T.linspace(0, 1, 5).toArray()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    const x = T.randn([2, 3], { dtype: 'float64' });
    expect(T.zerosLike(x).dtype).toBe('float64');
    expect(T.onesLike(x).shape).toEqual([2, 3]);
    expect(T.fullLike(x, 2).toArray()).toEqual([[2, 2, 2], [2, 2, 2]]);
    expect(T.randLike(x).shape).toEqual([2, 3]);
    expect(T.randnLike(x).dtype).toBe('float64');
    expect(T.randintLike(x, 0, 2).dtype).toBe('int32');
  });

  it('data(), dataSync() and toArray() read views in logical order', async () => {
    const x = T.arange(6).reshape(2, 3).T;
    expect(Array.from(await x.data())).toEqual([0, 3, 1, 4, 2, 5]);
    expect(Array.from(x.dataSync())).toEqual([0, 3, 1, 4, 2, 5]);
    expect(x.toArray()).toEqual([[0, 3], [1, 4], [2, 5]]);
    expect(T.tensor([true, false]).toArray()).toEqual([true, false]);
  });

  it('toString() renders like PyTorch', () => {
    expect(T.tensor([[1, 2.5], [-3, 4]]).toString()).toBe('tensor([[ 1.0000,  2.5000],\n        [-3.0000,  4.0000]])');
    expect(T.arange(3).toString()).toBe('tensor([0, 1, 2], dtype=int32)');
    expect(T.tensor(2, { dtype: 'float64' }).requiresGrad_().toString()).toBe('tensor(2.0000, dtype=float64, requiresGrad=true)');
    expect(T.zeros([2000]).toString()).toMatch(/^tensor\(\[0\.0000, 0\.0000, 0\.0000, \.\.\., 0\.0000, 0\.0000, 0\.0000\]\)$/);
  });

  it('oneHot, split, flatten and narrow', () => {
    expect(T.oneHot(T.tensor([0, 2], { dtype: 'int32' }), 3).toArray()).toEqual([[1, 0, 0], [0, 0, 1]]);
    expect(T.arange(5).split(2).map((t) => t.toArray())).toEqual([[0, 1], [2, 3], [4]]);
    expect(T.arange(6).split([1, 5]).map((t) => t.shape)).toEqual([[1], [5]]);
    expect(T.zeros([2, 3, 4]).flatten(1).shape).toEqual([2, 12]);
    expect(T.arange(5).narrow(0, 1, 3).toArray()).toEqual([1, 2, 3]);
  });

  it('integer and bool ops keep their dtypes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -50, max: 50 }), { minLength: 1, maxLength: 8 }), fc.integer({ min: 1, max: 9 }), (v, d) => {
        const x = T.tensor(new Int32Array(v));
        expect(Array.from(T.div(x, d).dataSync())).toEqual(v.map((a) => Math.trunc(a / d) | 0));
        expect(T.sum(T.gt(x, 0)).item()).toBe(v.filter((a) => a > 0).length);
        expect(T.gt(x, 0).dtype).toBe('bool');
      }),
    );
  });
});

describe('moving between backends', () => {
  it('to() and toAsync() copy to another initialised backend and keep values', async () => {
    T.registerBackend('js-second', () => new T.JsBackend());
    const other = await T.initBackend('js-second');
    const x = T.arange(6).reshape(2, 3).T;
    const y = x.to('js-second');
    expect(y.backend).toBe(other);
    expect(y.toArray()).toEqual(x.toArray());
    const z = await y.toAsync('js');
    expect(z.backend.name).toBe('js');
    expect(z.toArray()).toEqual(x.toArray());
    expect(x.to(x.backend)).toBe(x);
    expect(() => x.to('nowhere')).toThrow(/to: backend 'nowhere' is not initialised/);
  });
});
