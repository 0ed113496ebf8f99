/**
 * Bundled for the browser threads test (browser-threads.test.ts): the same GEMM, conv (with
 * both gradients) and a few SGD steps of a small convnet on a 1-thread and a 2-thread wasm
 * backend created here, compared, with what `backendInfo` says about each.
 */
import * as T from '@tsgrad/core';
import { backendInfo, createWasmBackend, disposeWasmBackend, type WasmBackend, type WasmBackendInfo } from '@tsgrad/wasm';

/** What a run of the checks reports to the test. */
export interface ThreadsReport {
  readonly isolated: boolean;
  /** `backendInfo` of the backend created with `threads: 2` (without its arena stats). */
  readonly info: Omit<WasmBackendInfo, 'arena'>;
  /** Largest |2-thread - 1-thread| of: the GEMM, the conv output and its two gradients, the training losses and weights. */
  readonly gemm: number;
  readonly conv: number;
  readonly train: number;
  readonly losses: number[];
}

function worst(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i]! - b[i]!));
  return w;
}

function kernels(b: T.Backend): { gemm: Float32Array; conv: Float32Array[] } {
  const g = new T.Generator(3);
  const on = (s: number[]) => T.fromTypedArray(g.normal(s.reduce((x, y) => x * y, 1)), s, 'float32', b);
  return T.tidy(() => {
    const gemm = T.matmul(on([193, 160]), on([160, 150])).dataSync() as Float32Array;
    const [y, back] = T.vjp((xx, ww) => T.conv2d(xx, ww, null, { padding: 1 }), on([4, 8, 18, 18]), on([16, 8, 3, 3]));
    const conv = [y, ...back(on(y.shape as number[]))].map((t) => t.dataSync() as Float32Array);
    return { gemm, conv };
  });
}

/** Three plain SGD steps of a small convnet; the losses and the final weights. */
function train(b: T.Backend): { losses: number[]; params: Float32Array[] } {
  const g = new T.Generator(7);
  const host = (shape: number[], scale: number) => T.fromTypedArray(g.normal(shape.reduce((x, y) => x * y, 1)).map((v) => v * scale), shape, 'float32', b);
  const x = T.keep(host([16, 3, 16, 16], 1));
  const labels = T.keep(T.fromTypedArray(Int32Array.from({ length: 16 }, (_, i) => i % 4), [16], 'int32', b));
  const params = [host([16, 3, 3, 3], 0.3), host([16], 0), host([16, 1, 7, 7], 0.1), host([16, 64], 0.1), host([64, 4], 0.1), host([4], 0)].map((p) => T.keep(p.requiresGrad_()));
  const [w1, b1, wd, wu, wl, bl] = params as [T.Tensor, T.Tensor, T.Tensor, T.Tensor, T.Tensor, T.Tensor];
  const losses: number[] = [];
  for (let s = 0; s < 3; s++) {
    T.tidy(() => {
      let h = T.gelu(T.conv2d(x, w1, b1, { padding: 1 }));
      h = T.conv2d(h, wd, null, { padding: 3, groups: 16 });
      h = T.standardize(h, 1, 1e-6);
      const pooled = T.gelu(T.matmul(T.mean(h, [2, 3]), wu));
      const loss = T.crossEntropy(T.add(T.matmul(pooled, wl), bl), labels);
      loss.backward();
      losses.push(loss.item());
      T.noGrad(() => {
        for (const p of params) {
          p.assign(T.sub(p, T.mul(p.grad!, 0.5)));
          p.zeroGrad();
        }
      });
    });
  }
  const out = params.map((p) => p.dataSync() as Float32Array);
  for (const p of [...params, x, labels]) p.dispose();
  return { losses, params: out };
}

/** Runs the checks with `threads: 1` and `threads: 2` backends. */
export async function runChecks(): Promise<ThreadsReport> {
  const one = await createWasmBackend({ threads: 1, name: 'wasm-1t' });
  // Every kernel that can be split is split, so the helpers take part even in small shapes.
  const two: WasmBackend = await createWasmBackend({ threads: 2, minParallelWork: 0, name: 'wasm-2t' });
  try {
    const k1 = kernels(one);
    const k2 = kernels(two);
    const t1 = train(one);
    const t2 = train(two);
    const { arena: _arena, ...info } = backendInfo(two);
    return {
      isolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true,
      info,
      gemm: worst(k1.gemm, k2.gemm),
      conv: Math.max(...k1.conv.map((c, i) => worst(c, k2.conv[i]!))),
      train: Math.max(worst(t1.losses, t2.losses), ...t1.params.map((p, i) => worst(p, t2.params[i]!))),
      losses: t2.losses,
    };
  } finally {
    await disposeWasmBackend(two);
  }
}
