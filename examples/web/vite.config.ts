/**
 * Vite config of the web app. The workspace packages are read from their TypeScript
 * sources (the `source` export condition), so the app needs no `pnpm build` first; the dev
 * server and `vite preview` send the cross-origin isolation headers that shared wasm memory
 * (threads) needs; the build adds an offline service worker (sw-plugin.ts).
 */
import { defaultClientConditions, defineConfig } from 'vite';
import { offlineServiceWorker } from './sw-plugin.js';

/** COOP + COEP: the page is cross-origin isolated, so SharedArrayBuffer exists. */
const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // Relative asset URLs: the build works from any folder of a static host.
  base: './',
  resolve: { conditions: ['source', ...defaultClientConditions] },
  worker: { format: 'es' },
  server: { headers: ISOLATION_HEADERS },
  preview: { headers: ISOLATION_HEADERS },
  build: { target: 'es2022', chunkSizeWarningLimit: 4096 },
  plugins: [offlineServiceWorker()],
});
