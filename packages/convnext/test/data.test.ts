/** The built-in dataset, the CIFAR-10 reader, augmentation and the loader. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import { augmentImage, mixBatch } from '../src/data/augment.js';
import { CIFAR10_CLASSES, Cifar10Dataset } from '../src/data/cifar.js';
import { DataLoader } from '../src/data/loader.js';
import { SHAPE_CLASSES, ShapesDataset } from '../src/data/shapes.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsgrad-data-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('ShapesDataset (built in)', () => {
  it('is deterministic per (seed, index), covers every class, and keeps values in [0, 1]', () => {
    const ds = new ShapesDataset({ length: 400, size: 32, seed: 3 });
    expect(ds.shape).toEqual([3, 32, 32]);
    expect(ds.get(17)).toEqual(ds.get(17));
    expect(new ShapesDataset({ length: 400, seed: 4 }).get(17).image).not.toEqual(ds.get(17).image);
    const counts = new Array<number>(SHAPE_CLASSES.length).fill(0);
    for (let i = 0; i < ds.length; i++) {
      const { image, label } = ds.get(i);
      counts[label]!++;
      expect(image.length).toBe(3 * 32 * 32);
      expect(Math.min(...image)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...image)).toBeLessThanOrEqual(1);
    }
    expect(Math.min(...counts)).toBeGreaterThan(20);
    expect(() => ds.get(400)).toThrow(/shapes: index 400 is out of range \(the dataset has 400 examples\)/);
  });
});

describe('Cifar10Dataset', () => {
  const record = (label: number, v: number) => {
    const r = new Uint8Array(1 + 3072);
    r[0] = label;
    r.fill(v, 1);
    return r;
  };
  it('reads the binary batches', () => {
    const dir = join(tmp, 'cifar');
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    writeFileSync(join(dir, 'test_batch.bin'), Buffer.concat([record(3, 255), record(9, 0)]));
    const ds = new Cifar10Dataset(dir, 'test');
    expect(ds.length).toBe(2);
    expect(ds.get(0).label).toBe(3);
    expect(ds.get(0).image[100]).toBe(1);
    expect(ds.get(1).label).toBe(9);
    expect(ds.classes).toBe(CIFAR10_CLASSES);
  });
  it('names a missing folder, missing files, truncated files and bad labels', () => {
    expect(() => new Cifar10Dataset(join(tmp, 'nope'), 'train')).toThrow(/cifar10: dataset folder '.*nope' does not exist; download the CIFAR-10 binary version/);
    const dir = join(tmp, 'cifar-bad');
    mkdirSync(dir, { recursive: true });
    expect(() => new Cifar10Dataset(dir, 'train')).toThrow(/cifar10: missing data_batch_1.bin, data_batch_2.bin, .* in /);
    writeFileSync(join(dir, 'test_batch.bin'), record(1, 5).subarray(0, 1000));
    expect(() => new Cifar10Dataset(dir, 'test')).toThrow(/is truncated or not a CIFAR-10 batch: 1000 bytes is not a whole number of 3073-byte records/);
    writeFileSync(join(dir, 'test_batch.bin'), record(42, 5));
    expect(() => new Cifar10Dataset(dir, 'test')).toThrow(/record 0 has label 42/);
  });
});

describe('augmentation', () => {
  it('a horizontal flip with no crop mirrors the image', () => {
    const img = Float32Array.from({ length: 2 * 2 * 3 }, (_, i) => i);
    let flipped: Float32Array | null = null;
    for (let seed = 0; seed < 20 && !flipped; seed++) {
      const copy = img.slice();
      augmentImage(copy, [2, 2, 3], { horizontalFlip: true }, new T.Generator(seed));
      if (copy[0] !== img[0]) flipped = copy;
    }
    expect(Array.from(flipped!)).toEqual([2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9]);
  });
  it('random crops keep every value from the image (reflect padding)', () => {
    const img = Float32Array.from({ length: 8 * 8 }, (_, i) => i);
    const copy = img.slice();
    augmentImage(copy, [1, 8, 8], { cropPadding: 2 }, new T.Generator(1));
    for (const v of copy) expect(img).toContain(v);
  });
  it('mixup/cutmix give soft targets that sum to 1, and label smoothing alone smooths', () => {
    const images = T.randn([4, 3, 8, 8]);
    const labels = T.tensor([0, 1, 2, 3], { dtype: 'int32' });
    for (const mix of [{ mixupAlpha: 0.8 }, { cutmixAlpha: 1 }, { mixupAlpha: 0.8, cutmixAlpha: 1, labelSmoothing: 0.1 }]) {
      const { images: m, targets } = mixBatch(images, labels, 5, mix, new T.Generator(2));
      expect(m.shape).toEqual([4, 3, 8, 8]);
      for (const s of targets.sum(1).toArray() as number[]) expect(s).toBeCloseTo(1, 5);
    }
    const plain = mixBatch(images, labels, 5, { labelSmoothing: 0.1 }, new T.Generator(2));
    expect(plain.images).toBe(images);
    expect((plain.targets.toArray() as number[][])[0]![0]).toBeCloseTo(0.92, 6);
  });
});

describe('DataLoader', () => {
  const ds = new ShapesDataset({ length: 50, size: 16, seed: 1 });
  it('gives the same batch for the same (seed, epoch, index), and a new order each epoch', () => {
    const loader = new DataLoader(ds, { batchSize: 8, seed: 5, augment: { cropPadding: 2, horizontalFlip: true } });
    expect(loader.batchesPerEpoch).toBe(6);
    const a = loader.batch(1, 2);
    const b = loader.batch(1, 2);
    expect(a.images.dataSync()).toEqual(b.images.dataSync());
    expect(a.labels.dataSync()).toEqual(b.labels.dataSync());
    expect(Array.from(loader.order(0))).not.toEqual(Array.from(loader.order(1)));
    expect([...loader.order(3)].sort((x, y) => x - y)).toEqual([...Array(50).keys()]);
    expect(a.images.shape).toEqual([8, 3, 16, 16]);
    expect(() => loader.batch(0, 6)).toThrow(/batch 6 is out of range \(6 per epoch\)/);
  });
  it('normalizes per channel', () => {
    const loader = new DataLoader(ds, { batchSize: 50, shuffle: false, normalize: { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] } });
    const x = loader.batch(0, 0).images;
    const raw = ds.get(0).image[0]!;
    expect(x.dataSync()[0]).toBeCloseTo((raw - 0.5) / 0.25, 5);
    expect(() => new DataLoader(ds, { batchSize: 4, normalize: { mean: [0], std: [1] } })).toThrow(/one mean and std per channel \(3\)/);
  });
  it('augments only the epochs before augmentUntilEpoch', () => {
    const augment = { cropPadding: 2, horizontalFlip: true };
    const until = new DataLoader(ds, { batchSize: 8, seed: 5, augment, augmentUntilEpoch: 2 });
    const always = new DataLoader(ds, { batchSize: 8, seed: 5, augment });
    const never = new DataLoader(ds, { batchSize: 8, seed: 5 });
    for (const i of [0, 7, 31]) {
      expect(until.example(1, i).image).toEqual(always.example(1, i).image);
      expect(until.example(2, i).image).toEqual(never.example(2, i).image);
      expect(until.example(5, i).image).toEqual(ds.get(i).image);
    }
    // The augmentation does change these examples before that epoch.
    expect([0, 7, 31].some((i) => always.example(2, i).image.some((v, k) => v !== never.example(2, i).image[k]))).toBe(true);
  });
});
