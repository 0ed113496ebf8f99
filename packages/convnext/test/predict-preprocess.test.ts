/**
 * Predict's preprocessing against PIL/torchvision (fixture from scripts/gen_predict_fixtures.py):
 * the antialiased bicubic resize, timm's ConvNeXt eval transform (RGB and grey), top-k, and
 * the JPEG/PNG decoders.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeImage } from '../src/predict/decode-node.js';
import { centerCrop, evalTransform, resizeBicubic, topK, type RgbImage } from '../src/predict/preprocess.js';

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
const rgb = (i: Img): RgbImage => ({ width: i.width, height: i.height, data: Uint8Array.from(i.data) });

describe('resizeBicubic equals PIL Image.resize(BICUBIC)', () => {
  for (const r of fx.resizes) {
    it(`23x17 -> ${r.width}x${r.height}: every byte within 1 of PIL's, most equal`, () => {
      const got = resizeBicubic(rgb(fx.source), r.width, r.height);
      expect([got.width, got.height]).toEqual([r.width, r.height]);
      let same = 0;
      for (let i = 0; i < r.data.length; i++) {
        expect(Math.abs(got.data[i]! - r.data[i]!), `byte ${i}`).toBeLessThanOrEqual(1);
        if (got.data[i] === r.data[i]) same++;
      }
      expect(same / r.data.length).toBeGreaterThan(0.9);
    });
  }

  it('refuses a bad size or a buffer of the wrong length', () => {
    expect(() => resizeBicubic(rgb(fx.source), 0, 4)).toThrow(/positive integers, got 0x4/);
    expect(() => resizeBicubic({ width: 2, height: 2, data: new Uint8Array(5) }, 1, 1)).toThrow(/5 bytes for a 2x2 RGB image \(need 12\)/);
    expect(() => centerCrop(rgb(fx.source), 20)).toThrow(/a 23x17 image is smaller than the 20x20 crop/);
  });
});

describe("evalTransform equals timm's eval transform (torchvision)", () => {
  const close = (got: Float32Array, want: number[]) => {
    expect(got.length).toBe(want.length);
    // One 8-bit step, normalised: 1/255/0.224 ≈ 0.0175.
    let max = 0;
    for (let i = 0; i < want.length; i++) max = Math.max(max, Math.abs(got[i]! - want[i]!));
    expect(max).toBeLessThan(0.02);
  };
  it('RGB, size 32, crop 0.875, ImageNet mean/std (50x37 -> shorter side 36 -> crop 32)', () => {
    const e = fx.eval;
    close(evalTransform(rgb(fx.eval_source), { size: e.size, cropPct: e.crop_pct, mean: e.mean, std: e.std }), e.output);
  });
  it('grey (PIL L before the resize), crop 1', () => {
    const e = fx.eval_grey;
    close(evalTransform(rgb(fx.eval_source), { size: e.size, cropPct: e.crop_pct, mean: e.mean, std: e.std, channels: 1 }), e.output);
  });
  it('refuses bad options', () => {
    const img = rgb(fx.eval_source);
    expect(() => evalTransform(img, { size: 32, cropPct: 1.5, mean: [0, 0, 0], std: [1, 1, 1] })).toThrow(/cropPct must be in \(0, 1\], got 1.5/);
    expect(() => evalTransform(img, { size: 32, cropPct: 1, mean: [0, 0], std: [1, 1] })).toThrow(/channels must be 1 or 3, got 2/);
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

describe('decodeImage (jpeg-js, pngjs)', () => {
  it('reads PNG (alpha dropped) and JPEG by signature, and names a file that is neither', () => {
    const png = new pngjs.PNG({ width: 2, height: 1 });
    png.data.set([10, 20, 30, 0, 40, 50, 60, 255]);
    expect(Array.from(decodeImage(new Uint8Array(pngjs.PNG.sync.write(png))).data)).toEqual([10, 20, 30, 40, 50, 60]);
    const j = jpeg.encode({ width: 8, height: 8, data: new Uint8Array(8 * 8 * 4).fill(90) }, 95);
    const img = decodeImage(new Uint8Array(j.data));
    expect([img.width, img.height]).toEqual([8, 8]);
    for (const v of img.data) expect(Math.abs(v - 90)).toBeLessThanOrEqual(2);
    expect(() => decodeImage(new TextEncoder().encode('GIF89a'), 'x.gif')).toThrow(/x.gif: not a JPEG or PNG image \(it starts with bytes 47 49 46 38\)/);
    expect(() => decodeImage(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0, 1), 'bad.png')).toThrow(/bad.png: cannot decode the PNG image/);
  });
});
