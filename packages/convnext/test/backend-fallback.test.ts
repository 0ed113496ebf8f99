/** `--backend auto` falls back to js loudly when @tsgrad/wasm cannot be loaded. */
import { describe, expect, it, vi } from 'vitest';
import { chooseBackend } from '../src/train/engine.js';

vi.mock('@tsgrad/wasm', () => {
  throw new Error('Cannot find package @tsgrad/wasm');
});

describe('chooseBackend', () => {
  it("auto without a loadable @tsgrad/wasm: js, with a warning that says why and what to do", async () => {
    const said: [string, boolean][] = [];
    expect(await chooseBackend('auto', (m, w) => said.push([m, w]))).toBe('js');
    expect(said).toHaveLength(1);
    expect(said[0]![1]).toBe(true);
    expect(said[0]![0]).toMatch(/^--backend auto fell back to the pure-JavaScript 'js' backend, which is many times slower than wasm: @tsgrad\/wasm could not be loaded \((.+)\)\. Install or build @tsgrad\/wasm, or pass --backend js to silence this$/);
    await expect(chooseBackend('wasm')).rejects.toThrow("backend 'wasm': the package @tsgrad/wasm is not installed");
  });
});
