/**
 * Loading a Node built-in module (`node:os`, `node:worker_threads`) only when running in
 * Node, without an `import('node:…')` that browser bundlers would try to resolve: through
 * `process.getBuiltinModule` (Node 20.16+), else a dynamic import of a computed specifier.
 */

/** Node's `node:<id>` module, or null outside Node (or when it cannot be loaded). */
export async function nodeBuiltin<T>(id: 'os' | 'worker_threads'): Promise<T | null> {
  const proc = (globalThis as { process?: { versions?: { node?: string }; getBuiltinModule?: (id: string) => unknown } }).process;
  if (typeof proc?.versions?.node !== 'string') return null;
  const spec = `node:${id}`;
  try {
    if (typeof proc.getBuiltinModule === 'function') return (proc.getBuiltinModule(spec) as T | undefined) ?? null;
    return (await import(/* webpackIgnore: true */ /* @vite-ignore */ spec)) as T;
  } catch {
    return null;
  }
}
