/**
 * @tsgrad/nn against PyTorch 1.13 (fixtures from scripts/gen_nn_fixtures.py): layers
 * forward and backward, optimizer trajectories over three steps with two parameter groups,
 * ConvNeXt's cosine schedule, StepLR, and clip_grad_norm_.
 * Tolerances relative to each tensor's largest |value|: 1e-5 forward and optimizer states,
 * 1e-4 gradients.
 */
import { describe, expect, it } from 'vitest';
import { noGrad, tidy, zeros, type Tensor } from '@tsgrad/core';
import {
  Adam,
  AdamW,
  BatchNorm2d,
  Conv2d,
  GroupNorm,
  LayerNorm,
  LayerNorm2d,
  Linear,
  LRScheduler,
  Module,
  SGD,
  clipGradNorm_,
  cosineSchedule,
  mseLoss,
  stepSchedule,
  type Optimizer,
  type BaseGroup,
} from '@tsgrad/nn';
import { loadFixture, mismatch, toT, type FT } from './helpers.js';

interface LayerCase {
  name: string;
  input: FT;
  params: Record<string, FT>;
  output: FT;
  cotangent: FT;
  grad_input: FT;
  grad_params: Record<string, FT>;
  running_mean?: FT;
  running_var?: FT;
  num_batches_tracked?: number;
  eval_input?: FT;
  eval_output?: FT;
  target?: FT;
}
interface OptimCase {
  name: string;
  groups: Record<string, number | boolean | number[]>[];
  init: FT[];
  grads: FT[][];
  after: FT[][];
}
interface Fixture {
  layers: LayerCase[];
  optimizers: OptimCase[];
  schedules: { name: string; base: number; final: number; epochs: number; niter: number; warmup_epochs: number; values: number[] }[];
  step_lr: { base: number; step_size: number; gamma: number; values: number[] };
  clip: { max_norm: number; norm_type: number | 'inf'; grads: FT[]; total: number; clipped: FT[] }[];
}

const fx = loadFixture<Fixture>('nn.json');
const FWD = 1e-5;
const GRAD = 1e-4;

class MseAgainst extends Module {
  constructor(private readonly target: Tensor) {
    super();
  }
  override forward(x: Tensor): Tensor {
    return mseLoss(x, this.target);
  }
}

function makeLayer(name: string): Module {
  switch (name) {
    case 'linear':
      return new Linear(5, 3);
    case 'conv2d_s2_p1_d2_g2':
      return new Conv2d(4, 6, 3, { stride: 2, padding: 1, dilation: 2, groups: 2 });
    case 'conv2d_depthwise7':
      return new Conv2d(4, 4, 7, { padding: 3, groups: 4 });
    case 'layer_norm_last':
      return new LayerNorm(6, { eps: 1e-6 });
    case 'layer_norm_2d':
      return new LayerNorm2d(6, { eps: 1e-6 });
    case 'group_norm':
      return new GroupNorm(3, 6, { eps: 1e-5 });
    case 'batch_norm2d_train':
      return new BatchNorm2d(3, { momentum: 0.2 });
    default:
      throw new Error(`no layer for fixture case ${name}`);
  }
}

describe('layers vs PyTorch', () => {
  for (const c of fx.layers.filter((l) => l.name !== 'mse_loss')) {
    it(c.name, () => {
      const m = makeLayer(c.name);
      const problems = tidy(() => {
        const sd: Record<string, Tensor> = { ...m.stateDict() };
        for (const [k, v] of Object.entries(c.params)) sd[k] = toT(v);
        m.loadStateDict(sd);
        const x = toT(c.input).requiresGrad_();
        const y = m.forward(x);
        const out: (string | null)[] = [mismatch(y, c.output, FWD, 'output')];
        y.mul(toT(c.cotangent)).sum().backward();
        out.push(mismatch(x.grad!, c.grad_input, GRAD, 'grad input'));
        const params = Object.fromEntries(m.namedParameters());
        for (const [k, g] of Object.entries(c.grad_params)) out.push(mismatch(params[k]!.grad!, g, GRAD, `grad ${k}`));
        if (c.running_mean) {
          const bn = m as BatchNorm2d;
          out.push(mismatch(bn.running_mean!, c.running_mean, FWD, 'running_mean'));
          out.push(mismatch(bn.running_var!, c.running_var!, FWD, 'running_var'));
          expect(bn.num_batches_tracked!.item()).toBe(c.num_batches_tracked);
          bn.eval();
          out.push(noGrad(() => mismatch(bn.forward(toT(c.eval_input!)), c.eval_output!, FWD, 'eval output')));
        }
        return out.filter((p): p is string => p !== null);
      });
      m.dispose();
      expect(problems).toEqual([]);
    });
  }

  it('mse_loss', () => {
    const c = fx.layers.find((l) => l.name === 'mse_loss')!;
    const target = c.target!;
    const problems = tidy(() => {
      const m = new MseAgainst(toT(target));
      const x = toT(c.input).requiresGrad_();
      const y = m.forward(x);
      const out = [mismatch(y, c.output, FWD, 'loss')];
      y.mul(toT(c.cotangent)).sum().backward();
      out.push(mismatch(x.grad!, c.grad_input, GRAD, 'grad'));
      return out.filter((p): p is string => p !== null);
    });
    expect(problems).toEqual([]);
  });
});

