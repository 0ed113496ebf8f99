/**
 * `tsgrad-convnext export` end to end: a run trained here for one epoch exported to ONNX
 * (run in onnxruntime-web against the run's own logits) and to safetensors (official and
 * timm names); official weights re-exported; usage errors.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { manualSeed, noGrad, randn } from '@tsgrad/core';
import { decodeSafetensors } from '@tsgrad/nn';
import * as ort from 'onnxruntime-web';
import pngjs from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toOfficialConvNeXtStateDict } from '../src/checkpoint/timm.js';
import { ConvNeXt } from '../src/model.js';
import { loadRunForPredict } from '../src/predict/predict-node.js';
import { cli, MICRO } from './helpers/cli-run.js';
import { writeIdxDataset } from './helpers/idx-fixture.js';
import { encodePth } from './helpers/pth-writer.js';

const root = mkdtempSync(join(tmpdir(), 'tsgrad-export-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const run = join(root, 'run');

beforeAll(async () => {
  ort.env.wasm.numThreads = 1;
  const data = writeIdxDataset(join(root, 'fashion'), { train: 32, test: 10 });
  const r = await cli('train', '--dataset', 'fashion-mnist', '--data-dir', data, ...MICRO, '--out', run);
  expect(r.code, r.err).toBe(0);
}, 120_000);

/** onnxruntime-web on the exported file gives the run's logits (a seeded batch of two 28x28 grey pictures, 10 classes). */
async function expectOnnxMatchesRun(file: string, pm: Awaited<ReturnType<typeof loadRunForPredict>>, seed: number): Promise<void> {
  manualSeed(seed);
  const x = randn([2, 1, 28, 28]);
  const ours = noGrad(() => pm.model.forward(x)).dataSync() as Float32Array;
  const session = await ort.InferenceSession.create(new Uint8Array(readFileSync(file)));
  const res = await session.run({ input: new ort.Tensor('float32', Float32Array.from(x.dataSync() as Float32Array), [2, 1, 28, 28]) });
  await session.release();
  const theirs = res.logits!.data as Float32Array;
  expect(res.logits!.dims).toEqual([2, 10]);
  for (let i = 0; i < ours.length; i++) expect(Math.abs(theirs[i]! - ours[i]!)).toBeLessThan(1e-4);
}

