/**
 * The web app (examples/web) in headless Chromium (Debian's, driven by playwright-core):
 * Vite builds it and `vite preview` serves it with its COOP/COEP headers; the test checks
 * that the page is cross-origin isolated, trains the tiny "micro" ConvNeXt a few steps on
 * wasm (2 threads asked for) and on WebGPU (SwiftShader) through the page's own controls
 * (the URL query presets the form, as docs/web-app.md documents), sees the loss fall,
 * draws on the canvas and gets a top-5, downloads the weights, goes offline, reloads the page
 * (the service worker serves it), loads the weights back and gets the same logits.
 * It also trains on a gzipped IDX pair and on a folder of pictures given to the file inputs,
 * and classifies a photo with ImageNet-shaped weights given as a `.pth` and as timm safetensors.
 * Screenshots go to test-artifacts/web-app/ (ignored by git).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { fromTypedArray, Generator, noGrad } from '@tsgrad/core';
import { ConvNeXt, IMAGENET_CLASSES, datasetNormalization, encodeIdx, evalTransform, exportConvNeXtSafetensors } from '@tsgrad/convnext';
import { encodePth, type PthTensor } from '../packages/convnext/test/helpers/pth-writer.js';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildAndPreview, type AppServer } from '../examples/web/preview-server.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--no-sandbox', '--disable-background-networking', '--disable-quic'];
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/web-app/', import.meta.url));
/** A tiny run: 16 pictures of 16x16, one batch per epoch, so the loss falls within a few steps. */
const TINY = 'model=micro&length=16&size=16&batch=16&epochs=50&lr=0.01';

let outDir = '';
let server: AppServer | null = null;
let browser: Browser | null = null;
let setupError: unknown = null;
const t0 = performance.now();
/** Progress with the time since the file started, so a slow or stuck phase shows in the log. */
const phase = (what: string): void => console.log(`web app ${((performance.now() - t0) / 1000).toFixed(1)} s: ${what}`);

// A failed beforeAll would mark the tests skipped; keep the error and fail each test with it.
beforeAll(async () => {
  try {
    if (!existsSync(CHROMIUM)) throw new Error(`the web app test needs Chromium at ${CHROMIUM} (apt-get install chromium, as .ci/run does); it fails rather than skips`);
    mkdirSync(ARTIFACTS, { recursive: true });
    outDir = mkdtempSync(join(tmpdir(), 'tsgrad-web-app-'));
    const t0 = performance.now();
    server = await buildAndPreview(outDir);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    console.log(`web app: vite build + preview + chromium launch ${((performance.now() - t0) / 1000).toFixed(1)} s at ${server.url}`);
  } catch (e) {
    setupError = e;
  }
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (outDir) rmSync(outDir, { recursive: true, force: true });
});

