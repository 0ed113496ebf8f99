/** Init statistics, drop path, EMA, parameter groups, optimizer state dicts, LRScheduler, flat memory over many steps. */
import { describe, expect, it } from 'vitest';
import { Generator, memory, ones, randint, randn, tidy, zeros } from '@tsgrad/core';
import {
  AdamW,
  Conv2d,
  GELU,
  LayerNorm,
  Linear,
  LRScheduler,
  ModelEma,
  SGD,
  Sequential,
  clipGradNorm_,
  cosineSchedule,
  crossEntropy,
  dropPath,
  kaimingUniform_,
  parameterGroups,
  truncNormal_,
  xavierNormal_,
} from '@tsgrad/nn';

function stats(a: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  let s = 0;
  let s2 = 0;
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < a.length; i++) {
    s += a[i]!;
    s2 += a[i]! * a[i]!;
    min = Math.min(min, a[i]!);
    max = Math.max(max, a[i]!);
  }
  const mean = s / a.length;
  return { mean, std: Math.sqrt(s2 / a.length - mean * mean), min, max };
}

describe('init', () => {
  it('truncNormal_ uses absolute bounds and matches the truncated distribution', () => {
    const g = new Generator(1);
    const wide = stats(truncNormal_(zeros([200_000]), { std: 0.02, a: -2, b: 2, generator: g }).dataSync());
    expect(Math.abs(wide.mean)).toBeLessThan(3e-4);
    expect(wide.std).toBeCloseTo(0.02, 3);
    // Bounds at ±1σ: std of N(0,1) truncated to [-1, 1] is 0.5379.
    const narrow = stats(truncNormal_(zeros([200_000]), { mean: 1, std: 2, a: -1, b: 3, generator: g }).dataSync());
    expect(narrow.min).toBeGreaterThanOrEqual(-1);
    expect(narrow.max).toBeLessThanOrEqual(3);
    expect(narrow.mean).toBeCloseTo(1, 2);
    expect(narrow.std / 2).toBeCloseTo(0.5379, 2);
    // One-sided, far in the tail: values stay inside.
    const tail = stats(truncNormal_(zeros([10_000]), { a: 3, b: 4, generator: g }).dataSync());
    expect(tail.min).toBeGreaterThanOrEqual(3);
    expect(tail.max).toBeLessThanOrEqual(4);
    expect(() => truncNormal_(zeros([2]), { a: 1, b: 0 })).toThrow(/a < b/);
  });

  it('Linear/Conv2d defaults are kaiming_uniform(a=√5) and uniform(±1/√fanIn) biases, seeded', () => {
    const l = new Linear(100, 50, { generator: new Generator(3) });
    const w = stats(l.weight.dataSync());
    expect(w.max).toBeLessThanOrEqual(0.1);
    expect(w.min).toBeGreaterThanOrEqual(-0.1);
    expect(w.std).toBeCloseTo(0.1 / Math.sqrt(3), 2);
    const b = stats(l.bias!.dataSync());
    expect(Math.max(-b.min, b.max)).toBeLessThanOrEqual(0.1);
    const again = new Linear(100, 50, { generator: new Generator(3) });
    expect(again.weight.toArray()).toEqual(l.weight.toArray());
    const c = new Conv2d(8, 4, 3, { groups: 2, generator: new Generator(4) }); // fanIn = 4 * 9
    expect(stats(c.weight.dataSync()).max).toBeLessThanOrEqual(1 / 6);
    const k = stats(kaimingUniform_(zeros([64, 32]), { nonlinearity: 'relu', generator: new Generator(5) }).dataSync());
    expect(k.std).toBeCloseTo(Math.sqrt(2 / 32), 2);
    const x = stats(xavierNormal_(zeros([300, 200]), 1, { generator: new Generator(6) }).dataSync());
    expect(x.std).toBeCloseTo(Math.sqrt(2 / 500), 3);
    for (const m of [l, again, c]) m.dispose();
  });
});

describe('dropPath', () => {
  it('drops whole samples with probability p and rescales the kept ones by 1/(1-p)', () => {
    const x = ones([2000, 3, 2, 2]);
    const y = dropPath(x, 0.25, { generator: new Generator(9) });
    const v = y.reshape([2000, 12]).dataSync();
    let kept = 0;
    for (let n = 0; n < 2000; n++) {
      const row = Array.from(v.subarray(n * 12, n * 12 + 12));
      expect(new Set(row).size).toBe(1); // one decision per sample
      if (row[0] !== 0) {
        kept++;
        expect(row[0]).toBeCloseTo(1 / 0.75, 6);
      }
    }
    expect(kept / 2000).toBeGreaterThan(0.72);
    expect(kept / 2000).toBeLessThan(0.78);
    expect(dropPath(x, 0.25, { training: false })).toBe(x);
    expect(dropPath(x, 0)).toBe(x);
  });
});

