/**
 * The ConvNeXt-atto training step the browser-vs-Node wasm bench times on both sides:
 * 32x32 inputs, 2x2 stem, batch 64, AdamW, on the current backend. Bundled into the
 * Chromium page and imported by the Node side, so both run exactly this code.
 */
import * as T from '@tsgrad/core';
import { convnext } from '../../packages/convnext/src/index.js';
import { AdamW } from '../../packages/nn/src/index.js';

/** Builds the model and a batch on the current backend; the returned function runs one step and returns the loss. */
export function attoStep(): () => number {
  const g = new T.Generator(0);
  const model = convnext('atto', { numClasses: 10, stemStride: 2, generator: g });
  const opt = new AdamW(model.parameters(), { lr: 1e-3 });
  const x = T.keep(T.randn([64, 3, 32, 32], { generator: g }));
  const y = T.keep(T.randint(0, 10, [64], { generator: g }));
  return () =>
    T.tidy(() => {
      const loss = T.crossEntropy(model.forward(x), y);
      loss.backward();
      opt.step();
      opt.zeroGrad();
      return loss.item();
    });
}
