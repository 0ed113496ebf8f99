/**
 * Known answers from PyTorch float64 (test/fixtures/normloss.json, written by
 * scripts/gen_normloss_fixtures.py) for the norms, losses, embedding and attention: values,
 * running statistics updated in place, and input gradients for a random cotangent.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as T from '@tsgrad/core';
import type { Tensor } from '@tsgrad/core';

interface FxTensor {
  readonly shape: number[];
  readonly dtype: 'float64' | 'int32' | 'bool';
  readonly data: (number | 'nan' | 'inf' | '-inf')[];
}
interface FxCase {
  readonly name: string;
  readonly params: Record<string, unknown>;
  readonly inputs: Record<string, FxTensor>;
  readonly outputs: Record<string, FxTensor>;
  readonly cotangent: FxTensor;
  readonly grads: Record<string, FxTensor>;
}

const file = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/normloss.json', import.meta.url)), 'utf8')) as { cases: FxCase[] };

const num = (v: number | 'nan' | 'inf' | '-inf'): number => (v === 'nan' ? NaN : v === 'inf' ? Infinity : v === '-inf' ? -Infinity : v);
function toTensor(t: FxTensor): Tensor {
  const data = t.data.map(num);
  if (t.dtype === 'bool') return T.cast(T.fromTypedArray(Int32Array.from(data), t.shape, 'int32'), 'bool');
  return T.fromTypedArray(t.dtype === 'int32' ? Int32Array.from(data) : Float64Array.from(data), t.shape, t.dtype);
}

type In = Record<string, Tensor>;
type P = Record<string, unknown>;
const red = (p: P) => ({ reduction: (p.reduction as 'mean' | 'sum' | 'none' | undefined) ?? 'mean' });
const pNorm = (p: P) => (p.p === 'inf' ? Infinity : (p.p as number));

/** The tsgrad call for each fixture, by the case name's first word(s). */
const OPS: [string, (i: In, p: P) => Tensor][] = [
  ['crossEntropy', (i, p) => T.crossEntropy(i.x!, i.t!, { ...red(p), weight: i.w ?? null, ignoreIndex: p.ignoreIndex as number | undefined, labelSmoothing: p.labelSmoothing as number | undefined })],
  ['nllLoss', (i, p) => T.nllLoss(i.x!, i.t!, { ...red(p), weight: i.w ?? null, ignoreIndex: p.ignoreIndex as number | undefined })],
  ['binaryCrossEntropyWithLogits', (i, p) => T.binaryCrossEntropyWithLogits(i.x!, i.t!, { ...red(p), weight: i.w ?? null, posWeight: i.pw ?? null })],
  ['binaryCrossEntropy', (i, p) => T.binaryCrossEntropy(i.x!, i.t!, { ...red(p), weight: i.w ?? null })],
  ['l1Loss', (i, p) => T.l1Loss(i.a!, i.b!, red(p))],
  ['mseLoss', (i, p) => T.mseLoss(i.a!, i.b!, red(p))],
  ['smoothL1Loss', (i, p) => T.smoothL1Loss(i.a!, i.b!, { ...red(p), beta: p.beta as number })],
  ['huberLoss', (i, p) => T.huberLoss(i.a!, i.b!, { ...red(p), delta: p.delta as number })],
  ['klDiv', (i, p) => T.klDiv(i.x!, i.t!, { reduction: (p.reduction as 'batchmean' | undefined) ?? 'mean', logTarget: p.logTarget === true })],
  ['cosineEmbeddingLoss', (i, p) => T.cosineEmbeddingLoss(i.a!, i.b!, i.y!, { ...red(p), margin: p.margin as number | undefined })],
  ['normalize', (i, p) => T.normalize(i.x!, { p: pNorm(p), dim: p.dim as number })],
  ['cosineSimilarity', (i) => T.cosineSimilarity(i.a!, i.b!, { dim: 1 })],
  ['pairwiseDistance', (i, p) => T.pairwiseDistance(i.a!, i.b!, { p: (p.p as number | undefined) ?? 2, keepdim: p.keepdim === true })],
  ['batchNorm', (i, p) => T.batchNorm(i.x!, i.rm ?? null, i.rv ?? null, i.w ?? null, i.b ?? null, { training: p.training as boolean, momentum: p.momentum as number | undefined, eps: p.eps as number | undefined })],
  ['groupNorm', (i, p) => T.groupNorm(i.x!, p.numGroups as number, i.w!, i.b!, p.eps as number)],
  ['instanceNorm', (i, p) => T.instanceNorm(i.x!, i.rm ?? null, i.rv ?? null, i.w ?? null, i.b ?? null, { useInputStats: p.useInputStats as boolean, momentum: p.momentum as number | undefined })],
  ['embedding', (i, p) => T.embedding(i.i!, i.w!, { paddingIdx: p.paddingIdx as number | undefined, maxNorm: p.maxNorm as number | undefined })],
  ['sdpa', (i, p) => T.scaledDotProductAttention(i.q!, i.k!, i.v!, { attnMask: i.m ?? null, isCausal: p.isCausal === true, scale: p.scale as number | undefined })],
];

function expectClose(got: Tensor, want: FxTensor, what: string, tol = 1e-9): void {
  expect(got.shape, `${what}: shape`).toEqual(want.shape);
  const g = Array.from(got.dataSync() as Float64Array);
  want.data.map(num).forEach((w, j) => {
    const v = g[j]!;
    if (Number.isNaN(w) || !Number.isFinite(w)) expect(v, `${what}[${j}]`).toBe(w);
    else if (Math.abs(v - w) > tol * Math.max(1, Math.abs(w))) throw new Error(`${what}[${j}]: tsgrad ${v}, PyTorch ${w}`);
  });
}

describe('norms, losses, embedding, attention: PyTorch float64 known answers', () => {
  for (const c of file.cases) {
    it(c.name, () => {
      T.tidy(() => {
        const entry = OPS.find(([prefix]) => c.name === prefix || c.name.startsWith(`${prefix} `));
        if (!entry) throw new Error(`no op for fixture '${c.name}'`);
        const inputs: In = Object.fromEntries(Object.entries(c.inputs).map(([k, v]) => [k, toTensor(v)]));
        const gradKeys = Object.keys(c.grads);
        for (const k of gradKeys) inputs[k]!.requiresGrad_();
        const out = entry[1](inputs, c.params);
        expectClose(out, c.outputs.out!, 'output');
        for (const [k, v] of Object.entries(c.outputs)) if (k !== 'out') expectClose(inputs[k]!, v, `${k} (updated in place)`);
        if (gradKeys.length === 0) return;
        T.sum(T.mul(out, toTensor(c.cotangent))).backward();
        for (const k of gradKeys) {
          const gk = inputs[k]!.grad;
          if (!gk) throw new Error(`no gradient reached input ${k}`);
          expectClose(gk, c.grads[k]!, `grad ${k}`);
        }
      });
    });
  }
});
