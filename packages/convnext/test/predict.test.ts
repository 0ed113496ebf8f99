/**
 * `tsgrad-convnext predict` end to end: with a run trained here for one epoch (its classes
 * and normalisation) and with stand-ins for official ImageNet weights (a torch.save `.pth`
 * in official names, timm-named safetensors), on PNG and JPEG files written by the test.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromTypedArray, noGrad } from '@tsgrad/core';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportConvNeXtSafetensors } from '../src/export/safetensors-export.js';
import { IMAGENET_CLASSES } from '../src/imagenet-classes.js';
import { ConvNeXt } from '../src/model.js';
import { decodeImageFile } from '../src/data/node/image-folder-node.js';
import { evalTransform, topK } from '../src/predict/preprocess.js';
import { FASHION_MNIST_CLASSES } from '../src/data/mnist.js';
import { cli, MICRO } from './helpers/cli-run.js';
import { writeIdxDataset } from './helpers/idx-fixture.js';
import { encodePth } from './helpers/pth-writer.js';
import { randomizeWeights } from './helpers/random-weights.js';

const root = mkdtempSync(join(tmpdir(), 'tsgrad-predict-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const images = join(root, 'images');
mkdirSync(join(images, 'sub'), { recursive: true });

/** A seeded colourful test picture. */
function picture(w: number, h: number, seed: number): Uint8Array {
  const rgba = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      rgba[i] = (x * 7 + seed * 31) % 256;
      rgba[i + 1] = (y * 5 + x * seed) % 256;
      rgba[i + 2] = ((x - w / 2) ** 2 + (y - h / 2) ** 2 < (w * h) / 16 ? 230 : 20) ^ seed;
      rgba[i + 3] = 255;
    }
  return rgba;
}
const pngFile = join(images, 'a.png');
const jpgFile = join(images, 'sub', 'b.jpg');
{
  const png = new pngjs.PNG({ width: 40, height: 30 });
  png.data.set(picture(40, 30, 3));
  writeFileSync(pngFile, pngjs.PNG.sync.write(png));
  writeFileSync(jpgFile, jpeg.encode({ width: 48, height: 64, data: picture(48, 64, 9) }, 92).data);
  writeFileSync(join(images, 'notes.txt'), 'not an image');
}

interface PredictJson {
  model: string;
  results: { file: string; top: { index: number; label: string; probability: number }[] }[];
}

describe('predict with a trained run', () => {
  const run = join(root, 'run');
  beforeAll(async () => {
    const data = writeIdxDataset(join(root, 'fashion'), { train: 32, test: 10 });
    const r = await cli('train', '--dataset', 'fashion-mnist', '--data-dir', data, ...MICRO, '--out', run);
    expect(r.code, r.err).toBe(0);
  }, 120_000);

  it("prints the run's class names with probabilities for a folder of images (searched recursively)", async () => {
    const r = await cli('predict', run, images, '--top-k', '3', '--backend', 'js');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ConvNeXt-custom trained on fashion-mnist \(model weights\), from .*last\.safetensors; backend js; input 28x28 \(crop 1\)$/m);
    const lines = r.out.trim().split('\n');
    expect(lines[1]).toBe(pngFile);
    expect(lines[5]).toBe(jpgFile);
    const rows = [...lines.slice(2, 5), ...lines.slice(6, 9)];
    for (const row of rows) {
      const m = /^ {2}( *\d+\.\d\d)% {2}(.+)$/.exec(row);
      expect(m, row).not.toBeNull();
      expect(FASHION_MNIST_CLASSES).toContain(m![2]);
    }
  }, 60_000);

  it('--json gives probabilities in descending order that sum to at most 1', async () => {
    const r = await cli('predict', run, pngFile, '--top-k', '10', '--json', '--backend', 'js');
    expect(r.code).toBe(0);
    const j = JSON.parse(r.out) as PredictJson;
    const p = j.results[0]!.top.map((t) => t.probability);
    expect(p).toHaveLength(10);
    expect(p.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    for (let i = 1; i < p.length; i++) expect(p[i]!).toBeLessThanOrEqual(p[i - 1]!);
  }, 60_000);
});

