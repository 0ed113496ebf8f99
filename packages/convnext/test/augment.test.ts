/** The paper's augmentations: random resized crop, RandAugment, random erasing, and their seeding per (seed, epoch, index). */
import { describe, expect, it } from 'vitest';
import { Generator } from '@tsgrad/core';
import { augmentExample, exampleGenerator } from '../src/data/augment.js';
import { byteToFloatImage, cropByteImage, emptyByteImage, flipByteImage, floatToByteImage, Rng, roundHalfEven, type ByteImage } from '../src/data/byte-image.js';
import { centerCrop, evalResizeCrop, randomResizedCrop, randomResizedCropParams } from '../src/data/crop.js';
import { DataLoader } from '../src/data/loader.js';
import { levelToArg, parseRandAugment, randAugment, randAugmentOp, RAND_INCREASING_TRANSFORMS, RAND_TRANSFORMS } from '../src/data/randaugment.js';
import { randomErase } from '../src/data/random-erasing.js';
import { resizeByteImage } from '../src/data/resize.js';
import { ShapesDataset } from '../src/data/shapes.js';

/** An Rng whose uniform draws are scripted (to follow torchvision's algorithm step by step). */
function scripted(values: number[]): Rng {
  const r = new Rng(new Generator(0));
  let k = 0;
  r.random = () => {
    if (k >= values.length) throw new Error('scripted Rng: out of values');
    return values[k++]!;
  };
  return r;
}
const noise = (w: number, h: number, c = 3, seed = 1): ByteImage => ({ data: Uint8Array.from(new Generator(seed).uniform(w * h * c), (u) => Math.floor(u * 256)), width: w, height: h, channels: c });

describe('byte images', () => {
  it('convert to and from CHW floats exactly, crop, flip, and round like Python', () => {
    const img = noise(5, 4);
    const f = byteToFloatImage(img);
    expect(f[0]).toBe(Math.fround(img.data[0]! / 255));
    expect(f[20]).toBe(Math.fround(img.data[1]! / 255)); // channel 1 of pixel 0
    expect(floatToByteImage(f, [3, 4, 5]).data).toEqual(img.data);
    const cr = cropByteImage(img, 1, 2, 3, 2);
    expect(Array.from(cr.data.subarray(0, 3))).toEqual(Array.from(img.data.subarray((2 * 5 + 1) * 3, (2 * 5 + 1) * 3 + 3)));
    expect(() => cropByteImage(img, 3, 0, 3, 1)).toThrow(/does not fit in a 5x4 image/);
    const fl = flipByteImage(img);
    expect(Array.from(fl.data.subarray(0, 3))).toEqual(Array.from(img.data.subarray(12, 15)));
    expect(flipByteImage(fl).data).toEqual(img.data);
    expect(emptyByteImage(2, 3, 1).data.length).toBe(6);
    expect([0.5, 1.5, 2.5, -0.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, -0, 2, 3]);
  });
});

