/**
 * The URL query: a documented way to preset the app (docs/web-app.md), used by its test to
 * train a tiny model in seconds. Form fields take the query's values as their defaults:
 * `?backend=wasm&threads=2&model=micro&length=16&size=16&batch=16&steps=6&lr=0.01`.
 * `backend` (auto, webgpu, wasm) and `threads` choose the worker's backend.
 */
import type { BackendChoice } from './protocol.js';

/** The form fields the query may preset. */
const FORM_FIELDS = ['model', 'length', 'size', 'batch', 'epochs', 'steps', 'lr'] as const;

/** The backend and threads the query asks for (default: auto, all cores). */
export function backendFromQuery(query: URLSearchParams): { backend: BackendChoice; threads: number } {
  const backend = query.get('backend') ?? 'auto';
  if (backend !== 'auto' && backend !== 'webgpu' && backend !== 'wasm') throw new Error(`?backend=${backend}: use auto, webgpu or wasm`);
  const t = query.get('threads');
  const threads = t === null ? navigator.hardwareConcurrency || 1 : Number(t);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`?threads=${t}: use a positive integer`);
  return { backend, threads };
}

/** Copies the query's values into the training form's fields. */
export function presetForm(form: HTMLFormElement, query: URLSearchParams): void {
  for (const name of FORM_FIELDS) {
    const v = query.get(name);
    if (v === null) continue;
    const field = form.elements.namedItem(name);
    if (field instanceof HTMLInputElement || field instanceof HTMLSelectElement) field.value = v;
  }
}
