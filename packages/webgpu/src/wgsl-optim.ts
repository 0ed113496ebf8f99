/**
 * WGSL of the optimizer's fused kernels: one Adam/AdamW step (one thread per element,
 * writing the new parameter at binding 1 and the new moments into read-write bindings after
 * the inputs), the per-tensor norm (one workgroup, tree reduction) and the norm of norms,
 * and the clip scaling (the coefficient computed in the shader from the 0-d total). The
 * float32 constants arrive in the parameter block, never as uploads. WGSL's division and
 * square root are not correctly rounded, so results are close to, not bit-identical with,
 * the js reference.
 */
import { GROUP_INDEX, HEADER, MAIN_1D, THREAD_INDEX, WG } from './wgsl.js';

/** Which Adam variant a pipeline computes (each a pipeline of its own). */
export interface AdamVariant {
  /** Adam's L2 term `g + wd p`. */
  readonly l2: boolean;
  /** AMSGrad's running maximum (one more input and output). */
  readonly amsgrad: boolean;
  /** Negate the gradient first. */
  readonly maximize: boolean;
}

/** `max` that propagates NaN, as torch.maximum. */
const MAXN = 'fn maxn(a: f32, b: f32) -> f32 { return select(max(a, b), nan_(), isnan_(a) || isnan_(b)); }';

/**
 * Params: [0] n, then f32 [1] decay, [2] l2, [3] b1, [4] 1-b1, [5] b2, [6] 1-b2,
 * [7] sqrt(1-b2^t), [8] eps, [9] lr/(1-b1^t). Bindings: 1 new p; 2 p, 3 g, 4 m, 5 v,
 * (6 vmax); then read-write: new m, new v, (new vmax).
 */
export function adamKernel(o: AdamVariant): string {
  const a = o.amsgrad;
  return `${HEADER}
${MAXN}
@group(0) @binding(1) var<storage, read_write> outP: array<f32>;
@group(0) @binding(2) var<storage, read> p: array<f32>;
@group(0) @binding(3) var<storage, read> g: array<f32>;
@group(0) @binding(4) var<storage, read> m: array<f32>;
@group(0) @binding(5) var<storage, read> v: array<f32>;
${a ? '@group(0) @binding(6) var<storage, read> vm: array<f32>;' : ''}
@group(0) @binding(${a ? 7 : 6}) var<storage, read_write> outM: array<f32>;
@group(0) @binding(${a ? 8 : 7}) var<storage, read_write> outV: array<f32>;
${a ? '@group(0) @binding(9) var<storage, read_write> outVm: array<f32>;' : ''}
${MAIN_1D} {
  ${THREAD_INDEX}
  if (i >= pu(0u)) { return; }
  let pv = p[i];
  var gv = ${o.maximize ? '-g[i]' : 'g[i]'};
  ${o.l2 ? 'gv = gv + pv * pf(2u);' : ''}
  let m1 = m[i] * pf(3u) + gv * pf(4u);
  let v1 = v[i] * pf(5u) + (gv * pf(6u)) * gv;
  outM[i] = m1;
  outV[i] = v1;
  ${a ? 'let s = maxn(vm[i], v1);\n  outVm[i] = s;' : 'let s = v1;'}
  outP[i] = pv * pf(1u) - (m1 / (sqrt(s) / pf(7u) + pf(8u))) * pf(9u);
}`;
}

/** Norm kinds: 1, 2 or the largest absolute value. */
export type NormKind = 1 | 2 | 'inf';

function combine(kind: NormKind, a: string, b: string): string {
  return kind === 'inf' ? `maxn(${a}, ${b})` : `${a} + ${b}`;
}

/**
 * One workgroup reduces `in0[0..n)` to its norm and writes it to `out[slot]` (`finish`:
 * `out[0]`, the norm of the norms in `in0`). Params: [0] n, [1] slot.
 */
export function normKernel(kind: NormKind): string {
  const term = kind === 2 ? 'x * x' : 'abs(x)';
  return `${HEADER}
${MAXN}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> in0: array<f32>;
var<workgroup> sh: array<f32, ${WG}>;
${MAIN_1D} {
  ${GROUP_INDEX}
  let n = pu(0u);
  var acc: f32 = 0.0;
  for (var k = lid; k < n; k += ${WG}u) { let x = in0[k]; acc = ${combine(kind, 'acc', term)}; }
  sh[lid] = acc;
  workgroupBarrier();
  for (var s = ${WG / 2}u; s > 0u; s >>= 1u) {
    if (lid < s) { sh[lid] = ${combine(kind, 'sh[lid]', 'sh[lid + s]')}; }
    workgroupBarrier();
  }
  if (lid == 0u && gi == 0u) { out[pu(1u)] = ${kind === 2 ? 'sqrt(sh[0])' : 'sh[0]'}; }
}`;
}

/** `out[i] = in0[i] * min(1, maxNorm / (total + 1e-6))`, total = `in1[0]`. Params: [0] n, f32 [1] maxNorm, [2] 1e-6. */
export function clipScaleKernel(): string {
  return `${HEADER}
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read> in0: array<f32>;
@group(0) @binding(3) var<storage, read> in1: array<f32>;
${MAIN_1D} {
  ${THREAD_INDEX}
  if (i >= pu(0u)) { return; }
  let c0 = pf(1u) / (in1[0] + pf(2u));
  let c = select(min(c0, 1.0), nan_(), isnan_(c0));
  out[i] = in0[i] * c;
}`;
}
