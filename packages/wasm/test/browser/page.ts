/**
 * The browser threads test's page: runs the checks on the page's main thread
 * (`tsgradChecks`) or in a dedicated module Worker (`tsgradChecksInWorker`, worker.ts), as
 * an app that trains off the main thread does.
 */
import { runChecks, type ThreadsReport } from './checks.js';

const g = globalThis as unknown as { tsgradChecks: () => Promise<ThreadsReport>; tsgradChecksInWorker: () => Promise<ThreadsReport> };
g.tsgradChecks = runChecks;
g.tsgradChecksInWorker = () =>
  new Promise((resolve, reject) => {
    const w = new Worker(new URL('worker.js', location.href), { type: 'module' });
    w.onmessage = (e: MessageEvent<{ report?: ThreadsReport; error?: string }>) => {
      w.terminate();
      if (e.data.report) resolve(e.data.report);
      else reject(new Error(e.data.error));
    };
    w.onerror = (e) => reject(new Error(`worker: ${e.message}`));
  });
