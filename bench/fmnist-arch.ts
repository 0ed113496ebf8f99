/**
 * Step time of small ConvNeXt shapes on grey images (Fashion-MNIST's 28x28, or another side
 * with a fourth field, e.g. 32 for `--image-size 32`, the depthwise kernel in a fifth, default 7, the stem kernel in a
 * sixth, default the stride, and the downsampling kernel in a seventh, default 2), for choosing the Fashion-MNIST recipe
 * by throughput: forward+backward+AdamW per batch, wasm backend (run Node with
 * --experimental-wasm-relaxed-simd to time what the CLI runs).
 *
 *   tsx --conditions=source bench/fmnist-arch.ts [batch=128] [steps=6] 'depths/dims/stem[/size[/kernel[/stemKernel[/downsampleKernel]]]]' ...
 */
import { Generator, crossEntropy, setBackend, tidy, tensor } from '@tsgrad/core';
import { AdamW } from '@tsgrad/nn';
import '@tsgrad/wasm';
import { ConvNeXt, convnextParamGroups } from '@tsgrad/convnext';

const [batch, steps] = [Number(process.argv[2] ?? 128), Number(process.argv[3] ?? 6)];
const specs = process.argv.slice(4);
await setBackend('wasm');
const g = new Generator(0);
const y = tensor(Int32Array.from({ length: batch }, (_, i) => i % 10));
for (const s of specs) {
  const [d, w, st, side, kernel, stemKernel, dsKernel] = s.split('/');
  const size = Number(side ?? 28);
  const x = tensor(Float32Array.from(g.normal(batch * size * size)), { shape: [batch, 1, size, size] });
  const model = new ConvNeXt({ depths: d!.split(',').map(Number), dims: w!.split(',').map(Number), numClasses: 10, inChans: 1, stemStride: Number(st), kernelSize: Number(kernel || 7), stemKernel: Number(stemKernel || st), downsampleKernel: Number(dsKernel || 2) });
  const opt = new AdamW(convnextParamGroups(model, { weightDecay: 0.05 }), { lr: 1e-3 });
  const step = () => tidy(() => {
    const l = crossEntropy(model.forward(x), y);
    l.backward();
    opt.step();
    opt.zeroGrad();
    return l.item();
  });
  step();
  const t = performance.now();
  for (let i = 0; i < steps; i++) step();
  const ms = (performance.now() - t) / steps;
  const params = [...model.parameters()].reduce((a, p) => a + p.size, 0);
  console.log(`${s.padEnd(34)} ${(params / 1e6).toFixed(2)}M params  ${ms.toFixed(0)} ms/step  ${((batch * 1000) / ms).toFixed(0)} img/s`);
  model.dispose();
  opt.dispose();
  x.dispose();
}
