/**
 * The training panel: the form (model, data, batch, epochs, steps, learning rate), start /
 * pause / stop, the live figures and charts, and the weights' download and reload.
 */
import { LineChart } from './chart.js';
import { byId, dropZone } from './dom.js';
import { formatBytes, formatCount, formatDuration } from './format.js';
import type { DataSource, ModelChoice, TrainSettings } from './protocol.js';
import type { WorkerClient } from './worker-client.js';

/** Wires the panel to the worker. */
export function setupTrainPanel(client: WorkerClient): void {
  const form = byId('train-form', HTMLFormElement);
  const start = byId('start', HTMLButtonElement);
  const pause = byId('pause', HTMLButtonElement);
  const stop = byId('stop', HTMLButtonElement);
  const download = byId('download', HTMLButtonElement);
  const stats = byId('stats', HTMLParagraphElement);
  const status = byId('status', HTMLParagraphElement);
  const modelLine = byId('model', HTMLParagraphElement);
  const loss = new LineChart(byId('loss-chart', HTMLCanvasElement), { title: 'loss', color: '#c2410c' });
  const acc = new LineChart(byId('acc-chart', HTMLCanvasElement), { title: 'train accuracy (batch)', color: '#1d4ed8', yRange: [0, 1], format: (v) => `${(100 * v).toFixed(0)}%` });
  let idxFiles: File[] = [];
  let folderFiles: File[] = [];
  let state: 'training' | 'paused' | 'idle' = 'idle';

  // Only the chosen data source's fields are shown.
  const showSource = (): void => {
    const kind = (form.elements.namedItem('data') as RadioNodeList).value;
    for (const div of form.querySelectorAll<HTMLElement>('[data-for]')) div.hidden = div.dataset['for'] !== kind;
  };
  form.addEventListener('change', showSource);
  showSource();

  const setIdx = (files: File[]): void => {
    idxFiles = files;
    byId('idx-chosen', HTMLParagraphElement).textContent = files.length === 2 ? `${files[0]!.name} + ${files[1]!.name}` : `${files.length} file(s) chosen; choose exactly two (images and labels)`;
  };
  dropZone(byId('idx-drop', HTMLDivElement), setIdx);
  const idxInput = byId('idx-files', HTMLInputElement);
  idxInput.addEventListener('change', () => setIdx([...(idxInput.files ?? [])]));
  const folderInput = byId('folder-files', HTMLInputElement);
  folderInput.addEventListener('change', () => {
    folderFiles = [...(folderInput.files ?? [])];
    byId('folder-chosen', HTMLParagraphElement).textContent = `${folderFiles.length} files`;
  });

  const num = (name: string): number => Number((form.elements.namedItem(name) as HTMLInputElement).value);
  const dataSource = (): DataSource => {
    const kind = (form.elements.namedItem('data') as RadioNodeList).value;
    if (kind === 'idx') {
      if (idxFiles.length !== 2) throw new Error('choose two IDX files: the images and their labels');
      const classes = (form.elements.namedItem('idx-classes') as HTMLSelectElement).value as 'fashion-mnist' | 'mnist';
      return { kind: 'idx', files: [idxFiles[0]!, idxFiles[1]!], classes };
    }
    if (kind === 'folder') {
      if (folderFiles.length === 0) throw new Error('pick a folder of images first');
      return { kind: 'folder', files: folderFiles.map((file) => ({ file, path: file.webkitRelativePath || file.name })), size: num('folder-size') };
    }
    return { kind: 'shapes', length: num('length'), size: num('size') };
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const settings: TrainSettings = {
      model: (form.elements.namedItem('model') as HTMLSelectElement).value as ModelChoice,
      data: dataSource(),
      batchSize: num('batch'),
      epochs: num('epochs'),
      maxSteps: num('steps'),
      lr: num('lr'),
      seed: 0,
    };
    loss.clear();
    acc.clear();
    stats.textContent = '';
    status.textContent = 'preparing the data ...';
    client.send({ type: 'train', settings });
    start.disabled = true;
  });
  pause.addEventListener('click', () => client.send({ type: state === 'paused' ? 'resume' : 'pause' }));
  stop.addEventListener('click', () => client.send({ type: 'stop' }));
  download.addEventListener('click', () => client.send({ type: 'export-weights' }));
  const weightsInput = byId('weights-file', HTMLInputElement);
  weightsInput.addEventListener('change', () => {
    const file = weightsInput.files?.[0];
    if (file) client.send({ type: 'load-weights', file });
    weightsInput.value = '';
  });

  client.on('ready', () => (start.disabled = false));
  // Runs ended so far, for tests: a short run can start and end between two polls of `data-state`.
  let runsEnded = 0;
  client.on('state', (msg) => {
    if (msg.state === 'idle' && state !== 'idle') form.dataset['runs'] = String(++runsEnded);
    state = msg.state;
    start.disabled = state !== 'idle';
    pause.disabled = stop.disabled = state === 'idle';
    pause.textContent = state === 'paused' ? 'Resume' : 'Pause';
    download.disabled = state === 'training';
    form.dataset['state'] = state;
  });
  client.on('step', ({ report: r }) => {
    if (r.step === 1) status.textContent = '';
    loss.push(r.loss);
    acc.push(r.accuracy);
    stats.textContent = `step ${r.step}/${r.totalSteps} · epoch ${r.epoch} · loss ${r.loss.toFixed(4)} · ${r.imagesPerSec.toFixed(1)} images/s · ETA ${formatDuration(r.etaSec)} · memory ${formatBytes(r.memory.bytes)} (peak ${formatBytes(r.memory.peakBytes)}, ${r.memory.tensors} tensors)`;
  });
  client.on('status', (msg) => (status.textContent = msg.text));
  client.on('model', (msg) => {
    if (msg.target !== 'trained') return;
    modelLine.textContent = `${msg.model.description} · ${formatCount(msg.model.parameters)} parameters · ${msg.model.classes.length} classes`;
    download.disabled = state === 'training';
  });
  client.on('weights', (msg) => {
    const url = URL.createObjectURL(new Blob([msg.bytes as Uint8Array<ArrayBuffer>], { type: 'application/octet-stream' }));
    const a = Object.assign(document.createElement('a'), { href: url, download: msg.fileName });
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  });
  client.on('error', () => {
    if (state === 'idle') start.disabled = false;
  });
}
