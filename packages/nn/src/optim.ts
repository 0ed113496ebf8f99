/**
 * Optimizers with PyTorch's update formulas (torch 1.13 single-tensor code paths): SGD,
 * Adam and AdamW, with parameter groups, `zeroGrad` and state dicts. Every update runs
 * under `noGrad` inside a `tidy`, and writes parameters and state with `assign`, so a
 * training loop holds a flat memory line.
 */
import { adamStep, fromTypedArray, keep, noGrad, tidy, Tensor } from '@tsgrad/core';

/** Hyper-parameters every group has. */
export interface BaseGroup {
  /** Learning rate (set by a scheduler as `schedule(t) * lrScale`). */
  lr: number;
  /** Weight decay (L2 for SGD/Adam, decoupled for AdamW). */
  weightDecay: number;
  /** Multiplier a {@link LRScheduler} applies to this group's lr (default 1; layer-wise decay). */
  lrScale: number;
  /** Optional name, for logging. */
  name?: string;
}

/** A parameter group as the optimizer keeps it: its parameters and every hyper-parameter. */
export type ParamGroup<H extends BaseGroup> = H & { params: Tensor[] };

/** A parameter group as passed in: parameters and any hyper-parameters that differ from the defaults. */
export type ParamGroupSpec<H extends BaseGroup> = Partial<H> & { params: Iterable<Tensor> };

/** Per-parameter optimizer state: step counts and tensors such as `exp_avg`. */
export type ParamState = Record<string, Tensor | number>;

/** An optimizer's state dict (PyTorch's layout: state by parameter index, groups with parameter indices). */
export interface OptimizerStateDict {
  /** State of parameter `i` (its position over all groups in order). */
  readonly state: Record<number, ParamState>;
  /** Each group's hyper-parameters with `params` as parameter indices. */
  readonly paramGroups: readonly (Record<string, unknown> & { params: number[] })[];
}

function isGroupSpec(x: unknown): x is { params: Iterable<Tensor> } {
  return typeof x === 'object' && x !== null && !(x instanceof Tensor) && 'params' in x;
}

/** Base class: parameter groups, per-parameter state, `zeroGrad`, `step` and state dicts. */
export abstract class Optimizer<H extends BaseGroup> {
  /** The groups; change `lr` (or any hyper-parameter) between steps. */
  readonly paramGroups: ParamGroup<H>[] = [];
  /** Per-parameter state, created lazily at the first step. */
  readonly state = new Map<Tensor, ParamState>();
  /** Number of `step()` calls so far. */
  stepCount = 0;

  constructor(
    params: Iterable<Tensor> | Iterable<ParamGroupSpec<H>>,
    /** Hyper-parameters for groups that do not set them. */
    readonly defaults: H,
  ) {
    const list = [...(params as Iterable<unknown>)];
    const specs: ParamGroupSpec<H>[] = list.length && isGroupSpec(list[0]) ? (list as ParamGroupSpec<H>[]) : [{ params: list as Tensor[] } as unknown as ParamGroupSpec<H>];
    const seen = new Set<Tensor>();
    for (const spec of specs) {
      if (!isGroupSpec(spec)) throw new TypeError(`${this.constructor.name}: mix of tensors and parameter groups; pass one or the other`);
      const ps = [...spec.params];
      for (const p of ps) {
        if (!(p instanceof Tensor)) throw new TypeError(`${this.constructor.name}: a parameter group holds something that is not a Tensor`);
        if (seen.has(p)) throw new Error(`${this.constructor.name}: a parameter appears in more than one group (or twice in one)`);
        if (p.dtype !== 'float32' && p.dtype !== 'float64') throw new TypeError(`${this.constructor.name}: parameters must be float tensors, got ${p.dtype}`);
        seen.add(p);
      }
      this.paramGroups.push({ ...defaults, ...spec, params: ps } as ParamGroup<H>);
    }
    if (!seen.size) throw new Error(`${this.constructor.name}: got an empty parameter list`);
  }

  /** Every parameter, group by group. */
  params(): Tensor[] {
    return this.paramGroups.flatMap((g) => g.params);
  }

  /** Drops the `.grad` of every parameter. */
  zeroGrad(): void {
    for (const p of this.params()) p.zeroGrad();
  }

  /** Updates every parameter that has a gradient, without recording gradients and without leaking temporaries. */
  step(): void {
    noGrad(() =>
      tidy(() => {
        for (const group of this.paramGroups) {
          for (const p of group.params) {
            if (!p.grad) continue;
            let st = this.state.get(p);
            if (!st) {
              st = {};
              this.state.set(p, st);
            }
            tidy(() => this.update(p, p.grad!, group, st));
          }
        }
      }),
    );
    this.stepCount++;
  }

  /** Updates one parameter in place (with `assign`) from its gradient; runs inside noGrad and tidy. */
  protected abstract update(p: Tensor, grad: Tensor, group: ParamGroup<H>, state: ParamState): void;

  /** A state tensor: zeros like `p` on first use, kept out of every scope. */
  protected buffer(state: ParamState, name: string, p: Tensor): Tensor {
    let t = state[name];
    if (!(t instanceof Tensor)) {
      t = keep(p.zerosLike());
      state[name] = t;
    }
    return t;
  }

