/**
 * Predict's preprocessing against PIL/torchvision (fixture from scripts/gen_predict_fixtures.py):
 * the antialiased bicubic resize it shares with training (data/resize.ts), timm's ConvNeXt
 * eval transform (RGB and grey), top-k, and the JPEG/PNG decoder it shares with image folders.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import type { ByteImage } from '../src/data/byte-image.js';
import { centerCrop, evalResizeCrop } from '../src/data/crop.js';
import { decodeImageBytes } from '../src/data/node/image-folder-node.js';
import { resizeByteImage, resizeShorterSide } from '../src/data/resize.js';
import { evalTransform, topK } from '../src/predict/preprocess.js';

interface Img {
  width: number;
  height: number;
  data: number[];
}
const fx = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/predict/pil_resize.json', import.meta.url)), 'utf8')) as {
  source: Img;
  resizes: Img[];
  eval_source: Img;
  eval: { size: number; crop_pct: number; mean: number[]; std: number[]; output: number[] };
  eval_grey: { size: number; crop_pct: number; mean: number[]; std: number[]; output: number[] };
};
const rgb = (i: Img): ByteImage => ({ width: i.width, height: i.height, channels: 3, data: Uint8Array.from(i.data) });

describe('resizeByteImage equals PIL Image.resize(BICUBIC)', () => {
  for (const r of fx.resizes) {
    it(`23x17 -> ${r.width}x${r.height}: byte for byte`, () => {
      const got = resizeByteImage(rgb(fx.source), r.width, r.height);
      expect([got.width, got.height]).toEqual([r.width, r.height]);
      expect(Array.from(got.data)).toEqual(r.data);
    });
  }

  it('refuses a bad size or a buffer of the wrong length', () => {
    expect(() => resizeByteImage(rgb(fx.source), 0, 4)).toThrow(/positive integers, got 0x4/);
    expect(() => resizeByteImage({ width: 2, height: 2, channels: 3, data: new Uint8Array(5) }, 1, 1)).toThrow(/5 bytes, expected 2x2x3 = 12/);
    expect(() => centerCrop(rgb(fx.source), 20, 20)).toThrow(/20x20 does not fit in a 23x17 image/);
  });
});

describe("evalTransform equals timm's eval transform (torchvision)", () => {
  const close = (got: Float32Array, want: number[]) => {
    expect(got.length).toBe(want.length);
    // The same bytes as torchvision: only float32 arithmetic and the fixture's 6 decimals differ
    // (one 8-bit step would be 1/255/0.224 ≈ 0.0175).
    let max = 0;
    for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(got[i]! - want[i]!));
    expect(max).toBeLessThan(1e-5);
  };
  it('RGB, size 32, crop 0.875, ImageNet mean/std (50x37 -> shorter side 36 -> crop 32)', () => {
    const e = fx.eval;
    close(evalTransform(rgb(fx.eval_source), { size: e.size, cropPct: e.crop_pct, mean: e.mean, std: e.std }), e.output);
  });
  it('grey (PIL L before the resize), crop 1', () => {
    const e = fx.eval_grey;
    close(evalTransform(rgb(fx.eval_source), { size: e.size, cropPct: e.crop_pct, mean: e.mean, std: e.std, channels: 1 }), e.output);
  });
  it('is evalResizeCrop (the validation view of image folders), normalised', () => {
    const img = rgb(fx.eval_source);
    const bytes = evalResizeCrop(img, 20, 0.875);
    const x = evalTransform(img, { size: 20, cropPct: 0.875, mean: [0, 0, 0], std: [1, 1, 1] });
    for (let c = 0; c < 3; c++) for (let p = 0; p < 400; p++) expect(x[c * 400 + p]).toBe(Math.fround(bytes.data[p * 3 + c]! / 255));
  });
  it('maxSide first reduces the shorter side, as an image folder does before caching', () => {
    const img = rgb(fx.eval_source);
    const o = { size: 16, cropPct: 0.875, mean: [0, 0, 0], std: [1, 1, 1] };
    const bytes = evalResizeCrop(resizeShorterSide(img, 24), 16, 0.875);
    const x = evalTransform(img, { ...o, maxSide: 24 });
    for (let c = 0; c < 3; c++) for (let p = 0; p < 256; p++) expect(x[c * 256 + p]).toBe(Math.fround(bytes.data[p * 3 + c]! / 255));
    // A shorter side already within maxSide is left alone.
    expect(evalTransform(img, { ...o, maxSide: 37 })).toEqual(evalTransform(img, o));
    expect(evalTransform(img, { ...o, maxSide: 24 })).not.toEqual(evalTransform(img, o));
  });
  it('refuses bad options', () => {
    const img = rgb(fx.eval_source);
    expect(() => evalTransform(img, { size: 32, cropPct: 1.5, mean: [0, 0, 0], std: [1, 1, 1] })).toThrow(/cropPct must be in \(0, 1\], got 1.5/);
    expect(() => evalTransform(img, { size: 32, cropPct: 1, mean: [0, 0], std: [1, 1] })).toThrow(/channels must be 1 or 3, got 2/);
    expect(() => evalTransform(img, { size: 32, cropPct: 1, mean: [0, 0, 0], std: [1, 1, 1], maxSide: 0 })).toThrow(/maxSide must be a positive integer, got 0/);
    expect(() => evalTransform({ width: 2, height: 2, channels: 1, data: new Uint8Array(4) }, { size: 2, cropPct: 1, mean: [0], std: [1] })).toThrow(/expects an RGB image \(3 channels\), got 1/);
  });
});

describe('topK', () => {
  it('softmax probabilities, most probable first, ties by index', () => {
    const r = topK([1, 3, 3, 0], 3, ['a', 'b', 'c', 'd']);
    expect(r.map((p) => p.label)).toEqual(['b', 'c', 'a']);
    const z = Math.exp(1) + 2 * Math.exp(3) + 1;
    expect(r[0]!.probability).toBeCloseTo(Math.exp(3) / z, 12);
    expect(r[2]!.probability).toBeCloseTo(Math.exp(1) / z, 12);
    expect(() => topK([1, 2], 1, ['a'])).toThrow(/2 logits but 1 class names/);
  });
});

describe('decodeImageBytes (jpeg-js, pngjs)', () => {
  it('reads PNG (alpha dropped) and JPEG by signature, and names a file that is neither', () => {
    const png = new pngjs.PNG({ width: 2, height: 1 });
    png.data.set([10, 20, 30, 0, 40, 50, 60, 255]);
    expect(Array.from(decodeImageBytes(new Uint8Array(pngjs.PNG.sync.write(png))).data)).toEqual([10, 20, 30, 40, 50, 60]);
    const j = jpeg.encode({ width: 8, height: 8, data: new Uint8Array(8 * 8 * 4).fill(90) }, 95);
    const img = decodeImageBytes(new Uint8Array(j.data));
    expect([img.width, img.height]).toEqual([8, 8]);
    for (const v of img.data) expect(Math.abs(v - 90)).toBeLessThanOrEqual(2);
    expect(() => decodeImageBytes(new TextEncoder().encode('GIF89a'), 'x.gif')).toThrow(/x.gif: not a JPEG or PNG image \(it starts with bytes 47 49 46 38\); supported: \.jpg, \.jpeg, \.png/);
    expect(() => decodeImageBytes(new Uint8Array(0), 'empty.png')).toThrow(/empty.png: not a JPEG or PNG image \(it starts with bytes \(empty file\)\)/);
    expect(() => decodeImageBytes(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0, 1), 'bad.png')).toThrow(/bad.png: cannot decode the PNG image/);
  });
});
