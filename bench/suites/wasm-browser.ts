/**
 * The wasm backend in a browser against the same backend in Node: a 2-thread ConvNeXt-atto
 * AdamW training step (32x32, 2x2 stem, batch 64; bench/browser/atto-step.ts, the same code
 * on both sides) in headless Chromium (Debian's package through playwright-core; helpers
 * are Web Workers, the page cross-origin isolated) beside the step in this Node process
 * with 2 worker_threads. Rows: the step in a dedicated Worker (how an app trains) and on
 * the page's main thread (which spins instead of Atomics.wait), both with plain SIMD as
 * Node 20 has it; and in the Worker with relaxed SIMD, which Chromium validates and uses
 * by default. Speedup = Node time / Chromium time (target: above 0.87, within 15%), timed in
 * alternating pairs (a step takes seconds on a loaded machine, and the load drifts).
 *
 *   pnpm bench wasm-browser
 */
import { existsSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as T from '@tsgrad/core';
import { chromium } from 'playwright-core';
import { backendInfo, createWasmBackend, disposeWasmBackend } from '../../packages/wasm/src/index.js';
import { serveBundles } from '../../packages/wasm/test/browser/serve.js';
import { attoStep } from '../browser/atto-step.js';
import type { RunnerInfo } from '../browser/atto-runner.js';
import type { Case, Suite } from './types.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export async function wasmBrowserSuite(): Promise<Suite> {
  if (!existsSync(CHROMIUM)) throw new Error(`bench wasm-browser: needs Chromium at ${CHROMIUM}`);
  const node = await createWasmBackend({ threads: 2 });
  const nodeInfo = backendInfo(node);
  if (nodeInfo.threads !== 2) throw new Error(`bench wasm-browser: Node backend has ${nodeInfo.threads} thread(s): ${nodeInfo.singleThreadReason}`);
  T.registerBackend('bench-wasm-node', () => node);
  await T.setBackend('bench-wasm-node');
  const nodeStep = attoStep();

  const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));
  const served = await serveBundles({ '/page.js': here('../browser/atto-page.ts'), '/atto-worker.js': here('../browser/atto-worker.ts') });
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-background-networking', '--disable-quic'] });
  const page = await browser.newPage();
  page.on('pageerror', (e) => console.error(`bench page: ${e.message}`));
  await page.goto(served.isolated);
  await page.waitForFunction(() => typeof (globalThis as { benchStep?: unknown }).benchStep === 'function');

  // The page is set up for each row as its turn comes (tinybench runs cases one by one).
  const configs: { where: 'main' | 'worker'; relaxed: boolean; label: string }[] = [
    { where: 'worker', relaxed: false, label: 'Chromium dedicated Worker, plain SIMD' },
    { where: 'main', relaxed: false, label: 'Chromium main thread (spins), plain SIMD' },
    { where: 'worker', relaxed: true, label: 'Chromium dedicated Worker, relaxed SIMD' },
  ];
  let current = '';
  const infos: string[] = [];
  const cases: Case[] = configs.map((c) => {
    const key = `${c.where}/${c.relaxed}`;
    return {
      name: `ConvNeXt-atto train step (AdamW), 32x32, batch 64, 2 threads: ${c.label} vs Node`,
      oursLabel: 'tsgrad-wasm 2T Chromium',
      anchorLabel: 'tsgrad-wasm 2T Node',
      paired: 7,
      ours: async () => {
        if (current !== key) {
          const info = await page.evaluate(([w, r]) => (globalThis as unknown as { benchSetUp: (w: string, r: boolean) => Promise<RunnerInfo> }).benchSetUp(w, r), [c.where, c.relaxed] as const);
          if (info.threads !== 2 || info.helperThreads !== 'web-workers') throw new Error(`bench page: ${JSON.stringify(info)}`);
          infos.push(`${c.label}: ${info.threads} threads on ${info.helperThreads}, caller ${info.callerWait}, relaxed SIMD ${info.relaxedSimd}`);
          current = key;
        }
        return page.evaluate(() => (globalThis as unknown as { benchStep: () => Promise<number> }).benchStep());
      },
      anchor: () => nodeStep(),
    };
  });
  return {
    cases,
    // A getter: the rows' set-up facts are known only after they ran (run.ts reads the note then).
    get note() {
      return `Chromium ${browser.version()} headless, page served with COOP/COEP (cross-origin isolated); Node ${process.version} with 2 worker_threads and plain SIMD (relaxed SIMD needs a flag in Node 20). ${infos.join('; ')}. Each Chromium step includes one page.evaluate round trip (well under 1 ms). Load average at the end: ${loadavg().map((l) => l.toFixed(1)).join(', ')} on ${cpus().length} cores.`;
    },
    dispose: async () => {
      await browser.close();
      await served.close();
      await disposeWasmBackend(node);
    },
  };
}
