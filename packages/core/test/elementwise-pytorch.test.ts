/**
 * Known answers from PyTorch for the elementwise ops of issue 8 (js backend): forward in
 * float64 and float32 and gradients in float64 on the edge values (0, +-inf, NaN, domain
 * ends such as asin(1), acosh(1), atanh(+-1), log1p(-1)), and the float32 precision cases
 * a naive composition gets wrong (log1p(1e-7), expm1(1e-7), sinh(89)).
 */
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { UNARY_KNOWN, X } from './fixtures/elementwise-torch.js';

const OPS: Record<string, (x: Tensor) => Tensor> = {
  log1p: T.log1p,
  expm1: T.expm1,
  log2: T.log2,
  log10: T.log10,
  tan: T.tan,
  asin: T.asin,
  acos: T.acos,
  atan: T.atan,
  sinh: T.sinh,
  cosh: T.cosh,
  asinh: T.asinh,
  acosh: T.acosh,
  atanh: T.atanh,
  floor: T.floor,
  ceil: T.ceil,
  round: (x) => T.round(x),
  trunc: T.trunc,
  frac: T.frac,
  softplus: (x) => T.softplus(x),
  'softplus (beta 2, threshold 5)': (x) => T.softplus(x, { beta: 2, threshold: 5 }),
  logsigmoid: T.logsigmoid,
  silu: T.silu,
  mish: T.mish,
  leakyRelu: (x) => T.leakyRelu(x),
  'leakyRelu (0.2)': (x) => T.leakyRelu(x, 0.2),
  elu: (x) => T.elu(x),
  'elu (alpha 0.5)': (x) => T.elu(x, 0.5),
  selu: T.selu,
  'celu (alpha 2)': (x) => T.celu(x, 2),
  hardtanh: (x) => T.hardtanh(x),
  'hardtanh (-2, 0.5)': (x) => T.hardtanh(x, -2, 0.5),
  relu6: T.relu6,
  hardsigmoid: T.hardsigmoid,
  hardswish: T.hardswish,
};

/**
 * Index of the first entry off by more than `rel` (relative, with a floor for values near 0)
 * or of another kind (NaN, infinity); -1 when all agree. Signed zeros compare equal.
 */
function firstMismatch(ours: ArrayLike<number>, want: readonly number[], rel: number, tiny = 1e-300): number {
  for (let i = 0; i < want.length; i++) {
    const a = ours[i]!;
    const b = want[i]!;
    if (Number.isNaN(b) ? !Number.isNaN(a) : !Number.isFinite(b) ? a !== b : !(Math.abs(a - b) <= rel * Math.max(Math.abs(b), tiny))) return i;
  }
  return -1;
}

/**
 * Checks `ours` against PyTorch's values; where PyTorch is known to be inaccurate (`exact`
 * given), an entry may match the accurate value instead.
 */
function expectMatch(what: string, ours: ArrayLike<number>, want: readonly number[], rel: number, tiny?: number, exact?: readonly number[]): void {
  for (let i = 0; i < want.length; i++) {
    const one = [ours[i]!];
    if (firstMismatch(one, [want[i]!], rel, tiny) < 0 || (exact && firstMismatch(one, [exact[i]!], rel, tiny) < 0)) continue;
    throw new Error(`${what}: at x = ${X[i]}: ours ${ours[i]} vs PyTorch ${want[i]}${exact ? ` (accurate: ${exact[i]})` : ''}`);
  }
}

describe('elementwise ops match PyTorch on edge values', () => {
  for (const [name, f] of Object.entries(OPS)) {
    const known = UNARY_KNOWN[name]!;
    it(`${name}: float64 forward and gradient`, () => {
      T.tidy(() => {
        const x = T.tensor(X, { dtype: 'float64' });
        expectMatch('forward', f(x).dataSync(), known.y64, 1e-14, undefined, known.exact64);
        // One element at a time, so each gradient is the op's own (a NaN elsewhere cannot leak in).
        const g = X.map((v) => T.grad((t: Tensor) => T.sum(f(t)))(T.tensor([v], { dtype: 'float64' }))[0]!.dataSync()[0]!);
        // hardsigmoid's float64 gradient in PyTorch 1.13 is float32's 1/6.
        expectMatch('gradient', g, known.g64, name === 'hardsigmoid' ? 1e-7 : 1e-13);
      });
    });
    it(`${name}: float32 forward within a few ulp`, () => {
      T.tidy(() => {
        const y = f(T.tensor(X, { dtype: 'float32' })).dataSync();
        expectMatch('forward', y, known.y32, 4e-7, 1e-37, known.exact32);
      });
    });
  }
});