describe('predict with official ImageNet-1k weights (stand-ins of the official layout)', () => {
  const arch = { depths: [1, 1, 1, 1], dims: [8, 16, 16, 24], numClasses: 1000 };
  const model = new ConvNeXt(arch);
  randomizeWeights(model, 5);
  model.eval();
  const pth = join(root, 'convnext_official.pth');
  const timm = join(root, 'convnext_timm.safetensors');
  beforeAll(async () => {
    const sd = Object.fromEntries(Object.entries(model.stateDict()).map(([k, v]) => [k, { shape: v.shape, data: Float32Array.from(v.dataSync() as Float32Array) }]));
    writeFileSync(pth, encodePth(sd, 'model'));
    writeFileSync(timm, await exportConvNeXtSafetensors(model, { naming: 'timm' }));
  });

  /** What the model says for one file under timm's eval transform at 224 / 0.875. */
  function direct(file: string, k: number): string[] {
    const x = evalTransform(decodeImageFile(file), { size: 224, cropPct: 0.875, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    const logits = noGrad(() => model.forward(fromTypedArray(x, [1, 3, 224, 224], 'float32'))).dataSync() as Float32Array;
    return topK(logits, k, IMAGENET_CLASSES).map((p) => p.label);
  }

  it('a .pth ({"model": state_dict}) prints ImageNet class names: the top-5 of a direct forward', async () => {
    const r = await cli('predict', '--weights', pth, pngFile, jpgFile, '--backend', 'js');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^ConvNeXt \(depths \[1, 1, 1, 1\], dims \[8, 16, 16, 24\]\), 1000 classes, from .*convnext_official\.pth; backend js; input 224x224 \(crop 0.875\)$/m);
    const lines = r.out.trim().split('\n');
    const labels = (from: number) => lines.slice(from, from + 5).map((l) => l.replace(/^ +\d+\.\d\d% {2}/, ''));
    expect(labels(2)).toEqual(direct(pngFile, 5));
    expect(labels(8)).toEqual(direct(jpgFile, 5));
    for (const l of labels(2)) expect(IMAGENET_CLASSES).toContain(l);
  }, 60_000);

  it('the installed way of running it (a separate process through tsx) prints the same', async () => {
    const here = fileURLToPath(new URL('.', import.meta.url));
    const p = spawnSync(resolve(here, '../../../node_modules/.bin/tsx'), ['--conditions=source', resolve(here, '../src/cli.ts'), 'predict', '--weights', pth, pngFile, '--top-k', '2', '--backend', 'js'], { encoding: 'utf8', timeout: 90_000 });
    expect(p.stderr).toBe('');
    expect(p.status).toBe(0);
    const labels = p.stdout.trim().split('\n').slice(2).map((l) => l.replace(/^ +\d+\.\d\d% {2}/, ''));
    expect(labels).toEqual(direct(pngFile, 2));
  }, 90_000);

  it('timm-named safetensors give the same predictions', async () => {
    const a = JSON.parse((await cli('predict', '--weights', pth, images, '--json', '--backend', 'js')).out) as PredictJson;
    const b = JSON.parse((await cli('predict', '--weights', timm, images, '--json', '--backend', 'js')).out) as PredictJson;
    expect(b.results).toEqual(a.results);
  }, 60_000);

  it('--model checks the variant; bad inputs get clear errors', async () => {
    const r = await cli('predict', '--weights', pth, pngFile, '--model', 'tiny', '--backend', 'js');
    expect(r.code).toBe(1);
    expect(r.err).toContain('the weights are a custom ConvNeXt (depths [1, 1, 1, 1], dims [8, 16, 16, 24]), not ConvNeXt-tiny (depths [3, 3, 9, 3], dims [96, 192, 384, 768])');
    expect((await cli('predict', '--weights', pth, join(images, 'notes.txt'), '--backend', 'js')).err).toMatch(/notes\.txt: not a JPEG or PNG image/);
    expect((await cli('predict', '--weights', join(root, 'nope.pth'), pngFile)).err).toMatch(/weights file '.*nope\.pth' does not exist/);
    expect((await cli('predict', '--weights', pngFile, pngFile)).err).toMatch(/a\.png' is neither a torch\.save \(\.pth\) file nor safetensors/);
    const usage = await cli('predict');
    expect(usage.code).toBe(2);
    expect(usage.err).toContain('predict needs a run folder or --weights FILE');
    expect((await cli('predict', '--weights', pth)).err).toContain('predict needs at least one image file or folder');
    expect((await cli('predict', '--weights', pth, pngFile, '--crop-pct', '2')).err).toContain('--crop-pct must be in (0, 1], got 2');
    const help = await cli('predict', '--help');
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/^Usage: tsgrad-convnext predict \(RUN \| --weights FILE\) IMAGE\|FOLDER/);
  }, 60_000);
});
