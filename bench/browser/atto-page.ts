/**
 * The bench page: `benchSetUp(where, relaxed)` prepares the atto step on the page's main
 * thread or in a dedicated module Worker; `benchStep()` runs one step there.
 */
import { runStep, setUp, type RunnerInfo } from './atto-runner.js';

let worker: Worker | null = null;
function ask<R>(msg: unknown): Promise<R> {
  return new Promise((resolve, reject) => {
    worker!.onmessage = (e: MessageEvent<{ ok?: R; error?: string }>) => (e.data.error !== undefined ? reject(new Error(e.data.error)) : resolve(e.data.ok as R));
    worker!.postMessage(msg);
  });
}

const g = globalThis as unknown as { benchSetUp: (where: 'main' | 'worker', relaxed: boolean) => Promise<RunnerInfo>; benchStep: () => Promise<number> };
g.benchSetUp = async (where, relaxed) => {
  worker?.terminate();
  worker = null;
  if (where === 'main') return setUp(relaxed);
  worker = new Worker(new URL('atto-worker.js', location.href), { type: 'module' });
  return ask<RunnerInfo>({ setUp: relaxed });
};
g.benchStep = async () => (worker ? ask<number>({ step: true }) : runStep());
