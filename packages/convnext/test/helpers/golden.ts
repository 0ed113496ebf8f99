/**
 * Reading the ConvNeXt golden fixtures (`fixtures/golden/*.json`, see its README) and
 * regenerating their deterministic weights and inputs: the TypeScript twin of
 * `det_uniform` / `det_param` / `det_input` in `scripts/gen_convnext_fixtures.py`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromTypedArray, getBackend, initBackend, listBackends, type Backend, type Tensor } from '@tsgrad/core';

/** A tensor stored in full: shape and little-endian float32 bytes in base64. */
export interface FullTensor {
  readonly shape: number[];
  readonly f32_base64: string;
}

/** A large tensor stored as statistics (in float64 over its float32 values) and samples. */
export interface SummaryTensor {
  readonly shape: number[];
  readonly sum: number;
  readonly sum_abs: number;
  readonly sum_sq: number;
  readonly max_abs: number;
  /** Values at {@link samplePositions}(numel, samples_per_tensor). */
  readonly samples_f32_base64: string;
}

/** One fixture file. */
export interface GoldenCase {
  readonly name: string;
  readonly torch_version: string;
  readonly config: { depths: number[]; dims: number[]; num_classes: number; stem_stride: number; kernel_size: number };
  readonly batch: number;
  readonly size: number;
  readonly labels: number[];
  readonly label_smoothing: number;
  readonly adamw: { lr: number; betas: [number, number]; eps: number; weight_decay: number };
  readonly param_seed0: number;
  readonly input_seed: number;
  readonly mode: 'full' | 'summary';
  readonly samples_per_tensor?: number;
  readonly param_count: number;
  readonly param_names: string[];
  /** Per parameter: [sum, sum of squares] of the generated initial values. */
  readonly init_stats: Record<string, [number, number]>;
  readonly logits: FullTensor;
  readonly loss: number;
  readonly grads: Record<string, FullTensor | SummaryTensor>;
  readonly after_step: Record<string, FullTensor | SummaryTensor>;
}

const DIR = new URL('../fixtures/golden/', import.meta.url);

/** Loads `fixtures/golden/<name>.json`. */
export function loadGolden(name: string): GoldenCase {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`${name}.json`, DIR)), 'utf8')) as GoldenCase;
}

/** Decodes base64 little-endian float32 data. */
export function decodeF32(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  const out = new Float32Array(buf.length / 4);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** `n` values in [-1, 1), each `k / 2^23 - 1` for a 24-bit hash `k` of `(i, seed)` (lowbias32). */
export function detUniform(n: number, seed: number): Float64Array {
  const base = Math.imul(seed, 0x9e3779b9) >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let x = (i + base) >>> 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x7feb352d) >>> 0;
    x ^= x >>> 15;
    x = Math.imul(x, 0x846ca68b) >>> 0;
    x ^= x >>> 16;
    out[i] = (x >>> 8) / 8388608 - 1;
  }
  return out;
}

function weightScale(shape: readonly number[]): number {
  const fanIn = shape.length > 2 ? shape[1]! * shape.slice(2).reduce((a, b) => a * b, 1) : shape[1]!;
  // The largest power of two <= sqrt(3 / fanIn), in integer arithmetic as the script.
  let e = 0;
  while (fanIn > 3 * 4 ** e) e++;
  return 2 ** -e;
}

/** The fixture's value of parameter `name`: scaled uniform weights, LN weights and gamma around 1, small biases. */
export function detParam(name: string, shape: readonly number[], seed: number): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = detUniform(n, seed);
  const out = new Float32Array(n);
  if (shape.length >= 2) {
    const s = weightScale(shape);
    for (let i = 0; i < n; i++) out[i] = v[i]! * s;
  } else if (name.endsWith('gamma') || name.endsWith('weight')) {
    for (let i = 0; i < n; i++) out[i] = 1 + 0.5 * v[i]!;
  } else {
    for (let i = 0; i < n; i++) out[i] = 0.25 * v[i]!;
  }
  return out;
}

/** The fixture's input batch: `2 * detUniform` with the input seed. */
export function detInput(shape: readonly number[], seed: number, backend: Backend): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const v = detUniform(n, seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 2 * v[i]!;
  return fromTypedArray(out, shape, 'float32', backend);
}

/** Evenly spread sample positions: `floor((2j+1) n / 2k)` for `j < k` (all when `n <= k`). */
export function samplePositions(n: number, k: number): number[] {
  if (n <= k) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: k }, (_, j) => Math.floor(((2 * j + 1) * n) / (2 * k)));
}

/** Worst `|a - b|` over two arrays, with its index. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): { err: number; at: number } {
  let err = 0;
  let at = -1;
  for (let i = 0; i < a.length; i++) {
    const e = Math.abs(a[i]! - b[i]!);
    if (!(e <= err)) {
      err = Number.isNaN(e) ? Infinity : e;
      at = i;
    }
  }
  return { err, at };
}

/** Largest `|v|`. */
export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

/**
 * The backends to run golden tests on: `js`, plus every other backend that the optional
 * packages `@tsgrad/wasm` and `@tsgrad/webgpu` register and that initialises here.
 * Returns the names and, for the record, why any registered one could not start.
 */
export async function goldenBackends(): Promise<{ names: string[]; unavailable: string[] }> {
  for (const pkg of ['@tsgrad/wasm', '@tsgrad/webgpu']) {
    try {
      await import(/* @vite-ignore */ pkg);
    } catch {
      // The package is absent (or not built yet): test on the others.
    }
  }
  const names: string[] = [];
  const unavailable: string[] = [];
  getBackend();
  for (const name of listBackends()) {
    try {
      await initBackend(name);
      names.push(name);
    } catch (e) {
      unavailable.push(`${name}: ${(e as Error).message}`);
    }
  }
  return { names, unavailable };
}
