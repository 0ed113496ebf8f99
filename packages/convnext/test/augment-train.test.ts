/** The paper's augmentation inside the engine: a run with it, stopped and resumed (also with worker threads), ends exactly where an uninterrupted run ends. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultTrainConfig, resolveAugmentDefaults, checkConfig, type TrainConfig } from '../src/train/config.js';
import { train, trainAugment } from '../src/train/engine.js';
import { parseTrainArgs } from '../src/cli.js';

const root = mkdtempSync(join(tmpdir(), 'tsgrad-augtrain-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const micro = (out: string, over: Partial<TrainConfig> = {}): TrainConfig => ({
  ...defaultTrainConfig,
  backend: 'js',
  depths: [1, 1, 1, 1],
  dims: [8, 16, 16, 24],
  imageSize: 16,
  trainSize: 48,
  valSize: 16,
  batchSize: 8,
  epochs: 2,
  lr: 4e-3,
  randomResizedCrop: true,
  aa: 'rand-m9-mstd0.5-inc1',
  reprob: 0.25,
  out: join(root, out),
  ...over,
});

describe('augmentation in training', () => {
  it('resolves the dataset defaults: the paper recipe for folders, pad-crop and flip for the small datasets', () => {
    const small = resolveAugmentDefaults(defaultTrainConfig);
    expect(small).toMatchObject({ aa: 'none', reprob: 0, randomResizedCrop: false });
    expect(trainAugment(small)).toEqual({ cropPadding: 2, horizontalFlip: true });
    const folder = resolveAugmentDefaults({ ...defaultTrainConfig, dataset: 'folder', dataDir: '/x' });
    expect(folder).toMatchObject({ aa: 'rand-m9-mstd0.5-inc1', reprob: 0.25, randomResizedCrop: true });
    expect(trainAugment(folder)).toEqual({ cropPadding: 0, horizontalFlip: true, randomResizedCrop: { scale: [0.08, 1], ratio: [0.75, 4 / 3] }, randAugment: 'rand-m9-mstd0.5-inc1', randomErasing: { probability: 0.25, mode: 'pixel' } });
    expect(resolveAugmentDefaults({ ...defaultTrainConfig, aa: 'rand-m5', reprob: 0.1 })).toMatchObject({ aa: 'rand-m5', reprob: 0.1 });
  });
  it('parses the flags and names bad values', () => {
    const c = parseTrainArgs(['--aa', 'rand-m9-mstd0.5-inc1', '--reprob', '0.25', '--remode', 'rand', '--random-resized-crop', '--scale', '0.35,1', '--ratio', '0.8,1.25', '--workers', '2', '--cache-mb', '64', '--val-fraction', '0.2']).config;
    expect(c).toMatchObject({ aa: 'rand-m9-mstd0.5-inc1', reprob: 0.25, remode: 'rand', randomResizedCrop: true, scale: [0.35, 1], ratio: [0.8, 1.25], workers: 2, cacheMb: 64, valFraction: 0.2 });
    expect(parseTrainArgs(['--no-random-resized-crop']).config.randomResizedCrop).toBe(false);
    expect(() => parseTrainArgs(['--aa', 'rand-q9'])).toThrow(/--aa: RandAugment: unknown section 'q9'/);
    expect(() => parseTrainArgs(['--remode', 'blue'])).toThrow(/--remode must be pixel, rand or const/);
    expect(() => parseTrainArgs(['--scale', '0.5'])).toThrow(/--scale must be two comma-separated numbers/);
    expect(() => checkConfig({ ...defaultTrainConfig, reprob: 2 })).toThrow(/reprob must be in \[0, 1\]/);
    expect(() => checkConfig({ ...defaultTrainConfig, scale: [0.5, 1.5] })).toThrow(/scale's maximum is a fraction/);
    expect(() => checkConfig({ ...defaultTrainConfig, dataset: 'folder' })).toThrow(/dataset folder needs dataDir/);
    expect(parseTrainArgs(['--no-aug-epochs', '2']).config.noAugEpochs).toBe(2);
    expect(() => parseTrainArgs(['--no-aug-epochs', '1.5'])).toThrow(/--no-aug-epochs must be an integer/);
    expect(() => checkConfig({ ...defaultTrainConfig, noAugEpochs: -1 })).toThrow(/noAugEpochs must be a non-negative integer, got -1/);
  });
  it('--no-aug-epochs trains the last epochs on plain images: no crop, RandAugment, erasing or mixing', async () => {
    const mixing = { mixup: 0.8, cutmix: 1 };
    const plain = await train(micro('plain', { randomResizedCrop: false, cropPadding: 0, flip: false, aa: 'none', reprob: 0 }));
    // More plain epochs than the run has: all of them are plain.
    const allClean = await train(micro('all-clean', { ...mixing, noAugEpochs: 5 }));
    expect(allClean.progress.losses).toEqual(plain.progress.losses);
    const augmented = await train(micro('augmented', mixing));
    // Batches made by worker threads follow the same rule.
    const lastClean = await train(micro('last-clean', { ...mixing, noAugEpochs: 1, workers: 2 }));
    const [first, second] = [(r: typeof plain) => r.progress.losses.slice(0, 6), (r: typeof plain) => r.progress.losses.slice(6)];
    expect(first(lastClean)).toEqual(first(augmented));
    expect(second(lastClean)).not.toEqual(second(augmented));
    expect(second(lastClean)).not.toEqual(second(plain));
  }, 180_000);
  it('a run with RRC + RandAugment + erasing, stopped and resumed with worker threads, ends exactly where an uninterrupted run ends', async () => {
    const straight = await train(micro('straight'));
    expect(straight.progress.step).toBe(12);
    let steps = 0;
    const first = await train(micro('resumed'), { shouldStop: () => ++steps === 5 });
    expect(first.stopped).toBe(true);
    const second = await train(micro('resumed', { workers: 2 }), { resume: true });
    expect(second.progress.step).toBe(12);
    expect(second.progress.losses).toEqual(straight.progress.losses);
  }, 180_000);
});
