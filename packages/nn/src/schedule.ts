/**
 * Learning-rate schedules: plain functions from a step (or epoch) index to a value, and an
 * {@link LRScheduler} that writes them into an optimizer's groups.
 */
import type { BaseGroup, Optimizer } from './optim.js';

/** A schedule: the value at step (or epoch) `t = 0, 1, ...`. */
export type Schedule = (t: number) => number;

/** Options of {@link cosineSchedule}. */
export interface CosineScheduleOptions {
  /** Value at the end of warmup (the peak). */
  readonly base: number;
  /** Value the cosine decays to (default 0; ConvNeXt uses 1e-6). */
  readonly final?: number;
  /** Length of the whole schedule, warmup included, in steps (or epochs). */
  readonly total: number;
  /** Warmup length (default 0). */
  readonly warmup?: number;
  /** First warmup value (default 0). */
  readonly warmupStart?: number;
}

/**
 * Linear warmup then cosine decay, exactly as ConvNeXt's `utils.cosine_scheduler`: warmup
 * values are `linspace(warmupStart, base, warmup)` (the last one equals `base`), then
 * `final + (base - final)(1 + cos(π i / (total - warmup)))/2` for `i = 0 … total-warmup-1`.
 * Past the end it stays at the last value. Use steps for per-iteration, epochs for per-epoch.
 */
export function cosineSchedule(opts: CosineScheduleOptions): Schedule {
  const { base, total } = opts;
  const final = opts.final ?? 0;
  const warmup = opts.warmup ?? 0;
  const start = opts.warmupStart ?? 0;
  if (!Number.isInteger(total) || total < 1) throw new RangeError(`cosineSchedule: total must be a positive integer, got ${total}`);
  if (!Number.isInteger(warmup) || warmup < 0 || warmup > total) throw new RangeError(`cosineSchedule: warmup must be an integer in [0, total], got ${warmup}`);
  const decay = total - warmup;
  return (t: number) => {
    const s = Math.min(Math.max(0, Math.floor(t)), total - 1);
    if (s < warmup) return warmup === 1 ? start : start + ((base - start) * s) / (warmup - 1);
    const i = s - warmup;
    return final + 0.5 * (base - final) * (1 + Math.cos((Math.PI * i) / decay));
  };
}

/** Options of {@link stepSchedule}. */
export interface StepScheduleOptions {
  /** Initial value. */
  readonly base: number;
  /** Multiply by `gamma` every `stepSize` steps (or epochs). */
  readonly stepSize: number;
  /** Decay factor (default 0.1). */
  readonly gamma?: number;
}

/** Step decay as `torch.optim.lr_scheduler.StepLR`: `base * gamma^floor(t / stepSize)`. */
export function stepSchedule(opts: StepScheduleOptions): Schedule {
  if (!Number.isInteger(opts.stepSize) || opts.stepSize < 1) throw new RangeError(`stepSchedule: stepSize must be a positive integer, got ${opts.stepSize}`);
  const gamma = opts.gamma ?? 0.1;
  return (t: number) => opts.base * gamma ** Math.floor(Math.max(0, t) / opts.stepSize);
}

/** A constant schedule. */
export function constantSchedule(value: number): Schedule {
  return () => value;
}

/** The first `n` values of a schedule (for plots and checks). */
export function scheduleValues(schedule: Schedule, n: number): number[] {
  return Array.from({ length: n }, (_, t) => schedule(t));
}

/** Options of {@link LRScheduler}. */
export interface LRSchedulerOptions {
  /** Also set each group's weight decay from this schedule (times nothing: groups with weightDecay 0 stay 0). */
  readonly weightDecay?: Schedule;
}

/**
 * Drives an optimizer's learning rate: sets every group's `lr` to `schedule(t) * lrScale`.
 * It applies `t = 0` when created; call {@link LRScheduler.step} after each
 * `optimizer.step()` (per-step schedules) or after each epoch (per-epoch schedules).
 */
export class LRScheduler {
  /** The index the current lr came from. */
  t = 0;
  private readonly decays: boolean[];

  constructor(
    /** The optimizer to drive. */
    readonly optimizer: Optimizer<BaseGroup>,
    /** The lr schedule. */
    readonly schedule: Schedule,
    private readonly opts: LRSchedulerOptions = {},
  ) {
    this.decays = optimizer.paramGroups.map((g) => g.weightDecay > 0);
    this.apply();
  }

  private apply(): void {
    const lr = this.schedule(this.t);
    const wd = this.opts.weightDecay?.(this.t);
    this.optimizer.paramGroups.forEach((g, i) => {
      g.lr = lr * (g.lrScale ?? 1);
      if (wd !== undefined && this.decays[i]) g.weightDecay = wd;
    });
  }

  /** Advances the index by `by` (default 1; 0 re-applies the current one) and applies it. */
  step(by = 1): void {
    this.t += by;
    this.apply();
  }

  /** Jumps to index `t` (resuming) and applies it. */
  setStep(t: number): void {
    this.t = t;
    this.apply();
  }

  /** The lr of each group now. */
  lastLr(): number[] {
    return this.optimizer.paramGroups.map((g) => g.lr);
  }
}
