/** RandAugment's ops and the antialiased resize against PIL 9 on fixed images (fixtures by scripts/gen_augment_fixtures.py). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ByteImage } from '../src/data/byte-image.js';
import { applyOp, type RandAugmentOpName } from '../src/data/randaugment.js';
import { evalResizeCrop } from '../src/data/crop.js';
import { resizeByteImage, type ResizeFilter } from '../src/data/resize.js';

interface Fixture {
  fill: number[];
  images: Record<string, { w: number; h: number; c: number; data: string }>;
  ops: { op: RandAugmentOpName; image: string; arg: number; out: string }[];
  evalcrop: { image: string; size: number; out: string }[];
  resize: { image: string; w: number; h: number; box: [number, number, number, number] | null; filter: ResizeFilter; out: string }[];
}
const fx = JSON.parse(readFileSync(join(__dirname, 'fixtures/augment/pil.json'), 'utf8')) as Fixture;
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));
const image = (k: string): ByteImage => {
  const i = fx.images[k]!;
  return { data: bytes(i.data), width: i.w, height: i.h, channels: i.c };
};
/** Largest absolute difference and how many bytes differ. */
function diff(a: Uint8Array, b: Uint8Array): { max: number; count: number } {
  expect(a.length).toBe(b.length);
  let max = 0;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d) count++;
    max = Math.max(max, d);
  }
  return { max, count };
}

describe('RandAugment ops match PIL', () => {
  for (const c of fx.ops) {
    it(`${c.op}(${c.arg}) on ${c.image}`, () => {
      const img = image(c.image);
      const fill = img.channels === 3 ? fx.fill : [fx.fill[0]!];
      const got = applyOp(img, c.op, c.arg, fill);
      expect([got.width, got.height, got.channels]).toEqual([img.width, img.height, img.channels]);
      // Byte-exact: the ops reproduce PIL's integer and float32 rounding, not just its maths.
      expect(diff(got.data, bytes(c.out))).toEqual({ max: 0, count: 0 });
    });
  }
});

describe('antialiased resize matches PIL Image.resize', () => {
  for (const r of fx.resize) {
    it(`${r.image} -> ${r.w}x${r.h} ${r.filter}${r.box ? ` box ${r.box.join(',')}` : ''}`, () => {
      const got = resizeByteImage(image(r.image), r.w, r.h, { filter: r.filter, ...(r.box ? { box: r.box } : {}) });
      expect(diff(got.data, bytes(r.out))).toEqual({ max: 0, count: 0 });
    });
  }
});

describe('the evaluation transform matches torchvision Resize(int(size / 0.875)) + CenterCrop(size)', () => {
  for (const r of fx.evalcrop) {
    it(`${r.image} -> ${r.size}`, () => {
      const got = evalResizeCrop(image(r.image), r.size);
      expect([got.width, got.height]).toEqual([r.size, r.size]);
      expect(diff(got.data, bytes(r.out))).toEqual({ max: 0, count: 0 });
    });
  }
});