describe('RandomResizedCrop (torchvision get_params)', () => {
  it('follows the algorithm: area * U(scale), exp(U(log ratio)), Python rounding, then randint offsets', () => {
    // 100x80 image; u=0.5 -> scale 0.54 -> area 4320; u=0.5 -> ratio exp(0) = 1 -> w = h = round(65.73) = 66.
    const b = randomResizedCropParams(100, 80, scripted([0.5, 0.5, 0.25, 0.75]));
    expect(b).toEqual({ height: 66, width: 66, top: Math.floor(0.25 * 15), left: Math.floor(0.75 * 35) });
  });
  it('falls back to the central crop with the ratio clamped after 10 failed tries', () => {
    // A 100x1 strip: every try (area >= 8 px at ratio <= 4/3) is taller than 1 px.
    const b = randomResizedCropParams(100, 1, new Rng(new Generator(3)));
    expect(b).toEqual({ top: 0, left: 49, height: 1, width: 1 });
    const tall = randomResizedCropParams(10, 200, scripted(new Array<number>(20).fill(0.999)));
    expect(tall).toEqual({ top: Math.floor((200 - roundHalfEven(10 / 0.75)) / 2), left: 0, height: 13, width: 10 });
  });
  it('keeps area and aspect ratio in range over many draws, and is deterministic per seed', () => {
    const rng = new Rng(new Generator(7));
    for (let t = 0; t < 500; t++) {
      const b = randomResizedCropParams(300, 200, rng);
      expect(b.top + b.height).toBeLessThanOrEqual(200);
      expect(b.left + b.width).toBeLessThanOrEqual(300);
      const area = (b.width * b.height) / 60000;
      if (b.width !== 300 || b.height !== 200) expect(area).toBeGreaterThan(0.07);
    }
    const img = noise(40, 30);
    const a = randomResizedCrop(img, 16, new Rng(new Generator(9)));
    expect([a.width, a.height]).toEqual([16, 16]);
    expect(randomResizedCrop(img, 16, new Rng(new Generator(9))).data).toEqual(a.data);
    expect(randomResizedCrop(img, 16, new Rng(new Generator(10))).data).not.toEqual(a.data);
  });
  it('rejects bad ranges by name', () => {
    expect(() => randomResizedCropParams(10, 10, new Rng(new Generator(0)), { scale: [0.5, 0.1] })).toThrow(/scale must be 0 < min <= max/);
    expect(() => randomResizedCropParams(10, 10, new Rng(new Generator(0)), { ratio: [0, 1] })).toThrow(/ratio must be 0 < min <= max/);
  });
});

describe('resize and the evaluation crop', () => {
  it('antialiases when downscaling: a 1-pixel checkerboard averages to grey', () => {
    const data = Uint8Array.from({ length: 64 * 64 }, (_, i) => ((i % 64) + Math.floor(i / 64)) % 2 ? 255 : 0);
    const small = resizeByteImage({ data, width: 64, height: 64, channels: 1 }, 8, 8);
    for (const v of small.data) expect(Math.abs(v - 127.5)).toBeLessThan(2);
  });
  it('resizes the shorter side to floor(size / 0.875) then centre-crops (timm eval)', () => {
    const img = noise(50, 40);
    const out = evalResizeCrop(img, 16);
    expect([out.width, out.height]).toEqual([16, 16]);
    const ref = centerCrop(resizeByteImage(img, 22, 18), 16, 16); // shorter 40 -> 18, longer int(18 * 50 / 40) = 22
    expect(out.data).toEqual(ref.data);
    expect(() => resizeByteImage(img, 0, 3)).toThrow(/positive integers/);
    expect(() => centerCrop(img, 60, 10)).toThrow(/does not fit/);
  });
});

