/** The classify panel: draw or pick a picture, and the trained model's top five. */
import { byId } from './dom.js';
import { DrawPad } from './draw-pad.js';
import { showPrediction } from './predictions.js';
import type { WorkerClient } from './worker-client.js';

/** Wires the panel to the worker. */
export function setupClassifyPanel(client: WorkerClient): void {
  const button = byId('classify-button', HTMLButtonElement);
  const top5 = byId('top5', HTMLOListElement);
  const logits = byId('logits', HTMLPreElement);
  let nextId = 1;
  let haveModel = false;
  const classify = (): void => {
    if (!haveModel) return;
    const picture = pad.picture();
    client.send({ type: 'classify', id: nextId++, target: 'trained', picture }, [picture.data.buffer]);
  };
  const pad = new DrawPad(byId('pad', HTMLCanvasElement), classify);
  byId('clear', HTMLButtonElement).addEventListener('click', () => {
    pad.clear();
    top5.replaceChildren();
    logits.textContent = '';
  });
  const pick = byId('picture-file', HTMLInputElement);
  pick.addEventListener('change', async () => {
    const file = pick.files?.[0];
    if (!file) return;
    pad.show(await createImageBitmap(file));
    pick.value = '';
    classify();
  });
  button.addEventListener('click', classify);
  client.on('model', (msg) => {
    if (msg.target !== 'trained') return;
    haveModel = true;
    button.disabled = false;
  });
  client.on('prediction', ({ report }) => {
    if (report.target === 'trained' && report.id === nextId - 1) showPrediction(report, top5, logits);
  });
}
