/**
 * Issue 8 defects on wasm, where they did harm: a strided view past its storage read other
 * live tensors and its backward overwrote them (defect 4); the sort primitive's host-side
 * implementation over linear memory; prod's second derivative at zeros (defect 2).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Backend } from '@tsgrad/core';
import { createWasmBackend } from '@tsgrad/wasm';

let wasm: Backend;
beforeAll(async () => {
  wasm = await createWasmBackend({ threads: 1 });
});

describe('defect 4 on wasm: asStrided / embed bounds', () => {
  it('a view past the input throws instead of reading the neighbour, whose values stay intact', () => {
    const x = T.tensor([1, 2, 3, 4], { backend: wasm });
    const neighbour = T.tensor([100, 200, 300, 400], { backend: wasm });
    expect(() => T.asStrided(x, [4], [1], 2)).toThrow(/asStrided: sizes \[4\], strides \[1\] and offset 2 reach elements 2\.\.5, out of bounds for the input of shape \[4\] \(4 elements\)/);
    expect(() => T.asStrided(x, [2, 2], [4, 1], 0)).toThrow(/out of bounds/);
    expect(() => T.embed(x, [4], 1, [1])).toThrow(/embed: .*out of bounds/);
    expect(neighbour.toArray()).toEqual([100, 200, 300, 400]);
  });

  it('an in-bounds overlapping view and its backward are exact', () => {
    const x = T.tensor([1, 2, 3, 4], { backend: wasm });
    const neighbour = T.tensor([5, 6, 7, 8], { backend: wasm });
    const [g] = T.grad((z) => T.sum(T.asStrided(z, [3, 2], [1, 1], 0)))(x);
    expect(g!.toArray()).toEqual([1, 2, 2, 1]);
    expect(neighbour.toArray()).toEqual([5, 6, 7, 8]);
  });
});

describe('sort primitive on wasm (host-side over linear memory)', () => {
  it('matches the js reference on strided input with NaN, ties and int32', () => {
    const data = [3, NaN, 1, 3, -0, 0, 2, 2, -5, 7, NaN, 1];
    for (const descending of [false, true]) {
      const onJs = T.sort(T.tensor(data, { shape: [2, 6] }).transpose(0, 1), 0, { descending });
      const onWasm = T.sort(T.tensor(data, { shape: [2, 6], backend: wasm }).transpose(0, 1), 0, { descending });
      expect(Array.from(onWasm.values.dataSync()).map(String)).toEqual(Array.from(onJs.values.dataSync()).map(String));
      expect(onWasm.indices.toArray()).toEqual(onJs.indices.toArray());
    }
    const ints = T.tensor([4, 1, 4, 0], { dtype: 'int32', backend: wasm });
    expect(T.argsort(ints).toArray()).toEqual([3, 1, 0, 2]);
    expect(T.topk(ints, 2).values.toArray()).toEqual([4, 4]);
  });
});

describe('defect 2 on wasm: Hessian of x0*x1*x2 at [0, 2, 3]', () => {
  it('is [[0,3,2],[3,0,0],[2,0,0]]', () => {
    const x = T.tensor([0, 2, 3], { dtype: 'float64', backend: wasm });
    const rows = [0, 1, 2].map((i) => {
      const e = T.tensor([0, 1, 2].map((j) => (j === i ? 1 : 0)), { dtype: 'float64', backend: wasm });
      const [h] = T.grad((z) => T.sum(T.mul(T.grad((w) => T.prod(w))(z)[0]!, e)))(x);
      return h!.toArray();
    });
    expect(rows).toEqual([
      [0, 3, 2],
      [3, 0, 0],
      [2, 0, 0],
    ]);
  });
});
