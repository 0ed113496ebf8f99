/**
 * `@tsgrad/wasm/internals`: the backend's building blocks, for its own tests, benchmarks
 * and experiments. UNSTABLE: not part of the public API, not covered by semver; names and
 * signatures change with the kernels. Applications use `@tsgrad/wasm` (the backend,
 * `createWasmBackend`, `backendInfo`, `measureSimdPeak`).
 *
 * - the typed WebAssembly emitter the kernels are written with (`ModuleBuilder`, `Fn`,
 *   opcodes `OP`/`SIMD`, value types);
 * - the linear-memory allocator (`Arena`, its size classes and the wasm32 limit);
 * - the GEMM blocking the kernels use.
 *
 * @packageDocumentation
 */
export { Arena, sizeClass, WASM32_MAX_BYTES, type Block } from './arena.js';
export { ModuleBuilder, Fn, SIMD, OP, i32, i64, f32, f64, v128, type ValType, type Local, type MemoryImport } from './emitter.js';
export { DEFAULT_BLOCKING, type GemmBlocking, type GemmDims } from './kernels/gemm.js';
