/**
 * `tsgrad-convnext train --profile N` (Node only: it writes the trace file): profiles N
 * training steps after one warm-up step, prints the top ops and writes a Chrome trace
 * (`profile.json`, open it in https://ui.perfetto.dev) into the run folder.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getBackend, startProfile, type BackendPeak, type Profile, type ProfileSession } from '@tsgrad/core';

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

interface WasmModule {
  measureSimdPeak(opts?: { relaxed?: boolean }): number;
  backendInfo(b: never): { threads: number; relaxedSimd: boolean };
}

/** @tsgrad/wasm when it is installed (for its peak), else null. */
async function wasmModule(): Promise<WasmModule | null> {
  try {
    return (await import('@tsgrad/wasm')) as unknown as WasmModule;
  } catch {
    return null;
  }
}

/**
 * The wasm backend's arithmetic peak: the measured one-thread SIMD128 peak (with FMA when
 * GEMM uses relaxed SIMD) times its threads; with the words that say so.
 */
function wasmPeak(mod: WasmModule): { peak: BackendPeak; note: string } {
  const info = mod.backendInfo(getBackend() as never);
  const one = mod.measureSimdPeak(info.relaxedSimd ? { relaxed: true } : {});
  return {
    peak: { gflops: one * info.threads },
    note: `peak: ${info.threads} thread${info.threads === 1 ? '' : 's'} x ${one.toFixed(1)} GFLOP/s (the one-thread SIMD128 ${info.relaxedSimd ? 'relaxed_madd' : 'mul+add'} peak measured now by measureSimdPeak)`,
  };
}

/** A profiler of `steps` training steps whose report goes into `out`. */
export async function stepProfiler(steps: number, out: string, backendFlag: string): Promise<StepProfiler> {
  const mod = backendFlag === 'wasm' || backendFlag === 'auto' ? await wasmModule() : null;
  let first = 0;
  let peak: { peak: BackendPeak; note: string } = { peak: {}, note: '' };
  let session: ProfileSession | null = null;
  let profiled = 0;
  let report: string | null = null;
  const stop = (): void => {
    const p: Profile = session!.stop();
    session = null;
    writeFileSync(traceFile(out), JSON.stringify(p.chromeTrace()));
    report = [
      `profile of ${profiled} training step${profiled === 1 ? '' : 's'} (after 1 warm-up step), ${(p.wallMs / Math.max(1, profiled)).toFixed(0)} ms a step; the step's parts:`,
      ...(peak.note ? [peak.note] : []),
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
      if (mod && info.backend === 'wasm') peak = wasmPeak(mod);
    },
    step(step) {
      if (step === first + 1) {
        session = startProfile({ peak: peak.peak });
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
