/**
 * Every TypeScript code sample in the README and docs/ runs as written: each ```ts block is
 * written to a module of its own under .doc-samples/ (inside the workspace, so the package
 * imports resolve as a user's do) and imported, with the working directory set to a fresh
 * folder that holds the files the samples name (stand-ins for the official ConvNeXt
 * releases, with the same layout and key names, written by a test helper).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, it } from 'vitest';
import * as T from '@tsgrad/core';
import { convnext, officialToTimmKey } from '@tsgrad/convnext';
import { encodePth, type PthTensor } from '../packages/convnext/test/helpers/pth-writer.js';

const root = fileURLToPath(new URL('../', import.meta.url));
const outDir = `${root}.doc-samples/`;

interface Sample {
  readonly file: string;
  readonly line: number;
  readonly code: string;
}

/** The ```ts blocks of a markdown file, with the line each starts on. */
function samplesOf(file: string): Sample[] {
  const lines = readFileSync(`${root}${file}`, 'utf8').split('\n');
  const out: Sample[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() !== '```ts') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end]!.trim() !== '```') end++;
    out.push({ file, line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return out;
}

const files = ['README.md', ...readdirSync(`${root}docs`).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];
rmSync(outDir, { recursive: true, force: true });
mkdirSync(outDir, { recursive: true });

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (!process.env['VK_ICD_FILENAMES'] && existsSync(SWIFTSHADER)) process.env['VK_ICD_FILENAMES'] = SWIFTSHADER; // WebGPU samples on the CPU

/** A model's state dict as float32 arrays, keys renamed by `rename` (null drops a key). */
function weightsOf(variant: 'tiny' | 'atto', rename: (k: string) => string | null = (k) => k): Record<string, PthTensor> {
  const model = convnext(variant, { generator: new T.Generator(0) });
  const out: Record<string, PthTensor> = {};
  for (const [k, t] of Object.entries(model.stateDict())) {
    const name = rename(k);
    if (name !== null) out[name] = { shape: t.shape, data: Float32Array.from(t.dataSync()) };
  }
  return out;
}

const home = process.cwd();
let work = '';
beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'tsgrad-doc-samples-'));
  writeFileSync(join(work, 'convnext_tiny_1k_224_ema.pth'), encodePth(weightsOf('tiny'), 'model'));
  writeFileSync(join(work, 'convnext_atto_d2-01bb0f51.pth'), encodePth(weightsOf('atto', officialToTimmKey)));
  process.chdir(work);
});
afterAll(() => {
  process.chdir(home);
  rmSync(work, { recursive: true, force: true });
});

afterEach(async () => {
  // A sample may switch backends or seeds; the next one starts from the defaults.
  await T.setBackend('js');
});

for (const file of files) {
  const samples = samplesOf(file);
  if (samples.length === 0) continue;
  describe(file, () => {
    for (const s of samples) {
      it(`sample at line ${s.line} runs`, async () => {
        const path = `${outDir}${s.file.replace(/[/.]/g, '_')}_${s.line}.ts`;
        writeFileSync(path, `${s.code}\nexport {};\n`);
        await import(pathToFileURL(path).href);
      });
    }
  });
}
