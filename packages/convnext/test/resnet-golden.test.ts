/**
 * The torchvision-exact ResNet-50 against torchvision itself (fixture from
 * scripts/gen_resnet_fixtures.py): every parameter and every BatchNorm running statistic set
 * from the shared deterministic hash, then eval-mode logits (running statistics), train-mode
 * logits and loss, every parameter's gradient (summary + samples) and every running
 * statistic after the train-mode forward, on `js` and every other backend that starts here.
 * The reference is torchvision in float64; each tensor's bound is the larger of a base
 * tolerance (relative to its largest |value|) and 4x the error of torch's own float32 run,
 * which the fixture records (`torch32_err`). Gradients are checked in eval mode (BN a fixed
 * affine map: well conditioned, torch32 within 1e-6) at the base tolerance, and in train
 * mode, where the batch statistics make the gradients ill-conditioned (the next train-mode
 * BN cancels most of a bias's gradient: torch's own float32 gradients are up to ~5% off its
 * float64 ones), against 4x the worst torch32 error of the same stage.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fromTypedArray, tidy, type Tensor } from '@tsgrad/core';
import { crossEntropy } from '@tsgrad/nn';
import { resnet50 } from '@tsgrad/convnext';
import { decodeF32, detInput, detParam, detUniform, goldenBackends, maxAbs, maxDiff, samplePositions, type FullTensor, type SummaryTensor } from './helpers/golden.js';

/** A float64 reference (stored as float32) with torch's own float32 error against it. */
type Ref<T> = T & { readonly torch32_err: number };
/** How many times torch's own float32 error ours may reach. */
const TORCH32_FACTOR = 4;
const bound = (tol: number, want: { torch32_err: number }) => Math.max(tol, TORCH32_FACTOR * want.torch32_err);

interface ResNetGolden {
  readonly num_classes: number;
  readonly batch: number;
  readonly size: number;
  readonly labels: number[];
  readonly param_seed0: number;
  readonly buffer_seed0: number;
  readonly param_names: string[];
  readonly stat_names: string[];
  readonly state_dict_keys: string[];
  readonly param_count: number;
  readonly logits_eval: Ref<FullTensor>;
  readonly logits_train: Ref<FullTensor>;
  readonly loss: number;
  readonly loss_torch32: number;
  readonly grads: Record<string, Ref<SummaryTensor>>;
  readonly grads_eval: Record<string, Ref<SummaryTensor>>;
  readonly stats_after: Record<string, Ref<SummaryTensor>>;
}

const G = JSON.parse(readFileSync(fileURLToPath(new URL('./fixtures/resnet/resnet50_64.json', import.meta.url)), 'utf8')) as ResNetGolden;
const FORWARD_TOL = 1e-5;
const GRAD_TOL = 1e-4;
const STAT_TOL = 1e-5;
const INPUT_SEED = 7;
const { names: BACKENDS } = await goldenBackends();
/** Worst torch32 train-mode gradient error per stage (`conv1`, `bn1`, `layer1`..`layer4`, `fc`). */
const stageErr: Record<string, number> = {};
for (const [n, v] of Object.entries(G.grads)) stageErr[n.split('.')[0]!] = Math.max(stageErr[n.split('.')[0]!] ?? 0, v.torch32_err);

/** The script's running statistics: mean 0.25u, var 1 + 0.5u. */
function detBuffer(name: string, n: number, seed: number): Float32Array {
  const u = detUniform(n, seed);
  return Float32Array.from(u, (v) => (name.endsWith('running_var') ? 1 + 0.5 * v : 0.25 * v));
}

function compareFull(label: string, ours: Float32Array, want: Ref<FullTensor>, base: number, problems: string[]): number {
  const tol = bound(base, want);
  const ref = decodeF32(want.f32_base64);
  const scale = Math.max(maxAbs(ref), 1e-30);
  const { err, at } = maxDiff(ours, ref);
  if (ours.length !== ref.length || !(err <= tol * scale)) problems.push(`${label}: max|ours - torch| = ${err} > ${tol} * ${scale} at ${at} (ours ${ours[at]}, torch ${ref[at]})`);
  return err / scale;
}

function compareSummary(label: string, ours: Float32Array, want: Ref<SummaryTensor>, base: number, problems: string[]): number {
  const tol = bound(base, want);
  const n = want.shape.reduce((a, b) => a * b, 1);
  if (ours.length !== n) {
    problems.push(`${label}: ${ours.length} values, expected ${n}`);
    return Infinity;
  }
  let sum = 0;
  let sumAbs = 0;
  let mx = 0;
  for (const v of ours) {
    sum += v;
    sumAbs += Math.abs(v);
    mx = Math.max(mx, Math.abs(v));
  }
  const scale = Math.max(want.max_abs, 1e-30);
  const errs: [string, number][] = [
    ['sum (relative to sum|x|)', Math.abs(sum - want.sum) / Math.max(want.sum_abs, 1e-30)],
    ['sum|x|', Math.abs(sumAbs - want.sum_abs) / Math.max(want.sum_abs, 1e-30)],
    ['max|x|', Math.abs(mx - want.max_abs) / scale],
  ];
  const ref = decodeF32(want.samples_f32_base64);
  const pos = samplePositions(n, ref.length);
  const { err, at } = maxDiff(Float32Array.from(pos, (p) => ours[p]!), ref);
  errs.push([`sample at flat ${pos[at]}`, err / scale]);
  let worst = 0;
  for (const [what, e] of errs) {
    worst = Math.max(worst, e);
    if (!(e <= tol)) problems.push(`${label}: ${what} differs by ${e} (relative) > ${tol}`);
  }
  return worst;
}

