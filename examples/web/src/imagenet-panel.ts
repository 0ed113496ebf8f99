/** The ImageNet panel: official ConvNeXt weights dropped in, a photo picked, its top five. */
import { byId, dropZone } from './dom.js';
import { formatCount } from './format.js';
import { decodePicture } from './picture.js';
import { showPrediction } from './predictions.js';
import type { WorkerClient } from './worker-client.js';

/** Pictures are decoded no larger than this (the model sees 224x224 after resizing to 256). */
const MAX_SHORTER_SIDE = 512;

/** Wires the panel to the worker. */
export function setupImagenetPanel(client: WorkerClient): void {
  const weights = byId('imagenet-weights', HTMLInputElement);
  const photo = byId('photo-file', HTMLInputElement);
  const preview = byId('photo', HTMLCanvasElement);
  const top5 = byId('imagenet-top5', HTMLOListElement);
  const line = byId('imagenet-model', HTMLParagraphElement);
  const logits = byId('imagenet-logits', HTMLPreElement);
  let nextId = 1;
  const load = (file: File | undefined): void => {
    if (!file) return;
    line.textContent = `loading ${file.name} ...`;
    client.send({ type: 'load-imagenet', file });
  };
  dropZone(byId('imagenet-drop', HTMLDivElement), (files) => load(files[0]));
  weights.addEventListener('change', () => load(weights.files?.[0]));
  photo.addEventListener('change', async () => {
    const file = photo.files?.[0];
    if (!file) return;
    const bitmap = await createImageBitmap(file);
    const side = Math.min(bitmap.width, bitmap.height);
    preview.getContext('2d')?.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, preview.width, preview.height);
    bitmap.close();
    const picture = await decodePicture(file, file.name, MAX_SHORTER_SIDE);
    top5.replaceChildren(document.createTextNode('classifying ...'));
    logits.textContent = '';
    client.send({ type: 'classify', id: nextId++, target: 'imagenet', picture }, [picture.data.buffer]);
  });
  client.on('model', (msg) => {
    if (msg.target !== 'imagenet') return;
    line.textContent = `${msg.model.description} · ${formatCount(msg.model.parameters)} parameters`;
    photo.disabled = false;
  });
  client.on('prediction', ({ report }) => {
    if (report.target === 'imagenet' && report.id === nextId - 1) showPrediction(report, top5, logits);
  });
}