describe('float32 precision where naive compositions fail', () => {
  const f32 = (f: (x: Tensor) => Tensor, v: number): number => T.tidy(() => f(T.tensor([v])).item());
  it('log1p and expm1 of 1e-7 are not 0 or 1.19e-7', () => {
    // torch.log1p(torch.tensor(1e-7)) = 9.99999941e-08, torch.expm1(...) = 1.00000008e-07 (float32)
    expect(f32(T.log1p, 1e-7)).toBeCloseTo(9.99999941e-8, 15);
    expect(f32(T.expm1, 1e-7)).toBeCloseTo(1.00000008e-7, 15);
  });
  it('sinh and cosh stay finite where e^x overflows float32', () => {
    // torch.sinh(torch.tensor(89.)) = 2.2448064e38
    expect(f32(T.sinh, 89) / 2.2448064e38).toBeCloseTo(1, 6);
    expect(f32(T.cosh, -89) / 2.2448064e38).toBeCloseTo(1, 6);
    expect(f32(T.sinh, 90)).toBe(Infinity);
  });
  it('asinh and acosh of huge values do not overflow', () => {
    expect(f32(T.asinh, -3e38)).toBeCloseTo(-89.29, 2);
    expect(f32(T.acosh, 3e38)).toBeCloseTo(89.29, 2);
  });
});