describe('RandAugment (timm)', () => {
  it("parses 'rand-m9-mstd0.5-inc1' as timm does, with the ImageNet-mean fill", () => {
    const c = parseRandAugment('rand-m9-mstd0.5-inc1');
    expect(c).toMatchObject({ magnitude: 9, numLayers: 2, prob: 0.5, magnitudeStd: 0.5, magnitudeMax: 10, translatePct: 0.45 });
    expect(c.ops).toEqual(RAND_INCREASING_TRANSFORMS);
    expect(c.fill).toEqual([124, 116, 104]);
    expect(parseRandAugment('rand-m7-n3-p0.8-mstd101', [0.286]).magnitudeStd).toBe(Infinity);
    expect(parseRandAugment('rand-m7-n3').ops).toEqual(RAND_TRANSFORMS);
    expect(parseRandAugment('rand-m9', [0.286]).fill).toEqual([73]);
    expect(() => parseRandAugment('rand-m9-x3')).toThrow(/unknown section 'x3'/);
    expect(() => parseRandAugment('auto-m9')).toThrow(/must start with 'rand'/);
    expect(() => parseRandAugment('rand-mfoo')).toThrow(/cannot read section 'mfoo'/);
  });
  it('maps magnitude 9 to timm level arguments', () => {
    const cfg = { translatePct: 0.45 };
    const args = Object.fromEntries(RAND_INCREASING_TRANSFORMS.map((n) => [n, levelToArg(n, 9, cfg)]));
    expect(args).toMatchObject({ Rotate: 27, PosterizeIncreasing: 1, SolarizeIncreasing: 26, SolarizeAdd: 99, ShearX: 0.27, ShearY: 0.27 });
    expect(args.ColorIncreasing).toBeCloseTo(1.81, 12);
    expect(args.TranslateXRel).toBeCloseTo(0.405, 12);
    expect(levelToArg('ContrastIncreasing', 9, cfg, (v) => -v)).toBeCloseTo(0.19, 12);
    expect(levelToArg('ContrastIncreasing', 10, cfg, (v) => -v)).toBeCloseTo(0.1, 12); // max(0.1, ...)
    expect(levelToArg('Posterize', 9, cfg)).toBe(3);
    expect(levelToArg('Solarize', 9, cfg)).toBe(230);
  });
  it('applies each op with probability p and draws ops uniformly with replacement', () => {
    const img = noise(12, 10);
    const cfg = parseRandAugment('rand-m9-mstd0.5-inc1');
    const rng = new Rng(new Generator(4));
    let changed = 0;
    for (let t = 0; t < 400; t++) if (randAugmentOp(img, 'Invert', cfg, rng) !== img) changed++;
    expect(changed / 400).toBeGreaterThan(0.42);
    expect(changed / 400).toBeLessThan(0.58);
    const counts = new Map<number, number>();
    const r2 = new Rng(new Generator(5));
    for (let t = 0; t < 3000; t++) {
      const k = Math.floor(r2.random() * cfg.ops.length);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    expect(counts.size).toBe(15);
    for (const v of counts.values()) expect(v).toBeGreaterThan(120);
  });
  it('is deterministic per generator seed and keeps the image size', () => {
    const img = noise(12, 10);
    const cfg = parseRandAugment('rand-m9-mstd0.5-inc1');
    const a = randAugment(img, cfg, new Rng(new Generator(11)));
    expect(randAugment(img, cfg, new Rng(new Generator(11))).data).toEqual(a.data);
    expect([a.width, a.height, a.channels]).toEqual([12, 10, 3]);
    const differs = [12, 13, 14, 15, 16].some((s) => randAugment(img, cfg, new Rng(new Generator(s))).data.some((v, i) => v !== a.data[i]));
    expect(differs).toBe(true);
    expect(() => randAugment(img, parseRandAugment('rand-m9', [0.5]), new Rng(new Generator(0)))).toThrow(/fill has 1 values for a 3-channel image/);
  });
});

describe('RandomErasing (timm, pixel mode)', () => {
  it('erases one rectangle of 2%-33% of the image with per-pixel normal values, with probability p', () => {
    const shape = [3, 32, 32] as const;
    let erased = 0;
    for (let s = 0; s < 200; s++) {
      const img = new Float32Array(3 * 32 * 32).fill(7);
      const did = randomErase(img, shape, { probability: 0.25, mode: 'pixel' }, new Rng(new Generator(s)));
      const n = img.reduce((a, v) => a + (v !== 7 ? 1 : 0), 0);
      if (did) {
        erased++;
        expect(n / 3).toBeGreaterThanOrEqual(Math.floor(0.02 * 1024 * 0.8));
        expect(n / 3).toBeLessThanOrEqual(Math.ceil(1024 / 3 * 1.2));
        const vals = img.filter((v) => v !== 7);
        const mean = vals.reduce((a, v) => a + v, 0) / vals.length;
        expect(Math.abs(mean)).toBeLessThan(0.5);
      } else expect(n).toBe(0);
    }
    expect(erased / 200).toBeGreaterThan(0.15);
    expect(erased / 200).toBeLessThan(0.35);
  });
  it('follows timm _erase step by step: gate, area, log aspect, round, randint offsets', () => {
    const img = new Float32Array(32 * 32).fill(9);
    // 0.1 <= p: erase; area U(0.02, 1/3) at 0.5 -> 0.1767 * 1024 = 180.9; aspect exp(0) = 1 -> 13x13; top randint(0, 19) at 0, left at 0.999 -> 19.
    expect(randomErase(img, [1, 32, 32], { probability: 0.25, mode: 'const' }, scripted([0.1, 0.5, 0.5, 0, 0.999]))).toBe(true);
    for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) expect(img[y * 32 + x]).toBe(y < 13 && x >= 19 ? 0 : 9);
    expect(randomErase(img, [1, 32, 32], { probability: 0.25 }, scripted([0.26]))).toBe(false); // random() > p: skip
  });
  it("'const' fills zeros, 'rand' one value per channel; bad options are named", () => {
    const img = new Float32Array(2 * 16 * 16).fill(5);
    expect(randomErase(img, [2, 16, 16], { probability: 1, mode: 'const' }, new Rng(new Generator(1)))).toBe(true);
    expect(img.some((v) => v === 0)).toBe(true);
    const img2 = new Float32Array(2 * 16 * 16).fill(5);
    randomErase(img2, [2, 16, 16], { probability: 1, mode: 'rand' }, new Rng(new Generator(1)));
    expect(new Set(img2.subarray(0, 256).filter((v) => v !== 5)).size).toBe(1);
    expect(() => randomErase(img, [2, 16, 16], { probability: 2 }, new Rng(new Generator(1)))).toThrow(/probability must be in \[0, 1\]/);
    expect(() => randomErase(img, [2, 16, 16], { probability: 1, mode: 'x' as 'pixel' }, new Rng(new Generator(1)))).toThrow(/mode must be pixel, rand or const/);
  });
});

