/**
 * logSoftmax at infinities follows PyTorch's formula (shift by the max, subtract the log of
 * the sum of exponentials) on the composed path, as the fused kernels do: the composed
 * `x - logsumexp(x)` gave [nan, -inf] for [inf, 0] where PyTorch gives [nan, nan].
 */
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';

// torch.log_softmax(torch.tensor(row), 0) for each row.
const CASES: [number[], number[]][] = [
  [[Infinity, 0], [NaN, NaN]],
  [[-Infinity, -Infinity], [NaN, NaN]],
  [[-Infinity, 0], [-Infinity, 0]],
  [[1, 2, 3], [-2.4076059644443806, -1.4076059644443806, -0.4076059644443806]],
];

describe('logSoftmax edge values (composed path, js)', () => {
  for (const [row, want] of CASES) {
    it(`[${row.join(', ')}]`, () => {
      const got = Array.from(T.logSoftmax(T.tensor(row, { dtype: 'float64' }), 0).dataSync());
      got.forEach((v, i) => {
        const w = want[i]!;
        if (Number.isNaN(w)) expect(v).toBeNaN();
        else if (!Number.isFinite(w)) expect(v).toBe(w);
        else expect(v).toBeCloseTo(w, 12);
      });
    });
  }
});
