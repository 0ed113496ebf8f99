/**
 * The issue-8 elementwise primitives on wasm in float64 and float32 (the conformance suite
 * draws float32 only): floor/ceil/trunc/round run WebAssembly's own instructions, log1p,
 * expm1, atan and atan2 host loops; on edge values (signed zeros, halves, infinities, NaN,
 * past 2^52) they must equal the js reference bit for bit, signed zeros included.
 */
import { expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { createWasmBackend } from '@tsgrad/wasm';

it('rounding, log1p, expm1, atan, frac and atan2 equal the js reference on edge values (float64 and float32)', async () => {
  const wasm = await createWasmBackend({ threads: 1 });
  const js = await T.initBackend('js');
  const v = [0, -0, 0.5, -0.5, 1.5, 2.5, -2.5, 3.7, -3.7, Infinity, -Infinity, NaN, 1e300, 2 ** 52 + 1, -1, 1e-9];
  const ops: ((t: Tensor) => Tensor)[] = [T.floor, T.ceil, T.trunc, (t) => T.round(t), T.log1p, T.expm1, T.atan, T.frac, (t) => T.atan2(t, t.flip(0))];
  for (const dtype of ['float64', 'float32'] as const) {
    const x = T.tensor(v, { dtype, backend: wasm });
    const r = T.tensor(v, { dtype, backend: js });
    for (const f of ops) expect(Array.from(await f(x).data())).toEqual(Array.from(await f(r).data()));
  }
});
