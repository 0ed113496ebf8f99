/**
 * The conformance suite on a js backend that has every optional fused kernel: core must
 * dispatch to them (forward and backward) and agree with the composed ops of plain js.
 */
import { describeConformance } from './conformance/suite.js';
import { FusedJsBackend } from './helpers/fused-js-backend.js';

describeConformance('js with fused kernels', { backend: () => new FusedJsBackend(), forwardTol: 1e-5, gradTol: 1e-4, requireFused: true });
