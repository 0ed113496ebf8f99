/**
 * Serving bundled pages to headless Chromium for the wasm threads test and bench: esbuild
 * bundles the entries (sources through the `source` condition), and a tiny http server on
 * 127.0.0.1 serves them with or without the cross-origin-isolation headers.
 */
import { createServer, type Server } from 'node:http';
import { build } from 'esbuild';

/** The headers that make a page cross-origin isolated. */
export const ISOLATION_HEADERS = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };

/** A running server: the isolated and the plain base URLs, and `close`. */
export interface Served {
  /** Base URL whose responses carry COOP/COEP (`crossOriginIsolated` is true there). */
  readonly isolated: string;
  /** Base URL without them. */
  readonly plain: string;
  close(): Promise<void>;
}

/**
 * Bundles each entry (`{ '/page.js': file }`) for the browser and serves them, with
 * `/` an HTML page loading `/page.js`; paths under `/coi/` get the isolation headers.
 */
export async function serveBundles(entries: Record<string, string>): Promise<Served> {
  const files = new Map<string, [string, string]>();
  files.set('/', ['text/html', '<!doctype html><meta charset="utf-8"><title>tsgrad wasm threads</title><script type="module" src="page.js"></script>']);
  for (const [path, file] of Object.entries(entries)) {
    const r = await build({ entryPoints: [file], bundle: true, format: 'esm', platform: 'browser', target: 'chrome120', conditions: ['source'], write: false, logLevel: 'error' });
    files.set(path, ['text/javascript', r.outputFiles[0]!.text]);
  }
  const server: Server = createServer((req, res) => {
    const url = req.url ?? '';
    const coi = url.startsWith('/coi/');
    const f = files.get(coi ? url.slice(4) : url);
    if (!f) {
      res.writeHead(url.endsWith('/favicon.ico') ? 204 : 404).end();
      return;
    }
    res.writeHead(200, { 'content-type': f[0], ...(coi ? ISOLATION_HEADERS : {}) }).end(f[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no server address');
  const base = `http://127.0.0.1:${addr.port}`;
  return { isolated: `${base}/coi/`, plain: `${base}/`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
