/** The training engine: it learns, resumes exactly where it stopped, and names broken checkpoints. */
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSafetensors } from '@tsgrad/nn/node';
import { parseTrainArgs } from '../src/cli.js';
import { defaultTrainConfig, type TrainConfig } from '../src/train/config.js';
import { runFiles, train } from '../src/train/engine.js';

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
    expect(readdirSync(micro('resumed').out).sort()).toEqual(['last.safetensors', 'metrics.json', 'training.svg']);
  });

  it('resuming with more epochs extends the run; metrics and the plot are written', async () => {
    const more = await train(micro('straight', { epochs: 3 }), { resume: true });
    expect(more.progress.step).toBe(18);
    expect(more.progress.evals).toHaveLength(3);
    const metrics = JSON.parse(readFileSync(runFiles(micro('straight').out).metrics, 'utf8')) as { losses: unknown[]; evals: unknown[] };
    expect(metrics.losses).toHaveLength(18);
    const svg = readFileSync(more.plot, 'utf8');
    expect(svg).toMatch(/^<svg[^>]*xmlns/);
    expect(svg).toMatch(/validation accuracy/);
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
