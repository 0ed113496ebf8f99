/**
 * One training run in the worker: AdamW on a ConvNeXt (ConvNeXt's schedule: linear warmup
 * over the first tenth of the steps, at most 100, then cosine decay), batches from the package's
 * DataLoader, one report per step (loss, batch accuracy, images/s, ETA, memory). Between
 * steps it yields to the worker's event loop, so pause, resume and stop messages are seen.
 */
import { argmax, crossEntropy, getBackend, memory, tidy } from '@tsgrad/core';
import { AdamW, cosineSchedule, type Schedule } from '@tsgrad/nn';
import { DataLoader, hostBatchToTensors } from '@tsgrad/convnext';
import type { MemoryReport, StepReport, TrainSettings } from '../protocol.js';
import type { Classifier } from './classifier.js';
import type { TrainingData } from './datasets.js';

/** Steps the images/s and ETA figures average over. */
const SPEED_WINDOW = 10;

/** A run that can be paused, resumed and stopped between steps. */
export class TrainingRun {
  private paused = false;
  private stopped = false;
  private wake: (() => void) | null = null;

  constructor(
    private readonly settings: TrainSettings,
    private readonly data: TrainingData,
    private readonly classifier: Classifier,
    private readonly onStep: (r: StepReport) => void,
    private readonly onState: (s: 'training' | 'paused') => void,
  ) {}

  /** Holds the run before its next step. */
  pause(): void {
    this.paused = true;
  }

  /** Continues a paused run. */
  resume(): void {
    this.paused = false;
    this.wake?.();
  }

  /** Ends the run after the current step. */
  stop(): void {
    this.stopped = true;
    this.resume();
  }

  /** Trains until the step budget is spent or the run is stopped. */
  async run(): Promise<void> {
    const { settings: s, data } = this;
    const model = this.classifier.model;
    const loader = new DataLoader(data.dataset, { batchSize: s.batchSize, shuffle: true, seed: s.seed, normalize: data.normalize, dropLast: true });
    const perEpoch = loader.batchesPerEpoch;
    if (perEpoch === 0) throw new Error(`the batch size (${s.batchSize}) is larger than the dataset (${data.dataset.length} images)`);
    const total = s.maxSteps > 0 ? Math.min(s.maxSteps, s.epochs * perEpoch) : s.epochs * perEpoch;
    const opt = new AdamW(model.parameters(), { lr: s.lr, weightDecay: 0.05 });
    const lr = cosineSchedule({ base: s.lr, final: 1e-6, total, warmup: Math.min(100, Math.floor(total / 10)) });
    model.train();
    this.onState('training');
    try {
      await this.steps(loader, opt, lr, total, perEpoch);
    } finally {
      opt.dispose(); // its moments live in backend memory
    }
  }

  private async steps(loader: DataLoader, opt: AdamW, lr: Schedule, total: number, perEpoch: number): Promise<void> {
    const s = this.settings;
    const model = this.classifier.model;
    const times: number[] = [];
    for (let step = 0; step < total && !this.stopped; step++) {
      if (this.paused) {
        this.onState('paused');
        await new Promise<void>((resolve) => (this.wake = resolve));
        this.wake = null;
        if (this.stopped) break;
        this.onState('training');
        times.length = 0; // a pause is not training time
      }
      const t0 = performance.now();
      const epoch = Math.floor(step / perEpoch);
      const host = loader.hostBatch(epoch, step % perEpoch);
      for (const g of opt.paramGroups) g.lr = lr(step);
      const [loss, predicted] = tidy(() => {
        const { images, labels } = hostBatchToTensors(host);
        opt.zeroGrad();
        const logits = model.forward(images);
        const l = crossEntropy(logits, labels);
        l.backward();
        opt.step();
        return [l, argmax(logits, 1)];
      });
      const lossValue = (await loss.data())[0]!;
      const picks = await predicted.data();
      loss.dispose();
      predicted.dispose();
      let right = 0;
      for (let i = 0; i < host.labels.length; i++) if (picks[i] === host.labels[i]) right++;
      times.push(performance.now() - t0);
      if (times.length > SPEED_WINDOW) times.shift();
      const msPerStep = times.reduce((a, t) => a + t, 0) / times.length;
      this.onStep({
        step: step + 1,
        totalSteps: total,
        epoch: epoch + 1,
        loss: lossValue,
        accuracy: right / host.labels.length,
        imagesPerSec: (s.batchSize * 1000) / msPerStep,
        etaSec: ((total - step - 1) * msPerStep) / 1000,
        memory: backendMemory(),
      });
      // Let pause/stop/classify messages in between steps.
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }
}

/** The current backend's memory: live tensors, bytes and the peak. */
export function backendMemory(): MemoryReport {
  const m = memory().backends[getBackend().name];
  return { tensors: m?.tensors ?? 0, bytes: m?.bytes ?? 0, peakBytes: m?.peakBytes ?? m?.bytes ?? 0 };
}
