/** The reference scalar semantics and strided offsets core exports for other CPU backends (one copy, the js backend's). */
import { describe, expect, it } from 'vitest';
import * as T from '../src/index.js';

describe('shared scalar semantics', () => {
  it('erf to ~1e-15 on both branches, and odd', () => {
    // Values from mpmath.
    expect(T.scalarErf(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(T.scalarErf(1)).toBeCloseTo(0.8427007929497149, 15);
    expect(T.scalarErf(3)).toBeCloseTo(0.9999779095030014, 15);
    expect(T.scalarErf(-3)).toBe(-T.scalarErf(3));
    expect(T.scalarErf(Infinity)).toBe(1);
    expect(T.scalarErf(-Infinity)).toBe(-1);
    expect(T.scalarErf(NaN)).toBeNaN();
    expect(T.SCALAR_UNARY.erf).toBe(T.scalarErf);
  });

  it('is what the js backend computes', () => {
    const x = T.tensor([-3.5, -2.5, -0.5, 0.5, 1.5, 2.5, 4]);
    const xs = x.toArray() as number[];
    expect(T.erf(x).toArray()).toEqual(Array.from(Float32Array.from(xs.map(T.scalarErf))));
    expect(T.round(x).toArray()).toEqual([-4, -2, -0, 0, 2, 2, 4]);
    expect(xs.map(T.roundHalfEven)).toEqual([-4, -2, -0, 0, 2, 2, 4]);
  });

  it('binary and compare tables: NaN propagates through maximum, int32 results truncate', () => {
    expect(T.SCALAR_BINARY.maximum(NaN, 1)).toBeNaN();
    expect(T.SCALAR_BINARY.minimum(2, -1)).toBe(-1);
    expect(T.truncateIntResult('int32', T.SCALAR_BINARY.div)(-7, 2)).toBe(-3);
    expect(T.truncateIntResult('float32', T.SCALAR_BINARY.div)(-7, 2)).toBe(-3.5);
    expect(T.SCALAR_COMPARE.le(1, 1)).toBe(true);
    expect(T.SCALAR_COMPARE.ne(NaN, NaN)).toBe(true);
  });

  it('strided offsets in row-major order of the shape', () => {
    // A transposed 2x3 view of a 3x2 buffer.
    expect([...T.offsetsOf([3, 2], [1, 3], 0)]).toEqual([0, 3, 1, 4, 2, 5]);
    expect([...T.offsetsOf([2, 2], [0, -1], 5)]).toEqual([5, 4, 5, 4]);
    expect([...T.offsetsOf([], [], 7)]).toEqual([7]);
    expect(T.viewOffsets({ shape: [2, 3], strides: [3, 1], offset: 0 })).toBeNull();
    expect([...T.viewOffsets({ shape: [2], strides: [2], offset: 1 })!]).toEqual([1, 3]);
  });
});
