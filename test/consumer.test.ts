/**
 * What a user does: `pnpm pack` every package (its `prepack` builds dist/), install the
 * tarballs into a fresh project with npm (offline: the few third-party dependencies are
 * packed from this workspace's node_modules too), then
 *   (a) plain `node` imports the packages and trains a tiny ConvNeXt a few steps on wasm;
 *       the Node entries (`/node`) save and load a safetensors file; the CLI runs;
 *   (b) `tsc` (TypeScript 5.x and 6.x, the config `tsc --init` writes, plus a bundler-style
 *       config) checks a user file against the shipped .d.ts, and a deliberately wrong call
 *       fails to compile;
 *   (c) esbuild bundles a page with default settings and headless Chromium (Debian's, via
 *       playwright-core) runs it, cross-origin isolated, on wasm and on WebGPU (SwiftShader).
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../', import.meta.url));
const PACKAGES = ['core', 'wasm', 'webgpu', 'nn', 'convnext'] as const; // dependency order: each prepack builds against the ones before
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--no-sandbox', '--disable-background-networking', '--disable-quic'];
const TSC = { '6': join(root, 'node_modules/typescript/bin/tsc'), '5': join(root, 'node_modules/typescript5/bin/tsc') } as const;

let tmp = '';
let packs = '';
let project = '';
let setupError: unknown = null;

function run(cmd: string, args: readonly string[], opts: SpawnSyncOptions = {}): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 240_000, ...opts });
  return { status: r.status, out: `${String(r.stdout ?? '')}${String(r.stderr ?? '')}${r.error ? String(r.error) : ''}` };
}

function mustRun(cmd: string, args: readonly string[], opts: SpawnSyncOptions = {}): string {
  const r = run(cmd, args, opts);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}):\n${r.out}`);
  return r.out;
}

/** The training code a user writes, the same in Node and in the page. */
const TRAIN_JS = `
import { Generator, crossEntropy, manualSeed, setBackend, tidy } from '@tsgrad/core';
import '@tsgrad/wasm';
import '@tsgrad/webgpu';
import { AdamW, encodeSafetensors, readSafetensors } from '@tsgrad/nn';
import { ConvNeXt, DataLoader, ShapesDataset, datasetNormalization } from '@tsgrad/convnext';

export async function trainSteps(backend, steps = 6) {
  await setBackend(backend);
  manualSeed(0);
  const data = new ShapesDataset({ length: 16, size: 16, seed: 1 });
  const loader = new DataLoader(data, { batchSize: 16, shuffle: false, normalize: datasetNormalization('shapes', 3) });
  const model = new ConvNeXt({ depths: [1, 1, 1, 1], dims: [8, 16, 24, 32], numClasses: 10, stemStride: 2, generator: new Generator(0) });
  const opt = new AdamW(model.parameters(), { lr: 1e-2 });
  const losses = [];
  for (let s = 0; s < steps; s++) {
    const loss = tidy(() => {
      const { images, labels } = loader.batch(0, 0);
      opt.zeroGrad();
      const l = crossEntropy(model.forward(images), labels);
      l.backward();
      opt.step();
      return l;
    });
    losses.push((await loss.data())[0]);
    loss.dispose();
  }
  // Weights out as safetensors bytes (a download in a browser) and back in from a Blob.
  const bytes = await encodeSafetensors(model.stateDict());
  const back = await readSafetensors(new Blob([bytes]));
  return { losses, tensors: Object.keys(back.tensors).length, bytes: bytes.length };
}
`;

const NODE_MAIN = `
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getBackend } from '@tsgrad/core';
import { backendInfo } from '@tsgrad/wasm';
import { loadSafetensors, saveSafetensors } from '@tsgrad/nn/node';
import { convnextAtto } from '@tsgrad/convnext';
import { train, loadPthFile } from '@tsgrad/convnext/node';
import { trainSteps } from './train.mjs';

const result = await trainSteps('wasm');
const file = join(mkdtempSync(join(tmpdir(), 'consumer-')), 'atto.safetensors');
const atto = convnextAtto({ numClasses: 10 });
await saveSafetensors(file, atto.stateDict());
const loaded = await loadSafetensors(file);
console.log(JSON.stringify({ ...result, threads: backendInfo(getBackend()).threads, saved: Object.keys(loaded.tensors).length, node: [typeof train, typeof loadPthFile] }));
`;

