/**
 * Picks the worker's backend: WebGPU when the browser gives an adapter (or when asked for),
 * else the wasm backend with the requested threads (Web Workers over one shared memory in a
 * cross-origin-isolated page; one thread otherwise, and `backendInfo` says why).
 */
import { registerBackend, setBackend } from '@tsgrad/core';
import { backendInfo, createWasmBackend, type WasmBackend } from '@tsgrad/wasm';
import { createWebGPUBackend, type WebGPUBackend } from '@tsgrad/webgpu';
import type { BackendChoice, BackendReport } from '../protocol.js';

/** Starts the backend chosen on the page and makes it current; reports what it runs with. */
export async function startBackend(choice: BackendChoice, threads: number): Promise<BackendReport> {
  let fallbackReason = '';
  if (choice !== 'wasm') {
    try {
      const gpu = await createWebGPUBackend();
      registerBackend('webgpu', () => gpu);
      await setBackend('webgpu');
      return webgpuReport(gpu);
    } catch (e) {
      if (choice === 'webgpu') throw e;
      fallbackReason = `no WebGPU: ${(e as Error).message}`;
    }
  }
  if (!Number.isInteger(threads) || threads < 1) throw new RangeError(`threads must be a positive integer, got ${threads}`);
  // The same call as in Node; registering it under 'wasm' makes setBackend pick this instance.
  const wasm = await createWasmBackend({ threads });
  registerBackend('wasm', () => wasm);
  await setBackend('wasm');
  return { ...wasmReport(wasm, threads), fallbackReason };
}

function webgpuReport(b: WebGPUBackend): BackendReport {
  return { name: 'webgpu', threads: 1, threadsRequested: 1, detail: `adapter: ${b.adapterName || 'unnamed'}`, fallbackReason: '' };
}

function wasmReport(b: WasmBackend, requested: number): BackendReport {
  const info = backendInfo(b);
  const simd = info.relaxedSimd ? 'relaxed SIMD' : 'SIMD128';
  const why = info.threads === 1 && info.singleThreadReason ? `; one thread: ${info.singleThreadReason}` : '';
  return { name: 'wasm', threads: info.threads, threadsRequested: requested, detail: `${simd}, shared memory: ${info.sharedMemory ? 'yes' : 'no'}${why}`, fallbackReason: '' };
}
