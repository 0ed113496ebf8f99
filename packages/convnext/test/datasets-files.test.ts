/** MNIST / Fashion-MNIST (IDX) and CIFAR-100 readers, datasets by name and their normalisation: read right, and every broken file named. */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { CIFAR100_CLASSES, CIFAR100_COARSE_CLASSES, Cifar100Dataset } from '../src/data/cifar.js';
import { DATASET_STATS, datasetImageSize, datasetNormalization, type DatasetSpec } from '../src/data/datasets.js';
import { decodeIdx, encodeIdx, parseIdx } from '../src/data/idx.js';
import { IdxImageDataset } from '../src/data/idx-dataset.js';
import { nodeGunzip } from '../src/data/idx-node.js';
import { openDataset, openDatasets } from '../src/data/open-node.js';
import { resizeByteImage } from '../src/data/resize.js';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_DEBIAN_DIR, MNIST_CLASSES, MnistDataset, defaultIdxDirs, findIdxFiles } from '../src/data/mnist.js';
import { classImage, writeIdxDataset } from './helpers/idx-fixture.js';

const tmp = mkdtempSync(join(tmpdir(), 'tsgrad-datasets-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('IdxImageDataset (browser-safe, from bytes)', () => {
  it('reads images and labels decoded from a Blob, grey or repeated to RGB, with the file reader\'s checks', async () => {
    const px = Uint8Array.from({ length: 3 * 2 * 2 }, (_, i) => i * 20);
    const images = await decodeIdx(new Blob([new Uint8Array(gzipSync(encodeIdx([3, 2, 2], px)))]), 'images');
    const labels = await decodeIdx(encodeIdx([3], Uint8Array.from([2, 0, 1])), 'labels');
    const ds = new IdxImageDataset(images, labels, { classes: FASHION_MNIST_CLASSES, name: 'fashion-mnist' });
    expect([ds.length, ds.shape, ds.name]).toEqual([3, [1, 2, 2], 'fashion-mnist']);
    const ex = ds.get(1);
    expect(ex.label).toBe(0);
    expect(Array.from(ex.image)).toEqual([80, 100, 120, 140].map((v) => Math.fround(v / 255)));
    const rgb = new IdxImageDataset(images, labels, { classes: FASHION_MNIST_CLASSES, inChans: 3 });
    expect(Array.from(rgb.get(0).image.subarray(8, 12))).toEqual(Array.from(rgb.get(0).image.subarray(0, 4)));
    expect(() => new IdxImageDataset(images, labels, { classes: ['a', 'b'] })).toThrow(/idx: label 0 is 2; labels must be 0\.\.1/);
    expect(() => new IdxImageDataset(labels, labels, { classes: FASHION_MNIST_CLASSES })).toThrow(/idx: the images are a 1-D array \[3\], expected \[count, rows, cols\]/);
    const two = await decodeIdx(encodeIdx([2], Uint8Array.from([0, 1])), 'labels');
    expect(() => new IdxImageDataset(images, two, { classes: FASHION_MNIST_CLASSES })).toThrow(/idx: 3 images but 2 labels/);
    expect(() => ds.get(3)).toThrow();
  });
});

