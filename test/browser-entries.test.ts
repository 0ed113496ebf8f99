/**
 * Every package's main entry must load in a browser with no shims: bundled by esbuild for
 * the browser with default settings (only the `source` condition added, so that workspace
 * packages resolve to their sources here), the bundle may import no Node built-in and may
 * not touch a `process` global (Node-only parts live behind the `/node` subpaths).
 */
import { builtinModules } from 'node:module';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';

const packagesDir = fileURLToPath(new URL('../packages/', import.meta.url));
const packages = readdirSync(packagesDir).filter((d) => {
  try {
    readFileSync(`${packagesDir}${d}/package.json`);
    return true;
  } catch {
    return false;
  }
});
const nodeBuiltins = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Bare uses of the `process` global (not `globalThis.process`, not inside a quoted name). */
const PROCESS_USE = /(?<![\w$.'"`])process\s*(?:\.|\?\.|\[)|typeof\s+process\b/g;

describe('main entries are browser-safe', () => {
  it('covers all five packages', () => {
    expect(packages.sort()).toEqual(['convnext', 'core', 'nn', 'wasm', 'webgpu']);
  });

  for (const dir of packages) {
    it(`@tsgrad/${dir}: an esbuild browser bundle has no node: import and no process reference`, async () => {
      const result = await build({
        entryPoints: [`${packagesDir}${dir}/src/index.ts`],
        bundle: true,
        platform: 'browser',
        format: 'esm',
        conditions: ['source'],
        write: false,
        metafile: true,
        logLevel: 'silent',
      });
      expect(result.errors).toEqual([]);
      const meta: Metafile = result.metafile;
      const imports = Object.values(meta.outputs).flatMap((o) => o.imports.map((i) => i.path));
      expect(imports.filter((p) => nodeBuiltins.has(p) || p.startsWith('node:')), 'Node built-ins imported by the bundle').toEqual([]);
      const inputs = Object.keys(meta.inputs).filter((f) => f.includes('/src/'));
      expect(inputs.filter((f) => /(^|\/)(node|cli)\.ts$|-node\.ts$/.test(f)), 'Node-only files pulled into the bundle').toEqual([]);
      const code = result.outputFiles[0]!.text;
      const uses = [...code.matchAll(PROCESS_USE)].map((m) => code.slice(Math.max(0, m.index - 60), m.index + 40).replace(/\s+/g, ' '));
      expect(uses, 'references to the process global').toEqual([]);
    });
  }
});
