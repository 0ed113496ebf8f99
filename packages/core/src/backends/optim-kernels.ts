/**
 * The optimizer's fused kernels over dense float32 arrays, in plain TypeScript: the `js`
 * backend's implementation and the reference for the wasm and webgpu ones. Every step is
 * rounded to float32 (`Math.fround`), in the order {@link AdamHyper} states, so the result
 * is bit-identical to core's composed ops on a backend whose add/mul/div/sqrt round once.
 */
import type { AdamHyper } from '../backend.js';

const fr = Math.fround;

/** The float32 constants of one Adam step (rounded once, as the composed ops' scalars are). */
export interface AdamConstants {
  /** `1 - lr wd` (decoupled decay; 1 when off). */
  readonly decay: number;
  /** `wd` for Adam's L2 term (0 when off). */
  readonly l2: number;
  /** `beta1`. */
  readonly b1: number;
  /** `1 - beta1`. */
  readonly omb1: number;
  /** `beta2`. */
  readonly b2: number;
  /** `1 - beta2`. */
  readonly omb2: number;
  /** `sqrt(1 - beta2^t)`. */
  readonly sbc2: number;
  /** `eps`. */
  readonly eps: number;
  /** `lr / (1 - beta1^t)`. */
  readonly stepSize: number;
}

/** The float32 constants of a step: what every backend passes to its kernel. */
export function adamConstants(h: AdamHyper): AdamConstants {
  return {
    decay: fr(h.decoupled && h.weightDecay !== 0 ? 1 - h.lr * h.weightDecay : 1),
    l2: fr(!h.decoupled ? h.weightDecay : 0),
    b1: fr(h.beta1),
    omb1: fr(1 - h.beta1),
    b2: fr(h.beta2),
    omb2: fr(1 - h.beta2),
    sbc2: fr(Math.sqrt(1 - h.beta2 ** h.step)),
    eps: fr(h.eps),
    stepSize: fr(h.lr / (1 - h.beta1 ** h.step)),
  };
}

/** One Adam/AdamW step into fresh outputs (`vmax`/`vmaxOut` exactly when amsgrad). */
export function adamStepF32(
  p: Float32Array, g: Float32Array, m: Float32Array, v: Float32Array, vmax: Float32Array | null,
  pOut: Float32Array, mOut: Float32Array, vOut: Float32Array, vmaxOut: Float32Array | null, h: AdamHyper,
): void {
  const c = adamConstants(h);
  const n = p.length;
  const neg = h.maximize;
  const l2 = c.l2 !== 0;
  for (let i = 0; i < n; i++) {
    const pi = p[i]!;
    const p1 = fr(pi * c.decay);
    let gi = neg ? -g[i]! : g[i]!;
    if (l2) gi = fr(gi + fr(pi * c.l2));
    const m1 = fr(fr(m[i]! * c.b1) + fr(gi * c.omb1));
    const v1 = fr(fr(v[i]! * c.b2) + fr(fr(gi * c.omb2) * gi));
    let s = v1;
    if (vmax) {
      const a = vmax[i]!;
      // torch.maximum: NaN if either is NaN.
      s = a !== a || v1 !== v1 ? NaN : a > v1 ? a : v1;
      vmaxOut![i] = s;
    }
    const denom = fr(fr(fr(Math.sqrt(s)) / c.sbc2) + c.eps);
    pOut[i] = fr(p1 - fr(fr(m1 / denom) * c.stepSize));
    mOut[i] = m1;
    vOut[i] = v1;
  }
}

/** The `normType`-norm (1, 2 or Infinity) of one array, accumulated in float64. */
export function normOf(x: Float32Array, normType: number): number {
  let s = 0;
  if (normType === Infinity) {
    for (let i = 0; i < x.length; i++) {
      const a = Math.abs(x[i]!);
      if (!(a <= s)) s = a; // NaN propagates
    }
    return s;
  }
  if (normType === 1) {
    for (let i = 0; i < x.length; i++) s += Math.abs(x[i]!);
    return s;
  }
  for (let i = 0; i < x.length; i++) s += x[i]! * x[i]!;
  return Math.sqrt(s);
}

/** The norm of per-tensor norms (each rounded to float32 first), rounded to float32. */
export function normOfNorms(norms: readonly number[], normType: number): number {
  return fr(normOf(Float32Array.from(norms), normType));
}

/** The clipping coefficient `min(1, maxNorm / (total + 1e-6))` in float32 (NaN stays NaN). */
export function clipCoef(total: number, maxNorm: number): number {
  const c = fr(fr(maxNorm) / fr(total + fr(1e-6)));
  return c !== c ? NaN : Math.min(c, 1);
}