describe('the training pipeline is seeded per (seed, epoch, index)', () => {
  const ds = new ShapesDataset({ length: 40, size: 16, seed: 2 });
  const augment = { randomResizedCrop: true, horizontalFlip: true, randAugment: 'rand-m9-mstd0.5-inc1', randomErasing: { probability: 0.25, mode: 'pixel' as const } };
  const normalize = { mean: [0.5, 0.5, 0.5], std: [0.25, 0.25, 0.25] };
  it('an example is the same in any batch, any loader instance, and differs across epochs', () => {
    const a = new DataLoader(ds, { batchSize: 8, seed: 3, augment, normalize });
    const b = new DataLoader(ds, { batchSize: 5, seed: 3, augment, normalize });
    const idx = a.batchIndices(1, 2);
    const hb = a.hostBatch(1, 2);
    const per = 3 * 16 * 16;
    idx.forEach((i, k) => expect(hb.pixels.subarray(k * per, (k + 1) * per)).toEqual(b.example(1, i).image));
    expect(a.example(1, 7).image).not.toEqual(a.example(2, 7).image);
    expect(new DataLoader(ds, { batchSize: 8, seed: 4, augment, normalize }).example(1, 7).image).not.toEqual(a.example(1, 7).image);
  });
  it('augmentExample equals the loader and gives distinct streams per index', () => {
    const g1 = exampleGenerator(3, 0, 5);
    const g2 = exampleGenerator(3, 0, 5);
    expect(g1.uniform(4)).toEqual(g2.uniform(4));
    expect(exampleGenerator(3, 0, 6).uniform(4)).not.toEqual(exampleGenerator(3, 0, 5).uniform(4));
    expect(exampleGenerator(3, 1, 5).uniform(4)).not.toEqual(exampleGenerator(3, 0, 5).uniform(4));
    const loader = new DataLoader(ds, { batchSize: 8, seed: 3, augment, normalize });
    expect(augmentExample(ds, 5, augment, exampleGenerator(3, 0, 5), normalize).image).toEqual(loader.example(0, 5).image);
  });
});
