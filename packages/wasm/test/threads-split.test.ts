/**
 * Kernels split across threads give the one-thread result: elementwise ops (contiguous 1-D
 * split into rows plus a tail, broadcast and strided operands, the split dim moved to the
 * front, three-input `where`, comparisons into bytes) bit for bit; reductions bit for bit
 * when split along outputs and within rounding when split into partial sums (max/min
 * exactly, NaN included). Every kernel is split (`minParallelWork: 0`) and run with the
 * caller claiming chunks and without (helpers only).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { createWasmBackend, disposeWasmBackend, type WasmBackend } from '@tsgrad/wasm';

let one: WasmBackend;
let two: WasmBackend;
beforeAll(async () => {
  one = await createWasmBackend({ threads: 1, relaxedSimd: false });
  two = await createWasmBackend({ threads: 2, relaxedSimd: false, minParallelWork: 0 });
  two.poisonMemory = true;
});
afterAll(async () => {
  await disposeWasmBackend(two);
});

function randn(shape: number[], seed: number, b: T.Backend, nanAt = -1): Tensor {
  const v = new T.Generator(seed).normal(shape.reduce((x, y) => x * y, 1));
  if (nanAt >= 0) v[nanAt] = NaN;
  return T.fromTypedArray(v, shape, 'float32', b);
}

/** `f` on both backends, inputs from the same seeds; the results' values. */
function both(shapes: number[][], f: (...xs: Tensor[]) => Tensor, nanAt = -1): [number[], number[]] {
  const run = (b: T.Backend) => T.tidy(() => Array.from(f(...shapes.map((s, i) => randn(s, 3 + i, b, i === 0 ? nanAt : -1))).dataSync() as ArrayLike<number>));
  return [run(one), run(two)];
}

