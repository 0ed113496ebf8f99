/**
 * Offline use: the production build registers sw.js (written by the build, see
 * sw-plugin.ts), which caches every file of the build on first load and answers from that
 * cache, so the app reloads and runs with no network. The dev server registers nothing.
 */

/** Registers the service worker in a production build. */
export function registerServiceWorker(): void {
  if (!import.meta.env.PROD || !('serviceWorker' in navigator)) return;
  navigator.serviceWorker.register(`${import.meta.env.BASE_URL}sw.js`).catch((e: unknown) => console.warn(`no offline cache: ${String(e)}`));
}
