/**
 * The built-in dataset: colour images of ten shape classes drawn procedurally, so training
 * runs with no download. Example `i` is a pure function of `(seed, i)`, which makes epochs
 * and resumed runs exactly reproducible.
 */
import { Generator } from '@tsgrad/core';
import { checkIndex, type Example, type ImageDataset } from './dataset.js';

/** The classes, in label order. */
export const SHAPE_CLASSES = ['disc', 'square', 'triangle', 'cross', 'ring', 'diamond', 'hbar', 'vbar', 'x', 'dots'] as const;

type Inside = (dx: number, dy: number, r: number) => boolean;

const INSIDE: Record<(typeof SHAPE_CLASSES)[number], Inside> = {
  disc: (dx, dy, r) => dx * dx + dy * dy <= r * r,
  square: (dx, dy, r) => Math.abs(dx) <= r * 0.8 && Math.abs(dy) <= r * 0.8,
  triangle: (dx, dy, r) => dy <= r * 0.7 && dy >= -r * 0.9 + 1.8 * Math.abs(dx),
  cross: (dx, dy, r) => (Math.abs(dx) <= r * 0.28 && Math.abs(dy) <= r) || (Math.abs(dy) <= r * 0.28 && Math.abs(dx) <= r),
  ring: (dx, dy, r) => {
    const d = Math.hypot(dx, dy);
    return d <= r && d >= r * 0.55;
  },
  diamond: (dx, dy, r) => Math.abs(dx) + Math.abs(dy) <= r,
  hbar: (dx, dy, r) => Math.abs(dy) <= r * 0.3 && Math.abs(dx) <= r,
  vbar: (dx, dy, r) => Math.abs(dx) <= r * 0.3 && Math.abs(dy) <= r,
  x: (dx, dy, r) => (Math.abs(dx - dy) <= r * 0.35 || Math.abs(dx + dy) <= r * 0.35) && Math.abs(dx) <= r * 0.85 && Math.abs(dy) <= r * 0.85,
  dots: (dx, dy, r) => {
    const q = r * 0.5;
    return [[-q, -q], [q, -q], [-q, q], [q, q]].some(([cx, cy]) => (dx - cx!) ** 2 + (dy - cy!) ** 2 <= (r * 0.28) ** 2);
  },
};

/** Options of {@link ShapesDataset}. */
export interface ShapesOptions {
  /** Number of examples (default 10,000). */
  readonly length?: number;
  /** Image side in pixels (default 32). */
  readonly size?: number;
  /** Seed of the whole dataset; train and validation splits should use different seeds. */
  readonly seed?: number;
}

/** Ten classes of coloured shapes on noisy coloured backgrounds, `3 x size x size`. */
export class ShapesDataset implements ImageDataset {
  readonly name = 'shapes';
  readonly classes = SHAPE_CLASSES;
  readonly length: number;
  readonly shape: readonly [number, number, number];
  private readonly seed: number;
  private readonly size: number;

  constructor(opts: ShapesOptions = {}) {
    this.length = opts.length ?? 10_000;
    this.size = opts.size ?? 32;
    this.seed = opts.seed ?? 0;
    if (!Number.isInteger(this.length) || this.length <= 0) throw new RangeError(`shapes: length must be a positive integer, got ${this.length}`);
    if (!Number.isInteger(this.size) || this.size < 8) throw new RangeError(`shapes: size must be an integer of at least 8, got ${this.size}`);
    this.shape = [3, this.size, this.size];
  }

  get(i: number): Example {
    checkIndex(this, i);
    // One stream per example: (seed, i) -> the same image on every call.
    const g = new Generator(this.seed * 1_000_003 + i + 1);
    const u = g.uniform(12);
    const n = this.size;
    const label = Math.floor(u[0]! * SHAPE_CLASSES.length);
    const inside = INSIDE[SHAPE_CLASSES[label]!];
    const r = n * (0.22 + 0.16 * u[1]!);
    const cx = r + u[2]! * (n - 2 * r);
    const cy = r + u[3]! * (n - 2 * r);
    // Foreground and background colours kept apart in brightness so every class is learnable.
    const bright = u[4]! < 0.5;
    const fg = [u[5]!, u[6]!, u[7]!].map((c) => (bright ? 0.55 + 0.45 * c : 0.45 * c));
    const bg = [u[8]!, u[9]!, u[10]!].map((c) => (bright ? 0.4 * c : 0.6 + 0.4 * c));
    const noise = g.normal(3 * n * n);
    const image = new Float32Array(3 * n * n);
    for (let y = 0; y < n; y++) {
      for (let x = 0; x < n; x++) {
        const on = inside(x + 0.5 - cx, y + 0.5 - cy, r);
        for (let c = 0; c < 3; c++) {
          const at = (c * n + y) * n + x;
          image[at] = Math.min(1, Math.max(0, (on ? fg[c]! : bg[c]!) + 0.06 * noise[at]!));
        }
      }
    }
    return { image, label };
  }
}