for (const callerClaims of [true, false]) {
  describe(`split kernels, ${callerClaims ? 'caller and helper' : 'helper only'}`, () => {
    beforeAll(() => {
      two.rt.pool!.callerClaims = callerClaims;
    });

    it('elementwise ops give the same bits as one thread', () => {
      const [before, splitBefore] = [two.rt.pool!.helperJobs, two.rt.pool!.splitJobs];
      const cases: [number[][], (...xs: Tensor[]) => Tensor][] = [
        ...[1, 15, 16, 17, 33, 100, 1000, 4099].map((n) => [[[n], [n]], T.add] as [number[][], (...xs: Tensor[]) => Tensor]),
        [[[4099]], T.neg],
        [[[1001]], (x) => T.sqrt(T.abs(x))],
        [[[64, 40], [40]], T.mul],
        [[[5, 1, 7], [1, 6, 7]], T.sub],
        [[[3, 1, 1, 1, 9]], (x) => T.mul(x, 2)],
        [[[30, 20], [20, 30]], (a, b) => T.div(a, b.transpose(0, 1))],
        [[[2, 3, 4, 5, 6, 7]], (x) => x.permute([5, 3, 1, 0, 2, 4]).contiguous()],
        [[[777], [777]], (a, b) => T.where(T.gt(a, b), a, b)],
        [[[64, 33], [33]], (a, b) => T.ge(a, b).cast('float32')],
        [[[40, 17], [40, 5]], (a, b) => T.cat([a, b], 1)],
      ];
      for (const [shapes, f] of cases) {
        const [a, b] = both(shapes, f);
        expect(b, `${JSON.stringify(shapes)} ${f.toString().slice(0, 60)}`).toEqual(a);
      }
      expect(two.rt.pool!.splitJobs).toBeGreaterThan(splitBefore);
      // Who runs a chunk is timing: only with the caller claiming nothing must helpers have run some.
      if (!callerClaims) expect(two.rt.pool!.helperJobs).toBeGreaterThan(before);
    });

    it('matrix products split by rows (tall and narrow, as pointwise-layer gradients) or columns give the same bits', () => {
      // [M, K] x [K, N]: pwconv1's input gradient (N 24), its weight gradient (K the rows), pwconv2's input gradient (tall), a wide one (columns).
      const cases: [number, number, number][] = [[700, 96, 24], [96, 700, 24], [24, 700, 96], [900, 24, 96], [40, 30, 200], [9, 5, 3]];
      for (const [m, k, n] of cases) {
        const [a, b] = both([[m, k], [k, n]], T.matmul);
        expect(b, `[${m}, ${k}] x [${k}, ${n}]`).toEqual(a);
        const [ta, tb] = both([[k, m], [k, n]], (x, y) => T.matmul(x.transpose(0, 1), y));
        expect(tb, `[${k}, ${m}]^T x [${k}, ${n}]`).toEqual(ta);
      }
      expect(two.gemm.rowRanges({ M: 700, N: 24, K: 96, am: 384, ak: 4, bk: 96, bn: 4 }, 1)).not.toBeNull();
      expect(two.gemm.rowRanges({ M: 40, N: 200, K: 30, am: 120, ak: 4, bk: 800, bn: 4 }, 1)).toBeNull();
      // A dense conv's weight gradient accumulates a product per image into one C (the row split with accumulation).
      const conv = (x: Tensor, w: Tensor) => T.grad((ww: Tensor) => T.conv2d(x, ww, null, { padding: 1 }).square().sum())(w)[0]!;
      const [ca, cb] = both([[3, 5, 9, 9], [96, 5, 3, 3]], conv);
      expect(cb).toEqual(ca);
    });

    it('accumulating scatters (slice gradients, col2im of dense convs) split only into disjoint chunks, same bits', () => {
      const grad = (shapes: number[][], f: (...xs: Tensor[]) => Tensor) =>
        both(shapes, (...xs) => {
          const [y, back] = T.vjp(f, ...xs);
          return back(T.onesLike(y))[0]!;
        });
      for (const [shapes, f] of [
        [[[40, 50]], (x: Tensor) => x.slice(1, 3, 45, 2)],
        [[[4099]], (x: Tensor) => x.slice(0, 1, 4000)],
        [[[2, 8, 9, 9], [6, 8, 3, 3]], (x: Tensor, w: Tensor) => T.conv2d(x, w, null, { padding: 1 })],
        [[[2, 8, 8, 8], [16, 8, 2, 2]], (x: Tensor, w: Tensor) => T.conv2d(x, w, null, { stride: 2 })],
        // overlapping windows: positions repeat, so only the disjoint dims may split
        [[[2, 3, 12, 12]], (x: Tensor) => T.unfold(x, [3, 3])],
        [[[1, 1, 64, 64]], (x: Tensor) => T.unfold(x, [5, 5], { dilation: 2 })],
      ] as [number[][], (...xs: Tensor[]) => Tensor][]) {
        const [a, b] = grad(shapes, f);
        expect(b).toEqual(a);
      }
    });

    it('an accumulation onto repeating positions is not split along the dims that repeat', () => {
      // dst[i + j] += src[i, j]: every row overlaps the next; a split by rows would race.
      const n = 512;
      const src = new T.Generator(5).normal(n * n);
      const run = (b: WasmBackend, rowStride: number) => {
        const s = b.upload(src, 'float32') as { ptr: number };
        const d = b.alloc('float32', n * n + n, true);
        const before = b.rt.pool?.splitJobs ?? 0;
        b.addStrided([n, n], { ptr: d.ptr, st: [rowStride, 4] }, { ptr: s.ptr, st: [n * 4, 4] });
        const split = (b.rt.pool?.splitJobs ?? 0) > before;
        const out = Array.from(b.readSync(d, 'float32', n * n + n));
        b.free(d);
        b.free(s as never);
        return { out, split };
      };
      const overlapping = run(two, 4);
      expect(overlapping.out).toEqual(run(one, 4).out);
      expect(overlapping.split).toBe(false);
      // Rows that do not overlap are split.
      const disjoint = run(two, n * 4);
      expect(disjoint.out).toEqual(run(one, n * 4).out);
      expect(disjoint.split).toBe(true);
    });

    it('reductions: along outputs the same bits, into partial sums within rounding, max/min exactly', () => {
      const tol = (a: number[], b: number[]) => {
        let scale = 1;
        for (const v of a) scale = Math.max(scale, Math.abs(v));
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i]! - b[i]!)).toBeLessThan(1e-5 * scale * 4);
      };
      // Split along outputs: sum over the last axis of each row.
      const [r1, r2] = both([[64, 300]], (x) => T.sum(x, -1));
      expect(r2).toEqual(r1);
      const [q1, q2] = both([[7, 300, 9]], (x) => T.sum(x, 1));
      expect(q2).toEqual(q1);
      // Partial sums: over the leading axis (bias gradients), over everything.
      for (const [shape, dim] of [[[300, 40], 0], [[4099], null], [[64, 8, 8, 3], [0, 1, 2]], [[20000], null]] as const) {
        const [a, b] = both([[...shape]], (x) => (dim === null ? T.sum(x) : T.sum(x, dim as number | number[])));
        expect(b.length).toBe(a.length);
        tol(a, b);
      }
      for (const op of [T.amax, T.amin]) {
        for (const nanAt of [-1, 1234]) {
          const [a, b] = both([[300, 40]], (x) => op(x, 0), nanAt);
          expect(b).toEqual(a);
          const [c, d] = both([[4099]], (x) => op(x, 0), nanAt);
          expect(d).toEqual(c);
        }
      }
    });
  });
}
