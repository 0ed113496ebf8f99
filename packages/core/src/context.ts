/**
 * Per-task state that must survive `await`: the innermost memory scope and whether
 * gradients are recorded. In Node it lives in an AsyncLocalStorage, so concurrent async
 * scopes never see each other's tensors; elsewhere it falls back to one global stack
 * (correct for nested or sequential scopes; overlapping async scopes then share state).
 */
import type { Scope } from './memory.js';

/** What the current task sees. */
export interface Context {
  readonly scope: Scope | null;
  readonly gradEnabled: boolean;
}

interface AsyncStore {
  getStore(): Context | undefined;
  run<R>(store: Context, fn: () => R): R;
}

type AsyncStoreCtor = new () => AsyncStore;

function nodeAsyncStore(): AsyncStore | null {
  const proc = (globalThis as { process?: { getBuiltinModule?: (id: string) => unknown } }).process;
  const hooks = proc?.getBuiltinModule?.('node:async_hooks') as { AsyncLocalStorage?: AsyncStoreCtor } | undefined;
  return hooks?.AsyncLocalStorage ? new hooks.AsyncLocalStorage() : null;
}

const root: Context = { scope: null, gradEnabled: true };
const store = nodeAsyncStore();
let fallback: Context = root;

/** The current task's context. */
export function currentContext(): Context {
  return store ? (store.getStore() ?? root) : fallback;
}

/** Runs `fn` (sync or async) with `ctx` as the context of everything it starts. */
export function runInContext<R>(ctx: Context, fn: () => R): R {
  if (store) return store.run(ctx, fn);
  const saved = fallback;
  fallback = ctx;
  try {
    const r = fn();
    if (r instanceof Promise) {
      // Restore once the async body settles; other work started meanwhile shares ctx.
      return r.finally(() => {
        fallback = saved;
      }) as R;
    }
    fallback = saved;
    return r;
  } catch (e) {
    fallback = saved;
    throw e;
  }
}