type Hyper = Record<string, number | boolean | number[]>;

function toGroupOpts(g: Hyper): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(g)) {
    const key = k === 'weight_decay' ? 'weightDecay' : k;
    out[key] = Array.isArray(v) ? [v[0], v[1]] : v;
  }
  return out;
}

function makeOptimizer(name: string, params: Tensor[], groups: Hyper[]): Optimizer<BaseGroup> {
  const specs = params.map((p, i) => ({ params: [p], ...toGroupOpts(groups[i]!) }));
  if (name.startsWith('sgd')) return new SGD(specs, { lr: 0.1 }) as unknown as Optimizer<BaseGroup>;
  if (name.startsWith('adamw')) return new AdamW(specs, { lr: 0.01 }) as unknown as Optimizer<BaseGroup>;
  if (name.startsWith('adam')) return new Adam(specs, { lr: 0.01 }) as unknown as Optimizer<BaseGroup>;
  throw new Error(`no optimizer for ${name}`);
}

describe('optimizers vs PyTorch (3 steps, 2 parameter groups)', () => {
  for (const c of fx.optimizers) {
    it(c.name, () => {
      const params = c.init.map((t) => toT(t).requiresGrad_());
      const opt = makeOptimizer(c.name, params, c.groups);
      const problems: string[] = [];
      c.grads.forEach((gs, step) => {
        params.forEach((p, i) => {
          p.zeroGrad();
          p.grad = toT(gs[i]!);
        });
        opt.step();
        params.forEach((p, i) => {
          const m = mismatch(p, c.after[step]![i]!, FWD, `step ${step + 1} param ${i}`);
          if (m) problems.push(m);
        });
      });
      opt.zeroGrad();
      opt.dispose();
      expect(problems).toEqual([]);
    });
  }
});

describe('schedules vs the official code', () => {
  for (const s of fx.schedules) {
    it(`cosineSchedule: ${s.name}`, () => {
      const f = cosineSchedule({ base: s.base, final: s.final, total: s.epochs * s.niter, warmup: s.warmup_epochs * s.niter });
      const ours = s.values.map((_, t) => f(t));
      ours.forEach((v, t) => expect(Math.abs(v - s.values[t]!)).toBeLessThanOrEqual(1e-15 * Math.max(1, Math.abs(s.values[t]!))));
      // Past the end it holds the last value.
      expect(f(s.values.length + 5)).toBe(ours[ours.length - 1]);
    });
  }

  it('stepSchedule through LRScheduler equals torch StepLR', () => {
    const p = zeros([1]).requiresGrad_();
    const opt = new SGD([p], { lr: 123 });
    const sch = new LRScheduler(opt, stepSchedule({ base: fx.step_lr.base, stepSize: fx.step_lr.step_size, gamma: fx.step_lr.gamma }));
    const lrs: number[] = [];
    for (let i = 0; i < fx.step_lr.values.length; i++) {
      lrs.push(opt.paramGroups[0]!.lr);
      sch.step();
    }
    lrs.forEach((v, i) => expect(v).toBeCloseTo(fx.step_lr.values[i]!, 15));
    p.dispose();
  });
});

describe('clipGradNorm_ vs torch.nn.utils.clip_grad_norm_', () => {
  for (const c of fx.clip) {
    it(`maxNorm ${c.max_norm}, norm ${c.norm_type}`, () => {
      const ps = c.grads.map((g) => zeros(g.shape).requiresGrad_());
      ps.forEach((p, i) => (p.grad = toT(c.grads[i]!)));
      const total = clipGradNorm_(ps, c.max_norm, c.norm_type === 'inf' ? Infinity : c.norm_type);
      expect(Math.abs(total.item() - c.total)).toBeLessThanOrEqual(1e-5 * Math.abs(c.total));
      const problems = ps.map((p, i) => mismatch(p.grad!, c.clipped[i]!, FWD, `grad ${i}`)).filter((m) => m !== null);
      expect(problems).toEqual([]);
    });
  }
});
