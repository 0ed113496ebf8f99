/**
 * Targeted kernel tests beyond the conformance suite's small random shapes: GEMM at edge
 * sizes (1, odd, non-multiples of every blocking parameter, several K/M/N blocks with small
 * blockings, transposed and batched operands, one and two threads; plain SIMD), depthwise 7x7 (forward, both gradients; stride, dilation), dense convs of the
 * ConvNeXt stem/downsample shapes, and the along-axis kernels on wide rows. The reference
 * is the js backend (float64 accumulation); tolerances are relative to the output scale.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';
import { backendInfo, createWasmBackend, disposeWasmBackend, type WasmBackend } from '@tsgrad/wasm';

let one: WasmBackend;
let two: WasmBackend;
const js = () => T.initBackend('js');

beforeAll(async () => {
  one = await createWasmBackend({ threads: 1, relaxedSimd: false });
  two = await createWasmBackend({ threads: 2, relaxedSimd: false, minParallelWork: 0 });
  // Every chunk of a split kernel runs on the helper (the caller's own share is covered by
  // the relaxed two-thread conformance run, where both claim chunks).
  two.rt.pool!.callerClaims = false;
});
afterAll(async () => {
  await disposeWasmBackend(two);
});

/** max |a - b| / max(1, max |b|) */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let scale = 1;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(b[i]!));
  let e = 0;
  for (let i = 0; i < b.length; i++) e = Math.max(e, Math.abs(a[i]! - b[i]!));
  expect(a.length).toBe(b.length);
  return e / scale;
}

function randn(shape: number[], seed: number, backend: T.Backend): Tensor {
  return T.fromTypedArray(new T.Generator(seed).normal(shape.reduce((x, y) => x * y, 1)), shape, 'float32', backend);
}

async function onBoth(shapes: number[][], f: (...xs: Tensor[]) => Tensor, b: WasmBackend, tol = 2e-5): Promise<void> {
  const ref = await js();
  await T.tidy(async () => {
    const ours = f(...shapes.map((s, i) => randn(s, 7 + i, b)));
    const theirs = f(...shapes.map((s, i) => randn(s, 7 + i, ref)));
    expect(ours.shape).toEqual(theirs.shape);
    expect(relErr(await ours.data(), await theirs.data())).toBeLessThan(tol);
  });
}

describe('GEMM', () => {
  const sizes: [number, number, number][] = [
    [1, 1, 1],
    [1, 37, 1],
    [1, 1, 300],
    [5, 3, 7],
    [6, 8, 1],
    [7, 9, 13],
    [13, 17, 19],
    [64, 64, 64],
    [97, 129, 65],
    [100, 1030, 300], // N > NC, K > KC, M > MC for the default blocking
  ];
  for (const threads of [1, 2])
    for (const [m, n, k] of sizes) {
      it(`${m}x${k} @ ${k}x${n} on ${threads} thread(s)`, async () => {
        await onBoth([[m, k], [k, n]], T.matmul, threads === 1 ? one : two, 1e-5 * Math.sqrt(k));
      });
    }

  it('small blockings: many K, M and N blocks, partial tiles, accumulation across K blocks', async () => {
    for (const b of [one, two]) {
      const saved = b.gemm.blocking;
      for (const blk of [
        { MR: 6, KC: 16, MC: 12, NC: 16 },
        { MR: 4, KC: 7, MC: 8, NC: 8 },
        { MR: 5, KC: 33, MC: 10, NC: 24 },
      ]) {
        b.gemm.blocking = blk;
        for (const [m, n, k] of [[23, 37, 41], [1, 9, 50], [31, 8, 16], [6, 16, 17]] as const) await onBoth([[m, k], [k, n]], T.matmul, b, 1e-4);
      }
      b.gemm.blocking = saved;
    }
  });

  it('transposed and strided operands, batched with broadcasting', async () => {
    for (const b of [one, two]) {
      await onBoth([[33, 70], [45, 33]], (a, c) => T.matmul(a.transpose(0, 1), c.transpose(0, 1)), b, 1e-4);
      await onBoth([[3, 5, 40, 30], [1, 5, 30, 20]], T.matmul, b, 1e-4);
      await onBoth([[7, 50, 9], [9, 60]], (a, c) => T.matmul(a.slice(1, 0, undefined, 2), c.slice(1, 1, undefined, 3)), b, 1e-4);
    }
  });

  it('K = 0 gives zeros', async () => {
    const y = T.matmul(T.zeros([3, 0], { backend: one }), T.zeros([0, 4], { backend: one }));
    expect(Array.from(await y.data())).toEqual(new Array(12).fill(0));
  });
});

