/**
 * The core's cross-backend conformance suite on webgpu (SwiftShader in CI): every op
 * family on random shapes, layouts and values, forward and gradients, against the js
 * reference; every primitive and every fused kernel must be exercised.
 *
 * Tolerances: float32 kernels against js's float64 accumulation, with transcendental
 * functions at WGSL's float32 precision: 2e-4 forward, 1e-3 for gradients (relative to
 * max(1, max |ref|)); int32 and bool results must match exactly.
 */
import { expect, it } from 'vitest';
import { createWebGPUBackend } from '@tsgrad/webgpu';
import { gpuBackend } from './gpu-env.js';
import { describeConformance } from '../../core/test/conformance/suite.js';

// Without an adapter the suite's own beforeAll fails and its tests count as skipped (which
// scripts/test.mjs fails on); this test fails outright with the reason.
it('has a WebGPU adapter', async () => {
  expect((await gpuBackend()).adapterName.length).toBeGreaterThan(0);
});

const numRuns = Number(process.env['TSGRAD_CONFORMANCE_RUNS'] ?? 20);
describeConformance('webgpu', { backend: gpuBackend, forwardTol: 2e-4, gradTol: 1e-3, numRuns, requireFused: true });
// The suite's shapes are small, so 'auto' mostly picks the small-output GEMM; run it again
// with the tiled GEMM forced, so matmul and dense conv check the tiled kernels on random
// shapes and layouts too.
describeConformance('webgpu, tiled GEMM only', { backend: () => gpuBackend().then((b) => createWebGPUBackend({ device: b.device, gemm: 'tiled' })), forwardTol: 2e-4, gradTol: 1e-3, numRuns: Math.ceil(numRuns / 2), requireFused: true });
