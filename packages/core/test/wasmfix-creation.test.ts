/**
 * Regressions of issue 8, defects 6 and 7, on the js reference backend: erf/gelu at
 * +-Inf, logsumexp at infinities, checked creation (int32 range instead of silent wrapping,
 * element types, unknown dtypes on every creation function, oneHot's class range) and
 * `full` values on the host-staging path (a backend without `fill`). Expected values are
 * PyTorch's (float32).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';

beforeAll(async () => {
  await T.setBackend('js');
});

const vals = (t: T.Tensor) => Array.from(t.dataSync());

describe('edge values on js', () => {
  it('erf(+-inf) = +-1, erf(NaN) = NaN', () => {
    expect(vals(T.erf(T.tensor([Infinity, -Infinity, NaN, 0])))).toEqual([1, -1, NaN, 0]);
    expect(vals(T.erf(T.tensor([Infinity, -Infinity], { dtype: 'float64' })))).toEqual([1, -1]);
  });

  it('gelu(inf) = inf and gelu(-inf) = NaN, as PyTorch (both forms)', () => {
    expect(vals(T.gelu(T.tensor([Infinity, -Infinity, NaN, 0])))).toEqual([Infinity, NaN, NaN, 0]);
    expect(vals(T.gelu(T.tensor([Infinity, -Infinity, NaN, 0]), 'tanh'))).toEqual([Infinity, NaN, NaN, 0]);
  });

  it('logsumexp: [inf, 0] is inf, all -inf is -inf, [-inf, 0] is 0', () => {
    expect(vals(T.logsumexp(T.tensor([[Infinity, 0], [-Infinity, -Infinity], [-Infinity, 0]]), 1))).toEqual([Infinity, -Infinity, 0]);
  });
});

describe('int32 creation never wraps', () => {
  it('tensor, fromTypedArray and full throw past int32 (and for NaN/Inf)', () => {
    expect(() => T.tensor([1, 2 ** 31], { dtype: 'int32' })).toThrow(/tensor: value 2147483648 at \[1\] cannot be stored as int32/);
    expect(() => T.tensor([-(2 ** 31) - 1], { dtype: 'int32' })).toThrow(RangeError);
    expect(() => T.tensor([NaN], { dtype: 'int32' })).toThrow(/value NaN at \[0\] cannot be stored as int32/);
    expect(() => T.tensor(new Float64Array([3e9]), { dtype: 'int32' })).toThrow(/cannot be stored as int32/);
    expect(() => T.fromTypedArray([Infinity], [1], 'int32')).toThrow(/cannot be stored as int32/);
    expect(() => T.full([2], 2 ** 31, { dtype: 'int32' })).toThrow(/full: value 2147483648 cannot be stored as int32/);
    expect(() => T.randint(0, 2 ** 32, [2])).toThrow(/randint: the range \[0, 4294967296\) does not fit int32/);
  });

  it('the int32 extremes are kept exactly; non-integers truncate toward zero as PyTorch', () => {
    expect(vals(T.tensor([-(2 ** 31), 2 ** 31 - 1], { dtype: 'int32' }))).toEqual([-(2 ** 31), 2 ** 31 - 1]);
    expect(vals(T.tensor([1.7, -1.7], { dtype: 'int32' }))).toEqual([1, -1]);
    expect(vals(T.full([2], 7.9, { dtype: 'int32' }))).toEqual([7, 7]);
  });

  it('arange past 2^31 throws instead of wrapping', () => {
    expect(() => T.arange(2 ** 31 - 2, 2 ** 31 + 2)).toThrow(/arange: the values from 2147483646 to 2147483649 do not fit int32/);
    expect(() => T.arange(0, -(2 ** 32), -(2 ** 30))).toThrow(/do not fit int32/);
    expect(vals(T.arange(2 ** 31 - 3, 2 ** 31))).toEqual([2 ** 31 - 3, 2 ** 31 - 2, 2 ** 31 - 1]);
    expect(vals(T.arange(2 ** 31 - 2, 2 ** 31 + 1, 1, { dtype: 'float64' }))).toEqual([2 ** 31 - 2, 2 ** 31 - 1, 2 ** 31]);
    expect(() => T.arange(0, Infinity)).toThrow(/arange: end must be a finite number, got Infinity/);
    expect(() => T.arange(NaN)).toThrow(/arange: end must be a finite number, got NaN/);
  });
});

describe('creation checks its inputs', () => {
  it('tensor names an element that is not a number or boolean', () => {
    expect(() => T.tensor(['a'] as unknown as number[])).toThrow(TypeError);
    expect(() => T.tensor(['a'] as unknown as number[])).toThrow(/tensor: element \[0\] is the string 'a'; elements must be numbers or booleans/);
    expect(() => T.tensor([[1, 2], [3, null]] as unknown as number[][])).toThrow(/tensor: element \[1\]\[1\] is null/);
    expect(() => T.tensor([1, undefined] as unknown as number[])).toThrow(/element \[1\] is undefined/);
    expect(() => T.tensor({} as unknown as number)).toThrow(/element \(the scalar\) is an object/);
  });

  it('bool is 0/1, and only all-boolean data infers bool', () => {
    expect(vals(T.tensor([2, 0, NaN], { dtype: 'bool' }))).toEqual([1, 0, 1]);
    expect(vals(T.full([2], 0.5, { dtype: 'bool' }))).toEqual([1, 1]);
    expect(T.tensor([true, false]).dtype).toBe('bool');
    const mixed = T.tensor([true, 2] as unknown as number[]);
    expect(mixed.dtype).toBe('float32');
    expect(vals(mixed)).toEqual([1, 2]);
  });

  it('an unknown dtype gets one clear error on every creation function', () => {
    const bad = { dtype: 'float16' as T.DType };
    const msg = /unknown dtype 'float16'; the supported dtypes are bool, int32, float32, float64/;
    const like = T.zeros([2]);
    const makers: [string, () => unknown][] = [
      ['tensor', () => T.tensor([1], bad)],
      ['tensor', () => T.tensor(new Float32Array(1), bad)],
      ['tensor', () => T.fromTypedArray([1], [1], 'float16' as T.DType)],
      ['full', () => T.zeros([2], bad)],
      ['full', () => T.ones([2], bad)],
      ['full', () => T.full([2], 3, bad)],
      ['full', () => T.zerosLike(like, bad)],
      ['full', () => T.onesLike(like, bad)],
      ['full', () => T.fullLike(like, 1, bad)],
      ['arange', () => T.arange(3, undefined, 1, bad)],
      ['linspace', () => T.linspace(0, 1, 3, bad)],
      ['eye', () => T.eye(2, 2, bad)],
      ['rand', () => T.rand([2], bad)],
      ['randn', () => T.randn([2], bad)],
      ['randint', () => T.randint(0, 3, [2], bad)],
    ];
    for (const [op, make] of makers) {
      expect(make, op).toThrow(TypeError);
      expect(make, op).toThrow(new RegExp(`^${op}: ${msg.source}`));
    }
  });

  it('oneHot throws for a class index out of range, naming it and numClasses', () => {
    expect(() => T.oneHot(T.tensor([0, 3, 1], { dtype: 'int32' }), 3)).toThrow(/oneHot: class index 3 \(at flat index 1\) is out of range for numClasses 3/);
    expect(() => T.oneHot(T.tensor([[0], [-1]], { dtype: 'int32' }), 3)).toThrow(/oneHot: class index -1 .*numClasses 3/);
    expect(vals(T.oneHot(T.tensor([2, 0], { dtype: 'int32' }), 3))).toEqual([0, 0, 1, 1, 0, 0]);
  });
});

describe('full without a device fill (host staging path)', () => {
  it('gives the right values for every dtype', () => {
    const js = T.getBackend();
    expect(js.fill).toBeUndefined();
    expect(vals(T.full([3], -2.5))).toEqual([-2.5, -2.5, -2.5]);
    expect(vals(T.full([2], 0.1, { dtype: 'float64' }))).toEqual([0.1, 0.1]);
    expect(vals(T.full([2], -7, { dtype: 'int32' }))).toEqual([-7, -7]);
    expect(vals(T.ones([2], { dtype: 'bool' }))).toEqual([1, 1]);
    expect(vals(T.zeros([0]))).toEqual([]);
    expect(vals(T.full([], 4))).toEqual([4]);
  });
});

describe('tensor from nested arrays', () => {
  it('names the nested position of a value that does not fit the dtype, and keeps shapes and values', () => {
    expect(() => T.tensor([[1, 2], [3, 2 ** 40]], { dtype: 'int32' })).toThrow(/tensor: value 1099511627776 at \[1\]\[1\] cannot be stored as int32/);
    expect(() => T.fromTypedArray(new Float64Array([1, -(2 ** 32)]), [2], 'int32')).toThrow(/value -4294967296 at flat index 1/);
    const x = T.tensor([[1.5, 2], [3, 4]]);
    expect([x.shape, x.dtype, vals(x)]).toEqual([[2, 2], 'float32', [1.5, 2, 3, 4]]);
    const b = T.tensor([[true], [false]]);
    expect([b.shape, b.dtype, vals(b)]).toEqual([[2, 1], 'bool', [1, 0]]);
    expect(vals(T.tensor([1, 2, 3, 4], { shape: [2, 2], dtype: 'float64' }))).toEqual([1, 2, 3, 4]);
    expect(T.tensor([]).shape).toEqual([0]);
    expect(vals(T.tensor(3))).toEqual([3]);
  });
});
