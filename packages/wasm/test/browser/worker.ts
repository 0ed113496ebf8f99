/** The browser threads test's dedicated Worker: runs the checks and posts the report. */
import { runChecks } from './checks.js';

runChecks().then(
  (report) => postMessage({ report }),
  (e: unknown) => postMessage({ error: e instanceof Error ? `${e.message}\n${e.stack}` : String(e) }),
);