  /** PyTorch-layout state dict; the tensors are the optimizer's own (clone to keep them across steps). */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    this.params().forEach((p, i) => index.set(p, i));
    const state: Record<number, ParamState> = {};
    for (const [p, st] of this.state) state[index.get(p)!] = { ...st };
    const paramGroups = this.paramGroups.map((g) => {
      const { params, ...hyper } = g;
      return { ...JSON.parse(JSON.stringify(hyper)), params: params.map((p) => index.get(p)!) } as Record<string, unknown> & { params: number[] };
    });
    return { state, paramGroups };
  }

  /**
   * Loads a state dict from {@link Optimizer.stateDict} of an optimizer over parameters of the
   * same shapes in the same groups. Tensors are copied (moved to each parameter's backend).
   */
  loadStateDict(sd: OptimizerStateDict): void {
    const name = this.constructor.name;
    if (sd.paramGroups.length !== this.paramGroups.length) {
      throw new Error(`${name}.loadStateDict: the state dict has ${sd.paramGroups.length} parameter groups, the optimizer ${this.paramGroups.length}`);
    }
    sd.paramGroups.forEach((g, i) => {
      const have = this.paramGroups[i]!.params.length;
      if (g.params.length !== have) throw new Error(`${name}.loadStateDict: group ${i} has ${g.params.length} parameters in the state dict, ${have} in the optimizer`);
    });
    const params = this.params();
    const order = sd.paramGroups.flatMap((g) => g.params);
    const problems: string[] = [];
    for (const [k, st] of Object.entries(sd.state)) {
      const pos = order.indexOf(Number(k));
      const p = pos >= 0 ? params[pos] : undefined;
      if (!p) {
        problems.push(`state for parameter ${k}, which no group lists`);
        continue;
      }
      for (const [n, v] of Object.entries(st)) {
        if (v instanceof Tensor && (v.ndim !== p.ndim || v.shape.some((d, i) => d !== p.shape[i]))) {
          problems.push(`state '${n}' of parameter ${k}: shape [${v.shape.join(', ')}], parameter [${p.shape.join(', ')}]`);
        }
      }
    }
    if (problems.length) throw new Error(`${name}.loadStateDict:\n  ${problems.join('\n  ')}`);
    for (const st of this.state.values()) for (const v of Object.values(st)) if (v instanceof Tensor) v.dispose();
    this.state.clear();
    for (const [k, st] of Object.entries(sd.state)) {
      const p = params[order.indexOf(Number(k))]!;
      const copy: ParamState = {};
      for (const [n, v] of Object.entries(st)) {
        copy[n] = v instanceof Tensor ? keep(noGrad(() => (v.backend === p.backend ? v.clone() : fromTypedArray(v.dataSync(), v.shape, v.dtype, p.backend)))) : v;
      }
      this.state.set(p, copy);
    }
    sd.paramGroups.forEach((g, i) => {
      const { params: _ignored, ...hyper } = g;
      void _ignored;
      Object.assign(this.paramGroups[i]!, hyper);
    });
  }

  /** Disposes the state tensors. */
  dispose(): void {
    for (const st of this.state.values()) for (const v of Object.values(st)) if (v instanceof Tensor) v.dispose();
    this.state.clear();
  }
}

/** Hyper-parameters of {@link SGD}. */
export interface SGDGroup extends BaseGroup {
  /** Momentum factor (default 0). */
  momentum: number;
  /** Dampening of the momentum (default 0). */
  dampening: number;
  /** Nesterov momentum (default false; needs momentum > 0 and dampening 0). */
  nesterov: boolean;
}

/** Options of {@link SGD}: its hyper-parameters, each optional but `lr`. */
export type SGDOptions = Partial<SGDGroup> & { lr: number };

/**
 * Stochastic gradient descent as `torch.optim.SGD`: `d = g + wd p`; with momentum
 * `buf = m buf + (1 - dampening) d` (`buf = d` at the first step), `d = nesterov ? d + m buf : buf`;
 * `p -= lr d`.
 */
export class SGD extends Optimizer<SGDGroup> {
  /** Optimizes `params` (tensors or parameter groups). */
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupSpec<SGDGroup>>, opts: SGDOptions) {
    const defaults: SGDGroup = { lr: opts.lr, weightDecay: opts.weightDecay ?? 0, lrScale: opts.lrScale ?? 1, momentum: opts.momentum ?? 0, dampening: opts.dampening ?? 0, nesterov: opts.nesterov ?? false };
    if (!(defaults.lr >= 0)) throw new RangeError(`SGD: invalid lr ${defaults.lr}`);
    if (!(defaults.momentum >= 0)) throw new RangeError(`SGD: invalid momentum ${defaults.momentum}`);
    if (!(defaults.weightDecay >= 0)) throw new RangeError(`SGD: invalid weightDecay ${defaults.weightDecay}`);
    if (defaults.nesterov && (defaults.momentum <= 0 || defaults.dampening !== 0)) throw new RangeError('SGD: Nesterov momentum requires a momentum and zero dampening');
    super(params, defaults);
  }

  protected update(p: Tensor, grad: Tensor, group: ParamGroup<SGDGroup>, state: ParamState): void {
    let d = group.weightDecay !== 0 ? grad.add(p.mul(group.weightDecay)) : grad;
    if (group.momentum !== 0) {
      const old = state.momentum_buffer;
      let buf: Tensor;
      if (!(old instanceof Tensor)) {
        buf = keep(d.clone());
        state.momentum_buffer = buf;
      } else {
        buf = old;
        buf.assign(buf.mul(group.momentum).add(d.mul(1 - group.dampening)));
      }
      d = group.nesterov ? d.add(buf.mul(group.momentum)) : buf;
    }
    p.assign(p.sub(d.mul(group.lr)));
  }
}