describe('IDX files', () => {
  it('round-trips and reads gzipped and plain bytes alike', async () => {
    const data = Uint8Array.from({ length: 2 * 3 * 4 }, (_, i) => i * 7);
    const idx = encodeIdx([2, 3, 4], data);
    expect(Array.from(idx.subarray(0, 16))).toEqual([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4]);
    const gz = new Uint8Array(gzipSync(idx));
    // parseIdx with Node's gunzip; decodeIdx (browser-safe) from bytes, a Blob and a Response.
    const read = [parseIdx(idx, 'x'), parseIdx(gz, 'x', { gunzip: nodeGunzip }), await decodeIdx(gz, 'x'), await decodeIdx(new Blob([gz]), 'x'), await decodeIdx(new Response(idx.slice().buffer), 'x')];
    for (const a of read) {
      expect(a.dims).toEqual([2, 3, 4]);
      expect(Array.from(a.data)).toEqual(Array.from(data));
    }
    expect(() => parseIdx(gz, "'g'")).toThrow(/'g': the data is gzipped; parseIdx needs a gunzip function for that \(decodeIdx inflates by itself/);
  });

  it('names a truncated, corrupt or foreign file', async () => {
    const idx = encodeIdx([4, 2, 2], new Uint8Array(16));
    expect(() => parseIdx(idx.subarray(0, 2), "'f'")).toThrow(/'f': 2 bytes is too short for an IDX file .* truncated/);
    expect(() => parseIdx(idx.subarray(0, 10), "'f'")).toThrow(/'f': the file is truncated inside its header \(10 bytes, the header of a 3-D IDX file has 16\)/);
    expect(() => parseIdx(idx.subarray(0, 30), "'f'")).toThrow(/'f': truncated: the header declares dims \[4, 2, 2\] \(16 values\) but only 14 follow; download the file again/);
    expect(() => parseIdx(new Uint8Array([...idx, 1, 2]), "'f'")).toThrow(/'f': 2 bytes follow the 16 values its header declares/);
    expect(() => parseIdx(new TextEncoder().encode('<html>not found</html>'), "'f'")).toThrow(/'f': not an IDX file \(its magic number starts with 0x3c68/);
    const floats = idx.slice();
    floats[2] = 0x0d;
    expect(() => parseIdx(floats, "'f'")).toThrow(/'f': IDX value type 0x0d is not supported; only unsigned bytes \(0x08\)/);
    const gz = new Uint8Array(gzipSync(idx));
    expect(() => parseIdx(gz.subarray(0, gz.length - 12), "'f'", { gunzip: nodeGunzip })).toThrow(/'f': the gzip data is truncated or corrupt .*download the file again/);
    await expect(decodeIdx(gz.subarray(0, gz.length - 12), "'f'")).rejects.toThrow(/'f': the gzip data is truncated or corrupt .*download the file again/);
    const bomb = new Uint8Array(gzipSync(new Uint8Array(1 << 20)));
    expect(() => parseIdx(bomb, "'f'", { maxInflated: 1 << 16, gunzip: nodeGunzip })).toThrow(/'f': the gzip data inflates to more than 65536 bytes, far more than an IDX dataset file; refusing it/);
    await expect(decodeIdx(bomb, "'f'", { maxInflated: 1 << 16 })).rejects.toThrow(/'f': the gzip data inflates to more than 65536 bytes, far more than an IDX dataset file; refusing it/);
    expect(() => encodeIdx([2, 2], new Uint8Array(3))).toThrow(/encodeIdx: dims \[2, 2\] hold 4 values, got 3/);
  });
});

describe('MNIST and Fashion-MNIST', () => {
  it('reads the four files (gzipped) as 1-channel [0, 1] images with their labels', () => {
    const dir = writeIdxDataset(join(tmp, 'fmnist'), { train: 20, test: 10 });
    const train = new MnistDataset({ kind: 'fashion-mnist', split: 'train', dataDir: dir });
    const test = new MnistDataset({ kind: 'fashion-mnist', split: 'test', dataDir: dir });
    expect([train.length, test.length]).toEqual([20, 10]);
    expect(train.shape).toEqual([1, 28, 28]);
    expect(train.classes).toBe(FASHION_MNIST_CLASSES);
    expect(train.files.images).toBe(join(dir, 'train-images-idx3-ubyte.gz'));
    expect(test.files.labels).toBe(join(dir, 't10k-labels-idx1-ubyte.gz'));
    const ex = train.get(13);
    expect(ex.label).toBe(3);
    expect(Array.from(ex.image)).toEqual(Array.from(classImage(3, 13), (v) => Math.fround(v / 255)));
    expect(() => train.get(20)).toThrow(/fashion-mnist: index 20 is out of range \(the dataset has 20 examples\)/);
  });

  it('resizes to imageSize once at load with PIL\'s bicubic filter (both splits, any channels)', () => {
    const dir = join(tmp, 'fmnist');
    const stored = new MnistDataset({ kind: 'fashion-mnist', split: 'test', dataDir: dir });
    const big = new MnistDataset({ kind: 'fashion-mnist', split: 'test', dataDir: dir, imageSize: 32 });
    const rgb = new MnistDataset({ kind: 'fashion-mnist', split: 'test', dataDir: dir, imageSize: 32, inChans: 3 });
    expect([big.shape, rgb.shape, big.length]).toEqual([[1, 32, 32], [3, 32, 32], 10]);
    const bytes = Uint8Array.from(stored.get(7).image, (v) => Math.round(v * 255));
    const want = resizeByteImage({ width: 28, height: 28, channels: 1, data: bytes }, 32, 32, { filter: 'bicubic' }).data;
    expect(Array.from(big.get(7).image)).toEqual(Array.from(want, (v) => Math.fround(v / 255)));
    expect(Array.from(rgb.get(7).image.subarray(2 * 1024))).toEqual(Array.from(big.get(7).image));
    expect(big.get(7).label).toBe(stored.get(7).label);
    // 28 is the stored size: nothing to do.
    expect(Array.from(new MnistDataset({ kind: 'fashion-mnist', split: 'test', dataDir: dir, imageSize: 28 }).get(3).image)).toEqual(Array.from(stored.get(3).image));
    expect(() => new MnistDataset({ kind: 'fashion-mnist', split: 'test', dataDir: dir, imageSize: 0 })).toThrow(/fashion-mnist: imageSize must be a positive integer, got 0/);
  });

  it('repeats grey images to 3 channels for an RGB stem', () => {
    const dir = join(tmp, 'fmnist');
    const grey = new MnistDataset({ kind: 'fashion-mnist', split: 'test', dataDir: dir });
    const rgb = new MnistDataset({ kind: 'fashion-mnist', split: 'test', dataDir: dir, inChans: 3 });
    expect(rgb.shape).toEqual([3, 28, 28]);
    const g = grey.get(4).image;
    const c = rgb.get(4).image;
    for (let ch = 0; ch < 3; ch++) expect(Array.from(c.subarray(ch * 784, (ch + 1) * 784))).toEqual(Array.from(g));
    expect(() => new MnistDataset({ kind: 'fashion-mnist', split: 'test', dataDir: dir, inChans: 2 as 1 })).toThrow(/fashion-mnist: inChans must be 1 or 3, got 2/);
  });

  it('finds plain files, Kaggle names, and torchvision raw/ folders', () => {
    const plain = writeIdxDataset(join(tmp, 'plain'), { train: 10, test: 10, gzip: false });
    expect(new MnistDataset({ kind: 'mnist', split: 'train', dataDir: plain }).files.images).toBe(join(plain, 'train-images-idx3-ubyte'));
    expect(new MnistDataset({ kind: 'mnist', split: 'train', dataDir: plain }).classes).toBe(MNIST_CLASSES);
    const kaggle = join(tmp, 'kaggle');
    mkdirSync(kaggle);
    for (const f of ['t10k-images-idx3-ubyte', 't10k-labels-idx1-ubyte']) copyFileSync(join(plain, f), join(kaggle, f.replace(/-(idx\d)-/, '.$1-')));
    expect(findIdxFiles('mnist', 'test', kaggle)).toEqual({ images: join(kaggle, 't10k-images.idx3-ubyte'), labels: join(kaggle, 't10k-labels.idx1-ubyte') });
    const tv = writeIdxDataset(join(tmp, 'tv', 'FashionMNIST', 'raw'), { train: 10, test: 10 });
    expect(findIdxFiles('fashion-mnist', 'train', join(tmp, 'tv')).images).toBe(join(tv, 'train-images-idx3-ubyte.gz'));
  });

  it('a missing dataset says what to install or download and where to put it', () => {
    const empty = join(tmp, 'empty');
    mkdirSync(empty);
    const msg = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as Error).message;
      }
      throw new Error('expected an error');
    };
    const fm = msg(() => new MnistDataset({ kind: 'fashion-mnist', split: 'train', dataDir: empty }));
    expect(fm).toContain(`fashion-mnist: dataset not found: missing train-images-idx3-ubyte.gz and train-labels-idx1-ubyte.gz (gzipped or not) in '${empty}'`);
    expect(fm).toContain('apt-get install dataset-fashion-mnist');
    expect(fm).toContain('/usr/share/datasets/fashion-mnist');
    expect(fm).toContain('http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/');
    expect(fm).toContain('pass it with --data-dir');
    expect(fm).toContain('t10k-images-idx3-ubyte.gz');
    const m = msg(() => new MnistDataset({ kind: 'mnist', split: 'test', dataDir: join(tmp, 'nowhere') }));
    expect(m).toContain(`mnist: dataset not found: missing t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz (gzipped or not) in '${join(tmp, 'nowhere')}' (the folder does not exist)`);
    expect(m).toContain('https://ossci-datasets.s3.amazonaws.com/mnist/');
    expect(m).not.toContain('apt-get');
    // Without --data-dir, MNIST has nowhere to look; Fashion-MNIST looks where Debian installs it.
    expect(msg(() => findIdxFiles('mnist', 'train', null))).toContain('anywhere: no --data-dir given');
    expect(defaultIdxDirs('fashion-mnist')).toEqual([FASHION_MNIST_DEBIAN_DIR]);
    expect(FASHION_MNIST_DEBIAN_DIR).toBe('/usr/share/datasets/fashion-mnist');
  });

  it('names truncated files, files that do not belong together, and bad labels', () => {
    const dir = writeIdxDataset(join(tmp, 'broken'), { train: 10, test: 10, gzip: false });
    const images = join(dir, 'train-images-idx3-ubyte');
    const labels = join(dir, 'train-labels-idx1-ubyte');
    const open = () => new MnistDataset({ kind: 'fashion-mnist', split: 'train', dataDir: dir });
    const full = readFileSync(images);
    writeFileSync(images, full.subarray(0, full.length - 100));
    expect(open).toThrow(/'.*train-images-idx3-ubyte': truncated: the header declares dims \[10, 28, 28\] \(7840 values\) but only 7740 follow/);
    writeFileSync(images, full);
    writeFileSync(labels, encodeIdx([9], new Uint8Array(9)));
    expect(open).toThrow(/fashion-mnist: '.*train-images-idx3-ubyte' has 10 images but '.*train-labels-idx1-ubyte' has 9 labels; the files do not belong together/);
    writeFileSync(labels, encodeIdx([10], Uint8Array.from([0, 1, 2, 3, 4, 5, 6, 7, 8, 12])));
    expect(open).toThrow(/fashion-mnist: label 9 in '.*' is 12; labels must be 0..9/);
    writeFileSync(labels, full); // images where the labels should be
    expect(open).toThrow(/is not a label file: it holds a 3-D array \[10, 28, 28\], expected \[count\]/);
  });
});

