/**
 * The cross-backend conformance suite on wasm: every op family on random shapes, layouts
 * and values against the js reference, forward and gradients, and a check that every
 * primitive and every fused kernel ran. Here: one thread, plain SIMD (mul + add).
 *
 * Tolerances: wasm accumulates float32 sums and dot products in float32 (SIMD lanes, then a
 * horizontal add), js in float64; over the suite's small reductions (at most a few hundred
 * terms of unit-scale values) float32 rounding stays near 1e-6 relative, and the polynomial
 * exp/erf/tanh in the fused GELU and log-softmax kernels are within ~2e-7. 1e-4 of the
 * output scale for values and 5e-4 for gradients (which chain several such ops) leave a wide
 * margin while still catching any wrong index or missing term (those give errors of O(1)).
 */
import { createWasmBackend } from '@tsgrad/wasm';
import { describeConformance } from '../../core/test/conformance/suite.js';

describeConformance('wasm (1 thread, plain SIMD)', {
  backend: () => createWasmBackend({ threads: 1, relaxedSimd: false }),
  forwardTol: 1e-4,
  gradTol: 5e-4,
  requireFused: true,
});