/** Opens the app with `query`, failing the test on any page error; waits for the worker's backend. */
async function open(context: BrowserContext, query: string, backend: string): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server!.url}?${query}`);
  await page.waitForFunction((b) => document.body.dataset['backend'] === b || document.getElementById('error')?.textContent !== '', backend, { timeout: 60_000 });
  expect(await page.textContent('#error')).toBe('');
  return { page, errors };
}

/** Clicks Train and waits until the run is over; returns the losses the chart holds. */
async function train(page: Page): Promise<number[]> {
  // Wait on the count of ended runs, not on data-state: a two-step run can start and end between polls.
  const ended = Number((await page.getAttribute('#train-form', 'data-runs')) ?? 0);
  await page.click('#start');
  await page.waitForFunction((n) => Number(document.getElementById('train-form')?.dataset['runs'] ?? 0) > n || document.getElementById('error')?.textContent !== '', ended, { timeout: 120_000 });
  expect(await page.textContent('#error')).toBe('');
  return JSON.parse((await page.getAttribute('#loss-chart', 'data-values'))!) as number[];
}

/** Draws the same figure every time (a "7"-like stroke) and waits for the top five. */
async function drawAndClassify(page: Page): Promise<{ top: string[]; logits: number[] }> {
  await page.click('#clear');
  const box = (await page.locator('#pad').boundingBox())!;
  const at = (x: number, y: number) => [box.x + x * box.width, box.y + y * box.height] as const;
  await page.mouse.move(...at(0.25, 0.25));
  await page.mouse.down();
  for (const [x, y] of [[0.5, 0.25], [0.75, 0.25], [0.6, 0.5], [0.45, 0.8]] as const) await page.mouse.move(...at(x, y), { steps: 4 });
  await page.mouse.up();
  await page.waitForFunction(() => document.querySelectorAll('#top5 li').length === 5 && document.getElementById('logits')?.textContent !== '', undefined, { timeout: 60_000 });
  const top = await page.locator('#top5 li').allTextContents();
  const logits = JSON.parse((await page.textContent('#logits'))!) as number[];
  return { top, logits };
}

it('loads cross-origin isolated, trains on wasm (2 threads asked), classifies a drawing, and its weights reload offline to the same logits', async () => {
  if (setupError) throw setupError;
  const context = await browser!.newContext({ acceptDownloads: true });
  try {
    const { page, errors } = await open(context, `backend=wasm&threads=2&${TINY}&steps=8`, 'wasm');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const backendLine = (await page.textContent('#backend'))!;
    console.log(`web app ${backendLine}`);
    // The wasm backend's Web Workers over one shared memory (the page is cross-origin isolated).
    expect(backendLine).toMatch(/^backend: wasm · 2 threads \(2 requested\) · /);

    const losses = await train(page);
    console.log(`web app wasm losses: ${losses.map((l) => l.toFixed(4)).join(' ')}; ${await page.textContent('#stats')}; ${await page.textContent('#status')}`);
    expect(losses).toHaveLength(8);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.8);
    expect(await page.textContent('#stats')).toMatch(/^step 8\/8 · epoch 8 · loss [\d.]+ · [\d.]+ images\/s · ETA 0s · memory [\d.]+ (KiB|MiB) \(peak [\d.]+ (KiB|MiB), \d+ tensors\)$/);
    expect(await page.textContent('#status')).toMatch(/^done; backend memory: [\d.]+ MiB in \d+ tensors$/);

    phase('wasm trained');
    const first = await drawAndClassify(page);
    phase('drawing classified');
    expect(first.top).toHaveLength(5);
    expect(first.logits).toHaveLength(10);
    const probabilities = first.top.map((t) => Number(/ ([\d.]+)%$/.exec(t)![1]));
    expect(probabilities.reduce((a, p) => a + p, 0)).toBeLessThanOrEqual(100.5);
    for (let i = 1; i < 5; i++) expect(probabilities[i]!).toBeLessThanOrEqual(probabilities[i - 1]!);
    await page.screenshot({ path: join(ARTIFACTS, 'wasm-trained.png'), fullPage: true });

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    expect(download.suggestedFilename()).toMatch(/^convnext-micro-shapes\.safetensors$/);
    const weights = join(outDir, download.suggestedFilename());
    await download.saveAs(weights);
    phase('weights downloaded');

    // Offline from here: the service worker (installed on the first load) serves the app.
    // The build registers its service worker (import.meta.env.PROD); it holds every file of the app.
    await page.evaluate(() => Promise.race([navigator.serviceWorker.ready, new Promise((_, reject) => setTimeout(() => reject(new Error('no service worker became ready in 20 s')), 20_000))]).then(() => undefined));
    phase('service worker ready');
    await context.setOffline(true);
    await page.close();
    phase('offline');
    const again = await open(context, `backend=wasm&threads=2&${TINY}`, 'wasm');
    phase('reloaded offline');
    expect(await again.page.evaluate(() => crossOriginIsolated)).toBe(true);
    await again.page.setInputFiles('#weights-file', weights);
    await again.page.waitForFunction(() => /reloaded/.test(document.getElementById('model')?.textContent ?? '') || document.getElementById('error')?.textContent !== '');
    expect(await again.page.textContent('#error')).toBe('');
    phase('weights loaded');
    const second = await drawAndClassify(again.page);
    expect(second.top).toEqual(first.top);
    for (let i = 0; i < 10; i++) expect(Math.abs(second.logits[i]! - first.logits[i]!)).toBeLessThan(1e-4);
    await again.page.screenshot({ path: join(ARTIFACTS, 'wasm-reloaded-offline.png'), fullPage: true });
    expect([...errors, ...again.errors]).toEqual([]);
  } finally {
    await context.close();
  }
});

it('trains on WebGPU (SwiftShader) and classifies a drawing', async () => {
  if (setupError) throw setupError;
  const context = await browser!.newContext();
  try {
    const { page, errors } = await open(context, `backend=webgpu&${TINY}&steps=2`, 'webgpu');
    phase('webgpu page ready');
    const backendLine = (await page.textContent('#backend'))!;
    console.log(`web app ${backendLine}`);
    expect(backendLine).toMatch(/backend: webgpu · adapter: .*swiftshader/i);
    const losses = await train(page);
    console.log(`web app webgpu losses: ${losses.map((l) => l.toFixed(4)).join(' ')}; ${await page.textContent('#stats')}`);
    expect(losses).toHaveLength(2);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    phase('webgpu trained');
    const { top, logits } = await drawAndClassify(page);
    phase('webgpu drawing classified');
    expect(top).toHaveLength(5);
    expect(logits.every(Number.isFinite)).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'webgpu-trained.png'), fullPage: true });
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
});

/** A 24-bit BMP (a format every browser decodes) of `side`x`side` RGB pixels, rows top-down as {@link squarePicture} gives them. */
function bmp(side: number, rgb: Uint8Array): Uint8Array {
  const row = Math.ceil((side * 3) / 4) * 4;
  const out = new Uint8Array(54 + row * side);
  const v = new DataView(out.buffer);
  out.set([0x42, 0x4d]);
  v.setUint32(2, out.length, true);
  v.setUint32(10, 54, true);
  v.setUint32(14, 40, true);
  v.setInt32(18, side, true);
  v.setInt32(22, side, true); // positive height: rows bottom-up
  v.setUint16(26, 1, true);
  v.setUint16(28, 24, true);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const at = ((side - 1 - y) * side + x) * 3;
      out.set([rgb[at + 2]!, rgb[at + 1]!, rgb[at]!], 54 + y * row + x * 3); // BGR
    }
  }
  return out;
}

/** RGB bytes (rows top-down) of a `side`x`side` picture filled with `fill`, a white square in its upper middle. */
function squarePicture(side: number, fill: readonly [number, number, number]): Uint8Array {
  const out = new Uint8Array(side * side * 3);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const inside = Math.abs(x - side / 2) < side / 4 && y > side / 8 && y < side / 2;
      out.set(inside ? [255, 255, 255] : fill, (y * side + x) * 3);
    }
  }
  return out;
}

it('pauses, resumes and stops; trains on a gzipped IDX pair and on a folder of pictures chosen in the file inputs', async () => {
  if (setupError) throw setupError;
  const data = join(outDir, 'data');
  mkdirSync(data);
  // 16 pictures of 28x28 in two classes (0: dark, 1: bright), the images file gzipped.
  const n = 16;
  const labels = Uint8Array.from({ length: n }, (_, i) => i % 2);
  const pixels = new Uint8Array(n * 28 * 28);
  labels.forEach((l, i) => pixels.fill(l ? 200 : 30, i * 784, (i + 1) * 784));
  writeFileSync(join(data, 'train-images-idx3-ubyte.gz'), gzipSync(encodeIdx([n, 28, 28], pixels)));
  writeFileSync(join(data, 'train-labels-idx1-ubyte'), encodeIdx([n], labels));
  // A folder with two classes of four pictures each.
  for (const [cls, rgb] of [['red', [220, 30, 30]], ['blue', [30, 30, 220]]] as const) {
    mkdirSync(join(data, 'pictures', cls), { recursive: true });
    for (let i = 0; i < 4; i++) writeFileSync(join(data, 'pictures', cls, `${i}.bmp`), bmp(24 + 4 * i, squarePicture(24 + 4 * i, rgb)));
  }
  const context = await browser!.newContext();
  try {
    const { page, errors } = await open(context, 'backend=wasm&threads=2&model=micro&length=16&size=16&batch=8&epochs=500&steps=1000&lr=0.01', 'wasm');
    const state = () => page.evaluate(() => document.getElementById('train-form')!.dataset['state']);
    const steps = async () => (JSON.parse((await page.getAttribute('#loss-chart', 'data-values'))!) as number[]).length;
    await page.click('#start');
    await page.waitForFunction(() => JSON.parse(document.getElementById('loss-chart')!.dataset['values']!).length >= 2);
    await page.click('#pause');
    await page.waitForFunction(() => document.getElementById('train-form')!.dataset['state'] === 'paused');
    const held = await steps();
    await page.waitForTimeout(500);
    expect(await steps()).toBe(held); // no step while paused
    expect(await page.textContent('#pause')).toBe('Resume');
    await page.click('#pause');
    await page.waitForFunction((n) => JSON.parse(document.getElementById('loss-chart')!.dataset['values']!).length > n, held);
    await page.click('#stop');
    await page.waitForFunction(() => document.getElementById('train-form')!.dataset['state'] === 'idle');
    expect(await steps()).toBeLessThan(1000);
    expect(await state()).toBe('idle');
    phase('paused, resumed and stopped');
    await page.fill('input[name=steps]', '2');
    await page.check('input[name=data][value=idx]');
    // Labels first: the app tells the files apart by their dimensions.
    await page.setInputFiles('#idx-files', [join(data, 'train-labels-idx1-ubyte'), join(data, 'train-images-idx3-ubyte.gz')]);
    expect(await train(page)).toHaveLength(2);
    expect(await page.textContent('#model')).toMatch(/ConvNeXt-micro trained on fashion-mnist: 16 images of 28x28 from train-images-idx3-ubyte\.gz/);
    phase('trained on IDX');
    await page.check('input[name=data][value=folder]');
    await page.fill('input[name=folder-size]', '16');
    await page.setInputFiles('#folder-files', join(data, 'pictures'));
    expect(await train(page)).toHaveLength(2);
    expect(await page.textContent('#model')).toMatch(/trained on folder: 8 images, 2 classes \(blue, red\), 16x16/);
    phase('trained on a folder');
    await page.screenshot({ path: join(ARTIFACTS, 'folder-trained.png'), fullPage: true });
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
});

it('classifies a photo with ImageNet weights dropped as an official .pth and as timm safetensors, as the model does in Node', async () => {
  if (setupError) throw setupError;
  const dir = join(outDir, 'imagenet');
  mkdirSync(dir);
  // A small ConvNeXt with ImageNet's 1000-class head and random weights, in both file formats.
  const model = new ConvNeXt({ depths: [1, 1, 1, 1], dims: [8, 16, 24, 32], numClasses: 1000, generator: new Generator(3) });
  const official: Record<string, PthTensor> = {};
  for (const [k, t] of Object.entries(model.stateDict())) official[k] = { shape: t.shape, data: t.dataSync() as Float32Array };
  writeFileSync(join(dir, 'convnext_micro_1k_224.pth'), encodePth(official, 'model'));
  writeFileSync(join(dir, 'model.safetensors'), await exportConvNeXtSafetensors(model, { naming: 'timm' }));
  const side = 64;
  const rgb = [40, 160, 90] as const;
  const photo = squarePicture(side, rgb);
  writeFileSync(join(dir, 'photo.bmp'), bmp(side, photo));
  // What Node computes for the same picture: timm's transform, then the model.
  const norm = datasetNormalization('imagenet', 3);
  const input = evalTransform({ data: photo, width: side, height: side, channels: 3 }, { size: 224, cropPct: 0.875, mean: norm.mean, std: norm.std });
  const expected = Array.from(noGrad(() => model.eval().forward(fromTypedArray(input, [1, 3, 224, 224], 'float32'))).dataSync());
  const best = expected.indexOf(Math.max(...expected));

  const context = await browser!.newContext();
  try {
    const { page, errors } = await open(context, 'backend=wasm&threads=2', 'wasm');
    const results: number[][] = [];
    for (const file of ['convnext_micro_1k_224.pth', 'model.safetensors']) {
      await page.setInputFiles('#imagenet-weights', join(dir, file));
      await page.waitForFunction((f) => (document.getElementById('imagenet-model')?.textContent ?? '').includes(`from ${f} (ImageNet-1k)`) || document.getElementById('error')?.textContent !== '', file);
      expect(await page.textContent('#error')).toBe('');
      await page.setInputFiles('#photo-file', join(dir, 'photo.bmp'));
      await page.waitForFunction(() => document.querySelectorAll('#imagenet-top5 li').length === 5 && document.getElementById('imagenet-logits')?.textContent !== '', undefined, { timeout: 60_000 });
      const top = await page.locator('#imagenet-top5 li').allTextContents();
      expect(top[0]).toMatch(new RegExp(`^${IMAGENET_CLASSES[best]!.replace(/[()]/g, '.')} [\\d.]+%$`));
      results.push(JSON.parse((await page.textContent('#imagenet-logits'))!) as number[]);
    }
    phase('classified a photo with .pth and safetensors weights');
    for (const logits of results) {
      expect(logits).toHaveLength(1000);
      let worst = 0;
      for (let i = 0; i < 1000; i++) worst = Math.max(worst, Math.abs(logits[i]! - expected[i]!));
      expect(worst).toBeLessThan(1e-3);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'imagenet-photo.png'), fullPage: true });
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
});
