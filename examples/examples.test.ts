/**
 * Every script in examples/ runs as a user runs it (`node --import tsx --conditions=source
 * examples/<name>.ts ...`), on a tiny budget and on data made here: a small Fashion-MNIST-format
 * IDX folder, a folder of generated PNGs, and small ConvNeXt checkpoints with the official
 * (.pth) and timm (safetensors) parameter names standing in for the official releases (no
 * network in CI). The last test fails when an example is added without being run here.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Generator, fromTypedArray, manualSeed } from '@tsgrad/core';
import { encodeSafetensors } from '@tsgrad/nn';
import { ConvNeXt, IMAGENET_CLASSES, FASHION_MNIST_CLASSES, convertConvNeXtStateDict, crc32 } from '@tsgrad/convnext';
import { loadWeightsForPredict } from '@tsgrad/convnext/node';
import { writeIdxDataset } from '../packages/convnext/test/helpers/idx-fixture.js';
import { encodePth, type PthTensor } from '../packages/convnext/test/helpers/pth-writer.js';

const root = new URL('..', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'tsgrad-examples-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The examples the tests below ran (the last test compares it with the folder). */
const ran = new Set<string>();

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `examples/<name>` from source, as its header says. */
function example(name: string, ...args: string[]): Promise<Run> {
  ran.add(name);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', `examples/${name}`, ...args], { cwd: root });
    let [stdout, stderr] = ['', ''];
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

/** Fails with the example's output when it did not exit 0. */
function ok(r: Run): string {
  if (r.status !== 0) throw new Error(`exit ${r.status}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r.stdout;
}

/** `first N steps A -> last N steps B` of the examples' summaries. */
function lossFall(out: string): [number, number] {
  const m = /first \d+ steps ([\d.]+) -> last \d+ steps ([\d.]+)/.exec(out);
  expect(m, out).not.toBeNull();
  return [Number(m![1]), Number(m![2])];
}

// ---- fixtures ----------------------------------------------------------------------------

/** An 8-bit RGB PNG (no dependency: IHDR, one zlib IDAT, IEND). */
function png(width: number, height: number, pixel: (x: number, y: number) => [number, number, number]): Uint8Array {
  const raw = new Uint8Array(height * (1 + width * 3));
  for (let y = 0; y < height; y++) {
    raw[y * (1 + width * 3)] = 0; // filter: none
    for (let x = 0; x < width; x++) raw.set(pixel(x, y), y * (1 + width * 3) + 1 + x * 3);
  }
  const chunk = (type: string, data: Uint8Array) => {
    const out = new Uint8Array(12 + data.length);
    const view = new DataView(out.buffer);
    view.setUint32(0, data.length);
    out.set(new TextEncoder().encode(type), 4);
    out.set(data, 8);
    view.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
    return out;
  };
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit, RGB
  const parts = [Uint8Array.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', new Uint8Array(0))];
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** Three classes told apart by stripe direction, each picture with its own phase and colours. */
const PATTERNS: Record<string, (x: number, y: number, k: number) => boolean> = {
  horizontal: (x, y, k) => Math.floor((y + k) / 4) % 2 === 0,
  vertical: (x, y, k) => Math.floor((x + k) / 4) % 2 === 0,
  checks: (x, y, k) => (Math.floor((x + k) / 6) + Math.floor((y + k) / 6)) % 2 === 0,
};

/** ROOT/train/<class>/*.png and ROOT/val/<class>/*.png. */
function imageFolder(dir: string, perClass: { train: number; val: number }): string {
  for (const [split, n] of [['train', perClass.train], ['val', perClass.val]] as const) {
    for (const [cls, on] of Object.entries(PATTERNS)) {
      mkdirSync(join(dir, split, cls), { recursive: true });
      for (let k = 0; k < n; k++) {
        const [fg, bg] = [[200 + k * 7, 60 + k * 11, 40], [30, 40 + k * 5, 90 + k * 9]] as [number, number, number][];
        writeFileSync(join(dir, split, cls, `${k}.png`), png(40 + k, 36 + 2 * k, (x, y) => (on(x, y, k + (split === 'val' ? 2 : 0)) ? fg! : bg!)));
      }
    }
  }
  return dir;
}

/**
 * A small ConvNeXt with a 1000-class head (depths 1-1-1-1, dims 8-32, stem 4: 32x32 inputs)
 * as official-named tensors: a stand-in for convnext_tiny_1k_224_ema.pth. `bias` sets head
 * biases (with a zero head weight, the logits are exactly the bias: a known prediction).
 */
function tinyImagenetWeights(bias?: Record<number, number>): Record<string, PthTensor> {
  manualSeed(3);
  const model = new ConvNeXt({ depths: [1, 1, 1, 1], dims: [8, 16, 24, 32], numClasses: 1000, generator: new Generator(3) });
  const out: Record<string, PthTensor> = {};
  for (const [k, t] of Object.entries(model.stateDict())) out[k] = { shape: t.shape, data: Float32Array.from(t.dataSync() as Float32Array) };
  if (bias) {
    out['head.weight']!.data.fill(0);
    const b = out['head.bias']!.data.fill(0);
    for (const [i, v] of Object.entries(bias)) b[Number(i)] = v;
  }
  model.dispose();
  return out;
}

/** Official-named tensors as timm's `model.safetensors` (timm's key names). */
async function timmSafetensors(official: Record<string, PthTensor>): Promise<Uint8Array> {
  const timm = convertConvNeXtStateDict(official, 'timm', { reshape: (v, shape) => ({ shape, data: v.data }) });
  return encodeSafetensors(Object.fromEntries(Object.entries(timm).map(([k, v]) => [k, fromTypedArray(v.data, [...v.shape], 'float32')])));
}

/** A small custom architecture for the engine examples (ConvNeXt-atto costs 3x the time). */
const TINY = ['--depths', '1,1,1,1', '--dims', '8,16,24,32'];

const dirs = { fmnist: join(tmp, 'fashion-mnist'), folder: join(tmp, 'photos'), runs: join(tmp, 'runs') };
beforeAll(() => {
  writeIdxDataset(dirs.fmnist, { train: 32, test: 20 });
  imageFolder(dirs.folder, { train: 4, val: 2 });
});

// ---- the examples ------------------------------------------------------------------------

describe('examples/', () => {
  it('custom-convnext.ts: a custom ConvNeXt, AdamW and a loop from the library alone; the loss falls', async () => {
    const out = ok(await example('custom-convnext.ts', '--steps', '50', '--batch', '16', '--val', '64'));
    expect(out).toMatch(/ConvNeXt \[1,1,2,1\] x \[16,32,64,128\]: 269722 parameters; 50 steps of 16 shapes/);
    expect(out).toMatch(/step 50\/50 {2}loss [\d.]+/);
    const [first, last] = lossFall(out);
    expect(last).toBeLessThan(first);
    expect(out).toMatch(/validation accuracy: [\d.]+% of 64 images/);
  });

  it('small-convnet.ts: core ops alone; the loss falls and it writes its metrics', async () => {
    const out = join(dirs.runs, 'small-convnet');
    const stdout = ok(await example('small-convnet.ts', '--steps', '40', '--batch', '32', '--out', out));
    expect(stdout).toMatch(/accuracy before training/);
    expect(stdout).toMatch(/step 40\/40: loss/);
    const [first, last] = lossFall(stdout);
    expect(last).toBeLessThan(first * 0.7);
    const metrics = JSON.parse(readFileSync(join(out, 'metrics.json'), 'utf8')) as { losses: unknown[]; accuracy: number };
    expect(metrics.losses).toHaveLength(40);
    expect(metrics.accuracy).toBeGreaterThan(0.4);
  });

  it('train-fashion-mnist.ts: the engine on IDX files, a step budget, then the test split measured per class', async () => {
    const out = join(dirs.runs, 'fmnist');
    // 4 steps per epoch: epoch 1 ends with a validation, then the budget stops the run at step 6.
    const stdout = ok(await example('train-fashion-mnist.ts', '--data-dir', dirs.fmnist, '--epochs', '2', '--batch-size', '8', '--max-steps', '6', ...TINY, '--out', out));
    expect(stdout).toMatch(/ConvNeXt-custom \(depths \[1, 1, 1, 1\], dims \[8, 16, 24, 32\]\) \(0\.\d+M parameters\) on fashion-mnist/);
    expect(stdout).toMatch(/2 epochs x 4 steps of 8 images, stopping at step 6/);
    expect(stdout).toMatch(/epoch 1: test loss [\d.]+, top-1 [\d.]+%, top-5 [\d.]+%/);
    expect(stdout).toMatch(/stopped at step 6; continue with --resume/);
    const [first, last] = lossFall(stdout);
    expect(Number.isFinite(first) && Number.isFinite(last)).toBe(true);
    expect(last).toBeLessThan(first);
    expect(stdout).toMatch(/test: top-1 [\d.]+%, top-5 [\d.]+%, loss [\d.]+ on 20 images/);
    for (const c of FASHION_MNIST_CLASSES) expect(stdout).toContain(`  ${c.padEnd(12)} `);
    for (const f of ['last.safetensors', 'metrics.json', 'metrics.jsonl', 'training.svg', 'confusion-fashion-mnist.svg']) expect(existsSync(join(out, f)), f).toBe(true);
  });

  it('train-fashion-mnist.ts: a missing dataset says what to install or download', async () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty, { recursive: true });
    const r = await example('train-fashion-mnist.ts', '--data-dir', empty, '--out', join(dirs.runs, 'none'));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/train-images-idx3-ubyte/);
    expect(r.stderr).toMatch(/dataset-fashion-mnist/);
  });

  it('train-image-folder.ts: the engine on a folder of PNGs with the paper augmentation, then classifies a picture per class', async () => {
    const out = join(dirs.runs, 'folder');
    const stdout = ok(await example('train-image-folder.ts', dirs.folder, '--image-size', '32', '--epochs', '2', '--batch-size', '6', ...TINY, '--out', out));
    expect(stdout).toMatch(/on .*photos \(train\) at 32x32/);
    expect(stdout).toMatch(/RandAugment rand-m9-mstd0\.5-inc1, random erasing 0\.25/);
    expect(stdout).toMatch(/2 epochs x 2 steps of 6 images/);
    expect(stdout).toMatch(/epoch 2: validation loss [\d.]+, accuracy [\d.]+%/);
    const [first, last] = lossFall(stdout);
    expect(Number.isFinite(first) && Number.isFinite(last)).toBe(true);
    // One validation picture per class, named with the folder's classes.
    for (const c of Object.keys(PATTERNS)) expect(stdout).toMatch(new RegExp(`val/${c}/0\\.png: (checks|horizontal|vertical) \\([\\d.]+%\\), truth ${c}`));
    expect(existsSync(join(out, 'last.safetensors'))).toBe(true);
  });

  it('finetune-folder.ts: official-named .pth weights, a new head for the folder, layer decay; predict reads the result back', async () => {
    const weights = join(tmp, 'convnext_tiny_1k_224_ema.pth');
    writeFileSync(weights, encodePth(tinyImagenetWeights(), 'model')); // the official releases wrap the state dict in 'model'
    const out = join(dirs.runs, 'finetune', 'model.safetensors');
    const stdout = ok(await example('finetune-folder.ts', '--weights', weights, dirs.folder, '--image-size', '32', '--epochs', '2', '--batch-size', '6', '--lr', '0.001', '--out', out));
    expect(stdout).toMatch(/3 classes \(checks, horizontal, vertical\), 12 training and 6 validation images at 32x32/);
    expect(stdout).toMatch(/loaded \d+ tensors of ConvNeXt-custom from .*\.pth; its 1000-class head is replaced by a new 3-class one/);
    expect(stdout).toMatch(/fine-tuning everything \(layer decay 0\.8\)/);
    expect(stdout).toMatch(/before: validation loss [\d.]+, accuracy [\d.]+%/);
    expect(stdout).toMatch(/epoch 2 \(step 4\/4\): training loss [\d.]+, validation loss [\d.]+, accuracy [\d.]+%/);
    // The written weights: official names, the new head, the folder's classes for predict.
    const pm = await loadWeightsForPredict(out);
    expect(pm.classes).toEqual(['checks', 'horizontal', 'vertical']);
    expect(pm.arch.numClasses).toBe(3);
    expect(pm.imageSize).toBe(32);
    pm.model.dispose();
  });

  it('finetune-folder.ts --freeze: timm-named weights, only the head trains, the backbone stays as loaded', async () => {
    const official = tinyImagenetWeights();
    const weights = join(tmp, 'timm-model.safetensors');
    writeFileSync(weights, await timmSafetensors(official));
    const out = join(dirs.runs, 'frozen', 'model.safetensors');
    const stdout = ok(await example('finetune-folder.ts', '--weights', weights, dirs.folder, '--image-size', '32', '--epochs', '1', '--batch-size', '6', '--freeze', '--out', out));
    expect(stdout).toMatch(/training the head only: 99 of \d+ parameters/); // 32 x 3 + 3
    const pm = await loadWeightsForPredict(out);
    const sd = pm.model.stateDict();
    for (const k of ['downsample_layers.0.0.weight', 'stages.3.0.pwconv2.weight', 'norm.weight']) expect(Array.from(sd[k]!.dataSync()), k).toEqual(Array.from(official[k]!.data));
    pm.model.dispose();
  });

  it('predict-image.ts: timm safetensors weights, a PNG, the top-5 ImageNet names with their probabilities', async () => {
    // Zero head weights: the logits are the biases, so the prediction is known exactly.
    const bias = { 281: 6, 285: 5, 282: 4, 287: 3, 291: 2 };
    const weights = join(tmp, 'convnext-imagenet.safetensors');
    writeFileSync(weights, await timmSafetensors(tinyImagenetWeights(bias)));
    const photo = join(tmp, 'cat.png');
    writeFileSync(photo, png(64, 48, (x, y) => [x * 4, y * 5, 128]));
    const stdout = ok(await example('predict-image.ts', '--weights', weights, photo, '--image-size', '32'));
    expect(stdout).toMatch(/ConvNeXt-custom \(depths \[1, 1, 1, 1\], dims \[8, 16, 24, 32\]\) from .*convnext-imagenet\.safetensors/);
    expect(stdout).toContain('cat.png (64x48):');
    const z = Object.values(bias).reduce((s, b) => s + Math.exp(b), 0) + (1000 - 5);
    const lines = Object.entries(bias).sort(([, a], [, b]) => b - a).map(([i, b]) => `  ${((100 * Math.exp(b)) / z).toFixed(2).padStart(6)}%  ${IMAGENET_CLASSES[Number(i)]}`);
    expect(stdout).toContain(lines.join('\n'));
    expect(lines[0]).toMatch(/tabby/);
  });

  it('bad arguments stop with a message that names the flag', async () => {
    const [a, b, c] = await Promise.all([
      example('custom-convnext.ts', '--steps', 'many'),
      example('predict-image.ts', 'cat.jpg'),
      example('small-convnet.ts', '--size', '10', '--out', join(dirs.runs, 'bad')),
    ]);
    expect(a.status).not.toBe(0);
    expect(a.stderr).toMatch(/--steps, --batch and --val must be positive integers/);
    expect(b.stderr).toMatch(/usage: predict-image\.ts --weights/);
    expect(c.stderr).toMatch(/--size must be a multiple of 4/);
  });

  it('every example in examples/ is run by a test above', () => {
    const scripts = readdirSync(join(root, 'examples')).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
    expect(scripts.filter((f) => !ran.has(f)), 'examples without a test here').toEqual([]);
    expect(scripts.length).toBeGreaterThanOrEqual(6);
  });
});
