/**
 * `linear` and `fusedLinear` on the js reference (float64): gradients of every input match
 * finite differences, second derivatives too (a recorded backward), on random shapes and
 * every combination of steps, with a channels-first residual; the forward equals the
 * composed ops; PyTorch's F.linear shapes; errors name the problem; and the fused op holds no
 * tensors when no gradient is recorded.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { PROPERTY_RUNS, checkGrad, leaf } from './helpers/gradcheck.js';

interface Steps {
  readonly bias: boolean;
  readonly act: 'gelu' | 'gelu_tanh' | null;
  readonly scale: boolean;
  readonly residual: 'none' | 'rows' | 'channelsFirst';
}

const stepsArb: fc.Arbitrary<Steps> = fc.record({
  bias: fc.boolean(),
  act: fc.constantFrom('gelu' as const, 'gelu_tanh' as const, null),
  scale: fc.boolean(),
  residual: fc.constantFrom('none' as const, 'rows' as const, 'channelsFirst' as const),
});

/** The op under test as a function of its tensor inputs, in order: x, w, [bias], [scale], [residual]. */
function op(s: Steps): (...xs: Tensor[]) => Tensor {
  return (x, w, ...rest) => {
    const bias = s.bias ? rest.shift()! : null;
    const scale = s.scale ? rest.shift()! : null;
    const r = rest.shift();
    const residual = r ? (s.residual === 'channelsFirst' ? r.permute(0, 2, 3, 1) : r) : null;
    return T.fusedLinear(x!, w!, { bias, activation: s.act, scale, residual });
  };
}

function inputsOf(s: Steps, [g, h, w, k, n]: number[], seed: number): Tensor[] {
  const xs = [leaf([g!, h!, w!, k!], seed), leaf([n!, k!], seed + 1)];
  if (s.bias) xs.push(leaf([n!], seed + 2));
  if (s.scale) xs.push(leaf([n!], seed + 3));
  if (s.residual === 'rows') xs.push(leaf([g!, h!, w!, n!], seed + 4));
  if (s.residual === 'channelsFirst') xs.push(leaf([g!, n!, h!, w!], seed + 4));
  return xs;
}

const dims = fc.tuple(fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 2 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }));

describe('fusedLinear', () => {
  it('equals the composed ops', () => {
    fc.assert(
      fc.property(stepsArb, dims, fc.integer(), (s, d, seed) => {
        T.tidy(() => {
          const xs = inputsOf(s, d, seed);
          const ours = op(s)(...xs);
          const [x, w, ...rest] = xs;
          let y = T.matmul(x!, w!.T);
          if (s.bias) y = T.add(y, rest.shift()!);
          if (s.act) y = T.gelu(y, s.act === 'gelu_tanh' ? 'tanh' : 'none');
          if (s.scale) y = T.mul(y, rest.shift()!);
          const r = rest.shift();
          if (r) y = T.add(s.residual === 'channelsFirst' ? r.permute(0, 2, 3, 1) : r, y);
          expect(ours.shape).toEqual(y.shape);
          expect(Array.from(ours.dataSync())).toEqual(Array.from(y.dataSync()));
        });
      }),
      PROPERTY_RUNS,
    );
  });

  it('has exact gradients for every input (finite differences)', () => {
    fc.assert(
      fc.property(stepsArb, dims, fc.integer(), (s, d, seed) => {
        checkGrad(op(s), inputsOf(s, d, seed), seed);
      }),
      PROPERTY_RUNS,
    );
  });

  it('has exact second derivatives (recorded backward)', () => {
    fc.assert(
      fc.property(stepsArb, dims, fc.integer(), (s, d, seed) => {
        const xs = inputsOf(s, d, seed);
        const r = leaf([d[0], d[1], d[2], d[4]], seed + 5);
        // x -> <d/dx sum(f), r'> for each input in turn is checked through its own gradient.
        const f = op(s);
        const gradDot = (...ins: Tensor[]) => {
          const g = T.grad((...zs: Tensor[]) => T.sum(T.mul(f(...zs), r)))(...ins);
          return g.reduce((acc: Tensor, t) => T.add(acc, T.sum(T.mul(t, t))), T.zeros([], { dtype: 'float64' }));
        };
        checkGrad(gradDot, xs, seed);
      }),
      { numRuns: 15 },
    );
  });

  it('lays the result out as a channels-first residual (no copy to get NCHW back)', () => {
    T.tidy(() => {
      const x = leaf([2, 3, 4, 5], 1);
      const r = leaf([2, 6, 3, 4], 2).permute(0, 2, 3, 1);
      const y = T.fusedLinear(x, leaf([6, 5], 3), { residual: r });
      expect(y.shape).toEqual([2, 3, 4, 6]);
      expect(y.permute(0, 3, 1, 2).isContiguous).toBe(true);
    });
  });

  it('keeps nothing for backward when no gradient is recorded', () => {
    T.tidy(() => {
      const x = leaf([4, 5], 1);
      const w = leaf([3, 5], 2);
      const before = T.memory().tensors;
      const y = T.noGrad(() => T.fusedLinear(x, w, { activation: 'gelu' }));
      expect(T.memory().tensors).toBe(before + 1);
      expect(y.requiresGrad).toBe(false);
    });
  });

  it('names the problem in its errors', () => {
    const x = leaf([2, 4], 1);
    const w = leaf([3, 4], 2);
    expect(() => T.fusedLinear(x, leaf([3, 5], 2))).toThrow(/input \[2, 4\] does not match weight \[3, 5\]/);
    expect(() => T.fusedLinear(x, leaf([12], 2))).toThrow(/weight must be 2-D/);
    expect(() => T.fusedLinear(x, w, { bias: leaf([4], 3) })).toThrow(/bias must have shape \[3\]/);
    expect(() => T.fusedLinear(x, w, { scale: leaf([1, 3], 3) })).toThrow(/scale must have shape \[3\]/);
    expect(() => T.fusedLinear(x, w, { residual: leaf([3], 3) })).toThrow(/residual must have the output's shape \[2, 3\]/);
    expect(() => T.fusedLinear(x, w, { activation: 'relu' as 'gelu' })).toThrow(/activation must be 'gelu' or 'gelu_tanh'/);
    expect(() => T.fusedLinear(T.ones([2, 4], { dtype: 'int32' }), T.ones([3, 4], { dtype: 'int32' }))).toThrow(/float32 or float64/);
  });
});

describe('linear (F.linear)', () => {
  it('takes [..., in] and 1-D inputs, with and without bias', () => {
    T.tidy(() => {
      const w = leaf([3, 4], 1);
      const b = leaf([3], 2);
      for (const shape of [[4], [2, 4], [2, 5, 4]]) {
        const x = leaf(shape, 3);
        const y = T.linear(x, w, b);
        expect(y.shape).toEqual([...shape.slice(0, -1), 3]);
        const ref = T.add(T.matmul(x, w.T), b);
        expect(Array.from(y.dataSync())).toEqual(Array.from(ref.dataSync()));
        expect(Array.from(T.linear(x, w).dataSync())).toEqual(Array.from(T.matmul(x, w.T).dataSync()));
      }
    });
  });
});
