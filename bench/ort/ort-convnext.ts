/**
 * ONNX Runtime Web (its wasm build, the one browsers run) on an exported ConvNeXt, in its own
 * Node process: `ort.env.wasm.numThreads` is read once, when the first session starts, so
 * each thread count needs a fresh process. Run by bench/suites/targets.ts:
 *
 *   tsx bench/ort/ort-convnext.ts MODEL.onnx INPUT.f32 OURS.f32 N,C,H,W THREADS SECONDS
 *
 * Checks the logits against ours (OURS.f32) before timing, then prints one JSON line:
 * median ms, runs, the largest logit difference, and the cores it kept busy (process CPU
 * time / wall time), which tells whether its threads did run in parallel in Node.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// onnxruntime-web is a dev dependency of @tsgrad/convnext (its ONNX export test runs it).
const require = createRequire(new URL('../../packages/convnext/package.json', import.meta.url));
const ort = require('onnxruntime-web') as typeof import('onnxruntime-web');
// Its package.json is not exported; the library reports its own version.
const version = (ort.env as { versions?: { web?: string } }).versions?.web ?? 'unknown';

const [modelPath, inputPath, oursPath, dimsArg, threadsArg, secondsArg] = process.argv.slice(2);
if (!modelPath || !inputPath || !oursPath || !dimsArg || !threadsArg) throw new Error('usage: ort-convnext.ts MODEL.onnx INPUT.f32 OURS.f32 N,C,H,W THREADS [SECONDS]');
const f32 = (path: string) => {
  const b = readFileSync(path);
  return new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
};
const dims = dimsArg.split(',').map(Number);
const threads = Number(threadsArg);
ort.env.wasm.numThreads = threads;
const session = await ort.InferenceSession.create(readFileSync(modelPath), { executionProviders: ['wasm'] });
const feed = { input: new ort.Tensor('float32', f32(inputPath), dims) };
const logits = (await session.run(feed))['logits']!.data as Float32Array;
const ours = f32(oursPath);
if (logits.length !== ours.length) throw new Error(`ort-convnext: ${logits.length} logits, ours has ${ours.length}`);
let maxAbsDiff = 0;
let maxAbs = 0;
for (let i = 0; i < ours.length; i++) {
  maxAbsDiff = Math.max(maxAbsDiff, Math.abs(logits[i]! - ours[i]!));
  maxAbs = Math.max(maxAbs, Math.abs(ours[i]!));
}
const runs: number[] = [];
const budget = 1000 * Number(secondsArg ?? 3);
const cpu0 = process.cpuUsage();
const start = performance.now();
while (runs.length < 3 || (performance.now() - start < budget && runs.length < 30)) {
  const t0 = performance.now();
  await session.run(feed);
  runs.push(performance.now() - t0);
}
const wall = performance.now() - start;
const cpu = process.cpuUsage(cpu0);
await session.release();
runs.sort((a, b) => a - b);
const median = runs.length % 2 ? runs[(runs.length - 1) / 2]! : (runs[runs.length / 2 - 1]! + runs[runs.length / 2]!) / 2;
console.log(JSON.stringify({ version, threads, ms: median, runs: runs.length, maxAbsDiff, maxAbs, coresBusy: (cpu.user + cpu.system) / 1000 / wall }));
process.exit(0);