/** A user's TypeScript: browser-style imports, the Node subpaths, every package. */
const USER_TS = `
import { Generator, crossEntropy, setBackend, tidy, type Tensor } from '@tsgrad/core';
import { createWasmBackend } from '@tsgrad/wasm';
import { createWebGPUBackend } from '@tsgrad/webgpu';
import { AdamW, Linear, Module, readSafetensors, type StateDict } from '@tsgrad/nn';
import { loadSafetensors } from '@tsgrad/nn/node';
import { ConvNeXt, convnext, decodeIdx, type ImageDataset } from '@tsgrad/convnext';
import { train, type TrainResult } from '@tsgrad/convnext/node';

class Head extends Module {
  fc = new Linear(16, 10);
  forward(x: Tensor): Tensor {
    return this.fc.forward(x);
  }
}

export async function main(blob: Blob, data: ImageDataset): Promise<number> {
  await setBackend('wasm');
  const model: ConvNeXt = convnext('atto', { numClasses: data.classes.length, generator: new Generator(0) });
  const head = new Head();
  const opt = new AdamW(model.parameters(), { lr: 1e-3 });
  const sd: StateDict = model.stateDict();
  const weights = await readSafetensors(blob);
  const fromDisk = await loadSafetensors('w.safetensors');
  const idx = await decodeIdx(await fetch('t10k-labels-idx1-ubyte.gz'), 'labels');
  const loss = tidy(() => crossEntropy(model.forward(head.fc.weight), idx.data.length === 0 ? head.fc.weight : head.fc.bias!));
  opt.step();
  const wasm = await createWasmBackend({ threads: 2 });
  const gpu: typeof createWebGPUBackend = createWebGPUBackend;
  const r: Promise<TrainResult> | null = null as Promise<TrainResult> | null;
  void [sd, weights, fromDisk, wasm, gpu, r, train, loss[Symbol.dispose]];
  return Object.keys(weights.tensors).length;
}
`;

/** A deliberately wrong call: a string where the variant name's union is expected, a missing option type. */
const WRONG_TS = `
import { convnext } from '@tsgrad/convnext';
import { AdamW } from '@tsgrad/nn';
const model = convnext('huge');
new AdamW(model.parameters(), { lr: '0.1' });
`;

const PAGE_JS = `
import { trainSteps } from './train.mjs';
(async () => {
  try {
    const report = { isolated: globalThis.crossOriginIsolated === true, gpu: 'gpu' in navigator, wasm: await trainSteps('wasm', 6) };
    report.webgpu = report.gpu ? await trainSteps('webgpu', 6) : null;
    globalThis.report = report;
  } catch (e) {
    globalThis.report = { error: String(e && e.stack || e) };
  }
})();
`;

