/**
 * Builds the app and serves the build with `vite preview` (its COOP/COEP headers and
 * service worker included), on 127.0.0.1 and a free port: what test/web-app.test.ts opens.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { preview } from 'vite';

/** A running preview server. */
export interface AppServer {
  /** The app's URL (ends with `/`). */
  readonly url: string;
  close(): Promise<void>;
}

const root = fileURLToPath(new URL('./', import.meta.url));

/**
 * Builds the app into `outDir` and serves it. The build runs as `vite build` in a child
 * process, as a user runs it: a test runner's NODE_ENV=test would make an in-process build a
 * development build (no `import.meta.env.PROD`, so no service worker).
 */
export async function buildAndPreview(outDir: string): Promise<AppServer> {
  const vite = join(dirname(createRequire(`${root}package.json`).resolve('vite/package.json')), 'bin/vite.js');
  const env = { ...process.env };
  delete env['NODE_ENV'];
  const r = spawnSync(process.execPath, [vite, 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'warn'], { cwd: root, env, encoding: 'utf8', timeout: 180_000 });
  if (r.status !== 0) throw new Error(`vite build failed (${r.status ?? r.signal}):\n${r.stdout}${r.stderr}${r.error ? String(r.error) : ''}`);
  const server = await preview({ root, configFile: `${root}vite.config.ts`, logLevel: 'warn', build: { outDir }, preview: { host: '127.0.0.1', port: 0, open: false } });
  const url = server.resolvedUrls?.local[0];
  if (!url) throw new Error('vite preview gave no URL');
  return { url, close: () => server.close() };
}