describe.each(BACKENDS)('ResNet-50 golden vs torchvision on %s', (backend) => {
  it('eval and train logits, loss, every gradient, every running statistic after one train forward', async () => {
    const model = resnet50({ numClasses: G.num_classes });
    const problems: string[] = [];
    const worst = { eval: 0, evalGrad: 0, train: 0, grad: 0, stats: 0 };
    try {
      expect([...model.namedParameters()].map(([n]) => n)).toEqual(G.param_names);
      expect(Object.keys(model.stateDict())).toEqual(G.state_dict_keys);
      expect(model.numParameters()).toBe(G.param_count);
      const shapes = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, t.shape]));
      const sd: Record<string, Tensor> = {};
      G.param_names.forEach((n, k) => (sd[n] = fromTypedArray(detParam(n, shapes[n]!, G.param_seed0 + k), shapes[n]!, 'float32')));
      G.stat_names.forEach((n, k) => (sd[n] = fromTypedArray(detBuffer(n, shapes[n]!.reduce((a, b) => a * b, 1), G.buffer_seed0 + k), shapes[n]!, 'float32')));
      for (const k of G.state_dict_keys) if (k.endsWith('num_batches_tracked')) sd[k] = fromTypedArray(Int32Array.of(0), [], 'int32');
      model.loadStateDict(sd, { strict: true });
      for (const t of Object.values(sd)) t.dispose();
      model.to(backend);

      await tidy(async () => {
        const x = detInput([G.batch, 3, G.size, G.size], INPUT_SEED, model.fc.weight.backend);
        const y = fromTypedArray(Int32Array.from(G.labels), [G.labels.length], 'int32', x.backend);
        model.eval();
        const le = model.forward(x);
        worst.eval = compareFull('eval logits', (await le.data()) as Float32Array, G.logits_eval, FORWARD_TOL, problems);
        crossEntropy(le, y).backward();
        for (const [n, p] of model.namedParameters()) {
          if (!p.grad) problems.push(`${n}: no gradient in eval mode`);
          else worst.evalGrad = Math.max(worst.evalGrad, compareSummary(`eval-mode grad ${n}`, (await p.grad.data()) as Float32Array, G.grads_eval[n]!, GRAD_TOL, problems));
        }
        model.zeroGrad();
        model.train();
        const logits = model.forward(x);
        worst.train = compareFull('train logits', (await logits.data()) as Float32Array, G.logits_train, FORWARD_TOL, problems);
        const loss = crossEntropy(logits, y);
        const l = (await loss.data())[0]!;
        if (!(Math.abs(l - G.loss) <= Math.max(FORWARD_TOL * Math.max(1, G.loss), TORCH32_FACTOR * Math.abs(G.loss_torch32 - G.loss)))) problems.push(`loss: ours ${l}, torch ${G.loss}`);
        loss.backward();
        for (const [n, p] of model.namedParameters()) {
          if (!p.grad) problems.push(`${n}: no gradient`);
          else worst.grad = Math.max(worst.grad, compareSummary(`train-mode grad ${n}`, (await p.grad.data()) as Float32Array, { ...G.grads[n]!, torch32_err: stageErr[n.split('.')[0]!]! }, GRAD_TOL, problems));
        }
        const after = model.stateDict();
        for (const n of G.stat_names) worst.stats = Math.max(worst.stats, compareSummary(`running stat ${n}`, (await after[n]!.data()) as Float32Array, G.stats_after[n]!, STAT_TOL, problems));
        for (const k of G.state_dict_keys.filter((k) => k.endsWith('num_batches_tracked'))) {
          const v = (await after[k]!.data())[0];
          if (v !== 1) problems.push(`${k}: ${v}, expected 1 after one train-mode forward`);
        }
        model.zeroGrad();
      });
    } finally {
      model.dispose();
    }
    console.log(`resnet50 golden on ${backend}: worst scaled error eval ${worst.eval.toExponential(2)}, eval grads ${worst.evalGrad.toExponential(2)}, train ${worst.train.toExponential(2)}, train grads ${worst.grad.toExponential(2)}, stats ${worst.stats.toExponential(2)}`);
    expect(problems).toEqual([]);
  }, 600_000);
});
