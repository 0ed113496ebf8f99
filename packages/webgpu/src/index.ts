/// <reference types="@webgpu/types" preserve="true" />
/**
 * @tsgrad/webgpu: a WGSL compute backend for tsgrad. Importing this package registers it
 * as `'webgpu'`, so `await setBackend('webgpu')` picks it: in browsers it uses
 * `navigator.gpu`, in Node the `webgpu` npm package (Dawn). See docs/webgpu.md.
 *
 * Dtypes: float32, int32 and bool (stored as one u32 per element). float64 is refused with
 * a clear error, because WGSL has no 64-bit floats.
 *
 * @packageDocumentation
 */
import { registerBackend } from '@tsgrad/core';
import { createWebGPUBackend } from './backend.js';

export { WebGPUBackend, createWebGPUBackend, BATCH, type WebGPUBackendOptions, type WebGPUStats } from './backend.js';
export { acquireDevice, type AcquiredDevice, type DeviceOptions } from './device.js';

registerBackend('webgpu', () => createWebGPUBackend());