describe('EMA', () => {
  it('averages every state-dict entry as ema = d·ema + (1-d)·model, starting from a copy', () => {
    const model = new Sequential(new Linear(2, 2), new LayerNorm(2));
    const ema = new ModelEma(model, { decay: 0.9 });
    const w0 = model.stateDict()['0.weight']!.toArray() as number[][];
    model.stateDict()['0.weight']!.assign(zeros([2, 2]).add(1));
    ema.update(model);
    const e = ema.stateDict()['0.weight']!.toArray() as number[][];
    e.forEach((row, i) => row.forEach((v, j) => expect(v).toBeCloseTo(0.9 * w0[i]![j]! + 0.1, 6)));
    // A second model instance can hold the average and be evaluated.
    const holder = new Sequential(new Linear(2, 2), new LayerNorm(2));
    const ema2 = new ModelEma(model, { decay: 0.5, emaModel: holder });
    expect(holder.training).toBe(false);
    model.stateDict()['1.bias']!.assign(ones([2]));
    ema2.update(model);
    expect(holder.stateDict()['1.bias']!.toArray()).toEqual([0.5, 0.5]);
    ema.dispose();
    for (const m of [model, holder]) m.dispose();
  });
});

describe('parameter groups and schedulers', () => {
  it('puts 1-D parameters and biases in a no-decay group, with layer ids and lr scales', () => {
    const m = new Sequential(new Conv2d(3, 4, 3), new LayerNorm(4), new Linear(4, 2));
    const groups = parameterGroups(m, { weightDecay: 0.05 });
    expect(groups.map((g) => [g.name, g.paramNames, g.weightDecay])).toEqual([
      ['layer_0_decay', ['0.weight', '2.weight'], 0.05],
      ['layer_0_no_decay', ['0.bias', '1.weight', '1.bias', '2.bias'], 0],
    ]);
    const layered = parameterGroups(m, { weightDecay: 0.1, layerId: (n) => Number(n[0]), layerScale: (id) => 0.5 ** (2 - id), skip: ['2.weight'] });
    expect(layered.map((g) => [g.name, g.lrScale])).toEqual([
      ['layer_0_decay', 0.25],
      ['layer_0_no_decay', 0.25],
      ['layer_1_no_decay', 0.5],
      ['layer_2_no_decay', 1],
    ]);
    const opt = new AdamW(layered, { lr: 1 });
    const sch = new LRScheduler(opt, cosineSchedule({ base: 4e-3, total: 10, warmup: 2 }));
    expect(sch.lastLr()).toEqual([0, 0, 0, 0]);
    sch.step();
    expect(sch.lastLr()).toEqual([1e-3, 1e-3, 2e-3, 4e-3]);
    expect(opt.paramGroups[0]!.weightDecay).toBe(0.1);
    m.dispose();
  });

  it('optimizer state dict round trip continues the same trajectory', () => {
    const mk = () => {
      const p = randn([3, 3], { generator: new Generator(11) }).requiresGrad_();
      return { p, opt: new AdamW([p], { lr: 0.1, weightDecay: 0.1 }) };
    };
    const grads = [0, 1, 2].map((i) => randn([3, 3], { generator: new Generator(20 + i) }));
    const a = mk();
    const b = mk();
    for (const g of grads.slice(0, 2)) {
      a.p.grad = g.clone();
      a.opt.step();
      b.p.grad = g.clone();
      b.opt.step();
    }
    const c = mk();
    c.p.assign(b.p.clone());
    c.opt.loadStateDict(b.opt.stateDict());
    b.opt.dispose(); // c's state is a copy
    a.p.grad = grads[2]!.clone();
    a.opt.step();
    c.p.grad = grads[2]!.clone();
    c.opt.step();
    expect(c.p.toArray()).toEqual(a.p.toArray());
    expect(c.opt.stateDict().state[0]!.step).toBe(3);
    const other = new AdamW([zeros([2])], {});
    expect(() => other.loadStateDict(a.opt.stateDict())).toThrow(/shape \[3, 3\], parameter \[2\]/);
    expect(() => new SGD([a.p, a.p], { lr: 1 })).toThrow(/more than one group/);
    expect(() => new SGD([], { lr: 1 })).toThrow(/empty/);
    expect(() => new SGD([a.p], { lr: 1, nesterov: true })).toThrow(/Nesterov/);
  });

  it('trains a small model with flat memory over 300 steps (AdamW, clipping, scheduler, EMA)', () => {
    const g = new Generator(42);
    const model = new Sequential(new Linear(8, 32, { generator: g }), new GELU(), new LayerNorm(32), new Linear(32, 4, { generator: g }));
    const ema = new ModelEma(model, { decay: 0.99 });
    const opt = new AdamW(parameterGroups(model, { weightDecay: 0.05 }), { lr: 1e-2 });
    const sch = new LRScheduler(opt, cosineSchedule({ base: 1e-2, final: 1e-4, total: 300, warmup: 20 }));
    const x = randn([64, 8], { generator: g });
    const y = randint(0, 4, [64], { generator: g });
    const counts: number[] = [];
    const bytes: number[] = [];
    let first = 0;
    let last = 0;
    for (let step = 0; step < 300; step++) {
      tidy(() => {
        const loss = crossEntropy(model.forward(x), y, { labelSmoothing: 0.1 });
        loss.backward();
        clipGradNorm_(model.parameters(), 1.0);
        opt.step();
        opt.zeroGrad();
        sch.step();
        ema.update(model);
        if (step === 0) first = loss.item();
        if (step === 299) last = loss.item();
      });
      if (step >= 10 && step % 10 === 0) {
        counts.push(memory().tensors);
        bytes.push(memory().bytes);
      }
    }
    expect(new Set(counts).size).toBe(1);
    expect(new Set(bytes).size).toBe(1);
    expect(last).toBeLessThan(first * 0.5);
    ema.dispose();
    opt.dispose();
    model.dispose();
  });
});
