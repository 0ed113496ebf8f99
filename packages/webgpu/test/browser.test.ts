/**
 * The browser test: headless Chromium (Debian's package, driven by playwright-core; no
 * browser download) loads a page from a tiny http server on 127.0.0.1. The page imports
 * core and webgpu bundled from their sources by esbuild, trains a small convnet for a few
 * steps on navigator.gpu (SwiftShader here) and on the js backend, and reports the losses;
 * it also checks the tiled GEMM kernels (which the convnet's small shapes do not reach).
 */
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { TrainReport } from './browser/train.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
/** The launch that works without a GPU (see docs/webgpu.md): WebGPU on SwiftShader. */
export const CHROMIUM_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--no-sandbox', '--disable-background-networking', '--disable-quic'];

let dir = '';
let server: Server | null = null;
let browser: Browser | null = null;
let url = '';
let setupError: unknown = null;

// A failed beforeAll would mark the test skipped; keep the error and fail the test with it.
beforeAll(async () => {
  try {
    await setUp();
  } catch (e) {
    setupError = e;
  }
});

async function setUp(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`the browser test needs Chromium at ${CHROMIUM} (apt-get install chromium, as .ci/run does); it fails rather than skips`);
  dir = mkdtempSync(join(tmpdir(), 'tsgrad-webgpu-browser-'));
  await build({
    entryPoints: [fileURLToPath(new URL('./browser/train.ts', import.meta.url))],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'chrome120',
    conditions: ['source'],
    outfile: join(dir, 'bundle.js'),
    logLevel: 'error',
  });
  const files: Record<string, [string, string]> = {
    '/': ['text/html', '<!doctype html><meta charset="utf-8"><title>tsgrad webgpu</title><script type="module" src="/bundle.js"></script>'],
    '/bundle.js': ['text/javascript', readFileSync(join(dir, 'bundle.js'), 'utf8')],
  };
  server = createServer((req, res) => {
    const f = files[req.url ?? ''];
    if (!f) {
      res.writeHead(req.url === '/favicon.ico' ? 204 : 404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f[0] }).end(f[1]);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no server address');
  url = `http://127.0.0.1:${addr.port}/`;
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

afterAll(async () => {
  await browser?.close();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('trains a small convnet on navigator.gpu in headless Chromium, matching the js backend', async () => {
  if (setupError) throw setupError;
  const page = await browser!.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => typeof (globalThis as { tsgradTrain?: unknown }).tsgradTrain === 'function');
  const hasGpu = await page.evaluate(() => 'gpu' in navigator);
  expect(hasGpu, 'navigator.gpu exists').toBe(true);
  const report = await page.evaluate(() => (globalThis as unknown as { tsgradTrain: () => Promise<TrainReport> }).tsgradTrain());
  expect(errors).toEqual([]);
  console.log(`browser adapter: ${report.adapter}; webgpu losses ${report.webgpu.map((l) => l.toFixed(4)).join(' ')}; js ${report.js.map((l) => l.toFixed(4)).join(' ')}; max param diff ${report.maxParamDiff.toExponential(2)}; tiled kernels vs js ${report.kernelDiff.toExponential(2)}`);
  expect(report.adapter).toMatch(/swiftshader/i);
  expect(report.webgpu).toHaveLength(6);
  // The loss falls...
  expect(report.webgpu[5]!).toBeLessThan(report.webgpu[0]! * 0.9);
  for (let i = 1; i < 6; i++) expect(report.webgpu[i]!).toBeLessThan(report.webgpu[i - 1]!);
  // ...and equals the js backend's, step by step, as do the trained weights.
  for (let i = 0; i < 6; i++) expect(Math.abs(report.webgpu[i]! - report.js[i]!)).toBeLessThan(1e-4);
  expect(report.maxParamDiff).toBeLessThan(1e-4);
  // The tiled GEMM kernels (vec4 matmul, conv and its gradients as implicit GEMMs) compile and agree in Chromium too.
  expect(report.kernelDiff).toBeLessThan(1e-3);
  await page.close();
});