describe('depthwise 7x7 and dense convs', () => {
  const grads = (b: T.Backend, x: Tensor, w: Tensor, opts: T.Conv2dOptions) => {
    const [y, back] = T.vjp((xx: Tensor, ww: Tensor) => T.conv2d(xx, ww, null, opts), x, w);
    const g = randn(y.shape as number[], 99, b);
    return [y, ...back(g)];
  };
  const check = async (xs: number[], ws: number[], opts: T.Conv2dOptions, b: WasmBackend, tol = 1e-5) => {
    const ref = await js();
    await T.tidy(async () => {
      const ours = grads(b, randn(xs, 1, b), randn(ws, 2, b), opts);
      const theirs = grads(ref, randn(xs, 1, ref), randn(ws, 2, ref), opts);
      for (let i = 0; i < 3; i++) {
        expect(ours[i]!.shape).toEqual(theirs[i]!.shape);
        expect(relErr(await ours[i]!.data(), await theirs[i]!.data()), ['output', 'input grad', 'weight grad'][i]).toBeLessThan(tol);
      }
    });
  };
  for (const threads of [1, 2]) {
    it(`depthwise 7x7 pad 3 (ConvNeXt block), widths around the 16-wide step, ${threads} thread(s)`, async () => {
      const b = threads === 1 ? one : two;
      for (const [h, w] of [[14, 14], [9, 17], [7, 7], [5, 21], [1, 1]] as const) await check([2, 6, h, w], [6, 1, 7, 7], { padding: 3, groups: 6 }, b);
    });
    it(`depthwise with stride 2 rows, dilation 2, small padding, 3x3 (${threads} thread(s))`, async () => {
      const b = threads === 1 ? one : two;
      await check([2, 4, 11, 12], [4, 1, 3, 3], { padding: 1, groups: 4, stride: [2, 1] }, b);
      await check([1, 3, 15, 13], [3, 1, 7, 7], { padding: 6, groups: 3, dilation: 2 }, b);
      await check([2, 5, 12, 12], [5, 1, 7, 7], { padding: 0, groups: 5 }, b);
      await check([2, 5, 12, 12], [5, 1, 3, 3], { padding: 1, groups: 5, stride: 2 }, b);
    });
    it(`depthwise small maps, four channels a vector: both paths on the same shapes (${threads} thread(s))`, async () => {
      const b = threads === 1 ? one : two;
      const saved = b.conv.smallMapMax;
      try {
        for (const max of [1 << 30, 0]) {
          b.conv.smallMapMax = max;
          for (const s of [1, 2, 3, 4, 5, 8, 9]) await check([3, 8, s, s], [8, 1, 7, 7], { padding: 3, groups: 8 }, b);
          await check([2, 12, 4, 7], [12, 1, 7, 7], { padding: 3, groups: 12 }, b);
          await check([2, 4, 9, 6], [4, 1, 7, 7], { padding: 1, groups: 4 }, b);
          await check([2, 4, 9, 6], [4, 1, 3, 3], { padding: 2, groups: 4, stride: [2, 1] }, b);
        }
      } finally {
        b.conv.smallMapMax = saved;
      }
    });
    it(`dense convs: stem 4x4/s4, downsample 2x2/s2, 1x1, 3x3 pad 1, grouped (${threads} thread(s))`, async () => {
      const b = threads === 1 ? one : two;
      await check([2, 3, 32, 32], [8, 3, 4, 4], { stride: 4 }, b);
      await check([2, 8, 8, 8], [16, 8, 2, 2], { stride: 2 }, b);
      await check([2, 12, 5, 7], [20, 12, 1, 1], {}, b);
      await check([2, 5, 9, 9], [7, 5, 3, 3], { padding: 1 }, b);
      await check([2, 6, 9, 9], [4, 3, 3, 3], { padding: 1, groups: 2, stride: 2, dilation: [1, 2] }, b);
    });
    it(`dense convs as pixel rows (one GEMM for the batch) and per image: both paths on the same shapes (${threads} thread(s))`, async () => {
      const b = threads === 1 ? one : two;
      const saved = b.conv.pixelRowsMax;
      try {
        for (const max of [1 << 30, 0]) {
          b.conv.pixelRowsMax = max;
          await check([3, 12, 4, 4], [20, 12, 2, 2], { stride: 2 }, b); // ConvNeXt's last downsampling
          await check([2, 1, 12, 12], [8, 1, 6, 6], { stride: 2, padding: 2 }, b); // overlapping stem windows
          await check([2, 5, 9, 7], [7, 5, 3, 3], { padding: 1, stride: [2, 1], dilation: [1, 2] }, b);
          await check([2, 12, 5, 7], [20, 12, 1, 1], {}, b);
          await check([1, 3, 2, 2], [4, 3, 2, 2], {}, b);
        }
      } finally {
        b.conv.pixelRowsMax = saved;
      }
    });
  }
  it('runs no input-gradient kernel for an input that needs no gradient (the images into a stem)', async () => {
    const input = vi.spyOn(one, 'conv2dBackwardInput');
    const weight = vi.spyOn(one, 'conv2dBackwardWeight');
    try {
      await T.tidy(async () => {
        const x = randn([2, 1, 12, 12], 1, one);
        const w = randn([8, 1, 6, 6], 2, one);
        w.requiresGrad = true;
        T.conv2d(x, w, null, { stride: 2, padding: 2 }).sum().backward();
        expect(input).not.toHaveBeenCalled();
        expect(weight).toHaveBeenCalledTimes(1);
        expect(x.grad).toBeNull();
        // The weight gradient is the same as with the input's gradient computed too.
        const x2 = randn([2, 1, 12, 12], 1, one);
        const w2 = randn([8, 1, 6, 6], 2, one);
        x2.requiresGrad = true;
        w2.requiresGrad = true;
        T.conv2d(x2, w2, null, { stride: 2, padding: 2 }).sum().backward();
        expect(input).toHaveBeenCalledTimes(1);
        expect(Array.from(await w.grad!.data())).toEqual(Array.from(await w2.grad!.data()));
      });
    } finally {
      input.mockRestore();
      weight.mockRestore();
    }
  });
  it('the multi-thread backend split work across its helper', () => {
    expect(backendInfo(two).helperJobs).toBeGreaterThan(0);
  });
});