beforeAll(async () => {
  try {
    tmp = mkdtempSync(join(tmpdir(), 'tsgrad-consumer-'));
    packs = join(tmp, 'packs');
    project = join(tmp, 'project');
    mkdirSync(packs);
    mkdirSync(project);
    const t0 = performance.now();
    for (const p of PACKAGES) mustRun('pnpm', ['pack', '--pack-destination', packs], { cwd: join(root, 'packages', p) });
    const t1 = performance.now();
    // Third-party dependencies (@webgpu/types, the image decoders) packed from this workspace's
    // node_modules, so that npm needs no registry (they have no dependencies of their own).
    const thirdParty = new Map<string, string>();
    for (const p of PACKAGES) {
      const manifest = JSON.parse(readFileSync(join(root, 'packages', p, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
      for (const name of Object.keys(manifest.dependencies ?? {})) {
        if (name.startsWith('@tsgrad/') || thirdParty.has(name)) continue;
        const dir = dirname(createRequire(join(root, 'packages', p, 'package.json')).resolve(`${name}/package.json`));
        const before = new Set(readdirSync(packs));
        mustRun('npm', ['pack', dir, '--pack-destination', packs], { cwd: tmp });
        thirdParty.set(name, readdirSync(packs).find((t) => !before.has(t))!);
      }
    }
    const tarballs = readdirSync(packs);
    const dep = (prefix: string) => `file:${join(packs, tarballs.find((t) => t.startsWith(prefix))!)}`;
    const dependencies: Record<string, string> = {};
    for (const [name, tgz] of thirdParty) dependencies[name] = `file:${join(packs, tgz)}`;
    for (const p of PACKAGES) dependencies[`@tsgrad/${p}`] = dep(`tsgrad-${p}-`);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module', dependencies }, null, 2));
    mustRun('npm', ['install', '--offline', '--no-audit', '--no-fund'], { cwd: project });
    console.log(`consumer: pnpm pack (with prepack builds) ${((t1 - t0) / 1000).toFixed(1)} s, npm install ${((performance.now() - t1) / 1000).toFixed(1)} s; project in ${project}`);
    writeFileSync(join(project, 'train.mjs'), TRAIN_JS);
    writeFileSync(join(project, 'main.mjs'), NODE_MAIN);
    writeFileSync(join(project, 'page.mjs'), PAGE_JS);
    writeFileSync(join(project, 'user.ts'), USER_TS);
    writeFileSync(join(project, 'wrong.ts'), WRONG_TS);
  } catch (e) {
    setupError = e;
  }
}, 600_000);

afterAll(() => {
  // TSGRAD_KEEP_CONSUMER=1 keeps the project to look into.
  if (tmp && !process.env['TSGRAD_KEEP_CONSUMER']) rmSync(tmp, { recursive: true, force: true });
});

describe('the packed packages in a fresh project', () => {
  it('ship dist, d.ts, README and LICENSE, with no workspace: ranges or source condition', () => {
    if (setupError) throw setupError;
    for (const p of PACKAGES) {
      const dir = join(project, 'node_modules/@tsgrad', p);
      for (const f of ['LICENSE', 'README.md', 'dist/index.js', 'dist/index.d.ts']) expect(existsSync(join(dir, f)), `${p}/${f}`).toBe(true);
      const text = readFileSync(join(dir, 'package.json'), 'utf8');
      expect(text, `${p}/package.json`).not.toMatch(/workspace:|"source"/);
      const pkg = JSON.parse(text) as { exports: Record<string, string | Record<string, string>> };
      for (const [sub, target] of Object.entries(pkg.exports)) {
        if (typeof target === 'string') continue;
        expect(Object.keys(target), `${p} exports['${sub}']`).toEqual(['types', 'default']);
        expect(existsSync(join(dir, target['types']!)) && existsSync(join(dir, target['default']!)), `${p} exports['${sub}'] files`).toBe(true);
      }
    }
    // Dawn (the webgpu package, 100+ MB) is an optional peer: browser-only users do not get it.
    expect(existsSync(join(project, 'node_modules/webgpu'))).toBe(false);
    expect(readFileSync(join(project, 'node_modules/@tsgrad/webgpu/dist/index.d.ts'), 'utf8')).toContain('/// <reference types="@webgpu/types"');
  });

  it('(a) plain node trains a tiny ConvNeXt on wasm (loss falls), and the /node entries and the CLI work', () => {
    if (setupError) throw setupError;
    const r = run(process.execPath, ['main.mjs'], { cwd: project });
    expect(r.status, r.out).toBe(0);
    const report = JSON.parse(r.out.trim().split('\n').pop()!) as { losses: number[]; tensors: number; saved: number; node: string[] };
    console.log(`consumer node (wasm) losses: ${report.losses.map((l) => l.toFixed(4)).join(' ')}`);
    expect(report.losses).toHaveLength(6);
    expect(report.losses[5]!).toBeLessThan(report.losses[0]! * 0.8);
    expect(report.tensors).toBeGreaterThan(10);
    expect(report.saved).toBeGreaterThan(100);
    expect(report.node).toEqual(['function', 'function']);
    const cli = run(join(project, 'node_modules/.bin/tsgrad-convnext'), ['info', '--model', 'atto'], { cwd: project });
    expect(cli.status, cli.out).toBe(0);
    expect(cli.out).toMatch(/3,7\d\d,\d\d\d|parameters/i);
    // ESM only: require() either works (Node 22.12+) or says plainly that the package is an ES module.
    const req = run(process.execPath, ['-e', "require('@tsgrad/convnext'); console.log('required')"], { cwd: project });
    if (req.status !== 0) expect(req.out).toMatch(/ERR_REQUIRE_ESM|ES Module|ERR_REQUIRE_ASYNC_MODULE/);
    else expect(req.out).toContain('required');
  });

  for (const version of ['5', '6'] as const) {
    it(`(b) tsc ${version}.x checks a user file against the shipped types, and rejects a wrong call`, () => {
      if (setupError) throw setupError;
      const dir = join(tmp, `tsc${version}`);
      mkdirSync(dir);
      cpSync(join(project, 'user.ts'), join(dir, 'user.ts'));
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: `tsc${version}`, private: true, type: 'module' }));
      // node_modules of the project, seen from here as a user's would be.
      mustRun('ln', ['-s', join(project, 'node_modules'), join(dir, 'node_modules')]);
      mustRun(process.execPath, [TSC[version], '--init'], { cwd: dir });
      // `tsc --init`'s config, with skipLibCheck turned off so that the shipped .d.ts are checked too
      // (--init turns it on; then errors inside .d.ts files are not reported at all).
      const good = run(process.execPath, [TSC[version], '-p', '.', '--skipLibCheck', 'false', '--noEmit'], { cwd: dir });
      const bundlerConfig = { compilerOptions: { strict: true, target: 'es2022', module: 'esnext', moduleResolution: 'bundler', lib: ['es2022', 'dom'], skipLibCheck: true, noEmit: true }, files: ['user.ts'] };
      writeFileSync(join(dir, 'tsconfig.bundler.json'), JSON.stringify(bundlerConfig));
      const bundler = run(process.execPath, [TSC[version], '-p', 'tsconfig.bundler.json'], { cwd: dir });
      // The wrong file alone, with the --init config, must fail naming both mistakes.
      cpSync(join(project, 'wrong.ts'), join(dir, 'wrong.ts'));
      writeFileSync(join(dir, 'tsconfig.wrong.json'), JSON.stringify({ extends: './tsconfig.json', include: [], files: ['wrong.ts'] }));
      const wrong = run(process.execPath, [TSC[version], '-p', 'tsconfig.wrong.json', '--noEmit'], { cwd: dir });
      const errors = good.out.split('\n').filter((l) => /error TS\d+/.test(l));
      // TypeScript 6's lib.dom declares WebGPU itself and clashes with @webgpu/types (any version, up
      // to 0.1.74) when libraries are checked; TS 5 needs @webgpu/types. Those clashes are between two
      // third-party declaration files and vanish with the default skipLibCheck; none may involve ours.
      const clash = (l: string) => version === '6' && /(@webgpu\/types\/dist\/index\.d\.ts|lib\.dom\.d\.ts)\(/.test(l);
      expect(errors.filter((l) => !clash(l)), 'tsc --init config, libraries checked').toEqual([]);
      expect(good.out).not.toMatch(/@tsgrad\/|user\.ts/);
      expect(bundler.out.trim(), 'bundler config').toBe('');
      expect(bundler.status).toBe(0);
      expect(wrong.status).not.toBe(0);
      expect(wrong.out).toMatch(/wrong\.ts\(4,[0-9]+\): error TS2345: Argument of type '"huge"'/);
      expect(wrong.out).toMatch(/wrong\.ts\(5,[0-9]+\): error TS2322: Type 'string' is not assignable to type 'number'/);
    });
  }

  it('(c) esbuild bundles a page with default settings; headless Chromium trains on wasm and WebGPU (loss falls)', async () => {
    if (setupError) throw setupError;
    if (!existsSync(CHROMIUM)) throw new Error(`the consumer test needs Chromium at ${CHROMIUM} (apt-get install chromium, as .ci/run does); it fails rather than skips`);
    await build({ entryPoints: [join(project, 'page.mjs')], bundle: true, outfile: join(project, 'bundle.js'), logLevel: 'error' });
    const files: Record<string, [string, string]> = {
      '/': ['text/html', '<!doctype html><meta charset="utf-8"><title>consumer</title><script src="/bundle.js"></script>'],
      '/bundle.js': ['text/javascript', readFileSync(join(project, 'bundle.js'), 'utf8')],
    };
    let server: Server | null = null;
    let browser: Browser | null = null;
    try {
      server = createServer((req, res) => {
        const f = files[req.url ?? ''];
        if (!f) return void res.writeHead(req.url === '/favicon.ico' ? 204 : 404).end();
        // Cross-origin isolation, as docs/browser.md asks of a page that wants SharedArrayBuffer.
        res.writeHead(200, { 'content-type': f[0], 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' }).end(f[1]);
      });
      await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
      const addr = server.address();
      if (!addr || typeof addr === 'string') throw new Error('no server address');
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(e.message));
      await page.goto(`http://127.0.0.1:${addr.port}/`);
      await page.waitForFunction(() => (globalThis as { report?: unknown }).report !== undefined, undefined, { timeout: 120_000 });
      type Run = { losses: number[]; tensors: number };
      const report = await page.evaluate(() => (globalThis as unknown as { report: { error?: string; isolated: boolean; gpu: boolean; wasm: Run; webgpu: Run | null } }).report);
      expect(report.error, report.error).toBeUndefined();
      expect(errors).toEqual([]);
      console.log(`consumer chromium: isolated ${report.isolated}; wasm losses ${report.wasm.losses.map((l) => l.toFixed(4)).join(' ')}; webgpu ${report.webgpu?.losses.map((l) => l.toFixed(4)).join(' ')}`);
      expect(report.isolated).toBe(true);
      for (const r of [report.wasm, report.webgpu]) {
        expect(r).not.toBeNull();
        expect(r!.losses).toHaveLength(6);
        expect(r!.losses[5]!).toBeLessThan(r!.losses[0]! * 0.8);
        expect(r!.tensors).toBeGreaterThan(10);
      }
      // Both backends start from the same weights and data: the first losses agree.
      expect(Math.abs(report.wasm.losses[0]! - report.webgpu!.losses[0]!)).toBeLessThan(1e-3);
    } finally {
      await browser?.close();
      await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    }
  });
});
