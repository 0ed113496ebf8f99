/** Every wrong call fails at once with an error that names the op and the offending values. */
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';

const f32 = (shape: number[]) => T.zeros(shape);

describe('bad input gets a clear error', () => {
  it('shapes that do not broadcast name both shapes', () => {
    expect(() => T.add(f32([2, 3]), f32([4]))).toThrow(/add: shapes \[2, 3\] and \[4\] cannot be broadcast together \(dimension -1: 3 vs 4\)/);
    expect(() => T.where(T.zeros([2], { dtype: 'bool' }), f32([3]), 0)).toThrow(/where: shapes \[2\] and \[3\]/);
    expect(() => f32([3]).expand([2, 4])).toThrow(/expand: shape \[3\] cannot be expanded to \[2, 4\]/);
  });

  it('matmul and conv dimension mismatches', () => {
    expect(() => T.matmul(f32([2, 3]), f32([4, 5]))).toThrow(/matmul: shapes \[2, 3\] and \[4, 5\] do not match: the first has 3 columns but the second has 4 rows/);
    expect(() => T.matmul(f32([2, 2, 3]), f32([3, 3, 1]))).toThrow(/matmul \(batch dimensions\): shapes \[2\] and \[3\]/);
    expect(() => T.conv2d(f32([1, 3, 8, 8]), f32([4, 2, 3, 3]))).toThrow(/conv2d: weight \[4, 2, 3, 3\] expects 2 input channels .* but the input \[1, 3, 8, 8\] has 3/);
    expect(() => T.conv2d(f32([1, 3, 2, 2]), f32([4, 3, 3, 3]))).toThrow(/conv2d: input height 2 \(padded to 2\) is smaller than the kernel 3/);
    expect(() => T.conv2d(f32([3, 8, 8]), f32([4, 3, 3, 3]))).toThrow(/conv2d: input must be 4-D NCHW, got shape \[3, 8, 8\]/);
    expect(() => T.conv2d(f32([1, 4, 8, 8]), f32([6, 2, 3, 3]), null, { groups: 4 })).toThrow(/conv2d: .*groups 4/);
    expect(() => T.conv2d(f32([1, 3, 8, 8]), f32([4, 3, 3, 3]), f32([3]))).toThrow(/conv2d: bias must have shape \[4\], got \[3\]/);
  });

  it('dtype mismatches', () => {
    expect(() => T.add(f32([2]), T.zeros([2], { dtype: 'float64' }))).toThrow(/add: dtype mismatch: float32 \[2\] vs float64 \[2\]/);
    expect(() => T.matmul(f32([2, 2]), T.zeros([2, 2], { dtype: 'int32' }))).toThrow(/matmul: dtype mismatch/);
    expect(() => T.exp(T.zeros([2], { dtype: 'int32' }))).toThrow(/exp: expected a float32 or float64 tensor, got int32/);
    expect(() => T.mul(T.zeros([2], { dtype: 'int32' }), 0.5)).toThrow(/mul: cannot combine an int32 tensor with the non-integer 0.5/);
    expect(() => T.zeros([2], { dtype: 'int32' }).requiresGrad_()).toThrow(/requiresGrad_: only floating point tensors/);
    expect(() => T.gather(f32([3]), 0, f32([2]))).toThrow(/gather: index must be an int32 tensor, got float32/);
    expect(() => T.tensor([1], { dtype: 'float16' as T.DType })).toThrow(/tensor: unknown dtype 'float16'/);
  });

  it('axes out of range', () => {
    expect(() => f32([2, 3]).sum(2)).toThrow(/sum: axis 2 is out of range for a tensor with 2 dimensions \(expected -2\.\.1\)/);
    expect(() => f32([2, 3]).softmax(-3)).toThrow(/softmax: axis -3 is out of range/);
    expect(() => f32([2, 3]).permute(0, 0)).toThrow(/permute: repeated dim/);
    expect(() => f32([2, 3]).squeeze(0)).toThrow(/squeeze: dimension 0 has length 2, not 1/);
    expect(() => T.cat([f32([2, 3]), f32([2, 4])], 0)).toThrow(/cat: shapes \[2, 3\] and \[2, 4\] differ outside dimension 0/);
  });

  it('a tensor used after dispose()', () => {
    const x = f32([2, 2]);
    x.dispose();
    expect(() => T.add(x, 1)).toThrow(/add: tensor #\d+ \(shape \[2, 2\], float32\) was used after dispose\(\)/);
    expect(() => x.dataSync()).toThrow(/dataSync: .* used after dispose/);
    expect(() => x.reshape(4)).toThrow(/reshape: .* used after dispose/);
  });

  it('backward() on a non-scalar without a gradient', () => {
    const x = T.ones([3]).requiresGrad_();
    expect(() => T.mul(x, 2).backward()).toThrow(/backward: gradient can be implicitly created only for scalar outputs; this tensor has shape \[3\]/);
    expect(() => T.mul(x, 2).backward(T.ones([2]))).toThrow(/backward: gradient shape \[2\] does not match the tensor's shape \[3\]/);
    expect(() => T.ones([1]).backward()).toThrow(/backward: the tensor does not require a gradient/);
  });

  it('backward twice through a freed graph', () => {
    const x = T.ones([2]).requiresGrad_();
    const y = T.sum(T.exp(x));
    y.backward();
    expect(() => y.backward()).toThrow(/already freed by an earlier backward; pass \{retainGraph: true\}/);
  });

  it('data whose length does not match the shape', () => {
    expect(() => T.tensor([1, 2, 3], { shape: [2, 2] })).toThrow(/tensor: data has 3 elements but shape \[2, 2\] needs 4/);
    expect(() => T.tensor([[1, 2], [3]])).toThrow(/tensor: nested arrays are ragged/);
    expect(() => f32([2, 3]).reshape(4)).toThrow(/reshape: cannot reshape \[2, 3\] \(6 elements\) into \[4\]/);
    expect(() => T.zeros([2, -1])).toThrow(/full: invalid shape \[2, -1\]/);
  });

  it('NaN where the user asked to check', () => {
    T.setFlags({ checkNaN: true });
    try {
      expect(() => T.log(T.tensor([1, -1]))).toThrow(/log: produced NaN \(first at flat index 1 of output shape \[2\]\); checkNaN is on/);
      expect(() => T.div(T.zeros([1]), T.zeros([1]))).toThrow(/div: produced NaN/);
      expect(T.log(T.tensor([1, 2])).shape).toEqual([2]);
    } finally {
      T.setFlags({ checkNaN: false });
    }
    expect(Number.isNaN(T.log(T.tensor([-1])).item())).toBe(true);
  });

  it('index out of range, bad options, unknown backend', () => {
    expect(() => T.gather(f32([3]), 0, T.tensor([5], { dtype: 'int32' }))).toThrow(/gather: index 5 is out of range for dimension 0 of length 3/);
    expect(() => T.crossEntropy(f32([4, 3]), T.zeros([5], { dtype: 'int32' }))).toThrow(/crossEntropy: class-index target must have shape \[4\] for input \[4, 3\], got \[5\]/);
    expect(() => T.layerNorm(f32([2, 4]), [3])).toThrow(/layerNorm: normalizedShape \[3\] must match the last dims of the input \[2, 4\]/);
    expect(() => T.dropout(f32([2]), 1.5)).toThrow(/dropout: p must be in \[0, 1\], got 1.5/);
    expect(() => T.arange(0, 5, 0)).toThrow(/arange: step must not be 0/);
    expect(() => f32([2]).item()).toThrow(/item: tensor has 2 elements, not 1/);
    return expect(T.setBackend('nope')).rejects.toThrow(/setBackend: no backend named 'nope' is registered \(have: js/);
  });
});
