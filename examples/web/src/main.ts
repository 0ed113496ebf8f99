/**
 * The tsgrad web app's page: it starts the training worker on the backend the browser
 * offers (WebGPU, else wasm with threads), shows what it runs on and whether the page is
 * cross-origin isolated, and wires the three panels. See docs/web-app.md.
 */
import { setupClassifyPanel } from './classify-panel.js';
import { byId } from './dom.js';
import { setupImagenetPanel } from './imagenet-panel.js';
import { registerServiceWorker } from './offline.js';
import { backendFromQuery, presetForm } from './query.js';
import { setupTrainPanel } from './train-panel.js';
import { WorkerClient } from './worker-client.js';

const errorLine = byId('error', HTMLParagraphElement);
const showError = (message: string): void => {
  errorLine.textContent = message;
};
window.addEventListener('error', (e) => showError(e.message));
window.addEventListener('unhandledrejection', (e) => showError(e.reason instanceof Error ? e.reason.message : String(e.reason)));

const query = new URLSearchParams(location.search);
byId('isolation', HTMLParagraphElement).textContent = crossOriginIsolated
  ? 'cross-origin isolated: shared memory and wasm threads available'
  : 'not cross-origin isolated (serve with COOP/COEP headers): wasm runs on one thread';
presetForm(byId('train-form', HTMLFormElement), query);

const client = new WorkerClient();
client.on('error', (msg) => showError(msg.message));
client.on('ready', ({ backend: b }) => {
  const threads = b.name === 'wasm' ? ` · ${b.threads} thread${b.threads === 1 ? '' : 's'} (${b.threadsRequested} requested)` : '';
  byId('backend', HTMLParagraphElement).textContent = `backend: ${b.name}${threads} · ${b.detail}${b.fallbackReason ? ` · ${b.fallbackReason}` : ''}`;
  document.body.dataset['backend'] = b.name;
});
setupTrainPanel(client);
setupClassifyPanel(client);
setupImagenetPanel(client);
const { backend, threads } = backendFromQuery(query);
client.send({ type: 'init', backend, threads });
registerServiceWorker();