describe('export a trained run', () => {
  it("to ONNX: onnxruntime-web gives the run's logits (1 grey channel, 28x28, batch 2)", async () => {
    const out = join(root, 'fmnist.onnx');
    const r = await cli('export', run, '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/wrote .*fmnist\.onnx: ONNX \(opset 17, input \[batch, 1, 28, 28\]\), \d+\.\d\d MB/);
    await expectOnnxMatchesRun(out, await loadRunForPredict(run), 3);
  }, 60_000);

  it('to safetensors with official and timm names: the weights load back, with the class names in the metadata', async () => {
    const off = join(root, 'official.safetensors');
    const timm = join(root, 'timm.safetensors');
    expect((await cli('export', run, '--out', off)).code).toBe(0);
    const r = await cli('export', run, '--out', timm, '--naming', 'timm');
    expect(r.out).toMatch(/safetensors \(timm names\)/);
    const a = decodeSafetensors(new Uint8Array(readFileSync(off)));
    const b = decodeSafetensors(new Uint8Array(readFileSync(timm)));
    expect(Object.keys(a.tensors)).toContain('downsample_layers.0.0.weight');
    expect(Object.keys(b.tensors)).toContain('stem.0.weight');
    expect(JSON.parse(a.metadata!['tsgrad.classes']!)).toContain('Ankle boot');
    const model = new ConvNeXt({ depths: [1, 1, 1, 1], dims: [8, 16, 16, 24], inChans: 1, numClasses: 10, stemStride: 2 });
    model.loadStateDict(toOfficialConvNeXtStateDict(b.tensors), { strict: true });
    const pm = await loadRunForPredict(run);
    expect(model.stateDict()['head.weight']!.dataSync()).toEqual(pm.model.stateDict()['head.weight']!.dataSync());
  }, 60_000);

  it("predict --weights on the export classifies as predict on the run (classes, normalisation and size from the metadata)", async () => {
    const png = new pngjs.PNG({ width: 30, height: 30 });
    for (let i = 0; i < png.data.length; i++) png.data[i] = i % 4 === 3 ? 255 : (i * 37) % 256;
    const img = join(root, 'x.png');
    writeFileSync(img, pngjs.PNG.sync.write(png));
    const fromRun = JSON.parse((await cli('predict', run, img, '--json', '--backend', 'js')).out) as { imageSize: number; cropPct: number; results: unknown };
    const fromExport = JSON.parse((await cli('predict', '--weights', join(root, 'timm.safetensors'), img, '--json', '--backend', 'js')).out) as typeof fromRun;
    expect(fromExport.results).toEqual(fromRun.results);
    expect([fromExport.imageSize, fromExport.cropPct]).toEqual([28, 1]);
  }, 60_000);
});

describe('a run with an overlapping stem and downsampling (--stem-kernel 4 with stride 2, --downsample-kernel 3)', () => {
  it('trains, says so in info, and its ONNX and safetensors exports give the run\'s logits and predictions', async () => {
    const data = join(root, 'fashion');
    const ov = join(root, 'overlap');
    const r = await cli('train', '--dataset', 'fashion-mnist', '--data-dir', data, ...MICRO, '--stem-kernel', '4', '--downsample-kernel', '3', '--out', ov);
    expect(r.code, r.err).toBe(0);
    expect(r.out).toMatch(/stem stride 2, kernel 4, downsampling kernel 3\)/);
    expect((await cli('info', '--run', ov)).out).toMatch(/input \[1, 1, 28, 28\], stem stride 2 \(kernel 4, overlapping\), downsampling kernel 3, 10 classes/);
    const pm = await loadRunForPredict(ov);
    expect([pm.model.stemStride, pm.model.stemKernel, pm.model.downsampleKernel]).toEqual([2, 4, 3]);
    expect(pm.model.stateDict()['downsample_layers.0.0.weight']!.shape).toEqual([8, 1, 4, 4]);
    // ONNX: the stem's pads travel with it.
    const onnx = join(root, 'overlap.onnx');
    expect((await cli('export', ov, '--out', onnx)).code).toBe(0);
    await expectOnnxMatchesRun(onnx, pm, 5);
    // safetensors: shapes alone would say stride 4; the recorded stride rebuilds the model.
    const st = join(root, 'overlap.safetensors');
    expect((await cli('export', ov, '--out', st)).code).toBe(0);
    expect(JSON.parse(decodeSafetensors(new Uint8Array(readFileSync(st))).metadata!['tsgrad.convnext']!)).toMatchObject({ stemStride: 2, stemKernel: 4, downsampleKernel: 3 });
    const png = new pngjs.PNG({ width: 30, height: 30 });
    for (let i = 0; i < png.data.length; i++) png.data[i] = i % 4 === 3 ? 255 : (i * 53) % 256;
    const img = join(root, 'y.png');
    writeFileSync(img, pngjs.PNG.sync.write(png));
    const fromRun = JSON.parse((await cli('predict', ov, img, '--json', '--backend', 'js')).out) as { results: unknown };
    const fromExport = JSON.parse((await cli('predict', '--weights', st, img, '--json', '--backend', 'js')).out) as typeof fromRun;
    expect(fromExport.results).toEqual(fromRun.results);
    const bad = await cli('train', '--stem-kernel', '1', '--backend', 'js', '--out', join(root, 'bad'));
    expect(bad.code).toBe(1);
    expect(bad.err).toContain('config: stemKernel must be an integer >= stemStride (2), got 1');
    expect((await cli('train', '--downsample-kernel', '1', '--backend', 'js', '--out', join(root, 'bad'))).err).toContain('config: downsampleKernel must be an integer >= 2 (the stride), got 1');
  }, 120_000);
});

describe('export official weights and usage', () => {
  it('re-exports a .pth as timm safetensors with conv_mlp MLP weights', async () => {
    const m = new ConvNeXt({ depths: [1, 1, 1, 1], dims: [4, 8, 8, 8], numClasses: 1000 });
    const pth = join(root, 'w.pth');
    writeFileSync(pth, encodePth(Object.fromEntries(Object.entries(m.stateDict()).map(([k, v]) => [k, { shape: v.shape, data: Float32Array.from(v.dataSync() as Float32Array) }])), 'model'));
    const out = join(root, 'w.safetensors');
    const r = await cli('export', '--weights', pth, '--out', out, '--naming', 'timm', '--conv-mlp');
    expect(r.code, r.err).toBe(0);
    expect(decodeSafetensors(new Uint8Array(readFileSync(out))).tensors['stages.0.blocks.0.mlp.fc1.weight']!.shape).toEqual([16, 4, 1, 1]);
  });

  it('--help and clear usage errors', async () => {
    const h = await cli('export', '--help');
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/^Usage: tsgrad-convnext export \(RUN \| --weights FILE\) --out FILE/);
    const cases: [string[], string][] = [
      [[], 'export needs a run folder or --weights FILE'],
      [[run], 'export needs --out FILE (.safetensors or .onnx)'],
      [[run, '--out', 'x.bin'], "--out 'x.bin': cannot tell the format from its extension"],
      [[run, '--out', 'x.onnx', '--naming', 'timm'], '--naming and --conv-mlp are for safetensors'],
      [[run, '--out', 'x.safetensors', '--image-size', '64'], '--image-size and --dynamic-size are for ONNX'],
      [[run, '--out', 'x.safetensors', '--naming', 'keras'], "--naming must be official or timm, got 'keras'"],
      [[run, '--out', 'x.safetensors', '--conv-mlp'], '--conv-mlp goes with --naming timm'],
      [[run, 'other', '--out', 'x.onnx'], "export takes one run folder or --weights FILE, got 'run'"],
    ];
    for (const [args, msg] of cases) {
      const r = await cli('export', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toContain(msg.replace("'run'", `'${run}'`));
    }
  });
});
