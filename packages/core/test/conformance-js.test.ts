/**
 * Runs the cross-backend conformance suite on a second, independent instance of the js
 * backend: it checks the suite itself (every primitive reached, comparisons sound); the
 * wasm and webgpu packages run the same suite on their backends.
 */
import * as T from '@tsgrad/core';
import { describeConformance } from './conformance/suite.js';

describeConformance('js (second instance)', { backend: () => new T.JsBackend(), forwardTol: 0, gradTol: 0 });
