/** The bench page's dedicated Worker: sets up and runs the atto step on request. */
import { runStep, setUp } from './atto-runner.js';

onmessage = async (e: MessageEvent<{ setUp?: boolean; step?: true }>) => {
  try {
    postMessage({ ok: e.data.setUp !== undefined ? await setUp(e.data.setUp) : runStep() });
  } catch (err) {
    postMessage({ error: err instanceof Error ? err.message : String(err) });
  }
};
