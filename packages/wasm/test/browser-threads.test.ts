/**
 * The wasm backend's threads in a real browser: headless Chromium (Debian's package,
 * driven by playwright-core) loads a page bundled by esbuild from a tiny local server.
 * Served with COOP/COEP, the page is cross-origin isolated and a `threads: 2` backend runs
 * its kernels on a Web Worker sharing its WebAssembly.Memory, both from the page's main
 * thread (which cannot block, so it spins) and from a dedicated Worker (which blocks in
 * Atomics.wait), matching a 1-thread backend on a GEMM, a conv with its gradients and three
 * training steps. Served without the headers, it runs on one thread and says why.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { NOT_ISOLATED } from '../src/pool.js';
import type { ThreadsReport } from './browser/checks.js';
import { serveBundles, type Served } from './browser/serve.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

let served: Served | null = null;
let browser: Browser | null = null;
let setupError: unknown = null;

// A failed beforeAll would mark the tests skipped; keep the error and fail them with it.
beforeAll(async () => {
  try {
    if (!existsSync(CHROMIUM)) throw new Error(`the browser threads test needs Chromium at ${CHROMIUM} (apt-get install chromium, as .ci/run does); it fails rather than skips`);
    served = await serveBundles({ '/page.js': here('./browser/page.ts'), '/worker.js': here('./browser/worker.ts') });
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-quic'] });
  } catch (e) {
    setupError = e;
  }
});

afterAll(async () => {
  await browser?.close();
  await served?.close();
});

async function open(url: string): Promise<{ page: Page; errors: string[] }> {
  if (setupError) throw setupError;
  const page = await browser!.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(url);
  await page.waitForFunction(() => typeof (globalThis as { tsgradChecks?: unknown }).tsgradChecks === 'function');
  return { page, errors };
}

function expectTwoThreadsMatch(r: ThreadsReport, callerWait: 'spin' | 'block'): void {
  expect(r.isolated).toBe(true);
  expect(r.info.threads).toBe(2);
  expect(r.info.singleThreadReason).toBe('');
  expect(r.info.helperThreads).toBe('web-workers');
  expect(r.info.callerWait).toBe(callerWait);
  expect(r.info.sharedMemory).toBe(true);
  expect(r.info.helperJobs).toBeGreaterThan(0);
  // Relaxed SIMD wherever Chromium validates it (it does since 114).
  expect(r.info.relaxedSimdAvailable).toBe(true);
  expect(r.info.relaxedSimd).toBe(true);
  // The same kernels on the same splits: the per-element arithmetic is the same.
  expect(r.gemm).toBeLessThan(1e-5);
  expect(r.conv).toBeLessThan(1e-5);
  expect(r.train).toBeLessThan(1e-5);
  expect(r.losses[2]!).toBeLessThan(r.losses[0]!);
}

it('cross-origin isolated: 2 threads on Web Workers from the main thread (spinning) and from a dedicated Worker (blocking), matching 1 thread', async () => {
  const { page, errors } = await open(served ? served.isolated : '');
  const main = await page.evaluate(() => (globalThis as unknown as { tsgradChecks: () => Promise<ThreadsReport> }).tsgradChecks());
  const inWorker = await page.evaluate(() => (globalThis as unknown as { tsgradChecksInWorker: () => Promise<ThreadsReport> }).tsgradChecksInWorker());
  console.log(`chromium wasm 2 threads: main thread gemm ${main.gemm} conv ${main.conv} train ${main.train}, helper chunks ${main.info.helperJobs}; worker gemm ${inWorker.gemm} conv ${inWorker.conv} train ${inWorker.train}, helper chunks ${inWorker.info.helperJobs}`);
  expectTwoThreadsMatch(main, 'spin');
  expectTwoThreadsMatch(inWorker, 'block');
  expect(errors).toEqual([]);
  await page.close();
});

it('not isolated: one thread, and backendInfo says why', async () => {
  const { page, errors } = await open(served ? served.plain : '');
  const r = await page.evaluate(() => (globalThis as unknown as { tsgradChecks: () => Promise<ThreadsReport> }).tsgradChecks());
  expect(r.isolated).toBe(false);
  expect(r.info.threads).toBe(1);
  expect(r.info.helperThreads).toBe('none');
  expect(r.info.sharedMemory).toBe(false);
  expect(r.info.singleThreadReason).toBe(NOT_ISOLATED);
  expect(r.info.singleThreadReason).toMatch(/Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
  expect(r.gemm).toBe(0);
  expect(r.train).toBe(0);
  expect(errors).toEqual([]);
  await page.close();
});
