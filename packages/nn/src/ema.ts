/** Exponential moving average of a model's weights (timm's `ModelEma`, as ConvNeXt uses it). */
import { keep, noGrad, tidy, type Tensor } from '@tsgrad/core';
import type { Module, StateDict } from './module.js';

/** Options of {@link ModelEma}. */
export interface ModelEmaOptions {
  /** Weight of the old average (default 0.9999). */
  readonly decay?: number;
  /**
   * A second instance of the model's architecture to hold the average, so it can be run
   * (evaluated). Without it the average is kept as a state dict.
   */
  readonly emaModel?: Module;
}

/**
 * After every optimizer step, `ema = decay·ema + (1 - decay)·model` for every floating
 * state-dict entry (parameters and buffers; integer buffers are copied). No warmup or bias
 * correction. Starts as a copy of the model.
 */
export class ModelEma {
  /** Weight of the old average. */
  readonly decay: number;
  /** The module holding the average, when one was given. */
  readonly module: Module | null;
  private readonly own: StateDict | null;

  constructor(model: Module, opts: ModelEmaOptions = {}) {
    this.decay = opts.decay ?? 0.9999;
    if (!(this.decay >= 0 && this.decay <= 1)) throw new RangeError(`ModelEma: decay must be in [0, 1], got ${this.decay}`);
    this.module = opts.emaModel ?? null;
    if (this.module) {
      this.module.loadStateDict(model.stateDict());
      this.module.eval();
      this.module.requiresGrad_(false);
      this.own = null;
    } else {
      const copy: StateDict = {};
      noGrad(() => {
        for (const [k, v] of Object.entries(model.stateDict())) copy[k] = keep(v.clone());
      });
      this.own = copy;
    }
  }

  /** The averaged tensors by state-dict key. */
  stateDict(): StateDict {
    return this.module ? this.module.stateDict() : this.own!;
  }

  /** Folds the model's current weights into the average. */
  update(model: Module): void {
    const ema = this.stateDict();
    const cur = model.stateDict();
    noGrad(() =>
      tidy(() => {
        for (const [k, e] of Object.entries(ema)) {
          const m = cur[k];
          if (!m) throw new Error(`ModelEma.update: the model has no '${k}'`);
          if (e.dtype === 'float32' || e.dtype === 'float64') e.assign(e.mul(this.decay).add(m.mul(1 - this.decay)));
          else e.assign(m.clone());
        }
      }),
    );
  }

  /** Copies the average into `target` (e.g. to evaluate it with the training model). */
  copyTo(target: Module): void {
    target.loadStateDict(this.stateDict());
  }

  /** Disposes the averaged tensors this object owns (not an `emaModel`'s). */
  dispose(): void {
    if (this.own) for (const t of Object.values(this.own) as Tensor[]) t.dispose();
  }
}
