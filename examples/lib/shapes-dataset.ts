/**
 * A built-in dataset that needs no download: small grayscale images of four shapes
 * (disc, square, cross, ring) at random positions and sizes, with pixel noise.
 */
import { Generator, Tensor, fromTypedArray } from '@tsgrad/core';

/** The classes, in label order. */
export const SHAPE_CLASSES = ['disc', 'square', 'cross', 'ring'] as const;

/** One batch: images `[N, 1, size, size]` (float32) and int32 labels `[N]`. */
export interface Batch {
  readonly images: Tensor;
  readonly labels: Tensor;
}

/** Draws `n` labelled images of side `size` from `g`. */
export function shapesBatch(n: number, size: number, g: Generator): Batch {
  const pix = new Float32Array(n * size * size);
  const labels = new Int32Array(n);
  const u = () => g.uniform(1)[0]!;
  for (let i = 0; i < n; i++) {
    const label = Math.floor(u() * SHAPE_CLASSES.length);
    labels[i] = label;
    const r = size * (0.2 + 0.15 * u());
    const cx = r + u() * (size - 2 * r);
    const cy = r + u() * (size - 2 * r);
    const noise = g.normal(size * size);
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const dx = x + 0.5 - cx;
        const dy = y + 0.5 - cy;
        const d = Math.hypot(dx, dy);
        let on = false;
        if (label === 0) on = d <= r;
        else if (label === 1) on = Math.abs(dx) <= r * 0.8 && Math.abs(dy) <= r * 0.8;
        else if (label === 2) on = (Math.abs(dx) <= r * 0.25 && Math.abs(dy) <= r) || (Math.abs(dy) <= r * 0.25 && Math.abs(dx) <= r);
        else on = d <= r && d >= r * 0.55;
        pix[(i * size + y) * size + x] = (on ? 1 : 0) + 0.2 * noise[y * size + x]!;
      }
    }
  }
  return { images: fromTypedArray(pix, [n, 1, size, size], 'float32'), labels: fromTypedArray(labels, [n], 'int32') };
}
