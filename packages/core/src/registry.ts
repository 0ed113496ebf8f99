/** The backend registry: which backends exist and which one new tensors go to. */
import type { Backend } from './backend.js';
import { JsBackend } from './backends/js.js';

const factories = new Map<string, () => Backend | Promise<Backend>>();
const instances = new Map<string, Backend>();
let current: Backend | null = null;

/**
 * Makes a backend available to {@link setBackend} under `name`. The factory runs on first
 * use; it may be async (WebGPU asks for an adapter) and should throw a clear error when
 * the backend cannot run here.
 */
export function registerBackend(name: string, factory: () => Backend | Promise<Backend>): void {
  factories.set(name, factory);
}

/** Names of the registered backends. */
export function listBackends(): string[] {
  return [...factories.keys()];
}

/** Initialises (once) and returns the backend called `name`. */
export async function initBackend(name: string): Promise<Backend> {
  const have = instances.get(name);
  if (have) return have;
  const factory = factories.get(name);
  if (!factory) {
    throw new Error(
      `setBackend: no backend named '${name}' is registered (have: ${listBackends().join(', ')}); import its package (e.g. @tsgrad/${name}) first`,
    );
  }
  const b = await factory();
  instances.set(name, b);
  return b;
}

/** Makes `name` the backend that new tensors are created on. */
export async function setBackend(name: string): Promise<Backend> {
  current = await initBackend(name);
  return current;
}

/** The backend new tensors are created on (`js` unless {@link setBackend} chose another). */
export function getBackend(): Backend {
  if (!current) {
    current = instances.get('js') ?? new JsBackend();
    instances.set('js', current);
  }
  return current;
}

/** A backend that is already initialised, by name (for moving tensors with `to`). */
export function backendByName(name: string): Backend {
  const b = name === 'js' ? getBackendJs() : instances.get(name);
  if (!b) throw new Error(`to: backend '${name}' is not initialised; call await setBackend('${name}') or initBackend('${name}') first`);
  return b;
}

function getBackendJs(): Backend {
  let b = instances.get('js');
  if (!b) {
    b = new JsBackend();
    instances.set('js', b);
  }
  return b;
}

/** Every backend initialised so far. */
export function initialisedBackends(): Backend[] {
  getBackendJs();
  return [...instances.values()];
}

registerBackend('js', () => getBackendJs());
