/**
 * The performance targets of issue 11 in one table from one run (`pnpm bench targets`):
 *
 * - ConvNeXt-atto@32 (2x2 stem) AdamW step, batch 64: ours on 1 and 2 threads beside
 *   PyTorch CPU on 1 and 2 threads;
 * - ConvNeXt-T forward, 224, batch 1: ours 1T/2T beside ONNX Runtime Web (its wasm build,
 *   in Node, on the model exported by our ONNX exporter, logits checked against ours first)
 *   1T/2T, PyTorch 1T/2T and tfjs-wasm (one thread: its Node build has no threads); and the
 *   whole-model GFLOP/s as a share of the measured wasm SIMD peak;
 * - depthwise 7x7 and LayerNorm+GELU forward+backward beside PyTorch on one thread;
 * - activations held for backward in the atto step, ours and PyTorch's, and our peak wasm heap.
 *
 * It records the machine: CPU model (lscpu), load average, the wasm SIMD peak
 * (measureSimdPeak) and the BLAS core PyTorch ran with (bench/torch/blas_core.py). The
 * order keeps our worker threads out of the way of the other processes: ours on one thread
 * first (for the logits ONNX Runtime is checked against), then ONNX Runtime and PyTorch in
 * their own processes, then ours; our 1T and 2T runs alternate (their ratio is a target).
 * Times are medians after a warm-up.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as TF from '@tensorflow/tfjs';
import * as T from '@tsgrad/core';
// By path: @tsgrad/wasm is not a dependency of the workspace root.
import { backendInfo, createWasmBackend, disposeWasmBackend, measureSimdPeak, type WasmBackend } from '../../packages/wasm/src/index.js';
import { convnext, convnextFlops, exportConvNeXtOnnx } from '../../packages/convnext/src/index.js';
import { AdamW } from '../../packages/nn/src/index.js';
import { tfjsConvNeXtTiny } from './tfjs-convnext.js';
import type { Suite, SuiteReport } from './types.js';

/** Seconds of timed runs per measurement (BENCH_TARGET_SECONDS; at least 3 runs each). */
const SECONDS = Number(process.env['BENCH_TARGET_SECONDS'] ?? 4);

/** Median ms of `fn` over at least 3 runs filling `seconds`, after one warm-up run. */
async function medianMs(fn: () => unknown, seconds = SECONDS): Promise<number> {
  await fn();
  const runs: number[] = [];
  const start = performance.now();
  while (runs.length < 3 || (performance.now() - start < seconds * 1000 && runs.length < 30)) {
    const t0 = performance.now();
    await fn();
    runs.push(performance.now() - t0);
  }
  return median(runs);
}

/**
 * Medians of `a` and `b` timed in alternation (a, b, a, b, ...) after a warm-up of each, so
 * that a change in the machine's load during the measurement hits both alike: for our 1T
 * and 2T figures, whose ratio is a target.
 */
async function pairedMedians(a: () => unknown, b: () => unknown, seconds = 2 * SECONDS): Promise<[number, number]> {
  await a();
  await b();
  const ra: number[] = [];
  const rb: number[] = [];
  const start = performance.now();
  while (ra.length < 3 || (performance.now() - start < seconds * 1000 && ra.length < 30)) {
    for (const [fn, runs] of [
      [a, ra],
      [b, rb],
    ] as const) {
      const t0 = performance.now();
      await fn();
      runs.push(performance.now() - t0);
    }
  }
  return [median(ra), median(rb)];
}

