/**
 * A Vite build plugin that writes `sw.js`, a service worker caching every file of the
 * build: on the first visit it stores them all (the page, its scripts, the training
 * worker), then answers every same-origin request from that cache, so the app reloads and
 * runs offline. Its cache is named after the build's file names (which carry content
 * hashes), so a new build replaces the old cache. No network is needed at run time anyway:
 * the wasm kernels are generated in the page and nothing comes from a CDN.
 */
import { createHash } from 'node:crypto';
import type { Plugin } from 'vite';

/** The plugin (build only; the dev server registers no service worker). */
export function offlineServiceWorker(): Plugin {
  return {
    name: 'tsgrad-offline-service-worker',
    apply: 'build',
    generateBundle(_options, bundle) {
      const files = ['./', 'index.html', ...Object.keys(bundle).filter((f) => !f.endsWith('.map') && f !== 'index.html')];
      const version = createHash('sha256').update(files.join('\n')).digest('hex').slice(0, 12);
      this.emitFile({ type: 'asset', fileName: 'sw.js', source: serviceWorkerSource(files, version) });
    },
  };
}

function serviceWorkerSource(files: readonly string[], version: string): string {
  return `// Written by sw-plugin.ts: caches the app's files for offline use.
const CACHE = 'tsgrad-web-${version}';
const FILES = ${JSON.stringify(files)};
self.addEventListener('install', (e) => {
  e.waitUntil(caches.open(CACHE).then((c) => c.addAll(FILES)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (e) => {
  e.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k)))).then(() => self.clients.claim()));
});
self.addEventListener('fetch', (e) => {
  const req = e.request;
  if (req.method !== 'GET' || new URL(req.url).origin !== location.origin) return;
  // Pages match with their query ignored (?steps=... presets the form); the rest by URL. Vary is
  // ignored: module scripts are fetched with an Origin header that the cached copies lacked.
  const cached = req.mode === 'navigate' ? caches.match('./', { ignoreSearch: true, ignoreVary: true }) : caches.match(req, { ignoreVary: true });
  e.respondWith(cached.then((hit) => hit || fetch(req)));
});
`;
}
