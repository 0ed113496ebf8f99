/**
 * ONNX export checked by running it: the exported ConvNeXt runs in onnxruntime-web (its wasm
 * build, in Node) and gives our logits; plus the protobuf encoder's bytes on known values.
 */
import * as ort from 'onnxruntime-web';
import { manualSeed, noGrad, randn } from '@tsgrad/core';
import { beforeAll, describe, expect, it } from 'vitest';
import { exportConvNeXtOnnx, ONNX_OPSET } from '../src/export/onnx/convnext-onnx.js';
import { ProtoWriter } from '../src/export/onnx/protobuf.js';
import { ConvNeXt } from '../src/model.js';
import { randomizeWeights } from './helpers/random-weights.js';

beforeAll(() => {
  // One thread: no worker threads in the test process.
  ort.env.wasm.numThreads = 1;
});

async function ortLogits(bytes: Uint8Array, input: Float32Array, dims: number[]): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  try {
    const out = await session.run({ input: new ort.Tensor('float32', input, dims) });
    const t = out.logits!;
    return { data: t.data as Float32Array, dims: t.dims };
  } finally {
    await session.release();
  }
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('exportConvNeXtOnnx in onnxruntime-web (wasm)', () => {
  it('atto at 32x32 with a 2x2 stem: same logits as tsgrad within 1e-4, for batch 1 and 3 (dynamic batch)', async () => {
    const model = new ConvNeXt({ variant: 'atto', numClasses: 10, stemStride: 2 });
    randomizeWeights(model, 1);
    model.eval();
    const bytes = await exportConvNeXtOnnx(model, { imageSize: 32 });
    for (const n of [1, 3]) {
      manualSeed(100 + n);
      const x = randn([n, 3, 32, 32]);
      const ours = Float32Array.from(noGrad(() => model.forward(x)).dataSync() as Float32Array);
      const theirs = await ortLogits(bytes, Float32Array.from(x.dataSync() as Float32Array), [n, 3, 32, 32]);
      expect(theirs.dims).toEqual([n, 10]);
      expect(maxAbsDiff(theirs.data, ours)).toBeLessThan(1e-4);
      // The logits are not trivially equal (every block contributes).
      expect(Math.max(...Array.from(ours, Math.abs))).toBeGreaterThan(0.1);
    }
  }, 120_000);

  it('an overlapping 4x4/2 stem (padding 1) and 3x3/2 downsampling (padding 1): same logits as tsgrad within 1e-4', async () => {
    const model = new ConvNeXt({ depths: [1, 1, 1, 1], dims: [8, 16, 16, 24], inChans: 1, numClasses: 10, stemStride: 2, stemKernel: 4, downsampleKernel: 3 });
    randomizeWeights(model, 3);
    model.eval();
    const bytes = await exportConvNeXtOnnx(model, { imageSize: 32 });
    manualSeed(7);
    const x = randn([2, 1, 32, 32]);
    const ours = Float32Array.from(noGrad(() => model.forward(x)).dataSync() as Float32Array);
    const theirs = await ortLogits(bytes, Float32Array.from(x.dataSync() as Float32Array), [2, 1, 32, 32]);
    expect(theirs.dims).toEqual([2, 10]);
    expect(maxAbsDiff(theirs.data, ours)).toBeLessThan(1e-4);
    expect(Math.max(...Array.from(ours, Math.abs))).toBeGreaterThan(0.1);
  }, 120_000);

  it('a custom config (1-channel input, stem 4, kernel 5, no gamma, 7 classes) with dynamic height/width', async () => {
    const model = new ConvNeXt({ depths: [1, 2, 1, 1], dims: [8, 16, 24, 32], inChans: 1, numClasses: 7, kernelSize: 5, layerScaleInitValue: 0 });
    randomizeWeights(model, 2);
    model.eval();
    const bytes = await exportConvNeXtOnnx(model, { dynamicImageSize: true });
    for (const [h, w] of [
      [32, 32],
      [40, 48],
    ] as const) {
      manualSeed(7);
      const x = randn([2, 1, h, w]);
      const ours = Float32Array.from(noGrad(() => model.forward(x)).dataSync() as Float32Array);
      const theirs = await ortLogits(bytes, Float32Array.from(x.dataSync() as Float32Array), [2, 1, h, w]);
      expect(theirs.dims).toEqual([2, 7]);
      expect(maxAbsDiff(theirs.data, ours)).toBeLessThan(1e-4);
    }
  }, 120_000);

  it('declares opset 17, a dynamic batch and refuses an image smaller than the model takes', async () => {
    const model = new ConvNeXt({ depths: [1, 1, 1, 1], dims: [4, 8, 8, 8], numClasses: 3, stemStride: 2 });
    const bytes = await exportConvNeXtOnnx(model, { imageSize: 16 });
    const session = await ort.InferenceSession.create(bytes);
    expect(session.inputNames).toEqual(['input']);
    expect(session.outputNames).toEqual(['logits']);
    await session.release();
    expect(ONNX_OPSET).toBe(17);
    const text = new TextDecoder('latin1').decode(bytes);
    expect(text).toContain('batch');
    expect(text).toContain('LayerNormalization');
    expect(text).toContain('Erf');
    await expect(exportConvNeXtOnnx(model, { imageSize: 8 })).rejects.toThrow(/imageSize must be an integer >= 16 \(8 x stem stride 2\), got 8/);
  }, 60_000);
});

describe('ProtoWriter', () => {
  it('encodes varints, negative int64, floats, strings and packed ints as protobuf does', () => {
    expect(Array.from(new ProtoWriter().int(1, 150).finish())).toEqual([0x08, 0x96, 0x01]);
    expect(Array.from(new ProtoWriter().int(3, -1).finish())).toEqual([0x18, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]);
    expect(Array.from(new ProtoWriter().string(2, 'testing').finish())).toEqual([0x12, 0x07, 0x74, 0x65, 0x73, 0x74, 0x69, 0x6e, 0x67]);
    expect(Array.from(new ProtoWriter().float(2, 1).finish())).toEqual([0x15, 0x00, 0x00, 0x80, 0x3f]);
    expect(Array.from(new ProtoWriter().packedInts(4, [3, 270, 86942]).finish())).toEqual([0x22, 0x06, 0x03, 0x8e, 0x02, 0x9e, 0xa7, 0x05]);
    expect(() => new ProtoWriter().int(1, 1.5)).toThrow(/needs an integer, got 1.5/);
  });
});
