/** Shared helpers of the nn tests: fixture tensors and scale-relative comparison. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { fromTypedArray, type Tensor } from '@tsgrad/core';

/** A fixture tensor: shape and flat float32 values (as doubles). */
export interface FT {
  readonly shape: number[];
  readonly data: number[];
}

/** Loads `fixtures/torch/<file>`. */
export function loadFixture<T>(file: string): T {
  return JSON.parse(readFileSync(fileURLToPath(new URL(`./fixtures/torch/${file}`, import.meta.url)), 'utf8')) as T;
}

/** A fixture tensor as a float32 tensor on the js backend. */
export function toT(t: FT): Tensor {
  return fromTypedArray(Float32Array.from(t.data), t.shape, 'float32');
}

/**
 * Null when `max|actual - expected| <= tol * max(1e-30, max|expected|)` and the shapes agree,
 * otherwise a message naming `label`, the worst element and both values.
 */
export function mismatch(actual: Tensor, expected: FT, tol: number, label: string): string | null {
  if (actual.shape.length !== expected.shape.length || actual.shape.some((d, i) => d !== expected.shape[i])) {
    return `${label}: shape [${actual.shape.join(', ')}], expected [${expected.shape.join(', ')}]`;
  }
  const got = actual.dataSync();
  let scale = 1e-30;
  for (const v of expected.data) scale = Math.max(scale, Math.abs(v));
  let worst = -1;
  let err = 0;
  for (let i = 0; i < got.length; i++) {
    const e = Math.abs(got[i]! - expected.data[i]!);
    if (!(e <= err)) {
      err = Number.isNaN(e) ? Infinity : e;
      worst = i;
    }
  }
  if (err <= tol * scale) return null;
  return `${label}: max|ours - torch| = ${err} > ${tol} * ${scale} at flat ${worst} (ours ${got[worst]}, torch ${expected.data[worst]})`;
}
