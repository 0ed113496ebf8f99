/**
 * The web app (examples/web) in headless Chromium (Debian's, driven by playwright-core):
 * Vite builds it and `vite preview` serves it with its COOP/COEP headers; the test checks
 * that the page is cross-origin isolated, trains the tiny "micro" ConvNeXt a few steps on
 * wasm (2 threads asked for) and on WebGPU (SwiftShader) through the page's own controls
 * (the URL query presets the form, as docs/web-app.md documents), sees the loss fall,
 * draws on the canvas and gets a top-5, downloads the weights, goes offline, reloads the page
 * (the service worker serves it), loads the weights back and gets the same logits.
 * Screenshots go to test-artifacts/web-app/ (ignored by git).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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
  await page.click('#start');
  await page.waitForFunction(() => document.getElementById('train-form')?.dataset['state'] === 'training' || document.getElementById('error')?.textContent !== '');
  await page.waitForFunction(() => document.getElementById('train-form')?.dataset['state'] === 'idle' || document.getElementById('error')?.textContent !== '', undefined, { timeout: 90_000 });
  expect(await page.textContent('#error')).toBe('');
  return JSON.parse((await page.getAttribute('#loss-chart', 'data-values'))!) as number[];
}

/** Draws the same figure every time (a "7") and waits for the top five. */
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
    // Two threads when the wasm backend runs Web Workers in the browser; until then one, with the reason shown.
    expect(backendLine).toMatch(/backend: wasm · (2 threads \(2 requested\)|1 thread \(2 requested\) · .*one thread: .+)/);

    const losses = await train(page);
    console.log(`web app wasm losses: ${losses.map((l) => l.toFixed(4)).join(' ')}; ${await page.textContent('#stats')}`);
    expect(losses).toHaveLength(8);
    expect(losses.at(-1)!).toBeLessThan(losses[0]! * 0.8);
    expect(await page.textContent('#stats')).toMatch(/done; backend memory/);

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
    const { page, errors } = await open(context, `backend=webgpu&${TINY}&steps=3`, 'webgpu');
    const backendLine = (await page.textContent('#backend'))!;
    console.log(`web app ${backendLine}`);
    expect(backendLine).toMatch(/backend: webgpu · adapter: .*swiftshader/i);
    const losses = await train(page);
    console.log(`web app webgpu losses: ${losses.map((l) => l.toFixed(4)).join(' ')}; ${await page.textContent('#stats')}`);
    expect(losses).toHaveLength(3);
    expect(losses.at(-1)!).toBeLessThan(losses[0]!);
    const { top, logits } = await drawAndClassify(page);
    expect(top).toHaveLength(5);
    expect(logits.every(Number.isFinite)).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'webgpu-trained.png'), fullPage: true });
    expect(errors).toEqual([]);
  } finally {
    await context.close();
  }
});