function median(runs: number[]): number {
  const s = [...runs].sort((x, y) => x - y);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs `f` with `b` as the current backend (models and tensors made inside live there). */
async function onBackend<R>(b: T.Backend, f: () => R | Promise<R>): Promise<R> {
  const name = `targets-${b.name}`;
  T.registerBackend(name, () => b);
  await T.setBackend(name);
  try {
    return await f();
  } finally {
    await T.setBackend('js');
  }
}

interface TorchTargets {
  readonly threads: number;
  readonly torch: string;
  readonly blas_line: string;
  readonly tiny_fwd_b1_ms: number;
  readonly atto_step_b64_ms: number;
  readonly atto_saved_activation_bytes: number;
  readonly dw7_fwd_bwd_ms?: number;
  readonly ln_gelu_fwd_bwd_ms?: number;
}

/** PyTorch CPU on `threads` threads (bench/torch/convnext_bench.py --targets), or why not. */
function torchTargets(threads: number): TorchTargets | string {
  const n = String(threads);
  // torch.set_num_threads covers PyTorch's OpenMP pool; OpenBLAS (pthreads build) reads its own variable.
  const env = { ...process.env, OMP_NUM_THREADS: n, OPENBLAS_NUM_THREADS: n, MKL_NUM_THREADS: n };
  try {
    const out = execFileSync('/usr/bin/python3', [new URL('../torch/convnext_bench.py', import.meta.url).pathname, n, '--targets'], { encoding: 'utf8', timeout: 600_000, env, stdio: ['ignore', 'pipe', 'inherit'] });
    return JSON.parse(out.trim().split('\n').at(-1)!) as TorchTargets;
  } catch (e) {
    return `PyTorch run failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

interface OrtResult {
  readonly version: string;
  readonly threads: number;
  readonly ms: number;
  readonly runs: number;
  readonly maxAbsDiff: number;
  readonly maxAbs: number;
  readonly coresBusy: number;
}

/** ONNX Runtime Web in a fresh Node process (numThreads is fixed at its first session). */
function ortRun(dir: string, threads: number): OrtResult | string {
  const script = new URL('../ort/ort-convnext.ts', import.meta.url).pathname;
  try {
    const out = execFileSync(process.execPath, ['--import', 'tsx', script, join(dir, 'model.onnx'), join(dir, 'input.f32'), join(dir, 'ours.f32'), '1,3,224,224', String(threads), String(SECONDS)], {
      encoding: 'utf8',
      timeout: 600_000,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    return JSON.parse(out.trim().split('\n').at(-1)!) as OrtResult;
  } catch (e) {
    return `ONNX Runtime Web run failed: ${(e as Error).message.split('\n')[0]}`;
  }
}

/** `lscpu`'s model name and SIMD flags (Node's os.cpus() as a fallback). */
function cpuModel(): string {
  try {
    const out = execFileSync('lscpu', { encoding: 'utf8' });
    const model = /^Model name:\s*(.+)$/m.exec(out)?.[1]?.trim() ?? 'unknown';
    const flags = new Set(/^Flags:\s*(.+)$/m.exec(out)?.[1]?.split(/\s+/) ?? []);
    const simd = ['avx512f', 'avx2', 'fma'].filter((f) => flags.has(f)).join(', ');
    return `${model} (${cpus().length} CPUs${simd ? `; ${simd}` : ''})`;
  } catch {
    return `${cpus()[0]?.model ?? 'unknown'} (${cpus().length} CPUs; lscpu unavailable)`;
  }
}

const MiB = 2 ** 20;
const f = (ms: number | undefined, digits = 0) => (ms === undefined || !Number.isFinite(ms) ? '-' : ms.toFixed(digits));
const x = (r: number) => (Number.isFinite(r) ? `${r.toFixed(2)}x` : '-');
/** "met (1.12x)" or "missed (0.61x)" for a ratio that must be at least (or at most) `bound`. */
const judge = (r: number, bound: number, atMost = false, unit = 'x') =>
  !Number.isFinite(r) ? 'not measured' : `${(atMost ? r <= bound : r >= bound) ? 'met' : 'missed'} (${unit === '%' ? `${r.toFixed(0)}%` : `${r.toFixed(2)}x`})`;

/** The targets suite: no tinybench cases, it times its own work and writes its own table. */
export async function targetsSuite(): Promise<Suite> {
  return { cases: [], note: '', report: runTargets };
}

async function runTargets(): Promise<SuiteReport> {
  const load0 = loadavg();
  const t0 = Date.now();
  const cpu = cpuModel();
  const one = await createWasmBackend({ threads: 1, name: 'wasm-1t' });
  const info1 = backendInfo(one);
  // The peak of the instruction GEMM uses (relaxed_madd when the engine validates it).
  const peak1 = measureSimdPeak({ relaxed: info1.relaxedSimd });
  console.log(`targets: ${cpu}; wasm SIMD peak ${peak1.toFixed(1)} GFLOP/s on one thread`);

  // ConvNeXt-T forward on one thread; gamma 0.1 (not 1e-6) so every block shows in the logits ONNX Runtime is checked against.
  const tinyOpts = { generator: new T.Generator(0), layerScaleInitValue: 0.1 };
  const input = T.keep(T.randn([1, 3, 224, 224], { generator: new T.Generator(1), backend: one }));
  const inputHost = Float32Array.from(input.dataSync() as Float32Array);
  const tiny1 = await onBackend(one, () => convnext('tiny', tinyOpts).eval());
  const fwd = (model: typeof tiny1, xin: T.Tensor) => () => T.tidy(() => T.noGrad(() => model.forward(xin).dataSync()[0]));
  const oursLogits = Float32Array.from(T.noGrad(() => T.tidy(() => tiny1.forward(input).dataSync() as Float32Array)));

  // ONNX Runtime Web on the same model, exported by our exporter.
  const dir = mkdtempSync(join(tmpdir(), 'tsgrad-targets-'));
  let ort1: OrtResult | string;
  let ort2: OrtResult | string;
  try {
    const bytes = await onBackend(one, () => exportConvNeXtOnnx(tiny1, { imageSize: 224 }));
    writeFileSync(join(dir, 'model.onnx'), bytes);
    writeFileSync(join(dir, 'input.f32'), new Uint8Array(inputHost.buffer));
    writeFileSync(join(dir, 'ours.f32'), new Uint8Array(oursLogits.buffer));
    ort1 = ortRun(dir, 1);
    ort2 = ortRun(dir, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const ortOk = (r: OrtResult): boolean => r.maxAbsDiff <= 1e-3 * Math.max(1, r.maxAbs);
  for (const r of [ort1, ort2]) console.log(`targets: ONNX Runtime Web ${typeof r === 'string' ? r : `${r.threads}T ${r.ms.toFixed(0)} ms, logits max diff ${r.maxAbsDiff.toExponential(1)}`}`);

  // PyTorch CPU on 1 and 2 threads.
  const torch1 = torchTargets(1);
  const torch2 = torchTargets(2);
  for (const r of [torch1, torch2]) console.log(`targets: PyTorch ${typeof r === 'string' ? r : `${r.threads}T fwd ${r.tiny_fwd_b1_ms.toFixed(0)} ms, atto step ${r.atto_step_b64_ms.toFixed(0)} ms`}`);

  // tfjs-wasm (XNNPACK; one thread in Node), the same forward written with tf ops.
  const require = createRequire(import.meta.url);
  const tf = require('@tensorflow/tfjs') as typeof TF;
  createRequire(new URL('../../packages/wasm/package.json', import.meta.url))('@tensorflow/tfjs-backend-wasm');
  let tfjsMs = NaN;
  let tfjsWhy = '';
  try {
    await tf.setBackend('wasm');
    await tf.ready();
    tfjsMs = await medianMs(tfjsConvNeXtTiny(tf, inputHost));
  } catch (e) {
    tfjsWhy = (e as Error).message.split('\n')[0]!;
  }
  tf.disposeVariables();
  tf.engine().reset();

  // Ours: the atto step on one thread (with its memory), the kernels, then two threads.
  const atto = async (b: WasmBackend) =>
    onBackend(b, () => {
      const g = new T.Generator(0);
      const model = convnext('atto', { numClasses: 10, stemStride: 2, generator: g });
      const opt = new AdamW(model.parameters(), { lr: 1e-3, weightDecay: 0.05 });
      const xa = T.keep(T.randn([64, 3, 32, 32], { generator: g }));
      const ya = T.keep(T.randint(0, 10, [64], { generator: g }));
      const step = () =>
        T.tidy(() => {
          const loss = T.crossEntropy(model.forward(xa), ya, { labelSmoothing: 0.1 });
          loss.backward();
          opt.step();
          opt.zeroGrad();
          return loss.item();
        });
      // Live bytes after forward minus before: every tensor forward made stays alive until the step's tidy ends.
      const held = () =>
        T.tidy(() => {
          const before = b.memory().bytes;
          const loss = T.crossEntropy(model.forward(xa), ya, { labelSmoothing: 0.1 });
          const bytes = b.memory().bytes - before;
          loss.backward();
          model.zeroGrad();
          return bytes;
        });
      return { step, held };
    });
  const a1 = await atto(one);
  a1.step();
  const heldBytes = a1.held();
  one.resetPeak();
  a1.step();
  const peakLive = one.memory().peakBytes ?? NaN;
  const heapBytes = backendInfo(one).arena.memoryBytes;

  const gen = new T.Generator(2);
  const r = (shape: number[]) => T.keep(T.randn(shape, { generator: gen, backend: one }).requiresGrad_());
  const xd = r([8, 96, 56, 56]);
  const wd = r([96, 1, 7, 7]);
  const dw = await medianMs(() =>
    T.tidy(() => {
      T.conv2d(xd, wd, null, { padding: 3, groups: 96 }).sum().backward();
      xd.zeroGrad();
      wd.zeroGrad();
    }),
  );
  const xl = r([8, 56, 56, 96]);
  const lw = r([96]);
  const lb = r([96]);
  const lnGelu = await medianMs(() =>
    T.tidy(() => {
      T.gelu(T.layerNorm(xl, [96], lw, lb, 1e-6)).sum().backward();
      xl.zeroGrad();
      lw.zeroGrad();
      lb.zeroGrad();
    }),
  );

  const two = await createWasmBackend({ threads: 2, name: 'wasm-2t' });
  const threads2 = backendInfo(two).threads;
  const input2 = T.keep(T.fromTypedArray(inputHost, [1, 3, 224, 224], 'float32', two));
  const tiny2 = await onBackend(two, () => convnext('tiny', { ...tinyOpts, generator: new T.Generator(0) }).eval());
  const [tinyFwd1, tinyFwd2] = await pairedMedians(fwd(tiny1, input), fwd(tiny2, input2));
  const a2 = await atto(two);
  const [attoStep1, attoStep2] = await pairedMedians(a1.step, a2.step);
  console.log(`targets: ours fwd ${tinyFwd1.toFixed(0)} ms 1T, ${tinyFwd2.toFixed(0)} ms 2T; atto step ${attoStep1.toFixed(0)} ms 1T, ${attoStep2.toFixed(0)} ms 2T`);
  await disposeWasmBackend(two);
  const load1 = loadavg();

  // The table.
  const t1 = typeof torch1 === 'string' ? null : torch1;
  const t2 = typeof torch2 === 'string' ? null : torch2;
  const o1 = typeof ort1 !== 'string' && ortOk(ort1) ? ort1 : null;
  const o2 = typeof ort2 !== 'string' && ortOk(ort2) ? ort2 : null;
  // convnextFlops counts multiply-adds (the paper's "4.5 GFLOPs"); a rate counts both operations.
  const flops = 2 * convnextFlops({ variant: 'tiny' });
  const gf1 = flops / tinyFwd1 / 1e6;
  const gf2 = flops / tinyFwd2 / 1e6;
  const pct1 = (100 * gf1) / peak1;
  const pct2 = (100 * gf2) / (peak1 * threads2);
  const ortNote = (res: OrtResult | string): string => {
    if (typeof res === 'string') return res;
    if (ortOk(res)) return `${res.coresBusy.toFixed(2)} cores busy`;
    return `logits differ from ours by ${res.maxAbsDiff.toExponential(1)} (max |logit| ${res.maxAbs.toFixed(2)}): not timed`;
  };
  const ortVersion = typeof ort1 === 'string' ? '' : ` ${ort1.version}`;
  const sc = (a: number, b: number) => a / b; // anchor / ours: above 1 we are faster
  const rows: string[][] = [
    [
      'ConvNeXt-atto@32 (2x2 stem) AdamW step, batch 64 (ms)',
      f(attoStep1),
      f(attoStep2),
      x(attoStep1 / attoStep2),
      'PyTorch CPU',
      f(t1?.atto_step_b64_ms),
      f(t2?.atto_step_b64_ms),
      x(sc(t1?.atto_step_b64_ms ?? NaN, attoStep1)),
      x(sc(t2?.atto_step_b64_ms ?? NaN, attoStep2)),
      '1T >= 1.0x PyTorch 1T; 2T >= 1.85x our 1T',
      `${judge(sc(t1?.atto_step_b64_ms ?? NaN, attoStep1), 1)}; ${judge(attoStep1 / attoStep2, 1.85)}`,
    ],
    [
      'ConvNeXt-T forward, 224, batch 1 (ms)',
      f(tinyFwd1),
      f(tinyFwd2),
      x(tinyFwd1 / tinyFwd2),
      `ONNX Runtime Web${ortVersion} (wasm)`,
      o1 ? f(o1.ms) : '-',
      o2 ? f(o2.ms) : '-',
      x(sc(o1?.ms ?? NaN, tinyFwd1)),
      x(sc(o2?.ms ?? NaN, tinyFwd2)),
      '>= 1.6x ORT Web 1T and 2T; 2T >= 1.85x our 1T',
      `${judge(sc(o1?.ms ?? NaN, tinyFwd1), 1.6)}; ${judge(sc(o2?.ms ?? NaN, tinyFwd2), 1.6)}; ${judge(tinyFwd1 / tinyFwd2, 1.85)}`,
    ],
    ['ConvNeXt-T forward, 224, batch 1 (ms)', f(tinyFwd1), f(tinyFwd2), x(tinyFwd1 / tinyFwd2), 'PyTorch CPU', f(t1?.tiny_fwd_b1_ms), f(t2?.tiny_fwd_b1_ms), x(sc(t1?.tiny_fwd_b1_ms ?? NaN, tinyFwd1)), x(sc(t2?.tiny_fwd_b1_ms ?? NaN, tinyFwd2)), '-', '-'],
    ['ConvNeXt-T forward, 224, batch 1 (ms)', f(tinyFwd1), f(tinyFwd2), x(tinyFwd1 / tinyFwd2), 'tfjs-wasm 4.22 (XNNPACK)', f(tfjsMs), '- (one thread in Node)', x(sc(tfjsMs, tinyFwd1)), '-', '-', '-'],
    [
      `ConvNeXt-T forward, whole-model GFLOP/s (${(flops / 1e9).toFixed(2)} GFLOP = 2 x multiply-adds) and % of the wasm SIMD peak`,
      `${gf1.toFixed(1)} (${pct1.toFixed(0)}%)`,
      `${gf2.toFixed(1)} (${pct2.toFixed(0)}% of ${threads2} x peak)`,
      '-',
      `measureSimdPeak: ${peak1.toFixed(1)} GFLOP/s a thread`,
      '-',
      '-',
      '-',
      '-',
      '1T >= 80% of the peak',
      judge(pct1, 80, false, '%'),
    ],
    ['depthwise 7x7, 96ch 8x56x56, fwd + bwd (ms)', f(dw, 1), '-', '-', 'PyTorch CPU', f(t1?.dw7_fwd_bwd_ms, 1), '-', x(sc(t1?.dw7_fwd_bwd_ms ?? NaN, dw)), '-', '>= 1.0x PyTorch 1T', judge(sc(t1?.dw7_fwd_bwd_ms ?? NaN, dw), 1)],
    ['LayerNorm(96) + GELU, 8x56x56x96, fwd + bwd (ms)', f(lnGelu, 1), '-', '-', 'PyTorch CPU', f(t1?.ln_gelu_fwd_bwd_ms, 1), '-', x(sc(t1?.ln_gelu_fwd_bwd_ms ?? NaN, lnGelu)), '-', '>= 1.0x PyTorch 1T', judge(sc(t1?.ln_gelu_fwd_bwd_ms ?? NaN, lnGelu), 1)],
    [
      'atto step: activations held for backward (MiB)',
      f(heldBytes / MiB, 1),
      '-',
      '-',
      'PyTorch (saved_tensors_hooks)',
      f((t1?.atto_saved_activation_bytes ?? NaN) / MiB, 1),
      '-',
      `${x(heldBytes / (t1?.atto_saved_activation_bytes ?? NaN))} (ours / PyTorch)`,
      '-',
      '<= PyTorch',
      judge(heldBytes / (t1?.atto_saved_activation_bytes ?? NaN), 1, true),
    ],
    ['atto step: peak wasm heap (MiB)', `${f(peakLive / MiB, 1)} live at peak; ${f(heapBytes / MiB, 0)} Memory`, '-', '-', '-', '-', '-', '-', '-', 'reported', '-'],
  ];
  const date = new Date().toISOString();
  const torchLine = t1 ? `PyTorch ${t1.torch} CPU (Debian python3-torch), BLAS: ${t1.blas_line}` : `PyTorch: ${String(torch1)}`;
  const md = [
    '# bench: targets (issue 11)',
    '',
    `${date}, Node ${process.version}; CPU: ${cpu}; load average ${load0.map((l) => l.toFixed(2)).join(' ')} at the start, ${load1.map((l) => l.toFixed(2)).join(' ')} at the end; ${((Date.now() - t0) / 1000).toFixed(0)} s.`,
    `wasm SIMD128 peak (measureSimdPeak, ${info1.relaxedSimd ? 'relaxed_madd' : 'mul+add'}): ${peak1.toFixed(1)} GFLOP/s on one thread. ${torchLine}.`,
    `ONNX Runtime Web${ortVersion}: its wasm build in Node, on ConvNeXt-T exported by our ONNX exporter; logits checked against ours before timing (1T: ${ortNote(ort1)}${typeof ort1 === 'string' ? '' : `, max diff ${ort1.maxAbsDiff.toExponential(1)}`}; 2T: ${ortNote(ort2)}). "cores busy" is its process CPU time over wall time while timed: near 2 on two threads means its threads computed in parallel, near 1 that they did not (on a loaded machine every process gets less).`,
    tfjsWhy ? `tfjs-wasm did not run: ${tfjsWhy}.` : '',
    '',
    `Times are medians of at least 3 runs after a warm-up (${SECONDS} s of runs each; ours on 1 and 2 threads alternate run by run). Speedup = anchor time / our time (above 1: we are faster), every figure from this one run.`,
    '',
    '| case | tsgrad-wasm 1T | tsgrad-wasm 2T | ours 2T/1T | anchor | anchor 1T | anchor 2T | speedup 1T | speedup 2T | target | met? |',
    '|---|---:|---:|---:|---|---:|---:|---:|---:|---|---|',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    'Activations: ours are the live bytes after forward minus before (every tensor forward makes stays alive until the step ends), PyTorch\'s the distinct storages autograd saves for backward (saved_tensors_hooks), parameters and the input excluded. Peak heap: the most bytes live in our buffers during one step on one thread, and the size of the WebAssembly.Memory after it.',
    '',
  ].join('\n');
  const json = {
    date,
    node: process.version,
    cpu,
    loadavg: { start: load0, end: load1 },
    simdPeakGflops: peak1,
    relaxedSimd: info1.relaxedSimd,
    seconds: SECONDS,
    ours: { tinyFwd1, tinyFwd2, attoStep1, attoStep2, dw7FwdBwd: dw, lnGeluFwdBwd: lnGelu, heldBytes, peakLiveBytes: peakLive, heapBytes, gflops1: gf1, gflops2: gf2, pctPeak1: pct1, pctPeak2: pct2, threads2 },
    ort: { one: ort1, two: ort2 },
    torch: { one: torch1, two: torch2 },
    tfjs: { tinyFwd1: tfjsMs, error: tfjsWhy || undefined },
  };
  return { markdown: md, json };
}
