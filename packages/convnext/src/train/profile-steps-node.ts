/**
 * `tsgrad-convnext train --profile N` (Node only: it writes the trace file): profiles N
 * training steps after one warm-up step, prints the top ops and writes a Chrome trace
 * (`profile.json`, open it in https://ui.perfetto.dev) into the run folder.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProfile, type BackendPeak, type Profile, type ProfileSession } from '@tsgrad/core';

/** Drives a step profile from the training hooks. */
export interface StepProfiler {
  /** Call from `onStart` (knows the step the run starts at and the backend). */
  start(info: { resumedAt: number; backend: string }): void;
  /** Call from `onStep`: starts after the warm-up step, stops after `steps` more. */
  step(step: number): void;
  /** Whether the profiled steps are done (the run should stop). */
  readonly done: boolean;
  /** Ends a profile the run cut short; returns the report, or null when nothing was profiled. */
  finish(): string | null;
}

/** The trace file in a run folder. */
export function traceFile(out: string): string {
  return join(out, 'profile.json');
}

/** The machine's one-thread SIMD128 peak when the run is on wasm (the % peak column of the table). */
async function wasmPeak(): Promise<BackendPeak> {
  try {
    const { measureSimdPeak } = (await import('@tsgrad/wasm')) as { measureSimdPeak: () => number };
    return { gflops: measureSimdPeak() };
  } catch {
    return {};
  }
}

/** A profiler of `steps` training steps whose report goes into `out`. */
export async function stepProfiler(steps: number, out: string, backendFlag: string): Promise<StepProfiler> {
  // Measured before training (the backend is only known in onStart, which is synchronous).
  const peak = backendFlag === 'wasm' || backendFlag === 'auto' ? await wasmPeak() : {};
  let first = 0;
  let onWasm = false;
  let session: ProfileSession | null = null;
  let profiled = 0;
  let report: string | null = null;
  const stop = (): void => {
    const p: Profile = session!.stop();
    session = null;
    writeFileSync(traceFile(out), JSON.stringify(p.chromeTrace()));
    report = [
      `profile of ${profiled} training step${profiled === 1 ? '' : 's'} (after 1 warm-up step); the step's parts:`,
      p.table({ kinds: ['region'], sortBy: 'total' }),
      '',
      'top ops by self time:',
      p.table({ top: 25, notes: false }),
      `Chrome trace: ${traceFile(out)} (open in https://ui.perfetto.dev)`,
    ].join('\n');
  };
  return {
    start(info) {
      first = info.resumedAt;
      onWasm = info.backend === 'wasm';
    },
    step(step) {
      if (step === first + 1) {
        session = startProfile({ peak: onWasm ? peak : {} });
        return;
      }
      if (!session) return;
      profiled = step - first - 1;
      if (profiled === steps) stop();
    },
    get done() {
      return report !== null;
    },
    finish() {
      if (session) stop();
      return report;
    },
  };
}