describe('round, atan2, clamp with tensor bounds, isnan/isinf/isfinite', () => {
  it('round is half to even; decimals as torch.round(x, decimals=d)', () => {
    T.tidy(() => {
      const x = T.tensor([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997, 1e20, -3.7]);
      expect(Array.from(T.round(x).dataSync())).toEqual([0, 2, 2, -0, -2, -2, 0, Math.fround(1e20), -4]);
      // torch.round(torch.tensor([1.2345, -155.5, 2.5e-3]), decimals=2) = [1.23, -155.5, 0.]
      expect(Array.from(T.round(T.tensor([1.2345, -155.5, 2.5e-3]), 2).dataSync())).toEqual([Math.fround(1.23), -155.5, 0]);
      // torch.round(torch.tensor([1234.5, 1250., -1350.]), decimals=-2) = [1200., 1200., -1400.]
      expect(Array.from(T.round(T.tensor([1234.5, 1250, -1350]), -2).dataSync())).toEqual([1200, 1200, -1400]);
      expect(() => T.round(x, 0.5)).toThrow(/round: decimals must be an integer/);
    });
  });

  it('atan2 signed zeros and infinities, and its gradient', () => {
    T.tidy(() => {
      const y = T.tensor([0, -0, 0, -0, 1, -1, Infinity, Infinity, -Infinity, 1, NaN, 3], { dtype: 'float64' });
      const x = T.tensor([0, 0, -0, -0, 0, -0, Infinity, -Infinity, 5, -Infinity, 1, -4], { dtype: 'float64' });
      // torch.atan2(y, x) (float64)
      const want = [0, -0, Math.PI, -Math.PI, Math.PI / 2, -Math.PI / 2, Math.PI / 4, (3 * Math.PI) / 4, -Math.PI / 2, Math.PI, NaN, 2.498091544796509];
      const got = Array.from(T.atan2(y, x).dataSync());
      got.forEach((v, i) => expect(Object.is(v, want[i]) || Math.abs(v - want[i]!) < 1e-15, `atan2 at ${i}: ${v} vs ${want[i]}`).toBe(true));
      // d/dy atan2(y, x) = x / (x^2 + y^2), d/dx = -y / (x^2 + y^2); torch at (3, -4): -0.16, -0.12
      const [gy, gx] = T.grad((a: Tensor, b: Tensor) => T.sum(T.atan2(a, b)))(T.tensor([3], { dtype: 'float64' }), T.tensor([-4], { dtype: 'float64' }));
      expect(gy!.item()).toBeCloseTo(-0.16, 15);
      expect(gx!.item()).toBeCloseTo(-0.12, 15);
      expect(() => T.atan2(T.tensor([1], { dtype: 'int32' }), 1)).toThrow(/atan2: expected a float32 or float64 tensor, got int32/);
    });
  });

  it('clamp with broadcasting tensor bounds: values and the gradients PyTorch gives x, min and max', () => {
    T.tidy(() => {
      const x = T.tensor([[-2, -1, 0, 1, 2], [0.5, 3, -3, 1, 1]], { dtype: 'float64' });
      const lo = T.tensor([[-1], [2]], { dtype: 'float64' });
      const hi = T.tensor([1, 1, 1, 1, 0], { dtype: 'float64' });
      const cot = T.tensor([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10]], { dtype: 'float64' });
      // torch.clamp(x, lo, hi) and autograd of (y * cot).sum() (PyTorch 1.13, float64):
      // y = [[-1,-1,0,1,0],[1,1,1,1,0]]; gx = [[0,2,3,4,0],[0,0,0,0,0]]; glo = [[1],[0]]; ghi = [6,7,8,9,15]
      const f = (a: Tensor, b: Tensor, c: Tensor) => T.sum(T.mul(T.clamp(a, b, c), cot));
      expect(Array.from(T.clamp(x, lo, hi).dataSync())).toEqual([-1, -1, 0, 1, 0, 1, 1, 1, 1, 0]);
      const [gx, glo, ghi] = T.grad(f)(x, lo, hi);
      expect(Array.from(gx!.dataSync())).toEqual([0, 2, 3, 4, 0, 0, 0, 0, 0, 0]);
      expect(Array.from(glo!.dataSync())).toEqual([1, 0]);
      expect(Array.from(ghi!.dataSync())).toEqual([6, 7, 8, 9, 15]);
      // Only one bound: gradient to x where x >= min (at the bound too), to min where x < min.
      const [gx1, glo1] = T.grad((a: Tensor, b: Tensor) => T.sum(T.mul(T.clamp(a, b), cot)))(x, lo);
      expect(Array.from(gx1!.dataSync())).toEqual([0, 2, 3, 4, 5, 0, 7, 0, 0, 0]);
      expect(Array.from(glo1!.dataSync())).toEqual([1, 33]);
      expect(Array.from(x.clamp(undefined, hi).dataSync())).toEqual([-2, -1, 0, 1, 0, 0.5, 1, -3, 1, 0]);
    });
  });

  it('isnan, isinf, isfinite (bool; ints are never NaN or infinite)', () => {
    T.tidy(() => {
      const x = T.tensor([0, NaN, Infinity, -Infinity, -1e38, 5e-45]);
      expect(x.isnan().dtype).toBe('bool');
      expect(Array.from(T.isnan(x).dataSync())).toEqual([0, 1, 0, 0, 0, 0]);
      expect(Array.from(T.isinf(x).dataSync())).toEqual([0, 0, 1, 1, 0, 0]);
      expect(Array.from(T.isfinite(x).dataSync())).toEqual([1, 0, 0, 0, 1, 1]);
      const i = T.tensor([1, -2, 3], { dtype: 'int32' });
      expect(Array.from(T.isnan(i).dataSync())).toEqual([0, 0, 0]);
      expect(Array.from(T.isinf(i).dataSync())).toEqual([0, 0, 0]);
      expect(Array.from(T.isfinite(i).dataSync())).toEqual([1, 1, 1]);
      expect(T.isfinite(i).dtype).toBe('bool');
    });
  });

  it('floor/ceil/round/trunc of int32 return the values unchanged (as PyTorch); others reject ints', () => {
    T.tidy(() => {
      const i = T.tensor([2147483647, -5, 0], { dtype: 'int32' });
      for (const f of [T.floor, T.ceil, T.trunc, (t: Tensor) => T.round(t)]) {
        const y = f(i);
        expect(y.dtype).toBe('int32');
        expect(Array.from(y.dataSync())).toEqual([2147483647, -5, 0]);
      }
      expect(() => T.round(i, -2)).toThrow(/round: decimals needs a float32 or float64 tensor, got int32/);
      expect(() => T.log1p(i)).toThrow(/log1p: expected a float32 or float64 tensor, got int32/);
      expect(() => T.silu(i)).toThrow(/silu: expected a float32 or float64 tensor/);
      expect(() => T.floor(T.tensor([1, 0], { dtype: 'bool' }))).toThrow(/floor/);
    });
  });

  it('bad parameters are named', () => {
    T.tidy(() => {
      const x = T.tensor([1, 2]);
      expect(() => T.celu(x, 0)).toThrow(/celu: alpha must not be 0/);
      expect(() => T.softplus(x, { beta: 0 })).toThrow(/softplus: beta must not be 0/);
      expect(() => T.leakyRelu(x, NaN)).toThrow(/leakyRelu: negativeSlope must be a finite number/);
      expect(() => T.clamp(x, 2, 1)).toThrow(/clamp: min 2 is greater than max 1/);
      expect(() => T.clamp(x, T.tensor([0], { dtype: 'int32' }))).toThrow(/clamp: min is int32 but the input is float32/);
      expect(() => T.clamp(x, undefined, T.tensor([0], { dtype: 'float64' }))).toThrow(/clamp: max is float64 but the input is float32/);
      // hardtanh with min > max gives max, as PyTorch.
      expect(Array.from(T.hardtanh(x, 2, 1).dataSync())).toEqual([1, 1]);
    });
  });
});
