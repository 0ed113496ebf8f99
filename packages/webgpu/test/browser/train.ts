/**
 * Bundled (with core and webgpu) for the browser test: trains a small convnet for a few
 * steps on `navigator.gpu` and, from the same initial weights and data, on the js
 * backend, and reports both loss curves.
 */
import * as T from '@tsgrad/core';
import '@tsgrad/webgpu';
import type { WebGPUBackend } from '@tsgrad/webgpu';

/** What the page reports to the test. */
export interface TrainReport {
  readonly adapter: string;
  readonly webgpu: number[];
  readonly js: number[];
  readonly maxParamDiff: number;
  /** Largest difference from js of a tiled (vec4) matmul and a dense conv with its gradients. */
  readonly kernelDiff: number;
}

/** The tiled GEMM kernels (the convnet's shapes take the small-output ones) against js. */
async function kernelDiff(gpu: T.Backend, js: T.Backend): Promise<number> {
  const g = new T.Generator(3);
  const shapes = [[70, 36], [36, 68], [2, 8, 10, 10], [16, 8, 3, 3]];
  const host = shapes.map((s) => g.normal(s.reduce((a, b) => a * b, 1)));
  const run = (b: T.Backend) => {
    const [a, m, x, w] = shapes.map((s, i) => T.fromTypedArray(host[i]!, s, 'float32', b));
    const [y, back] = T.vjp((xx, ww) => T.conv2d(xx, ww, null, { padding: 1 }), x!, w!);
    return [T.matmul(a!, m!), y, ...back(T.onesLike(y))];
  };
  const ours = run(gpu);
  const ref = run(js);
  let worst = 0;
  for (let i = 0; i < ref.length; i++) {
    const a = await ours[i]!.data();
    const b = await ref[i]!.data();
    for (let k = 0; k < a.length; k++) worst = Math.max(worst, Math.abs(a[k]! - b[k]!));
  }
  return worst;
}

const STEPS = 6;
const LR = 1.0;

function trainOn(backend: T.Backend): { losses: Promise<number[]>; params: T.Tensor[] } {
  const g = new T.Generator(7);
  const host = (shape: number[], scale: number) => T.fromTypedArray(g.normal(shape.reduce((a, b) => a * b, 1)).map((v) => v * scale), shape, 'float32', backend);
  const x = host([8, 3, 12, 12], 1);
  const labels = T.fromTypedArray(Int32Array.from({ length: 8 }, (_, i) => i % 4), [8], 'int32', backend);
  const params = [host([8, 3, 3, 3], 0.3), host([8], 0), host([8, 1, 3, 3], 0.3), host([8, 4], 0.3), host([4], 0)].map((p) => T.keep(p.requiresGrad_()));
  const [w1, b1, wd, wl, bl] = params as [T.Tensor, T.Tensor, T.Tensor, T.Tensor, T.Tensor];
  const losses: Promise<Float32Array>[] = [];
  for (let s = 0; s < STEPS; s++) {
    T.tidy(() => {
      let h = T.gelu(T.conv2d(x, w1, b1, { padding: 1 }));
      h = T.conv2d(h, wd, null, { padding: 1, groups: 8 });
      h = T.standardize(h, 1, 1e-6); // channels-first layer norm
      const pooled = T.mean(h, [2, 3]);
      const logits = T.add(T.matmul(pooled, wl), bl);
      const loss = T.crossEntropy(logits, labels);
      loss.backward();
      losses.push(loss.data() as Promise<Float32Array>); // read back without blocking the step
      T.noGrad(() => {
        for (const p of params) {
          p.assign(T.sub(p, T.mul(p.grad!, LR)));
          p.zeroGrad();
        }
      });
    });
  }
  return { losses: Promise.all(losses).then((ls) => ls.map((l) => l[0]!)), params };
}

async function run(): Promise<TrainReport> {
  const gpu = (await T.initBackend('webgpu')) as WebGPUBackend;
  const js = await T.initBackend('js');
  const ours = trainOn(gpu);
  const ref = trainOn(js);
  let maxParamDiff = 0;
  for (let i = 0; i < ours.params.length; i++) {
    const a = await ours.params[i]!.data();
    const b = await ref.params[i]!.data();
    for (let k = 0; k < a.length; k++) maxParamDiff = Math.max(maxParamDiff, Math.abs(a[k]! - b[k]!));
  }
  return { adapter: gpu.adapterName, webgpu: await ours.losses, js: await ref.losses, maxParamDiff, kernelDiff: await kernelDiff(gpu, js) };
}

(globalThis as { tsgradTrain?: () => Promise<TrainReport> }).tsgradTrain = run;
