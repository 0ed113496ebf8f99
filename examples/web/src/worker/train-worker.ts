/**
 * The training worker (a module Worker): it owns the backend, the models and the training
 * loop, so the page stays responsive while kernels run. It answers the messages of
 * protocol.ts; every failure comes back as an `error` message with a readable text.
 */
import type { FromWorker, ToWorker, TrainSettings } from '../protocol.js';
import { startBackend } from './backend.js';
import { classify, modelReport, type Classifier } from './classifier.js';
import { openTrainingData } from './datasets.js';
import { loadImagenetWeights } from './imagenet.js';
import { createModel, modelName } from './models.js';
import { TrainingRun, backendMemory } from './trainer.js';
import { exportWeights, importWeights } from './weights.js';

let ready: Promise<unknown> | null = null;
let trained: { classifier: Classifier; dataset: string } | null = null;
let imagenet: Classifier | null = null;
let run: TrainingRun | null = null;

function post(msg: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(msg, { transfer });
}

self.onmessage = (e: MessageEvent<ToWorker>) => {
  handle(e.data).catch((err: unknown) => post({ type: 'error', message: err instanceof Error ? err.message : String(err) }));
};

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'init':
      ready = startBackend(msg.backend, msg.threads).then((backend) => post({ type: 'ready', backend }));
      await ready;
      return;
    case 'train':
      await backendReady();
      return train(msg.settings);
    case 'pause':
      return run?.pause();
    case 'resume':
      return run?.resume();
    case 'stop':
      return run?.stop();
    case 'export-weights': {
      if (!trained) throw new Error('there is no trained model yet: train one (or load weights) first');
      const bytes = await exportWeights(trained.classifier, trained.dataset);
      const name = modelName(trained.classifier.model).toLowerCase().replace(/[^a-z0-9]+/g, '-');
      return post({ type: 'weights', bytes, fileName: `${name}-${trained.dataset}.safetensors` }, [bytes.buffer]);
    }
    case 'load-weights': {
      await backendReady();
      if (run) throw new Error('stop the training run before loading weights');
      const loaded = await importWeights(msg.file);
      trained?.classifier.model.dispose();
      trained = loaded;
      return post({ type: 'model', target: 'trained', model: modelReport(loaded.classifier) });
    }
    case 'load-imagenet': {
      await backendReady();
      post({ type: 'status', text: `reading ${msg.file.name} ...` });
      const classifier = await loadImagenetWeights(msg.file);
      imagenet?.model.dispose();
      imagenet = classifier;
      return post({ type: 'model', target: 'imagenet', model: modelReport(classifier) });
    }
    case 'classify': {
      await backendReady();
      const c = msg.target === 'trained' ? trained?.classifier : imagenet;
      if (!c) throw new Error(msg.target === 'trained' ? 'there is no trained model yet: train one (or load weights) first' : 'drop official ConvNeXt weights (.pth or timm .safetensors) first');
      const report = await classify(c, msg.picture, msg.id, msg.target);
      return post({ type: 'prediction', report });
    }
  }
}

function backendReady(): Promise<unknown> {
  if (!ready) throw new Error('the worker was not initialised (no init message)');
  return ready;
}

async function train(settings: TrainSettings): Promise<void> {
  if (run) throw new Error('a training run is already going; stop it first');
  const data = await openTrainingData(settings.data, settings.seed, (text) => post({ type: 'status', text }));
  const [c, h] = data.dataset.shape;
  const model = createModel(settings.model, data.dataset.classes.length, c, h, settings.seed);
  trained?.classifier.model.dispose();
  const classifier: Classifier = { model, classes: data.dataset.classes, normalize: data.normalize, size: h, cropPct: data.cropPct, description: `${modelName(model)} trained on ${data.description}` };
  trained = { classifier, dataset: data.statsName };
  post({ type: 'model', target: 'trained', model: modelReport(classifier) });
  run = new TrainingRun(settings, data, classifier, (report) => post({ type: 'step', report }), (state) => post({ type: 'state', state }));
  try {
    await run.run();
  } finally {
    run = null;
    post({ type: 'state', state: 'idle' });
    post({ type: 'status', text: `done; backend memory: ${(backendMemory().bytes / 2 ** 20).toFixed(1)} MiB in ${backendMemory().tensors} tensors` });
  }
}
