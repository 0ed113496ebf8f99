/**
 * Regression (issue 8, defect 1): SIMD tails must never let memory past a row's end reach a
 * result, even multiplied by 0 (NaN * 0 and Inf * 0 are NaN). layerNorm's fused backward
 * used to multiply the tail lanes' stale `x` by a masked-to-0 gradient, so rows whose length
 * is not a multiple of 4 came out all-NaN when the freed memory after them held -Inf (a
 * max-pool's padding) or NaN. Checked on a plain backend (stale memory made by real ops) and
 * on one with `poisonMemory` (every fresh block is NaN).
 */
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import { createWasmBackend, type WasmBackend } from '@tsgrad/wasm';

function randn(shape: number[], seed: number, backend: T.Backend): T.Tensor {
  return T.fromTypedArray(new T.Generator(seed).normal(shape.reduce((a, b) => a * b, 1)), shape, 'float32', backend);
}

/** Gradient of sum(layerNorm(x) * c) for x of `[rows, features]`, after a max-pool has left -inf/NaN in freed memory. */
async function layerNormGrad(b: T.Backend, features: number, rows: number, stale: boolean): Promise<Float32Array> {
  return T.tidy(() => {
    if (stale) {
      // A max-pool with padding fills freed blocks with -inf; a NaN-producing op leaves NaN.
      for (let k = 0; k < 3; k++) {
        const img = randn([2, 3, 7, 7], 10 + k, b);
        T.maxPool2d(img, 3, { stride: 2, padding: 1 }).dispose();
        T.sqrt(T.neg(T.abs(randn([rows * features + 8], 20 + k, b)))).dispose();
        img.dispose();
      }
    }
    const x = randn([rows, features], 1, b);
    const c = randn([rows, features], 2, b);
    const [gx] = T.grad((v: T.Tensor) => T.sum(T.mul(T.layerNorm(v, [features]), c)))(x);
    return gx!.dataSync() as Float32Array;
  });
}

describe('wasm: fused normalize backward ignores memory past the row', () => {
  for (const poison of [false, true]) {
    for (const features of [6, 10, 30]) {
      it(`${features} features${poison ? ' (poisoned memory)' : ' (stale -inf/NaN from a max-pool)'}`, async () => {
        const js = await T.initBackend('js');
        const w: WasmBackend = await createWasmBackend({ threads: 1, relaxedSimd: false, poisonMemory: poison });
        for (const rows of [1, 3, 5]) {
          const ref = await layerNormGrad(js, features, rows, false);
          const got = await layerNormGrad(w, features, rows, true);
          expect(got.every(Number.isFinite), `finite gradient for ${rows} rows of ${features}`).toBe(true);
          for (let i = 0; i < ref.length; i++) expect(Math.abs(got[i]! - ref[i]!)).toBeLessThan(1e-4);
        }
      });
    }
  }
});

describe('wasm: depthwise weight gradient ignores columns past the output row', () => {
  it('an Inf in the last input column reaches only the taps that read it', async () => {
    // W = 9, 3x3 kernel, no padding: OW = 7 (tail of 3 lanes). Tap column 0 never reads
    // input column 8, but its SIMD tail did (and multiplied it by a masked-out 0: NaN).
    const js = await T.initBackend('js');
    const w = await createWasmBackend({ threads: 1, relaxedSimd: false, poisonMemory: true });
    const run = async (b: T.Backend) => {
      const xs = new T.Generator(5).normal(2 * 3 * 6 * 9);
      for (let n = 0; n < 2; n++) for (let c = 0; c < 3; c++) xs[((n * 3 + c) * 6 + 2) * 9 + 8] = Infinity;
      const x = T.fromTypedArray(xs, [2, 3, 6, 9], 'float32', b);
      const k = randn([3, 1, 3, 3], 6, b);
      const gy = randn([2, 3, 4, 7], 7, b);
      const [gk] = T.vjp((kk: T.Tensor) => T.conv2d(x, kk, null, { groups: 3 }), k)[1](gy);
      return gk!.dataSync();
    };
    const ref = await run(js);
    const got = await run(w);
    for (let i = 0; i < ref.length; i++) {
      const tapCol = i % 3;
      if (tapCol < 2) expect(Number.isFinite(got[i]), `tap ${i}`).toBe(true);
      if (Number.isFinite(ref[i])) expect(Math.abs(got[i]! - ref[i]!), `tap ${i}`).toBeLessThan(1e-3);
      else expect(got[i], `tap ${i}`).toBe(ref[i]);
    }
  });
});
