/**
 * Finite-difference gradient checks in float64 on the js backend, and fast-check
 * arbitraries for shapes, values and (non-contiguous) views.
 */
import fc from 'fast-check';
import { Generator, Tensor, fromTypedArray, mul, noGrad, sum, tidy, vjp } from '@tsgrad/core';

/** Central-difference step; with float64 the truncation and rounding errors stay near 1e-9. */
const EPS = 1e-6;
/** Allowed |analytic - numeric| relative to max(1, |numeric|). */
const TOL = 1e-5;

/** Values from a seed: standard normal, optionally mapped (e.g. to a positive domain). */
export function values(n: number, seed: number, map: (v: number) => number = (v) => v): Float64Array {
  const g = new Generator(seed);
  return g.normal(n).map(map);
}

/** A float64 leaf tensor of `shape` from `seed`. */
export function leaf(shape: readonly number[], seed: number, map?: (v: number) => number): Tensor {
  return fromTypedArray(values(shape.reduce((a, b) => a * b, 1), seed, map), shape, 'float64');
}

/** Positive values away from 0, for log, sqrt, reciprocal, pow bases. */
export const positive = (v: number): number => Math.abs(v) + 0.5;
/** Values pushed away from 0 (kinks of abs, relu, sign). */
export const awayFromZero = (v: number): number => v + (v >= 0 ? 0.05 : -0.05);

/**
 * Checks the autodiff gradients of `f` at `inputs` against central differences of
 * `sum(f(...) * r)` for a random cotangent `r`. Throws with the worst entry on mismatch.
 */
export function checkGrad(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], seed = 1): void {
  tidy(() => {
    const [y, back] = vjp(f, ...inputs);
    const r = leaf(y.shape, seed + 7919);
    const analytic = back(r).map((g) => g.dataSync());
    const objective = (xs: Tensor[]): number => noGrad(() => tidy(() => sum(mul(f(...xs), r)).item()));
    inputs.forEach((x, i) => {
      const base = x.dataSync() as Float64Array;
      const numeric = new Float64Array(base.length);
      for (let j = 0; j < base.length; j++) {
        const at = (delta: number) => {
          const d = base.slice();
          d[j]! += delta;
          const xs = inputs.map((t, k) => (k === i ? fromTypedArray(d, x.shape, 'float64') : t));
          return objective(xs);
        };
        numeric[j] = (at(EPS) - at(-EPS)) / (2 * EPS);
      }
      const a = analytic[i]!;
      if (a.length !== numeric.length) throw new Error(`input ${i}: gradient has ${a.length} entries, expected ${numeric.length}`);
      let worst = -1;
      let worstErr = 0;
      for (let j = 0; j < numeric.length; j++) {
        const err = Math.abs(a[j]! - numeric[j]!) / Math.max(1, Math.abs(numeric[j]!));
        if (!(err <= worstErr)) {
          worstErr = err;
          worst = j;
        }
      }
      if (!(worstErr <= TOL)) {
        throw new Error(
          `gradient mismatch for input ${i} (shape [${x.shape.join(', ')}]) at flat index ${worst}: autodiff ${a[worst]} vs finite differences ${numeric[worst]} (relative error ${worstErr.toExponential(2)} > ${TOL})`,
        );
      }
    });
  });
}

/** A shape of `minDims..maxDims` dims, each `1..maxLen`. */
export const shapeArb = (minDims = 0, maxDims = 3, maxLen = 4): fc.Arbitrary<number[]> =>
  fc.array(fc.integer({ min: 1, max: maxLen }), { minLength: minDims, maxLength: maxDims });

/** How an op's input is presented: plain, or one of the non-contiguous views. */
export type Layout = 'contiguous' | 'transposed' | 'flipped' | 'strided';
/** Any layout. */
export const layoutArb: fc.Arbitrary<Layout> = fc.constantFrom('contiguous', 'transposed', 'flipped', 'strided');

/**
 * A leaf whose *view* has shape `shape` and the given layout: returns the leaf (what
 * gradients are taken for) and the function that makes the view from it.
 */
export function laidOut(shape: readonly number[], layout: Layout, seed: number, map?: (v: number) => number): { base: Tensor; view: (t: Tensor) => Tensor } {
  const nd = shape.length;
  if (nd === 0 || layout === 'contiguous') return { base: leaf(shape, seed, map), view: (t) => t };
  if (layout === 'transposed') {
    const rev = [...shape].reverse();
    const perm = rev.map((_, i) => nd - 1 - i);
    return { base: leaf(rev, seed, map), view: (t) => t.permute(perm) };
  }
  if (layout === 'flipped') return { base: leaf(shape, seed, map), view: (t) => t.flip(shape.map((_, i) => i)) };
  const wide = [...shape];
  wide[nd - 1] = shape[nd - 1]! * 2;
  return { base: leaf(wide, seed, map), view: (t) => t.slice(-1, 1, undefined, 2) };
}

/** A shape that broadcasts against `shape`: a suffix of it with some dims set to 1. */
export function broadcastPartner(shape: readonly number[], drop: number, ones: readonly boolean[]): number[] {
  return shape.slice(Math.min(drop, shape.length)).map((d, i) => (ones[i] ? 1 : d));
}

/** fast-check settings shared by the gradient properties: few, small cases (finite differences are slow). */
export const PROPERTY_RUNS = { numRuns: 50 };
