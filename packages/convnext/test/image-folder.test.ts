/** Image folders: layouts, JPEG/PNG decoding, the decode cache, clear errors, worker threads, and training on a folder from the CLI. */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { encode as encodeJpeg } from 'jpeg-js';
import { PNG } from 'pngjs';
import { main } from '../src/cli.js';
import { DataLoader } from '../src/data/loader.js';
import { decodeImageFile, openImageFolder, scanImageFolder } from '../src/data/node/image-folder-node.js';
import { WorkerPoolProducer } from '../src/data/node/worker-loader-node.js';
import { InlineProducer, Prefetcher } from '../src/data/prefetch.js';
import { exportConvNeXtSafetensors } from '../src/export/safetensors-export.js';
import { loadRunForPredict, loadWeightsForPredict, predictImages, predictMetadata } from '../src/predict/predict-node.js';
import { evalTransform } from '../src/predict/preprocess.js';

const root = mkdtempSync(join(tmpdir(), 'tsgrad-folder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A w x h RGBA buffer: a colour plus a little position-dependent texture. */
function rgba(w: number, h: number, [r, g, b]: [number, number, number], texture = 0): Buffer {
  const d = Buffer.alloc(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const t = texture ? ((x * 7 + y * 13) % texture) : 0;
      d.set([Math.min(255, r + t), Math.min(255, g + t), Math.min(255, b + t), 255], (y * w + x) * 4);
    }
  return d;
}
function writePng(file: string, w: number, h: number, color: [number, number, number], texture = 0, colorType: 0 | 2 | 6 = 6): void {
  const png = new PNG({ width: w, height: h, colorType, inputColorType: 6 });
  rgba(w, h, color, texture).copy(png.data);
  writeFileSync(file, PNG.sync.write(png, { colorType, inputColorType: 6 }));
}
function writeJpeg(file: string, w: number, h: number, color: [number, number, number], texture = 0): void {
  writeFileSync(file, encodeJpeg({ data: rgba(w, h, color, texture), width: w, height: h }, 95).data);
}
const COLORS: Record<string, [number, number, number]> = { red: [220, 30, 40], green: [30, 200, 60], blue: [40, 50, 210] };

/** ROOT/train/<class>/ and ROOT/val/<class>/ with n images each (PNG and JPEG mixed, varied sizes). */
function splitFolder(name: string, nTrain: number, nVal: number): string {
  const dir = join(root, name);
  for (const [split, n] of [['train', nTrain], ['val', nVal]] as const)
    for (const [cls, col] of Object.entries(COLORS)) {
      mkdirSync(join(dir, split, cls), { recursive: true });
      for (let i = 0; i < n; i++) {
        const [w, h] = [20 + 3 * i, 17 + 2 * (i % 3)];
        if (i % 2) writeJpeg(join(dir, split, cls, `${i}.JPG`), w, h, col, 20);
        else writePng(join(dir, split, cls, `${i}.png`), w, h, col, 20);
      }
    }
  return dir;
}

describe('decoding', () => {
  it('PNG decodes exactly (RGBA and grey), JPEG within its compression error', () => {
    const dir = join(root, 'dec');
    mkdirSync(dir, { recursive: true });
    writePng(join(dir, 'a.png'), 5, 4, [10, 200, 99]);
    const a = decodeImageFile(join(dir, 'a.png'));
    expect([a.width, a.height, a.channels]).toEqual([5, 4, 3]);
    expect(Array.from(a.data.subarray(0, 6))).toEqual([10, 200, 99, 10, 200, 99]);
    writePng(join(dir, 'g.png'), 3, 3, [77, 77, 77], 0, 0);
    expect(Array.from(decodeImageFile(join(dir, 'g.png')).data.subarray(0, 3))).toEqual([77, 77, 77]);
    writeJpeg(join(dir, 'c.jpg'), 16, 16, [200, 40, 90]);
    const c = decodeImageFile(join(dir, 'c.jpg'));
    for (let p = 0; p < 256; p++) {
      expect(Math.abs(c.data[p * 3]! - 200)).toBeLessThanOrEqual(4);
      expect(Math.abs(c.data[p * 3 + 2]! - 90)).toBeLessThanOrEqual(4);
    }
  });
  it('names the file it cannot read or decode', () => {
    const dir = join(root, 'bad');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'x.jpg'), 'not an image');
    expect(() => decodeImageFile(join(dir, 'x.jpg'))).toThrow(/x\.jpg: not a JPEG or PNG image \(it starts with bytes 6e 6f 74 20\); supported: \.jpg, \.jpeg, \.png/);
    writeFileSync(join(dir, 'y.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]));
    expect(() => decodeImageFile(join(dir, 'y.png'))).toThrow(/y\.png: cannot decode the PNG image/);
    expect(() => decodeImageFile(join(dir, 'missing.png'))).toThrow(/missing\.png: cannot read the file/);
  });
});

describe('image folder layouts', () => {
  it('train/ and val/ with class folders: sorted classes, labels, eval view at the image size', () => {
    const dir = splitFolder('split', 4, 2);
    const { train, val, layout } = openImageFolder(dir, { imageSize: 16 });
    expect(layout.layout).toBe('split');
    expect(train.classes).toEqual(['blue', 'green', 'red']);
    expect([train.length, val.length]).toEqual([12, 6]);
    expect(train.shape).toEqual([3, 16, 16]);
    const ex = val.get(5);
    expect(ex.label).toBe(2);
    expect(ex.image.length).toBe(3 * 16 * 16);
    expect(ex.image[0]!).toBeGreaterThan(0.75); // red channel of a red picture
    expect(ex.image[2 * 256]!).toBeLessThan(0.4);
  });
  it('one folder of classes is split per class by a seeded draw', () => {
    const dir = join(root, 'flat');
    for (const cls of ['a', 'b'])
      for (let i = 0; i < 10; i++) {
        mkdirSync(join(dir, cls), { recursive: true });
        writePng(join(dir, cls, `${i}.png`), 8, 8, COLORS.red!);
      }
    const s1 = scanImageFolder(dir, { valFraction: 0.2, seed: 1 });
    expect(s1.layout).toBe('seeded');
    expect([s1.train.length, s1.val.length]).toEqual([16, 4]);
    expect(s1.val.filter((e) => e.label === 0).length).toBe(2);
    expect(scanImageFolder(dir, { valFraction: 0.2, seed: 1 }).val).toEqual(s1.val);
    const s2 = scanImageFolder(dir, { valFraction: 0.2, seed: 2 });
    expect(s2.val).not.toEqual(s1.val);
    expect(new Set([...s1.train, ...s1.val].map((e) => e.file)).size).toBe(20);
  });
  it('clear errors: missing, empty, no images in a class, loose images, missing val/, different classes', () => {
    expect(() => scanImageFolder(join(root, 'nope'))).toThrow(/image folder '.*nope' does not exist/);
    const empty = join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    expect(() => scanImageFolder(empty)).toThrow(/has no class folders: put the images in one folder per class/);
    const noImg = join(root, 'noimg');
    mkdirSync(join(noImg, 'cat'), { recursive: true });
    writeFileSync(join(noImg, 'cat', 'notes.txt'), 'x');
    expect(() => scanImageFolder(noImg)).toThrow(/class folder 'cat' has no images \(it holds 1 other files, e.g. 'notes.txt'/);
    const loose = join(root, 'loose');
    mkdirSync(join(loose, 'cat'), { recursive: true });
    writePng(join(loose, 'cat', '0.png'), 4, 4, COLORS.red!);
    writePng(join(loose, 'stray.png'), 4, 4, COLORS.red!);
    expect(() => scanImageFolder(loose)).toThrow(/1 images \(e.g. 'stray.png'\) lie outside the class folders/);
    const noVal = join(root, 'noval');
    mkdirSync(join(noVal, 'train', 'cat'), { recursive: true });
    expect(() => scanImageFolder(noVal)).toThrow(/has train\/ but no val\/ folder/);
    const diff = splitFolder('diff', 1, 1);
    rmSync(join(diff, 'val', 'green'), { recursive: true });
    mkdirSync(join(diff, 'val', 'purple'));
    writePng(join(diff, 'val', 'purple', '0.png'), 4, 4, COLORS.red!);
    expect(() => scanImageFolder(diff)).toThrow(/must have the same class folders; val\/ lacks 'green'; val\/ has 'purple' that train\/ lacks/);
  });
  it('an unreadable image fails the batch with its file name', () => {
    const dir = splitFolder('corrupt', 2, 1);
    writeFileSync(join(dir, 'train', 'red', '1.JPG'), 'garbage');
    const { train } = openImageFolder(dir, { imageSize: 8 });
    const loader = new DataLoader(train, { batchSize: 6, shuffle: false });
    expect(() => loader.hostBatch(0, 0)).toThrow(/red\/1\.JPG: not a JPEG or PNG image/);
  });
});

describe('the decode cache and the loaders', () => {
  const dir = splitFolder('cache', 4, 1);
  it('decodes each image once across epochs, within the memory budget', () => {
    const { train } = openImageFolder(dir, { imageSize: 12 });
    const loader = new DataLoader(train, { batchSize: 4, seed: 1, augment: { randomResizedCrop: true, horizontalFlip: true, randAugment: 'rand-m9-mstd0.5-inc1' } });
    for (let e = 0; e < 2; e++) for (let b = 0; b < loader.batchesPerEpoch; b++) loader.hostBatch(e, b);
    expect(train.decodes).toBe(12);
    expect(train.cachedBytes).toBeGreaterThan(0);
    const tight = openImageFolder(dir, { imageSize: 12, cacheBytes: 0 }).train;
    const l2 = new DataLoader(tight, { batchSize: 4, seed: 1 });
    for (let e = 0; e < 2; e++) for (let b = 0; b < l2.batchesPerEpoch; b++) l2.hostBatch(e, b);
    expect(tight.decodes).toBe(24);
  });
  it('reduces big pictures to maxSide before caching', () => {
    const big = join(root, 'big');
    mkdirSync(join(big, 'x'), { recursive: true });
    for (let i = 0; i < 2; i++) writePng(join(big, 'x', `${i}.png`), 90, 60, COLORS.blue!, 30);
    const { train } = openImageFolder(big, { imageSize: 10, valFraction: 0.5 });
    const { image } = train.getBytes(0);
    expect([image.width, image.height]).toEqual([30, 20]);
  });
  it('worker threads and the prefetcher give exactly the batches of the main thread', async () => {
    const { train } = openImageFolder(dir, { imageSize: 12 });
    const opts = { batchSize: 4, seed: 2, augment: { randomResizedCrop: true, horizontalFlip: true, randAugment: 'rand-m9-mstd0.5-inc1', randomErasing: { probability: 0.5 } }, normalize: { mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] } };
    const loader = new DataLoader(train, opts);
    const spec = { dataset: 'folder' as const, dataDir: dir, trainSize: 1, valSize: 1, imageSize: 12, seed: 0 };
    const pool = new WorkerPoolProducer(loader, { spec, split: 'train', loader: opts }, 2);
    const pf = new Prefetcher(pool, { epochs: 2, batchesPerEpoch: loader.batchesPerEpoch, start: { epoch: 0, batch: 1 }, depth: 2 });
    try {
      for (const [e, b] of [[0, 1], [0, 2], [1, 0]] as const) {
        const got = await pf.next(e, b);
        const want = loader.hostBatch(e, b);
        expect(got.shape).toEqual(want.shape);
        expect(got.labels).toEqual(want.labels);
        expect(got.pixels).toEqual(want.pixels);
      }
      await expect(pf.next(0, 0)).rejects.toThrow(/asked for batch 0 of epoch 0, but the next planned is batch 1 of epoch 1/);
    } finally {
      await pf.close();
    }
    const inline = new Prefetcher(new InlineProducer(loader), { epochs: 1, batchesPerEpoch: loader.batchesPerEpoch, start: { epoch: 0, batch: 0 }, inline: true });
    expect((await inline.next(0, 0)).pixels).toEqual(loader.hostBatch(0, 0).pixels);
  }, 60_000);
});

describe('tsgrad-convnext train --dataset folder', () => {
  it('trains one short epoch on a folder with the paper augmentation, and eval reads the folder again', async () => {
    const dir = splitFolder('cli', 4, 2);
    // One validation picture bigger than maxSide (2 x 16), so the cache's reduction matters.
    const big = join(dir, 'val', 'red', 'big.png');
    writePng(big, 50, 41, COLORS.red!, 20);
    const out = join(root, 'run');
    let log = '';
    const spies = [
      vi.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((log += String(c)), true)),
      vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((log += String(c)), true)),
      vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (log += `${a.join(' ')}\n`)),
    ];
    let code: number;
    let evalCode: number;
    try {
      code = await main(['train', '--dataset', 'folder', '--data-dir', dir, '--image-size', '16', '--depths', '1,1,1,1', '--dims', '8,16,16,24', '--epochs', '1', '--batch-size', '4', '--backend', 'js', '--warmup-epochs', '0', '--out', out]);
      evalCode = await main(['eval', out, '--backend', 'js']);
    } finally {
      for (const s of spies) s.mockRestore();
    }
    expect(code, log).toBe(0);
    expect(log).toMatch(/on .*cli \(train\)/);
    expect(evalCode, log).toBe(0);
    expect(log).toMatch(/top-1/);
    const metrics = JSON.parse((await import('node:fs')).readFileSync(join(out, 'metrics.json'), 'utf8')) as { config: Record<string, unknown> };
    expect(metrics.config).toMatchObject({ aa: 'rand-m9-mstd0.5-inc1', reprob: 0.25, randomResizedCrop: true, remode: 'pixel' });

    // predict on the run sees a picture exactly as the run's validation did (crop 0.875 after the maxSide reduction).
    const pm = await loadRunForPredict(out);
    expect([pm.imageSize, pm.cropPct, pm.maxSide]).toEqual([16, 0.875, 32]);
    const { val } = openImageFolder(dir, { imageSize: 16 });
    const i = val.opts.entries.findIndex((e) => e.file === big);
    const x = evalTransform(decodeImageFile(big), { size: 16, cropPct: pm.cropPct, maxSide: pm.maxSide!, mean: [0, 0, 0], std: [1, 1, 1] });
    expect(x).toEqual(val.get(i).image);
    const [fromRun] = await predictImages(pm, [big], { topK: 3 });
    // An export carrying predictMetadata predicts the same (the same crop and reduction).
    const file = join(root, 'run.safetensors');
    writeFileSync(file, await exportConvNeXtSafetensors(pm.model, { metadata: predictMetadata(pm) }));
    const wm = await loadWeightsForPredict(file);
    expect([wm.imageSize, wm.cropPct, wm.maxSide, wm.classes]).toEqual([16, 0.875, 32, ['blue', 'green', 'red']]);
    expect((await predictImages(wm, [big], { topK: 3 }))[0]!.top).toEqual(fromRun!.top);
  }, 120_000);
  it('names a missing folder', async () => {
    let err = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
    try {
      expect(await main(['train', '--dataset', 'folder', '--data-dir', join(root, 'absent'), '--backend', 'js'])).toBe(1);
    } finally {
      spy.mockRestore();
    }
    expect(err).toMatch(/image folder '.*absent' does not exist/);
    err = '';
    const spy2 = vi.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((err += String(c)), true));
    try {
      expect(await main(['train', '--dataset', 'folder', '--data-dir', join(root, 'cli'), '--out', join(root, 'cli', 'run'), '--backend', 'js'])).toBe(1);
    } finally {
      spy2.mockRestore();
    }
    expect(err).toMatch(/--out '.*run' lies inside the image folder/);
  });
});
