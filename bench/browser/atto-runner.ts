/**
 * In the page or its dedicated Worker: a 2-thread wasm backend (Web Workers) made current,
 * then the atto step of atto-step.ts, one call per `step()`.
 */
import * as T from '@tsgrad/core';
import { backendInfo, createWasmBackend } from '../../packages/wasm/src/index.js';
import { attoStep } from './atto-step.js';

/** What the runner reports after setting up. */
export interface RunnerInfo {
  readonly threads: number;
  readonly helperThreads: string;
  readonly callerWait: string;
  readonly relaxedSimd: boolean;
  readonly reason: string;
}

let step: (() => number) | null = null;

/** Creates the backend (`threads: 2`, relaxed SIMD as asked) and the model. */
export async function setUp(relaxedSimd: boolean): Promise<RunnerInfo> {
  const b = await createWasmBackend({ threads: 2, relaxedSimd });
  T.registerBackend('bench-wasm', () => b);
  await T.setBackend('bench-wasm');
  step = attoStep();
  const i = backendInfo(b);
  return { threads: i.threads, helperThreads: i.helperThreads, callerWait: i.callerWait, relaxedSimd: i.relaxedSimd, reason: i.singleThreadReason };
}

/** One training step; the loss. */
export function runStep(): number {
  if (!step) throw new Error('bench page: setUp first');
  return step();
}