// Debian's package (apt-get install dataset-fashion-mnist; .ci/run installs it): the real
// files, where the tests above use small generated ones.
describe('Fashion-MNIST as Debian ships it', () => {
  it('is found without --data-dir and reads 60,000 + 10,000 balanced 28x28 images', () => {
    const test = new MnistDataset({ kind: 'fashion-mnist', split: 'test' });
    expect(test.files.images).toBe('/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz');
    expect([test.length, ...test.shape]).toEqual([10_000, 1, 28, 28]);
    const counts = new Array<number>(10).fill(0);
    for (let i = 0; i < test.length; i++) counts[test.get(i).label]!++;
    expect(counts).toEqual(new Array(10).fill(1000));
    expect(test.get(0).label).toBe(9); // the first test image is an ankle boot
    expect(new MnistDataset({ kind: 'fashion-mnist', split: 'train' }).length).toBe(60_000);
  }, 30_000);
});

describe('CIFAR-100', () => {
  const record = (coarse: number, fine: number, pixel: number) => Buffer.concat([Buffer.from([coarse, fine]), Buffer.alloc(3072, pixel)]);
  it('reads fine labels by default and coarse ones on request', () => {
    const dir = join(tmp, 'cifar-100-binary');
    mkdirSync(dir);
    writeFileSync(join(dir, 'test.bin'), Buffer.concat([record(4, 0, 255), record(19, 99, 51)]));
    const fine = new Cifar100Dataset(dir, 'test');
    expect(fine.length).toBe(2);
    expect(fine.classes).toBe(CIFAR100_CLASSES);
    expect(CIFAR100_CLASSES).toHaveLength(100);
    expect([fine.get(0).label, fine.get(1).label]).toEqual([0, 99]);
    expect(fine.get(1).image[3071]).toBeCloseTo(0.2, 6);
    expect(fine.get(0).image).toHaveLength(3 * 32 * 32);
    const coarse = new Cifar100Dataset(dir, 'test', { labels: 'coarse' });
    expect(coarse.classes).toBe(CIFAR100_COARSE_CLASSES);
    expect(CIFAR100_COARSE_CLASSES).toHaveLength(20);
    expect([coarse.get(0).label, coarse.get(1).label]).toEqual([4, 19]);
    expect([CIFAR100_CLASSES[0], CIFAR100_CLASSES[99], CIFAR100_COARSE_CLASSES[4], CIFAR100_COARSE_CLASSES[19]]).toEqual(['apple', 'worm', 'fruit_and_vegetables', 'vehicles_2']);
  });

  it('names a missing folder, missing files, truncated files and CIFAR-10 batches', () => {
    expect(() => new Cifar100Dataset(join(tmp, 'nope'), 'train')).toThrow(/cifar100: dataset folder '.*nope' does not exist; download the CIFAR-100 binary version \(cifar-100-binary.tar.gz/);
    const dir = join(tmp, 'c100-bad');
    mkdirSync(dir);
    expect(() => new Cifar100Dataset(dir, 'train')).toThrow(/cifar100: missing train.bin in '.*c100-bad' \(expected the extracted cifar-100-binary folder/);
    writeFileSync(join(dir, 'train.bin'), record(1, 2, 0).subarray(0, 3073)); // a CIFAR-10-sized record
    expect(() => new Cifar100Dataset(dir, 'train')).toThrow(/cifar100: '.*train.bin' is truncated or not a CIFAR-100 batch: 3073 bytes is not a whole number of 3074-byte records/);
    writeFileSync(join(dir, 'train.bin'), record(25, 2, 0));
    expect(() => new Cifar100Dataset(dir, 'train')).toThrow(/cifar100: record 0 has coarse label 25 and fine label 2; CIFAR-100 labels are 0..19 and 0..99/);
    expect(() => new Cifar100Dataset(dir, 'train', { labels: 'medium' as 'fine' })).toThrow(/cifar100: labels must be 'fine' or 'coarse', got 'medium'/);
  });
});

describe('datasets by name', () => {
  const spec = (over: Partial<DatasetSpec>): DatasetSpec => ({ dataset: 'shapes', dataDir: null, trainSize: 20, valSize: 10, imageSize: null, seed: 0, ...over });
  it('opens each split with the requested channels', () => {
    const dir = join(tmp, 'fmnist');
    const { train, val } = openDatasets(spec({ dataset: 'fashion-mnist', dataDir: dir }));
    expect([train.length, val.length, train.shape[0]]).toEqual([20, 10, 1]);
    expect(openDataset(spec({ dataset: 'mnist', dataDir: dir, inChans: 3 }), 'val').shape).toEqual([3, 28, 28]);
    expect(openDataset(spec({ imageSize: 16 }), 'train').shape).toEqual([3, 16, 16]);
    // imageSize null: each dataset's own size; set, it resizes MNIST too and CIFAR refuses it.
    expect([datasetImageSize('mnist', null), datasetImageSize('fashion-mnist', undefined), datasetImageSize('cifar10', null), datasetImageSize('folder', null), datasetImageSize('mnist', 32)]).toEqual([28, 28, 32, 32, 32]);
    expect(openDataset(spec({}), 'train').shape).toEqual([3, 32, 32]);
    expect(openDataset(spec({ dataset: 'fashion-mnist', dataDir: dir }), 'val').shape).toEqual([1, 28, 28]);
    expect(openDataset(spec({ dataset: 'fashion-mnist', dataDir: dir, imageSize: 32 }), 'val').shape).toEqual([1, 32, 32]);
    expect(() => openDataset(spec({ dataset: 'cifar10', dataDir: dir, imageSize: 64 }), 'val')).toThrow(/cifar10: --image-size 64 is not supported: CIFAR images are used at their stored 32x32/);
    expect(() => openDataset(spec({ dataset: 'cifar10', inChans: 1 }), 'val')).toThrow(/cifar10: --in-chans 1 is not possible: its images have 3 channels/);
    expect(() => openDataset(spec({ dataset: 'mnist', dataDir: dir, inChans: 2 }), 'val')).toThrow(/mnist: --in-chans 2 is not possible: grey images take 1 \(as they are\) or 3 \(repeated\)/);
    expect(() => openDataset(spec({ dataset: 'cifar100' }), 'val')).toThrow(/cifar100: needs --data-dir, the extracted cifar-100-binary folder/);
    expect(() => openDataset(spec({ dataset: 'imagenet' as 'shapes' }), 'val')).toThrow(/unknown dataset 'imagenet' \(have shapes, fashion-mnist, mnist, cifar10, cifar100, folder\)/);
  });

  it('normalises each dataset with its own statistics, grey ones repeated to 3 channels', () => {
    expect(datasetNormalization('fashion-mnist', 1)).toEqual({ mean: [0.286], std: [0.353] });
    expect(datasetNormalization('mnist', 3)).toEqual({ mean: [0.1307, 0.1307, 0.1307], std: [0.3081, 0.3081, 0.3081] });
    expect(datasetNormalization('cifar100', 3)).toBe(DATASET_STATS.cifar100);
    expect(DATASET_STATS.imagenet).toEqual({ mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] });
    expect(() => datasetNormalization('cifar10', 1)).toThrow(/cifar10: its statistics are for 3 channels, not 1/);
  });
});
