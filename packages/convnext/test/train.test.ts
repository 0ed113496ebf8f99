/** The training engine: it learns, resumes exactly where it stopped, and names broken checkpoints. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSafetensors } from '@tsgrad/nn/node';
import { parseTrainArgs } from '../src/cli.js';
import { loadCheckpoint } from '../src/train/checkpoint.js';
import { defaultTrainConfig, type TrainConfig } from '../src/train/config.js';
import { chooseBackend, NonFiniteLossError, resumeConfig, runFiles, train, type MetricsLine } from '../src/train/engine.js';

const root = mkdtempSync(join(tmpdir(), 'tsgrad-train-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A micro ConvNeXt on small built-in images: every part of the engine, in seconds, on js. */
const micro = (out: string, over: Partial<TrainConfig> = {}): TrainConfig => ({
  ...defaultTrainConfig,
  backend: 'js',
  depths: [1, 1, 1, 1],
  dims: [8, 16, 16, 24],
  imageSize: 16,
  trainSize: 96,
  valSize: 32,
  batchSize: 16,
  epochs: 2,
  lr: 4e-3,
  out: join(root, out),
  ...over,
});

async function weights(path: string): Promise<Record<string, number[]>> {
  const { tensors } = await loadSafetensors(path);
  return Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, Array.from(t.dataSync())]));
}

