/**
 * ConvNeXt against PyTorch 1.13 (fixtures from scripts/gen_convnext_fixtures.py, which
 * re-types the official model): forward logits and loss, the gradient of every parameter,
 * and every parameter after one AdamW step with the official parameter groups, on `js` and
 * on every other backend that is installed and starts here.
 *
 * Tolerances are relative to each tensor's scale (its largest |value| in PyTorch's result):
 * forward 1e-5, gradients 1e-4, weights after the step 1e-5.
 */
import { describe, expect, it } from 'vitest';
import { fromTypedArray, noGrad, tidy, type Tensor } from '@tsgrad/core';
import { AdamW, crossEntropy } from '@tsgrad/nn';
import { ConvNeXt, convnextParamGroups } from '@tsgrad/convnext';
import {
  decodeF32,
  detInput,
  detParam,
  goldenBackends,
  loadGolden,
  maxAbs,
  maxDiff,
  samplePositions,
  type FullTensor,
  type GoldenCase,
  type SummaryTensor,
} from './helpers/golden.js';

const FORWARD_TOL = 1e-5;
const GRAD_TOL = 1e-4;
const STEP_TOL = 1e-5;

const CASES = ['mini', 'atto_s2_32', 'tiny_64'] as const;
const { names: BACKENDS, unavailable } = await goldenBackends();
if (unavailable.length) console.warn(`golden: registered backends that did not start here: ${unavailable.join('; ')}`);

function isFull(t: FullTensor | SummaryTensor): t is FullTensor {
  return 'f32_base64' in t;
}

/** Compares our values to a stored tensor; pushes a message per failure; returns the worst scaled error. */
function compare(label: string, ours: Float32Array, want: FullTensor | SummaryTensor, tol: number, problems: string[]): number {
  const n = want.shape.reduce((a, b) => a * b, 1);
  if (ours.length !== n) {
    problems.push(`${label}: ${ours.length} values, expected ${n}`);
    return Infinity;
  }
  if (isFull(want)) {
    const ref = decodeF32(want.f32_base64);
    const scale = Math.max(maxAbs(ref), 1e-30);
    const { err, at } = maxDiff(ours, ref);
    if (!(err <= tol * scale)) problems.push(`${label}: max|ours - torch| = ${err} > ${tol} * ${scale} at flat ${at} (ours ${ours[at]}, torch ${ref[at]})`);
    return err / scale;
  }
  let sum = 0;
  let sumAbs = 0;
  let sumSq = 0;
  let mx = 0;
  for (let i = 0; i < n; i++) {
    const v = ours[i]!;
    sum += v;
    sumAbs += Math.abs(v);
    sumSq += v * v;
    mx = Math.max(mx, Math.abs(v));
  }
  const scale = Math.max(want.max_abs, 1e-30);
  const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
  const checks: [string, number, number][] = [
    ['sum (relative to sum|x|)', Math.abs(sum - want.sum) / Math.max(want.sum_abs, 1e-30), tol],
    ['sum|x|', rel(sumAbs, want.sum_abs), tol],
    ['sum x^2', rel(sumSq, want.sum_sq), 2 * tol],
    ['max|x|', rel(mx, want.max_abs), tol],
  ];
  let worst = 0;
  for (const [what, err, bound] of checks) {
    worst = Math.max(worst, err);
    if (!(err <= bound)) problems.push(`${label}: ${what} differs by ${err} (relative) > ${bound}`);
  }
  const ref = decodeF32(want.samples_f32_base64);
  const pos = samplePositions(n, ref.length === n ? n : ref.length);
  const picked = Float32Array.from(pos, (p) => ours[p]!);
  const { err, at } = maxDiff(picked, ref);
  if (!(err <= tol * scale)) problems.push(`${label}: sample at flat ${pos[at]}: |ours - torch| = ${err} > ${tol} * ${scale} (ours ${picked[at]}, torch ${ref[at]})`);
  return Math.max(worst, err / scale);
}

