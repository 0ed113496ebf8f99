/**
 * The webgpu suite: sgemm and depthwise 7x7 (forward, and forward + both gradients) on
 * the WebGPU backend, each beside the js reference backend on the same work in the same
 * run. Reports GFLOP/s and the adapter's name.
 *
 * Without a GPU this runs on SwiftShader (CPU): sgemm is capped at 1024, depthwise runs on
 * 4x64x28x28, and each task runs 3 timed iterations (where run.ts honours a case's
 * `iterations`), so the suite finishes in a couple of minutes, and the figures are a smoke run, not GPU speed.
 * On a real GPU sgemm goes to 4096; past 1024 the anchor is our own strided-load matmul
 * kernel on the same sizes (the js backend would take minutes per product).
 *
 * run.ts only records times, so this suite's `dispose` (called after run.ts has written
 * the results) adds GFLOP/s columns to bench/results/webgpu.{json,md}.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import * as T from '@tsgrad/core';
import { createWebGPUBackend } from '@tsgrad/webgpu';
import type { Case, Suite } from './types.js';

const ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

export async function webgpuSuite(): Promise<Suite> {
  if (!process.env['VK_ICD_FILENAMES'] && existsSync(ICD)) process.env['VK_ICD_FILENAMES'] = ICD;
  process.env['NODEVICE_SELECT'] ??= '1';
  const gpu = await createWebGPUBackend();
  const js = await T.initBackend('js');
  const software = gpu.isFallbackAdapter || /swiftshader|llvmpipe|software/i.test(gpu.adapterName);
  const g = new T.Generator(0);
  const on = (b: T.Backend, shape: number[], host?: Float64Array) => T.keep(T.fromTypedArray(host ?? g.normal(shape.reduce((a, c) => a * c, 1)), shape, 'float32', b));
  const pair = (shape: number[]) => {
    const host = g.normal(shape.reduce((a, c) => a * c, 1));
    return [on(gpu, shape, host), on(js, shape, host)] as const;
  };
  const cases: Case[] = [];
  // A few timed runs per task on a software adapter (one product takes seconds there).
  const few = software ? { iterations: 3 } : {};
  const flops = new Map<string, number>();
  const gpuRun = (f: () => T.Tensor) => () => T.tidy(async () => void (await f().data()));
  const jsRun = (f: () => T.Tensor) => () => T.tidy(() => void f().dataSync());

  const sizes = software ? [256, 512, 1024] : [256, 512, 1024, 2048, 4096];
  for (const n of sizes) {
    const [a, aj] = pair([n, n]);
    const [b, bj] = pair([n, n]);
    const name = `sgemm ${n}x${n}x${n}`;
    flops.set(name, 2 * n ** 3);
    if (n <= 1024) {
      cases.push({ name, oursLabel: 'webgpu (vec4 tiles)', anchorLabel: 'tsgrad js', ours: gpuRun(() => T.matmul(a, b)), anchor: jsRun(() => T.matmul(aj, bj)), ...few });
    } else {
      const bt = T.keep(b.T.contiguous());
      cases.push({ name, oursLabel: 'webgpu (vec4 tiles)', anchorLabel: 'webgpu strided loads', ours: gpuRun(() => T.matmul(a, b)), anchor: gpuRun(() => T.matmul(a, bt.T)) });
    }
  }

  const [nb, c, hw] = software ? [4, 64, 28] : [32, 96, 56];
  const [x, xj] = pair([nb, c, hw, hw]);
  const [w, wj] = pair([c, 1, 7, 7]);
  const [gy, gyj] = pair([nb, c, hw, hw]);
  const dw = (xx: T.Tensor, ww: T.Tensor) => T.conv2d(xx, ww, null, { padding: 3, groups: c });
  const fwdFlops = 2 * nb * c * hw * hw * 49;
  const fwdName = `depthwise 7x7 forward, ${nb}x${c}x${hw}x${hw}`;
  flops.set(fwdName, fwdFlops);
  cases.push({ name: fwdName, oursLabel: 'webgpu direct kernel', anchorLabel: 'tsgrad js', ours: gpuRun(() => dw(x, w)), anchor: jsRun(() => dw(xj, wj)), ...few });
  const bwd = (xx: T.Tensor, ww: T.Tensor, g0: T.Tensor) => {
    const [, back] = T.vjp(dw, xx, ww);
    const [gx, gw] = back(g0);
    return T.add(T.sum(gx), T.sum(gw));
  };
  const bwdName = `depthwise 7x7 forward + input and weight gradients, ${nb}x${c}x${hw}x${hw}`;
  flops.set(bwdName, 3 * fwdFlops);
  cases.push({ name: bwdName, oursLabel: 'webgpu direct kernels', anchorLabel: 'tsgrad js', ours: gpuRun(() => bwd(x, w, gy)), anchor: jsRun(() => bwd(xj, wj, gyj)), ...few });

  return {
    cases,
    note:
      `Adapter: ${gpu.adapterName}${software ? ' (a software adapter: SwiftShader runs WGSL on the CPU, so these are smoke figures, not GPU speed; sgemm capped at 1024, depthwise at 4x64x28x28, 3 timed iterations per task)' : ''}. ` +
      'Each webgpu time includes submitting the work and reading the result back (await data()); the js anchor runs the same work on the reference backend. GFLOP/s = FLOPs / time.',
    dispose: () => {
      addGflops(flops);
      gpu.destroy();
    },
  };
}

/** Adds GFLOP/s to the results run.ts has just written (it records only times). */
function addGflops(flops: Map<string, number>): void {
  const jsonUrl = new URL('../results/webgpu.json', import.meta.url);
  const mdUrl = new URL('../results/webgpu.md', import.meta.url);
  if (!existsSync(jsonUrl) || !existsSync(mdUrl)) return;
  const res = JSON.parse(readFileSync(jsonUrl, 'utf8')) as { rows: { case: string; oursMs: number; anchorMs: number; oursGflops?: number; anchorGflops?: number }[] };
  const lines = ['', '| case | FLOPs | ours GFLOP/s | anchor GFLOP/s |', '|---|---:|---:|---:|'];
  for (const r of res.rows) {
    const f = flops.get(r.case);
    if (!f) continue;
    r.oursGflops = f / (r.oursMs * 1e6);
    r.anchorGflops = f / (r.anchorMs * 1e6);
    lines.push(`| ${r.case} | ${(f / 1e9).toFixed(3)} G | ${r.oursGflops.toFixed(3)} | ${r.anchorGflops.toFixed(3)} |`);
  }
  writeFileSync(jsonUrl, JSON.stringify(res, null, 1) + '\n');
  writeFileSync(mdUrl, readFileSync(mdUrl, 'utf8').trimEnd() + '\n' + lines.join('\n') + '\n');
}