/** Hyper-parameters of {@link Adam} and {@link AdamW}. */
export interface AdamGroup extends BaseGroup {
  /** Decay rates of the first and second moment estimates (default [0.9, 0.999]). */
  betas: [number, number];
  /** Added to the denominator (default 1e-8). */
  eps: number;
  /** Use the maximum of past second moments (AMSGrad; default false). */
  amsgrad: boolean;
  /** Maximize the objective: step along the gradient instead of against it (default false). */
  maximize: boolean;
}

/** Options of {@link Adam} / {@link AdamW}: each optional. */
export type AdamOptions = Partial<AdamGroup>;

function adamDefaults(name: string, opts: AdamOptions, wd: number): AdamGroup {
  const d: AdamGroup = { lr: opts.lr ?? 1e-3, weightDecay: opts.weightDecay ?? wd, lrScale: opts.lrScale ?? 1, betas: opts.betas ?? [0.9, 0.999], eps: opts.eps ?? 1e-8, amsgrad: opts.amsgrad ?? false, maximize: opts.maximize ?? false };
  if (!(d.lr >= 0)) throw new RangeError(`${name}: invalid lr ${d.lr}`);
  if (!(d.eps >= 0)) throw new RangeError(`${name}: invalid eps ${d.eps}`);
  if (!d.betas.every((b) => b >= 0 && b < 1)) throw new RangeError(`${name}: betas must be in [0, 1), got [${d.betas.join(', ')}]`);
  if (!(d.weightDecay >= 0)) throw new RangeError(`${name}: invalid weightDecay ${d.weightDecay}`);
  return d;
}

/**
 * The Adam/AdamW update of one parameter through core's `adamStep` (the backend's fused
 * one-pass kernel when it has one, else the composed ops: the same float32 values), with
 * the new parameter and state swapped in by `assign`.
 */
function adamUpdate(p: Tensor, grad: Tensor, group: AdamGroup, state: ParamState, buffer: (n: string) => Tensor, decoupled: boolean): void {
  const step = ((state.step as number | undefined) ?? 0) + 1;
  state.step = step;
  const m = buffer('exp_avg');
  const v = buffer('exp_avg_sq');
  const mx = group.amsgrad ? buffer('max_exp_avg_sq') : null;
  const r = adamStep(p, grad, m, v, mx, { lr: group.lr, betas: group.betas, eps: group.eps, weightDecay: group.weightDecay, decoupled, step, amsgrad: group.amsgrad, maximize: group.maximize });
  p.assign(r.param);
  m.assign(r.expAvg);
  v.assign(r.expAvgSq);
  if (mx) mx.assign(r.maxExpAvgSq!);
}

/**
 * Adam as `torch.optim.Adam`: L2 weight decay added to the gradient (`g + wd p`), then
 * `m = b1 m + (1-b1) g`, `v = b2 v + (1-b2) g²`, `p -= lr/(1-b1^t) · m / (sqrt(v)/sqrt(1-b2^t) + eps)`.
 * On backends with a fused `adamStep` (js, wasm, webgpu) each parameter is one kernel pass.
 */
export class Adam extends Optimizer<AdamGroup> {
  /** Optimizes `params` (tensors or parameter groups); defaults lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0. */
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupSpec<AdamGroup>>, opts: AdamOptions = {}) {
    super(params, adamDefaults('Adam', opts, 0));
  }

  protected update(p: Tensor, grad: Tensor, group: ParamGroup<AdamGroup>, state: ParamState): void {
    adamUpdate(p, grad, group, state, (n) => this.buffer(state, n, p), false);
  }
}

/**
 * AdamW as `torch.optim.AdamW`: decoupled weight decay `p = p (1 - lr wd)` first, then the
 * Adam update of {@link Adam} with the raw gradient. Default weight decay 0.01.
 */
export class AdamW extends Optimizer<AdamGroup> {
  /** Optimizes `params` (tensors or parameter groups); defaults lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01. */
  constructor(params: Iterable<Tensor> | Iterable<ParamGroupSpec<AdamGroup>>, opts: AdamOptions = {}) {
    super(params, adamDefaults('AdamW', opts, 1e-2));
  }

  protected update(p: Tensor, grad: Tensor, group: ParamGroup<AdamGroup>, state: ParamState): void {
    adamUpdate(p, grad, group, state, (n) => this.buffer(state, n, p), true);
  }
}