describe('train()', () => {
  it('a run stopped and resumed ends exactly where an uninterrupted run ends', async () => {
    const straight = await train(micro('straight'));
    expect(straight.stopped).toBe(false);
    expect(straight.progress.step).toBe(12);
    expect(straight.progress.evals.map((e) => e.epoch)).toEqual([1, 2]);

    let steps = 0;
    const first = await train(micro('resumed'), { shouldStop: () => ++steps === 4 });
    expect(first.stopped).toBe(true);
    expect(first.progress).toMatchObject({ step: 4, epoch: 0, batch: 4 });
    const second = await train(micro('resumed'), { resume: true });
    expect(second.progress.step).toBe(12);
    expect(second.progress.losses).toEqual(straight.progress.losses);
    expect(await weights(second.checkpoint)).toEqual(await weights(straight.checkpoint));
    // Files are written atomically: no temporary files are left behind.
    expect(readdirSync(micro('resumed').out).sort()).toEqual(['last.safetensors', 'metrics.json', 'metrics.jsonl', 'training.svg']);
  });

  it('resuming with more epochs extends the run (with a warning); metrics and the plot are written', async () => {
    const warnings: string[] = [];
    const more = await train(micro('straight', { epochs: 3 }), { resume: true, hooks: { onWarning: (m) => warnings.push(m) } });
    expect(warnings).toEqual(['resume: extending the run from 2 to 3 epochs; the cosine learning-rate schedule is recomputed over 3 epochs, so the learning rate rises from where it stopped']);
    expect(more.progress.step).toBe(18);
    expect(more.progress.evals).toHaveLength(3);
    const metrics = JSON.parse(readFileSync(runFiles(micro('straight').out).metrics, 'utf8')) as { losses: unknown[]; evals: unknown[] };
    expect(metrics.losses).toHaveLength(18);
    const svg = readFileSync(more.plot, 'utf8');
    expect(svg).toMatch(/^<svg[^>]*xmlns/);
    expect(svg).toMatch(/validation accuracy/);
    // The training loss is not the validation loss: the plot says what it includes.
    expect(svg).toContain('training loss (includes label smoothing 0.1; validation loss does not)');
    expect(svg).toContain('top-5');
    expect(more.progress.evals.every((e) => e.top5! >= e.accuracy && e.top5! <= 1)).toBe(true);
  });

  it('a resumed run keeps its saved configuration: shorter than the default 3 epochs stays short; conflicting settings are errors', async () => {
    const cfg = micro('short', { epochs: 1 });
    let steps = 0;
    await train(cfg, { shouldStop: () => ++steps === 2 });
    // As the CLI resumes with no flags: only --out given; defaultTrainConfig says 3 epochs.
    const r = await train({ ...defaultTrainConfig, out: cfg.out }, { resume: true, overrides: { out: cfg.out, backend: 'js' } });
    expect(r.progress.step).toBe(6);
    expect(r.progress.evals).toHaveLength(1);
    expect((await loadCheckpoint(r.checkpoint)).config).toMatchObject({ epochs: 1, lr: 4e-3, imageSize: 16 });
    await expect(train(cfg, { resume: true, overrides: { out: cfg.out, lr: 1e-3, flip: false } })).rejects.toThrow(
      "resume keeps the run's saved configuration; these settings differ from it:\n  lr (--lr): saved 0.004, given 0.001\n  flip (--no-flip): saved true, given false\ndrop those flags",
    );
    const saved = { ...cfg, epochs: 4 };
    expect(() => resumeConfig(saved, { epochs: 2 })).toThrow(/epochs \(--epochs\): the run was configured for 4 epochs and a resumed run cannot shorten it \(got 2\)/);
    expect(() => resumeConfig(saved, { emaDecay: 0.99 })).toThrow(/emaDecay \(--ema\): saved null, given 0.99/);
    // Where and how it runs may change: out, backend, saveEvery silently; dataDir with a note.
    const moved = resumeConfig(saved, { out: 'elsewhere', backend: 'wasm', saveEvery: 5, dataDir: '/data' });
    expect(moved.config).toMatchObject({ out: 'elsewhere', backend: 'wasm', saveEvery: 5, dataDir: '/data', epochs: 4 });
    expect(moved.warnings).toEqual(['resume: reading the data from "/data" instead of the saved null']);
    // The CLI passes only the flags the user typed.
    expect(parseTrainArgs(['train', '--resume', '--out', 'r', '--ema', '0.9', '--no-flip', '--min-lr', '0', '--no-random-resized-crop', '--cache-mb', '8']).explicit).toEqual({ out: 'r', emaDecay: 0.9, flip: false, minLr: 0, randomResizedCrop: false, cacheMb: 8 });
  });

  it('metrics.jsonl: a line every logEvery steps and one per epoch with top-1 and top-5', async () => {
    const r = await train(micro('jsonl'), { logEvery: 4 });
    const lines = readFileSync(runFiles(micro('jsonl').out).metricsLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as MetricsLine);
    expect(lines.map((l) => `${l.kind} ${l.step}`)).toEqual(['step 4', 'epoch 6', 'step 8', 'step 12', 'epoch 12']);
    const losses = r.progress.losses.map(([, l]) => l);
    const first = lines[0]!;
    if (first.kind !== 'step') throw new Error('expected a step line');
    expect(first).toMatchObject({ epoch: 1 });
    expect(first.loss).toBeCloseTo((losses[0]! + losses[1]! + losses[2]! + losses[3]!) / 4, 12);
    expect(first.lr).toBeGreaterThan(0);
    expect(first.imagesPerSec).toBeGreaterThan(0);
    expect(Number.isNaN(Date.parse(first.time))).toBe(false);
    const ep = lines[4]!;
    if (ep.kind !== 'epoch') throw new Error('expected an epoch line');
    const e2 = r.progress.evals[1]!;
    expect(ep).toMatchObject({ epoch: 2, valLoss: e2.loss, top1: e2.accuracy, top5: e2.top5 });
    expect(ep.trainLoss).toBeCloseTo(losses.slice(6).reduce((a, b) => a + b) / 6, 12);
    expect(ep.top5!).toBeGreaterThanOrEqual(ep.top1!);
  });

  it('--val-every N validates every N epochs and after the last; the other epochs log their training loss', async () => {
    const r = await train(micro('val-every', { epochs: 5, valEvery: 2 }), { logEvery: 1000 });
    expect(r.progress.evals.map((e) => e.epoch)).toEqual([2, 4, 5]);
    const lines = readFileSync(runFiles(micro('val-every').out).metricsLog, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as MetricsLine);
    const epochs = lines.filter((l) => l.kind === 'epoch');
    expect(epochs.map((l) => [l.epoch, 'top1' in l])).toEqual([[1, false], [2, true], [3, false], [4, true], [5, true]]);
    for (const l of epochs) if (l.kind === 'epoch') expect(l.trainLoss).toBeGreaterThan(0);
    expect(parseTrainArgs(['--val-every', '3']).config.valEvery).toBe(3);
    expect(() => parseTrainArgs(['--val-every', '0'])).toThrow('--val-every must be a positive number of epochs, got 0');
    // It changes how the run reports, not what it learns: a resumed run may change it.
    expect(resumeConfig(micro('val-every', { valEvery: 2 }), { valEvery: 1 }).config.valEvery).toBe(1);
  });

  it('a NaN loss stops the run, naming the step and epoch, and leaves the last good checkpoint untouched', async () => {
    // lr 1e30 blows the weights up after one AdamW step: step 2's loss is NaN.
    const cfg = micro('nan', { lr: 1e30, warmupEpochs: 0, saveEvery: 1 });
    let lastSaved: Uint8Array | null = null;
    const run = train(cfg, { hooks: { onSave: (f) => (lastSaved = readFileSync(f)) } });
    await expect(run).rejects.toThrow(NonFiniteLossError);
    await expect(train(cfg)).rejects.toThrow(
      `train: the training loss became NaN at step 2 (epoch 1); stopped before updating the weights; the last good checkpoint (step 1) is untouched at '${runFiles(cfg.out).checkpoint}'. Lower --lr, add --clip-grad 1.0, or check the data`,
    );
    expect(lastSaved).not.toBeNull();
    expect(readFileSync(runFiles(cfg.out).checkpoint)).toEqual(lastSaved);
    expect((await loadCheckpoint(runFiles(cfg.out).checkpoint)).progress.step).toBe(1);
  });

  it("the auto backend says which backend it chose", async () => {
    const said: [string, boolean][] = [];
    const name = await chooseBackend('auto', (m, w) => said.push([m, w]));
    expect(name).toBe('wasm');
    expect(said).toEqual([['backend wasm (chosen by --backend auto: @tsgrad/wasm is installed)', false]]);
    await chooseBackend('js');
  });

  it('learns: the loss on a small training set falls far below chance', async () => {
    const r = await train(micro('learn', { dims: [16, 32, 48, 64], trainSize: 64, epochs: 20, batchSize: 32, lr: 2e-3, warmupEpochs: 1, labelSmoothing: 0, cropPadding: 0, flip: false }));
    const losses = r.progress.losses.map(([, l]) => l);
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b) / xs.length;
    expect(mean(losses.slice(0, 4))).toBeGreaterThan(1.8); // about ln(10) at the start
    expect(mean(losses.slice(-4))).toBeLessThan(1.0);
  });

  it('names a missing, truncated or foreign checkpoint', async () => {
    await expect(train(micro('never-ran'), { resume: true })).rejects.toThrow(/resume: no checkpoint at '.*last.safetensors'; start a new run without --resume/);
    const broken = micro('broken');
    await train({ ...broken, epochs: 1, trainSize: 32 });
    const file = runFiles(broken.out).checkpoint;
    truncateSync(file, 200);
    await expect(train(broken, { resume: true })).rejects.toThrow(/safetensors/i);
    writeFileSync(file, new Uint8Array(8));
    await expect(train(broken, { resume: true })).rejects.toThrow(/safetensors/i);
  });
});

describe('tsgrad-convnext command line', () => {
  it('parses flags into a config and rejects bad ones by name', () => {
    const { config, resume } = parseTrainArgs(['train', '--model', 'tiny', '--epochs', '5', '--lr', '1e-3', '--depths', '1,1,2,1', '--dims', '8,16,32,64', '--no-flip', '--resume']);
    expect(config).toMatchObject({ model: 'tiny', epochs: 5, lr: 1e-3, depths: [1, 1, 2, 1], dims: [8, 16, 32, 64], flip: false });
    expect(resume).toBe(true);
    expect(() => parseTrainArgs(['--epochs', 'ten'])).toThrow(/--epochs must be an integer, got 'ten'/);
    expect(() => parseTrainArgs(['--dims', '1,2'])).toThrow(/--dims must be 4 comma-separated integers/);
    expect(() => parseTrainArgs(['--backend', 'cuda'])).toThrow(/--backend must be one of auto, js, wasm, webgpu/);
    expect(() => parseTrainArgs(['fit'])).toThrow(/unknown command 'fit'/);
    expect(() => parseTrainArgs(['--bogus'])).toThrow(/bogus/);
  });
});