describe('fused along-axis kernels on wide lines', () => {
  for (const threads of [1, 2]) {
    it(`layer norm (channels-last and channels-first), GELU, log-softmax, forward and backward (${threads} thread(s))`, async () => {
      const b = threads === 1 ? one : two;
      const f = (x: Tensor) => {
        const [y, back] = T.vjp((v: Tensor) => T.add(T.add(T.standardize(v, -1, 1e-6), T.standardize(v, 1, 1e-6)), T.add(T.gelu(v), T.logSoftmax(v, -1))), x);
        return T.add(y.sum(), back(T.onesLike(y))[0]!.mul(0.01).sum());
      };
      for (const s of [[4, 96, 5, 10], [3, 7, 6, 1003], [2, 3, 1, 2]]) await onBoth([s], f, b, 1e-4);
      await onBoth([[3, 50, 41]], (x) => T.gelu(x, 'tanh'), b, 1e-5);
      await onBoth([[2000]], (x) => T.add(T.erf(x), T.add(T.tanh(x), T.exp(x))), b, 1e-5);
    });
  }
});

describe('the pool under contention', () => {
  it('three threads (more than this machine has cores) with every thread claiming chunks give bitwise the one-thread results, many times over', async () => {
    const three = await createWasmBackend({ threads: 3, relaxedSimd: false, minParallelWork: 0 });
    try {
      for (let it = 0; it < 60; it++) {
        const shapes: [number[], number[]] = [[17 + it, 40], [40, 33 + (it % 7)]];
        const run = (b: T.Backend) =>
          T.tidy(() => {
            const [a, c] = shapes.map((s, i) => randn(s, it * 3 + i, b));
            return Array.from(T.add(T.gelu(T.matmul(a!, c!)), 1).dataSync());
          });
        expect(run(three)).toEqual(run(one));
      }
    } finally {
      await disposeWasmBackend(three);
    }
  });
});

describe('reductions', () => {
  it('sum/max/min over long contiguous and strided lines, NCHW bias-gradient axes, channels-last axes', async () => {
    for (const b of [one, two]) {
      await onBoth([[3, 5, 37, 29]], (x) => T.add(T.add(x.sum(), x.max()), x.min()), b, 1e-5);
      await onBoth([[3, 5, 37, 29]], (x) => T.add(T.sum(x, [0, 2, 3]), T.max(x, [0, 2, 3])), b, 1e-5);
      await onBoth([[4, 9, 11, 24]], (x) => T.add(T.sum(x, [0, 1, 2]), T.min(x, [0, 1, 2])), b, 1e-5);
      await onBoth([[40, 50]], (x) => T.cat([T.sum(x.transpose(0, 1), [1]), T.max(x.slice(1, 0, undefined, 3), [1])], 0), b, 1e-5);
      await onBoth([[7, 1000]], (x) => T.mean(x, [1]), b, 1e-5);
    }
  });
});
