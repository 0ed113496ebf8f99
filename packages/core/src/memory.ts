/**
 * Deterministic memory: the garbage collector cannot see WASM or GPU memory, so tensors
 * are owned by scopes. `tidy(fn)` disposes every tensor created inside `fn` that `fn` does
 * not return; it accepts async functions and keeps ownership across `await`.
 */
import { currentContext, runInContext } from './context.js';
import { initialisedBackends } from './registry.js';
import type { Tensor } from './tensor.js';

/** A set of tensors that die together. */
export class Scope {
  readonly tensors = new Set<Tensor>();
  constructor(readonly parent: Scope | null) {}
}

let liveTensors = 0;
const liveByBackend = new Map<string, number>();

/** Called by every new tensor: counts it and hands it to the current scope. */
export function trackTensor(t: Tensor): void {
  liveTensors++;
  liveByBackend.set(t.backend.name, (liveByBackend.get(t.backend.name) ?? 0) + 1);
  currentContext().scope?.tensors.add(t);
}

/** Called once when a tensor is disposed. */
export function untrackTensor(t: Tensor): void {
  liveTensors--;
  liveByBackend.set(t.backend.name, (liveByBackend.get(t.backend.name) ?? 0) - 1);
}

/** Anything `tidy` may return: tensors are found inside arrays and plain objects. */
export type Tidyable = unknown;

function collectTensors(value: unknown, out: Set<Tensor>, TensorClass: abstract new (...a: never[]) => Tensor): void {
  if (value instanceof TensorClass) out.add(value);
  else if (Array.isArray(value)) for (const v of value) collectTensors(v, out, TensorClass);
  else if (value instanceof Map) for (const v of value.values()) collectTensors(v, out, TensorClass);
  else if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    for (const v of Object.values(value)) collectTensors(v, out, TensorClass);
  }
}

let tensorClass: (abstract new (...a: never[]) => Tensor) | null = null;
/** Lets memory find tensors in results without importing the Tensor module (a cycle). */
export function registerTensorClass(c: abstract new (...a: never[]) => Tensor): void {
  tensorClass = c;
}

function closeScope(scope: Scope, result: unknown): void {
  const kept = new Set<Tensor>();
  collectTensors(result, kept, tensorClass!);
  for (const t of scope.tensors) {
    if (kept.has(t)) scope.parent?.tensors.add(t);
    else t.dispose();
  }
  scope.tensors.clear();
}

/**
 * Runs `fn` in a new scope and disposes every tensor created in it except those it returns
 * (found in arrays, Maps and plain objects) and those passed to {@link keep}. If `fn` is
 * async, the scope closes when its promise settles, and tensors created across its `await`s
 * still belong to it. Returned tensors move to the enclosing scope.
 */
export function tidy<T>(fn: () => T): T {
  const ctx = currentContext();
  const scope = new Scope(ctx.scope);
  return runInContext({ ...ctx, scope }, () => {
    let result: T;
    try {
      result = fn();
    } catch (e) {
      closeScope(scope, undefined);
      throw e;
    }
    if (result instanceof Promise) {
      return result.then(
        (v: unknown) => {
          closeScope(scope, v);
          return v;
        },
        (e: unknown) => {
          closeScope(scope, undefined);
          throw e;
        },
      ) as T;
    }
    closeScope(scope, result);
    return result;
  });
}

/** Takes a tensor out of every scope, so no `tidy` disposes it; it lives until `dispose()`. */
export function keep<T extends Tensor>(t: T): T {
  for (let s = currentContext().scope; s; s = s.parent) s.tensors.delete(t);
  return t;
}

/** Disposes every tensor found in `value` (a tensor, or arrays/objects of them). */
export function dispose(value: unknown): void {
  const found = new Set<Tensor>();
  collectTensors(value, found, tensorClass!);
  for (const t of found) t.dispose();
}

/** Starts a new peak-memory measurement on every initialised backend that tracks peaks. */
export function resetPeakMemory(): void {
  for (const b of initialisedBackends()) b.resetPeak?.();
}

/** Memory held by one backend. */
export interface BackendMemoryInfo {
  /** Live tensor handles on this backend (views count separately from their storage). */
  readonly tensors: number;
  /** Device buffers the backend holds. */
  readonly buffers: number;
  /** Bytes in those buffers. */
  readonly bytes: number;
  /** Most bytes held at once since the last {@link resetPeakMemory} (when the backend tracks it). */
  readonly peakBytes?: number;
}

/** Memory report: totals and one entry per initialised backend. */
export interface MemoryInfo {
  /** Live tensor handles on all backends. */
  readonly tensors: number;
  /** Bytes held on all backends. */
  readonly bytes: number;
  /** Per backend, by name. */
  readonly backends: Record<string, BackendMemoryInfo>;
}

/** What is alive now: tensors, buffers and bytes per backend. */
export function memory(): MemoryInfo {
  const backends: Record<string, BackendMemoryInfo> = {};
  let bytes = 0;
  for (const b of initialisedBackends()) {
    const m = b.memory();
    backends[b.name] = { tensors: liveByBackend.get(b.name) ?? 0, buffers: m.buffers, bytes: m.bytes, ...(m.peakBytes !== undefined ? { peakBytes: m.peakBytes } : {}) };
    bytes += m.bytes;
  }
  return { tensors: liveTensors, bytes, backends };
}
