/** Bad input to the conv/pool/resampling ops of issue 8 gives an error naming the op and the problem. */
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';

const x4 = () => T.zeros([1, 2, 4, 4]);
const x3 = () => T.zeros([1, 2, 5]);

describe('conv/pool/resampling: clear errors', () => {
  it('conv1d / conv3d', () => {
    expect(() => T.conv1d(x4(), T.zeros([2, 2, 3]))).toThrow(/conv1d: input must be 3-D/);
    expect(() => T.conv1d(x3(), T.zeros([2, 2, 3, 1]))).toThrow(/conv1d: weight must be 3-D/);
    expect(() => T.conv1d(x3(), T.zeros([2, 3, 3]))).toThrow(/conv1d: weight \[2, 3, 3\] expects 3 input channels/);
    expect(() => T.conv1d(x3(), T.zeros([2, 2, 9]))).toThrow(/conv1d: input length 5 .* smaller than the kernel 9/);
    expect(() => T.conv1d(x3(), T.zeros([2, 2, 3]), null, { stride: 0 })).toThrow(/conv1d: stride must be an integer >= 1/);
    expect(() => T.conv1d(x3(), T.zeros([3, 2, 1]), T.zeros([2]))).toThrow(/conv1d: bias must have shape \[3\]/);
    expect(() => T.conv3d(x4(), T.zeros([1, 2, 1, 1, 1]))).toThrow(/conv3d: input must be 5-D/);
    expect(() => T.conv3d(T.zeros([1, 2, 2, 2, 2]), T.zeros([1, 2, 3, 1, 1]))).toThrow(/conv3d: input depth 2 .* smaller than the kernel 3/);
    expect(() => T.conv3d(T.zeros([1, 2, 2, 2, 2]), T.zeros([3, 1, 1, 1, 1]), null, { groups: 2 })).toThrow(/conv3d: in channels 2 and out channels 3 must both divide by groups 2/);
    expect(() => T.conv3d(T.zeros([1, 2, 2, 2, 2]), T.zeros([1, 2, 1, 1, 1]), null, { padding: [1, 1] as unknown as [number, number, number] })).toThrow(/conv3d: padding must be an integer or three integers/);
  });

  it('convTranspose2d / convTranspose1d', () => {
    expect(() => T.convTranspose2d(x4(), T.zeros([3, 1, 2, 2]))).toThrow(/convTranspose2d: weight \[3, 1, 2, 2\] expects 3 input channels/);
    expect(() => T.convTranspose2d(x4(), T.zeros([2, 1, 2, 2]), null, { stride: 2, outputPadding: 2 })).toThrow(/convTranspose2d: outputPadding \[2, 2\] must be smaller than either stride \[2, 2\] or dilation \[1, 1\]/);
    expect(() => T.convTranspose2d(x4(), T.zeros([2, 1, 1, 1]), null, { padding: 3 })).toThrow(/convTranspose2d: output size .* is not positive/);
    expect(() => T.convTranspose2d(x4(), T.zeros([2, 1, 1, 1]), null, { groups: 3 })).toThrow(/convTranspose2d: in channels 2 must divide by groups 3/);
    expect(() => T.convTranspose2d(x4(), T.zeros([2, 1, 1, 1]), T.zeros([2]))).toThrow(/convTranspose2d: bias must have shape \[1\]/);
    expect(() => T.convTranspose2d(x3(), T.zeros([2, 1, 1]))).toThrow(/convTranspose2d: input must be 4-D/);
    expect(() => T.convTranspose1d(x3(), T.zeros([2, 1, 2]), null, { stride: 1, outputPadding: 1 })).toThrow(/convTranspose1d: outputPadding 1 must be smaller than either stride 1 or dilation 1/);
    expect(() => T.convTranspose2d(x4(), T.zeros([2, 1, 1, 1], { dtype: 'float64' }))).toThrow(/convTranspose2d: dtype mismatch/);
  });

  it('unfold / fold', () => {
    expect(() => T.unfold(T.zeros([4, 4]), 2)).toThrow(/unfold: input must be 4-D/);
    expect(() => T.unfold(x4(), 5)).toThrow(/unfold: input height 4 .* smaller than the kernel 5/);
    expect(() => T.fold(T.zeros([1, 6, 9]), [4, 4], 2)).toThrow(/fold: input dimension 1 \(6\) must be divisible by the kernel's size 2\*2 = 4/);
    expect(() => T.fold(T.zeros([1, 8, 8]), [4, 4], 2)).toThrow(/fold: input has 8 blocks .* gives 3\*3 = 9/);
    expect(() => T.fold(T.zeros([8]), [4, 4], 2)).toThrow(/fold: input must be 3-D/);
  });

  it('pad modes', () => {
    expect(() => T.pad(x3(), [5, 0], { mode: 'reflect' })).toThrow(/pad: reflect padding \(5, 0\) of dimension 2 must be smaller than its size 5/);
    expect(() => T.pad(x3(), [0, 6], { mode: 'circular' })).toThrow(/pad: circular padding \(0, 6\) of dimension 2 must be at most its size 5/);
    expect(() => T.pad(x3(), [1, 1], { mode: 'wrap' as T.PadMode })).toThrow(/pad: mode must be one of 'constant', 'reflect', 'replicate', 'circular', got "wrap"/);
    expect(() => T.pad(x3(), [1, 1], { mode: 'replicate', value: 2 })).toThrow(/pad: a fill value \(2\) only applies to mode 'constant'/);
    expect(() => T.pad(x3(), [1], { mode: 'replicate' })).toThrow(/pad: pads must come in pairs/);
    expect(() => T.pad(x3(), [-1, 1], { mode: 'reflect' })).toThrow(/pad: pads must be non-negative integers in mode 'reflect'/);
    expect(() => T.pad(T.zeros([2, 0]), [1, 1], { mode: 'replicate' })).toThrow(/pad: replicate padding needs a non-empty dimension 1/);
  });

  it('interpolate', () => {
    expect(() => T.interpolate(x4(), { mode: 'bilinear' })).toThrow(/interpolate: give exactly one of size and scaleFactor/);
    expect(() => T.interpolate(x4(), { size: 3, scaleFactor: 2 })).toThrow(/interpolate: give exactly one of size and scaleFactor/);
    expect(() => T.interpolate(x4(), { size: 3, mode: 'linear' })).toThrow(/interpolate: mode 'linear' needs 3-D input, got 4-D/);
    expect(() => T.interpolate(x3(), { size: 3, mode: 'bilinear' })).toThrow(/interpolate: mode 'bilinear' needs 4-D input/);
    expect(() => T.interpolate(x4(), { size: 3, mode: 'nearest', alignCorners: true })).toThrow(/interpolate: alignCorners can only be set with the interpolating modes/);
    expect(() => T.interpolate(x4(), { size: [3, 3, 3] })).toThrow(/interpolate: size must have one entry per spatial dim \(2\)/);
    expect(() => T.interpolate(x4(), { size: [0, 3] })).toThrow(/interpolate: size must be positive integers/);
    expect(() => T.interpolate(x4(), { scaleFactor: 0.1 })).toThrow(/interpolate: scaleFactor 0.1 shrinks spatial size \[4, 4\] to \[0, 0\]/);
    expect(() => T.interpolate(x4(), { scaleFactor: -2 })).toThrow(/interpolate: scaleFactor must be positive finite numbers/);
    expect(() => T.interpolate(x4(), { size: 2, recomputeScaleFactor: true })).toThrow(/interpolate: recomputeScaleFactor only applies with scaleFactor/);
    expect(() => T.interpolate(x4(), { size: 2, mode: 'lanczos' as T.InterpolateMode })).toThrow(/interpolate: mode must be one of/);
    expect(() => T.interpolate(T.zeros([2, 2]), { size: 2 })).toThrow(/interpolate: input must be 3-D, 4-D or 5-D/);
    expect(() => T.interpolate(T.zeros([1, 1, 2, 2, 2]), { size: 2, mode: 'area' })).toThrow(/interpolate: mode 'area' supports 3-D and 4-D input/);
    expect(() => T.interpolate(T.zeros([1, 1, 2], { dtype: 'int32' }), { size: 2 })).toThrow(/interpolate: expected a float32 or float64 tensor, got int32/);
  });

  it('pooling', () => {
    expect(() => T.maxPool2d(x4(), 2, { padding: 2 })).toThrow(/maxPool2d: padding \[2, 2\] must be at most half the kernel \[2, 2\]/);
    expect(() => T.maxPool2d(x4(), 2, { dilation: 0 })).toThrow(/maxPool2d: dilation must be integers >= 1/);
    expect(() => T.maxPool2d(T.zeros([1, 1, 2, 2]), 2, { padding: 1, dilation: 3, stride: 1 })).toThrow(/maxPool2d: window 0 .* lies entirely in the padding/);
    expect(() => T.maxPool2d(x4(), 5)).toThrow(/maxPool2d: input height 4 .* smaller than the kernel 5/);
    expect(() => T.avgPool2d(x4(), 2, { divisorOverride: 0 })).toThrow(/avgPool2d: divisorOverride must be a non-zero integer, got 0/);
    expect(() => T.adaptiveMaxPool2d(x3(), 2)).toThrow(/adaptiveMaxPool2d: input must be 4-D NCHW/);
    expect(() => T.adaptiveMaxPool2d(x4(), 0)).toThrow(/adaptiveMaxPool2d: outputSize must be integers >= 1/);
    expect(() => T.maxPool1d(x4(), 2)).toThrow(/maxPool1d: input must be 3-D \[N, C, L\]/);
    expect(() => T.avgPool1d(x3(), [2, 2] as unknown as [number])).toThrow(/avgPool1d: kernelSize must be an integer >= 1/);
    expect(() => T.adaptiveAvgPool1d(x4(), 2)).toThrow(/adaptiveAvgPool1d: input must be 3-D/);
    const [y, idx] = T.maxPool2d(x4(), 2, { returnIndices: true });
    expect(() => T.maxUnpool2d(y, idx.cast('float32'), 2)).toThrow(/maxUnpool2d: indices must be int32/);
    expect(() => T.maxUnpool2d(y, T.zeros([1, 2, 1, 1], { dtype: 'int32' }), 2)).toThrow(/maxUnpool2d: indices \[1, 2, 1, 1\] must have the input's shape \[1, 2, 2, 2\]/);
    expect(() => T.maxUnpool2d(y, T.full([1, 2, 2, 2], 16, { dtype: 'int32' }), 2)).toThrow(/maxUnpool2d: index 16 .* out of range for output size \[4, 4\]/);
    expect(() => T.maxUnpool2d(y, idx, 2, { outputSize: [7, 4] })).toThrow(/maxUnpool2d: outputSize \[7, 4\] must be within one stride \[2, 2\] of \[4, 4\]/);
  });

  it('pad keeps the old signature pad(x, pads, value) and Tensor.pad takes modes', () => {
    const x = T.tensor([1, 2, 3]);
    expect(T.pad(x, [1, 1], 9).toArray()).toEqual([9, 1, 2, 3, 9]);
    expect(x.pad([2, 2], { mode: 'reflect' }).toArray()).toEqual([3, 2, 1, 2, 3, 2, 1]);
    expect(x.pad([2, 1], { mode: 'replicate' }).toArray()).toEqual([1, 1, 1, 2, 3, 3]);
    expect(x.pad([1, 3], { mode: 'circular' }).toArray()).toEqual([3, 1, 2, 3, 1, 2, 3]);
  });
});
