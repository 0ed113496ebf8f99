/**
 * Makes docs/web-app.png: builds and serves the app, trains ConvNeXt-atto on the shapes for
 * a few dozen steps in headless Chromium (wasm), draws on the pad and takes a screenshot.
 *
 *   pnpm tsx examples/web/screenshot.ts [steps]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { buildAndPreview } from './preview-server.js';

const steps = Number(process.argv[2] ?? 60);
const out = fileURLToPath(new URL('../../docs/web-app.png', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'tsgrad-web-shot-'));
const server = await buildAndPreview(dir);
const browser = await chromium.launch({ executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1360, height: 940 } });
  await page.goto(`${server.url}?backend=wasm&model=atto&length=2000&size=32&batch=16&lr=0.002&steps=${steps}`);
  await page.waitForFunction(() => document.body.dataset['backend'] === 'wasm', undefined, { timeout: 60_000 });
  await page.click('#start');
  await page.waitForFunction(() => document.getElementById('train-form')?.dataset['state'] === 'training');
  await page.waitForFunction(() => document.getElementById('train-form')?.dataset['state'] === 'idle', undefined, { timeout: 600_000 });
  const box = (await page.locator('#pad').boundingBox())!;
  // A ring: the shapes model's "ring" class.
  await page.mouse.move(box.x + box.width * 0.78, box.y + box.height / 2);
  await page.mouse.down();
  for (let a = 0; a <= 2 * Math.PI + 0.2; a += 0.2) await page.mouse.move(box.x + box.width * (0.5 + 0.28 * Math.cos(a)), box.y + box.height * (0.5 + 0.28 * Math.sin(a)));
  await page.mouse.up();
  await page.waitForFunction(() => document.querySelectorAll('#top5 li').length === 5);
  await page.screenshot({ path: out });
  console.log(`wrote ${out}: ${await page.textContent('#stats')}`);
} finally {
  await browser.close();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
}