async function runCase(g: GoldenCase, backend: string): Promise<{ problems: string[]; worst: Record<string, number> }> {
  const problems: string[] = [];
  const worst = { forward: 0, grad: 0, step: 0 };
  const c = g.config;
  const model = new ConvNeXt({ depths: c.depths, dims: c.dims, numClasses: c.num_classes, stemStride: c.stem_stride, kernelSize: c.kernel_size });
  try {
    // Same parameters, same order as PyTorch's named_parameters().
    const names = [...model.namedParameters()].map(([n]) => n);
    expect(names).toEqual(g.param_names);
    expect(model.numParameters()).toBe(g.param_count);

    // The deterministic weights, checked against the generator's own statistics.
    const sd: Record<string, Tensor> = {};
    names.forEach((n, k) => {
      const shape = model.stateDict()[n]!.shape;
      const v = detParam(n, shape, g.param_seed0 + k);
      let s = 0;
      let s2 = 0;
      for (const x of v) {
        s += x;
        s2 += x * x;
      }
      const [ws, ws2] = g.init_stats[n]!;
      if (Math.abs(s - ws) > 1e-9 * Math.max(1, Math.abs(s2)) || Math.abs(s2 - ws2) > 1e-9 * Math.max(1, ws2)) {
        problems.push(`${n}: generated weights differ from the fixture's (sum ${s} vs ${ws}, sum sq ${s2} vs ${ws2})`);
      }
      sd[n] = fromTypedArray(v, shape, 'float32');
    });
    model.loadStateDict(sd);
    for (const t of Object.values(sd)) t.dispose();
    model.to(backend);
    model.train();

    await tidy(async () => {
      const x = detInput([g.batch, 3, g.size, g.size], g.input_seed, model.head.weight.backend);
      const y = fromTypedArray(Int32Array.from(g.labels), [g.labels.length], 'int32', x.backend);
      const logits = model.forward(x);
      const loss = crossEntropy(logits, y, { labelSmoothing: g.label_smoothing });
      worst.forward = compare('logits', (await logits.data()) as Float32Array, g.logits, FORWARD_TOL, problems);
      const l = (await loss.data())[0]!;
      if (!(Math.abs(l - g.loss) <= FORWARD_TOL * Math.max(1, Math.abs(g.loss)))) problems.push(`loss: ours ${l}, torch ${g.loss}`);

      loss.backward();
      for (const [n, p] of model.namedParameters()) {
        if (!p.grad) {
          problems.push(`${n}: no gradient`);
          continue;
        }
        worst.grad = Math.max(worst.grad, compare(`grad ${n}`, (await p.grad.data()) as Float32Array, g.grads[n]!, GRAD_TOL, problems));
      }

      const a = g.adamw;
      const opt = new AdamW(convnextParamGroups(model, { weightDecay: a.weight_decay }), { lr: a.lr, betas: a.betas, eps: a.eps });
      opt.step();
      opt.dispose();
      for (const [n, p] of model.namedParameters()) {
        worst.step = Math.max(worst.step, compare(`after AdamW ${n}`, (await p.data()) as Float32Array, g.after_step[n]!, STEP_TOL, problems));
      }
      noGrad(() => model.zeroGrad());
    });
  } finally {
    model.dispose();
  }
  return { problems, worst };
}

describe.each(BACKENDS)('ConvNeXt golden vs PyTorch on %s', (backend) => {
  it.each(CASES)('%s: logits, loss, every gradient, AdamW step', async (name) => {
    const g = loadGolden(name);
    const t0 = performance.now();
    const { problems, worst } = await runCase(g, backend);
    console.log(
      `golden ${name} on ${backend}: worst scaled error forward ${worst.forward.toExponential(2)}, grad ${worst.grad.toExponential(2)}, step ${worst.step.toExponential(2)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    );
    expect(problems).toEqual([]);
  }, 300_000);
});
